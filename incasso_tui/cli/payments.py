"""``incasso payments import`` and ``incasso payments monitor`` (issue 4, services.payments).

- ``incasso payments import FILE... [--json]``: each file in its own transaction, booked whole or not at all. Prints
  per file ``{"entries": n, "new": n, "duplicates": n, "matched": n, "unmatched": n}`` (with ``--json`` one JSON
  object per line). A bad file prints one line naming the element or line and books nothing; the exit code is then
  2 (the other files are still imported, each whole).
- ``incasso payments monitor [--date D]``: check promises and arrangements against the payments (grace days:
  setting ``payment_grace_days``).

Both act as ``--user`` (default: the OS user), who must be a registered employee or supervisor (admin: monitor).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from incasso_tui.cli import common
from incasso_tui.errors import BadInput
from incasso_tui.i18n import Translator
from incasso_tui.safetext import safe

__all__ = ["register"]


def register(sub: common.Subparsers) -> None:
    help_ = "incoming payments: import bank statements, monitor promises and arrangements"
    parent = sub.add_parser("payments", help=help_, description=help_)
    parent.set_defaults(func=lambda _a: common.usage(parent))
    commands = parent.add_subparsers(title="payments commands", metavar="COMMAND")
    imp = commands.add_parser("import", help="import CAMT.053/054 or MT940 statement files (one transaction per file)")
    imp.add_argument("files", nargs="+", metavar="FILE", type=Path)
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(func=cmd_import)
    mon = commands.add_parser("monitor", help="mark promises and arrangement installments kept or broken")
    mon.add_argument("--json", action="store_true")
    mon.set_defaults(func=cmd_monitor)


def cmd_import(args: argparse.Namespace) -> int:
    from incasso_tui.services.payments import import_statement

    tr = Translator(args.lang)
    failed = 0
    with common.database(common.settings(args)) as db, _collector_paused():
        ctx = common.context(args, db)
        for number, path in enumerate(args.files):
            if number:
                gc.collect()  # what the previous file left
            try:
                report = import_statement(ctx, path)
            except BadInput as err:  # a refused file: say which, book nothing, go on with the next
                failed += 1
                print(f"incasso: {safe(path)}: {safe(tr.error(err))}", file=sys.stderr)
                continue
            if args.json:
                print(json.dumps(report.counts()))
            else:
                c = report.counts()
                print(
                    f"{safe(path)}: entries {c['entries']}, new {c['new']}, duplicates {c['duplicates']}, "
                    f"matched {c['matched']}, unmatched {c['unmatched']}, reversals {report.reversals}, "
                    f"recoveries {report.recoveries}"
                )
    return 2 if failed else 0


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while files are imported (``cmd_import`` collects between files).

    Booking a statement keeps its entries, matches and postings alive until the file is committed (some 450,000
    objects for 100,000 entries) and makes many short-lived ones; the collector would walk the long-lived ones again
    and again, about a tenth of the import's time (``benchmarks/RESULTS.md``). Nothing else runs in this process.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def cmd_monitor(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from incasso_tui.services.payments import monitor

    with common.database(common.settings(args)) as db:
        report = monitor(common.context(args, db))
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in asdict(report).items()))
    return 0
