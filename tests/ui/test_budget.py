"""The budget form, the capacity beside the arrangement plan, and the approval queue's budget (issue 15), with Pilot."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from textual.widgets import Input

from incasso_tui.domain.budget import Checked, Household, HouseholdBudget
from incasso_tui.services.budget import BudgetInput, budgets, set_budget, status
from incasso_tui.services.cases import client_detail
from incasso_tui.store.models import Arrangement
from incasso_tui.ui.screens.approvals import ApprovalsScreen
from incasso_tui.ui.screens.arrangement import ArrangementScreen
from incasso_tui.ui.screens.budget import BudgetScreen
from tests.conftest import AS_OF
from tests.ui.test_arrangement import ARRANGEABLE, error_at, fill, open_arrangement
from tests.ui.test_detail import first_case, open_detail, shown

CONSUMER = ARRANGEABLE + " AND client_id IN (SELECT id FROM clients WHERE kind = 'natural' AND consumer)"


async def _settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _budget(app: Any, case_id: int, salary: str) -> int:
    detail = client_detail(app.ctx, case_id)
    figures = HouseholdBudget(
        Household.SINGLE, salary=Decimal(salary), housing=Decimal("800.00"), health=Decimal("150.00")
    )
    return set_budget(app.ctx, detail.client.id, BudgetInput(AS_OF, Checked.BANK_STATEMENTS, figures))


async def test_a_budget_is_entered_on_a_call_with_its_capacity_shown_as_typed(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app, CONSUMER)
        await open_detail(pilot, case_id)
        await pilot.press("b")
        await _settle(pilot)
        assert isinstance(app.screen, BudgetScreen)
        await fill(pilot, "salary", "2.600,00")
        await fill(pilot, "housing", "750")
        await _settle(pilot)
        steps = shown(app.screen.query_one("#steps"))
        assert "Bijstandsnorm" in steps and "Beschermd deel" in steps and "norm niet geverifieerd" in steps
        await fill(pilot, "debt0", "100")  # the preview says what is missing instead of a capacity
        assert "schuldeiser" in shown(app.screen.query_one("#steps"))
        await pilot.press("ctrl+s")  # a debt without its creditor: refused at the debts, nothing written
        await _settle(pilot)
        assert "schuldeiser" in shown(app.screen.query_one("#debts-error"))
        await fill(pilot, "creditor0", "DUO")
        await fill(pilot, "salary", "-5")
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert "negatief" in shown(app.screen.query_one("#salary-error"))
        await fill(pilot, "salary", "2.600,00")
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert not isinstance(app.screen, BudgetScreen)
        (view,) = budgets(app.ctx, client_detail(app.ctx, case_id).client.id)
        assert view.household is not None and view.household.salary == Decimal("2600.00")
        assert [(d.creditor, d.monthly) for d in view.household.debts] == [("DUO", Decimal("100.00"))]


async def test_the_arrangement_shows_the_capacity_and_above_it_asks_a_reason(app_for: Callable[..., Any]) -> None:
    app = app_for()
    case_id = first_case(app, CONSUMER)
    _budget(app, case_id, "1500.00")  # little room: a plan of two installments is above the capacity
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_arrangement(pilot, case_id)
        await _settle(pilot)
        await fill(pilot, "count", "2")
        panel = shown(screen.query_one("#capacity"))
        assert "Budget 23-11-2026" in panel and "te veel" in panel and "Erboven: geef de reden" in panel
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert "geef de reden" in error_at(screen, "capacity_reason")
        await fill(pilot, "capacity_reason", "Vakantiegeld in mei")
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert not isinstance(app.screen, ArrangementScreen)
    with app.ctx.db.reader() as s:
        assert s.scalar(select(Arrangement.installment_count).where(Arrangement.case_id == case_id)) == 2


async def test_propose_fills_in_a_plan_that_fits(app_for: Callable[..., Any]) -> None:
    app = app_for()
    case_id = first_case(app, CONSUMER)
    _budget(app, case_id, "4000.00")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_arrangement(pilot, case_id)
        await _settle(pilot)
        await pilot.press("ctrl+o")
        await _settle(pilot)
        count = screen.query_one("#count", Input).value
        assert count and int(count) >= 1
        assert "past" in shown(screen.query_one("#capacity"))


async def test_the_supervisor_sees_the_budget_beside_a_deferral(app_for: Callable[..., Any]) -> None:
    from tests.ui.test_approvals import _submit

    app = app_for("bakker")
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = _submit(app, "demo")
        await app.push_screen(ApprovalsScreen())
        await _settle(pilot)
        beside = shown(app.screen.query_one("#beside"))
        detail = client_detail(app.ctx, case_id)
        st = status(app.ctx, detail.client.id)
        assert st.capacity is not None
        assert "Budget 23-11-2026" in beside and app.tr.money(st.capacity.capacity) in beside
        assert "Oorzaak:" in beside and "Regeling:" in beside and "open beloften" in beside
        assert "Oorzaak Seizoensinkomen" in shown(app.screen.query_one("#proposal"))
