"""Dispatch of letters, e-mail consent and debt tracks from the command line (issue 12).

- ``incasso letters batch [--json]``: collect the rendered post letters into one PDF to print (a print batch);
- ``incasso letters posted BATCH --date D [--json]``: the batch went into the post on D (``--posted-on`` may name an
  earlier day than the day worked as of; never a later one, nor a day before the batch was made); every letter in it
  is dispatched on that day, and its terms count from then;
- ``incasso letters undo-batch BATCH``: undo a batch that was not posted (its letters wait for the next one);
- ``incasso letters batches [--json]``, ``incasso letters waiting [--json]``: the batches; the letters not yet
  dispatched and what each waits for (rendering, a batch, the post, the mail server);
- ``incasso clients consent CLIENT --given-on D --source TEXT`` / ``--withdraw``: the client's consent to receive
  legal notices by e-mail;
- ``incasso track register CLIENT --kind wsnp --ruling D --trustee NAME --address LINES`` and
  ``incasso track end CLIENT --outcome schone_lei|terminated|rejected|settled [--amount A]``.

``--date`` is the day the command works as of (the clock), as everywhere: the posting day by default.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from decimal import Decimal, InvalidOperation

from incasso_tui.cli import common
from incasso_tui.errors import N_, BadInput

__all__ = ["register", "register_letters"]


def _day(text: str) -> date:
    try:
        return common.parse_date(text)
    except Exception:  # noqa: BLE001 - argparse shows the message
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None


def _cmd(parent: argparse._SubParsersAction, name: str, help_: str, func, *, json_flag: bool = True):  # type: ignore[no-untyped-def,type-arg]
    parser = parent.add_parser(name, help=help_, description=help_)
    if json_flag:
        parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=func)
    return parser


def register_letters(sub: common.Subparsers) -> None:
    """The print batches and the waiting letters: more commands of the ``letters`` group."""
    letters = common.commands_of(sub, "letters")
    _cmd(letters, "batch", "collect the rendered post letters into one PDF to print (a print batch)", cmd_batch)
    posted = _cmd(
        letters, "posted", "the print batch went into the post on --posted-on: its letters are dispatched", cmd_posted
    )
    posted.add_argument("batch", type=int)
    posted.add_argument(
        "--posted-on",
        type=_day,
        metavar="YYYY-MM-DD",
        help="the day the letters were handed to the post (default: --date, the day worked as of); not after it",
    )
    undo = _cmd(letters, "undo-batch", "undo a print batch that was not posted", cmd_undo_batch)
    undo.add_argument("batch", type=int)
    _cmd(letters, "batches", "the print batches, newest first", cmd_batches)
    _cmd(letters, "waiting", "the letters not yet dispatched, and what each waits for", cmd_waiting)


def register(sub: common.Subparsers) -> None:
    clients = sub.add_parser(
        "clients",
        help="clients: consent to legal notices by e-mail",
        description="clients: consent to legal notices by e-mail",
    )
    clients.set_defaults(func=lambda _a: common.usage(clients))
    clients_sub = clients.add_subparsers(title="clients commands", metavar="COMMAND")
    consent = _cmd(
        clients_sub, "consent", "record or withdraw the client's consent to legal notices by e-mail", cmd_consent
    )
    consent.add_argument("client", help="client number")
    consent.add_argument("--given-on", type=_day, metavar="YYYY-MM-DD", help="the day the consent was given")
    consent.add_argument("--source", default="", help="how it was given (a signed form, an e-mail of the client...)")
    consent.add_argument("--withdraw", action="store_true", help="withdraw the consent")

    track = sub.add_parser(
        "track",
        help="debt-relief and insolvency tracks: register, end",
        description="debt-relief and insolvency tracks: register, end",
    )
    track.set_defaults(func=lambda _a: common.usage(track))
    track_sub = track.add_subparsers(title="track commands", metavar="COMMAND")
    register = _cmd(
        track_sub, "register", "put the client's open case in a track (WSNP, bankruptcy, minnelijk)", cmd_track_register
    )
    register.add_argument("client", help="client number")
    register.add_argument("--kind", required=True, choices=("wsnp", "faillissement", "minnelijk"))
    register.add_argument(
        "--ruling",
        required=True,
        type=_day,
        metavar="YYYY-MM-DD",
        help="the ruling date (minnelijk: the start of the track)",
    )
    register.add_argument("--trustee", required=True, help="curator, bewindvoerder or debt-help agency")
    register.add_argument("--address", default="", help="the trustee's postal address, lines separated by ';'")
    register.add_argument("--claim-deadline", type=_day, metavar="YYYY-MM-DD")
    end = _cmd(track_sub, "end", "end the client's open track with its outcome", cmd_track_end)
    end.add_argument("client", help="client number")
    end.add_argument("--outcome", required=True, choices=("schone_lei", "terminated", "rejected", "settled"))
    end.add_argument("--amount", type=_amount, help="settled: the agreed amount")
    end.add_argument("--settle-by", type=_day, metavar="YYYY-MM-DD", help="settled: when the agreed amount is due")


def _print(args: argparse.Namespace, data: dict[str, object], text: str) -> int:
    print(json.dumps(data, default=str) if args.json else text)
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from incasso_tui.services.dispatch import make_batch

    with common.database(common.settings(args)) as db:
        report = make_batch(common.context(args, db))
    text = (
        f"print batch {report.batch_id}: {report.letters} letters in {report.file_path}"
        if report.batch_id
        else "no rendered post letters wait for a batch"
    )
    for letter_id in report.missing:
        text += f"\nletter {letter_id}: its PDF cannot be read; not in the batch"
    _print(
        args,
        {
            "batch": report.batch_id,
            "letters": report.letters,
            "file": report.file_path,
            "not_included": list(report.missing),
        },
        text,
    )
    return 1 if report.missing else 0


def cmd_posted(args: argparse.Namespace) -> int:
    from incasso_tui.services.dispatch import mark_posted

    with common.database(common.settings(args)) as db:
        ctx = common.context(args, db)
        day = args.posted_on or ctx.clock.today()
        count = mark_posted(ctx, args.batch, day)
    return _print(
        args,
        {"batch": args.batch, "posted_on": day.isoformat(), "dispatched": count},
        f"print batch {args.batch}: {count} letters dispatched on {day.isoformat()}",
    )


def cmd_undo_batch(args: argparse.Namespace) -> int:
    from incasso_tui.services.dispatch import undo_batch

    with common.database(common.settings(args)) as db:
        count = undo_batch(common.context(args, db), args.batch)
    return _print(
        args,
        {"batch": args.batch, "undone": True, "letters": count},
        f"print batch {args.batch} undone: {count} letters wait for the next batch",
    )


def cmd_batches(args: argparse.Namespace) -> int:
    from incasso_tui.services.dispatch import batches

    with common.database(common.settings(args)) as db:
        rows = batches(common.context(args, db))
    lines = [
        f"{b.id:>6}  {b.status:<7} made {b.made_on}  posted {b.posted_on or '-'}  {b.letters:>5} letters  {b.file_path}"
        for b in rows
    ]
    return _print(args, {"batches": [vars(b) for b in rows]}, "\n".join(lines) or "no print batches")


def cmd_waiting(args: argparse.Namespace) -> int:
    from incasso_tui.services.dispatch import waiting_letters

    with common.database(common.settings(args)) as db:
        rows = waiting_letters(common.context(args, db))
    lines = [
        f"{w.letter_id:>8}  {w.client_number:<10} {w.kind:<24} {w.channel:<8} {w.letter_date}  waits for "
        f"{w.waits_for}{f' (batch {w.batch_id})' if w.batch_id else ''}"
        for w in rows
    ]
    return _print(args, {"waiting": [vars(w) for w in rows]}, "\n".join(lines) or "no letter waits")


def _open_case(ctx, number: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from incasso_tui.services.cases import client_by_number, open_case_version

    return open_case_version(ctx, client_by_number(ctx, number))


def cmd_consent(args: argparse.Namespace) -> int:
    from incasso_tui.services.dispatch import set_email_consent

    if args.withdraw == (args.given_on is not None):
        raise BadInput(N_("Give either --given-on with --source, or --withdraw"), field="given_on")
    from incasso_tui.services.cases import client_by_number

    with common.database(common.settings(args)) as db:
        ctx = common.context(args, db)
        set_email_consent(
            ctx, client_by_number(ctx, args.client), None if args.withdraw else args.given_on, args.source
        )
    return _print(
        args,
        {"client": args.client, "email_consent_on": args.given_on, "source": args.source or None},
        f"client {args.client}: "
        + ("consent withdrawn" if args.withdraw else f"consent of {args.given_on} recorded ({args.source})"),
    )


def cmd_track_register(args: argparse.Namespace) -> int:
    from incasso_tui.domain.enums import TrackKind
    from incasso_tui.services.tracks import TrackInput, register_track

    with common.database(common.settings(args)) as db:
        ctx = common.context(args, db)
        case_id, version = _open_case(ctx, args.client)
        done = register_track(
            ctx,
            case_id,
            version,
            TrackInput(
                kind=TrackKind(args.kind),
                ruling_date=args.ruling,
                trustee_name=args.trustee,
                trustee_contact=args.address,
                claim_deadline=args.claim_deadline,
            ),
        )
    return _print(
        args,
        {
            "track": done.track_id,
            "task": done.task_id,
            "claim_statement_letter": done.letter_id,
            "claim_deadline": done.claim_deadline,
        },
        f"track {done.track_id} registered; claim statement letter {done.letter_id}; claim by {done.claim_deadline}",
    )


def cmd_track_end(args: argparse.Namespace) -> int:
    from incasso_tui.services.tracks import end_track

    with common.database(common.settings(args)) as db:
        ctx = common.context(args, db)
        case_id, version = _open_case(ctx, args.client)
        ended = end_track(ctx, case_id, version, args.outcome, settled_amount=args.amount, settle_by=args.settle_by)
    return _print(
        args,
        {
            "outcome": ended.outcome,
            "write_off_proposal": ended.proposal_id,
            "write_off_proposed": ended.written_off_proposed,
        },
        f"track ended: {ended.outcome}"
        + (
            f"; write-off of {ended.written_off_proposed} proposed (proposal {ended.proposal_id}, a supervisor decides)"
            if ended.proposal_id
            else ""
        ),
    )
