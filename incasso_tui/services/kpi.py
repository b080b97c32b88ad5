"""The team view's figures (issue 8): ageing, cure, promises, arrangements, follow-up timeliness, workload.

Everything is computed in the database, set-based: the ageing buckets and the workload read the ``cases.pos_*``
cache through the desk's partial indexes, the rates are grouped counts. Nothing loops over cases in Python, so the
report stays quick on a book of a million loans.

Scope: supervisors, admins and auditors see the whole desk; every other role sees the cases assigned to them.

Roll rates: the daily run writes a snapshot of every desk case's bucket and arrears (``bucket_snapshots``, kept 35
days). "Last week" is the newest snapshot at least 7 days before the report's end date, "now" the newest snapshot
on or before the end date (not the live cache: both sides are the run's measure, and a report for a past date
gives the same answer tomorrow). A case in last week's snapshot that is missing from now's left the desk: closed
(cured) or handed over, by the case's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, Date, Select, String, and_, case, cast, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased

from incasso_tui.domain.arrears import BUCKETS
from incasso_tui.domain.audit_actions import ARRANGEMENT_BROKEN, ARRANGEMENT_KEPT, CONTACT_LOG, ContactLogBefore
from incasso_tui.domain.enums import CaseStatus, PromiseStatus, Role, TaskStatus
from incasso_tui.domain.money import ZERO
from incasso_tui.errors import N_, BadInput
from incasso_tui.services.context import Context
from incasso_tui.services.positions import bucket_of
from incasso_tui.store.models import DESK_WHERE, AuditEvent, BucketSnapshot, Case, Promise, Task, User

__all__ = [
    "DEFAULT_DAYS",
    "ROLL_DAYS",
    "ROLL_TARGETS",
    "WHOLE_DESK_ROLES",
    "BucketFigure",
    "KpiReport",
    "RollRates",
    "Scope",
    "Workload",
    "kpi",
    "period",
    "report_in",
    "scope_of",
]

WHOLE_DESK_ROLES = (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR)
DEFAULT_DAYS = 30  # the period when no start is given: the 30 days up to and including the end
_RATE = Decimal("0.0001")
ROLL_DAYS = 7  # "since last week": the older snapshot is at least this many days before the end date
CLOSED, HANDED_OVER = "closed", "handed_over"  # where a case went that left the desk
ROLL_TARGETS: tuple[str, ...] = (*BUCKETS, CLOSED, HANDED_OVER)


@dataclass(frozen=True)
class BucketFigure:
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Workload:
    user: str | None  # None: not assigned to anyone
    open_cases: int
    overdue_tasks: int = 0  # open tasks of the user past their due date (issue 13)


@dataclass(frozen=True)
class RollRates:
    """Movement between buckets from the snapshot of ``since`` to that of ``until``: ``rows[bucket then][target]``
    counts the cases, for the buckets then that had cases (targets: ``ROLL_TARGETS``, every one present).
    When no snapshot is old enough, ``since`` and ``until`` are None and ``available_from`` says from which end
    date there will be one (None: the daily run has written no snapshot yet). When there is last week's snapshot
    but none after it (the daily run has not run since), ``until`` is None and ``rows`` empty."""

    since: date | None
    until: date | None
    available_from: date | None
    rows: dict[str, dict[str, int]]

    def cases(self, bucket: str) -> int:
        return sum(self.rows[bucket].values())

    def rate(self, bucket: str, target: str) -> Decimal | None:
        """The share of the row's cases that went to ``target`` (four places)."""
        return _rate(self.rows[bucket][target], self.cases(bucket))


