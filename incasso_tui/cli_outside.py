"""Outside parties, external collection, complaints and debt counsellors' proposals (issue 19; docs/external-collection.md,
docs/complaints.md). Every command takes ``--json``; errors are one line with a non-zero exit.

- ``incasso parties add NAME --kind bailiff|lawyer|agency --street S --postcode P --city C --iban I
  [--contact T] [--email E] [--phone N] [--wki-registration R]`` · ``parties list [--kind K]`` · ``parties show NAME``
- ``incasso external handover CASE --party NAME --reason TEXT`` (proposes; four eyes) ·
  ``external decide CLAIM --approve | --reject --reason TEXT`` · ``external status CASE STATUS [--amount A]
  [--costs C] [--note T] [--day D]`` · ``external import FILE`` (also ``external status import FILE``) ·
  ``external recall CASE --reason TEXT`` · ``external show CASE`` · ``external list`` ·
  ``external payments CASE [--report]`` · ``external kpi``
- ``incasso complaints add CASE --received D --channel C --about TEXT [--kind complaint|dispute] [--handler USER]`` ·
  ``complaints list [--open] [--case CASE]`` · ``complaints acknowledge ID`` ·
  ``complaints answer ID --outcome upheld|partly_upheld|rejected|withdrawn --text TEXT`` ·
  ``complaints report --from D --to D``
- ``incasso offers add CASE --percentage P --term MONTHS --received D --respond-by D`` ·
  ``offers answer ID accept|reject [--reason TEXT]`` · ``offers confirm ID [--send-back --reason TEXT]`` ·
  ``offers list CASE``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from incasso_tui import cli
from incasso_tui.domain.money import parse_amount

__all__ = ["add_parsers"]


def _out(args: argparse.Namespace, data: Any, text: str) -> int:
    print(json.dumps(data, default=str, ensure_ascii=False) if args.json else text)
    return 0


def _sub(sub: argparse._SubParsersAction, name: str, help_: str) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    parent = sub.add_parser(name, help=help_, description=help_)
    parent.set_defaults(func=lambda _a: cli._usage(parent))
    return parent.add_subparsers(title=f"{name} commands", metavar="COMMAND")


def _cmd(sub: argparse._SubParsersAction, name: str, help_: str, func: Any) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = sub.add_parser(name, help=help_, description=help_)
    cli._common(p, top=False)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=func)
    return p


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parties = _sub(sub, "parties", "bailiffs, lawyers and collection agencies")
    p = _cmd(parties, "add", "record a party", cmd_parties_add)
    p.add_argument("name")
    p.add_argument("--kind", required=True, help="bailiff, lawyer or agency")
    p.add_argument("--street", required=True)
    p.add_argument("--postcode", required=True)
    p.add_argument("--city", required=True)
    p.add_argument("--iban", required=True)
    p.add_argument("--contact", default="")
    p.add_argument("--email")
    p.add_argument("--phone")
    p.add_argument("--wki-registration", help="a collection agency's registration in the Wki register (Justis)")
    p = _cmd(parties, "list", "list the parties", cmd_parties_list)
    p.add_argument("--kind")
    _cmd(parties, "show", "one party", cmd_parties_show).add_argument("name")

    ext = _sub(sub, "external", "claims handed to a bailiff, lawyer or collection agency")
    p = _cmd(ext, "handover", "propose handing the case's claim to a party (another person decides)", cmd_handover)
    p.add_argument("case", type=int)
    p.add_argument("--party", required=True, metavar="NAME")
    p.add_argument("--reason", required=True)
    p = _cmd(ext, "decide", "approve (hand over now) or reject a proposed handover", cmd_decide)
    p.add_argument("claim", type=int)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--approve", action="store_true")
    group.add_argument("--reject", action="store_true")
    p.add_argument("--reason", default="")
    p = _cmd(ext, "status", "record the party's status report (or: status import FILE)", cmd_status)
    p.add_argument("case", help="the case id (or 'import')")
    p.add_argument("status", help="paid, arrangement, judgment, uncollectable, returned (or the FILE after 'import')")
    p.add_argument("--amount", help="collected by the party")
    p.add_argument("--costs", help="the party's costs")
    p.add_argument("--note", default="")
    p.add_argument("--day", metavar="YYYY-MM-DD", help="the report's date (default: today)")
    _cmd(ext, "import", "book a party's status-report CSV: all lines or none", cmd_import).add_argument("file")
    p = _cmd(ext, "recall", "take the claim back from the party", cmd_recall)
    p.add_argument("case", type=int)
    p.add_argument("--reason", required=True)
    _cmd(ext, "show", "the case's claim at a party: statement, reports, payments", cmd_show).add_argument("case", type=int)
    _cmd(ext, "list", "the claims proposed for or at a party", cmd_list)
    p = _cmd(ext, "payments", "payments to us while the claim is at the party", cmd_payments)
    p.add_argument("case", type=int)
    p.add_argument("--report", action="store_true", help="write the unreported ones to a file for the party")
    _cmd(ext, "kpi", "what is at outside parties and what came of it (30 days)", cmd_kpi)

    comp = _sub(sub, "complaints", "the complaints register")
    p = _cmd(comp, "add", "record a complaint or dispute on a case", cmd_complaints_add)
    p.add_argument("case", type=int)
    p.add_argument("--received", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--channel", required=True, help="phone, whatsapp, email, video, letter")
    p.add_argument("--about", required=True)
    p.add_argument("--kind", default="complaint", help="complaint or dispute")
    p.add_argument("--handler", help="the user who handles it (default: you)")
    p = _cmd(comp, "list", "the register with the acknowledge-by and answer-by dates", cmd_complaints_list)
    p.add_argument("--open", action="store_true", help="only the open ones")
    p.add_argument("--case", type=int)
    _cmd(comp, "acknowledge", "the acknowledgement of receipt was sent", cmd_complaints_ack).add_argument("id", type=int)
    p = _cmd(comp, "answer", "the final answer (the Kifid sentence is added when missing)", cmd_complaints_answer)
    p.add_argument("id", type=int)
    p.add_argument("--outcome", required=True, help="upheld, partly_upheld, rejected, withdrawn")
    p.add_argument("--text", required=True)
    p = _cmd(comp, "report", "complaints per period: count, kind, time to answer, outcome", cmd_complaints_report)
    p.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD")

    offers = _sub(sub, "offers", "debt counsellors' proposals in a minnelijk traject")
    p = _cmd(offers, "add", "record the proposal (percentage, term) and the answer's deadline", cmd_offers_add)
    p.add_argument("case", type=int)
    p.add_argument("--percentage", required=True)
    p.add_argument("--term", type=int, required=True, help="months")
    p.add_argument("--received", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--respond-by", required=True, metavar="YYYY-MM-DD")
    p = _cmd(offers, "answer", "accept, or reject with a reason", cmd_offers_answer)
    p.add_argument("id", type=int)
    p.add_argument("answer", choices=("accept", "reject"))
    p.add_argument("--reason", default="")
    p = _cmd(offers, "confirm", "the second person confirms the answer (or sends it back)", cmd_offers_confirm)
    p.add_argument("id", type=int)
    p.add_argument("--send-back", action="store_true")
    p.add_argument("--reason", default="")
    _cmd(offers, "list", "the proposals of a case", cmd_offers_list).add_argument("case", type=int)


def _amount(text: str | None) -> Decimal | None:
    return None if text is None else parse_amount(text)


# ----- parties


def _party_json(p: Any) -> dict[str, Any]:
    return dataclasses.asdict(p)


def cmd_parties_add(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import PartyInput, add_party

    given = PartyInput(name=args.name, kind=args.kind, street=args.street, postcode=args.postcode, city=args.city,
                       iban=args.iban, contact=args.contact, email=args.email, phone=args.phone,
                       wki_registration=args.wki_registration)
    with cli._database(cli._settings(args)) as db:
        party_id = add_party(cli._context(args, db), given)
    return _out(args, {"id": party_id, "name": args.name.strip()}, f"party {party_id}\t{args.name.strip()}")


def cmd_parties_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import parties

    with cli._database(cli._settings(args)) as db:
        rows = parties(cli._context(args, db), kind=args.kind)
    text = "\n".join(f"{p.name:<32} {p.kind:<8} {p.city:<16} wki={p.wki_registration or '-':<10} at party {p.open_claims}"
                     for p in rows) or "no parties"
    return _out(args, [_party_json(p) for p in rows], text)


def cmd_parties_show(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import party

    with cli._database(cli._settings(args)) as db:
        p = party(cli._context(args, db), args.name)
    text = "\n".join(f"{k:<17} {v if v not in (None, '') else '-'}" for k, v in _party_json(p).items())
    return _out(args, _party_json(p), text)


# ----- external collection


def cmd_handover(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import propose_handover

    with cli._database(cli._settings(args)) as db:
        claim_id = propose_handover(cli._context(args, db), args.case, args.party, args.reason)
    return _out(args, {"claim": claim_id, "status": "proposed"},
                f"claim {claim_id} proposed for {args.party}: another supervisor or special management decides "
                f"(incasso external decide {claim_id} --approve)")


def cmd_decide(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import decide_handover

    with cli._database(cli._settings(args)) as db:
        d = decide_handover(cli._context(args, db), args.claim, approve=args.approve, reason=args.reason)
    if d.statement is None:
        return _out(args, dataclasses.asdict(d), f"claim {d.claim_id} {d.status}")
    st = d.statement
    text = (f"claim {d.claim_id} {d.status} as of {st['as_of']}: principal {st['principal']}, interest {st['interest']}, "
            f"costs {st['costs']}, paid {st['payments']}, total {st['total']}\n"
            f"dossier {d.dossier_pdf}\n        {d.dossier_json}\n"
            f"letters {', '.join(map(str, d.letters))} pending (incasso letters render)")
    return _out(args, dataclasses.asdict(d), text)


def cmd_status(args: argparse.Namespace) -> int:
    if args.case == "import":
        args.file = args.status
        return cmd_import(args)
    from incasso_tui.services.external import report_status

    try:
        case_id = int(args.case)
    except ValueError:
        from incasso_tui.errors import N_, BadInput

        raise BadInput(N_("Not a case number: {text}"), text=args.case) from None
    day = cli.parse_date(args.day) if args.day else None
    with cli._database(cli._settings(args)) as db:
        report_id = report_status(cli._context(args, db), case_id, args.status, amount=_amount(args.amount),
                                  costs=_amount(args.costs), note=args.note, day=day)
    return _out(args, {"report": report_id, "case": case_id, "status": args.status},
                f"report {report_id}: case {case_id} {args.status}")


def cmd_import(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import import_status

    with cli._database(cli._settings(args)) as db:
        result = import_status(cli._context(args, db), Path(args.file))
    return _out(args, dataclasses.asdict(result),
                f"{result.file}: {result.lines} status lines booked, {result.ended} claims back from the party")


def cmd_recall(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import recall

    with cli._database(cli._settings(args)) as db:
        claim_id = recall(cli._context(args, db), args.case, args.reason)
    return _out(args, {"claim": claim_id, "outcome": "recalled"}, f"claim {claim_id} recalled")


def _claim_text(v: Any) -> str:
    lines = [f"claim {v.id} · case {v.case_id} · {v.party} ({v.party_kind}) · {v.status}"
             + (f" · {v.outcome} on {v.ended_on}" if v.outcome else ""),
             f"proposed by {v.proposed_by}, decided by {v.decided_by or '-'}; reason: {v.reason}"]
    if v.statement:
        st = v.statement
        lines.append(f"statement {st['as_of']}: principal {st['principal']}, interest {st['interest']}, costs {st['costs']}, "
                     f"paid {st['payments']}, total {st['total']}")
        lines.append(f"dossier {v.dossier_path}")
    lines += [f"report {r.report_date} {r.status:<13} amount {r.amount} costs {r.costs} {r.note} ({r.source}, {r.by})"
              for r in v.reports]
    lines += [f"payment to us {p.booking_date} {p.amount} loan {p.loan} "
              f"{'reported ' + str(p.reported_on) if p.reported_on else 'NOT YET REPORTED'}" for p in v.payments]
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import claim_for_case

    with cli._database(cli._settings(args)) as db:
        view = claim_for_case(cli._context(args, db), args.case)
    if view is None:
        return _out(args, None, f"case {args.case} was never handed to an outside party")
    return _out(args, dataclasses.asdict(view), _claim_text(view))


def cmd_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import claims

    with cli._database(cli._settings(args)) as db:
        rows = claims(cli._context(args, db))
    text = "\n".join(f"claim {v.id:<5} case {v.case_id:<6} {v.status:<9} {v.party:<28} {name}" for v, name in rows)
    return _out(args, [{**dataclasses.asdict(v), "client": name} for v, name in rows], text or "no open claims")


def cmd_payments(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import claim_for_case, report_payments

    with cli._database(cli._settings(args)) as db:
        ctx = cli._context(args, db)
        if args.report:
            path, rows = report_payments(ctx, args.case)
            data = {"file": path, "payments": [dataclasses.asdict(p) for p in rows]}
            return _out(args, data, f"{len(rows)} payments reported in {path}" if path else "nothing new to report")
        view = claim_for_case(ctx, args.case)
    rows = list(view.payments) if view else []
    text = "\n".join(f"{p.booking_date} {p.amount:>10} loan {p.loan} "
                     f"{'reported ' + str(p.reported_on) if p.reported_on else 'not yet reported'}" for p in rows)
    return _out(args, [dataclasses.asdict(p) for p in rows], text or "no payments to us since the handover")


def cmd_kpi(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import kpis

    with cli._database(cli._settings(args)) as db:
        k = kpis(cli._context(args, db))
    text = (f"at outside parties: {k.at_party} claims, {k.at_party_amount}\n"
            f"last 30 days: handed over {k.handed_over}, ended {k.ended or '-'}, collected {k.collected}, "
            f"costs {k.costs}")
    return _out(args, dataclasses.asdict(k), text)


# ----- complaints


def _complaint_json(row: Any) -> dict[str, Any]:
    return dataclasses.asdict(row)


def cmd_complaints_add(args: argparse.Namespace) -> int:
    from incasso_tui.services.complaints import ComplaintInput, add_complaint, complaints

    given = ComplaintInput(kind=args.kind, received_on=cli.parse_date(args.received), channel=args.channel,
                           about=args.about, handled_by=args.handler)
    with cli._database(cli._settings(args)) as db:
        ctx = cli._context(args, db)
        complaint_id = add_complaint(ctx, args.case, given)
        (row,) = [c for c in complaints(ctx, case_id=args.case) if c.id == complaint_id]
    return _out(args, _complaint_json(row),
                f"{row.kind} {row.id} on case {row.case_id}: acknowledge by {row.acknowledge_by}, "
                f"answer by {row.answer_by} (handled by {row.handled_by})")


def cmd_complaints_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.complaints import complaints

    with cli._database(cli._settings(args)) as db:
        ctx = cli._context(args, db)
        rows = complaints(ctx, open_only=args.open, case_id=args.case)
        today = ctx.clock.today()
    lines = []
    for c in rows:
        ack_late, answer_late = c.overdue(today)
        lines.append(f"{c.id:<5} case {c.case_id:<6} {c.kind:<9} {c.status:<8} received {c.received_on} "
                     f"ack-by {c.acknowledge_by}{'!' if ack_late else ' '} answer-by {c.answer_by}{'!' if answer_late else ' '} "
                     f"{c.handled_by:<8} {c.about[:40]}")
    data = [{**_complaint_json(c), "acknowledgement_overdue": c.overdue(today)[0], "answer_overdue": c.overdue(today)[1]}
            for c in rows]
    return _out(args, data, "\n".join(lines) or "no complaints")


def cmd_complaints_ack(args: argparse.Namespace) -> int:
    from incasso_tui.services.complaints import acknowledge

    with cli._database(cli._settings(args)) as db:
        acknowledge(cli._context(args, db), args.id)
    return _out(args, {"id": args.id, "acknowledged": True}, f"complaint {args.id} acknowledged")


def cmd_complaints_answer(args: argparse.Namespace) -> int:
    from incasso_tui.services.complaints import answer

    with cli._database(cli._settings(args)) as db:
        text = answer(cli._context(args, db), args.id, args.outcome, args.text)
    return _out(args, {"id": args.id, "outcome": args.outcome, "answer": text},
                f"complaint {args.id} answered ({args.outcome}):\n{text}")


def cmd_complaints_report(args: argparse.Namespace) -> int:
    from incasso_tui.services.complaints import report

    with cli._database(cli._settings(args)) as db:
        r = report(cli._context(args, db), cli.parse_date(args.date_from), cli.parse_date(args.date_to))
    text = (f"complaints {r.date_from} to {r.date_to}\n"
            f"received: {', '.join(f'{k} {v}' for k, v in r.received.items())}\n"
            f"answered: {r.answered} ({', '.join(f'{k} {v}' for k, v in r.outcomes.items()) or '-'}), late {r.answered_late}\n"
            f"days to answer: average {r.average_days if r.average_days is not None else '-'}, "
            f"longest {r.longest_days if r.longest_days is not None else '-'}\n"
            f"received in the period and still open: {r.still_open}")
    return _out(args, dataclasses.asdict(r), text)


# ----- debt counsellors' proposals


def cmd_offers_add(args: argparse.Namespace) -> int:
    from incasso_tui.errors import N_, BadInput
    from incasso_tui.services.debt_offers import record_offer

    try:
        percentage = Decimal(args.percentage.replace(",", ".").rstrip("% "))
    except ArithmeticError:
        raise BadInput(N_("Not a percentage: {text}"), text=args.percentage) from None
    with cli._database(cli._settings(args)) as db:
        offer_id = record_offer(cli._context(args, db), args.case, percentage=percentage, term_months=args.term,
                                received_on=cli.parse_date(args.received), respond_by=cli.parse_date(args.respond_by))
    return _out(args, {"id": offer_id}, f"proposal {offer_id} recorded; answer due {args.respond_by} (task made)")


def cmd_offers_answer(args: argparse.Namespace) -> int:
    from incasso_tui.services.debt_offers import answer_offer

    with cli._database(cli._settings(args)) as db:
        status = answer_offer(cli._context(args, db), args.id, accept=args.answer == "accept", reason=args.reason)
    note = " (waits for a second person: incasso offers confirm)" if status == "proposed" else ""
    return _out(args, {"id": args.id, "status": status}, f"proposal {args.id}: {status}{note}")


def cmd_offers_confirm(args: argparse.Namespace) -> int:
    from incasso_tui.services.debt_offers import confirm_answer

    with cli._database(cli._settings(args)) as db:
        status = confirm_answer(cli._context(args, db), args.id, confirm=not args.send_back, reason=args.reason)
    return _out(args, {"id": args.id, "status": status}, f"proposal {args.id}: {status}")


def cmd_offers_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.debt_offers import offers

    with cli._database(cli._settings(args)) as db:
        rows = offers(cli._context(args, db), args.case)
    text = "\n".join(f"{o.id:<5} {o.percentage * 100:>6.2f}% {o.term_months:>3} months of {o.claim} (= {o.offered}) "
                     f"received {o.received_on} answer by {o.respond_by} {o.status} {o.reason or ''}" for o in rows)
    return _out(args, [{**dataclasses.asdict(o), "offered": o.offered} for o in rows], text or "no proposals")
