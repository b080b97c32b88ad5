"""The worklist screen as a user drives it (Pilot), and its snapshot at 80x24."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from incasso_tui.store.models import Client
from incasso_tui.ui.screens.worklist import WorklistScreen
from incasso_tui.ui.widgets.virtual_table import VirtualTable
from tests.ui.pictures import settle as settle_picture


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _status(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one("#status").render())


async def test_worklist_opens_with_the_count_and_the_user(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
        table = app.screen.query_one(VirtualTable)
        assert table.total > 20
        assert _status(app).startswith(f"1 van {table.total} dossiers")
        assert "Demo Medewerker (demo)" in app.sub_title and "medewerker" in app.sub_title
        first = table.cursor_row
        assert first is not None and first.client_name
        await pilot.press("down", "down")
        await _settle(pilot)
        assert table.cursor == 2 and _status(app).startswith("3 van")


async def test_enter_opens_detail_and_escape_returns_to_the_same_row(app_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.ui.screens.detail import ClientDetailScreen

    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        table = app.screen.query_one(VirtualTable)
        await pilot.press("down", "down", "down")
        chosen = table.cursor_row
        await pilot.press("enter")
        await _settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        await pilot.press("escape")
        await _settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
        assert table.cursor == 3 and table.cursor_row.case_id == chosen.case_id


async def test_search_mine_and_bucket_filters(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        table = app.screen.query_one(VirtualTable)
        total = table.total
        await pilot.press("m")
        await _settle(pilot)
        assert 0 < table.total < total
        assert all(table.row_at(i).assignee == "demo" for i in range(min(table.total, 100)))
        await pilot.press("m", "b", "b")  # mine off; bucket: not past due -> 1-30
        await _settle(pilot)
        assert all(1 <= table.row_at(i).days_past_due <= 30 for i in range(min(table.total, 100)))
        assert "1-30 dagen" in str(app.screen.query_one("#filters").render())
        await pilot.press("escape")
        await _settle(pilot)
        assert table.total == total
        name = table.cursor_row.client_name
        await pilot.press("slash", *list(name[:6].lower()), "enter")
        await pilot.pause(0.4)
        await _settle(pilot)
        assert 1 <= table.total < total
        assert any(table.row_at(i).client_name == name for i in range(table.total))


async def test_paging_deep_and_jumping_to_the_end(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        table = app.screen.query_one(VirtualTable)
        await pilot.press("end")
        await _settle(pilot)
        assert table.cursor == table.total - 1 and table.cursor_row is not None
        await pilot.press("home", *["pagedown"] * 12)
        await _settle(pilot)
        assert table.cursor_row is not None and table.cursor > 100


async def test_hostile_names_are_shown_literally(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        table = app.screen.query_one(VirtualTable)
        first = table.cursor_row
        with app.ctx.db.transaction() as s:
            s.execute(update(Client).where(Client.id == first.client_id).values(name="[bold]x[/] \x1b[31mrood"))
        await pilot.press("r")
        await _settle(pilot)
        line = table.render_line(0).text
        assert "[bold]x[/] ␛[31mrood" in line
        assert "\x1b" not in line


async def test_english_on_request(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert _status(app).startswith("1 of ")
        assert "€" in table_text(app)


def table_text(app) -> str:  # type: ignore[no-untyped-def]
    table = app.screen.query_one(VirtualTable)
    return "\n".join(table.render_line(y).text for y in range(5))


def test_worklist_snapshot_80x24(app_for, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await settle_picture(pilot)  # tables sized, nothing moving (tests/ui/pictures.py)

    assert snap_compare(app_for(), terminal_size=(80, 24), run_before=settle)


async def test_changes_by_others_appear_and_the_cursor_stays(app_for) -> None:  # type: ignore[no-untyped-def]
    """A colleague opens the case under the cursor in another session: the row shows it within a poll."""
    from incasso_tui.services.context import Context
    from incasso_tui.services.locks import open_case
    from incasso_tui.services.users import resolve_actor

    app = app_for(worklist_poll_seconds=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        table = app.screen.query_one(VirtualTable)
        await pilot.press("down", "down")
        chosen = table.cursor_row
        colleague = Context(
            db=app.ctx.db, actor=resolve_actor(app.ctx.db, "jansen"), clock=app.ctx.clock, settings=app.ctx.settings
        )
        open_case(colleague, chosen.case_id)
        for _ in range(20):
            await pilot.pause(0.2)
            await _settle(pilot)
            if table.cursor_row is not None and table.cursor_row.in_progress_by:
                break
        assert table.cursor_row.case_id == chosen.case_id and table.cursor == 2
        assert table.cursor_row.in_progress_by == "jansen"
        assert "in behandeling bij jansen" in _status(app)
        assert table.render_line(2).text.startswith("*")


async def test_a_case_open_elsewhere_says_so_on_the_detail(app_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.services.context import Context
    from incasso_tui.services.locks import open_case
    from incasso_tui.services.users import resolve_actor
    from incasso_tui.ui.screens.detail import ClientDetailScreen

    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        row = app.screen.query_one(VirtualTable).cursor_row
        colleague = Context(
            db=app.ctx.db, actor=resolve_actor(app.ctx.db, "jansen"), clock=app.ctx.clock, settings=app.ctx.settings
        )
        open_case(colleague, row.case_id)
        await pilot.press("enter")
        await _settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        assert "In behandeling bij jansen (tot 09:45)" in str(app.screen.query_one("#case").render())
        await pilot.press("escape")
        await _settle(pilot)
        assert isinstance(app.screen, WorklistScreen)


@pytest.mark.parametrize(("lang", "stage"), [("nl", "Ingebrekestelling"), ("en", "Default notice")])
async def test_a_wide_worklist_shows_every_stage_whole_and_a_narrow_one_keeps_the_name(  # type: ignore[no-untyped-def]
    app_for, lang: str, stage: str
) -> None:
    """At 120 columns the stage column widens to its longest name (after the client's name has 24), so no stage is
    cut; at 80 columns the client's name keeps the room and the stage is cut rather than the name."""
    app = app_for("demo", lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#cases", VirtualTable)
        wide = table._widths(120)
        narrow = table._widths(80)
    client, stage_col = 1, 5
    assert wide[stage_col] >= len(stage) and wide[client] >= 24
    assert narrow[client] == 18 and narrow[stage_col] == 12  # 80 - (67 of minimum widths + 7 gaps) = 6 spare
    assert sum(wide) + len(wide) - 1 == 120 and sum(narrow) + len(narrow) - 1 == 80


async def test_a_first_load_begun_before_the_app_is_shown_without_loading_again(  # type: ignore[no-untyped-def]
    app_for, monkeypatch
) -> None:
    """The TUI's start fetches the worklist's first page while Textual starts (cli.tui.run_tui, issue 18): the screen
    shows that page as its own first load, with no query of its own, and its later loads are its own again."""
    from concurrent.futures import Future

    from incasso_tui.services import worklist as service
    from incasso_tui.ui.app import IncassoApp
    from incasso_tui.ui.paging import PAGE_SIZE

    plain = app_for()
    opened = service.open_worklist(plain.ctx, service.WorklistFilter(), PAGE_SIZE)
    done: Future[service.OpenedWorklist] = Future()
    done.set_result(opened)
    loads: list[service.WorklistFilter] = []
    real = service.Worklist.count
    monkeypatch.setattr(service.Worklist, "count", lambda self: loads.append(self.flt) or real(self))
    app = IncassoApp(plain.ctx, plain.tr, worklist=done)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        table = app.screen.query_one(VirtualTable)
        assert table.total == opened.total > 20 and loads == []
        assert table.cursor_row is not None and table.cursor_row.case_id == opened.first.rows[0].case_id
        assert _status(app).startswith(f"1 van {opened.total} dossiers")
        await pilot.press("m")  # another filter: loaded by the screen
        await _settle(pilot)
        assert len(loads) == 1 and loads[0].mine and 0 < table.total < opened.total


async def test_a_first_load_still_running_or_failed_is_waited_for_and_its_error_shown(  # type: ignore[no-untyped-def]
    app_for,
) -> None:
    from concurrent.futures import Future

    from incasso_tui.errors import DatabaseUnavailable
    from incasso_tui.store.db import BUSY
    from incasso_tui.ui.app import IncassoApp

    plain = app_for()
    pending: Future[object] = Future()
    app = IncassoApp(plain.ctx, plain.tr, worklist=pending)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Loading" in _status(app) or "laden" in _status(app).lower()
        pending.set_exception(DatabaseUnavailable(BUSY, kind="busy", error="database is locked"))
        await _settle(pilot)
        assert "De database is bezig" in _status(app)
        await pilot.press("r")  # the next load is the screen's own, and works
        await _settle(pilot)
        assert app.screen.query_one(VirtualTable).total > 20
