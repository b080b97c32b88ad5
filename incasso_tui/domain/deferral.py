"""Deferral of repayment (uitstel van aflossing): principal paused for some months, interest keeps running.

A deferral starts at the first installment that has not fallen due yet. During the deferral months the client
pays interest only (on the unchanged balance). Afterwards there are two ways to repay the same balance, and the
desk shows both:

- **extend the term**: the remaining schedule is rebuilt over the same number of installments, starting after
  the deferral, so the loan ends ``months`` later and (for an annuity) the installment stays about the same;
- **raise the installments**: the remaining schedule is rebuilt over the installments that are left before the
  original end date, so the end date stays and the installments rise.

Both are computed with the loan's own repayment kind (annuity or linear) and the schedule conventions of
:mod:`incasso_tui.domain.schedule`. The extra interest of an option is its total interest minus the interest of
the current remaining schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from incasso_tui.domain.money import ZERO
from incasso_tui.domain.schedule import ScheduleLine, _monthly_interest, add_months, build_schedule
from incasso_tui.errors import N_, BadInput, RuleViolation

__all__ = ["DeferralOption", "DeferralProposal", "propose_deferral"]


@dataclass(frozen=True)
class DeferralOption:
    kind: str  # "extend_term" | "raise_installments"
    lines: tuple[ScheduleLine, ...]  # from the first deferred installment to the end
    regular_installment: Decimal  # the first installment after the deferral months

    @property
    def total_interest(self) -> Decimal:
        return sum((line.interest for line in self.lines), ZERO)

    @property
    def total_paid(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def end_date(self) -> date:
        return self.lines[-1].due_date


@dataclass(frozen=True)
class DeferralProposal:
    months: int
    balance: Decimal  # the principal outstanding when the deferral starts
    current: tuple[ScheduleLine, ...]  # the current remaining schedule, for the side-by-side view
    extend_term: DeferralOption
    raise_installments: DeferralOption | None  # None when the loan would end inside the deferral

    @property
    def current_interest(self) -> Decimal:
        return sum((line.interest for line in self.current), ZERO)

    def extra_interest(self, option: DeferralOption) -> Decimal:
        return option.total_interest - self.current_interest


def _renumber(lines: Sequence[ScheduleLine], first_seq: int) -> list[ScheduleLine]:
    return [
        ScheduleLine(first_seq + i, ln.due_date, ln.principal, ln.interest, ln.balance_after)
        for i, ln in enumerate(lines)
    ]


def propose_deferral(
    *,
    repayment: str,
    annual_rate: Decimal,
    remaining: Sequence[ScheduleLine],
    months: int,
    max_months: int,
) -> DeferralProposal:
    """Both repayment options for deferring ``months`` installments of principal from ``remaining[0]`` on.

    ``remaining`` is the current schedule from the first installment not yet due; the balance before it is the
    principal that is deferred. Refused (BadInput) outside 1..``max_months`` or when nothing remains.
    """
    if not 1 <= months <= max_months:
        raise BadInput(
            N_("A deferral is 1 to {max} months, not {months}"), field="months", max=max_months, months=months
        )
    if not remaining:
        raise RuleViolation(N_("The loan has no installments left to defer"))
    first = remaining[0]
    balance = first.principal + first.balance_after
    if balance <= 0:
        raise RuleViolation(N_("The loan has no principal left to defer"))
    anchor = first.due_date.day
    deferred = []
    for i in range(months):
        interest = _monthly_interest(balance, annual_rate)
        deferred.append(ScheduleLine(first.seq + i, add_months(first.due_date, i, day=anchor), ZERO, interest, balance))
    restart = add_months(first.due_date, months, day=anchor)
    count = len(remaining)

    def option(kind: str, installments: int) -> DeferralOption:
        rest = _renumber(build_schedule(repayment, balance, annual_rate, installments, restart), first.seq + months)
        return DeferralOption(kind, tuple(deferred + rest), rest[0].amount)

    return DeferralProposal(
        months=months,
        balance=balance,
        current=tuple(remaining),
        extend_term=option("extend_term", count),
        raise_installments=option("raise_installments", count - months) if count > months else None,
    )
