"""Client-detail actions: logging a contact/promise, a note, a debt track and a pause through their forms."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, Select, TabbedContent, TextArea

from incasso_tui.domain.enums import ContactOutcome
from incasso_tui.services.tracks import TrackKind, TrackOutcome
from incasso_tui.store.models import AuditEvent, Case, Contact, DebtTrack, Note, Promise, Task
from incasso_tui.ui.screens.contact import ContactScreen, NoteScreen
from incasso_tui.ui.screens.detail import ClientDetailScreen
from incasso_tui.ui.screens.pause import PauseScreen, ResumeScreen
from incasso_tui.ui.screens.track import EndTrackScreen, TrackScreen
from tests.ui.pictures import settle as settle_picture
from tests.ui.test_detail import first_case, open_detail, shown


async def open_form(pilot: Pilot[Any], case_id: int, key: str) -> Any:
    detail = await open_detail(pilot, case_id)
    await pilot.press(key)
    await pilot.pause()
    assert pilot.app.screen is not detail
    return pilot.app.screen


async def fill(pilot: Pilot[Any], field: str, value: str) -> None:
    pilot.app.screen.query_one(f"#{field}", Input).focus()
    await pilot.press("ctrl+a", "ctrl+k", *value)
    await pilot.pause()


async def choose(pilot: Pilot[Any], field: str, value: object) -> None:
    pilot.app.screen.query_one(f"#{field}", Select).value = value
    await pilot.pause()


async def save(pilot: Pilot[Any]) -> None:
    await pilot.press("ctrl+s")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()  # the detail reloads after a save
    await pilot.pause()


def error_at(screen: Any, field: str) -> str:
    label = screen.query_one(f"#{field}-error", Label)
    return shown(label) if label.display else ""


def count(app: Any, model: Any, case_id: int) -> int:
    with app.ctx.db.reader() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(model.case_id == case_id)))


async def test_a_promise_is_logged_through_the_form(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        promises = count(app, Promise, case_id)
        screen = await open_form(pilot, case_id, "c")
        assert isinstance(screen, ContactScreen)
        assert not screen.query_one("#promise-fields").display  # only for a promise
        await choose(pilot, "outcome", ContactOutcome.PROMISE)
        assert screen.query_one("#promise-fields").display
        await fill(pilot, "promise_date", "30-11-2026")
        await fill(pilot, "promise_amount", "250,00")
        await fill(pilot, "summary", "Betaalt na salaris [morgen]")
        await fill(pilot, "next_action_date", "01-12-2026")
        await save(pilot)
        detail = app.screen
        assert isinstance(detail, ClientDetailScreen)
        assert detail.query_one(TabbedContent).active == "contacts"
        table = detail.query_one("#promises-table", DataTable)
        assert [str(c) for c in table.get_row_at(0)] == ["30-11-2026", app.tr.money(Decimal("250.00")), "open"]
        contacts = detail.query_one("#contacts-table", DataTable)
        assert "Betaalbelofte" in str(contacts.get_row_at(0)[2])
        assert "Betaalt na salaris [morgen]" in str(contacts.get_row_at(0)[3])  # literal, not markup
        assert "01-12-2026" in shown(detail.query_one("#case"))
        assert count(app, Promise, case_id) == promises + 1


async def test_a_bad_amount_is_refused_at_the_field_and_nothing_is_lost(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        contacts, promises = count(app, Contact, case_id), count(app, Promise, case_id)
        screen = await open_form(pilot, case_id, "c")
        await choose(pilot, "outcome", ContactOutcome.PROMISE)
        await fill(pilot, "promise_date", "30-11-2026")
        await fill(pilot, "promise_amount", "12,345")
        await fill(pilot, "summary", "Belt vrijdag")
        await fill(pilot, "next_action_date", "01-12-2026")
        await save(pilot)
        assert app.screen is screen
        assert "Een bedrag heeft hoogstens 2 decimalen: 12,345" in error_at(screen, "promise_amount")
        await fill(pilot, "promise_amount", "0")  # readable, but the service refuses it: shown at the same field
        await save(pilot)
        assert app.screen is screen
        assert "Het beloofde bedrag moet meer dan nul zijn" in error_at(screen, "promise_amount")
        assert error_at(screen, "promise_date") == ""
        values = {f: screen.query_one(f"#{f}", Input).value for f in ("promise_date", "summary", "next_action_date")}
        assert values == {"promise_date": "30-11-2026", "summary": "Belt vrijdag", "next_action_date": "01-12-2026"}
        assert screen.query_one("#promise_amount", Input).value == "0"
        assert (count(app, Contact, case_id), count(app, Promise, case_id)) == (contacts, promises)


@pytest.mark.parametrize(("lang", "expected"), [("nl", "gewijzigd door jansen"), ("en", "changed by jansen")])
async def test_a_case_changed_meanwhile_shows_who(app_for: Callable[..., Any], lang: str, expected: str) -> None:
    app = app_for(lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        contacts = count(app, Contact, case_id)
        screen = await open_form(pilot, case_id, "c")
        await fill(pilot, "summary", "Niet bereikt")
        await fill(pilot, "next_action_date", "2026-11-30")
        with app.ctx.db.transaction() as s:
            s.execute(
                text("UPDATE cases SET version = version + 1, updated_by = 'jansen', updated_at = :at WHERE id = :id"),
                {"at": "2026-11-23 09:25:00", "id": case_id},
            )
        await save(pilot)
        assert app.screen is screen
        message = shown(screen.query_one("#message", Label))
        assert expected in message and "09:25" in message
        assert screen.query_one("#summary", Input).value == "Niet bereikt"
        assert count(app, Contact, case_id) == contacts


async def test_escape_cancels_the_contact(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        contacts = count(app, Contact, case_id)
        await open_form(pilot, case_id, "c")
        await fill(pilot, "next_action_date", "2026-11-30")
        await pilot.press("escape")  # something typed: it asks first (issue 14)
        await pilot.pause()
        assert "niet opgeslagen" in str(app.screen.query_one("Label").render())
        await pilot.press("escape")  # back to the form, the input kept
        await pilot.pause()
        assert app.screen.query_one("#next_action_date").value == "2026-11-30"
        await pilot.press("escape", "j", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ClientDetailScreen)
        assert count(app, Contact, case_id) == contacts


async def test_ctrl_q_with_a_half_typed_contact_asks_first(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        await open_form(pilot, case_id, "c")
        await fill(pilot, "next_action_date", "2026-11-30")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running and "niet opgeslagen" in str(app.screen.query_one("Label").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.query_one("#next_action_date").value == "2026-11-30"
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("j", "enter")
        await pilot.pause()
        assert not app.is_running


async def test_escape_on_an_untouched_form_leaves_at_once(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        await open_form(pilot, case_id, "c")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ClientDetailScreen)


async def test_a_note_is_added(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        notes = count(app, Note, case_id)
        screen = await open_form(pilot, case_id, "n")
        assert isinstance(screen, NoteScreen)
        await save(pilot)  # empty: refused at the text
        assert app.screen is screen and "Vul dit in" in error_at(screen, "text")
        screen.query_one("#text", TextArea).insert("Klant heeft nieuwe baan")
        await save(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        assert app.screen.query_one(TabbedContent).active == "notes"
        assert "Klant heeft nieuwe baan" in " ".join(shown(w) for w in app.screen.query(".note"))
        assert count(app, Note, case_id) == notes + 1


async def test_a_wsnp_is_registered_and_its_task_shown(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        screen = await open_form(pilot, case_id, "i")
        assert isinstance(screen, TrackScreen)
        await choose(pilot, "kind", TrackKind.FAILLISSEMENT)
        assert not screen.query_one("#response-fields").display
        await fill(pilot, "ruling_date", "10-11-2026")
        await fill(pilot, "trustee_name", "Mr. J. Bos")
        await save(pilot)  # a bankruptcy needs the court's deadline
        assert app.screen is screen and "rechtbank" in error_at(screen, "claim_deadline")
        await choose(pilot, "kind", TrackKind.WSNP)
        await save(pilot)
        detail = app.screen
        assert isinstance(detail, ClientDetailScreen) and detail.query_one(TabbedContent).active == "tasks"
        tasks = detail.query_one("#tasks-table", DataTable)
        assert tasks.row_count == 1 and "Vordering indienen" in str(tasks.get_row_at(0)[1])
        assert "10-12-2026" == str(tasks.get_row_at(0)[0])  # 30 days after the ruling
        head = shown(detail.query_one("#case"))
        assert "Status Insolventie" in head and "WSNP sinds 10-11-2026" in head
        with app.ctx.db.reader() as s:
            assert s.get(Case, case_id).status == "insolvency"
            assert s.scalar(select(func.count()).select_from(DebtTrack).where(DebtTrack.case_id == case_id)) == 1
        # `i` again offers to end the track
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, EndTrackScreen) and "beëindigen" in shown(app.screen.query_one(".title"))
        # issue 12: ending a track asks its outcome; without one nothing ends
        await save(pilot)
        assert isinstance(app.screen, EndTrackScreen) and "Vul dit in" in error_at(app.screen, "outcome")
        app.screen.query_one("#outcome", Select).value = TrackOutcome.SETTLED
        await pilot.pause()
        assert app.screen.query_one("#settlement-fields").display  # a settlement asks the agreed amount
        assert "afgesproken bedrag" in shown(app.screen.query_one("#outcome-hint"))
        app.screen.query_one("#outcome", Select).value = TrackOutcome.REJECTED
        await pilot.pause()
        assert not app.screen.query_one("#settlement-fields").display
        await save(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        with app.ctx.db.reader() as s:
            assert s.get(Case, case_id).status == "active"
            assert s.scalars(select(Task.status).where(Task.case_id == case_id)).all() == ["cancelled"]
            assert s.scalars(select(DebtTrack.outcome).where(DebtTrack.case_id == case_id)).all() == ["rejected"]


async def test_a_back_dated_pause_and_resume(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        screen = await open_form(pilot, case_id, "p")
        assert isinstance(screen, PauseScreen)
        await fill(pilot, "since", "20-11-2026")
        await fill(pilot, "until", "31-12-2026")
        await save(pilot)
        assert app.screen is screen and "Vul dit in" in error_at(screen, "reason")
        await fill(pilot, "reason", "Klant in het buitenland")
        await save(pilot)
        detail = app.screen
        assert isinstance(detail, ClientDetailScreen)
        assert "Gepauzeerd tot 31-12-2026: Klant in het buitenland" in shown(detail.query_one("#case"))
        with app.ctx.db.reader() as s:
            event = s.scalars(
                select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action == "case.pause")
            ).one()
        assert '"since": "2026-11-20"' in event.after and '"until": "2026-12-31"' in event.after
        await pilot.press("p")  # now it resumes
        await pilot.pause()
        assert isinstance(app.screen, ResumeScreen)
        assert app.focused is app.screen.query_one("#cancel")
        await save(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        with app.ctx.db.reader() as s:
            assert s.get(Case, case_id).status == "active"


async def test_auditors_see_no_write_keys(app_for: Callable[..., Any]) -> None:
    app = app_for(user="audit")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_detail(pilot, first_case(app))
        for key in ("c", "n", "i", "p", "a"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen


def test_contact_form_snapshot_80x24(app_for: Callable[..., Any], snap_compare: Callable[..., bool]) -> None:
    app = app_for()
    case_id = first_case(app)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await open_form(pilot, case_id, "c")
        await choose(pilot, "outcome", ContactOutcome.PROMISE)
        await fill(pilot, "promise_amount", "12,345")
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()  # the refusal is on screen, however busy the machine
        await pilot.pause()
        await settle_picture(pilot)  # tables sized, nothing moving (tests/ui/pictures.py)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_an_impossible_date_is_said_when_the_field_is_left(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        screen = await open_form(pilot, case_id, "c")
        await fill(pilot, "next_action_date", "31-02-2027")
        screen.focus_next()  # leave the field, nothing saved
        await pilot.pause()
        assert "31-02-2027 bestaat niet: die maand heeft 28 dagen" in error_at(screen, "next_action_date")
        assert app.screen is screen


async def _until(pilot: Pilot[Any], done: Callable[[], bool]) -> None:
    for _ in range(100):
        await pilot.pause(0.02)
        if done():
            return
    raise AssertionError("not reached")


async def test_the_kept_contact_form_opens_again_as_new_and_saves_again(app_for: Callable[..., Any]) -> None:
    """The app keeps one contact form (issue 18): opened again, after a refusal and a cancel, it is as a new one
    (fields, messages, focus, the save button), for the case it is opened on, and it saves."""
    from incasso_tui.ui.screens.contact import KEPT_AS

    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        contacts = count(app, Contact, case_id)
        form = await open_form(pilot, case_id, "c")
        assert app.get_screen(KEPT_AS) is form
        await choose(pilot, "outcome", ContactOutcome.PROMISE)
        await fill(pilot, "promise_date", "30-11-2026")
        await fill(pilot, "promise_amount", "12,345")
        await save(pilot)
        assert error_at(form, "promise_amount")  # refused at the field
        await pilot.press("escape", "y", "enter")  # what was typed is not saved: leave anyway
        await _until(pilot, lambda: isinstance(app.screen, ClientDetailScreen))

        await pilot.press("c")
        await _until(pilot, lambda: app.screen is form)  # the same form, shown again
        assert form.query_one("#outcome", Select).value is ContactOutcome.REACHED
        assert not form.query_one("#promise-fields").display
        assert all(i.value == "" for i in form.query(Input).results(Input))
        assert form.query_one("#cause", Select).value is Select.NULL
        assert error_at(form, "promise_amount") == "" and not form.query_one("#message", Label).display
        assert form.focused is form.query_one("#outcome", Select) and not form.dirty
        detail = app.screen_stack[-2]
        assert isinstance(detail, ClientDetailScreen) and form.detail is detail.detail
        assert detail.detail is not None and detail.detail.client.name in shown(form.query_one(".title", Label))
        await fill(pilot, "summary", "Tweede poging")
        await fill(pilot, "next_action_date", "01-12-2026")
        await save(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        assert count(app, Contact, case_id) == contacts + 1
        assert "Tweede poging" in str(app.screen.query_one("#contacts-table", DataTable).get_row_at(0)[3])
