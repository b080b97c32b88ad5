"""Statutory interest (art. 6:119, 6:119a, 6:120 BW) and the rate table."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incasso_tui.domain.interest import (
    InterestPeriod,
    RateRow,
    load_rates,
    rows_in_force,
    statutory_interest,
)
from incasso_tui.errors import BadInput, ConfigError

D = Decimal


def test_shipped_rate_table() -> None:
    rows = load_rates()
    assert [r.start for r in rows] == [
        date(2016, 7, 1),
        date(2023, 1, 1),
        date(2023, 7, 1),
        date(2024, 1, 1),
        date(2024, 7, 1),
        date(2025, 1, 1),
        date(2025, 7, 1),
        date(2026, 1, 1),
    ]
    assert [(r.wettelijk, r.handels) for r in rows] == [
        (D("0.02"), D("0.08")),
        (D("0.04"), D("0.105")),
        (D("0.06"), D("0.12")),
        (D("0.07"), D("0.125")),
        (D("0.07"), D("0.1225")),
        (D("0.06"), D("0.1115")),
        (D("0.06"), D("0.1015")),
        (D("0.04"), D("0.1015")),
    ]
    # rows marked * in domain-rules.md
    assert [r.start for r in rows if not r.verified] == [
        date(2023, 1, 1),
        date(2023, 7, 1),
        date(2025, 7, 1),
        date(2026, 1, 1),
    ]
    for row in rows:
        assert row.source
        assert row.source.startswith("unverified: taken from domain-rules.md, check before use") != row.verified


def test_one_leap_year_at_seven_percent() -> None:
    result = statutory_interest(D("1000.00"), date(2024, 1, 1), date(2025, 1, 1))
    assert result.interest == D("70.00")
    assert result.periods == (
        InterestPeriod(date(2024, 1, 1), date(2025, 1, 1), 366, D("1000.00"), D("0.07"), D("70.00")),
    )


def test_two_years_compound_once() -> None:
    # year 1: 7 % on 1.000 = 70,00; year 2: 6 % on 1.070,00 = 64,20
    result = statutory_interest(D("1000.00"), date(2024, 1, 1), date(2026, 1, 1))
    assert [(p.base, p.rate, p.interest) for p in result.periods] == [
        (D("1000.00"), D("0.07"), D("70.00")),
        (D("1070.00"), D("0.06"), D("64.20")),
    ]
    assert result.interest == D("134.20")


def test_period_crossing_a_rate_change() -> None:
    # handelsrente 12,50 % then 12,25 % from 1-7-2024: 1000*0.125*30/366 = 10.2459 -> 10.25,
    # 1000*0.1225*31/366 = 10.3757 -> 10.38
    result = statutory_interest(D("1000.00"), date(2024, 6, 1), date(2024, 8, 1), "handels")
    assert [(p.start, p.end, p.days, p.rate, p.interest) for p in result.periods] == [
        (date(2024, 6, 1), date(2024, 7, 1), 30, D("0.125"), D("10.25")),
        (date(2024, 7, 1), date(2024, 8, 1), 31, D("0.1225"), D("10.38")),
    ]
    assert result.interest == D("20.63")


def test_no_split_where_the_rate_of_the_kind_does_not_change() -> None:
    # the 2024-07-01 row changes only the handelsrente: wettelijke rente stays one period
    result = statutory_interest(D("1000.00"), date(2024, 6, 1), date(2024, 8, 1))
    assert [(p.days, p.rate, p.interest) for p in result.periods] == [(61, D("0.07"), D("11.67"))]


def test_anniversary_rate_changes_and_leap_year_split() -> None:
    # hand-checked: 1000*.04*108/365 = 11.8356; 1000*.06*184/365 = 30.2466; 1000*.07*74/366 = 14.1530;
    # base after a year 1056.24; 1056.24*.07*292/366 = 58.9880; 1056.24*.06*73/365 = 12.6749
    result = statutory_interest(D("1000.00"), date(2023, 3, 15), date(2025, 3, 15))
    assert [(p.start, p.days, p.base, p.rate, p.interest) for p in result.periods] == [
        (date(2023, 3, 15), 108, D("1000.00"), D("0.04"), D("11.84")),
        (date(2023, 7, 1), 184, D("1000.00"), D("0.06"), D("30.25")),
        (date(2024, 1, 1), 74, D("1000.00"), D("0.07"), D("14.15")),
        (date(2024, 3, 15), 292, D("1056.24"), D("0.07"), D("58.99")),
        (date(2025, 1, 1), 73, D("1056.24"), D("0.06"), D("12.67")),
    ]
    assert result.interest == D("127.90")


def test_leap_year_boundary_without_rate_change() -> None:
    rates = [RateRow(date(2000, 1, 1), D("0.05"), D("0.10"), "test", True)]
    # 2023-12-01 .. 2024-01-31: 31 days / 365 and 30 days / 366
    result = statutory_interest(D("10000.00"), date(2023, 12, 1), date(2024, 1, 31), rates=rates)
    assert [(p.days, p.interest) for p in result.periods] == [(31, D("42.47")), (30, D("40.98"))]
    # 2025 and 2026 have the same length: no split at 1 January
    result = statutory_interest(D("10000.00"), date(2025, 12, 1), date(2026, 1, 31), rates=rates)
    assert [(p.days, p.interest) for p in result.periods] == [(61, D("83.56"))]


def test_start_on_29_february_compounds_on_28_february() -> None:
    rates = [RateRow(date(2000, 1, 1), D("0.10"), D("0.10"), "test", True)]
    result = statutory_interest(D("1000.00"), date(2024, 2, 29), date(2025, 3, 1), rates=rates)
    assert [(p.start, p.end, p.base, p.interest) for p in result.periods] == [
        (date(2024, 2, 29), date(2025, 1, 1), D("1000.00"), D("83.88")),  # 307/366 = 83.8798
        (date(2025, 1, 1), date(2025, 2, 28), D("1000.00"), D("15.89")),  # 58/365 = 15.8904
        (date(2025, 2, 28), date(2025, 3, 1), D("1099.77"), D("0.30")),  # 1/365 on the new base
    ]


def test_end_equal_to_start_is_zero() -> None:
    result = statutory_interest(D("500.00"), date(2025, 1, 1), date(2025, 1, 1))
    assert (result.principal, result.interest, result.periods) == (D("500.00"), D("0.00"), ())


def test_errors() -> None:
    with pytest.raises(BadInput) as info:
        statutory_interest(D("1"), date(2025, 1, 2), date(2025, 1, 1))
    assert info.value.field == "end"
    with pytest.raises(BadInput) as info:
        statutory_interest(D("1"), date(2016, 6, 30), date(2025, 1, 1))
    assert info.value.params == {"first": date(2016, 7, 1)}
    assert "2016-07-01" in str(info.value)
    with pytest.raises(BadInput):
        statutory_interest(D("-1"), date(2025, 1, 1), date(2025, 2, 1))
    with pytest.raises(BadInput):
        statutory_interest(D("1"), date(2025, 1, 1), date(2025, 2, 1), "contractueel")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        statutory_interest(1.0, date(2025, 1, 1), date(2025, 2, 1))  # type: ignore[arg-type]


def test_rows_in_force() -> None:
    rows = load_rates()
    used = rows_in_force(date(2024, 6, 1), date(2025, 7, 1), rows)
    assert [r.start for r in used] == [date(2024, 1, 1), date(2024, 7, 1), date(2025, 1, 1)]
    assert all(r.verified for r in used)
    used = rows_in_force(date(2024, 6, 1), date(2025, 7, 2), rows)
    assert [r.start for r in used if not r.verified] == [date(2025, 7, 1)]
    assert rows_in_force(date(2025, 1, 1), date(2025, 1, 1), rows) == ()


@settings(max_examples=50, deadline=None)
@given(
    cents=st.integers(min_value=0, max_value=10**10),
    start=st.dates(min_value=date(2016, 7, 1), max_value=date(2030, 1, 1)),
    days=st.integers(min_value=1, max_value=3000),
    kind=st.sampled_from(["wettelijk", "handels"]),
)
def test_periods_cover_the_range(cents: int, start: date, days: int, kind: str) -> None:
    end = start + timedelta(days=days)
    amount = D(cents).scaleb(-2)
    result = statutory_interest(amount, start, end, kind)  # type: ignore[arg-type]
    assert result.periods[0].start == start and result.periods[-1].end == end
    assert sum(p.days for p in result.periods) == days
    for a, b in pairwise(result.periods):
        assert a.end == b.start and b.base >= a.base
    assert result.interest == sum((p.interest for p in result.periods), D("0.00")) >= 0
    for p in result.periods:  # one year length per period
        assert calendar.isleap(p.start.year) == calendar.isleap((p.end - timedelta(days=1)).year)


_GOOD_ROW = """
[[rate]]
start = 2020-01-01
wettelijk = 0.02
handels = 0.08
verified = true
source = "test"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rates.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_rates_from_path(tmp_path: Path) -> None:
    rows = load_rates(_write(tmp_path, _GOOD_ROW))
    assert rows == (RateRow(date(2020, 1, 1), D("0.02"), D("0.08"), "test", True),)


