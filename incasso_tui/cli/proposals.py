"""``incasso proposals ...``: the proposals that wait for Risk (deferral, call-in, write-off, an arrangement beyond the
desk limits) and the four-eyes decision on them, beside the approvals screen (``v`` on the worklist; services.proposals).

- ``proposals list [--status submitted|approved|rejected|withdrawn|all] [--case N] [--json]``: the queue (submitted,
  oldest first), or a case's proposals of every status (newest first); ``--json`` gives each with its ``version``,
  its payload and the BKR code approving it would register.
- ``proposals approve ID --version V [--reason TEXT]``, ``proposals reject ID --version V --reason TEXT``: decide one,
  as ``--user`` (a supervisor who did not propose it: four eyes). ``--version`` is the version the decider read
  (``list``); a proposal changed since is refused, as on the screen, so nobody decides on what they did not see.
"""

from __future__ import annotations

import argparse
from typing import Any

from incasso_tui.cli import common
from incasso_tui.errors import N_
from incasso_tui.i18n import Translator
from incasso_tui.safetext import safe
from incasso_tui.ui.labels import PROPOSAL_KIND, PROPOSAL_STATUS

__all__ = ["register"]

STATUSES = ("submitted", "approved", "rejected", "withdrawn")


def _version(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= common.MAX_ID:
        raise argparse.ArgumentTypeError(f"not a version (proposals list shows it): {value[:40]}")
    return int(value)


def register(sub: common.Subparsers) -> None:
    help_ = "proposals waiting for Risk and their four-eyes decision"
    proposals = sub.add_parser("proposals", help=help_, description=help_)
    proposals.set_defaults(func=lambda _a: common.usage(proposals))
    p = proposals.add_subparsers(title="proposals commands", metavar="COMMAND")
    ls = p.add_parser(
        "list",
        help="the queue (submitted, oldest first), or a case's proposals",
        description="the queue (submitted, oldest first), or a case's proposals of every status (newest first)",
    )
    ls.add_argument("--status", choices=(*STATUSES, "all"), help="default: submitted; with --case: all")
    ls.add_argument("--case", type=common.parse_id, metavar="N")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    for name, func, help_text in (
        ("approve", cmd_approve, "approve a proposal and apply it (a supervisor who did not propose it)"),
        ("reject", cmd_reject, "reject a proposal, with the reason (a supervisor who did not propose it)"),
    ):
        decide = p.add_parser(name, help=help_text, description=help_text)
        decide.add_argument("id", type=common.parse_id)
        decide.add_argument(
            "--version", type=_version, required=True, metavar="V", help="the version you read (proposals list)"
        )
        decide.add_argument("--reason", required=name == "reject", default="", metavar="TEXT")
        decide.set_defaults(func=func)


def _run(args: argparse.Namespace, work: Any) -> int:
    settings = common.settings(args)
    with common.database(settings) as db:
        return int(work(common.context(args, db), Translator(settings.lang)))


def cmd_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.proposals import proposals

    status = args.status or ("all" if args.case else "submitted")

    def work(ctx: Any, tr: Translator) -> int:
        rows = proposals(ctx, status=None if status == "all" else status, case_id=args.case)
        if args.json:
            common.print_json(
                [
                    {
                        "id": r.id,
                        "version": r.version,
                        "case_id": r.case_id,
                        "client": r.client_name,
                        "kind": r.kind,
                        "status": r.status,
                        "position": str(r.position),
                        "proposed_by": r.proposed_by,
                        "proposed_at": r.proposed_at.isoformat(),
                        "decided_by": r.decided_by,
                        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
                        "decision_reason": r.decision_reason,
                        "bkr_code": r.bkr_code,
                        "payload": r.payload,  # as stored: JSON already
                    }
                    for r in rows
                ]
            )
            return 0
        if not rows:
            print(tr(N_("No proposals")))
        for r in rows:
            decided = f"  {safe(r.decided_by)} {tr.date(r.decided_at)}" if r.decided_by and r.decided_at else ""
            print(
                f"{r.id:>7}  v{r.version:<3} {tr.date(r.proposed_at)}  {tr(PROPOSAL_KIND.get(r.kind, r.kind))[:34]:<34} "
                f"{tr.money(r.position):>14}  {safe(r.proposed_by)[:10]:<10} {r.case_id:>8}  {safe(r.client_name)[:28]:<28}"
                f"  {tr(PROPOSAL_STATUS.get(r.status, r.status))}{decided}"
            )
        return 0

    return _run(args, work)


def _decide(args: argparse.Namespace, *, approve: bool) -> int:
    from incasso_tui.services.proposals import decide

    def work(ctx: Any, tr: Translator) -> int:
        decide(ctx, args.id, args.version, approve=approve, reason=args.reason)
        print(tr(N_("Proposal {id} approved") if approve else N_("Proposal {id} rejected"), id=str(args.id)))
        return 0

    return _run(args, work)


def cmd_approve(args: argparse.Namespace) -> int:
    return _decide(args, approve=True)


def cmd_reject(args: argparse.Namespace) -> int:
    return _decide(args, approve=False)
