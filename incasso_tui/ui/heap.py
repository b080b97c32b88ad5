"""The cyclic garbage collector of a desk session: out of the way of a key, at work while the person reads.

A Textual screen is a tree of widgets that refer to each other (parent and children, messages, timers): when a
screen is closed, its tree is cyclic garbage that only the cyclic collector frees. Left to itself the collector
ran a full collection on about every opened case, over the ~130k objects made at start-up: 110-280 ms inside the
key's response (issue 18, ``benchmarks/profile_keys.py`` prints the collector's share of each key).

The collector is off while the program starts (``incasso_tui.entry``; an SSH session from the start of its fork,
``ssh.zygote``): importing and building the first screen make ~170,000 objects, which cost 80-130 ms of
collections on the way. After the first paint, what the start made is collected once (its garbage is in the young
generations), what exists (the imported modules, the stylesheet, the first screen) is frozen (``gc.freeze()``:
left out of every later collection), the automatic collector stays off, and a timer
collects once no key or mouse event has come for :data:`IDLE_S` and something was made since the last collection.
With the automatic collector off, everything made since the last collection is in the youngest generation, so a
collection of the young generations (``gc.collect(1)``: a closed screen's tree) is enough most times; every
:data:`FULL_EVERY`-th is a full one (what survived once and died later). A session that is never idle is still
collected: once more than :data:`FORCE_OBJECTS` container objects have been made since the last collection, the
next tick collects regardless.
"""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

TICK_S = 0.25  # how often the timer looks
IDLE_S = 0.5  # no input for this long: a collection cannot delay a key the person is waiting for
FORCE_OBJECTS = 200_000  # made since the last collection: collect at the next tick even without a pause
FULL_EVERY = 10  # every so many collections, a full one


class IdleCollector:
    """Installed on an app by :meth:`start` (after its first paint); :meth:`saw_input` on every key or mouse event."""

    def __init__(self) -> None:
        self.last_input = time.monotonic()
        self.collections = 0

    def start(self, app: App[object]) -> None:
        gc.disable()
        # The collector was off while the program started (incasso_tui.entry, ssh.zygote): what the start made is
        # in the young generations, its garbage with it; found now, before the survivors are frozen
        gc.collect(1)
        gc.freeze()
        app.set_interval(TICK_S, self.tick, name="idle-gc")

    def saw_input(self) -> None:
        self.last_input = time.monotonic()

    def tick(self) -> None:
        made = gc.get_count()[0]  # container objects made (net) since the last collection
        if made >= FORCE_OBJECTS or (made > gc.get_threshold()[0] and time.monotonic() - self.last_input >= IDLE_S):
            self.collections += 1
            gc.collect(2 if self.collections % FULL_EVERY == 0 else 1)

    @staticmethod
    def stop() -> None:
        """The process goes on without the app (tests, the CLI after the TUI): the collector as it was."""
        gc.enable()
        gc.unfreeze()
