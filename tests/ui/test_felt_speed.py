"""What keeps a key fast (issue 18): the footer switches its keys in place, a detail tab is made when first shown,
screens are not restyled twice, and the cyclic collector runs when the person pauses."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Callable
from typing import Any

from textual.widgets import TabPane
from textual.widgets._footer import FooterKey

from incasso_tui.ui.heap import IDLE_S, IdleCollector
from incasso_tui.ui.screens.detail import ClientDetailScreen
from incasso_tui.ui.widgets.footer import DeskFooter
from tests.ui.test_detail import first_case, open_detail


async def _settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_the_footer_dims_and_lights_its_keys_in_place(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = await open_detail(pilot, first_case(app))
        footer = screen.query_one(DeskFooter)
        keys = list(footer.query(FooterKey))
        contact = next(k for k in keys if k.action == "contact")
        assert not contact.has_class("-disabled") and all(k.has_class("-compact") for k in keys)
        read, screen.detail = screen.detail, None  # as while the case is being read: the writing keys dim
        screen.refresh_bindings()
        await _settle(pilot)
        assert list(footer.query(FooterKey)) == keys  # the same widgets, not a new footer
        assert contact.has_class("-disabled") and contact._disabled
        screen.detail = read
        screen.refresh_bindings()
        await _settle(pilot)
        assert list(footer.query(FooterKey)) == keys
        assert not contact.has_class("-disabled") and not contact._disabled


async def test_a_burst_of_bindings_changes_composes_the_footer_keys_once(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        footer = app.screen.query_one(DeskFooter)
        search = next(k for k in footer.query(FooterKey) if k.action == "search")
        looked = footer.shown
        for _ in range(4):  # as a screen's start does: several changes before the next refresh
            app.screen.refresh_bindings()
        await _settle(pilot)
        assert footer.shown == looked + 1
        assert list(footer.query(FooterKey))[0] is not None and search in footer.query(FooterKey)
        app.screen.refresh_bindings()  # a later change is still looked at
        await _settle(pilot)
        assert footer.shown == looked + 2


async def test_a_detail_tab_is_made_when_first_shown(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = await open_detail(pilot, first_case(app))
        assert screen.query_one("#loans", TabPane).children
        assert not screen.query_one("#timeline", TabPane).children
        await pilot.press("7")
        await _settle(pilot)
        assert screen.query_one("#timeline-table").row_count == len(screen.detail.timeline)  # type: ignore[attr-defined, union-attr]


async def test_a_narrow_screen_has_its_class_before_its_first_resize(app_for: Callable[..., Any]) -> None:
    for size, shown, other in (((80, 24), "-narrow", "-wide"), ((130, 40), "-wide", "-narrow")):
        app = app_for()
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            with app._context():  # as in a key's handler: made while the app runs, not yet mounted
                made = ClientDetailScreen(first_case(app))
            assert made.has_class(shown) and not made.has_class(other)


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_collector_waits_for_a_pause_and_collects_then() -> None:
    collector = IdleCollector()
    enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        garbage = _Cycle()
        gone = weakref.ref(garbage)
        del garbage
        for _ in range(2000):  # enough new objects for a collection to be due
            _Cycle()
        collector.saw_input()
        collector.tick()
        assert gone() is not None  # a key came just now: no collection inside its response
        collector.last_input = time.monotonic() - IDLE_S - 0.1
        collector.tick()
        assert gone() is None and collector.collections == 1
    finally:
        if enabled:
            gc.enable()


async def test_the_app_switches_the_collector_off_while_it_runs_and_back_on(app_for: Callable[..., Any]) -> None:
    assert gc.isenabled()
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert not gc.isenabled() and gc.get_freeze_count() > 0
    assert gc.isenabled() and gc.get_freeze_count() == 0


async def test_a_list_screen_is_first_painted_with_its_rows_their_keys_and_its_scrollbar(
    app_for: Callable[..., Any],
) -> None:
    """The inbox (a RowsScreen): the rows come before its first paint, and with them the keys the highlighted row
    enables and the table's scrollable size; after the first paint nothing is composed or laid out again."""
    from incasso_tui.services.tasks import CallTaskInput, create_call_task
    from incasso_tui.ui.screens.inbox import InboxScreen
    from incasso_tui.ui.widgets.table import Table
    from tests.ui.test_deskday import TODAY

    app = app_for("bakker")
    with app.ctx.db.reader() as s:
        from sqlalchemy import text

        cases = list(s.scalars(text("SELECT id FROM cases WHERE status = 'active' ORDER BY id LIMIT 30")))
    for case_id in cases:
        create_call_task(app.ctx, case_id, CallTaskInput(TODAY, "Bellen"))
    painted: list[tuple[int, int, list[FooterKey]]] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        screen = InboxScreen()
        real = screen._compositor_refresh

        def refresh() -> None:  # the state of every paint of the screen
            table = screen.query_one(Table)
            footer = screen.query_one(DeskFooter)
            painted.append((table.row_count, table.virtual_size.height, list(footer.query(FooterKey))))
            real()

        screen._compositor_refresh = refresh  # type: ignore[method-assign]
        await app.push_screen(screen)
        await _settle(pilot)
        assert painted, "the inbox was never painted"
        rows, height, keys = painted[0]
        assert rows == screen.query_one(Table).row_count >= 30
        assert height == rows + 1  # the rows and the header: the scrollbar is right in the first paint
        actions = [k.action for k in keys]
        assert "done" in actions and "move" in actions  # enabled by the highlighted task, in the first paint
        assert list(screen.query_one(DeskFooter).query(FooterKey)) == keys  # not mounted again after it
        assert all(p == painted[0] for p in painted)


async def test_the_start_screen_is_styled_once_its_stylesheet_read_with_the_apps(
    app_for: Callable[..., Any], monkeypatch: Any
) -> None:
    """The worklist's stylesheet is read with the app's (``IncassoApp._start_screens_css``), so its first resume
    does not restyle the screen's tree again, and the list gets the focus without the search box getting it
    first (each a restyle)."""
    from textual.dom import DOMNode

    from incasso_tui.ui.screens.worklist import WorklistScreen

    restyled: list[str] = []
    real = DOMNode.update_node_styles

    def spy(self: DOMNode, animate: bool = True) -> None:
        restyled.append(type(self).__name__)
        real(self, animate)

    monkeypatch.setattr(DOMNode, "update_node_styles", spy)
    app = app_for()
    assert str(WorklistScreen.CSS_PATH) in [str(path) for path in app.css_path]
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert isinstance(app.screen, WorklistScreen) and app.focused is app.screen.table
        assert "WorklistScreen" not in restyled and "Input" not in restyled, restyled
