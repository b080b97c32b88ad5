"""``incasso audit verify`` and ``incasso audit show --case N``: the tamper-evident trail, for auditors and operators.

- ``verify`` recomputes the hash chain; exit 0 when intact, 1 naming the first broken event otherwise.
- ``show --case N [--json]`` prints the dossier timeline of one case, oldest first.
"""

from __future__ import annotations

import argparse
import sys

from incasso_tui import cli
from incasso_tui.errors import N_
from incasso_tui.i18n import Translator
from incasso_tui.safetext import safe, safe_json

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = sub.add_parser("audit", help="the audit trail: verify the hash chain, show a case's timeline",
                           description="the audit trail: verify the hash chain, show a case's timeline")
    audit.set_defaults(func=lambda _a: cli._usage(audit))
    audit_sub = audit.add_subparsers(title="audit commands", metavar="COMMAND")
    verify = audit_sub.add_parser("verify", help="recompute the hash chain; exit 1 naming the first broken event")
    cli._common(verify, top=False)
    verify.set_defaults(func=cmd_verify)
    show = audit_sub.add_parser("show", help="the timeline of one case, oldest first")
    cli._common(show, top=False)
    show.add_argument("--case", type=int, required=True, metavar="N", help="the case number")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)


def cmd_verify(args: argparse.Namespace) -> int:
    from incasso_tui.services.audit import verify_chain

    settings = cli._settings(args)
    tr = Translator(settings.lang)
    with cli._database(settings) as db:
        report = verify_chain(db)
    if report.intact:
        print(tr(N_("audit trail intact: {count} events"), count=report.events))
        return 0
    reason = tr(report.reason) if report.reason else "?"
    print(tr(N_("audit trail BROKEN at event {event}: {reason} ({count} events before it are intact)"),
             event=report.broken_at, reason=reason, count=report.events), file=sys.stderr)
    return 1


def _change(before: dict[str, object] | None, after: dict[str, object] | None) -> str:
    before, after = before or {}, after or {}
    parts = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if key not in before:
            parts.append(f"{key}={new}")
        elif key not in after:
            parts.append(f"{key}: {old} ->")
        elif old != new:
            parts.append(f"{key}: {old} -> {new}")
    return "; ".join(parts)


def cmd_show(args: argparse.Namespace) -> int:
    from incasso_tui.services.audit import case_timeline

    with cli._database(cli._settings(args)) as db:
        events = case_timeline(db, args.case)
    if args.json:
        print(safe_json([{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "entity": e.entity,
                           "entity_id": e.entity_id, "before": e.before, "after": e.after} for e in events]))
        return 0
    for e in events:
        # data from the database is printed as text: control and bidi characters made visible (safetext)
        print(f"{e.at:%Y-%m-%d %H:%M}  {safe(e.actor):<16} {safe(e.action):<24} {safe(_change(e.before, e.after))}")
    return 0
