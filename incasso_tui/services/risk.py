"""The risk view (issue 20): the daily risk step, forbearance records, vulnerability flags, debt-help referrals.

The daily step (:func:`daily_step`, called once by ``services.procedure.run_procedure``, inside its transaction):

1. observes the loans that can have changed since the previous run: loans without a history row yet, loans with
   anything past due, loans whose current status is not plain (stage 2/3, default, forborne, a materiality count
   running, not in the current bucket), loans with a forbearance, a ledger movement, a call-in or write-off, and
   the loans of clients in an insolvency track. A performing loan that nobody paid on and nothing happened to
   cannot change (its outstanding principal only moves with a ledger row), so the book's quiet majority is not
   read again;
2. per loan computes the past-due amount, the exposure and the oldest unpaid due date set-based in SQL, applies
   ``domain.risk.step`` and writes a new ``loan_risk`` history row where the status, the ageing bucket or the
   outstanding principal changed (the old row gets ``valid_to``; a second run the same day updates the day's row
   in place, so it is idempotent). A change of stage, default or forbearance of a loan that already had a row is
   an audit event; the loans' first rows are bulk data counted in the step's one ``risk.run`` event;
3. computes the early-warning signals (``domain.signals``) on loans not in arrears, one per loan and rule per
   look-back window, as call tasks on the client's open case when ``signal_tasks`` is set; and marks the signals
   whose loan fell into arrears within the follow-up window.

The figures (:func:`risk_report`) read the history rows valid on the asked day, so a report for a past date gives
the same answer tomorrow; see its docstring for the definitions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    String,
    and_,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from incasso_tui.domain.arrears import BUCKETS, ageing_bucket
from incasso_tui.domain.enums import CaseStatus, LedgerKind, LoanStatus, Role, TrackStatus
from incasso_tui.domain.money import ZERO
from incasso_tui.domain.risk import (
    DEFAULT_RISK_PATH,
    Cashflow,
    ForbearanceEvent,
    LoanRisk,
    Observation,
    RiskRules,
    load_risk_rules,
    npv_loss,
    step,
)
from incasso_tui.domain.signals import LoanActivity, Paid, signals_for
from incasso_tui.errors import N_, BadInput, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.cases import open_case
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.store.bulk import insert_returning_ids, insert_rows
from incasso_tui.store.models import (
    Allocation,
    Arrangement,
    ArrangementLine,
    Case,
    Charge,
    Client,
    Contact,
    DebtHelpReferral,
    DebtTrack,
    Forbearance,
    Installment,
    LedgerEntry,
    LedgerLink,
    Loan,
    ProcedureRun,
    RiskSignal,
    Task,
    VulnerabilityFlag,
)
from incasso_tui.store.models import (
    LoanRisk as LoanRiskRow,
)
from incasso_tui.store.types import Money

__all__ = [
    "RISK_READERS",
    "RiskReport",
    "daily_step",
    "debt_help_options",
    "flagged_clients",
    "record_arrangement_forbearance",
    "record_deferral_forbearance",
    "refer_to_debt_help",
    "remove_vulnerability",
    "risk_report",
    "rules_for",
    "set_vulnerability",
    "signal_condition",
    "vulnerabilities",
]

RISK_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR)
_CHUNK = 2000
_OPEN_LINE = Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest
INSOLVENCY_KINDS = ("wsnp", "faillissement")
SIGNAL_TASK = "signal_call"
_RATE = Decimal("0.0001")


def rules_for(ctx: Context) -> RiskRules:
    """The risk file of the settings, validated; read again only when the file changed (the worklist's signals
    filter asks on every page)."""
    path = ctx.settings.risk_file or DEFAULT_RISK_PATH
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return load_risk_rules(path)  # reports the unreadable file
    return _rules(path, stamp)


@lru_cache(maxsize=4)
def _rules(path: Path, _stamp: int) -> RiskRules:
    return load_risk_rules(path)


# ---------------------------------------------------------------------------------------------- forbearance


def _forbearance(
    s: Session, ctx: Context, loan_id: int, case_id: int | None, day: date, kind: str, loss: Decimal, source: str
) -> None:
    row = Forbearance(
        loan_id=loan_id,
        granted_on=day,
        kind=kind,
        npv_loss=loss,
        source=source,
        created_by=ctx.actor.name,
        created_at=ctx.clock.now(),
    )
    s.add(row)
    s.flush()
    audit.record(
        s,
        at=ctx.clock.now(),
        actor=ctx.actor.name,
        action="forbearance.record",
        entity="forbearance",
        entity_id=row.id,
        case_id=case_id,
        after={"loan_id": loan_id, "kind": kind, "granted_on": day, "npv_loss": loss, "source": source},
    )


def record_deferral_forbearance(
    ctx: Context,
    s: Session,
    loan: Loan,
    case_id: int,
    day: date,
    before: Iterable[tuple[date, Decimal]],
    after: Iterable[tuple[date, Decimal]],
    proposal_id: int,
) -> None:
    """A deferral granted: the loan is forborne from ``day``; the NPV loss compares the schedule's remaining cash
    flows ``before`` and ``after`` (day, principal + interest) at the loan's own rate."""
    loss = npv_loss([Cashflow(d, a) for d, a in before], [Cashflow(d, a) for d, a in after], loan.annual_rate, day)
    _forbearance(s, ctx, loan.id, case_id, day, "deferral", loss, f"proposal:{proposal_id}")


def record_arrangement_forbearance(
    ctx: Context,
    s: Session,
    case: Case,
    arrangement_id: int,
    day: date,
    arrears: Decimal,
    lines: Iterable[tuple[date, Decimal]],
) -> None:
    """An arrangement after arrears: every loan of the client with something past due is forborne from ``day``.
    The NPV loss is the arrears due now against the arrangement's installments (no interest on them), at the
    loan's rate, over the loans' whole exposure (arrears + outstanding principal)."""
    rows = s.execute(
        select(
            Loan.id, Loan.annual_rate, type_coerce(func.sum(Installment.principal - Installment.principal_paid), Money)
        )
        .join(Installment, Installment.loan_id == Loan.id)
        .where(Loan.client_id == case.client_id, _OPEN_LINE)
        .group_by(Loan.id, Loan.annual_rate)
        .having(func.min(Installment.due_date) < day)
    ).all()
    if not rows or arrears <= 0:
        return
    flows = [Cashflow(d, a) for d, a in lines]
    for loan_id, rate, outstanding in rows:
        # the arrears paid now, or later by the plan; the rest of what is owed is unchanged by the arrangement
        rest = Cashflow(day, outstanding or ZERO)
        loss = npv_loss([Cashflow(day, arrears), rest], [*flows, rest], rate, day)
        _forbearance(s, ctx, loan_id, case.id, day, "arrangement", loss, f"arrangement:{arrangement_id}")


