"""The risk view's commands (issue 20; services.risk).

- ``report risk [--as-of D] [--from D] [--json | --csv]``: PAR30, PAR90 (restructured included), default and
  forborne, IFRS 9 stages, the ageing buckets they reconcile with, write-offs and recoveries in the period
  ``--from`` .. ``--as-of`` (default: the 30 days up to it) and to date, the signals. Read as the operator
  ``cli:<os user>`` with the auditor's role unless ``--user`` is given (as ``report kpi``). JSON: amounts as
  strings ``"1234.56"``, rates as numbers between 0 and 1 or null, dates ISO. CSV: one row per figure
  (``figure,key,count,amount,rate``).
- ``risk loan NUMBER [--json]``: a loan's risk history (one row per change).
- ``risk signals [--from D] [--to D] [--json]``: the early-warning signals raised in the period.
- ``risk vulnerability list|set|remove CLIENT [--kind K] [--note TEXT] [--json]``: a client's vulnerability
  flags (set and remove act as ``--user``, who must be on the desk).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from incasso_tui.cli import common
from incasso_tui.domain.arrears import BUCKETS
from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_
from incasso_tui.i18n import Translator
from incasso_tui.safetext import csv_cell

if TYPE_CHECKING:
    from incasso_tui.services.risk import RiskReport

__all__ = ["register", "report_json"]

_CONTROLS = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421"}


def _plain(value: object) -> str:
    return str(value).translate(_CONTROLS)


def register(sub: common.Subparsers) -> None:
    rep = common.commands_of(sub, "report").add_parser(  # risk is one more of its reports
        "risk",
        help="PAR30/PAR90, default, forborne, IFRS 9 stages, write-offs, recoveries, signals",
        description="the risk figures as of a day (default: today) and for a period up to it",
    )
    rep.add_argument(
        "--as-of", dest="as_of", metavar="YYYY-MM-DD", help="the day of the status figures (default: today)"
    )
    rep.add_argument(
        "--from",
        dest="date_from",
        metavar="YYYY-MM-DD",
        help="first day of the period for write-offs, recoveries and signals (default: 30 days)",
    )
    out = rep.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the figures as JSON")
    out.add_argument("--csv", action="store_true", help="print the figures as CSV")
    rep.set_defaults(func=cmd_report)

    risk = sub.add_parser(
        "risk",
        help="loan risk history, early-warning signals, vulnerability flags",
        description="loan risk history, early-warning signals, vulnerability flags",
    )
    risk.set_defaults(func=lambda _a: common.usage(risk))
    risk_sub = risk.add_subparsers(title="risk commands", metavar="COMMAND")
    loan = risk_sub.add_parser("loan", help="a loan's risk history", description="a loan's risk history")
    loan.add_argument("number", help="the loan number")
    loan.add_argument("--json", action="store_true")
    loan.set_defaults(func=cmd_loan)
    sig = risk_sub.add_parser(
        "signals",
        help="early-warning signals raised in a period",
        description="early-warning signals raised in a period (default: the last 30 days)",
    )
    sig.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    sig.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    sig.add_argument("--json", action="store_true")
    sig.set_defaults(func=cmd_signals)
    vul = risk_sub.add_parser(
        "vulnerability",
        help="a client's vulnerability flags",
        description="list, set or remove a client's vulnerability flags",
    )
    vul.add_argument("action", choices=("list", "set", "remove"))
    vul.add_argument("client", help="the client number")
    vul.add_argument(
        "--kind", help="illness, bereavement, divorce, business_closure, debt_problems, language_or_reading"
    )
    vul.add_argument("--note", default="")
    vul.add_argument("--json", action="store_true")
    vul.set_defaults(func=cmd_vulnerability)


def _rate(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def report_json(r: RiskReport) -> dict[str, object]:
    def fig(f) -> dict[str, object]:  # type: ignore[no-untyped-def]
        return {"count": f.count, "amount": str(f.amount)}

    return {
        "as_of": r.as_of.isoformat(),
        "from": r.date_from.isoformat(),
        "to": r.date_to.isoformat(),
        "recorded_until": None if r.recorded_until is None else r.recorded_until.isoformat(),
        "portfolio": fig(r.portfolio),
        "par30": {
            "amount": str(r.par30_amount),
            "rate": _rate(r.par30),
            "restructured_added": fig(r.forborne_not_past_30),
        },
        "par90": {
            "amount": str(r.par90_amount),
            "rate": _rate(r.par90),
            "restructured_added": fig(r.forborne_not_past_90),
        },
        "default": fig(r.default),
        "forborne": fig(r.forborne),
        "stages": {str(n): fig(f) for n, f in r.stages.items()},
        "buckets": {b: fig(r.buckets[b]) for b in BUCKETS},
        "write_offs": str(r.write_offs),
        "recoveries": str(r.recoveries),
        "recovery_rate": _rate(r.recovery_rate),
        "write_offs_to_date": str(r.write_offs_to_date),
        "recoveries_to_date": str(r.recoveries_to_date),
        "recovery_rate_to_date": _rate(r.recovery_rate_to_date),
        "signals": {"raised": r.signals, "followed_by_arrears": r.signals_followed, "by_rule": r.signals_by_rule},
        "unverified": list(r.unverified),
    }


def _csv_rows(r: RiskReport) -> list[tuple[str, str, object, object, object]]:
    rows: list[tuple[str, str, object, object, object]] = [
        ("portfolio", "", r.portfolio.count, r.portfolio.amount, ""),
        ("par30", "", "", r.par30_amount, "" if r.par30 is None else r.par30),
        ("par90", "", "", r.par90_amount, "" if r.par90 is None else r.par90),
        ("par30_restructured_added", "", r.forborne_not_past_30.count, r.forborne_not_past_30.amount, ""),
        ("par90_restructured_added", "", r.forborne_not_past_90.count, r.forborne_not_past_90.amount, ""),
        ("default", "", r.default.count, r.default.amount, ""),
        ("forborne", "", r.forborne.count, r.forborne.amount, ""),
    ]
    rows += [("stage", str(n), f.count, f.amount, "") for n, f in r.stages.items()]
    rows += [("bucket", b, r.buckets[b].count, r.buckets[b].amount, "") for b in BUCKETS]
    rows += [
        ("write_offs", "period", "", r.write_offs, ""),
        ("recoveries", "period", "", r.recoveries, "" if r.recovery_rate is None else r.recovery_rate),
        ("write_offs", "to_date", "", r.write_offs_to_date, ""),
        (
            "recoveries",
            "to_date",
            "",
            r.recoveries_to_date,
            "" if r.recovery_rate_to_date is None else r.recovery_rate_to_date,
        ),
        ("signals", "raised", r.signals, "", ""),
        ("signals", "followed_by_arrears", r.signals_followed, "", ""),
    ]
    rows += [("signals", rule, n, "", "") for rule, n in sorted(r.signals_by_rule.items())]
    return rows


def _pct(tr: Translator, value: object) -> str:
    return "-" if value is None else tr.percent(value)  # type: ignore[arg-type]


def print_report(tr: Translator, r: RiskReport) -> None:
    print(
        tr(
            N_("Risk figures as of {as_of} (period {date_from} to {date_to})"),
            as_of=r.as_of,
            date_from=r.date_from,
            date_to=r.date_to,
        )
    )
    if r.recorded_until is None:
        print(tr(N_("No risk status recorded yet: the daily run writes it (incasso procedure run)")))
    elif r.recorded_from is not None and r.as_of < r.recorded_from:
        print(tr(N_("No risk status recorded on this day: the history starts on {date}"), date=r.recorded_from))
    elif r.recorded_until < r.as_of:
        print(tr(N_("Status as the daily run last recorded it, on {date}"), date=r.recorded_until))
    print(
        tr.plural(
            "Portfolio: {count} loan, outstanding principal {amount}",
            "Portfolio: {count} loans, outstanding principal {amount}",
            r.portfolio.count,
            count=r.portfolio.count,
            amount=r.portfolio.amount,
        )
    )
    print(
        tr(
            N_("PAR30: {rate} ({amount}, restructured included: {extra})"),
            rate=_pct(tr, r.par30),
            amount=r.par30_amount,
            extra=r.forborne_not_past_30.amount,
        )
    )
    print(
        tr(
            N_("PAR90: {rate} ({amount}, restructured included: {extra})"),
            rate=_pct(tr, r.par90),
            amount=r.par90_amount,
            extra=r.forborne_not_past_90.amount,
        )
    )
    print(
        tr.plural(
            "In default: {count} loan, {amount}",
            "In default: {count} loans, {amount}",
            r.default.count,
            count=r.default.count,
            amount=r.default.amount,
        )
    )
    print(
        tr.plural(
            "Forborne: {count} loan, {amount}",
            "Forborne: {count} loans, {amount}",
            r.forborne.count,
            count=r.forborne.count,
            amount=r.forborne.amount,
        )
    )
    for n, f in r.stages.items():
        print(
            tr.plural(
                "  Stage {stage}: {count} loan, {amount}",
                "  Stage {stage}: {count} loans, {amount}",
                f.count,
                stage=str(n),
                count=f.count,
                amount=f.amount,
            )
        )
    print(tr(N_("Ageing (loans):")))
    for b in BUCKETS:
        print(f"  {b:<8} {tr.integer(r.buckets[b].count):>10} {tr.money(r.buckets[b].amount):>22}")
    print(
        tr(
            N_("Write-offs in the period: {amount}; recoveries: {recovered} (recovery rate {rate})"),
            amount=r.write_offs,
            recovered=r.recoveries,
            rate=_pct(tr, r.recovery_rate),
        )
    )
    print(
        tr(
            N_("To date: written off {amount}, recovered {recovered} ({rate})"),
            amount=r.write_offs_to_date,
            recovered=r.recoveries_to_date,
            rate=_pct(tr, r.recovery_rate_to_date),
        )
    )
    print(
        tr(
            N_("Signals in the period: {count}, followed by arrears: {followed}"),
            count=r.signals,
            followed=r.signals_followed,
        )
    )
    if r.unverified:
        print(tr(N_("Unverified values in the risk file: {fields}"), fields=", ".join(r.unverified)))


def cmd_report(args: argparse.Namespace) -> int:
    from incasso_tui.services.risk import risk_report

    settings = common.settings(args)
    tr = Translator(settings.lang)
    as_of = common.parse_date(args.as_of) if args.as_of else None
    date_from = common.parse_date(args.date_from) if args.date_from else None
    with common.database(settings) as db:
        r = risk_report(common.context(args, db, operator_role=Role.AUDITOR), as_of, date_from)
    if args.json:
        print(json.dumps(report_json(r), ensure_ascii=False))
    elif args.csv:
        writer = csv.writer(sys.stdout)  # RFC 4180: CRLF line ends, as the worklist export
        writer.writerow(("as_of", "figure", "key", "count", "amount", "rate"))
        for figure, key, *values in _csv_rows(r):  # the keys come from the risk file: text cells (safetext)
            writer.writerow((r.as_of.isoformat(), csv_cell(figure), csv_cell(key), *values))
    else:
        print_report(tr, r)
    return 0


def cmd_loan(args: argparse.Namespace) -> int:
    from incasso_tui.services.risk import loan_history

    settings = common.settings(args)
    tr = Translator(settings.lang)
    with common.database(settings) as db:
        rows = loan_history(common.context(args, db, operator_role=Role.AUDITOR), args.number)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "valid_from": r.valid_from.isoformat(),
                        "valid_to": None if r.valid_to is None else r.valid_to.isoformat(),
                        "stage": r.stage,
                        "bucket": r.bucket,
                        "dpd": r.dpd,
                        "outstanding": str(r.outstanding),
                        "past_due": str(r.past_due),
                        "non_performing": r.non_performing,
                        "default_reason": r.default_reason,
                        "forborne": r.forborne,
                        "probation_until": None if r.probation_until is None else r.probation_until.isoformat(),
                        "written_off": r.written_off,
                    }
                    for r in rows
                ]
            )
        )
        return 0
    if not rows:
        print(tr(N_("No risk status recorded yet: the daily run writes it (incasso procedure run)")))
    for r in rows:
        status = (
            [tr(N_("in default")) + (f" ({r.default_reason})" if r.default_reason else "")] if r.non_performing else []
        )
        if r.forborne:
            status.append(
                tr(N_("forborne, probation until {date}"), date=r.probation_until)
                if r.probation_until
                else tr(N_("forborne"))
            )
        until = tr.date(r.valid_to) if r.valid_to else "…"
        print(
            f"{tr.date(r.valid_from)} – {until}  {tr(N_('stage {stage}'), stage=str(r.stage))}  {r.bucket:<7} "
            f"{tr.money(r.outstanding):>14}  {', '.join(status)}"
        )
    return 0


def cmd_signals(args: argparse.Namespace) -> int:
    from incasso_tui.services.risk import signal_list

    settings = common.settings(args)
    tr = Translator(settings.lang)
    with common.database(settings) as db:
        ctx = common.context(args, db, operator_role=Role.AUDITOR)
        date_to = common.parse_date(args.date_to) if args.date_to else ctx.clock.today()
        date_from = common.parse_date(args.date_from) if args.date_from else date_to - timedelta(days=29)
        rows = signal_list(ctx, date_from, date_to)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "day": r.day.isoformat(),
                        "rule": r.rule,
                        "detail": r.detail,
                        "loan": r.loan,
                        "client": r.client,
                        "client_name": r.client_name,
                        "task_id": r.task_id,
                        "arrears_on": None if r.arrears_on is None else r.arrears_on.isoformat(),
                    }
                    for r in rows
                ],
                ensure_ascii=False,
            )
        )
        return 0
    print(
        tr.plural(
            "{count} signal from {date_from} to {date_to}",
            "{count} signals from {date_from} to {date_to}",
            len(rows),
            count=len(rows),
            date_from=date_from,
            date_to=date_to,
        )
    )
    for r in rows:
        followed = tr(N_("in arrears on {date}"), date=r.arrears_on) if r.arrears_on else ""
        print(
            f"{tr.date(r.day)}  {r.rule:<16} {r.loan:<12} {_plain(r.client_name)[:30]:<30} {_plain(r.detail)[:40]}"
            f"  {followed}"
        )
    return 0


def cmd_vulnerability(args: argparse.Namespace) -> int:
    from incasso_tui.errors import BadInput
    from incasso_tui.services import risk
    from incasso_tui.services.cases import client_by_number

    settings = common.settings(args)
    tr = Translator(settings.lang)
    with common.database(settings) as db:
        reading = args.action == "list"
        ctx = common.context(args, db, operator_role=Role.AUDITOR if reading else None)
        client_id = client_by_number(ctx, args.client)
        if args.action in ("set", "remove"):
            if not args.kind:
                raise BadInput(N_("Give the kind of vulnerability with --kind"), field="kind")
            if args.action == "set":
                risk.set_vulnerability(ctx, client_id, args.kind, args.note)
            else:
                risk.remove_vulnerability(ctx, client_id, args.kind)
        flags = risk.vulnerabilities(ctx, client_id)
    if args.json:
        print(
            json.dumps(
                [{"kind": f.kind, "note": f.note, "set_by": f.set_by, "set_at": f.set_at.isoformat()} for f in flags],
                ensure_ascii=False,
            )
        )
        return 0
    if not flags:
        print(tr(N_("No vulnerability flags")))
    for f in flags:
        print(f"{f.kind:<20} {f.set_by:<12} {tr.datetime(f.set_at)}  {_plain(f.note)}")
    return 0
