"""A budget for a test client, as the desk would enter it (household and/or business figures by the client's kind)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from incasso_tui.domain.budget import BusinessBudget, Checked, Debt, Household, HouseholdBudget
from incasso_tui.services.budget import BudgetInput, parts, set_budget
from incasso_tui.services.context import Context
from incasso_tui.store.models import Client


def budget_for(
    kind: str, consumer: bool, day: date, *, salary: str = "3200.00", revenue: str = "12000.00"
) -> BudgetInput:
    household, business = parts(kind, consumer)
    h = (
        HouseholdBudget(
            Household.SINGLE,
            salary=D(salary) if not business else D("0.00"),
            drawings=D(salary) if business else D("0.00"),
            housing=D("800.00"),
            health=D("150.00"),
            debts=(Debt("DUO", D("50.00")),),
        )
        if household
        else None
    )
    b = (
        BusinessBudget(
            revenue=D(revenue),
            costs=D("7000.00"),
            tax_reservation=D("500.00"),
            drawings=D(salary) if household else D("2000.00"),
        )
        if business
        else None
    )
    return BudgetInput(budget_date=day, checked=Checked.BANK_STATEMENTS, household=h, business=b)


def give_budget(ctx: Context, client_id: int, **figures: str) -> int:
    with ctx.db.reader() as s:
        client = s.get(Client, client_id)
        assert client is not None
        kind, consumer = client.kind, client.consumer
    return set_budget(ctx, client_id, budget_for(kind, consumer, ctx.clock.today(), **figures))