@pytest.mark.parametrize(
    ("text", "row"),
    [
        (_GOOD_ROW.replace("0.02", "1.5"), 1),
        (_GOOD_ROW.replace("0.08", "-0.01"), 1),
        (_GOOD_ROW.replace("0.08", "nan"), 1),
        (_GOOD_ROW.replace("0.08", '"0.08"'), 1),
        (_GOOD_ROW.replace('"test"', '""'), 1),
        (_GOOD_ROW.replace('"test"', '"a\\u001b[31m"'), 1),
        (_GOOD_ROW.replace("true", '"yes"'), 1),
        (_GOOD_ROW.replace("2020-01-01", '"2020-01-01"'), 1),
        (_GOOD_ROW.replace("2020-01-01", "2020-01-01T00:00:00"), 1),
        (_GOOD_ROW.replace("verified = true\n", ""), 1),
        (_GOOD_ROW + "extra = 1\n", 1),
        (_GOOD_ROW + _GOOD_ROW, 2),  # duplicate date
        (_GOOD_ROW + _GOOD_ROW.replace("2020-01-01", "2019-01-01"), 2),  # not ascending
    ],
)
def test_load_rates_refuses_bad_rows(tmp_path: Path, text: str, row: int) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_rates(path)
    assert info.value.params["row"] == row
    assert info.value.params["file"] == str(path)


@pytest.mark.parametrize("text", ["", "rate = 1", "[[rate]\n", 'title = "x"\n' + _GOOD_ROW])
def test_load_rates_refuses_bad_files(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError):
        load_rates(_write(tmp_path, text))


def test_load_rates_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_rates(tmp_path / "missing.toml")
    assert info.value.params["file"].endswith("missing.toml")
