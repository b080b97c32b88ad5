"""``incasso procedure run``: the daily arrears procedure.

- ``incasso procedure run [--date D] [--dry-run] [--json]``: the daily arrears procedure as of D (default
  today). A progress bar on standard error when it is a terminal; a per-action summary, or with ``--json``
  ``{"date": "...", "dry_run": ..., "actions": {"<kind>": n, ...}, "held": {...}, "run_id": ..., ...}``.
  With ``--user NAME`` the run acts as that registered user (supervisor or admin); without it, as the operator
  ``cli:<os user>`` with the admin role: whoever can reach the database URL can change anything in it anyway
  (the same reasoning as ``incasso users``), and the audit trail names the OS user.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from incasso_tui.cli import common
from incasso_tui.domain.enums import Role
from incasso_tui.i18n import Translator
from incasso_tui.safetext import safe

__all__ = ["register"]


def register(sub: common.Subparsers) -> None:
    proc = sub.add_parser("procedure", help="the daily arrears procedure", description="the daily arrears procedure")
    proc.set_defaults(func=lambda _a: common.usage(proc))
    proc_sub = proc.add_subparsers(title="procedure commands", metavar="COMMAND")
    run = proc_sub.add_parser(
        "run",
        help="run the procedure as of --date (default today)",
        description="Open, move and close cases; decide letters, tasks, BKR mutations and "
        "postings. A second run for the same date does nothing.",
    )
    run.add_argument("--dry-run", action="store_true", help="report what a run would do; write nothing")
    run.add_argument("--json", action="store_true", help="print the counts as JSON")
    run.set_defaults(func=cmd_procedure_run)


def cmd_procedure_run(args: argparse.Namespace) -> int:
    """The daily run, then the letters it decided rendered (when the sender's details are configured).

    Exit 1 when a letter failed to render: the run itself is committed (and safe to repeat); the failed letters
    are listed and stay in the database with their error.
    """
    from incasso_tui.services.procedure import run_procedure

    settings = common.settings(args)
    with common.database(settings) as db:
        ctx = common.context(args, db, operator_role=Role.ADMIN)
        with common.progress(steps=True) as progress:
            report = run_procedure(ctx, ctx.clock.today(), dry_run=args.dry_run, progress=progress)
        letters = None if report.dry_run else _render_letters(ctx)
    checkpoint = (
        None if report.dry_run else common.checkpoint_after_run(args)
    )  # a signed checkpoint outside the database
    failed = bool(letters and letters["failed"])
    if args.json:
        print(json.dumps({**report.as_json(), "letters": letters, "audit_checkpoint": checkpoint}))
        return 1 if failed else 0
    title = "dry run" if report.dry_run else f"run {report.run_id}"
    print(f"procedure {title} for {report.day.isoformat()} ({report.seconds:.1f} s)")
    for kind, n in report.actions.items():
        print(f"  {kind:<28} {n:>8}")
    for reason, n in sorted(report.held.items()):
        print(f"  held: {reason:<22} {n:>8}")
    for what in sorted(report.unverified):
        print(f"  used unverified: {what}")
    if letters is not None:
        print(
            f"letters: {letters['rendered']} rendered, {letters['emails_queued']} e-mails queued, "
            f"{letters['not_sent']} not sent (channel not configured), {letters['failed']} failed, "
            f"{letters['waiting']} waiting"
        )
        for failure in letters["failures"]:
            print(f"  letter {failure['letter']} ({failure['kind']}): {safe(failure['error'])}", file=sys.stderr)
        if letters["waiting"] and letters["why_waiting"]:
            print(f"incasso: {letters['why_waiting']}", file=sys.stderr)
    if checkpoint is not None:
        print(
            f"audit checkpoint: event {checkpoint['seq']} in {checkpoint['file']}"
            + (f", mailed to {checkpoint['mailed_to']}" if checkpoint["mailed_to"] else "")
        )
    return 1 if failed else 0


def _render_letters(ctx) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Render the pending letters; when the lender's details are missing, say how many wait and why."""
    from incasso_tui.errors import ConfigError
    from incasso_tui.services.letters import pending_count, render_pending

    tr = Translator(ctx.settings.lang)
    why_waiting = None
    try:
        result = render_pending(ctx)
        rendered, queued, not_sent = result.rendered, result.emails_queued, result.not_sent
        failures = [{"letter": f.letter_id, "kind": f.kind, "error": f.error} for f in result.failures]
    except ConfigError as err:  # no sender configured: the letters stay pending, nothing is half done
        rendered = queued = not_sent = 0
        failures = []
        why_waiting = tr.error(err)
    return {
        "rendered": rendered,
        "emails_queued": queued,
        "not_sent": not_sent,
        "failed": len(failures),
        "failures": failures,
        "waiting": pending_count(ctx),
        "why_waiting": why_waiting,
    }
