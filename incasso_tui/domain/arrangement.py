"""Payment arrangements (betalingsregelingen): turning agreed terms into a plan, within the desk limits.

The plan covers the arrears as they stand on the day it is agreed (costs, interest and principal past
due). The regular installments that fall due meanwhile are still owed on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from incasso_tui.domain.enums import Frequency
from incasso_tui.domain.money import CENT, ZERO
from incasso_tui.domain.schedule import add_months
from incasso_tui.errors import N_, RuleViolation


@dataclass(frozen=True)
class DeskLimits:
    max_installments: int
    min_installment: Decimal


@dataclass(frozen=True)
class ArrangementTerms:
    arrears: Decimal  # what the plan must cover
    down_payment: Decimal
    first_date: date
    frequency: Frequency
    count: int | None = None  # give either the number of installments ...
    installment: Decimal | None = None  # ... or the installment amount


@dataclass(frozen=True)
class PlanLine:
    seq: int  # 0 is the down payment
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class Plan:
    lines: tuple[PlanLine, ...]
    down_payment: Decimal
    installment: Decimal
    count: int

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def last_date(self) -> date:
        return self.lines[-1].due_date


def due_dates(first: date, frequency: Frequency, n: int) -> list[date]:
    if frequency == Frequency.MONTHLY:
        return [add_months(first, i, day=first.day) for i in range(n)]
    step = 7 if frequency == Frequency.WEEKLY else 14
    return [first + timedelta(days=step * i) for i in range(n)]


def plan_arrangement(terms: ArrangementTerms, limits: DeskLimits, today: date) -> Plan:
    """The plan for ``terms``, or a RuleViolation naming the field and the rule it breaks."""
    if terms.arrears <= ZERO:
        raise RuleViolation(N_("There are no arrears to arrange"))
    if terms.down_payment < ZERO:
        raise RuleViolation(N_("The down payment may not be negative"), field="down_payment")
    if terms.down_payment >= terms.arrears:
        raise RuleViolation(
            N_("The down payment covers the whole arrears of {arrears}: log a promise to pay instead"),
            field="down_payment",
            arrears=terms.arrears,
        )
    if terms.first_date < today:
        raise RuleViolation(N_("The first date may not lie in the past"), field="first_date")
    if (terms.count is None) == (terms.installment is None):
        raise RuleViolation(N_("Give either the number of installments or the installment amount"), field="count")
    rest = terms.arrears - terms.down_payment
    if terms.count is not None:
        count = terms.count
        if count < 1:
            raise RuleViolation(N_("At least one installment"), field="count")
        installment = (rest / count).quantize(CENT, rounding=ROUND_HALF_UP)
        field = "count"
    else:
        assert terms.installment is not None
        installment = terms.installment
        if installment <= ZERO:
            raise RuleViolation(N_("The installment must be more than zero"), field="installment")
        count = int((rest / installment).to_integral_value(rounding=ROUND_CEILING))
        field = "installment"
    if count > limits.max_installments:
        raise RuleViolation(
            N_("This needs {count} installments; the desk allows at most {maximum}"),
            field=field,
            count=count,
            maximum=limits.max_installments,
        )
    amounts = [installment] * (count - 1) + [rest - installment * (count - 1)]
    if amounts[-1] <= ZERO:  # rounding made the earlier installments cover everything: one fewer
        raise RuleViolation(N_("The installment amount leaves nothing for the last installment"), field=field)
    # the last installment may be smaller; the others must reach the minimum (a last one alone too)
    regular = amounts[0] if count > 1 else amounts[-1]
    if regular < limits.min_installment:
        raise RuleViolation(
            N_("Installments must be at least {minimum}; these would be {amount}"),
            field=field,
            minimum=limits.min_installment,
            amount=regular,
        )
    lines: list[PlanLine] = []
    start = terms.first_date
    if terms.down_payment > ZERO:
        lines.append(PlanLine(0, terms.first_date, terms.down_payment))
        start = due_dates(terms.first_date, terms.frequency, 2)[1]
    for seq, (due, amount) in enumerate(zip(due_dates(start, terms.frequency, count), amounts, strict=True), 1):
        lines.append(PlanLine(seq, due, amount))
    return Plan(tuple(lines), terms.down_payment, installment, count)
