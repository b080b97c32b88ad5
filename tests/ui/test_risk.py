"""The risk view's screens (issue 20): the risk panel from the dashboard, the worklist's signals filter, the
vulnerability flag in the client detail's header and its form, the debt-help referral in the contact form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from textual.widgets import Input, Select

from incasso_tui.services import risk
from incasso_tui.services.procedure import run_procedure
from incasso_tui.services.worklist import WorklistFilter, worklist
from incasso_tui.store.models import DebtHelpReferral, VulnerabilityFlag
from incasso_tui.ui.screens.dashboard import DashboardScreen
from incasso_tui.ui.screens.risk import RiskScreen
from tests.conftest import AS_OF
from tests.ui.pictures import settle as settle_picture
from tests.ui.test_detail import first_case, open_detail, shown


async def _settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_the_risk_panel_shows_the_figures_and_moves_by_month(app_for: Callable[..., Any]) -> None:
    app = app_for(user="bakker")
    run_procedure(app.ctx, AS_OF)
    report = risk.risk_report(app.ctx, AS_OF)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(DashboardScreen())
        await _settle(pilot)
        await pilot.press("v")
        await _settle(pilot)
        assert isinstance(app.screen, RiskScreen)
        figures = shown(app.screen.query_one("#risk-figures"))
        assert app.tr.percent(report.par30) in figures and app.tr.money(report.portfolio.amount) in figures
        table = shown(app.screen.query_one("#risk-table"))
        assert app.tr.money(report.stages[1].amount) in table and "meer dan 90 dagen" in table
        # a month earlier there is no history yet: said so, not shown as zeros without a word
        await pilot.press("p")
        await _settle(pilot)
        assert "geschiedenis begint" in shown(app.screen.query_one("#risk-figures"))
        await pilot.press("t")
        await _settle(pilot)
        assert app.tr.percent(report.par30) in shown(app.screen.query_one("#risk-figures"))


async def test_an_employee_sees_why_not(app_for: Callable[..., Any]) -> None:
    app = app_for(user="demo", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(RiskScreen())
        await _settle(pilot)
        assert "may not do this" in shown(app.screen.query_one("#message"))


async def test_the_signals_filter_on_the_worklist(app_for: Callable[..., Any]) -> None:
    app = app_for(user="bakker")
    run_procedure(app.ctx, AS_OF)
    expected = worklist(app.ctx, WorklistFilter(signals=True)).count()
    total = worklist(app.ctx, WorklistFilter()).count()
    assert 0 < expected < total
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("w")
        await _settle(pilot)
        assert "signalen" in shown(app.screen.query_one("#filters"))
        assert app.screen.table.total == expected  # type: ignore[attr-defined]
        await pilot.press("w")
        await _settle(pilot)
        assert app.screen.table.total == total  # type: ignore[attr-defined]


async def test_a_vulnerability_flag_set_in_the_detail_shows_in_its_header(app_for: Callable[..., Any]) -> None:
    app = app_for(user="demo")
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        screen = await open_detail(pilot, case_id)
        assert "Kwetsbaar" not in shown(screen.query_one("#case"))
        await pilot.press("v")
        await pilot.pause()
        form = app.screen
        form.query_one("#kind", Select).value = "bereavement"
        form.query_one("#note", Input).value = "partner overleden"
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert "Kwetsbaar: overlijden naaste (demo, 23-11-2026)" in shown(screen.query_one("#case"))
    with app.ctx.db.reader() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(VulnerabilityFlag)
                .where(VulnerabilityFlag.kind == "bereavement", VulnerabilityFlag.set_by == "demo")
            )
            == 1
        )


async def test_the_contact_form_records_a_debt_help_referral(app_for: Callable[..., Any]) -> None:
    app = app_for(user="demo")
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        await open_detail(pilot, case_id)
        await pilot.press("c")
        await pilot.pause()
        form = app.screen
        form.query_one("#referral", Select).value = "geldfit"
        form.query_one("#summary", Input).value = "verwezen naar Geldfit"
        form.query_one("#next_action_date", Input).value = (AS_OF + timedelta(days=7)).strftime("%d-%m-%Y")
        await pilot.press("ctrl+s")
        await _settle(pilot)
    with app.ctx.db.reader() as s:
        (row,) = s.scalars(select(DebtHelpReferral))
    assert row.code == "geldfit" and row.case_id == case_id and row.contact_id is not None
    assert row.referred_by == "demo" and "0800" in row.contact


def test_risk_panel_snapshot_80x24(app_for: Callable[..., Any], snap_compare: Callable[..., bool]) -> None:
    app = app_for(user="bakker")
    run_procedure(app.ctx, AS_OF)

    async def run_before(pilot: Any) -> None:
        await pilot.app.push_screen(RiskScreen())
        await _settle(pilot)
        await settle_picture(pilot)  # tables sized, nothing moving (tests/ui/pictures.py)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