@dataclass(frozen=True)
class KpiReport:
    date_from: date
    date_to: date
    as_of: date  # the day the buckets and the workload are measured (today: they read the live position cache)
    scope: str | None  # None: the whole desk; otherwise the user whose cases these are
    open_cases: int
    buckets: dict[str, BucketFigure]
    cure_base: int
    cured: int
    promises_kept: int
    promises_broken: int
    arrangements_kept: int
    arrangements_broken: int
    followups_on_time: int
    followups_late: int
    workload: tuple[Workload, ...]
    roll_rates: RollRates

    @property
    def arrears(self) -> Decimal:
        return sum((b.amount for b in self.buckets.values()), ZERO)

    @property
    def cure_rate(self) -> Decimal | None:
        return _rate(self.cured, self.cure_base)

    @property
    def promises_kept_rate(self) -> Decimal | None:
        return _rate(self.promises_kept, self.promises_kept + self.promises_broken)

    @property
    def arrangements_kept_rate(self) -> Decimal | None:
        return _rate(self.arrangements_kept, self.arrangements_kept + self.arrangements_broken)

    @property
    def followup_timeliness_rate(self) -> Decimal | None:
        return _rate(self.followups_on_time, self.followups_on_time + self.followups_late)


def _rate(part: int, whole: int) -> Decimal | None:
    """``part / whole`` rounded to four places; None when there is nothing to divide by (not 0)."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(_RATE, rounding=ROUND_HALF_UP)


def kpi(ctx: Context, date_from: date | None = None, date_to: date | None = None) -> KpiReport:
    """The desk's figures for the period ``date_from`` .. ``date_to`` (both inclusive; default: the 30 days up to
    today).

    - ``open_cases``, ``buckets``: the desk's cases (statuses in ``DESK_WHERE``; handed-over cases belong to special
      management) by ageing bucket of their oldest unpaid due date, as of today, with the sum of their arrears.
      The bucket counts add up to ``open_cases``.
    - cure rate: of the cases open at the start of the period (opened before ``date_from``, not closed before it),
      the share closed within the period. A case is only closed when its arrears is cleared (the daily run closes a
      case with nothing past due; a kept arrangement closes its case), so "closed" means "cured".
    - promises kept rate: promises due within the period that are settled: kept / (kept + broken). Promises still
      open are not counted.
    - arrangements kept and broken: the arrangements that became kept or broken within the period (the audit
      events ``arrangement.kept`` and ``arrangement.broken``).
    - follow-up timeliness rate: on time / (on time + late), where a next action is *done* when a contact is logged
      on the case (the audit event ``contact.log`` holds the next-action date it replaced): on time when logged on
      or before that date, late when after. Contacts logged within the period count. A desk case whose next-action
      date lies within the period and before today and has not been followed up yet counts as late too.
      Tasks count too (issue 13), except the ``follow_up`` task that is the next action itself: a task completed
      within the period is on time when done on or before its due date, late after it; an open task due within the
      period and before today is late.
    - workload: the desk's cases per assignee, most first, with each one's open tasks past their due date (users
      with overdue tasks but no desk cases are listed too).
    - roll rates: see :class:`RollRates` and the module docstring; in scope are the cases assigned to the user
      now (as for the other figures).

    Raises :class:`BadInput` when the period ends before it starts.
    """
    today = ctx.clock.today()
    date_from, date_to = period(today, date_from, date_to)
    with ctx.db.reader() as s:
        return report_in(s, ctx.db.backend, today, date_from, date_to, scope_of(ctx))


Scope = tuple[int, str] | None  # None: the whole desk; otherwise (user id, user name) whose cases these are


def scope_of(ctx: Context) -> Scope:
    """The actor's scope: the whole desk for supervisors, admins and auditors, their own cases for everyone else."""
    return None if ctx.actor.role in WHOLE_DESK_ROLES else (ctx.actor.id, ctx.actor.name)


def period(today: date, date_from: date | None = None, date_to: date | None = None) -> tuple[date, date]:
    """The report's period: by default the ``DEFAULT_DAYS`` up to today; :class:`BadInput` when it ends before it
    starts."""
    date_to = date_to or today
    date_from = date_from or date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise BadInput(
            N_("The period ends before it starts: {date_from} to {date_to}"),
            field="from",
            date_from=date_from.isoformat(),
            date_to=date_to.isoformat(),
        )
    return date_from, date_to


