"""Outside parties, external collection and complaints screens (issue 19), driven with Pilot at 80x24."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from incasso_tui.services import complaints as cs
from incasso_tui.services import external as ext
from incasso_tui.store.models import ExternalClaim, ExternalParty, Task
from incasso_tui.ui.screens.dashboard import DashboardScreen
from incasso_tui.ui.screens.detail import ClientDetailScreen
from incasso_tui.ui.screens.outside import ComplaintsScreen, ExternalScreen, PartiesScreen
from tests.conftest import _context
from tests.services.test_external import BAILIFF, _consumer_case
from tests.services.test_letters_service import LENDER_SETTINGS


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _text(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one(selector).render())


async def test_a_party_is_added_on_its_screen_and_a_missing_address_is_named_at_its_field(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("bakker")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        app.push_screen(PartiesScreen())
        await _settle(pilot)
        assert "Externe partijen: 0" in _text(app, "#count")
        await pilot.press("a")
        await _settle(pilot)
        for name, value in (
            ("name", "De Vries Gerechtsdeurwaarders"),
            ("city", "Utrecht"),
            ("postcode", "3511 AA"),
            ("iban", "NL18RABO0123459876"),
        ):
            app.screen.query_one(f"#{name}").value = value
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert "Geef de straat van de partij" in _text(app, "#street-error")  # nothing saved, the input stays
        app.screen.query_one("#street").value = "Oudegracht 1"
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert isinstance(app.screen, PartiesScreen) and "Externe partijen: 1" in _text(app, "#count")
        assert "gerechtsdeurwaarder" in _text(app, "#details")
    with app.ctx.db.reader() as s:
        assert s.scalar(select(ExternalParty.street)) == "Oudegracht 1"


async def test_the_external_screen_approves_reports_and_recalls_from_the_client_detail(
    app_for, clock, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings = {"letters_dir": tmp_path / "outbox", **LENDER_SETTINGS}
    app = app_for("bakker", **settings)
    visser = _context(app.ctx.db, clock, "visser", **settings)
    ext.add_party(visser, BAILIFF)
    case_id, name, _loan = _consumer_case(visser)
    ext.propose_handover(visser, case_id, BAILIFF.name, "Opgeëist, geen reactie")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        app.push_screen(ClientDetailScreen(case_id))
        await _settle(pilot)
        await pilot.press("e")
        await _settle(pilot)
        assert isinstance(app.screen, ExternalScreen) and "voorgesteld" in _text(app, "#claim")
        await pilot.press("y")  # bakker approves visser's proposal: four eyes
        await _settle(pilot)
        assert "bij de partij" in _text(app, "#claim") and "dossier.pdf" in _text(app, "#message")
        await pilot.press("s")
        await _settle(pilot)
        app.screen.query_one("#costs").value = "85,00"
        app.screen.query_one("#note").value = "Dagvaarding uitgebracht"
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert isinstance(app.screen, ExternalScreen) and app.screen.query_one("#events").row_count == 1
        await pilot.press("t")
        await _settle(pilot)
        await pilot.press(*"eigen regeling", "enter")
        await _settle(pilot)
        assert "teruggeroepen" in _text(app, "#claim")
    with app.ctx.db.reader() as s:
        claim = s.scalar(select(ExternalClaim))
    assert (claim.status, claim.outcome, claim.decided_by) == ("ended", "recalled", "bakker")
    assert Path(claim.dossier_path, "dossier.pdf").exists()


async def test_the_proposer_cannot_approve_on_the_screen(app_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = app_for("visser", letters_dir=tmp_path / "outbox", **LENDER_SETTINGS)
    ext.add_party(app.ctx, BAILIFF)
    case_id, _n, _l = _consumer_case(app.ctx)
    ext.propose_handover(app.ctx, case_id, BAILIFF.name, "x")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        app.push_screen(ExternalScreen(case_id))
        await _settle(pilot)
        assert app.screen.check_action("approve", ()) is False and app.screen.check_action("recall", ()) is False
        await pilot.press("y")
        await _settle(pilot)
        assert "voorgesteld" in _text(app, "#claim")


async def test_a_complaint_is_recorded_acknowledged_and_answered_from_the_client_detail(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo", lang="en")
    case_id, _name, _loan = _consumer_case(app.ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        app.push_screen(ClientDetailScreen(case_id))
        await _settle(pilot)
        await pilot.press("d")
        await _settle(pilot)
        assert isinstance(app.screen, ComplaintsScreen) and "0, 0 open" in _text(app, "#count")
        await pilot.press("a")
        await _settle(pilot)
        app.screen.query_one("#received").value = "16/11/2026"
        app.screen.query_one("#about").value = "Costs not owed"
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert isinstance(app.screen, ComplaintsScreen) and "1, 1 open" in _text(app, "#count")
        assert "tasks are in the inbox" in _text(app, "#message")
        await pilot.press("v")
        await _settle(pilot)
        await pilot.press("f")
        await _settle(pilot)
        app.screen.query_one("#text").value = "The costs were charged correctly."
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert "1, 0 open" in _text(app, "#count") and "Kifid" in _text(app, "#details")
    (row,) = cs.complaints(app.ctx, case_id=case_id)
    assert row.status == "answered" and row.acknowledged_on is not None
    with app.ctx.db.reader() as s:
        assert {t.status for t in s.scalars(select(Task).where(Task.kind.like("complaint%")))} == {"done"}


async def test_the_dashboard_shows_the_complaints_figure_and_the_palette_the_screens(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("bakker")
    case_id, _n, _l = _consumer_case(app.ctx)
    from datetime import date

    cs.add_complaint(app.ctx, case_id, cs.ComplaintInput("complaint", date(2026, 11, 2), "phone", "Te laat gebeld"))
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        app.push_screen(DashboardScreen())
        await _settle(pilot)
        # received 2 November: acknowledge by 9 November, long past on 23 November
        assert "Klachten: 1 open, 1 ontvangstbevestigingen en 0 antwoorden over de termijn" in _text(app, "#rates")
        await pilot.press("escape")
        await _settle(pilot)
        await pilot.press("ctrl+p")
        await _settle(pilot)
        await pilot.press(*"klachtenregister")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await _settle(pilot)
        assert isinstance(app.screen, ComplaintsScreen) and "1 over een termijn" in _text(app, "#count")
