"""Outside parties, external collection, complaints and debt counsellors' proposals (issue 19; docs/external-collection.md,
docs/complaints.md). Every command takes ``--json``; errors are one line with a non-zero exit. The text output is in
the session's language (``--lang`` or the ``lang`` setting; Dutch by default, catalog ``i18n/nl/outside_cli.po``); the
JSON is the same in every language.

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
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from incasso_tui.cli import common
from incasso_tui.domain.money import parse_amount
from incasso_tui.errors import N_
from incasso_tui.i18n import Translator
from incasso_tui.safetext import safe_json
from incasso_tui.ui.labels import (
    CLAIM_STATUS,
    COMPLAINT_KIND,
    COMPLAINT_OUTCOME,
    COMPLAINT_STATUS,
    REPORT_STATUS,
    label,
)

__all__ = ["register"]


def _out(args: argparse.Namespace, data: Any, text: str) -> int:
    print(safe_json(data, default=str) if args.json else text)
    return 0


def _cmd(sub: common.Subparsers, name: str, help_: str, func: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_, description=help_)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=func)
    return p


def register(sub: common.Subparsers) -> None:
    parties = common.add_group(sub, "parties", "bailiffs, lawyers and collection agencies")
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

    ext = common.add_group(sub, "external", "claims handed to a bailiff, lawyer or collection agency")
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
    _cmd(ext, "show", "the case's claim at a party: statement, reports, payments", cmd_show).add_argument(
        "case", type=int
    )
    _cmd(ext, "list", "the claims proposed for or at a party", cmd_list)
    p = _cmd(ext, "payments", "payments to us while the claim is at the party", cmd_payments)
    p.add_argument("case", type=int)
    p.add_argument("--report", action="store_true", help="write the unreported ones to a file for the party")
    _cmd(ext, "kpi", "what is at outside parties and what came of it (30 days)", cmd_kpi)

    comp = common.add_group(sub, "complaints", "the complaints register")
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
    _cmd(comp, "acknowledge", "the acknowledgement of receipt was sent", cmd_complaints_ack).add_argument(
        "id", type=int
    )
    p = _cmd(comp, "answer", "the final answer (the Kifid sentence is added when missing)", cmd_complaints_answer)
    p.add_argument("id", type=int)
    p.add_argument("--outcome", required=True, help="upheld, partly_upheld, rejected, withdrawn")
    p.add_argument("--text", required=True)
    p = _cmd(comp, "report", "complaints per period: count, kind, time to answer, outcome", cmd_complaints_report)
    p.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD")

    offers = common.add_group(sub, "offers", "debt counsellors' proposals in a minnelijk traject")
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


def _tr(settings: Any) -> Translator:
    return Translator(getattr(settings, "lang", None) or "nl")


def _kind(tr: Translator, code: str) -> str:
    from incasso_tui.services.external import KIND_LABEL

    return tr(KIND_LABEL[code]) if code in KIND_LABEL else code


def _counts(tr: Translator, counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {tr.integer(v)}" for k, v in counts.items()) or "-"


def _day(tr: Translator, d: Any) -> str:
    if d is None:
        return "-"
    return tr.date(date.fromisoformat(d) if isinstance(d, str) else d)


def _statement(tr: Translator, st: dict[str, Any]) -> dict[str, str]:
    return {k: tr.money(Decimal(str(st[k]))) for k in ("principal", "interest", "costs", "payments", "total")}


# ----- parties


_PARTY_FIELD = {
    "id": N_("number"),
    "name": N_("name"),
    "kind": N_("kind"),
    "street": N_("street"),
    "postcode": N_("postcode"),
    "city": N_("city"),
    "contact": N_("contact"),
    "email": N_("e-mail"),
    "phone": N_("phone"),
    "iban": N_("IBAN"),
    "wki_registration": N_("Wki registration"),
    "open_claims": N_("claims at the party"),
}


def _party_json(p: Any) -> dict[str, Any]:
    return dataclasses.asdict(p)


def cmd_parties_add(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import PartyInput, add_party

    given = PartyInput(
        name=args.name,
        kind=args.kind,
        street=args.street,
        postcode=args.postcode,
        city=args.city,
        iban=args.iban,
        contact=args.contact,
        email=args.email,
        phone=args.phone,
        wki_registration=args.wki_registration,
    )
    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        party_id = add_party(common.context(args, db), given)
    return _out(
        args,
        {"id": party_id, "name": args.name.strip()},
        tr(N_("party {id}\t{name}"), id=str(party_id), name=args.name.strip()),
    )


def cmd_parties_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import parties

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        rows = parties(common.context(args, db), kind=args.kind)
    text = "\n".join(
        f"{p.name:<32} {_kind(tr, p.kind):<17} {p.city:<16} wki={p.wki_registration or '-':<10} "
        + tr(N_("at the party {count}"), count=p.open_claims)
        for p in rows
    ) or tr(N_("no parties"))
    return _out(args, [_party_json(p) for p in rows], text)


def cmd_parties_show(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import party

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        p = party(common.context(args, db), args.name)
    shown = {**_party_json(p), "kind": _kind(tr, p.kind)}
    labels = {k: tr(_PARTY_FIELD[k]) if k in _PARTY_FIELD else k for k in shown}
    width = max(len(v) for v in labels.values()) + 1
    text = "\n".join(f"{labels[k]:<{width}} {v if v not in (None, '') else '-'}" for k, v in shown.items())
    return _out(args, _party_json(p), text)


# ----- external collection


def cmd_handover(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import propose_handover

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        claim_id = propose_handover(common.context(args, db), args.case, args.party, args.reason)
    return _out(
        args,
        {"claim": claim_id, "status": "proposed"},
        tr(
            N_(
                "claim {claim} proposed for {party}: another supervisor or special management decides "
                "(incasso external decide {claim} --approve)"
            ),
            claim=str(claim_id),
            party=args.party,
        ),
    )


def cmd_decide(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import decide_handover

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        d = decide_handover(common.context(args, db), args.claim, approve=args.approve, reason=args.reason)
    if d.statement is None:
        return _out(
            args,
            dataclasses.asdict(d),
            tr(
                N_("claim {claim} {status}"),
                claim=str(d.claim_id),
                status=label(tr, CLAIM_STATUS, d.status, missing="-"),
            ),
        )
    st = d.statement
    text = "\n".join(
        [
            tr(
                N_(
                    "claim {claim} {status} as of {day}: principal {principal}, interest {interest}, costs {costs}, "
                    "paid {payments}, total {total}"
                ),
                claim=str(d.claim_id),
                status=label(tr, CLAIM_STATUS, d.status, missing="-"),
                day=_day(tr, st["as_of"]),
                **_statement(tr, st),
            ),
            tr(N_("dossier {path}"), path=d.dossier_pdf) + f"\n        {d.dossier_json}",
            tr(N_("letters {letters} pending (incasso letters render)"), letters=", ".join(map(str, d.letters))),
        ]
    )
    return _out(args, dataclasses.asdict(d), text)


def cmd_status(args: argparse.Namespace) -> int:
    if args.case == "import":
        args.file = args.status
        return cmd_import(args)
    from incasso_tui.services.external import report_status

    try:
        case_id = int(args.case)
    except ValueError:
        from incasso_tui.errors import BadInput

        raise BadInput(N_("Not a case number: {text}"), text=args.case) from None
    day = common.parse_date(args.day) if args.day else None
    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        report_id = report_status(
            common.context(args, db),
            case_id,
            args.status,
            amount=_amount(args.amount),
            costs=_amount(args.costs),
            note=args.note,
            day=day,
        )
    return _out(
        args,
        {"report": report_id, "case": case_id, "status": args.status},
        tr(N_("report {report}: case {case} {status}"), report=str(report_id), case=str(case_id), status=args.status),
    )


def cmd_import(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import import_status

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        result = import_status(common.context(args, db), Path(args.file))
    return _out(
        args,
        dataclasses.asdict(result),
        tr(
            N_("{file}: {lines} status lines booked, {ended} claims back from the party"),
            file=result.file,
            lines=result.lines,
            ended=result.ended,
        ),
    )


def cmd_recall(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import recall

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        claim_id = recall(common.context(args, db), args.case, args.reason)
    return _out(args, {"claim": claim_id, "outcome": "recalled"}, tr(N_("claim {claim} recalled"), claim=str(claim_id)))


def _reported(tr: Translator, p: Any, not_yet: str) -> str:
    return tr(N_("reported {day}"), day=_day(tr, p.reported_on)) if p.reported_on else not_yet


def _claim_text(tr: Translator, v: Any) -> str:
    lines = [
        tr(
            N_("claim {claim} · case {case} · {party} ({kind}) · {status}"),
            claim=str(v.id),
            case=str(v.case_id),
            party=v.party,
            kind=_kind(tr, v.party_kind),
            status=label(tr, CLAIM_STATUS, v.status, missing="-"),
        )
        + (
            " · "
            + tr(
                N_("{outcome} on {day}"),
                outcome=label(tr, REPORT_STATUS, v.outcome, missing="-"),
                day=_day(tr, v.ended_on),
            )
            if v.outcome
            else ""
        ),
        tr(
            N_("proposed by {proposer}, decided by {decider}; reason: {reason}"),
            proposer=v.proposed_by,
            decider=v.decided_by or "-",
            reason=v.reason,
        ),
    ]
    if v.statement:
        st = v.statement
        lines.append(
            tr(
                N_(
                    "statement {day}: principal {principal}, interest {interest}, costs {costs}, "
                    "paid {payments}, total {total}"
                ),
                day=_day(tr, st.get("as_of")),
                **_statement(tr, st),
            )
        )
        lines.append(tr(N_("dossier {path}"), path=v.dossier_path))
    lines += [
        tr(
            N_("report {day} {status} amount {amount} costs {costs} {note} ({source}, {by})"),
            day=_day(tr, r.report_date),
            status=f"{label(tr, REPORT_STATUS, r.status, missing='-'):<13}",
            amount=r.amount,
            costs=r.costs,
            note=r.note,
            source=r.source,
            by=r.by,
        )
        for r in v.reports
    ]
    not_yet = tr(N_("NOT YET REPORTED"))
    lines += [
        tr(
            N_("payment to us {day} {amount} loan {loan} {reported}"),
            day=_day(tr, p.booking_date),
            amount=p.amount,
            loan=p.loan,
            reported=_reported(tr, p, not_yet),
        )
        for p in v.payments
    ]
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import claim_for_case

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        view = claim_for_case(common.context(args, db), args.case)
    if view is None:
        return _out(args, None, tr(N_("case {case} was never handed to an outside party"), case=str(args.case)))
    return _out(args, dataclasses.asdict(view), _claim_text(tr, view))


def cmd_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import claims

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        rows = claims(common.context(args, db))
    text = "\n".join(
        tr(
            N_("claim {claim} case {case} {status} {party} {client}"),
            claim=f"{v.id:<5}",
            case=f"{v.case_id:<6}",
            status=f"{label(tr, CLAIM_STATUS, v.status, missing='-'):<9}",
            party=f"{v.party:<28}",
            client=name,
        )
        for v, name in rows
    )
    return _out(args, [{**dataclasses.asdict(v), "client": name} for v, name in rows], text or tr(N_("no open claims")))


def cmd_payments(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import claim_for_case, report_payments

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        ctx = common.context(args, db)
        if args.report:
            path, rows = report_payments(ctx, args.case)
            data = {"file": path, "payments": [dataclasses.asdict(p) for p in rows]}
            return _out(
                args,
                data,
                tr.plural(
                    "{count} payment reported in {path}",
                    "{count} payments reported in {path}",
                    len(rows),
                    count=len(rows),
                    path=path,
                )
                if path
                else tr(N_("nothing new to report")),
            )
        view = claim_for_case(ctx, args.case)
    rows = list(view.payments) if view else []
    not_yet = tr(N_("not yet reported"))
    text = "\n".join(
        f"{_day(tr, p.booking_date)} {tr.money(p.amount):>12} "
        + tr(N_("loan {loan} {reported}"), loan=p.loan, reported=_reported(tr, p, not_yet))
        for p in rows
    )
    return _out(args, [dataclasses.asdict(p) for p in rows], text or tr(N_("no payments to us since the handover")))


def cmd_kpi(args: argparse.Namespace) -> int:
    from incasso_tui.services.external import kpis

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        k = kpis(common.context(args, db))
    text = "\n".join(
        [
            tr.plural(
                "at outside parties: {count} claim, {amount}",
                "at outside parties: {count} claims, {amount}",
                k.at_party,
                count=k.at_party,
                amount=k.at_party_amount,
            ),
            tr(
                N_("last 30 days: handed over {handed}, ended {ended}, collected {collected}, costs {costs}"),
                handed=k.handed_over,
                ended=_counts(tr, k.ended),
                collected=k.collected,
                costs=k.costs,
            ),
        ]
    )
    return _out(args, dataclasses.asdict(k), text)


# ----- complaints


def _complaint_json(row: Any) -> dict[str, Any]:
    return dataclasses.asdict(row)


def cmd_complaints_add(args: argparse.Namespace) -> int:
    from incasso_tui.services.complaints import ComplaintInput, add_complaint, complaints

    given = ComplaintInput(
        kind=args.kind,
        received_on=common.parse_date(args.received),
        channel=args.channel,
        about=args.about,
        handled_by=args.handler,
    )
    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        ctx = common.context(args, db)
        complaint_id = add_complaint(ctx, args.case, given)
        (row,) = [c for c in complaints(ctx, case_id=args.case) if c.id == complaint_id]
    return _out(
        args,
        _complaint_json(row),
        tr(
            N_("{kind} {id} on case {case}: acknowledge by {ack_by}, answer by {answer_by} (handled by {handler})"),
            kind=row.kind,
            id=str(row.id),
            case=str(row.case_id),
            ack_by=row.acknowledge_by,
            answer_by=row.answer_by,
            handler=row.handled_by,
        ),
    )


def cmd_complaints_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.complaints import complaints

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        ctx = common.context(args, db)
        rows = complaints(ctx, open_only=args.open, case_id=args.case)
        today = ctx.clock.today()
    lines = []
    for c in rows:
        ack_late, answer_late = c.overdue(today)
        lines.append(
            f"{c.id:<5} "
            + tr(
                N_(
                    "case {case} {kind} {status} received {received} ack-by {ack_by} "
                    "answer-by {answer_by} {handler} {about}"
                ),
                case=f"{c.case_id:<6}",
                kind=f"{label(tr, COMPLAINT_KIND, c.kind, missing='-'):<9}",
                status=f"{label(tr, COMPLAINT_STATUS, c.status, missing='-'):<8}",
                received=c.received_on,
                ack_by=tr.date(c.acknowledge_by) + ("!" if ack_late else " "),
                answer_by=tr.date(c.answer_by) + ("!" if answer_late else " "),
                handler=f"{c.handled_by:<8}",
                about=c.about[:40],
            )
        )
    data = [
        {**_complaint_json(c), "acknowledgement_overdue": c.overdue(today)[0], "answer_overdue": c.overdue(today)[1]}
        for c in rows
    ]
    return _out(args, data, "\n".join(lines) or tr(N_("no complaints")))


def cmd_complaints_ack(args: argparse.Namespace) -> int:
    from incasso_tui.services.complaints import acknowledge

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        acknowledge(common.context(args, db), args.id)
    return _out(args, {"id": args.id, "acknowledged": True}, tr(N_("complaint {id} acknowledged"), id=str(args.id)))


def cmd_complaints_answer(args: argparse.Namespace) -> int:
    from incasso_tui.services.complaints import answer

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        text = answer(common.context(args, db), args.id, args.outcome, args.text)
    return _out(
        args,
        {"id": args.id, "outcome": args.outcome, "answer": text},
        tr(
            N_("complaint {id} answered ({outcome}):"),
            id=str(args.id),
            outcome=label(tr, COMPLAINT_OUTCOME, args.outcome, missing="-"),
        )
        + f"\n{text}",
    )


def cmd_complaints_report(args: argparse.Namespace) -> int:
    from babel.numbers import format_decimal

    from incasso_tui.services.complaints import report

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        r = report(common.context(args, db), common.parse_date(args.date_from), common.parse_date(args.date_to))
    average = "-" if r.average_days is None else format_decimal(r.average_days, format="#,##0.0", locale=tr.locale)
    text = "\n".join(
        [
            tr(N_("complaints {start} to {end}"), start=r.date_from, end=r.date_to),
            tr(N_("received: {counts}"), counts=_counts(tr, r.received)),
            tr(
                N_("answered: {count} ({outcomes}), late {late}"),
                count=r.answered,
                outcomes=_counts(tr, r.outcomes),
                late=r.answered_late,
            ),
            tr(
                N_("days to answer: average {average}, longest {longest}"),
                average=average,
                longest=r.longest_days if r.longest_days is not None else "-",
            ),
            tr(N_("received in the period and still open: {count}"), count=r.still_open),
        ]
    )
    return _out(args, dataclasses.asdict(r), text)


# ----- debt counsellors' proposals


def cmd_offers_add(args: argparse.Namespace) -> int:
    from incasso_tui.errors import BadInput
    from incasso_tui.services.debt_offers import record_offer

    try:
        percentage = Decimal(args.percentage.replace(",", ".").rstrip("% "))
    except ArithmeticError:
        raise BadInput(N_("Not a percentage: {text}"), text=args.percentage) from None
    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        offer_id = record_offer(
            common.context(args, db),
            args.case,
            percentage=percentage,
            term_months=args.term,
            received_on=common.parse_date(args.received),
            respond_by=common.parse_date(args.respond_by),
        )
    return _out(
        args,
        {"id": offer_id},
        tr(
            N_("proposal {id} recorded; answer due {day} (task made)"),
            id=str(offer_id),
            day=common.parse_date(args.respond_by),
        ),
    )


def cmd_offers_answer(args: argparse.Namespace) -> int:
    from incasso_tui.services.debt_offers import answer_offer

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        status = answer_offer(common.context(args, db), args.id, accept=args.answer == "accept", reason=args.reason)
    note = " " + tr(N_("(waits for a second person: incasso offers confirm)")) if status == "proposed" else ""
    return _out(
        args,
        {"id": args.id, "status": status},
        tr(N_("proposal {id}: {status}"), id=str(args.id), status=status) + note,
    )


def cmd_offers_confirm(args: argparse.Namespace) -> int:
    from incasso_tui.services.debt_offers import confirm_answer

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        status = confirm_answer(common.context(args, db), args.id, confirm=not args.send_back, reason=args.reason)
    return _out(
        args, {"id": args.id, "status": status}, tr(N_("proposal {id}: {status}"), id=str(args.id), status=status)
    )


def cmd_offers_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.debt_offers import offers

    settings = common.settings(args)
    tr = _tr(settings)
    with common.database(settings) as db:
        rows = offers(common.context(args, db), args.case)
    text = "\n".join(
        f"{o.id:<5} {tr.percent(o.percentage):>9} "
        + tr(
            N_("{term} months of {claim} (= {offered}) received {received} answer by {respond_by} {status} {reason}"),
            term=f"{o.term_months:>3}",
            claim=o.claim,
            offered=o.offered,
            received=o.received_on,
            respond_by=o.respond_by,
            status=o.status,
            reason=o.reason or "",
        )
        for o in rows
    )
    return _out(args, [{**dataclasses.asdict(o), "offered": o.offered} for o in rows], text or tr(N_("no proposals")))