# ---------------------------------------------------------------------------------------------- the daily step


@dataclass
class StepReport:
    observed: int = 0
    first_rows: int = 0
    changed: int = 0
    signals: int = 0
    signal_tasks: int = 0
    followed_by_arrears: int = 0
    by_rule: dict[str, int] = field(default_factory=lambda: defaultdict(int))


_STATE_FIELDS = (
    "material_since",
    "default",
    "default_reason",
    "default_since",
    "cure_from",
    "forborne",
    "forborne_since",
    "forborne_np",
    "probation_from",
    "probation_until",
    "stage",
)
_ROW_COLUMNS = (
    LoanRiskRow.id,
    LoanRiskRow.loan_id,
    LoanRiskRow.valid_from,
    LoanRiskRow.material_since,
    LoanRiskRow.non_performing,
    LoanRiskRow.default_reason,
    LoanRiskRow.default_since,
    LoanRiskRow.cure_from,
    LoanRiskRow.forborne,
    LoanRiskRow.forborne_since,
    LoanRiskRow.forborne_np,
    LoanRiskRow.probation_from,
    LoanRiskRow.probation_until,
    LoanRiskRow.stage,
    LoanRiskRow.bucket,
    LoanRiskRow.outstanding,
    LoanRiskRow.written_off,
    LoanRiskRow.dpd,
)


def _state(row: Any) -> LoanRisk:
    return LoanRisk(
        material_since=row.material_since,
        default=row.non_performing,
        default_reason=row.default_reason,
        default_since=row.default_since,
        cure_from=row.cure_from,
        forborne=row.forborne,
        forborne_since=row.forborne_since,
        forborne_np=row.forborne_np,
        probation_from=row.probation_from,
        probation_until=row.probation_until,
        stage=row.stage,
        dpd=row.dpd,
    )


def _previous_run(s: Session, day: date) -> date | None:
    return s.scalar(
        select(func.max(ProcedureRun.run_date)).where(
            ProcedureRun.run_date < day, ProcedureRun.finished_at.is_not(None)
        )
    )


def _candidates(s: Session, day: date, previous: date | None, past_due: Iterable[int]) -> tuple[set[int], set[int]]:
    """The loans that can have changed since ``previous`` (see the module docstring), and of those the loans whose
    outstanding principal must be computed again (no row yet, or a ledger movement, a forbearance, a call-in or a
    write-off since): for the others it is the current row's, as only the ledger moves it. ``past_due``: the loans
    with an open line due before ``day`` (``_past_due``)."""
    current = LoanRiskRow.valid_to.is_(None)
    conn = s.connection()  # Core rows: on a first run the ids of every loan of the book
    fresh: set[int] = set(
        conn.scalars(
            select(Loan.id).where(
                Loan.status != LoanStatus.REPAID.value, ~exists().where(LoanRiskRow.loan_id == Loan.id, current)
            )
        )
    )
    since = [] if previous is None else [Forbearance.granted_on >= previous]
    fresh.update(conn.scalars(select(Forbearance.loan_id).where(Forbearance.granted_on <= day, *since)))
    if previous is not None:
        fresh.update(
            conn.scalars(
                select(LedgerEntry.loan_id)
                .where(LedgerEntry.booking_date >= previous, LedgerEntry.booking_date <= day)
                .distinct()
            )
        )
    fresh.update(
        conn.scalars(
            select(Loan.id).where(
                Loan.status.in_((LoanStatus.CALLED.value, LoanStatus.WRITTEN_OFF.value)),
                ~exists().where(LoanRiskRow.loan_id == Loan.id, current, LoanRiskRow.written_off.is_(True)),
            )
        )
    )
    ids = set(fresh)
    ids.update(past_due)
    ids.update(
        conn.scalars(
            select(LoanRiskRow.loan_id).where(
                current,
                or_(
                    LoanRiskRow.stage != 1,
                    LoanRiskRow.non_performing.is_(True),
                    LoanRiskRow.forborne.is_(True),
                    LoanRiskRow.material_since.is_not(None),
                    LoanRiskRow.bucket != BUCKETS[0],
                ),
            )
        )
    )
    ids.update(conn.scalars(_insolvent_loans(day)))
    return ids, fresh


def _insolvent_loans(day: date):  # type: ignore[no-untyped-def]
    return (
        select(Loan.id)
        .join(Case, Case.client_id == Loan.client_id)
        .join(DebtTrack, DebtTrack.case_id == Case.id)
        .where(DebtTrack.status == TrackStatus.OPEN, DebtTrack.kind.in_(INSOLVENCY_KINDS), DebtTrack.ruling_date <= day)
    )


@dataclass(frozen=True)
class _Measure:
    outstanding: Decimal
    past_due: Decimal
    exposure: Decimal
    oldest: date | None


def _past_due(conn: Connection, day: date) -> dict[int, tuple[Decimal, Decimal, date]]:
    """Per loan with an open line due before ``day``: (what those lines leave unpaid, their unpaid interest, the
    oldest of their due dates). For the whole book in one pass over the open lines due (the shape of the days past
    due query): every such loan is a candidate of the step, so nothing is read that the step does not use."""
    return {
        loan_id: (past_due, past_interest, oldest)
        for loan_id, past_due, past_interest, oldest in conn.execute(
            select(
                Installment.loan_id,
                type_coerce(
                    func.sum(
                        Installment.principal
                        + Installment.interest
                        - Installment.principal_paid
                        - Installment.interest_paid
                    ),
                    Money,
                ),
                type_coerce(func.sum(Installment.interest - Installment.interest_paid), Money),
                type_coerce(func.min(Installment.due_date), Date),
            )
            .where(_OPEN_LINE, Installment.due_date < day)
            .group_by(Installment.loan_id)
        )
    }


def _open_costs(conn: Connection, day: date) -> dict[int, Decimal]:
    """Per loan with an open charge due on or before ``day``: what its charges leave unpaid (the whole book in one
    query, as ``_past_due``)."""
    return dict(
        conn.execute(  # type: ignore[arg-type]
            select(Charge.loan_id, type_coerce(func.sum(Charge.amount - Charge.paid), Money))
            .where(Charge.due_date <= day, Charge.paid < Charge.amount)
            .group_by(Charge.loan_id)
        ).all()
    )


def _open_principal(loan_ids: list[int]):  # type: ignore[no-untyped-def]
    """The outstanding principal (what the open lines leave unpaid of their principal) of these loans, per loan with
    an open line, in cents (a subquery: ``loan_id``, ``outstanding``)."""
    return (
        select(
            Installment.loan_id,
            func.sum(Installment.principal - Installment.principal_paid).label("outstanding"),
        )
        .where(Installment.loan_id.in_(loan_ids), _OPEN_LINE)
        .group_by(Installment.loan_id)
    )


