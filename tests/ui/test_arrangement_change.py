"""Changing an arrangement, a second one refused at once, and a plan beyond the desk sent to a supervisor, as a
user does it (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from incasso_tui.domain.enums import Frequency
from incasso_tui.services.arrangements import ArrangementInput, create_arrangement
from incasso_tui.services.proposals import proposals
from incasso_tui.store.models import Arrangement, Case
from incasso_tui.ui.screens.arrangement import ArrangementScreen
from incasso_tui.ui.screens.arrangement_change import ArrangementChangeScreen
from incasso_tui.ui.screens.detail import ClientDetailScreen
from tests.ui.test_arrangement import ARRANGEABLE, fill, open_arrangement
from tests.ui.test_detail import first_case, open_detail


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _with_arrangement(app: Any) -> int:
    case_id = first_case(app, ARRANGEABLE + " AND pos_arrears > 300")
    with app.ctx.db.reader() as s:
        version = s.get(Case, case_id).version
    create_arrangement(
        app.ctx,
        case_id,
        version,
        ArrangementInput(down_payment=Decimal("0"), first_date=date(2026, 12, 1), frequency=Frequency.MONTHLY, count=3),
    )
    return case_id


async def test_a_second_arrangement_is_refused_when_the_form_would_open(app_for: Callable[..., Any]) -> None:
    app = app_for()
    case_id = _with_arrangement(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, case_id)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ClientDetailScreen)
        told = [str(n.message) for n in app._notifications]
        assert any("vastgelegd door demo op 23-11-2026" in t for t in told), told


async def test_change_the_arrangement_with_a_reason(app_for: Callable[..., Any]) -> None:
    app = app_for()
    case_id = _with_arrangement(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, case_id)
        await pilot.press("g")
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, ArrangementChangeScreen)
        await fill(pilot, "count", "5")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"minder inkomen", "enter")
        await _settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
    with app.ctx.db.reader() as s:
        rows = s.scalars(select(Arrangement).where(Arrangement.case_id == case_id).order_by(Arrangement.id)).all()
        assert [(a.status, a.installment_count) for a in rows] == [("cancelled", 3), ("active", 5)]


async def test_a_plan_beyond_the_desk_goes_to_a_supervisor(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app, ARRANGEABLE + " AND pos_arrears > 300")
        screen = await open_arrangement(pilot, case_id)
        await fill(pilot, "count", "24")
        assert isinstance(screen, ArrangementScreen)
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press(*"seizoensbedrijf", "enter")
        await _settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
    sent = proposals(app.ctx, case_id=case_id)  # the case's (the queue is the supervisor's)
    assert len(sent) == 1 and sent[0].kind == "arrangement" and sent[0].payload["installments"] == 24