def report_in(s: Session, backend: str, today: date, date_from: date, date_to: date, scope: Scope) -> KpiReport:
    """:func:`kpi` in the caller's session (the daily run computes its snapshot in its own transaction)."""
    mine: list[ColumnElement[bool]] = [] if scope is None else [Case.assignee_id == scope[0]]
    start = datetime.combine(date_from, time.min)
    end = datetime.combine(date_to + timedelta(days=1), time.min)

    bucket = bucket_of(today).label("bucket")
    buckets = {b: BucketFigure(0, ZERO) for b in BUCKETS}
    rows = s.execute(
        select(bucket, func.count(), func.sum(Case.pos_arrears)).where(text(DESK_WHERE), *mine).group_by(bucket)
    ).all()
    for name, count, amount in rows:
        buckets[name] = BucketFigure(int(count), amount if amount is not None else ZERO)

    open_at_start = and_(Case.opened_on < date_from, (Case.closed_on.is_(None)) | (Case.closed_on >= date_from), *mine)
    cured_case = and_(Case.status == CaseStatus.CLOSED.value, Case.closed_on <= date_to)
    base, cured = s.execute(
        select(func.count(), func.coalesce(func.sum(case((cured_case, 1), else_=0)), 0)).where(open_at_start)
    ).one()

    promises = dict(
        s.execute(
            select(Promise.status, func.count())
            .join(Case, Case.id == Promise.case_id)
            .where(
                Promise.due_date >= date_from,
                Promise.due_date <= date_to,
                Promise.status.in_((PromiseStatus.KEPT, PromiseStatus.BROKEN)),
                *mine,
            )
            .group_by(Promise.status)
        ).all()
    )

    arrangements = dict(
        s.execute(
            _events(mine, (ARRANGEMENT_KEPT, ARRANGEMENT_BROKEN), start, end)
            .add_columns(AuditEvent.action, func.count())
            .group_by(AuditEvent.action)
        ).all()
    )

    replaced = _replaced_next_action(backend)
    done_day = cast(AuditEvent.at, Date) if backend == "postgresql" else func.date(AuditEvent.at)
    on_time, late_done = s.execute(
        _events(mine, (CONTACT_LOG,), start, end)
        .where(replaced.is_not(None))
        .add_columns(
            func.coalesce(func.sum(case((done_day <= replaced, 1), else_=0)), 0),
            func.coalesce(func.sum(case((done_day > replaced, 1), else_=0)), 0),
        )
    ).one()
    missed_until = min(date_to, today - timedelta(days=1))
    missed = (
        int(
            s.execute(
                select(func.count())
                .select_from(Case)
                .where(
                    text(DESK_WHERE),
                    Case.next_action_date >= date_from,
                    Case.next_action_date <= missed_until,
                    *mine,
                )
            ).scalar_one()
        )
        if missed_until >= date_from
        else 0
    )

    workload_rows = s.execute(
        select(User.name, func.count())
        .select_from(Case)
        .outerjoin(User, User.id == Case.assignee_id)
        .where(text(DESK_WHERE), *mine)
        .group_by(User.name)
        .order_by(func.count().desc(), User.name)
    ).all()
    roll_rates = _roll_rates(s, date_to, mine)

    task_scope = [] if scope is None else [Task.assignee_id == scope[0]]
    counted = and_(Task.kind != "follow_up", *task_scope)
    task_day = cast(Task.done_at, Date) if backend == "postgresql" else func.date(Task.done_at)
    tasks_on_time, tasks_late = s.execute(
        select(
            func.coalesce(func.sum(case((task_day <= Task.due_date, 1), else_=0)), 0),
            func.coalesce(func.sum(case((task_day > Task.due_date, 1), else_=0)), 0),
        ).where(Task.status == TaskStatus.DONE, Task.done_at >= start, Task.done_at < end, counted)
    ).one()
    tasks_missed = (
        int(
            s.execute(
                select(func.count())
                .select_from(Task)
                .where(
                    Task.status == TaskStatus.OPEN,
                    Task.due_date >= date_from,
                    Task.due_date <= missed_until,
                    counted,
                )
            ).scalar_one()
        )
        if missed_until >= date_from
        else 0
    )
    overdue = dict(
        s.execute(
            select(User.name, func.count())
            .select_from(Task)
            .outerjoin(User, User.id == Task.assignee_id)
            .where(Task.status == TaskStatus.OPEN, Task.due_date < today, *task_scope)
            .group_by(User.name)
        ).all()
    )
    workload = [Workload(name, int(n), int(overdue.pop(name, 0))) for name, n in workload_rows]
    workload += [Workload(name, 0, int(n)) for name, n in sorted(overdue.items(), key=lambda kv: kv[0] or "")]

    return KpiReport(
        date_from=date_from,
        date_to=date_to,
        as_of=today,
        scope=None if scope is None else scope[1],
        open_cases=sum(b.count for b in buckets.values()),
        buckets=buckets,
        cure_base=int(base),
        cured=int(cured),
        promises_kept=int(promises.get("kept", 0)),
        promises_broken=int(promises.get("broken", 0)),
        arrangements_kept=int(arrangements.get(ARRANGEMENT_KEPT, 0)),
        arrangements_broken=int(arrangements.get(ARRANGEMENT_BROKEN, 0)),
        followups_on_time=int(on_time) + int(tasks_on_time),
        followups_late=int(late_done) + missed + int(tasks_late) + tasks_missed,
        workload=tuple(workload),
        roll_rates=roll_rates,
    )