def _measures(
    conn: Connection,
    loan_ids: list[int],
    fresh: set[int],
    known: dict[int, Decimal],
    past: dict[int, tuple[Decimal, Decimal, date]],
    costs: dict[int, Decimal],
) -> dict[int, _Measure]:
    """Per loan as of the day of ``past`` and ``costs`` (``_past_due``, ``_open_costs``): outstanding principal
    (computed for the ``fresh`` loans, else the current row's, ``known``), what is past due (lines due before the
    day, open costs due on or before it), the on-balance exposure (outstanding principal + past-due interest + open
    costs), the oldest unpaid due date."""
    recompute = [i for i in loan_ids if i in fresh or i not in known]
    outstanding = dict(known)
    if recompute:
        principal = _open_principal(recompute).subquery()
        outstanding.update(
            dict(
                conn.execute(  # type: ignore[arg-type]
                    select(principal.c.loan_id, type_coerce(principal.c.outstanding, Money))
                ).all()
            )
        )
    found = {}
    for loan_id in loan_ids:
        c = costs.get(loan_id, ZERO)
        past_due, past_interest, oldest = past.get(loan_id, (ZERO, ZERO, None))
        principal_left = outstanding.get(loan_id) or ZERO
        found[loan_id] = _Measure(principal_left, past_due + c, principal_left + past_interest + c, oldest)
    return found


def _granted(s: Session, day: date) -> dict[int, list[ForbearanceEvent]]:
    """Per loan: the forbearances granted on or before ``day``, by day (one read for the whole step: a read per group
    of loans went through the index on the day, every forbearance of the book for each group)."""
    granted: dict[int, list[ForbearanceEvent]] = defaultdict(list)
    for loan_id, granted_on, kind, loss in s.connection().execute(
        select(Forbearance.loan_id, Forbearance.granted_on, Forbearance.kind, Forbearance.npv_loss)
        .where(Forbearance.granted_on <= day)
        .order_by(Forbearance.granted_on, Forbearance.id)
    ):
        granted[loan_id].append(ForbearanceEvent(granted_on, kind, loss))
    return granted


def _values(new: LoanRisk, outstanding: Decimal, past_due: Decimal, written_off: bool) -> dict[str, object]:
    """The values of a history row (``_VALUE_COLUMNS``) for the state ``new``."""
    return {
        "stage": new.stage,
        "bucket": ageing_bucket(new.dpd),
        "dpd": new.dpd,
        "outstanding": ZERO if written_off else outstanding,
        "past_due": past_due,
        "non_performing": new.default,
        "default_reason": new.default_reason,
        "default_since": new.default_since,
        "cure_from": new.cure_from,
        "material_since": new.material_since,
        "forborne": new.forborne,
        "forborne_since": new.forborne_since,
        "forborne_np": new.forborne_np,
        "probation_from": new.probation_from,
        "probation_until": new.probation_until,
        "written_off": written_off,
    }


def quiet_first_state(rules: RiskRules, day: date, previous: date | None) -> LoanRisk:
    """The state of a loan's first observation when nothing is past due (no open line due before the day, no open
    charge), it is neither called in nor written off, has no forbearance and its client is in no insolvency track:
    ``domain.risk.step`` of such an observation. Its outstanding principal plays no part (the exposure only counts
    when something is past due: ``is_material`` with no oldest due date), so it is one state for all of them."""
    return step(None, Observation(day=day, past_due=ZERO, exposure=ZERO, oldest_due=None, retail=True), rules, previous)


def daily_step(s: Session, ctx: Context, day: date, actor: str, now: datetime) -> StepReport:
    """The risk step of the daily run (module docstring); writes inside the run's transaction."""
    rules = rules_for(ctx)
    previous = _previous_run(s, day)
    report = StepReport()
    s.flush()  # the step reads and writes through the session's connection (Core rows, no ORM objects)
    conn = s.connection()
    past = _past_due(conn, day)
    costs = _open_costs(conn, day)
    candidates, fresh = _candidates(s, day, previous, past)
    ids = sorted(candidates)
    insolvent = set(s.scalars(_insolvent_loans(day)))
    granted = _granted(s, day)
    run = _StepRun(
        rules=rules,
        day=day,
        previous=previous,
        fresh=fresh,
        insolvent=insolvent,
        granted=granted,
        past=past,
        costs=costs,
        quiet=_values(quiet_first_state(rules, day, previous), ZERO, ZERO, False),
        actor=actor,
        now=now,
    )
    events: list[audit.Event] = []
    for start in range(0, len(ids), _CHUNK):
        _observe(s, run, ids[start : start + _CHUNK], report, events)
    _signals(s, ctx, rules, day, previous, report, actor, now, events)
    events.append(
        audit.Event(
            at=now,
            actor=actor,
            action="risk.run",
            entity="loan_risk",
            entity_id=None,
            after={
                "date": day,
                "observed": report.observed,
                "first_rows": report.first_rows,
                "changed": report.changed,
                "signals": report.signals,
                "signal_tasks": report.signal_tasks,
                "followed_by_arrears": report.followed_by_arrears,
            },
        )
    )
    audit.record_many(s, events)
    return report


_LOAN_STATUSES = frozenset(status.value for status in LoanStatus)
_NOT_QUIET = frozenset({LoanStatus.REPAID.value, LoanStatus.CALLED.value, LoanStatus.WRITTEN_OFF.value})


@dataclass(frozen=True)
class _StepRun:
    """What one risk step read once and every group of loans uses (``daily_step``)."""

    rules: RiskRules
    day: date
    previous: date | None  # the day of the run before, None for the first
    fresh: set[int]  # loans whose outstanding principal is computed again (_candidates)
    insolvent: set[int]  # loans of clients in an insolvency track
    granted: dict[int, list[ForbearanceEvent]]  # forbearances granted on or before the day, per loan
    past: dict[int, tuple[Decimal, Decimal, date]]  # what is past due, per loan (_past_due)
    costs: dict[int, Decimal]  # open costs, per loan
    quiet: dict[str, object]  # the values of a quiet loan's first row (quiet_first_state)
    actor: str
    now: datetime


