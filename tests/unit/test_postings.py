"""What the daily run posts (domain.postings), against computations by hand from the law (issue 12)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from incasso_tui.domain.interest import load_rates, statutory_interest
from incasso_tui.domain.legal_data import load_bkr_rules, load_costs_rules
from incasso_tui.domain.postings import (
    InterestBasis,
    InterestLine,
    PriorCosts,
    interest_after,
    period_interest,
    stacked_costs,
)
from incasso_tui.domain.procedure import load_procedure

RATES = load_rates()


def _months(first: date, last: date) -> list[tuple[date, date]]:
    out, start = [], first
    while start < last:
        end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        out.append((start, end))
        start = end
    return out


def test_monthly_postings_compound_yearly_and_add_up_to_calc_rente() -> None:
    """EUR 1.000 in default from 1-1-2024 up to 1-3-2025 (wettelijke rente):
    2024 (a leap year, 366 days) at 7 %: 1000 x 0.07 x 366/366 = 70.00;
    on 1-1-2025, the anniversary, the year's 70.00 joins the base (art. 6:119 lid 2 BW): 1070.00;
    1-1-2025 to 1-3-2025 (59 days) at 6 %: 1070 x 0.06 x 59/365 = 10.3775... = 10.38.  Total 80.38.
    Without compounding the last stretch would be 1000 x 0.06 x 59/365 = 9.70 (total 79.70)."""
    line = InterestLine(Decimal("1000.00"), date(2024, 1, 1))
    posted = sum(
        (period_interest([line], a, b, "wettelijk", RATES)[0] for a, b in _months(date(2024, 1, 1), date(2025, 3, 1))),
        Decimal("0"),
    )
    assert posted == Decimal("80.38")
    assert (
        posted
        == statutory_interest(Decimal("1000.00"), date(2024, 1, 1), date(2025, 3, 1), "wettelijk", RATES).interest
    )


def test_a_posting_counts_only_the_days_on_and_after_the_line_start() -> None:
    """EUR 365 due 14-11-2024, interest from 15-11: the November posting covers 15..30 November, 16 days at 7 %:
    365 x 0.07 x 16/366 = 1.1169... = 1.12 (2024 is a leap year: days count 1/366)."""
    amount, basis, used = period_interest(
        [InterestLine(Decimal("365.00"), date(2024, 11, 15))], date(2024, 11, 1), date(2024, 12, 1), "wettelijk", RATES
    )
    assert amount == Decimal("1.12") and basis.lines[0].start == date(2024, 11, 15)
    assert [row.start for row in used] == [date(2024, 7, 1)]
    assert InterestBasis.from_json(basis.to_json()) == basis


def test_the_part_from_a_ruling_date_is_recomputed_exactly() -> None:
    """November 2024 on EUR 1.000 at 7 % (from 1-11): 1000 x 0.07 x 30/366 = 5.74; a ruling on 16-11 cancels
    16..30 November: I(1-11..1-12) - I(1-11..16-11) = 5.74 - (1000 x 0.07 x 15/366 = 2.87) = 2.87."""
    amount, basis, _used = period_interest(
        [InterestLine(Decimal("1000.00"), date(2024, 11, 1))], date(2024, 11, 1), date(2024, 12, 1), "wettelijk", RATES
    )
    assert amount == Decimal("5.74")
    assert interest_after(basis, date(2024, 11, 16), RATES) == Decimal("2.87")
    assert interest_after(basis, date(2024, 12, 1), RATES) == Decimal("0")
    assert interest_after(basis, date(2024, 10, 1), RATES) == amount


def test_stacking_only_ever_lowers_the_costs() -> None:
    """Two installments of EUR 200 in separate 14-day letters within six months: separately the WIK minimum twice,
    40 + 40 = 80; one letter for both: WIK(400) = 15 % = 60.00. The second letter may charge 60 - 40 = 20.00.
    Without an earlier letter: WIK(200) = 40.00 (the minimum). Above the minimum the scale is linear per band,
    so EUR 1.000 after EUR 1.000 (150.00) gives WIK(2000) - 150 = 300 - 150 = 150.00: no change."""
    assert stacked_costs(Decimal("200.00"), []) == Decimal("40.00")
    assert stacked_costs(Decimal("200.00"), [PriorCosts(Decimal("200.00"), Decimal("40.00"))]) == Decimal("20.00")
    assert stacked_costs(Decimal("100.00"), [PriorCosts(Decimal("100.00"), Decimal("40.00"))]) == Decimal("0.00")
    assert stacked_costs(Decimal("1000.00"), [PriorCosts(Decimal("1000.00"), Decimal("150.00"))]) == Decimal("150.00")
    # never more than the letter alone would cost, whatever the prior letters
    assert stacked_costs(Decimal("200.00"), [PriorCosts(Decimal("5000.00"), Decimal("0.00"))]) == Decimal("40.00")


def test_the_unverified_rules_are_data_with_their_source() -> None:
    bkr, costs = load_bkr_rules(), load_costs_rules()
    assert (bkr.min_installments, bkr.months_after_due, bkr.arrears_verified) == (2, 2, False)
    assert (
        "bv" in bkr.legal_person_kinds
        and "eenmanszaak" not in bkr.legal_person_kinds
        and "bkr.nl" in bkr.arrears_source
    )
    assert (costs.stacking_months, costs.verified) == (6, False) and "Besluit" in costs.source


def test_the_interest_kind_follows_the_loan() -> None:
    from incasso_tui.services.procedure import interest_kind

    procedure = load_procedure()
    assert interest_kind(procedure, consumer=False, commercial=True) == "handels"  # art. 6:119a BW
    assert interest_kind(procedure, consumer=False, commercial=False) == "wettelijk"  # art. 6:119 BW
    assert interest_kind(procedure, consumer=True, commercial=True) == "wettelijk"
