"""Where the time of one key goes: the app headless (Textual's pilot, 80x24), one key profiled with pyinstrument.

    python -m benchmarks.profile_keys --db sqlite:////path/book.db [--user bakker] [--date 2026-11-23]
                                      [--setup enter] --key 2 [--runs 5] [--html out.html]

The app runs in this process (no terminal); ``--setup`` keys are pressed first (untimed) and waited on, then
``--key`` is pressed ``--runs`` times (each followed by ``--back``), each press timed until the app has no running
worker and nothing left to refresh ("settled"), and the last press profiled. Prints the times and the profile's
text. Headless times leave out the terminal's own drawing, so they are a lower bound of ``benchmarks.keys``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import sys
import time
from datetime import datetime


async def _settled(app) -> None:  # type: ignore[no-untyped-def]
    from textual.worker import WorkerState

    while True:
        await app.workers.wait_for_complete()
        await asyncio.sleep(0)
        pending = [w for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if not pending:
            break
    await app.animator.wait_until_complete()
    await asyncio.sleep(0.005)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--user", default="bakker")
    parser.add_argument("--date", default="2026-11-23")
    parser.add_argument("--setup", default="", help="comma-separated keys pressed first")
    parser.add_argument("--key", required=True)
    parser.add_argument("--back", default="escape")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--html", default="")
    parser.add_argument("--cprofile", default="", help="write a cProfile of the main thread here instead")
    args = parser.parse_args(argv)

    from pyinstrument import Profiler

    from incasso_tui.clock import FixedClock
    from incasso_tui.config import load_settings
    from incasso_tui.i18n import Translator
    from incasso_tui.services.context import Context
    from incasso_tui.services.users import resolve_actor
    from incasso_tui.store.db import Database
    from incasso_tui.ui.app import IncassoApp

    settings = load_settings(db_url=args.db, lang="nl")
    db = Database(args.db)
    actor = resolve_actor(db, args.user)
    app = IncassoApp(
        Context(db=db, actor=actor, clock=FixedClock(datetime.fromisoformat(args.date + "T09:00")), settings=settings),
        Translator("nl"),
    )
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    times: list[float] = []
    gc_times: list[float] = []  # the cyclic collector's pauses within each press (gc.callbacks)
    gc_pause = [0.0, 0.0]  # [started, total of this press]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_pause[0] = time.perf_counter()
        else:
            gc_pause[1] += time.perf_counter() - gc_pause[0]

    gc.callbacks.append(on_gc)
    cprof = cProfile.Profile() if args.cprofile else None

    async def drive() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await _settled(app)
            for key in filter(None, args.setup.split(",")):
                await pilot.press(key)
                await _settled(app)
            for run in range(args.runs):
                last = run == args.runs - 1
                if last:
                    cprof.enable() if cprof else profiler.start()
                gc_pause[1] = 0.0
                t0 = time.perf_counter()
                await pilot.press(args.key)
                await _settled(app)
                await pilot.pause()
                times.append(time.perf_counter() - t0)
                gc_times.append(gc_pause[1])
                if last:
                    cprof.disable() if cprof else profiler.stop()
                if args.back:
                    await pilot.press(args.back)
                    await _settled(app)

    asyncio.run(drive())
    db.dispose()
    print("ms:", " ".join(f"{t * 1000:.0f}" for t in times), file=sys.stderr)
    print("of which gc ms:", " ".join(f"{t * 1000:.0f}" for t in gc_times), file=sys.stderr)
    if cprof:
        cprof.dump_stats(args.cprofile)
        pstats.Stats(args.cprofile).sort_stats("cumtime").print_stats(60)
        return 0
    print(profiler.output_text(unicode=True, color=False, show_all=True))
    if args.html:
        with open(args.html, "w") as out:
            out.write(profiler.output_html())
    return 0


if __name__ == "__main__":
    sys.exit(main())