def _observe(s: Session, run: _StepRun, chunk: list[int], report: StepReport, events: list[audit.Event]) -> None:
    """One group of loans: their new history rows, changes and audit events (the module docstring's step 2)."""
    rules, day, previous = run.rules, run.day, run.previous
    fresh, insolvent, granted, past, costs = run.fresh, run.insolvent, run.granted, run.past, run.costs
    actor, now = run.actor, run.now
    conn = s.connection()
    # the loans' statuses as plain strings (the vocabulary's result processing was a third of this read on a first
    # run, which observes nearly every loan), checked against the vocabulary once per group
    loans: dict[int, str] = dict(
        conn.execute(select(Loan.id, type_coerce(Loan.status, String)).where(Loan.id.in_(chunk))).all()  # type: ignore[arg-type]
    )
    if unknown := set(loans.values()) - _LOAN_STATUSES:
        raise ValueError(f"the database holds {sorted(unknown)!r}, which is not a LoanStatus")
    rows = {
        r.loan_id: r
        for r in conn.execute(
            select(*_ROW_COLUMNS).where(LoanRiskRow.loan_id.in_(chunk), LoanRiskRow.valid_to.is_(None))
        )
    }
    # a loan's first row when nothing is past due and nothing else happened to it: the same state for each
    # (quiet_first_state), written with its outstanding principal in one INSERT ... SELECT, not read into Python
    quiet = [
        loan_id
        for loan_id in chunk
        if loan_id not in rows
        and loans[loan_id] not in _NOT_QUIET
        and loan_id not in past
        and loan_id not in costs
        and loan_id not in granted
        and loan_id not in insolvent
    ]
    if quiet:
        _insert_quiet_first_rows(conn, day, quiet, run.quiet)
        report.observed += len(quiet)
        report.first_rows += len(quiet)
    quiet_ids = set(quiet)
    acting = [loan_id for loan_id in chunk if loan_id not in quiet_ids]
    measures = _measures(conn, acting, fresh, {i: r.outstanding for i, r in rows.items()}, past, costs)
    # a second run the same day starts again from the row before the day's: those rows of the chunk in one query
    redo = [r.loan_id for r in rows.values() if r.valid_from == day]
    before_day: dict[int, Any] = {}
    if redo:
        for r in conn.execute(
            select(*_ROW_COLUMNS)
            .where(LoanRiskRow.loan_id.in_(redo), LoanRiskRow.valid_to == day)
            .order_by(LoanRiskRow.loan_id, LoanRiskRow.valid_from, LoanRiskRow.id)
        ):
            before_day.setdefault(r.loan_id, r)
    closes: list[int] = []
    inserts: list[tuple[object, ...]] = []  # in the order of _INSERT_COLUMNS
    in_place: list[dict[str, object]] = []
    for loan_id in acting:
        status = loans[loan_id]
        m = measures[loan_id]
        row = rows.get(loan_id)
        if row is None and status == LoanStatus.REPAID.value:
            continue
        prev_state = None if row is None else _state(row)
        if row is not None and row.valid_from == day:
            # a second run the same day: start again from the row before the day's
            prev_row = before_day.get(loan_id)
            prev_state = None if prev_row is None else _state(prev_row)
        written_off = status == LoanStatus.WRITTEN_OFF.value
        forbearances = tuple(e for e in granted.get(loan_id, ()) if _new_forbearance(e, prev_state, previous))
        obs = Observation(
            day=day,
            past_due=m.past_due,
            exposure=m.exposure,
            oldest_due=m.oldest,
            # every loan of this lender is a retail exposure: an SME loan far below EUR 1 million
            # (CRR art. 123; docs/decisions.md, "Risk view")
            retail=True,
            forbearances=forbearances,
            insolvency=loan_id in insolvent,
            called=status == LoanStatus.CALLED.value,
            written_off=written_off,
        )
        new = step(prev_state, obs, rules, previous)
        report.observed += 1
        values = _values(new, m.outstanding, m.past_due, written_off)
        if row is not None and _same(row, values):
            continue
        if row is not None and row.valid_from == day:
            in_place.append({"row_id": row.id, **values})
        else:
            if row is not None:
                closes.append(row.id)
            inserts.append((loan_id, day, None, *(values[name] for name in _VALUE_COLUMNS)))
        if row is None:
            report.first_rows += 1
        else:
            report.changed += 1
            before = {"stage": row.stage, "non_performing": row.non_performing, "forborne": row.forborne}
            after = {"stage": new.stage, "non_performing": new.default, "forborne": new.forborne}
            if before != after:
                events.append(
                    audit.Event(
                        at=now,
                        actor=actor,
                        action="risk.status",
                        entity="loan",
                        entity_id=loan_id,
                        before=before,
                        after={**after, "default_reason": new.default_reason, "probation_until": new.probation_until},
                    )
                )
    table = LoanRiskRow.__table__
    if closes:
        s.execute(update(table).where(table.c.id.in_(closes)).values(valid_to=day))
    if inserts:
        insert_rows(s, LoanRiskRow, _INSERT_COLUMNS, inserts)
    for values in in_place:
        row_id = values.pop("row_id")
        s.execute(update(table).where(table.c.id == row_id).values(**values))


def _insert_quiet_first_rows(conn: Connection, day: date, loan_ids: list[int], values: dict[str, object]) -> None:
    """The first history rows of these quiet loans (``_observe``): ``values`` with each loan's outstanding principal
    (0 without an open line), in loan order, in one ``INSERT ... SELECT``. The principal is a sub-query per loan on
    the index of open lines (a join with the grouped lines of all of them materialised those and indexed them again:
    a fifth slower on a million loans)."""
    table = LoanRiskRow.__table__
    principal = (
        select(func.coalesce(func.sum(Installment.principal - Installment.principal_paid), 0))
        .where(Installment.loan_id == Loan.id, _OPEN_LINE)
        .scalar_subquery()
    )
    # a NULL cast to its column's type (PostgreSQL types an untyped NULL in a SELECT list as text); the other values
    # bound with their column's type, as insert_rows binds them
    columns = [
        principal
        if name == "outstanding"
        else cast(null(), table.c[name].type)
        if values[name] is None
        else literal(values[name], table.c[name].type)
        for name in _VALUE_COLUMNS
    ]
    conn.execute(
        insert(table).from_select(
            list(_INSERT_COLUMNS),
            select(Loan.id, literal(day, table.c.valid_from.type), cast(null(), table.c.valid_to.type), *columns)
            .where(Loan.id.in_(loan_ids))
            .order_by(Loan.id),
        )
    )


# the columns of a new history row: the loan and its period, then the values _observe computes, in this order
_VALUE_COLUMNS = (
    "stage",
    "bucket",
    "dpd",
    "outstanding",
    "past_due",
    "non_performing",
    "default_reason",
    "default_since",
    "cure_from",
    "material_since",
    "forborne",
    "forborne_since",
    "forborne_np",
    "probation_from",
    "probation_until",
    "written_off",
)
_INSERT_COLUMNS = ("loan_id", "valid_from", "valid_to", *_VALUE_COLUMNS)


