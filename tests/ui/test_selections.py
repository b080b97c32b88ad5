"""Selections as a user drives them (Pilot): `l` on the worklist, a new selection through its form, opened as the
worklist, a bulk action with its confirmation and its result per client, and the CSV export (`e`)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select

from incasso_tui.services.campaigns import CampaignAction, run_campaign
from incasso_tui.services.criteria import Criteria
from incasso_tui.services.selections import CSV_HEADER, count_selection, save_selection
from incasso_tui.ui.screens.selections import (
    CampaignForm,
    CampaignScreen,
    ChoicesScreen,
    ConfirmCampaign,
    SelectionForm,
    SelectionsScreen,
)
from incasso_tui.ui.screens.worklist import WorklistScreen
from incasso_tui.ui.widgets.virtual_table import VirtualTable
from tests.conftest import AS_OF
from tests.ui.pictures import settle as settle_picture
from tests.ui.test_contact import error_at, fill
from tests.ui.test_detail import shown


async def _settle(pilot: Pilot[Any]) -> None:
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _status(app: Any) -> str:
    return str(app.screen.query_one("#status").render())


async def test_a_new_selection_is_saved_counted_and_opened_as_the_worklist(app_for: Callable[..., Any]) -> None:
    app = app_for("demo")
    expected = count_selection(app.ctx, Criteria(stages=("demand",), min_arrears=Decimal("100.00")))
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        everything = app.screen.query_one(VirtualTable).total
        await pilot.press("l")
        await _settle(pilot)
        assert isinstance(app.screen, SelectionsScreen) and "Nog geen selecties" in shown(
            app.screen.query_one("#selection")
        )
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, SelectionForm)
        await pilot.press(*"Aanmaningen")
        form.query_one("#stages").focus()
        await pilot.press("enter")  # the stages open as a list to tick
        await pilot.pause()
        assert isinstance(app.screen, ChoicesScreen)
        await pilot.press("down", "space", "enter")  # the second stage: demand
        await pilot.pause()
        assert app.screen is form and form.query_one("#stages").chosen == ("demand",)
        await fill(pilot, "min_arrears", "100")
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert isinstance(app.screen, SelectionsScreen)
        table = app.screen.query_one("#selections", DataTable)
        assert table.row_count == 1
        assert [str(cell) for cell in table.get_row_at(0)[:2]] == ["Aanmaningen", str(expected)]
        assert "fase: Aanmaning" in shown(app.screen.query_one("#selection"))

        await pilot.press("enter")  # opens it as the worklist
        await _settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
        worklist = app.screen.query_one(VirtualTable)
        assert worklist.total == expected < everything
        assert _status(app).startswith(f"Selectie Aanmaningen: 1 van {expected} dossiers")
        assert all(worklist.row_at(i).stage == "demand" for i in range(min(expected, 100)))
        case_id = worklist.cursor_row.case_id
        await pilot.press("escape")  # leaves the selection, the cursor stays on the case
        await _settle(pilot)
        assert worklist.total == everything and worklist.cursor_row.case_id == case_id
        assert f" van {everything} dossiers" in _status(app) and "Selectie" not in _status(app)


async def test_the_form_shows_a_refusal_at_its_field_and_keeps_the_input(app_for: Callable[..., Any]) -> None:
    app = app_for("demo")
    save_selection(app.ctx, "Bestaat al", Criteria())
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("l")
        await _settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        await pilot.press(*"Grote bedragen")
        await fill(pilot, "min_arrears", "5000")
        await fill(pilot, "max_arrears", "100")
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert app.screen is form and "hoger dan de achterstand tot" in error_at(form, "max_arrears")
        await fill(pilot, "max_arrears", "")
        await fill(pilot, "no_contact_days", "veel")
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert "Geen aantal dagen: veel" in error_at(form, "no_contact_days")
        await fill(pilot, "no_contact_days", "")
        await fill(pilot, "name", "bestaat AL")
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert "al een selectie met de naam" in error_at(form, "name")
        assert form.query_one("#min_arrears", Input).value == "5000"


async def test_a_bulk_action_is_confirmed_run_and_listed_per_client(app_for: Callable[..., Any]) -> None:
    app = app_for("bakker")
    saved = save_selection(app.ctx, "Herinneringen", Criteria(stages=("reminder",)))
    members = count_selection(app.ctx, saved.criteria)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("l")
        await _settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, CampaignForm)
        actions = [value for _label, value in form.query_one("#action", Select)._options]
        assert actions == ["letter", "email", "call_task", "assign"]  # a supervisor may run them all
        form.query_one("#action", Select).value = "call_task"
        await pilot.pause()
        assert form.query_one("#call-fields").display and not form.query_one("#letter-fields").display
        await pilot.press("ctrl+s")  # no note yet: refused at the field, nothing asked
        await _settle(pilot)
        assert app.screen is form and "Vul dit in" in error_at(form, "note")
        await fill(pilot, "note", "Bellen over de herinnering")
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert isinstance(app.screen, ConfirmCampaign)
        assert "Beltaken aanmaken" in shown(app.screen.query_one(".question"))
        await pilot.press("ctrl+s")
        await _settle(pilot)
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, CampaignScreen) and screen.info is not None
        info = screen.info
        assert info.finished and info.selected == members and info.done + info.refused == members
        assert f"{members} dossiers: {info.done} uitgevoerd, {info.refused} geweigerd" in shown(
            screen.query_one("#count")
        )
        table = screen.query_one("#members", DataTable)
        assert table.row_count == members
        outcomes = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert outcomes == sorted(outcomes, key=lambda o: o != "geweigerd"), "the refused come first"
        assert "Betaald binnen 14 dagen" in shown(screen.query_one("#member"))


async def test_an_employee_is_offered_only_call_tasks(app_for: Callable[..., Any]) -> None:
    app = app_for("demo")
    save_selection(app.ctx, "Mijn groep", Criteria(assignee="demo"))
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("l")
        await _settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert [v for _l, v in app.screen.query_one("#action", Select)._options] == ["call_task"]


async def test_an_auditor_reads_selections_and_campaigns_but_changes_nothing(app_for: Callable[..., Any]) -> None:
    app = app_for("audit")
    saved = save_selection(app_for("bakker").ctx, "Van de teamleider", Criteria(stages=("demand",)))
    run_campaign(app_for("bakker").ctx, saved.name, CampaignAction("call_task", due_date=AS_OF, note="Bellen"))
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("l")
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, SelectionsScreen)
        assert not screen.check_action("new", ()) and not screen.check_action("edit", ())
        assert not screen.check_action("campaign", ())
        await pilot.press("n", "a")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("c")
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)
        assert isinstance(app.screen, CampaignScreen) and not app.screen.check_action("resume", ())


async def test_e_exports_the_worklist_as_it_is_filtered_to_a_new_file(
    app_for: Callable[..., Any], tmp_path: Path
) -> None:
    app = app_for("demo", export_dir=tmp_path)
    target = tmp_path / "mijn-dossiers.csv"
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("m")  # my cases
        await _settle(pilot)
        mine = app.screen.query_one(VirtualTable).total
        await pilot.press("e")
        await pilot.pause()
        answer = app.screen.query_one("#answer", Input)
        assert answer.value.endswith(f"-{AS_OF.isoformat()}.csv")  # a suggestion
        answer.value = target.name  # a plain file name, written into the export directory
        await pilot.press("enter")
        await pilot.pause()
        form = app.screen.query_one("#answer", Input)
        assert form.value == "nl"  # a Dutch session suggests the Dutch form (issue 14); the standard one here
        form.value = "std"
        await pilot.press("enter")
        await _settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
        told = [n.message for n in app._notifications]
        assert f"{mine} dossiers geschreven naar {target}" in told
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CSV_HEADER and len(rows) == mine + 1
    assert {row[CSV_HEADER.index("assignee")] for row in rows[1:]} == {"demo"}


def test_the_campaign_result_snapshot_80x24(app_for: Callable[..., Any], snap_compare: Callable[..., bool]) -> None:
    app = app_for("bakker")
    saved = save_selection(app.ctx, "Aanmaningen", Criteria(stages=("demand",)))
    info = run_campaign(app.ctx, saved.name, CampaignAction("call_task", due_date=AS_OF, note="Bellen")).campaign

    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        app.push_screen(CampaignScreen(info.id))
        await _settle(pilot)
        await settle_picture(pilot)  # tables sized, nothing moving (tests/ui/pictures.py)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_the_selection_form_snapshot_80x24(app_for: Callable[..., Any], snap_compare: Callable[..., bool]) -> None:
    app = app_for("bakker")
    save_selection(
        app.ctx,
        "Zakelijk, stil",
        Criteria(
            stages=("demand", "call"),
            buckets=("31-60",),
            debtor="business",
            min_arrears=Decimal("250.00"),
            no_contact_days=30,
        ),
    )

    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("l")
        await _settle(pilot)
        await pilot.press("e")
        await _settle(pilot)
        await settle_picture(pilot)  # tables sized, nothing moving (tests/ui/pictures.py)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
