"""Opening a case from the worklist (issue 18): the case is read first and the client detail pushed with it, in one
paint; the app keeps one detail screen and shows each next case on it, reset to how a new screen starts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from textual.screen import Screen
from textual.widgets import DataTable, TabbedContent

from incasso_tui.errors import IncassoError
from incasso_tui.services.cases import client_detail
from incasso_tui.ui.screens import detail as detail_module
from incasso_tui.ui.screens.detail import INSTALLED_AS, ClientDetailScreen
from incasso_tui.ui.screens.worklist import WorklistScreen
from tests.ui.test_detail import shown


async def _settle(pilot: Any) -> None:
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _open_row(pilot: Any, row: int) -> ClientDetailScreen:
    await pilot.press("home", *["down"] * row, "enter")
    await _settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ClientDetailScreen)
    return screen


async def test_the_next_case_opens_on_the_same_screen_reset_and_filled(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        first = await _open_row(pilot, 0)
        assert app.get_screen(INSTALLED_AS) is first
        assert first.detail is not None and first.detail.case.id == first.case_id
        assert not first.query_one("#head").loading  # shown with the case, no loading indicator
        await pilot.press("2")  # the schedule, then the notes: built for the first case
        await _settle(pilot)
        await pilot.press("5")
        await _settle(pilot)
        await pilot.press("escape")
        await _settle(pilot)
        assert isinstance(app.screen, WorklistScreen)

        second = await _open_row(pilot, 3)
        assert second is first  # the same screen, not composed again
        case_id = second.case_id
        assert second.detail is not None and second.detail.case.id == case_id
        expected = client_detail(app.ctx, case_id)
        assert expected.client.name in shown(second.query_one("#client"))
        assert second.query_one(TabbedContent).active == "loans"  # a new case opens on its first tab
        loans = second.query_one("#loans-table", DataTable)
        assert loans.row_count == len(expected.loans) and loans.cursor_row == 0
        assert str(loans.get_row_at(0)[0]) == expected.loans[0].number
        assert second.focused is loans
        assert {"schedule", "notes"} <= second._stale  # they still show the first case until shown again

        await pilot.press("2")
        await _settle(pilot)
        schedule = second.query_one("#schedule-table", DataTable)
        assert schedule.row_count == len(expected.schedule)
        first_unpaid = next((i for i, r in enumerate(expected.schedule) if r.state != "paid"), 0)
        assert schedule.cursor_row == first_unpaid  # as a new screen opens it, not where the last case left it
        await pilot.press("5")
        await _settle(pilot)
        notes = second.query_one("#notes-list")
        texts = " ".join(shown(n) for n in notes.children)
        for note in expected.notes:
            assert note.text.partition("\n")[0] in texts
        if not expected.notes:
            assert "Geen notities" in texts
        assert not second._stale


async def test_a_read_that_fails_opens_a_screen_that_shows_why(app_for: Callable[..., Any], monkeypatch: Any) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)

        def refused(ctx: Any, case_id: int) -> Any:
            raise IncassoError("Database is busy")

        monkeypatch.setattr(detail_module, "read_case", refused)
        await pilot.press("home", "enter")
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, ClientDetailScreen)  # a screen of its own, reading the case itself
        assert not app.is_screen_installed(INSTALLED_AS)
        assert "Database is busy" in shown(screen.query_one("#client"))


async def test_a_case_read_after_the_list_was_left_is_not_opened(app_for: Callable[..., Any], monkeypatch: Any) -> None:
    app = app_for()
    released: list[int] = []
    gate = threading.Event()
    read = detail_module.read_case

    def slow_read(ctx: Any, case_id: int) -> Any:
        gate.wait(5)
        return read(ctx, case_id)

    monkeypatch.setattr(detail_module, "read_case", slow_read)
    monkeypatch.setattr(detail_module, "SLOW_S", 10.0)
    monkeypatch.setattr(detail_module, "release_case", lambda ctx, case_id: released.append(case_id))
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        worklist = app.screen
        await pilot.press("home", "enter")
        await pilot.pause()
        assert app.screen is worklist  # the list stays, and takes keys, while the case is read
        await app.push_screen(Screen())  # the person went elsewhere before the case was read
        await pilot.pause()
        gate.set()
        await _settle(pilot)
        assert all(not isinstance(s, ClientDetailScreen) for s in app.screen_stack)
        assert worklist in app.screen_stack
        assert released  # the case's "in progress" mark, taken by the read, is given back


async def test_a_slow_read_opens_the_screen_with_its_loading_indicator(
    app_for: Callable[..., Any], monkeypatch: Any
) -> None:
    app = app_for()
    gate = threading.Event()
    read = detail_module.read_case

    def slow_read(ctx: Any, case_id: int) -> Any:
        gate.wait(5)
        return read(ctx, case_id)

    monkeypatch.setattr(detail_module, "SLOW_S", 0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        monkeypatch.setattr(detail_module, "read_case", slow_read)
        await pilot.press("home", "enter")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, ClientDetailScreen) and screen.query_one("#head").loading
        gate.set()
        await _settle(pilot)
        assert app.screen is screen and not screen.query_one("#head").loading
        assert screen.detail is not None and screen.detail.case.id == screen.case_id


async def test_a_reload_of_the_case_left_does_not_land_on_the_next(
    app_for: Callable[..., Any], monkeypatch: Any
) -> None:
    app = app_for()
    gate = threading.Event()
    read = detail_module.read_case
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        screen = await _open_row(pilot, 0)
        left = screen.case_id

        def read_held(ctx: Any, case_id: int) -> Any:
            if case_id == left:  # the reload of the case left answers late
                gate.wait(5)
            return read(ctx, case_id)

        monkeypatch.setattr(detail_module, "read_case", read_held)
        screen.load()  # a reload under way while the person goes back
        await pilot.pause()
        await pilot.press("escape")
        worklist = app.screen
        for _ in range(100):  # the list's own refresh on coming back (it places the cursor) is done first
            await pilot.pause(0.05)
            if not any(w.node is worklist and w.is_running for w in app.workers):
                break
        await pilot.press("down", "down", "enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if app.screen is screen and screen.case_id != left:
                break
        assert app.screen is screen and screen.case_id != left
        gate.set()
        await _settle(pilot)
        assert screen.detail is not None and screen.detail.case.id == screen.case_id != left


async def test_a_read_overtaken_by_the_open_of_another_case_gives_its_mark_back(
    app_for: Callable[..., Any], monkeypatch: Any
) -> None:
    """Enter on one case, then on another before the first is read: the second is shown, and the first case's
    "in progress" mark, which its read took, is given back (colleagues would see it taken until it expired)."""
    app = app_for()
    released: list[int] = []
    gate = threading.Event()
    read = detail_module.read_case
    first_id: list[int] = []

    def read_first_slowly(ctx: Any, case_id: int) -> Any:
        if not first_id:
            first_id.append(case_id)
            gate.wait(5)
        return read(ctx, case_id)

    monkeypatch.setattr(detail_module, "SLOW_S", 10.0)
    monkeypatch.setattr(detail_module, "release_case", lambda ctx, case_id: released.append(case_id))
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        monkeypatch.setattr(detail_module, "read_case", read_first_slowly)
        await pilot.press("home", "enter")
        await pilot.pause()
        await pilot.press("down", "enter")
        for _ in range(50):
            await pilot.pause(0.02)
            if isinstance(app.screen, ClientDetailScreen):
                break
        second = app.screen
        assert isinstance(second, ClientDetailScreen) and second.case_id != first_id[0]
        gate.set()
        await _settle(pilot)
        assert app.screen is second and second.case_id != first_id[0]
        assert released == [first_id[0]]