def _new_forbearance(event: ForbearanceEvent, state: LoanRisk | None, previous: date | None) -> bool:
    """Whether the step has not seen this forbearance yet. The first observation sees them all; afterwards those
    granted on or after the previous run's day (one granted that day after the run is new) and after the one the
    state last recorded (one granted before that run, and so already seen, is not)."""
    if state is None or previous is None:
        return True
    return event.day >= previous and (state.forborne_since is None or event.day > state.forborne_since)


# what makes an observation a new history row: every value but the days past due and the amount past due, which
# move with the calendar
_COMPARED = tuple(c for c in _VALUE_COLUMNS if c not in ("dpd", "past_due"))


def _same(row: Any, values: dict[str, object]) -> bool:
    return all(getattr(row, name) == values[name] for name in _COMPARED)


# ---------------------------------------------------------------------------------------------- signals


def _signals(
    s: Session,
    ctx: Context,
    rules: RiskRules,
    day: date,
    previous: date | None,
    report: StepReport,
    actor: str,
    now: datetime,
    events: list[audit.Event],
) -> None:
    r = rules.signals
    since = day - timedelta(days=r.lookback_days)
    history_from = since - timedelta(days=31 * (r.late_history + 2))
    grace = ctx.settings.payment_grace_days
    # what happened since the previous run (the first run: in the window): payments and reversals booked, contacts
    # naming a cause, arrangement installments that became late; only something new can raise a signal that the
    # one-per-window rule lets through. The previous run's day itself is looked at again (a statement imported or
    # a contact logged after that run); the one-per-window rule keeps it from raising a signal twice
    new_from = max(since, previous) if previous is not None else since
    paying = set(
        s.scalars(
            select(LedgerEntry.loan_id)
            .where(
                LedgerEntry.kind.in_((LedgerKind.PAYMENT, LedgerKind.REVERSAL)),
                LedgerEntry.booking_date >= new_from,
                LedgerEntry.booking_date <= day,
            )
            .distinct()
        )
    )
    contact_rows = s.execute(
        select(Loan.id, Contact.at, Contact.cause)
        .join(Case, Case.id == Contact.case_id)
        .join(Loan, Loan.client_id == Case.client_id)
        .where(
            Contact.cause.is_not(None),
            Contact.at >= datetime.combine(new_from, datetime.min.time()),
            Contact.at < datetime.combine(day + timedelta(days=1), datetime.min.time()),
        )
    ).all()
    causes: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for loan_id, at, cause in contact_rows:
        causes[loan_id].append((at.date(), cause))
    late_rows = s.execute(
        select(Loan.id, ArrangementLine.due_date)
        .join(Arrangement, Arrangement.id == ArrangementLine.arrangement_id)
        .join(Case, Case.id == Arrangement.case_id)
        .join(Loan, Loan.client_id == Case.client_id)
        .where(
            ArrangementLine.paid < ArrangementLine.amount,
            ArrangementLine.due_date >= new_from - timedelta(days=grace),
            ArrangementLine.due_date < day - timedelta(days=grace),
        )
    ).all()
    late: dict[int, list[date]] = defaultdict(list)
    for loan_id, due in late_rows:
        late[loan_id].append(due + timedelta(days=grace))
    candidates = sorted(paying | set(causes) | set(late))
    if candidates:
        in_arrears = set()
        for start in range(0, len(candidates), _CHUNK):
            chunk = candidates[start : start + _CHUNK]
            in_arrears.update(
                s.scalars(
                    select(Installment.loan_id)
                    .where(Installment.loan_id.in_(chunk), _OPEN_LINE, Installment.due_date < day)
                    .distinct()
                )
            )
        # arrangement installments are watched on loans in an arrangement, whose old arrears is still open
        watched = [i for i in candidates if i not in in_arrears or i in late]
        for start in range(0, len(watched), _CHUNK):
            _signal_chunk(
                s,
                ctx,
                rules,
                day,
                since,
                history_from,
                watched[start : start + _CHUNK],
                causes,
                late,
                in_arrears,
                report,
                actor,
                now,
                events,
            )
    # signals followed by arrears within the window
    window = day - timedelta(days=r.followed_by_arrears_days)
    open_due = exists().where(
        Installment.loan_id == RiskSignal.loan_id,
        _OPEN_LINE,
        Installment.due_date < day,
        Installment.due_date > RiskSignal.day,
    )
    followed = s.execute(
        update(RiskSignal)
        .where(RiskSignal.arrears_on.is_(None), RiskSignal.day >= window, RiskSignal.day < day, open_due)
        .values(arrears_on=day)
        .execution_options(synchronize_session=False)
    )
    report.followed_by_arrears = max(followed.rowcount or 0, 0)


