"""Client detail screen: what it shows, that data is shown literally, its keys, its snapshot at 80x24."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, TabbedContent

from incasso_tui.services.cases import client_detail
from incasso_tui.ui.screens.detail import ClientDetailScreen
from tests.ui.pictures import settle as settle_picture

HOSTILE = "[bold]x[/] \x1b[31mrood"


def first_case(app: Any, where: str = "status = 'active' AND pos_arrears > 0") -> int:
    """The lowest case id matching ``where`` in the test book."""
    with app.ctx.db.reader() as s:
        case_id = s.execute(text(f"SELECT id FROM cases WHERE {where} ORDER BY id LIMIT 1")).scalar_one()
    return int(case_id)


def shown(widget: Widget) -> str:
    """The text a Static/Label shows (markup, if any, already interpreted)."""
    return str(widget.render())


async def open_detail(pilot: Pilot[Any], case_id: int) -> ClientDetailScreen:
    screen = ClientDetailScreen(case_id)
    await pilot.app.push_screen(screen)
    for _ in range(3):  # the case is read in a worker, shown, then its tasks and tracks are read
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    return screen


async def test_shows_client_and_arrears(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        detail = client_detail(app.ctx, case_id)
        screen = await open_detail(pilot, case_id)
        assert detail.client.name in shown(screen.query_one("#client"))
        assert detail.client.number in shown(screen.query_one("#client"))
        # at 80 columns the short arrears block shows; the split adds up to the total shown
        short = shown(screen.query_one("#arrears-short"))
        assert screen.query_one("#arrears-short").display and not screen.query_one("#arrears").display
        assert app.tr.money(detail.arrears.total) in short
        assert f"{detail.arrears.days_past_due} dagen" in short
        assert app.tr.money(detail.arrears.principal) in short
        loans = screen.query_one("#loans-table", DataTable)
        assert loans.row_count == len(detail.loans)
        assert str(loans.get_row_at(0)[0]) == detail.loans[0].number
        await pilot.press("2")  # a tab's widgets are made when it is first shown
        schedule = screen.query_one("#schedule-table", DataTable)
        assert schedule.row_count == len(detail.schedule)
        # the schedule opens on its first line that is not paid
        assert detail.schedule[schedule.cursor_row].state != "paid"


async def test_wide_layout_shows_the_arrears_split(app_for: Callable[..., Any]) -> None:
    app = app_for(lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        case_id = first_case(app)
        detail = client_detail(app.ctx, case_id)
        screen = await open_detail(pilot, case_id)
        block = shown(screen.query_one("#arrears"))
        assert screen.query_one("#arrears").display
        for word, amount in (
            ("Costs", detail.arrears.costs),
            ("Interest", detail.arrears.interest),
            ("Principal", detail.arrears.principal),
            ("Total", detail.arrears.total),
        ):
            assert word in block and app.tr.money(amount) in block
        assert f"{detail.arrears.days_past_due} days past due" in block


async def test_hostile_data_is_shown_literally(app_for: Callable[..., Any]) -> None:
    app = app_for()
    case_id = first_case(app)
    with app.ctx.db.transaction() as s:
        s.execute(
            text("UPDATE clients SET name = :name WHERE id = (SELECT client_id FROM cases WHERE id = :case)"),
            {"name": HOSTILE, "case": case_id},
        )
        s.execute(
            text("INSERT INTO notes (case_id, at, user_name, text) VALUES (:case, '2026-11-20 10:00:00', :u, :t)"),
            {"case": case_id, "u": "[red]demo[/]", "t": "[link=x]klik[/] \x1b]0;title\x07"},
        )
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_detail(pilot, case_id)
        client = shown(screen.query_one("#client"))
        assert "[bold]x[/] ␛[31mrood" in client
        assert "\x1b" not in client
        await pilot.press("5")
        notes = " ".join(shown(w) for w in screen.query(".note"))
        assert "[red]demo[/]" in notes
        assert "[link=x]klik[/] ␛]0;title␇" in notes


async def test_keys_switch_tabs_and_escape_goes_back(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        below = app.screen
        screen = await open_detail(pilot, first_case(app))
        tabs = screen.query_one(TabbedContent)
        for key, tab in (("2", "schedule"), ("4", "contacts"), ("8", "dossier"), ("1", "loans")):
            await pilot.press(key)
            assert tabs.active == tab
        assert isinstance(app.focused, DataTable)  # the tab's table takes the keys
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is below


async def test_leaving_before_the_case_is_read(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        below = app.screen
        await app.push_screen(ClientDetailScreen(first_case(app)))
        await pilot.press("escape")  # before the worker is done: its result is dropped, nothing breaks
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is below


async def test_unknown_case_says_so(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_detail(pilot, 999_999)
        assert "Dossier 999.999 bestaat niet" in shown(screen.query_one("#client"))
        await pilot.press("a")  # nothing to arrange: the key does nothing
        assert app.screen is screen


def test_snapshot_80x24(app_for: Callable[..., Any], snap_compare: Callable[..., bool]) -> None:
    app = app_for()
    case_id = first_case(app)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await open_detail(pilot, case_id)
        await settle_picture(pilot)  # tables sized, nothing moving (tests/ui/pictures.py)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_a_case_shown_while_a_tab_is_being_built_fills_it_once_mounted(app_for: Callable[..., Any]) -> None:
    """A tab's nested widgets are mounted after ``_build`` hands them over; a reload of the case that comes in the
    meantime (after a save, ``_show``) must not fill the tab's table before it exists: it is filled once mounted,
    with the case shown by then (seen under load: ``NoMatches '#contacts-table'`` after a contact was saved)."""
    import asyncio

    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        screen = await open_detail(pilot, case_id)
        assert screen.detail is not None and screen.tracks is not None
        await asyncio.gather(screen._build("contacts"), screen._show(screen.detail, screen.tracks, screen.presence))
        await pilot.pause()
        table = screen.query_one("#contacts-table", DataTable)
        assert table.row_count == len(screen.detail.contacts) > 0
