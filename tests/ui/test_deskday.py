"""Issue 13 on screen, driven with Pilot: the task inbox, special management's workbench, the read-only desk, the
BKR panel, the timeline in words, the approval that states its BKR code, and a snapshot of the inbox."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from incasso_tui.domain.enums import Channel, ContactOutcome
from incasso_tui.services.contacts import ContactInput, log_contact
from incasso_tui.services.context import Context
from incasso_tui.services.users import resolve_actor
from incasso_tui.store.models import BkrMutation, Case, Loan
from incasso_tui.ui.screens.approvals import ApprovalsScreen
from incasso_tui.ui.screens.contact import ContactScreen
from incasso_tui.ui.screens.inbox import InboxScreen
from incasso_tui.ui.screens.special import SpecialManagementScreen
from tests.ui.pictures import settle as settle_picture
from tests.ui.test_detail import first_case, open_detail, shown

TODAY = date(2026, 11, 23)


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _as(app: Any, user: str) -> Context:
    ctx = app.ctx
    return Context(db=ctx.db, actor=resolve_actor(ctx.db, user), clock=ctx.clock, settings=ctx.settings)


def _call_task_for_demo(app: Any) -> int:
    from incasso_tui.services.tasks import CallTaskInput, create_call_task

    case_id = first_case(app, "status = 'active' AND pos_arrears > 0 AND next_action_date > '2026-11-24'")
    with app.ctx.db.transaction() as s:
        s.get(Case, case_id).assignee_id = app.ctx.actor.id
    create_call_task(app.ctx, case_id, CallTaskInput(TODAY, "Campagne: bellen"))
    return case_id


async def test_the_inbox_shows_todays_call_and_d_opens_the_contact_form(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo")
    _call_task_for_demo(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("a")
        await _settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert "Mijn taken: 0 te laat, 1 vandaag" in shown(app.screen.query_one("#count"))
        assert "Campagne: bellen" in shown(app.screen.query_one("#details"))
        await pilot.press("d")
        await _settle(pilot)
        assert isinstance(app.screen, ContactScreen)  # a call is completed by logging its contact


async def test_a_logged_call_completes_the_task_and_reads_in_the_timeline(app_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.services.inbox import list_tasks

    app = app_for("demo")
    case_id = _call_task_for_demo(app)
    with app.ctx.db.reader() as s:
        version = s.get(Case, case_id).version
    log_contact(
        app.ctx,
        case_id,
        version,
        ContactInput(Channel.PHONE, ContactOutcome.REACHED, "Betaalt vrijdag", TODAY + timedelta(days=4)),
    )
    assert [t.kind for t in list_tasks(app.ctx)] == ["follow_up"]  # the call is done; the follow-up waits
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, case_id)
        await pilot.press("7")
        table = screen.query_one("#timeline-table")
        rows = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert "Contact per Telefoon vastgelegd door demo: Bereikt; volgende actie 27-11-2026" in rows
        assert any(r.startswith("Taak Bellen afgerond door demo") for r in rows)
        assert not any("presence" in r or "case.opened" in r for r in rows)  # presence is not a dossier event
        assert "contact.log" not in shown(screen.query_one("#timeline-detail"))
        await pilot.press("x")
        await pilot.pause()
        assert "·" in shown(screen.query_one("#timeline-detail"))  # the code and after-state of the event


async def test_special_management_starts_on_their_workbench(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("visser")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert isinstance(app.screen, SpecialManagementScreen)
        assert "mijn werkbank" in shown(app.screen.query_one("#count"))
        await pilot.press("m")
        await _settle(pilot)
        assert "mijn werkbank" not in shown(app.screen.query_one("#count"))


async def test_the_desk_sees_a_handed_over_case_read_only(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo")
    case_id = first_case(app, "status = 'handed_over'")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_detail(pilot, case_id)
        assert "Alleen lezen: overgedragen aan Bijzonder Beheer" in shown(screen.query_one("#case"))
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is screen  # the contact key does nothing here


async def test_the_bkr_panel_shows_code_a_and_what_is_not_exported(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo")
    case_id = first_case(app)
    with app.ctx.db.transaction() as s:
        case = s.get(Case, case_id)
        loan = s.scalars(select(Loan).where(Loan.client_id == case.client_id).order_by(Loan.number)).first()
        s.add(
            BkrMutation(
                loan_id=loan.id,
                client_id=case.client_id,
                code="A",
                mutation_date=date(2026, 11, 20),
                amount=Decimal("812.40"),
                created_by="procedure",
                created_at=datetime(2026, 11, 20, 6),
            )
        )
        number = loan.number
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, case_id)
        panel = shown(screen.query_one("#bkr-panel"))
        assert f"{number}: code A sinds 20-11-2026 · nog niet gemeld: A van 20-11-2026" in panel
        assert "Volgende stap van de procedure:" in panel or "Geen automatische stap" in panel


async def test_the_bkr_panel_says_a_legal_person_gets_no_codes(app_for) -> None:  # type: ignore[no-untyped-def]
    """A bv's case at the BKR step is not "reported": the stage reads as a step, and the panel says why nothing is
    registered; a natural person's panel does not say it."""
    app = app_for("demo")
    bv = first_case(app, "client_id IN (SELECT id FROM clients WHERE kind = 'bv')")
    person = first_case(app, "client_id IN (SELECT id FROM clients WHERE kind = 'natural')")
    async with app.run_test(size=(120, 40)) as pilot:
        panel = shown((await open_detail(pilot, bv)).query_one("#bkr-panel"))
        assert "Rechtspersoon: het BKR registreert geen codes voor de leningen" in panel
        await pilot.app.pop_screen()
        panel = shown((await open_detail(pilot, person)).query_one("#bkr-panel"))
        assert "Rechtspersoon" not in panel
    app = app_for("demo", lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        panel = shown((await open_detail(pilot, bv)).query_one("#bkr-panel"))
        assert "Legal person: the BKR registers no codes for its loans" in panel


async def test_a_write_off_approval_says_it_registers_code_3(app_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.services.proposals import propose_write_off
    from tests.services.test_proposals import _case_with_a_running_loan

    app = app_for("bakker")
    demo = _as(app, "demo")
    case_id, version, loan_id = _case_with_a_running_loan(demo)
    propose_write_off(demo, case_id, version, loan_id, Decimal("300.00"), "Oninbaar")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("v")
        await _settle(pilot)
        assert isinstance(app.screen, ApprovalsScreen)
        assert "Goedkeuren meldt code 3 bij het BKR" in shown(app.screen.query_one("#proposal"))
    app = app_for("bakker", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("v")
        await _settle(pilot)
        assert "Approving this registers code 3 at the BKR" in shown(app.screen.query_one("#proposal"))


async def test_an_arrangement_after_code_a_says_it_registers_code_h(app_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.ui.screens.arrangement import ArrangementScreen

    app = app_for("demo")
    case_id = first_case(app)
    with app.ctx.db.transaction() as s:
        case = s.get(Case, case_id)
        loan = s.scalars(select(Loan).where(Loan.client_id == case.client_id).order_by(Loan.number)).first()
        s.add(
            BkrMutation(
                loan_id=loan.id,
                client_id=case.client_id,
                code="A",
                mutation_date=date(2026, 11, 20),
                amount=Decimal("812.40"),
                created_by="procedure",
                created_at=datetime(2026, 11, 20, 6),
            )
        )
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, case_id)
        await pilot.press("a")
        await _settle(pilot)
        assert isinstance(app.screen, ArrangementScreen)
        assert "meldt deze regeling code H bij het BKR" in shown(app.screen.query_one("#note"))


def test_inbox_snapshot_80x24(app_for, snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo")
    _call_task_for_demo(app)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("a")
        await _settle(pilot)
        await settle_picture(pilot)  # tables sized, nothing moving (tests/ui/pictures.py)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