def _signal_chunk(
    s: Session,
    ctx: Context,
    rules: RiskRules,
    day: date,
    since: date,
    history_from: date,
    chunk: list[int],
    causes: dict[int, list[tuple[date, str]]],
    late: dict[int, list[date]],
    in_arrears: set[int],
    report: StepReport,
    actor: str,
    now: datetime,
    events: list[audit.Event],
) -> None:
    r = rules.signals
    paid_due = (
        select(Allocation.ledger_id, type_coerce(func.min(Installment.due_date), Date).label("due"))
        .join(
            Installment, and_(Installment.loan_id == Allocation.loan_id, Installment.seq == Allocation.installment_seq)
        )
        .where(Allocation.loan_id.in_(chunk))
        .group_by(Allocation.ledger_id)
        .subquery()
    )
    payments: dict[int, list[Paid]] = defaultdict(list)
    reversals: dict[int, list[date]] = defaultdict(list)
    for loan_id, kind, booked, amount, due in s.connection().execute(  # Core rows: the window's payments
        select(LedgerEntry.loan_id, LedgerEntry.kind, LedgerEntry.booking_date, LedgerEntry.amount, paid_due.c.due)
        .outerjoin(paid_due, paid_due.c.ledger_id == LedgerEntry.id)
        .where(
            LedgerEntry.loan_id.in_(chunk),
            LedgerEntry.kind.in_((LedgerKind.PAYMENT, LedgerKind.REVERSAL)),
            LedgerEntry.booking_date > history_from,
            LedgerEntry.booking_date <= day,
        )
        .order_by(LedgerEntry.loan_id, LedgerEntry.booking_date, LedgerEntry.id)
    ):
        if kind == "reversal":
            reversals[loan_id].append(booked)
        else:
            payments[loan_id].append(Paid(booked, amount, due))
    installment = dict(
        s.execute(
            select(Installment.loan_id, type_coerce(func.max(Installment.principal + Installment.interest), Money))
            .where(
                Installment.loan_id.in_(chunk),
                Installment.due_date > day - timedelta(days=62),
                Installment.due_date <= day + timedelta(days=62),
            )
            .group_by(Installment.loan_id)
        ).all()
    )
    recent = {
        (loan_id, rule)
        for loan_id, rule in s.execute(
            select(RiskSignal.loan_id, RiskSignal.rule).where(RiskSignal.loan_id.in_(chunk), RiskSignal.day > since)
        )
    }
    owners = dict(s.execute(select(Loan.id, Loan.client_id).where(Loan.id.in_(chunk))).all())
    cases = dict(
        s.execute(
            select(Case.client_id, Case.id).where(
                Case.client_id.in_(set(owners.values())), Case.status != CaseStatus.CLOSED.value
            )
        ).all()
    )
    new_signals: list[dict[str, object]] = []
    for loan_id in chunk:
        activity = LoanActivity(
            day=day,
            installment=installment.get(loan_id, ZERO),
            payments=tuple(payments.get(loan_id, ())),
            reversals=tuple(reversals.get(loan_id, ())),
            arrangement_late=tuple(sorted(late.get(loan_id, ()))),
            contact_causes=tuple(sorted(causes.get(loan_id, ()))),
        )
        for sig in signals_for(activity, r):
            if (loan_id, sig.rule) in recent:
                continue
            if loan_id in in_arrears and sig.rule != "arrangement_late":
                continue
            recent.add((loan_id, sig.rule))
            new_signals.append(
                {
                    "loan_id": loan_id,
                    "client_id": owners[loan_id],
                    "day": day,
                    "rule": sig.rule,
                    "detail": sig.detail[:300],
                    "task_id": None,
                    "arrears_on": None,
                }
            )
    if not new_signals:
        return
    tasks: list[dict[str, object]] = []
    if ctx.settings.signal_tasks:
        for sig in new_signals:
            case_id = cases.get(int(sig["client_id"]))  # type: ignore[call-overload]
            if case_id is not None:
                tasks.append(
                    {
                        "case_id": case_id,
                        "kind": SIGNAL_TASK,
                        "title": f"Bellen voordat het misgaat ({sig['rule']})",
                        "due_date": day,
                        "status": "open",
                        "assignee_id": None,
                        "created_by": actor,
                        "created_at": now,
                    }
                )
                sig["_task"] = len(tasks) - 1
    task_ids: list[int] = []
    if tasks:
        task_ids = insert_returning_ids(s, Task.__table__, tasks)
        for sig in new_signals:
            if "_task" in sig:
                sig["task_id"] = task_ids[int(sig.pop("_task"))]  # type: ignore[call-overload]
                events.append(
                    audit.Event(
                        at=now,
                        actor=actor,
                        action="task.create",
                        entity="task",
                        entity_id=int(sig["task_id"]),  # type: ignore[call-overload]
                        case_id=cases[int(sig["client_id"])],  # type: ignore[call-overload]
                        after={"kind": SIGNAL_TASK, "due_date": day, "signal": sig["rule"]},
                    )
                )
    ids = insert_returning_ids(s, RiskSignal.__table__, new_signals)
    for signal_id, sig in zip(ids, new_signals, strict=True):
        events.append(
            audit.Event(
                at=now,
                actor=actor,
                action="risk.signal",
                entity="risk_signal",
                entity_id=signal_id,
                case_id=cases.get(int(sig["client_id"])),  # type: ignore[call-overload]
                after={"loan_id": sig["loan_id"], "rule": sig["rule"], "detail": sig["detail"]},
            )
        )
        report.by_rule[str(sig["rule"])] += 1
    report.signals += len(new_signals)
    report.signal_tasks += len(task_ids)


def signal_condition(day: date, lookback_days: int) -> Any:
    """The SQL condition "the case's client has a signal in the look-back window up to ``day``" (the worklist's
    signals filter)."""
    return exists().where(
        RiskSignal.client_id == Case.client_id,
        RiskSignal.day > day - timedelta(days=lookback_days),
        RiskSignal.day <= day,
    )


# ---------------------------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Figure:
    count: int
    amount: Decimal


@dataclass(frozen=True)
class RiskReport:
    """The risk figures as of ``as_of`` (status, from the history rows valid that day) and for the period
    ``date_from`` .. ``date_to`` (write-offs, recoveries, signals)."""

    as_of: date
    date_from: date
    date_to: date
    recorded_until: date | None  # the newest history row's day (None: the daily run has written none)
    recorded_from: date | None  # the oldest history row's day
    portfolio: Figure
    buckets: dict[str, Figure]
    stages: dict[int, Figure]
    default: Figure
    forborne: Figure
    forborne_not_past_30: Figure  # restructured loans that PAR30 adds beyond its buckets
    forborne_not_past_90: Figure
    write_offs: Decimal
    recoveries: Decimal
    write_offs_to_date: Decimal
    recoveries_to_date: Decimal
    signals: int
    signals_followed: int
    signals_by_rule: dict[str, int]
    unverified: tuple[str, ...]

    @property
    def par30_amount(self) -> Decimal:
        return sum((self.buckets[b].amount for b in BUCKETS[2:]), ZERO) + self.forborne_not_past_30.amount

    @property
    def par90_amount(self) -> Decimal:
        return self.buckets[BUCKETS[-1]].amount + self.forborne_not_past_90.amount

    @property
    def par30(self) -> Decimal | None:
        return _rate(self.par30_amount, self.portfolio.amount)

    @property
    def par90(self) -> Decimal | None:
        return _rate(self.par90_amount, self.portfolio.amount)

    @property
    def recovery_rate(self) -> Decimal | None:
        return _rate(self.recoveries, self.write_offs)

    @property
    def recovery_rate_to_date(self) -> Decimal | None:
        return _rate(self.recoveries_to_date, self.write_offs_to_date)


