"""The desk's terminal driver (issue 18): Escape is reported when its delay is over, not at the next 0.1 s poll."""

from __future__ import annotations

import hashlib
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest

from incasso_tui.ui.driver import IDLE_WAIT_S, input_wait


def test_the_input_thread_waits_no_longer_than_the_escape_deadline() -> None:
    assert input_wait(None, 100.0) == IDLE_WAIT_S  # nothing pending: Textual's own wait
    assert input_wait(100.025, 100.0) == pytest.approx(0.025)  # a lone ESC: until its delay is over
    assert input_wait(99.0, 100.0) == 0.0  # overdue: at once
    assert input_wait(105.0, 100.0) == IDLE_WAIT_S  # never longer than Textual's wait


@pytest.mark.skipif(sys.platform == "win32", reason="LinuxDriver is the POSIX driver")
def test_the_app_runs_on_the_desk_driver(app_for: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from incasso_tui.ui.driver import DeskDriver

    monkeypatch.delenv("TEXTUAL_DRIVER", raising=False)
    assert app_for().get_driver_class() is DeskDriver


@pytest.mark.skipif(sys.platform == "win32", reason="LinuxDriver is the POSIX driver")
def test_the_copied_input_loop_is_textuals_of_the_pinned_release() -> None:
    """DeskDriver.run_input_thread is Textual's loop with one change: a new Textual release must be read again."""
    from textual.drivers.linux_driver import LinuxDriver

    source = inspect.getsource(LinuxDriver.run_input_thread)
    assert hashlib.sha256(source.encode()).hexdigest() == (
        "d796af6d69db337d6fa6bd463984f7d17188d991dbb22f60efb92a8a9619507c"
    ), "Textual's input loop changed: compare it with incasso_tui/ui/driver.py and update both"


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
def test_after_a_lone_escape_the_input_thread_waits_only_for_its_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver's input thread on a pseudo-terminal: once ESC alone has come, it waits for the terminal no longer
    than the escape delay (Textual's loop waited its full 0.1 s), and the Escape key comes out."""
    import pty
    import selectors
    import threading
    import time
    import tty

    from textual import constants, events

    from incasso_tui.ui import driver as driver_module

    monkeypatch.setattr(constants, "ESCAPE_DELAY", 0.02)
    waits: list[float | None] = []

    class Recording(selectors.SelectSelector):
        def select(self, timeout: float | None = None) -> Any:
            waits.append(timeout)
            return super().select(timeout)

    monkeypatch.setattr(driver_module.selectors, "SelectSelector", Recording)
    leader, follower = pty.openpty()
    tty.setraw(follower)  # as the driver sets the terminal: bytes arrive as typed, not per line
    arrived = threading.Event()

    class Probe(driver_module.DeskDriver):
        def __init__(self) -> None:  # only what run_input_thread uses
            self.fileno = follower
            self._debug = False
            self.exit_event = threading.Event()

        def process_message(self, message: Any) -> None:
            if isinstance(message, events.Key) and message.key == "escape":
                arrived.set()

    probe = Probe()
    thread = threading.Thread(target=probe.run_input_thread, daemon=True)
    thread.start()
    try:
        time.sleep(0.15)  # the thread waits in its select
        before = len(waits)
        os.write(leader, b"\x1b")
        assert arrived.wait(5)
        after_escape = waits[before:]
        assert after_escape and all(w == driver_module.IDLE_WAIT_S for w in waits[:before])
        assert any(w is not None and w <= 0.02 for w in after_escape)  # waited for the delay, not for 0.1 s
    finally:
        probe.exit_event.set()
        thread.join(1)
        os.close(leader)
        os.close(follower)
