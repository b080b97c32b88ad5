"""ui.work.service_worker: an answer reaches the node that asked only while that node is still in the app."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from incasso_tui.ui.work import service_worker


class _Asker(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(id="asker")


async def test_an_answer_queued_for_a_node_removed_meanwhile_is_not_handed_to_it() -> None:
    """The answer was already on its way to the UI thread when the node went (a screen the closing app removes,
    children first): its callback would query children that are gone, a traceback. It is dropped."""
    release, queued, removed, handed = (threading.Event() for _ in range(4))
    got: list[object] = []
    app = _Asker()
    async with app.run_test() as pilot:
        asker = app.query_one("#asker", Static)
        real = app.call_from_thread

        def call_from_thread(callback: Callable[[], Any]) -> Any:
            # the worker's thread is past its last cancel check: hold it until the node is gone, then hand over
            queued.set()
            removed.wait(5)
            try:
                return real(callback)
            finally:
                handed.set()

        app.call_from_thread = call_from_thread  # type: ignore[method-assign]

        def call() -> int:
            release.wait(5)
            return 7

        service_worker(asker, call, got.append, got.append, group="t")
        release.set()
        assert await asyncio.to_thread(queued.wait, 5)
        await asker.remove()
        removed.set()
        assert await asyncio.to_thread(handed.wait, 5)
        await pilot.pause()
        assert got == []


async def test_an_answer_for_an_attached_node_is_handed_to_it() -> None:
    got: list[object] = []
    app = _Asker()
    async with app.run_test() as pilot:
        asker = app.query_one("#asker", Static)
        worker = service_worker(asker, lambda: 7, got.append, got.append, group="t")
        await worker.wait()
        await pilot.pause()
        assert got == [7]