def _roll_rates(s: Session, date_to: date, mine: list[ColumnElement[bool]]) -> RollRates:
    """Last week's snapshot against the newest one up to ``date_to``, grouped by bucket then and where to now."""
    since = s.scalar(
        select(func.max(BucketSnapshot.day)).where(BucketSnapshot.day <= date_to - timedelta(days=ROLL_DAYS))
    )
    if since is None:
        first = s.scalar(select(func.min(BucketSnapshot.day)))
        return RollRates(None, None, None if first is None else first + timedelta(days=ROLL_DAYS), {})
    until = s.scalar(select(func.max(BucketSnapshot.day)).where(BucketSnapshot.day <= date_to))
    if until == since:  # no run since last week's snapshot: a matrix of one snapshot against itself says nothing
        return RollRates(since, None, None, {})
    then, now = aliased(BucketSnapshot), aliased(BucketSnapshot)
    target = case(
        (now.bucket.is_not(None), now.bucket), (Case.status == CaseStatus.CLOSED.value, CLOSED), else_=HANDED_OVER
    ).label("target")
    counts = s.execute(
        select(then.bucket, target, func.count())
        .select_from(then)
        .join(Case, Case.id == then.case_id)
        .outerjoin(now, and_(now.case_id == then.case_id, now.day == until))
        .where(then.day == since, *mine)
        .group_by(then.bucket, target)
    ).all()
    rows: dict[str, dict[str, int]] = {}
    for name, to, n in counts:
        rows.setdefault(name, dict.fromkeys(ROLL_TARGETS, 0))[to] = int(n)
    return RollRates(since, until, None, {b: rows[b] for b in BUCKETS if b in rows})


def _events(mine: list[ColumnElement[bool]], actions: tuple[str, ...], start: datetime, end: datetime) -> Select:  # type: ignore[type-arg]
    """Audit events of ``actions`` at ``start`` <= at < ``end`` on the cases in scope (no columns yet)."""
    query = (
        select()
        .select_from(AuditEvent)
        .where(AuditEvent.action.in_(actions), AuditEvent.at >= start, AuditEvent.at < end)
    )
    if mine:
        query = query.join(Case, Case.id == AuditEvent.case_id).where(*mine)
    return query


def _replaced_next_action(backend: str) -> ColumnElement[object]:
    """The next-action date a ``contact.log`` event replaced (its ``before``), as a date the backend compares."""
    if backend == "postgresql":
        return cast(cast(AuditEvent.before, JSONB)[ContactLogBefore.REPLACED_DATE].astext, Date)
    return func.json_extract(AuditEvent.before, f"$.{ContactLogBefore.REPLACED_DATE}").cast(String)
