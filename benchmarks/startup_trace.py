"""Where the start-up goes: marks from process start to the painted worklist, printed when the app has painted.

    tmux new-session -d -x 80 -y 24 "python -m benchmarks.startup_trace --db sqlite:///BOOK --user demo --date 2026-11-23"
    sleep 5; cat /tmp/incasso-startup-marks.txt

Runs the real ``incasso`` entry point with a few functions wrapped to note the time (imports of the command
module and Textual, database opened and checked, the user resolved, the app mounted, the first page back from
its worker, the screen painted), then quits. The marks go to ``--marks`` (default /tmp/incasso-startup-marks.txt)
because the terminal belongs to the app. Interpreter start-up (about 20-40 ms) comes before the first mark.
Textual and the app are imported here before the command runs (to wrap them), so the worklist's first page, which
``incasso`` fetches while Textual is imported (cli.tui.run_tui), overlaps less here than in ``benchmarks.startup``.
"""

from __future__ import annotations

import sys
import time

T0 = time.perf_counter()
MARKS: list[tuple[str, float]] = []


def mark(name: str) -> None:
    MARKS.append((name, time.perf_counter() - T0))


def main(argv: list[str]) -> int:
    out = "/tmp/incasso-startup-marks.txt"
    if "--marks" in argv:
        at = argv.index("--marks")
        out = argv[at + 1]
        del argv[at : at + 2]
    import gc

    gc.disable()  # as the incasso command starts (incasso_tui.entry)
    import incasso_tui.cli as cli

    mark("incasso_tui.cli imported (settings, SQLAlchemy core)")
    from incasso_tui.services import users
    from incasso_tui.store import db as store_db

    mark("store.db and the ORM models imported")
    check_schema = store_db.Database.check_schema

    def checked(self: store_db.Database) -> None:
        check_schema(self)
        mark("database opened, schema checked")

    store_db.Database.check_schema = checked  # type: ignore[method-assign]
    resolve = users.resolve_actor

    def resolved(*args: object, **kwargs: object) -> object:
        actor = resolve(*args, **kwargs)  # type: ignore[arg-type]
        mark("user resolved")
        return actor

    users.resolve_actor = resolved  # type: ignore[assignment]
    import textual.app  # noqa: F401

    mark("textual imported")
    from incasso_tui.ui import app as ui_app
    from incasso_tui.ui.screens import worklist

    mark("app and worklist screen imported")
    on_mount = ui_app.IncassoApp.on_mount

    def mounted(self: ui_app.IncassoApp) -> None:
        mark("app mounted")
        on_mount(self)

    ui_app.IncassoApp.on_mount = mounted  # type: ignore[method-assign]
    reset = worklist.WorklistScreen._reset

    def shown(self: worklist.WorklistScreen, *args: object) -> None:
        mark("first page shown (fetched while the app started, or by the screen's worker)")
        reset(self, *args)  # type: ignore[arg-type]
        self.call_after_refresh(lambda: (mark("worklist painted"), self.app.exit()))

    worklist.WorklistScreen._reset = shown  # type: ignore[method-assign]
    try:
        return cli.main(argv)
    finally:
        with open(out, "w") as f:
            f.write("\n".join(f"{t * 1000:7.0f} ms  {name}" for name, t in MARKS) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
