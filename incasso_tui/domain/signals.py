"""Early-warning signals (issue 20): rules that see a coming problem on a loan that is not (yet) in arrears.

Each rule is a pure function of what the daily run read about one loan (its recent payments, reversals,
arrangement installments and contacts) and the numbers of ``[signals]`` in ``data/risk.toml``. The desk's own rules:
no legal source prescribes them (the advice the desk follows names "smart signals"; EBA/GL/2018/06 asks for early
detection without fixing rules).

- ``short_payment``: a payment in the look-back window smaller than ``short_payment_share`` of the installment;
- ``late_payment``: the latest installment was paid ``late_days`` or more after its due date, and at least
  ``late_trend_days`` later than the average of the ``late_history`` installments before it (the delay trends up);
- ``reversal``: a direct debit reversed or a payment returned in the window;
- ``arrangement_late``: an arrangement installment in the window paid late or not at all (past its grace days);
- ``split_payments``: ``split_payments`` or more payments within one month, where one installment was due;
- ``contact_cause``: a contact in the window in which the client named a cause (illness, loss of work, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from incasso_tui.domain.risk import SignalRules

__all__ = ["RULES", "LoanActivity", "Paid", "Signal", "signals_for"]

RULES = ("short_payment", "late_payment", "reversal", "arrangement_late", "split_payments", "contact_cause")


@dataclass(frozen=True)
class Paid:
    """A payment booked on ``day``; ``paid_due`` the due date of the oldest installment it went to (None: credit)."""

    day: date
    amount: Decimal
    paid_due: date | None


@dataclass(frozen=True)
class LoanActivity:
    day: date  # the run's day
    installment: Decimal  # the loan's regular installment (principal + interest of a line)
    payments: tuple[Paid, ...] = ()  # the loan's payments, oldest first (at least the window and late_history more)
    reversals: tuple[date, ...] = ()  # days a payment on the loan was reversed or returned
    arrangement_late: tuple[date, ...] = ()  # due dates of arrangement installments not paid within the grace days
    contact_causes: tuple[tuple[date, str], ...] = ()  # (day, cause) of contacts naming a cause


@dataclass(frozen=True)
class Signal:
    rule: str
    detail: str


def signals_for(a: LoanActivity, rules: SignalRules) -> list[Signal]:
    """The signals the loan's activity shows as of ``a.day`` (in the order of :data:`RULES`)."""
    since = a.day - timedelta(days=rules.lookback_days)
    recent = [p for p in a.payments if since < p.day <= a.day]
    found: list[Signal] = []

    short = [p for p in recent if a.installment > 0 and p.amount < rules.short_payment_share * a.installment]
    if short:
        found.append(Signal("short_payment", f"{short[-1].amount} < {rules.short_payment_share} x {a.installment}"))

    delays = _delays(a.payments)
    if len(delays) > rules.late_history and delays[-1][0] > since:
        last = delays[-1][1]
        before = [d for _day, d in delays[-1 - rules.late_history : -1]]
        average = Decimal(sum(before)) / Decimal(len(before))
        if last >= rules.late_days and Decimal(last) - average >= rules.late_trend_days:
            found.append(
                Signal("late_payment", f"{last} days late, before {average.quantize(Decimal('0.1'))} on average")
            )

    reversed_ = [d for d in a.reversals if since < d <= a.day]
    if reversed_:
        found.append(Signal("reversal", f"{len(reversed_)} reversed or returned, last {reversed_[-1].isoformat()}"))

    late = [d for d in a.arrangement_late if since < d <= a.day]
    if late:
        found.append(Signal("arrangement_late", f"arrangement installment of {late[-1].isoformat()} not paid in time"))

    month = [p for p in recent if p.day > a.day - timedelta(days=31)]
    if len(month) >= rules.split_payments:
        found.append(Signal("split_payments", f"{len(month)} payments within a month"))

    causes = [(d, c) for d, c in a.contact_causes if since < d <= a.day]
    if causes:
        found.append(Signal("contact_cause", causes[-1][1]))
    return found


def _delays(payments: tuple[Paid, ...]) -> list[tuple[date, int]]:
    """Per installment paid, the day its (first) payment came and how many days after the due date that was."""
    first: dict[date, date] = {}
    for p in payments:
        if p.paid_due is not None and p.paid_due not in first:
            first[p.paid_due] = p.day
    return [(paid, max((paid - due).days, 0)) for due, paid in sorted(first.items())]
