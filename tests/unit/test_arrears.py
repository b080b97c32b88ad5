"""Arrears: art. 6:44 BW payment allocation, arrears as of a date, ageing buckets."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incasso_tui.domain.arrears import (
    BUCKETS,
    Allocation,
    AllocationPart,
    Arrears,
    LineState,
    OpenItem,
    ageing_bucket,
    allocate,
    arrears_as_of,
    bucket_bounds,
    combined,
)
from incasso_tui.errors import BadInput

D = Decimal
ORDER = {"costs": 0, "interest": 1, "principal": 2}


def _items() -> list[OpenItem]:
    return [
        OpenItem("L2", "principal", date(2025, 2, 1), D("100.00")),
        OpenItem("L1", "principal", date(2025, 1, 1), D("100.00")),
        OpenItem("L2", "interest", date(2025, 2, 1), D("10.00")),
        OpenItem("L1", "interest", date(2025, 1, 1), D("10.00")),
        OpenItem("WIK", "costs", date(2025, 3, 1), D("40.00")),
    ]


def test_allocation_costs_then_interest_then_principal_oldest_first() -> None:
    result = allocate(D("125.00"), _items())
    assert result == Allocation(
        parts=(
            AllocationPart("WIK", "costs", D("40.00")),
            AllocationPart("L1", "interest", D("10.00")),
            AllocationPart("L2", "interest", D("10.00")),
            AllocationPart("L1", "principal", D("65.00")),
        ),
        credit=D("0.00"),
    )


def test_allocation_overpayment_becomes_credit() -> None:
    result = allocate(D("300.00"), _items())
    assert sum(p.amount for p in result.parts) == D("260.00")
    assert result.credit == D("40.00")


def test_allocation_with_nothing_open_is_all_credit() -> None:
    assert allocate(D("12.34"), []) == Allocation((), D("12.34"))


def test_allocation_ties_by_key() -> None:
    items = [OpenItem("b", "interest", date(2025, 1, 1), D("5")), OpenItem("a", "interest", date(2025, 1, 1), D("5"))]
    assert [p.key for p in allocate(D("6.00"), items).parts] == ["a", "b"]


@pytest.mark.parametrize("amount", [D("0"), D("-1.00")])
def test_allocation_refuses_non_positive(amount: Decimal) -> None:
    with pytest.raises(BadInput):
        allocate(amount, _items())


def test_allocation_refuses_duplicates_and_bad_items() -> None:
    with pytest.raises(ValueError):
        allocate(D("1"), [_items()[0], _items()[0]])
    with pytest.raises(ValueError):
        OpenItem("x", "principal", date(2025, 1, 1), D("0"))
    with pytest.raises(ValueError):
        OpenItem("x", "fees", date(2025, 1, 1), D("1"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        allocate(1.0, [])  # type: ignore[arg-type]


_item = st.builds(
    OpenItem,
    key=st.text(alphabet="abcdef", min_size=1, max_size=3),
    component=st.sampled_from(["costs", "interest", "principal"]),
    due_date=st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 12, 31)),
    amount=st.integers(min_value=1, max_value=100_000).map(lambda c: D(c).scaleb(-2)),
)


@given(
    amount=st.integers(min_value=1, max_value=1_000_000).map(lambda c: D(c).scaleb(-2)),
    items=st.lists(_item, max_size=12, unique_by=lambda i: (i.key, i.component)),
)
def test_allocation_properties(amount: Decimal, items: list[OpenItem]) -> None:
    result = allocate(amount, items)
    # never loses or creates a cent
    assert sum((p.amount for p in result.parts), D("0.00")) + result.credit == amount
    assert result.credit >= 0
    by_id = {(i.key, i.component): i for i in items}
    ranked = sorted(items, key=lambda i: (ORDER[i.component], i.due_date, i.key))
    # the parts are the leading items in 6:44 order; all but the last are paid in full
    assert [(p.key, p.component) for p in result.parts] == [(i.key, i.component) for i in ranked[: len(result.parts)]]
    for n, part in enumerate(result.parts):
        open_amount = by_id[(part.key, part.component)].amount
        assert 0 < part.amount <= open_amount
        if n < len(result.parts) - 1:
            assert part.amount == open_amount
    # credit only when everything is paid
    if result.credit > 0:
        assert len(result.parts) == len(items) and all(
            p.amount == by_id[(p.key, p.component)].amount for p in result.parts
        )


def _line(seq: int, due: date, p_due: str, i_due: str, p_paid: str = "0", i_paid: str = "0") -> LineState:
    return LineState(seq, due, D(p_due), D(i_due), D(p_paid), D(i_paid))


def test_arrears_as_of() -> None:
    lines = [
        _line(1, date(2025, 1, 1), "100", "10", "100", "10"),  # paid in full
        _line(2, date(2025, 2, 1), "100", "10", "40", "10"),  # 60 principal open
        _line(3, date(2025, 3, 1), "100", "10"),  # all open
        _line(4, date(2025, 4, 1), "100", "10"),  # due on as_of: not yet in arrears
    ]
    result = arrears_as_of(lines, D("40.00"), date(2025, 4, 1))
    assert result == Arrears(D("40.00"), D("10.00"), D("160.00"), date(2025, 2, 1), 59)
    assert result.total == D("210.00")


def test_arrears_due_today_is_not_past_due() -> None:
    lines = [_line(1, date(2025, 4, 1), "100", "10")]
    assert arrears_as_of(lines, D("0"), date(2025, 4, 1)) == Arrears(D("0.00"), D("0.00"), D("0.00"), None, 0)
    assert arrears_as_of(lines, D("0"), date(2025, 4, 2)).days_past_due == 1


def test_arrears_only_costs_has_no_oldest_date() -> None:
    lines = [_line(1, date(2025, 1, 1), "100", "10", "100", "10")]
    assert arrears_as_of(lines, D("40"), date(2025, 6, 1)) == Arrears(D("40.00"), D("0"), D("0"), None, 0)


def test_line_state_validation() -> None:
    with pytest.raises(ValueError):
        _line(1, date(2025, 1, 1), "100", "10", "101", "0")
    with pytest.raises(ValueError):
        _line(1, date(2025, 1, 1), "100", "10", "0", "-1")
    with pytest.raises(ValueError):
        arrears_as_of([], D("-1"), date(2025, 1, 1))


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (5000, "90+"),
    ],
)
def test_ageing_bucket(days: int, bucket: str) -> None:
    assert ageing_bucket(days) == bucket


def test_buckets_and_bounds() -> None:
    assert BUCKETS == ("current", "1-30", "31-60", "61-90", "90+")
    assert [bucket_bounds(b) for b in BUCKETS] == [(0, 0), (1, 30), (31, 60), (61, 90), (91, None)]
    with pytest.raises(BadInput):
        bucket_bounds("120+")
    with pytest.raises(ValueError):
        ageing_bucket(-1)


@given(st.integers(min_value=0, max_value=10_000), st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)))
def test_bucket_bounds_match_ageing_bucket(days: int, as_of: date) -> None:
    bucket = ageing_bucket(days)
    low, high = bucket_bounds(bucket)
    oldest = as_of - timedelta(days=days)
    # the date-range filter a query would use
    assert oldest <= as_of - timedelta(days=low)
    assert high is None or oldest >= as_of - timedelta(days=high)


def test_combined_sums_the_loans_and_keeps_the_oldest_and_longest() -> None:
    a = Arrears(Decimal("10.00"), Decimal("2.50"), Decimal("100.00"), date(2026, 3, 1), 40)
    b = Arrears(Decimal("0.00"), Decimal("1.25"), Decimal("50.00"), date(2026, 2, 1), 68)
    costs_only = Arrears(Decimal("5.00"), Decimal("0.00"), Decimal("0.00"), None, 0)
    both = combined([a, b, costs_only])
    assert both == Arrears(Decimal("15.00"), Decimal("3.75"), Decimal("150.00"), date(2026, 2, 1), 68)
    assert both.total == Decimal("168.75")
    assert combined([]) == Arrears(Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), None, 0)
