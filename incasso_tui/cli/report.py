"""``incasso report kpi [--from D1] [--to D2] [--stored | --take] [--json]``: the team view's figures (services.kpi).

Without ``--stored``/``--take`` the figures are computed now (live). ``--stored`` prints the newest stored
snapshot of the user's scope, which is what the dashboard shows (services.kpi_snapshots), ``--take`` computes and
stores one now (the dashboard's refresh); both are of the 30 days up to their day, and their JSON adds
``taken_at``, ``taken_by`` and ``causes`` ({cause: open cases}, as the dashboard's causes line).

With ``--user NAME`` the report is that user's view (an employee sees their own cases); without it, the operator
``cli:<os user>`` reads the whole desk with the auditor's role (read only: whoever can reach the database URL can
read all of it anyway). ``--date`` sets today (the day the ageing buckets are measured); the period defaults to the
30 days up to today. JSON: ``open_cases``, ``arrears``, ``buckets`` ({bucket: {"count": n, "amount": "0.00"}}),
each rate as a number between 0 and 1 (or null when it has no denominator) in a key ending in ``_rate``,
``arrangements`` ({"kept": n, "broken": n}), ``workload`` ([{"user": name or null, "open_cases": n, "overdue_tasks": n}]),
``roll_rates`` ({"since": last week's snapshot day, "until": now's, "available_from": null or the first end date
with a week-old snapshot, "rows": {bucket then: {"cases": n, "to": {bucket now | "closed" | "handed_over":
{"count": n, "roll_rate": 0..1}}}}}; since and until are null, and rows empty, until such a snapshot exists;
until alone is null, and rows empty, when the daily run has written no snapshot after last week's).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from incasso_tui.cli import common
from incasso_tui.domain.arrears import BUCKETS
from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_
from incasso_tui.i18n import Translator

__all__ = ["register", "report_json", "roll_rates_json"]

if TYPE_CHECKING:
    from incasso_tui.services.kpi import KpiReport, RollRates


def register(sub: common.Subparsers) -> None:
    report = sub.add_parser("report", help="management reports", description="management reports")
    report.set_defaults(func=lambda _a: common.usage(report))
    report_sub = report.add_subparsers(title="report commands", metavar="COMMAND")
    kpi = report_sub.add_parser(
        "kpi",
        help="the desk's KPIs: ageing, cure, promises, arrangements, follow-up",
        description="the desk's KPIs for a period (default: the 30 days up to --date)",
    )
    kpi.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day of the period")
    kpi.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day of the period (default: today)")
    kpi.add_argument("--json", action="store_true", help="print the figures as JSON")
    stored = kpi.add_mutually_exclusive_group()
    stored.add_argument(
        "--stored",
        action="store_true",
        help="the newest stored figures, as the dashboard shows them, with the moment they were computed",
    )
    stored.add_argument(
        "--take", action="store_true", help="compute the figures now and store them (the dashboard's refresh)"
    )
    kpi.set_defaults(func=cmd_kpi)


def _rate(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _day(value: object) -> str | None:
    return None if value is None else value.isoformat()  # type: ignore[attr-defined]


def roll_rates_json(rr: RollRates) -> dict[str, object]:
    return {
        "since": _day(rr.since),
        "until": _day(rr.until),
        "available_from": _day(rr.available_from),
        "rows": {
            b: {
                "cases": rr.cases(b),
                "to": {t: {"count": n, "roll_rate": _rate(rr.rate(b, t))} for t, n in row.items()},
            }
            for b, row in rr.rows.items()
        },
    }


def report_json(r: KpiReport) -> dict[str, object]:
    return {
        "from": r.date_from.isoformat(),
        "to": r.date_to.isoformat(),
        "as_of": r.as_of.isoformat(),
        "scope": r.scope,
        "open_cases": r.open_cases,
        "arrears": str(r.arrears),
        "buckets": {b: {"count": r.buckets[b].count, "amount": str(r.buckets[b].amount)} for b in BUCKETS},
        "cure_rate": _rate(r.cure_rate),
        "promises_kept_rate": _rate(r.promises_kept_rate),
        "arrangements_kept_rate": _rate(r.arrangements_kept_rate),
        "followup_timeliness_rate": _rate(r.followup_timeliness_rate),
        "cure": {"cured": r.cured, "open_at_start": r.cure_base},
        "promises": {"kept": r.promises_kept, "broken": r.promises_broken},
        "arrangements": {"kept": r.arrangements_kept, "broken": r.arrangements_broken},
        "followups": {"on_time": r.followups_on_time, "late": r.followups_late},
        "workload": [
            {"user": w.user, "open_cases": w.open_cases, "overdue_tasks": w.overdue_tasks} for w in r.workload
        ],
        "roll_rates": roll_rates_json(r.roll_rates),
    }


def _pct(value: object) -> str:
    return "-" if value is None else f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]


def _roll_unavailable(tr: Translator, available_from: object) -> str:
    if available_from is None:
        return tr(N_("Roll rates: not yet available (the daily run has written no bucket snapshot yet)"))
    return tr(
        N_("Roll rates: available from {date} (a week after the first bucket snapshot)"), date=_day(available_from)
    )


def cmd_kpi(args: argparse.Namespace) -> int:
    from incasso_tui.errors import BadInput, NotFound
    from incasso_tui.services import kpi_snapshots
    from incasso_tui.services.kpi import kpi

    settings = common.settings(args)
    tr = Translator(settings.lang)
    date_from = common.parse_date(args.date_from) if args.date_from else None
    date_to = common.parse_date(args.date_to) if args.date_to else None
    snapshot: kpi_snapshots.StoredKpi | None = None
    if (args.stored or args.take) and (date_from or date_to):
        raise BadInput(N_("Stored figures are always of the 30 days up to their day: leave out --from and --to"))
    with common.database(settings) as db:
        ctx = common.context(args, db, operator_role=Role.AUDITOR)
        if args.stored:
            snapshot = kpi_snapshots.latest(ctx)
            if snapshot is None:
                raise NotFound(N_("No figures are stored yet: the daily run stores them, or --take"))
        elif args.take:
            snapshot = kpi_snapshots.take(ctx)
        r = snapshot.report if snapshot is not None else kpi(ctx, date_from, date_to)
    if args.json:
        out = report_json(r)
        if snapshot is not None:
            out |= {"taken_at": snapshot.taken_at.isoformat(), "taken_by": snapshot.taken_by, "causes": snapshot.causes}
        common.print_json(out)
        return 0
    print(
        tr(
            N_("KPIs {date_from} to {date_to} (ageing as of {as_of})"),
            date_from=r.date_from.isoformat(),
            date_to=r.date_to.isoformat(),
            as_of=r.as_of.isoformat(),
        )
    )
    if snapshot is not None:
        print(
            tr(
                N_("Stored figures: computed at {moment} by {name}"),
                moment=snapshot.taken_at.isoformat(sep=" ", timespec="minutes"),
                name=snapshot.taken_by,
            )
        )
    print(tr(N_("Open cases: {count}, arrears {amount}"), count=r.open_cases, amount=r.arrears))
    for b in BUCKETS:
        print(f"  {b:<8} {r.buckets[b].count:>8} {r.buckets[b].amount:>16}")
    print(
        tr(
            N_("Cure rate: {rate} ({cured} of {base} open at the start)"),
            rate=_pct(r.cure_rate),
            cured=r.cured,
            base=r.cure_base,
        )
    )
    print(
        tr(
            N_("Promises kept: {rate} ({kept} kept, {broken} broken)"),
            rate=_pct(r.promises_kept_rate),
            kept=r.promises_kept,
            broken=r.promises_broken,
        )
    )
    print(tr(N_("Arrangements: {kept} kept, {broken} broken"), kept=r.arrangements_kept, broken=r.arrangements_broken))
    print(
        tr(
            N_("Follow-up on time: {rate} ({on_time} on time, {late} late)"),
            rate=_pct(r.followup_timeliness_rate),
            on_time=r.followups_on_time,
            late=r.followups_late,
        )
    )
    rr = r.roll_rates
    if rr.since is None:
        print(_roll_unavailable(tr, rr.available_from))
    elif rr.until is None:
        print(
            tr(N_("Roll rates: no bucket snapshot after {date}: the daily run has not run since"), date=_day(rr.since))
        )
    else:
        print(
            tr(
                N_("Roll rates {since} to {until} (cases then: share now)"),
                since=rr.since.isoformat(),
                until=_day(rr.until),
            )
        )
        for b, row in rr.rows.items():
            moves = ", ".join(f"{t} {_pct(rr.rate(b, t))}" for t, n in row.items() if n)
            print(f"  {b:<8} {rr.cases(b):>8}: {moves}")
    print(tr(N_("Workload:")))
    for w in r.workload:
        late = tr(N_("{count} late"), count=w.overdue_tasks) if w.overdue_tasks else ""
        print(f"  {w.user or tr(N_('(unassigned)')):<16} {w.open_cases:>8} {late}")
    return 0
