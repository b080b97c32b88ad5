"""Repayment schedules (aflossingsschema's) for installment loans.

Conventions (the law is silent; these are the desk's):

- Monthly interest on a line is ``balance before the line * annual_rate / 12``, rounded half-up to
  the cent (domain-rules.md, "Money").
- Due dates keep the day of the month of ``first_due``, clamped to the end of shorter months
  (see :func:`add_months`).
- Annuity: the payment comes from the standard formula ``P * r / (1 - (1 + r) ** -n)`` with
  ``r = annual_rate / 12``, computed in ``Decimal`` (precision 28) and rounded half-up to the cent.
  Linear: the principal part is ``P / n`` rounded half-up to the cent.
- The last line takes all rounding differences: its principal part is whatever balance is left, so
  the principal parts add up to the loan principal exactly and the balance ends at 0.00. A principal
  part is never more than the balance left (with tiny loans over many months the regular part can
  reach zero balance early; later lines then carry 0.00).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from incasso_tui.domain.money import CENT, ensure_money
from incasso_tui.errors import N_, BadInput

__all__ = [
    "MAX_TERM_MONTHS",
    "ScheduleLine",
    "add_months",
    "annuity_schedule",
    "build_schedule",
    "linear_schedule",
]

MAX_TERM_MONTHS = 600


@dataclass(frozen=True)
class ScheduleLine:
    """One installment: what is due on ``due_date`` and the balance after it is paid."""

    seq: int
    due_date: date
    principal: Decimal
    interest: Decimal
    balance_after: Decimal

    @property
    def amount(self) -> Decimal:
        """The installment amount: principal plus interest."""
        return self.principal + self.interest


def add_months(d: date, n: int, day: int | None = None) -> date:
    """Return the date ``n`` months after ``d`` (``n`` may be negative).

    The day of the month is ``day`` (the anchor day; default ``d.day``), clamped to the last day of
    the target month. Passing the anchor keeps a schedule on its day: from 31 January, ``+1`` gives
    28/29 February and ``+2`` gives 31 March (not 28/29 March).
    """
    anchor = d.day if day is None else day
    if not 1 <= anchor <= 31:
        raise ValueError(f"day must be 1..31, not {anchor}")
    month_index = d.year * 12 + (d.month - 1) + n
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor, last_day))


def _validate(principal: Decimal, annual_rate: Decimal, term_months: int) -> Decimal:
    """Check the loan terms; return the principal with 2 decimals."""
    if isinstance(annual_rate, (float, bool)) or not isinstance(annual_rate, (Decimal, int)):
        raise TypeError(f"annual_rate must be a Decimal, not {type(annual_rate).__name__}")
    if isinstance(term_months, bool) or not isinstance(term_months, int):
        raise TypeError(f"term_months must be an int, not {type(term_months).__name__}")
    principal = ensure_money(principal)
    if principal <= 0:
        raise BadInput(N_("The principal must be more than zero"), field="principal")
    if not 1 <= term_months <= MAX_TERM_MONTHS:
        raise BadInput(
            N_("The term must be 1 to {max} months, not {term}"),
            field="term_months",
            max=MAX_TERM_MONTHS,
            term=term_months,
        )
    if not 0 <= annual_rate < 1:
        raise BadInput(
            N_("The annual interest rate must be at least 0 and below 100 %, not {rate}"),
            field="annual_rate",
            rate=annual_rate,
        )
    return principal


def _monthly_interest(balance: Decimal, annual_rate: Decimal) -> Decimal:
    with localcontext(prec=28):
        return (balance * annual_rate / 12).quantize(CENT, rounding=ROUND_HALF_UP)


def _build(
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    first_due: date,
    principal_part: Callable[[Decimal, Decimal], Decimal],
) -> list[ScheduleLine]:
    """Build the lines; ``principal_part(balance, interest)`` gives a regular line's principal."""
    lines: list[ScheduleLine] = []
    balance = principal
    for seq in range(1, term_months + 1):
        interest = _monthly_interest(balance, annual_rate)
        part = balance if seq == term_months else min(principal_part(balance, interest), balance)
        balance -= part
        due = add_months(first_due, seq - 1, day=first_due.day)
        lines.append(ScheduleLine(seq, due, part, interest, balance))
    return lines


def annuity_schedule(principal: Decimal, annual_rate: Decimal, term_months: int, first_due: date) -> list[ScheduleLine]:
    """Annuity schedule: the same installment every month (the last one absorbs the rounding).

    ``annual_rate`` is a fraction (``Decimal("0.085")`` = 8.5 %); a zero rate gives equal principal
    parts. Raises :class:`BadInput` unless principal > 0, 1 <= term <= 600 and 0 <= rate < 1.
    """
    principal = _validate(principal, annual_rate, term_months)
    with localcontext(prec=28):
        r = Decimal(annual_rate) / 12
        exact = principal / term_months if r == 0 else principal * r / (1 - (1 + r) ** -term_months)
        payment = exact.quantize(CENT, rounding=ROUND_HALF_UP)
    return _build(principal, annual_rate, term_months, first_due, lambda _b, interest: payment - interest)


def linear_schedule(principal: Decimal, annual_rate: Decimal, term_months: int, first_due: date) -> list[ScheduleLine]:
    """Linear schedule: the same principal part every month, interest on the falling balance.

    Same arguments and validation as :func:`annuity_schedule`.
    """
    principal = _validate(principal, annual_rate, term_months)
    with localcontext(prec=28):
        part = (principal / term_months).quantize(CENT, rounding=ROUND_HALF_UP)
    return _build(principal, annual_rate, term_months, first_due, lambda _b, _i: part)


_BUILDERS = {"annuity": annuity_schedule, "linear": linear_schedule}


def build_schedule(
    kind: str, principal: Decimal, annual_rate: Decimal, term_months: int, first_due: date
) -> list[ScheduleLine]:
    """Build an ``"annuity"`` or ``"linear"`` schedule; :class:`BadInput` for any other kind."""
    try:
        builder = _BUILDERS[kind]
    except KeyError:
        raise BadInput(N_("Unknown schedule kind: {kind}"), field="kind", kind=kind) from None
    return builder(principal, annual_rate, term_months, first_due)
