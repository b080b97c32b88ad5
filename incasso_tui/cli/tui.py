"""``incasso`` / ``incasso tui``, ``incasso demo`` and ``incasso generate``: the TUI, on the desk's book or on the demo
book that the generator makes.

- ``incasso [tui]``: the TUI as ``--user`` (default: the OS account's own desk user); it needs a terminal.
- ``incasso demo [--reset]``: the TUI as the demo employee on the demo database (made if missing, migrated if old).
- ``incasso generate --loans N [--seed S]``: a deterministic loan book (demo and benchmark data), a JSON summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
import time
from collections.abc import Callable, MutableMapping
from concurrent.futures import Future
from datetime import date
from functools import partial
from typing import TypeVar

from incasso_tui.cli import common
from incasso_tui.clock import Clock
from incasso_tui.config import Settings, database_url, demo_db_url
from incasso_tui.errors import N_, BadInput
from incasso_tui.i18n import Translator
from incasso_tui.ssh.session_env import ESCDELAY_MS

T = TypeVar("T")

__all__ = ["DEMO_LENDER", "DEMO_LOANS", "DEMO_USER", "register", "require_terminal", "run_tui"]

DEMO_USER = "demo"
DEMO_LOANS = 2400  # about 2,000 clients
# The sender printed on demo letters: plainly a demo (example.nl, the IBAN of the Dutch IBAN example). A real
# desk sets its own lender_* settings; outside the demo, letters are refused until it has.
DEMO_LENDER = {
    "lender_name": "Demo Kredietverlener B.V.",
    "lender_street": "Voorbeeldstraat 1",
    "lender_postcode": "1234 AB",
    "lender_city": "Voorbeeldstad",
    "lender_iban": "NL91ABNA0417164300",
    "lender_phone": "010 000 00 00",
    "lender_email": "incasso@example.nl",
}


def register(sub: common.Subparsers) -> None:
    def add(name: str, help_: str, func: object) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    add("tui", "open the TUI (the default)", cmd_tui)
    demo = add("demo", "open the TUI as the demo employee on the demo database (made if missing)", cmd_demo)
    demo.add_argument("--reset", action="store_true", help="throw the demo database away and make it anew")

    gen = add("generate", "create a deterministic loan book (demo and benchmark data)", cmd_generate)
    gen.add_argument("--loans", type=int, required=True, help="number of loans")
    gen.add_argument("--seed", type=int, default=1)


def run_tui(settings: Settings, user: str | None, clock: Clock, db_url: str, *, demo: bool = False) -> int:
    """The TUI as ``user`` (None: the OS account's own desk user), bound to the OS account; on the demo book
    (``demo``) as whichever demo user is asked for."""
    from dataclasses import replace

    from incasso_tui.services.context import Context
    from incasso_tui.services.users import resolve_actor
    from incasso_tui.services.worklist import WorklistFilter, open_worklist
    from incasso_tui.store.db import Database
    from incasso_tui.ui.paging import PAGE_SIZE

    db = Database(db_url, audit_key=common.audit_key(settings))
    try:
        db.check_schema()
        if demo:
            actor = replace(resolve_actor(db, user or DEMO_USER), identified_by="demo")
        else:
            actor = common.identify(db, user)
        require_terminal()  # after the database and the user: a mistake there is said first
        ctx = Context(db=db, actor=actor, clock=clock, settings=settings)
        # the worklist's first page, fetched while Textual is imported and the app starts (issue 18): SQLite counts
        # and reads without the GIL, on the other core; the worklist screen shows it, or its error, as its own load
        opening = _in_background(partial(open_worklist, ctx, WorklistFilter(), PAGE_SIZE))
        terminal_defaults(os.environ)  # Textual reads them when imported
        from incasso_tui.ui.app import IncassoApp

        app = IncassoApp(ctx, Translator(settings.lang), worklist=opening)
        app.run()
    finally:
        db.dispose()
    return app.return_code or 0  # 1 when the app ended on an unhandled error: a crash is never a success


def terminal_defaults(environ: MutableMapping[str, str]) -> None:
    """What the TUI on a local terminal runs with unless the person set otherwise (issue 18), as SSH sessions do
    (``ssh/session_env.py``):

    - no animations (``TEXTUAL_ANIMATIONS=none``; ``full`` brings them back): the tab underline's 0.3 s slide held
      every tab key at 0.4-0.5 s;
    - ``ESCDELAY`` 25 ms: Escape counts as the Escape key that long after a lone ESC, not after Textual's default
      100 ms, which was most of every "back"; a terminal sends an escape sequence in one write.
    """
    environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    environ.setdefault("ESCDELAY", str(ESCDELAY_MS))


def _in_background(call: Callable[[], T]) -> Future[T]:
    """``call()`` in a daemon thread of its own (a query still running when the app ends does not hold the exit);
    its result or its exception in the future."""
    future: Future[T] = Future()

    def run() -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(call())
            except BaseException as exc:  # noqa: BLE001  # handed to whoever waits on it, as a worker's would be
                future.set_exception(exc)

    threading.Thread(target=run, name="incasso-first-page", daemon=True).start()
    return future


def require_terminal() -> None:
    """The TUI draws on a terminal and reads keys from it: without one (a pipe, cron, ssh without -t) it would wait
    forever, so it refuses at once."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BadInput(
            N_(
                "The TUI needs a terminal (standard input and output are not one); the other commands "
                "work without: see 'incasso --help'"
            )
        )


