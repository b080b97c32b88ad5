"""Repayment schedules: annuity and linear, rounding carried by the last line."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incasso_tui.domain.schedule import (
    ScheduleLine,
    add_months,
    annuity_schedule,
    build_schedule,
    linear_schedule,
)
from incasso_tui.errors import BadInput

D = Decimal


@pytest.mark.parametrize(
    ("start", "n", "day", "expected"),
    [
        (date(2024, 1, 31), 1, None, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, None, date(2023, 2, 28)),
        (date(2024, 1, 31), 2, None, date(2024, 3, 31)),
        (date(2024, 2, 29), 1, 31, date(2024, 3, 31)),  # back on the anchor day
        (date(2024, 2, 29), 1, None, date(2024, 3, 29)),
        (date(2024, 11, 15), 3, None, date(2025, 2, 15)),
        (date(2024, 3, 31), -1, None, date(2024, 2, 29)),
        (date(2024, 1, 15), 0, None, date(2024, 1, 15)),
        (date(2024, 2, 29), 12, None, date(2025, 2, 28)),
    ],
)
def test_add_months(start: date, n: int, day: int | None, expected: date) -> None:
    assert add_months(start, n, day=day) == expected


def test_add_months_refuses_bad_anchor() -> None:
    with pytest.raises(ValueError):
        add_months(date(2024, 1, 1), 1, day=32)


def test_annuity_worked_example() -> None:
    # 10.000 at 8,5 % over 12 months: payment 872,20 (P*r/(1-(1+r)^-12), r = 0.085/12).
    lines = annuity_schedule(D("10000.00"), D("0.085"), 12, date(2024, 1, 31))
    assert lines[0] == ScheduleLine(1, date(2024, 1, 31), D("801.37"), D("70.83"), D("9198.63"))
    assert lines[1] == ScheduleLine(2, date(2024, 2, 29), D("807.04"), D("65.16"), D("8391.59"))
    assert [line.amount for line in lines[:-1]] == [D("872.20")] * 11
    assert lines[-1] == ScheduleLine(12, date(2024, 12, 31), D("866.04"), D("6.13"), D("0.00"))
    assert lines[-1].amount == D("872.17")  # the last line takes the rounding
    assert [line.due_date.day for line in lines] == [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def test_annuity_zero_rate_splits_principal() -> None:
    lines = annuity_schedule(D("100.00"), D("0"), 3, date(2025, 1, 1))
    assert [(line.principal, line.interest) for line in lines] == [
        (D("33.33"), D("0.00")),
        (D("33.33"), D("0.00")),
        (D("33.34"), D("0.00")),
    ]


def test_linear_worked_example() -> None:
    lines = linear_schedule(D("1000.00"), D("0.06"), 3, date(2024, 1, 31))
    assert lines == [
        ScheduleLine(1, date(2024, 1, 31), D("333.33"), D("5.00"), D("666.67")),
        ScheduleLine(2, date(2024, 2, 29), D("333.33"), D("3.33"), D("333.34")),
        ScheduleLine(3, date(2024, 3, 31), D("333.34"), D("1.67"), D("0.00")),
    ]


def test_linear_tiny_loan_never_goes_below_zero() -> None:
    # 0,05 over 10 months: the regular part 0,01 (0,005 half-up) clears the loan after 5 lines.
    lines = linear_schedule(D("0.05"), D("0"), 10, date(2025, 1, 1))
    assert [line.principal for line in lines] == [D("0.01")] * 5 + [D("0.00")] * 5
    assert lines[-1].balance_after == D("0.00")


def test_build_schedule_dispatches() -> None:
    args = (D("5000.00"), D("0.1"), 24, date(2025, 3, 15))
    assert build_schedule("annuity", *args) == annuity_schedule(*args)
    assert build_schedule("linear", *args) == linear_schedule(*args)
    with pytest.raises(BadInput) as info:
        build_schedule("balloon", *args)
    assert info.value.params == {"kind": "balloon"}


@pytest.mark.parametrize(
    ("principal", "rate", "term"),
    [
        (D("0"), D("0.05"), 12),
        (D("-1"), D("0.05"), 12),
        (D("100"), D("0.05"), 0),
        (D("100"), D("0.05"), 601),
        (D("100"), D("-0.01"), 12),
        (D("100"), D("1"), 12),
    ],
)
def test_validation(principal: Decimal, rate: Decimal, term: int) -> None:
    for build in (annuity_schedule, linear_schedule):
        with pytest.raises(BadInput):
            build(principal, rate, term, date(2025, 1, 1))


def test_types_are_refused() -> None:
    with pytest.raises(TypeError):
        annuity_schedule(D("100"), 0.05, 12, date(2025, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        annuity_schedule(100.0, D("0.05"), 12, date(2025, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        annuity_schedule(D("100.001"), D("0.05"), 12, date(2025, 1, 1))


@settings(max_examples=60, deadline=None)
@given(
    cents=st.integers(min_value=1, max_value=100_000_000),
    rate_bp=st.integers(min_value=0, max_value=9999),
    term=st.integers(min_value=1, max_value=600),
    kind=st.sampled_from(["annuity", "linear"]),
)
def test_schedule_properties(cents: int, rate_bp: int, term: int, kind: str) -> None:
    principal = D(cents).scaleb(-2)
    rate = D(rate_bp).scaleb(-4)
    lines = build_schedule(kind, principal, rate, term, date(2024, 1, 31))
    assert len(lines) == term
    assert sum(line.principal for line in lines) == principal
    assert lines[-1].balance_after == D("0.00")
    balance = principal
    for line in lines:
        assert line.principal >= 0 and line.interest >= 0
        assert line.interest == (balance * rate / 12).quantize(D("0.01"), rounding=ROUND_HALF_UP)
        balance -= line.principal
        assert line.balance_after == balance >= 0
        assert line.principal.as_tuple().exponent == -2
    if kind == "annuity" and term > 1:
        regular = {line.amount for line in lines[:-1] if line.balance_after > 0}
        assert len(regular) <= 1
