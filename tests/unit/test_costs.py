"""Collection costs by the WIK scale (art. 2 Besluit BIK; art. 6:96 BW)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incasso_tui.domain.costs import CostsQuote, consumer_costs_for_claims, quote_costs, wik_costs
from incasso_tui.errors import BadInput

D = Decimal


@pytest.mark.parametrize(
    ("principal", "costs"),
    [  # the worked examples of domain-rules.md
        ("100", "40.00"),
        ("500", "75.00"),
        ("1000", "150.00"),
        ("2500", "375.00"),
        ("5000", "625.00"),
        ("6000", "675.00"),
        ("10000", "875.00"),
        ("50000", "1275.00"),
        ("250000", "3025.00"),
        ("1000000", "6775.00"),
        ("25000000", "6775.00"),
        # around the minimum (reached up to 266,67) and the band edges
        ("266.67", "40.00"),
        ("266.70", "40.01"),
        ("0.01", "40.00"),
        ("2500.01", "375.00"),
        ("200000", "2775.00"),
        ("999999.99", "6775.00"),
        ("1234.57", "185.19"),  # 185.1855 half-up
    ],
)
def test_wik_scale(principal: str, costs: str) -> None:
    assert wik_costs(D(principal)) == D(costs)
    assert str(wik_costs(D(principal))) == costs


def test_zero_principal_has_no_costs() -> None:
    assert str(wik_costs(D("0"))) == "0.00"


def test_negative_principal_is_refused() -> None:
    with pytest.raises(BadInput) as info:
        wik_costs(D("-0.01"))
    assert info.value.msgid == "The principal may not be negative"


def test_float_is_refused() -> None:
    with pytest.raises(TypeError):
        wik_costs(1000.0)  # type: ignore[arg-type]


_principal = st.integers(min_value=1, max_value=200_000_000).map(lambda c: D(c).scaleb(-2))


@given(_principal, _principal)
def test_monotone_and_bounded(a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    assert D("40.00") <= wik_costs(low) <= wik_costs(high) <= D("6775.00")


def test_quote_without_vat_by_default() -> None:
    quote = quote_costs(D("1000"))
    assert quote == CostsQuote(D("1000.00"), D("150.00"), D("0.00"))
    assert quote.total == D("150.00")


def test_quote_with_vat() -> None:
    quote = quote_costs(D("1000"), with_vat=True)
    assert (quote.costs, quote.vat, quote.total) == (D("150.00"), D("31.50"), D("181.50"))
    assert quote_costs(D("100"), with_vat=True).vat == D("8.40")
    assert quote_costs(D("1234.57"), with_vat=True).vat == D("38.89")  # 38.8899 half-up
    assert quote_costs(D("1000"), with_vat=True, vat_rate=D("0.09")).vat == D("13.50")


def test_quote_vat_rate_checks() -> None:
    with pytest.raises(TypeError):
        quote_costs(D("1000"), with_vat=True, vat_rate=0.21)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        quote_costs(D("1000"), with_vat=True, vat_rate=D("21"))


def test_consumer_claims_are_added_before_the_scale() -> None:
    # art. 6:96 lid 7 BW: 3 x 1.000 -> scale on 3.000 = 425, not 3 x 150 = 450
    assert consumer_costs_for_claims([D("1000"), D("1000"), D("1000")]) == D("425.00")
    # two small claims: one minimum of 40 on 200, not 2 x 40
    assert consumer_costs_for_claims([D("100"), D("100")]) == D("40.00")
    # rounding once on the sum: 15 % of 1.483,10 = 222,465 -> 222,47
    assert consumer_costs_for_claims([D("741.54"), D("741.56")]) == D("222.47")
    assert consumer_costs_for_claims([]) == D("0.00")
    with pytest.raises(BadInput):
        consumer_costs_for_claims([D("100"), D("-1")])


@given(st.lists(_principal, min_size=1, max_size=8))
def test_consumer_claims_never_cost_more_than_separate(principals: list[Decimal]) -> None:
    together = consumer_costs_for_claims(principals)
    assert together == wik_costs(sum(principals, D("0")))
    # adding up never costs the consumer more, up to the half-up rounding of each separate amount
    # (741,54 + 741,56: 111,23 + 111,23 separately, 222,47 together on 1.483,10)
    assert together <= sum(wik_costs(p) for p in principals) + D("0.01") * len(principals)
