"""``incasso audit verify`` and ``incasso audit show --case N``: the tamper-evident trail, for auditors and operators.

- ``verify`` recomputes the hash chain (with the audit key) and holds it against the signed checkpoints; exit 0
  when intact, 1 naming the first event that does not verify and what an auditor should do.
- ``init-key`` makes the audit key (a file outside the database, mode 0600) and seals the trail as it stands with a
  first checkpoint; ``checkpoint`` appends a signed checkpoint (and mails it to ``audit_checkpoint_email``).
- ``show --case N [--json]`` prints the dossier timeline of one case, oldest first.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from incasso_tui.cli import common
from incasso_tui.errors import N_
from incasso_tui.i18n import Translator
from incasso_tui.safetext import safe, safe_json

__all__ = ["register"]


def register(sub: common.Subparsers) -> None:
    audit = sub.add_parser(
        "audit",
        help="the audit trail: verify the hash chain, show a case's timeline",
        description="the audit trail: verify the hash chain, show a case's timeline",
    )
    audit.set_defaults(func=lambda _a: common.usage(audit))
    audit_sub = audit.add_subparsers(title="audit commands", metavar="COMMAND")
    verify = audit_sub.add_parser("verify", help="recompute the hash chain; exit 1 naming the first broken event")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(func=cmd_verify)
    init = audit_sub.add_parser(
        "init-key",
        help="make the audit key (mode 0600, outside the database) and seal the trail with a first checkpoint",
    )
    init.add_argument("--json", action="store_true")
    init.set_defaults(func=cmd_init_key)
    point = audit_sub.add_parser(
        "checkpoint",
        help="append a signed checkpoint of the trail to the checkpoint file (and mail it to audit_checkpoint_email)",
    )
    point.add_argument("--json", action="store_true")
    point.set_defaults(func=cmd_checkpoint)
    show = audit_sub.add_parser("show", help="the timeline of one case, oldest first")
    show.add_argument("--case", type=common.parse_id, required=True, metavar="N", help="the case number")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)


def cmd_init_key(args: argparse.Namespace) -> int:
    from incasso_tui.services.audit_seal import init_key

    settings = common.settings(args)
    tr = Translator(settings.lang)
    with common.database(settings):  # the database must be there before a key is made for it
        pass
    _key, path = init_key(settings)
    _signed, done = common.seal_checkpoint(args, mail=True)
    if args.json:
        common.print_json({"key_file": str(path), **done})
        return 0
    print(
        tr(
            N_("audit key written to {path} (mode 600: keep it outside the database and back it up apart from it)"),
            path=str(path),
        )
    )
    print(tr(N_("checkpoint: event {seq} sealed in {file}"), seq=done["seq"], file=done["file"]))
    return 0


def cmd_checkpoint(args: argparse.Namespace) -> int:
    _signed, done = common.seal_checkpoint(args, mail=True)
    if args.json:
        common.print_json(done)
        return 0
    tr = Translator(common.settings(args).lang)
    print(tr(N_("checkpoint: event {seq} sealed in {file}"), seq=done["seq"], file=done["file"]))
    return 0


ADVICE = N_(
    "Do not repair or change the database: keep a copy of it, of the audit key and of the checkpoint file as "
    "they are now, compare the event with the checkpoints mailed to the auditor and with a backup, and report "
    "it to whoever is responsible for security."
)


def cmd_verify(args: argparse.Namespace) -> int:
    from incasso_tui.services.audit import verify_chain
    from incasso_tui.services.audit_seal import read_checkpoints

    settings = common.settings(args)
    tr = Translator(settings.lang)
    key = common.audit_key(settings)
    with common.database(settings) as db:
        checkpoints = read_checkpoints(db, settings, key) if key is not None else []
        report = verify_chain(db, key, checkpoints)
    latest = report.checkpoint
    result: dict[str, Any] = {
        "intact": report.intact,
        "events": report.events,
        "keyed_events": report.keyed,
        "keyed": key is not None,
        "checkpoint": {"seq": latest.seq, "at": latest.at} if latest else None,
    }
    if not report.intact:
        # sequence numbers are names of events, not quantities: "event 2893", never "event 2,893"
        named = {
            k: str(v) if k in ("seq", "previous", "last") and isinstance(v, int) else v
            for k, v in report.params.items()
        }
        reason = tr(report.reason, **named) if report.reason else ""
        result.update(broken_seq=report.broken_seq, broken_id=report.broken_at, reason=reason)
        where = (
            tr(N_("event {seq} (id {id})"), seq=str(report.broken_seq), id=str(report.broken_at))
            if report.broken_at
            else tr(N_("event {seq}"), seq=str(report.broken_seq))
        )
        message = tr(
            N_("audit trail BROKEN at {where}: {reason} ({count} events before it verify). {advice}"),
            where=where,
            reason=reason,
            count=report.events,
            advice=tr(ADVICE),
        )
        if args.json:
            common.print_json(result)
        print(message, file=sys.stderr)
        return 1
    if key is not None and latest is None:
        message = tr(
            N_(
                "audit trail NOT PROVEN: {count} events verify with the key, but there is no checkpoint of this "
                "database in {file}, so a trail cut short cannot be told apart; write one with 'incasso audit "
                "checkpoint' (and find out why there was none)"
            ),
            count=report.events,
            file=str(settings.audit_checkpoint_file),
        )
        if args.json:
            common.print_json({**result, "intact": False})
        print(message, file=sys.stderr)
        return 1
    if args.json:
        common.print_json(result)
    elif key is None:
        print(
            tr.plural(
                "audit trail intact: {count} event",
                "audit trail intact: {count} events",
                report.events,
                count=report.events,
            )
        )
    else:
        assert latest is not None  # a key without a checkpoint returned above
        print(
            tr(
                N_(
                    "audit trail intact: {count} events, {keyed} of them keyed, checked against the checkpoint of {at} "
                    "(event {seq}; {since} events since)"
                ),
                count=report.events,
                keyed=report.keyed,
                at=latest.at,
                seq=latest.seq,
                since=report.since_checkpoint,
            )
        )
    if key is None:
        print(
            tr(
                N_(
                    "warning: the trail is not keyed, so it proves nothing against whoever can write the database; make "
                    "a key with 'incasso audit init-key'"
                )
            ),
            file=sys.stderr,
        )
    return 0


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

    with common.database(common.settings(args)) as db:
        events = case_timeline(db, args.case)
    if args.json:
        print(
            safe_json(
                [
                    {
                        "id": e.id,
                        "at": e.at.isoformat(),
                        "actor": e.actor,
                        "action": e.action,
                        "entity": e.entity,
                        "entity_id": e.entity_id,
                        "before": e.before,
                        "after": e.after,
                    }
                    for e in events
                ]
            )
        )
        return 0
    for e in events:
        # data from the database is printed as text: control and bidi characters made visible (safetext)
        print(f"{e.at:%Y-%m-%d %H:%M}  {safe(e.actor):<16} {safe(e.action):<24} {safe(_change(e.before, e.after))}")
    return 0
