"""The terminal driver of a desk session: Textual's LinuxDriver, with Escape delivered when its delay is over.

After a lone ESC byte Textual's input parser waits ``ESCDELAY`` (25 ms in our sessions) for the rest of a possible
escape sequence, and only then reports the Escape key. But its input thread looks at that deadline only after each
``select`` on the terminal, which waits up to 0.1 s for input: with nothing typed after the Escape, the key came
0.1 s late, whatever ``ESCDELAY`` said (issue 18: most of every "back" and every cancelled form, measured in tmux at
120-160 ms with ``ESCDELAY=1``). :meth:`DeskDriver.run_input_thread` is Textual 8.2.8's own loop (textual is pinned
exactly) with one change: ``select`` waits no longer than until the parser's deadline.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

IDLE_WAIT_S = 0.1  # Textual's own wait for input when the parser has no deadline


def input_wait(deadline: float | None, now: float) -> float:
    """How long the input thread may wait for the terminal: Textual's 0.1 s, or less when the parser must give up
    waiting for the rest of an escape sequence sooner (its ``_timeout_time``)."""
    if deadline is None:
        return IDLE_WAIT_S
    return max(0.0, min(IDLE_WAIT_S, deadline - now))


class DeskDriver(LinuxDriver):
    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (textual.drivers.linux_driver, with :func:`input_wait`)."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)

        fileno = self.fileno
        EVENT_READ = selectors.EVENT_READ

        parser = XTermParser(self._debug)
        feed = parser.feed
        tick = parser.tick

        utf8_decoder = getincrementaldecoder("utf-8")().decode
        decode = utf8_decoder
        read = os.read

        def process_selector_events(
            selector_events: list[tuple[selectors.SelectorKey, int]],
            final: bool = False,
        ) -> None:
            for last, (_selector_key, mask) in loop_last(selector_events):
                if mask & EVENT_READ:
                    unicode_data = decode(read(fileno, 1024 * 4), final=final and last)
                    if not unicode_data:
                        # This can occur if the stdin is piped
                        break
                    for event in feed(unicode_data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process_selector_events(selector.select(input_wait(parser._timeout_time, get_time())))
            selector.unregister(self.fileno)
            process_selector_events(selector.select(IDLE_WAIT_S), final=True)

        finally:
            selector.close()
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):
                pass
