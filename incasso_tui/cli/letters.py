"""``incasso letters render`` and ``incasso mail send`` (docs/letters.md).

- ``incasso letters render [--limit N] [--json]``: render the pending letters into the outbox (``letters_dir``);
  prints the counts and one line per failed letter; exit 1 when a letter failed.
- ``incasso mail send [--limit N] [--json]``: send the queued e-mails that are due; prints the counts and one line
  per failure; exit 1 when a mail died.

Both act as ``--user`` (default: the OS user), who must be a registered employee, supervisor or admin, so the
audit trail names a person.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from incasso_tui.cli import common
from incasso_tui.safetext import safe

__all__ = ["register"]


def _limit(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("the limit must be at least 1")
    return number


def _batch(parser: argparse.ArgumentParser, items: str, func: Callable[[argparse.Namespace], int]) -> None:
    """The options of a batch command over the outbox: the common ones, --limit and --json."""
    parser.add_argument("--limit", type=_limit, default=None, help=f"at most N {items}")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=func)


def register(sub: common.Subparsers) -> None:
    """``letters`` (the dispatch module adds its batch commands to it) and ``mail``."""
    letters = common.add_group(sub, "letters", "letters to clients: render the pending ones")
    _batch(
        letters.add_parser("render", help="render the pending letters to PDF in the outbox (letters_dir)"),
        "letters",
        cmd_letters_render,
    )

    mail = common.add_group(sub, "mail", "e-mail from the outbox")
    _batch(
        mail.add_parser("send", help="send the queued e-mails that are due (SMTP settings: docs/letters.md)"),
        "e-mails",
        cmd_mail_send,
    )


def cmd_letters_render(args: argparse.Namespace) -> int:
    from incasso_tui.services.letters import render_pending

    with common.database(common.settings(args)) as db:
        report = render_pending(common.context(args, db), limit=args.limit)
    if args.json:
        print(
            json.dumps(
                {
                    "rendered": report.rendered,
                    "emails_queued": report.emails_queued,
                    "not_sent": report.not_sent,
                    "failed": [vars(f) for f in report.failures],
                }
            )
        )
    else:
        print(
            f"rendered {report.rendered}, e-mails queued {report.emails_queued}, "
            f"not sent (channel not configured) {report.not_sent}, failed {len(report.failures)}"
        )
        for f in report.failures:
            print(f"failed letter {f.letter_id} (case {f.case_id}, {f.kind}): {safe(f.error)}")
    return 1 if report.failures else 0


def cmd_mail_send(args: argparse.Namespace) -> int:
    from incasso_tui.services.outbox import send_due

    with common.database(common.settings(args)) as db:
        report = send_due(common.context(args, db), limit=args.limit)
    if args.json:
        print(
            json.dumps(
                {
                    "sent": report.sent,
                    "retrying": report.retrying,
                    "dead": report.dead,
                    "failures": [{"outbox_id": i, "error": e} for i, e in report.failures],
                }
            )
        )
    else:
        print(f"sent {report.sent}, retrying later {report.retrying}, dead {report.dead}")
        for outbox_id, error in report.failures:
            print(f"e-mail {outbox_id}: {safe(error)}")
    return 1 if report.dead else 0
