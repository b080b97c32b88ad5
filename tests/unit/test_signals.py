"""The early-warning rules (domain.signals) on hand-made activity, with the numbers of data/risk.toml: short payment
below 90 % of the installment, late payment (at least 3 days and 2 days later than the average of the 3 before),
a reversal, a late arrangement installment, 3 payments in a month, a contact naming a cause; look-back 35 days."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from incasso_tui.domain.risk import load_risk_rules
from incasso_tui.domain.signals import LoanActivity, Paid, signals_for

R = load_risk_rules().signals
DAY = date(2026, 12, 1)
D = Decimal


def _rules(activity: LoanActivity) -> list[str]:
    return [s.rule for s in signals_for(activity, R)]


def _regular(delay: int = 1, months: int = 5) -> tuple[Paid, ...]:
    """An installment of 200 due on the 20th of each month up to 20-11-2026, paid ``delay`` days later."""
    dues = [date(2026, 11 - m, 20) for m in reversed(range(months))]
    return tuple(Paid(due + timedelta(days=delay), D("200.00"), due) for due in dues)


def test_a_regular_payer_shows_nothing() -> None:
    assert _rules(LoanActivity(DAY, D("200.00"), _regular())) == []


def test_a_payment_below_90_percent_of_the_installment() -> None:
    # 179.99 < 0.90 x 200 = 180; 180.00 is not below
    short = (*_regular()[:-1], Paid(date(2026, 11, 21), D("179.99"), date(2026, 11, 20)))
    assert _rules(LoanActivity(DAY, D("200.00"), short)) == ["short_payment"]
    edge = (*_regular()[:-1], Paid(date(2026, 11, 21), D("180.00"), date(2026, 11, 20)))
    assert _rules(LoanActivity(DAY, D("200.00"), edge)) == []


def test_later_than_usual() -> None:
    """Delays 1, 1, 1 then 4: 4 >= 3 and 4 - 1 = 3 >= 2: late. Delays 3, 3, 3 then 4: 4 - 3 = 1 < 2: usual for this
    client, no signal."""
    base = _regular(delay=1)
    late = (*base[:-1], Paid(date(2026, 11, 24), D("200.00"), date(2026, 11, 20)))
    assert _rules(LoanActivity(DAY, D("200.00"), late)) == ["late_payment"]
    steady = (*_regular(delay=3)[:-1], Paid(date(2026, 11, 24), D("200.00"), date(2026, 11, 20)))
    assert _rules(LoanActivity(DAY, D("200.00"), steady)) == []


def test_reversal_arrangement_and_cause_inside_the_window_only() -> None:
    a = LoanActivity(
        DAY,
        D("200.00"),
        _regular(),
        reversals=(date(2026, 11, 28),),
        arrangement_late=(date(2026, 11, 25),),
        contact_causes=((date(2026, 11, 30), "illness"),),
    )
    assert _rules(a) == ["reversal", "arrangement_late", "contact_cause"]
    # 35 days back from 1-12 is 27-10: an event on 27-10 is outside, 28-10 inside
    old = LoanActivity(
        DAY, D("200.00"), _regular(), reversals=(date(2026, 10, 27),), contact_causes=((date(2026, 10, 28), "illness"),)
    )
    assert _rules(old) == ["contact_cause"]


def test_several_small_payments_instead_of_one() -> None:
    split = (
        *_regular()[:-1],
        Paid(date(2026, 11, 20), D("70.00"), date(2026, 11, 20)),
        Paid(date(2026, 11, 24), D("70.00"), date(2026, 11, 20)),
        Paid(date(2026, 11, 28), D("60.00"), date(2026, 11, 20)),
    )
    assert "split_payments" in _rules(LoanActivity(DAY, D("200.00"), split))
    two = split[:-1]
    assert "split_payments" not in _rules(LoanActivity(DAY, D("200.00"), two))