def cmd_tui(args: argparse.Namespace) -> int:
    settings = common.settings(args)
    return run_tui(settings, getattr(args, "user", None), common.clock(args), settings.db_url)


def cmd_demo(args: argparse.Namespace) -> int:
    from incasso_tui.store.db import sqlite_path

    settings = common.settings(args)
    if settings.lender_name is None:
        settings = settings.model_copy(update=DEMO_LENDER)
    url = database_url(getattr(args, "db", None) or demo_db_url())
    path = sqlite_path(url)
    if path is not None and args.reset and path.exists():
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    if path is None or not path.exists():
        clock = common.clock(args)
        print(f"incasso: demo database {url} ...", file=sys.stderr)
        _generate(url, DEMO_LOANS, 1, clock.today(), common.audit_key(settings))
    else:
        _upgrade_demo(url)
    # the demo book is the app's own playground (its default file): any demo user; another database: bound as always
    own_book = getattr(args, "db", None) is None
    return run_tui(
        settings,
        getattr(args, "user", None) or (DEMO_USER if own_book else None),
        common.clock(args),
        url,
        demo=own_book,
    )


def _upgrade_demo(url: str) -> None:
    """The demo book is the app's own: a newer version of the app migrates it rather than refusing it."""
    from incasso_tui.store.db import Database

    db = Database(url)
    try:
        db.upgrade()
    finally:
        db.dispose()


def _generate(url: str, loans: int, seed: int, as_of: date, key: bytes | None = None) -> dict[str, object]:
    from incasso_tui.demo.generate import generate
    from incasso_tui.store.db import Database

    if loans < 1:
        raise BadInput(N_("The number of loans must be at least 1"))
    db = Database(url, create=True, audit_key=key)
    try:
        db.upgrade()
        with common.progress() as progress:
            report = generate(db, loans=loans, seed=seed, as_of=as_of, progress=progress)
    finally:
        db.dispose()
    return dataclasses.asdict(report)


def cmd_generate(args: argparse.Namespace) -> int:
    settings = common.settings(args)
    started = time.perf_counter()
    report = _generate(settings.db_url, args.loans, args.seed, common.clock(args).today(), common.audit_key(settings))
    print(json.dumps({**report, "seconds": round(time.perf_counter() - started, 1)}, default=str))
    return 0