def _rate(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if whole == 0 else (part / whole).quantize(_RATE, rounding=ROUND_HALF_UP)


def book_first_day(s: Session) -> date | None:
    return s.scalar(select(func.min(Loan.start_date)))


def risk_report(ctx: Context, as_of: date | None = None, date_from: date | None = None) -> RiskReport:
    """The figures (supervisors, admins, auditors).

    - portfolio: the loans with outstanding principal on ``as_of`` (not written off), by the history row valid that
      day: count and outstanding principal; ``buckets`` split it by the ageing bucket of the row and ``stages`` by
      IFRS 9 stage (both add up to the portfolio);
    - PAR30 / PAR90: outstanding principal of the loans more than 30 / 90 days past due (the buckets 31-60, 61-90
      and 90+ / the bucket 90+), *restructured included*: the forborne loans not already in those buckets are added
      (the microfinance convention), over the portfolio;
    - default and forborne: count and outstanding principal;
    - write-offs (gross: the ``write_off`` ledger rows) and recoveries (payments booked on a written-off loan) in
      the period ``date_from`` .. ``as_of`` (default: the 30 days up to it), and to date; the recovery rate is
      recoveries over write-offs;
    - signals raised in the period, and how many of them were followed by arrears within the follow-up window.

    Refused (:class:`BadInput`, field ``as_of`` / ``from``) for a day before the book's first day, or a period
    that ends before it starts.
    """
    ctx.require(*RISK_READERS)
    rules = rules_for(ctx)
    as_of = as_of or ctx.clock.today()
    date_from = date_from or as_of - timedelta(days=29)
    if date_from > as_of:
        raise BadInput(
            N_("The period ends before it starts: {date_from} to {date_to}"),
            field="from",
            date_from=date_from.isoformat(),
            date_to=as_of.isoformat(),
        )
    with ctx.db.reader() as s:
        first = book_first_day(s)
        for name, value in (("as_of", as_of), ("from", date_from)):
            if first is not None and value < first:
                raise BadInput(
                    N_("Field {field_name}: {day} is before the book's first day {first}"),
                    field=name,
                    field_name=name,
                    day=value.isoformat(),
                    first=first.isoformat(),
                )
        valid = and_(LoanRiskRow.valid_from <= as_of, or_(LoanRiskRow.valid_to.is_(None), LoanRiskRow.valid_to > as_of))
        live = and_(valid, LoanRiskRow.written_off.is_(False), LoanRiskRow.outstanding > 0)
        groups = s.execute(
            select(
                LoanRiskRow.bucket,
                LoanRiskRow.stage,
                LoanRiskRow.non_performing,
                LoanRiskRow.forborne,
                func.count(),
                type_coerce(func.sum(LoanRiskRow.outstanding), Money),
            )
            .where(live)
            .group_by(LoanRiskRow.bucket, LoanRiskRow.stage, LoanRiskRow.non_performing, LoanRiskRow.forborne)
        ).all()
        recorded_from, recorded = s.execute(
            select(func.min(LoanRiskRow.valid_from), func.max(LoanRiskRow.valid_from))
        ).one()
        start, end = date_from, as_of
        write_offs = _sum(
            s,
            LedgerEntry.kind == LedgerKind.WRITE_OFF,
            LedgerEntry.booking_date >= start,
            LedgerEntry.booking_date <= end,
        )
        write_offs_to_date = _sum(s, LedgerEntry.kind == LedgerKind.WRITE_OFF, LedgerEntry.booking_date <= end)
        recoveries = _recovered(s, LedgerEntry.booking_date >= start, LedgerEntry.booking_date <= end)
        recoveries_to_date = _recovered(s, LedgerEntry.booking_date <= end)
        in_period = and_(RiskSignal.day >= start, RiskSignal.day <= end)
        by_rule = dict(
            s.execute(select(RiskSignal.rule, func.count()).where(in_period).group_by(RiskSignal.rule)).all()
        )
        followed = (
            s.scalar(
                select(func.count())
                .select_from(RiskSignal)
                .where(in_period, RiskSignal.arrears_on.is_not(None), RiskSignal.arrears_on <= as_of)
            )
            or 0
        )

    buckets = {b: [0, ZERO] for b in BUCKETS}
    stages = {n: [0, ZERO] for n in (1, 2, 3)}
    default, forborne, fb30, fb90 = [0, ZERO], [0, ZERO], [0, ZERO], [0, ZERO]
    for bucket, stage, np_, fb, count, amount in groups:
        amount = amount or ZERO
        for target in (buckets[bucket], stages[stage]):
            target[0] += count
            target[1] += amount
        for target, holds in (
            (default, np_),
            (forborne, fb),
            (fb30, fb and bucket in BUCKETS[:2]),
            (fb90, fb and bucket != BUCKETS[-1]),
        ):
            if holds:
                target[0] += count
                target[1] += amount
    fig = lambda pair: Figure(int(pair[0]), pair[1])  # noqa: E731
    total = Figure(sum(c for c, _a in buckets.values()), sum((a for _c, a in buckets.values()), ZERO))
    return RiskReport(
        as_of=as_of,
        date_from=date_from,
        date_to=as_of,
        recorded_until=recorded,
        recorded_from=recorded_from,
        portfolio=total,
        buckets={b: fig(v) for b, v in buckets.items()},
        stages={n: fig(v) for n, v in stages.items()},
        default=fig(default),
        forborne=fig(forborne),
        forborne_not_past_30=fig(fb30),
        forborne_not_past_90=fig(fb90),
        write_offs=write_offs,
        recoveries=recoveries,
        write_offs_to_date=write_offs_to_date,
        recoveries_to_date=recoveries_to_date,
        signals=sum(by_rule.values()),
        signals_followed=int(followed),
        signals_by_rule={k: int(v) for k, v in by_rule.items()},
        unverified=rules.unverified,
    )


def _recovered(s: Session, *where: Any) -> Decimal:
    """Payments booked on a written-off loan (``ledger_links.recovery``), read from the few links rather than
    the whole ledger."""
    value = s.scalar(
        select(type_coerce(func.coalesce(func.sum(LedgerEntry.amount), 0), Money))
        .select_from(LedgerLink)
        .join(LedgerEntry, LedgerEntry.id == LedgerLink.ledger_id)
        .where(LedgerLink.recovery.is_(True), LedgerEntry.kind == LedgerKind.PAYMENT, *where)
    )
    return value if value is not None else ZERO


def _sum(s: Session, *where: Any) -> Decimal:
    value = s.scalar(select(type_coerce(func.coalesce(func.sum(LedgerEntry.amount), 0), Money)).where(*where))
    return value if value is not None else ZERO


# ---------------------------------------------------------------------------------------------- vulnerability


@dataclass(frozen=True)
class Flag:
    id: int
    kind: str
    note: str
    set_by: str
    set_at: datetime


def _client(s: Session, client_id: int) -> Client:
    client = s.get(Client, client_id)
    if client is None:
        raise NotFound(N_("No client {client}"), client=client_id)
    return client


def _open_case_id(s: Session, client_id: int) -> int | None:
    case = open_case(s, client_id)
    return case.id if case else None


def vulnerabilities(ctx: Context, client_id: int) -> list[Flag]:
    """The client's current vulnerability flags, oldest first."""
    with ctx.db.reader() as s:
        return [
            Flag(*row)
            for row in s.execute(
                select(
                    VulnerabilityFlag.id,
                    VulnerabilityFlag.kind,
                    VulnerabilityFlag.note,
                    VulnerabilityFlag.set_by,
                    VulnerabilityFlag.set_at,
                )
                .where(VulnerabilityFlag.client_id == client_id, VulnerabilityFlag.removed_at.is_(None))
                .order_by(VulnerabilityFlag.id)
            )
        ]


def flagged_clients(s: Session, client_ids: Iterable[int]) -> set[int]:
    """Of these clients, those with a current vulnerability flag (the daily run's escalation guard)."""
    ids = list(client_ids)
    if not ids:
        return set()
    return set(
        s.scalars(
            select(VulnerabilityFlag.client_id)
            .where(VulnerabilityFlag.client_id.in_(ids), VulnerabilityFlag.removed_at.is_(None))
            .distinct()
        )
    )


def set_vulnerability(ctx: Context, client_id: int, kind: str, note: str = "") -> int:
    """Flag the client (desk writers); a kind already set is refused."""
    ctx.require(*DESK_WRITERS)
    rules = rules_for(ctx)
    if kind not in rules.vulnerability.kinds:
        raise BadInput(
            N_("Unknown vulnerability {kind}; one of: {kinds}"),
            field="kind",
            kind=kind,
            kinds=", ".join(rules.vulnerability.kinds),
        )
    if len(note) > 300:
        raise BadInput(N_("The note is longer than {n} characters"), field="note", n=300)
    with ctx.db.transaction() as s:
        _client(s, client_id)
        if (
            s.scalar(
                select(VulnerabilityFlag.id).where(
                    VulnerabilityFlag.client_id == client_id,
                    VulnerabilityFlag.kind == kind,
                    VulnerabilityFlag.removed_at.is_(None),
                )
            )
            is not None
        ):
            raise RuleViolation(N_("The client is already flagged as {kind}"), kind=kind)
        flag = VulnerabilityFlag(
            client_id=client_id, kind=kind, note=note.strip(), set_by=ctx.actor.name, set_at=ctx.clock.now()
        )
        s.add(flag)
        s.flush()
        audit.record(
            s,
            at=ctx.clock.now(),
            actor=ctx.actor.name,
            action="vulnerability.set",
            entity="client",
            entity_id=client_id,
            case_id=_open_case_id(s, client_id),
            after={"kind": kind, "note": flag.note},
        )
        return flag.id


def remove_vulnerability(ctx: Context, client_id: int, kind: str) -> None:
    ctx.require(*DESK_WRITERS)
    with ctx.db.transaction() as s:
        flag = s.scalar(
            select(VulnerabilityFlag).where(
                VulnerabilityFlag.client_id == client_id,
                VulnerabilityFlag.kind == kind,
                VulnerabilityFlag.removed_at.is_(None),
            )
        )
        if flag is None:
            raise NotFound(N_("The client has no vulnerability flag {kind}"), kind=kind)
        flag.removed_by, flag.removed_at = ctx.actor.name, ctx.clock.now()
        audit.record(
            s,
            at=ctx.clock.now(),
            actor=ctx.actor.name,
            action="vulnerability.remove",
            entity="client",
            entity_id=client_id,
            case_id=_open_case_id(s, client_id),
            before={"kind": kind, "set_by": flag.set_by, "set_at": flag.set_at},
        )


# ---------------------------------------------------------------------------------------------- debt help


def debt_help_options(ctx: Context) -> list[tuple[str, str, str, bool]]:
    """(code, name, contact, verified) of every referral in data/risk.toml."""
    return [(r.code, r.name, r.contact, r.verified) for r in rules_for(ctx).referrals]


def refer_to_debt_help(
    s: Session, ctx: Context, client_id: int, case_id: int | None, contact_id: int | None, code: str
) -> int:
    """Record a referral made in a contact (inside the contact's transaction, with its audit event)."""
    referral = rules_for(ctx).referral(code)
    if referral is None:
        raise BadInput(N_("Unknown debt-help referral {code}"), field="referral", code=code)
    row = DebtHelpReferral(
        client_id=client_id,
        case_id=case_id,
        contact_id=contact_id,
        code=code,
        name=referral.name,
        contact=referral.contact,
        referred_by=ctx.actor.name,
        referred_at=ctx.clock.now(),
    )
    s.add(row)
    s.flush()
    audit.record(
        s,
        at=ctx.clock.now(),
        actor=ctx.actor.name,
        action="debt_help.refer",
        entity="debt_help_referral",
        entity_id=row.id,
        case_id=case_id,
        after={"code": code, "name": referral.name, "contact_id": contact_id},
    )
    return row.id


# ---------------------------------------------------------------------------------------------- lists


@dataclass(frozen=True)
class HistoryRow:
    valid_from: date
    valid_to: date | None
    stage: int
    bucket: str
    dpd: int
    outstanding: Decimal
    past_due: Decimal
    non_performing: bool
    default_reason: str | None
    forborne: bool
    probation_until: date | None
    written_off: bool


def loan_history(ctx: Context, loan_number: str) -> list[HistoryRow]:
    """A loan's risk history, oldest first (supervisors, admins, auditors)."""
    ctx.require(*RISK_READERS)
    with ctx.db.reader() as s:
        loan_id = s.scalar(select(Loan.id).where(Loan.number == loan_number))
        if loan_id is None:
            raise NotFound(N_("No loan {loan}"), loan=loan_number)
        return [
            HistoryRow(*row)
            for row in s.execute(
                select(
                    LoanRiskRow.valid_from,
                    LoanRiskRow.valid_to,
                    LoanRiskRow.stage,
                    LoanRiskRow.bucket,
                    LoanRiskRow.dpd,
                    LoanRiskRow.outstanding,
                    LoanRiskRow.past_due,
                    LoanRiskRow.non_performing,
                    LoanRiskRow.default_reason,
                    LoanRiskRow.forborne,
                    LoanRiskRow.probation_until,
                    LoanRiskRow.written_off,
                )
                .where(LoanRiskRow.loan_id == loan_id)
                .order_by(LoanRiskRow.valid_from)
            )
        ]


@dataclass(frozen=True)
class SignalRow:
    id: int
    day: date
    rule: str
    detail: str
    loan: str
    client: str
    client_name: str
    task_id: int | None
    arrears_on: date | None


def signal_list(ctx: Context, date_from: date, date_to: date, limit: int = 1000) -> list[SignalRow]:
    """The signals raised from ``date_from`` to ``date_to``, newest first (at most ``limit``)."""
    ctx.require(*RISK_READERS, *DESK_WRITERS)
    with ctx.db.reader() as s:
        return [
            SignalRow(*row)
            for row in s.execute(
                select(
                    RiskSignal.id,
                    RiskSignal.day,
                    RiskSignal.rule,
                    RiskSignal.detail,
                    Loan.number,
                    Client.number,
                    Client.name,
                    RiskSignal.task_id,
                    RiskSignal.arrears_on,
                )
                .join(Loan, Loan.id == RiskSignal.loan_id)
                .join(Client, Client.id == RiskSignal.client_id)
                .where(RiskSignal.day >= date_from, RiskSignal.day <= date_to)
                .order_by(RiskSignal.day.desc(), RiskSignal.id.desc())
                .limit(limit)
            )
        ]
