"""Dutch holidays, delivery days and the 14-day letter term (art. 6:96 lid 6 BW)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incasso_tui.domain.calendar import (
    FourteenDayTerm,
    dutch_public_holidays,
    easter_sunday,
    fourteen_day_term,
    is_delivery_day,
    is_working_day,
)
from incasso_tui.errors import ConfigError


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2014, date(2014, 4, 20)),
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
        (2285, date(2285, 3, 22)),
    ],
)
def test_easter(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_holidays_2025() -> None:
    assert sorted(dutch_public_holidays(2025)) == [
        date(2025, 1, 1),  # Nieuwjaarsdag
        date(2025, 4, 18),  # Goede Vrijdag
        date(2025, 4, 20),  # Eerste Paasdag
        date(2025, 4, 21),  # Tweede Paasdag
        date(2025, 4, 26),  # Koningsdag: 27 April 2025 is a Sunday
        date(2025, 5, 5),  # Bevrijdingsdag
        date(2025, 5, 29),  # Hemelvaartsdag
        date(2025, 6, 8),  # Eerste Pinksterdag
        date(2025, 6, 9),  # Tweede Pinksterdag
        date(2025, 12, 25),
        date(2025, 12, 26),
    ]


def test_kings_day_on_the_27th_when_not_sunday() -> None:
    assert date(2024, 4, 27) in dutch_public_holidays(2024)
    assert date(2024, 4, 26) not in dutch_public_holidays(2024)


def test_holidays_before_2014_are_refused() -> None:
    with pytest.raises(ValueError):
        dutch_public_holidays(2013)


@pytest.mark.parametrize(
    ("day", "delivered"),
    [
        (date(2025, 3, 4), True),  # Tuesday
        (date(2025, 3, 8), True),  # Saturday
        (date(2025, 3, 9), False),  # Sunday
        (date(2025, 3, 10), False),  # Monday
        (date(2025, 4, 18), False),  # Goede Vrijdag
        (date(2025, 5, 29), False),  # Hemelvaartsdag (Thursday)
        (date(2025, 12, 25), False),
    ],
)
def test_is_delivery_day(day: date, delivered: bool) -> None:
    assert is_delivery_day(day) is delivered


def test_is_working_day() -> None:
    assert is_working_day(date(2025, 3, 10))  # Monday
    assert not is_working_day(date(2025, 3, 8))  # Saturday
    assert not is_working_day(date(2025, 5, 5))  # Bevrijdingsdag


def test_plain_week() -> None:
    # sent Tuesday 4-3-2025: delivery days Wed 5, Thu 6 -> receipt Thursday; +14 = Thu 20-3
    assert fourteen_day_term(date(2025, 3, 4)) == FourteenDayTerm(
        sent=date(2025, 3, 4),
        assumed_receipt=date(2025, 3, 6),
        term_start=date(2025, 3, 7),
        term_end=date(2025, 3, 20),
        costs_from=date(2025, 3, 21),
    )


def test_sent_on_friday_before_easter() -> None:
    # Goede Vrijdag 29-3-2024: Sat 30 (1), Sun 31 and Mon 1-4 (Tweede Paasdag) none, Tue 2-4 (2)
    assert fourteen_day_term(date(2024, 3, 29)) == FourteenDayTerm(
        sent=date(2024, 3, 29),
        assumed_receipt=date(2024, 4, 2),
        term_start=date(2024, 4, 3),
        term_end=date(2024, 4, 16),
        costs_from=date(2024, 4, 17),
    )


def test_sent_on_thursday_before_easter_skips_goede_vrijdag() -> None:
    # Thu 17-4-2025: Fri 18 Goede Vrijdag none, Sat 19 (1), Tue 22 (2)
    assert fourteen_day_term(date(2025, 4, 17)).assumed_receipt == date(2025, 4, 22)


def test_term_ending_on_a_weekend_and_holiday_is_extended() -> None:
    # Wed 16-4-2025: Thu 17 (1), Sat 19 (2); 19-4 + 14 = Sat 3-5; Mon 5-5 is Bevrijdingsdag -> Tue 6-5
    term = fourteen_day_term(date(2025, 4, 16))
    assert term.assumed_receipt == date(2025, 4, 19)
    assert term.term_end == date(2025, 5, 6)
    assert term.costs_from == date(2025, 5, 7)


def test_christmas() -> None:
    # Fri 20-12-2024: Sat 21 (1), Tue 24 (2); 24-12 + 14 = Tue 7-1-2025
    term = fourteen_day_term(date(2024, 12, 20))
    assert (term.assumed_receipt, term.term_end) == (date(2024, 12, 24), date(2025, 1, 7))


def test_receipt_days_setting() -> None:
    assert fourteen_day_term(date(2025, 3, 4), receipt_delivery_days=1).assumed_receipt == date(2025, 3, 5)
    assert fourteen_day_term(date(2025, 3, 4), receipt_delivery_days=4).assumed_receipt == date(2025, 3, 8)
    # Wed 5, Thu 6, Fri 7, Sat 8, (Sun 9, Mon 10 none), Tue 11
    assert fourteen_day_term(date(2025, 3, 4), receipt_delivery_days=5).assumed_receipt == date(2025, 3, 11)
    for bad in (0, 11):
        with pytest.raises(ConfigError):
            fourteen_day_term(date(2025, 3, 4), receipt_delivery_days=bad)
    with pytest.raises(TypeError):
        fourteen_day_term(date(2025, 3, 4), receipt_delivery_days=True)


@given(st.dates(min_value=date(2014, 1, 1), max_value=date(2099, 12, 1)))
def test_term_properties(sent: date) -> None:
    term = fourteen_day_term(sent)
    assert is_delivery_day(term.assumed_receipt)
    between = [sent + timedelta(days=n) for n in range(1, (term.assumed_receipt - sent).days)]
    assert sum(is_delivery_day(d) for d in between) == 1
    assert term.term_start == term.assumed_receipt + timedelta(days=1)
    assert term.term_end >= term.assumed_receipt + timedelta(days=14)
    assert is_working_day(term.term_end)
    assert term.costs_from == term.term_end + timedelta(days=1)
    assert (term.costs_from - sent).days >= 17
