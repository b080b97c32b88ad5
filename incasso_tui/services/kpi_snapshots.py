"""The team view's figures stored with the moment they were computed (issue 18): what the dashboard opens with.

On a million loans the live figures (``services.kpi`` and ``services.causes.cause_counts``) take most of a second
of grouped counts over the desk's hundred thousand cases, and they are the same for every opening of the
dashboard until something in the book changes. Keeping them up to date in every transaction that changes them was
not chosen: the ageing buckets move with the calendar (no transaction moves a case from 1-30 to 31-60), and a
counter row that every payment, contact and task updates would serialise the desk's writers on it.

So the figures are a snapshot, always shown with its moment ("stand per ..."):

- the daily run writes the whole desk's, in its own transaction, after the positions and the bucket snapshot
  (:func:`write_daily`; 0.6-0.7 s of a million-loan run, warm, under load). Not one per user as well: 0.15 s a user
  with 30,000 cases (about 1 s a run for the six users of the generated book, most of whom may not open the
  dashboard that day), while the run is still far from its own target; the user's first opening pays it instead;
- :func:`take` computes them now for the actor's scope and stores them: the dashboard's refresh (``r``) and
  ``incasso report kpi --take``;
- :func:`for_dashboard`, what the dashboard opens with: the newest of the actor's scope when it is of today,
  otherwise a new one (an employee's first opening of the day computes their figures once; every opening after it,
  theirs or a colleague's of the same scope, reads them);
- :func:`latest` is the newest of the actor's scope, read in a few milliseconds.

A stored snapshot holds exactly what :func:`services.kpi.kpi` and ``cause_counts`` returned for the default period
(the ``DEFAULT_DAYS`` up to its ``as_of``); ``figures`` round-trips every field (amounts as strings, dates in ISO
form). Each stored snapshot writes one ``kpi.snapshot`` audit event in the transaction that stores it. Snapshots
older than ``KEEP_DAYS`` go with the daily run's.

:func:`take` reads the figures in a read-only session first and then stores them in a short transaction of its
own: the read is one consistent view of the book as of ``taken_at``, and holding SQLite's write lock through a
second of counting would stall every desk writer. The daily run computes within its transaction, so its snapshot
is the book it leaves behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from incasso_tui.services import audit
from incasso_tui.services.causes import cause_counts_in
from incasso_tui.services.context import Context
from incasso_tui.services.kpi import (
    BucketFigure,
    KpiReport,
    RollRates,
    Scope,
    Workload,
    period,
    report_in,
    scope_of,
)
from incasso_tui.store.models import KpiSnapshot

__all__ = ["KEEP_DAYS", "StoredKpi", "for_dashboard", "latest", "stored_figures", "take", "write_daily"]

KEEP_DAYS = 35  # as the bucket snapshots: a month of history and a margin
_VERSION = 1  # the shape of ``figures``


@dataclass(frozen=True)
class StoredKpi:
    """A snapshot: the report and cause counts as computed at ``taken_at`` by ``taken_by``."""

    id: int
    taken_at: datetime
    taken_by: str
    report: KpiReport
    causes: dict[str, int]


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def stored_figures(report: KpiReport, causes: dict[str, int]) -> str:
    """The JSON kept in ``kpi_snapshots.figures``: every field of the report, amounts as strings."""
    rr = report.roll_rates
    return json.dumps(
        {
            "v": _VERSION,
            "date_from": _day(report.date_from),
            "date_to": _day(report.date_to),
            "as_of": _day(report.as_of),
            "scope": report.scope,
            "open_cases": report.open_cases,
            "buckets": {name: [fig.count, str(fig.amount)] for name, fig in report.buckets.items()},
            "cure_base": report.cure_base,
            "cured": report.cured,
            "promises_kept": report.promises_kept,
            "promises_broken": report.promises_broken,
            "arrangements_kept": report.arrangements_kept,
            "arrangements_broken": report.arrangements_broken,
            "followups_on_time": report.followups_on_time,
            "followups_late": report.followups_late,
            "workload": [[w.user, w.open_cases, w.overdue_tasks] for w in report.workload],
            "roll_rates": {
                "since": _day(rr.since),
                "until": _day(rr.until),
                "available_from": _day(rr.available_from),
                "rows": rr.rows,
            },
            "causes": causes,
        },
        ensure_ascii=False,
    )


def _parse(text: str) -> tuple[KpiReport, dict[str, int]]:
    d: dict[str, Any] = json.loads(text)
    if d.get("v") != _VERSION:
        raise ValueError(f"kpi snapshot of an unknown shape: {d.get('v')!r}")
    rr = d["roll_rates"]
    report = KpiReport(
        date_from=date.fromisoformat(d["date_from"]),
        date_to=date.fromisoformat(d["date_to"]),
        as_of=date.fromisoformat(d["as_of"]),
        scope=d["scope"],
        open_cases=d["open_cases"],
        buckets={name: BucketFigure(count, Decimal(amount)) for name, (count, amount) in d["buckets"].items()},
        cure_base=d["cure_base"],
        cured=d["cured"],
        promises_kept=d["promises_kept"],
        promises_broken=d["promises_broken"],
        arrangements_kept=d["arrangements_kept"],
        arrangements_broken=d["arrangements_broken"],
        followups_on_time=d["followups_on_time"],
        followups_late=d["followups_late"],
        workload=tuple(Workload(user, n, late) for user, n, late in d["workload"]),
        roll_rates=RollRates(_date(rr["since"]), _date(rr["until"]), _date(rr["available_from"]), rr["rows"]),
    )
    return report, d["causes"]


def _view(row: KpiSnapshot) -> StoredKpi:
    report, causes = _parse(row.figures)
    return StoredKpi(row.id, row.taken_at, row.taken_by, report, causes)


def _store(
    s: Session, scope: Scope, report: KpiReport, causes: dict[str, int], actor: str, now: datetime
) -> KpiSnapshot:
    row = KpiSnapshot(
        scope_user_id=None if scope is None else scope[0],
        taken_at=now,
        taken_by=actor,
        as_of=report.as_of,
        figures=stored_figures(report, causes),
    )
    s.add(row)
    s.flush()
    audit.record(
        s,
        at=now,
        actor=actor,
        action="kpi.snapshot",
        entity="kpi_snapshot",
        entity_id=row.id,
        after={"scope": report.scope, "as_of": report.as_of, "open_cases": report.open_cases},
    )
    return row


def _compute(s: Session, backend: str, today: date, scope: Scope) -> tuple[KpiReport, dict[str, int]]:
    date_from, date_to = period(today)
    report = report_in(s, backend, today, date_from, date_to, scope)
    return report, cause_counts_in(s, None if scope is None else scope[0])


def latest(ctx: Context) -> StoredKpi | None:
    """The newest snapshot of the actor's scope (the whole desk, or the actor's own cases) as of today or before,
    or None. Newest by the day it is of, then by when it was stored: one taken later for an earlier day (a run for
    a past date, ``--take --date``) does not hide today's, nor one for a later day today's."""
    scope = scope_of(ctx)
    with ctx.db.reader() as s:
        where = KpiSnapshot.scope_user_id.is_(None) if scope is None else KpiSnapshot.scope_user_id == scope[0]
        row = s.scalar(
            select(KpiSnapshot)
            .where(where, KpiSnapshot.as_of <= ctx.clock.today())
            .order_by(KpiSnapshot.as_of.desc(), KpiSnapshot.id.desc())
            .limit(1)
        )
        return None if row is None else _view(row)


def take(ctx: Context) -> StoredKpi:
    """Compute the actor's figures now (the default period up to today) and store them: one read, then one short
    transaction with the snapshot and its ``kpi.snapshot`` event (see the module docstring)."""
    scope = scope_of(ctx)
    now, today = ctx.clock.now(), ctx.clock.today()
    with ctx.db.reader() as s:
        report, causes = _compute(s, ctx.db.backend, today, scope)
    with ctx.db.transaction() as s:
        row = _store(s, scope, report, causes, ctx.actor.name, now)
        return StoredKpi(row.id, now, ctx.actor.name, report, causes)


def for_dashboard(ctx: Context) -> StoredKpi:
    """What the dashboard opens with: the newest snapshot of the actor's scope when it is of today, otherwise a new
    one (taken now)."""
    newest = latest(ctx)
    if newest is not None and newest.report.as_of == ctx.clock.today():
        return newest
    return take(ctx)


def write_daily(s: Session, backend: str, day: date, actor: str, now: datetime) -> StoredKpi:
    """The daily run's step: the whole desk's snapshot, computed in the run's session as of ``day``; snapshots older
    than ``KEEP_DAYS`` go (every scope's)."""
    s.execute(delete(KpiSnapshot).where(KpiSnapshot.as_of < day - timedelta(days=KEEP_DAYS)))
    report, causes = _compute(s, backend, day, None)
    row = _store(s, None, report, causes, actor, now)
    return StoredKpi(row.id, now, actor, report, causes)
