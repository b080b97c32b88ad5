"""The daily arrears procedure run, and a supervisor's manual move of a case to a later stage.

``run_procedure(ctx, day)`` does, in ONE transaction (all of it or nothing):

1. refresh the ``cases.pos_*`` cache of every open case as of ``day`` (set-based, ``services.positions``:
   computed for all, written only where it changed);
2. end the pauses whose end date has passed (the case becomes active again);
3. close the active cases whose arrears is cleared;
4. open a case for every client newly in arrears (oldest unpaid due date at least the first stage's
   ``after_days`` ago) and perform the first stage's actions;
5. move every active case whose next stage is due (``stage_since`` + the next stage's ``after_days``) and
   perform that stage's actions, through the legal guards (``domain.guards``): a refused step holds the case
   and is reported under ``held``;
6. post collection costs (consumers: after the term of a DISPATCHED 14-day letter, counted from its dispatch, on the
   unpaid remainder of the installments it covers, within the stacking limit; business: from the costs stage, on
   commercial agreements only) and statutory interest per calendar month, compounded yearly, of the kind the loan
   carries (``charges.period_key`` makes a second posting impossible);
7. BKR codes that follow from the state of the book: H (an A stands, the loan's arrears is cleared), 1 (an
   arrangement made after an A), 2 (a loan called in), 3 (at least EUR 250 written off); never for a legal person
   or after a clean slate (issue 12). Code A itself needs a dispatched warning (step 5);
8. write the day's bucket snapshot (``bucket_snapshots``: the ageing bucket and arrears of every desk case, for
   the roll rates of ``services.kpi``), replacing one of the same day and pruning those older than
   ``SNAPSHOT_DAYS``; not on a dry run;
9. write a ``ProcedureRun`` row and an audit event per state change.

Every selection is a SQL query over the whole book (no Python loop over loans); Python loops only over the
cases that act, in groups of ``_CHUNK``. Per group the run reads row tuples (cases, clients, the loans'
positions, the BKR warnings) with a few set-based queries, calls the legal guards per case on those values, and
writes what it decided as a ``_Batch``: one ``UPDATE ... WHERE id IN`` per distinct set of new case values, one
multi-row ``INSERT ... RETURNING id`` per table (letters, tasks, BKR mutations, charges) and every audit event
through ``audit.record_many``, in decision order: one event per state change with the same content, and in the
same order, as when the run wrote one case at a time. On PostgreSQL the group's cases are read ``FOR UPDATE``
(SQLite: the run holds the write lock from its start).

A second run for the same day finds nothing to do: every step is keyed on the state it leaves behind
(stage_since, letters, mutations, period keys), not on a "ran today" flag. ``dry_run`` runs the same code in a
transaction that is rolled back, so it reports exactly the counts a real run would.

Role: the run is an operator action: a supervisor or an admin (employees work cases; the run decides for the
whole book). The CLI without ``--user`` acts as the operator ``cli:<os user>`` (see cli_procedure).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import NamedTuple

from sqlalchemy import (
    Date,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from incasso_tui.domain.arrears import Arrears, combined
from incasso_tui.domain.calendar import fourteen_day_term
from incasso_tui.domain.costs import wik_costs
from incasso_tui.domain.enums import ArrangementStatus, CaseStatus, Channel, Role, Stage
from incasso_tui.domain.guards import (
    BkrArrearsRule,
    BkrRefused,
    BkrWarningFact,
    BkrWindow,
    check_automatic_step,
    check_bkr_call_in,
    check_bkr_registration,
    check_bkr_write_off,
    check_vulnerable_escalation,
    check_consumer_costs_date,
    check_costs_within_wik,
    check_manual_stage_move,
)
from incasso_tui.domain.interest import load_rates
from incasso_tui.domain.legal_data import BkrRules, load_bkr_rules, load_costs_rules
from incasso_tui.domain.postings import InterestLine, period_interest, stacked_costs
from incasso_tui.domain.money import CENT, ZERO
from incasso_tui.letters import model as lm
from incasso_tui.domain.procedure import (
    LETTER_KIND,
    STAGE_ORDER,
    TASK_KIND,
    Action,
    DebtorProcedure,
    Procedure,
    StageDef,
    load_procedure,
)
from incasso_tui.errors import N_, ConfigError, NotFound, RuleViolation
from incasso_tui.safetext import is_email_address
from incasso_tui.services import audit, risk
from incasso_tui.services.cases import changed_by, load_case
from incasso_tui.services.claims_cover import cover_for_letter, prior_costs
from incasso_tui.services.context import Context
from incasso_tui.services.dispatch import LEGAL_KINDS, legal_channel
from incasso_tui.services.positions import bucket_of, loan_positions, refresh_changed_positions
from incasso_tui.store.db import refresh_statistics
from incasso_tui.store.models import (
    DESK_WHERE,
    NO_ARREARS,
    Arrangement,
    Base,
    BkrMutation,
    BucketSnapshot,
    Case,
    Charge,
    Client,
    DebtTrack,
    Installment,
    LedgerEntry,
    Letter,
    Loan,
    ProcedureRun,
    Task,
)
from incasso_tui.store.types import Money, money_sum

__all__ = [
    "ACTION_KINDS",
    "RUN_ROLES",
    "RunReport",
    "move_stage",
    "business_figures",
    "interest_kind",
    "interest_lines",
    "procedure_for",
    "resume_dates",
    "run_procedure",
]

RUN_ROLES = (Role.SUPERVISOR, Role.ADMIN)
_CHUNK = 500
SNAPSHOT_DAYS = 35  # the bucket snapshots kept: last week's and a month's margin
PAY_DAYS = 14  # reminder, demand and notice of default: pay within 14 calendar days of the letter date
_OPEN_LINE = Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest

# Every kind a run can count, so a report always lists all of them (a second run shows each at 0).
ACTION_KINDS: tuple[str, ...] = (
    "case_opened",
    "case_moved",
    "case_closed",
    "pause_ended",
    *(f"letter_{kind}" for kind in LETTER_KIND.values()),
    *(f"task_{kind}" for kind in TASK_KIND.values()),
    *(f"bkr_{code}" for code in ("A", "H", "1", "2", "3")),
    "charge_collection_costs",
    "charge_statutory_interest",
)


@dataclass
class RunReport:
    day: date
    dry_run: bool
    actions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTION_KINDS, 0))
    held: Counter[str] = field(default_factory=Counter)
    run_id: int | None = None
    # seconds spent in the SQL statements that select what acts, per selection
    selection: dict[str, float] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step of the run
    seconds: float = 0.0
    # the unverified rate rows and rules the run applied (data/rates.toml, data/bkr.toml, data/costs.toml)
    unverified: set[str] = field(default_factory=set)

    @property
    def selection_seconds(self) -> float:
        return sum(self.selection.values())

    def as_json(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "dry_run": self.dry_run,
            "actions": dict(self.actions),
            "held": dict(sorted(self.held.items())),
            "unverified": sorted(self.unverified),
            "run_id": self.run_id,
            "selection_seconds": round(self.selection_seconds, 3),
            "selection": {name: round(t, 3) for name, t in self.selection.items()},
            "steps": {name: round(t, 3) for name, t in self.steps.items()},
            "seconds": round(self.seconds, 3),
        }


Progress = Callable[[str, int, int], None]


def procedure_for(ctx: Context) -> Procedure:
    """The procedure file of the settings, validated, and checked against the BKR warning window."""
    procedure = load_procedure(ctx.settings.procedure_file)
    lo, hi = ctx.settings.bkr_warning_min_days, ctx.settings.bkr_warning_max_days
    for debtor in (procedure.consumer, procedure.business):
        holder = debtor.first_with(Action.BKR_REGISTER)
        if holder is not None and not lo <= holder.after_days <= hi:
            raise ConfigError(
                N_("Procedure file {file}, stage {stage}, field {field_name}: {problem}"),
                file=procedure.source,
                stage=f"{debtor.debtor}.{holder.stage.value}",
                field_name="after_days",
                problem=f"must lie inside the BKR warning window {lo}..{hi} days",
            )
    return procedure


# ----------------------------------------------------------------------------------------------- the run


class _CaseRow(NamedTuple):
    """The columns of a case the run decides on (a row tuple, not an ORM object: the run reads thousands)."""

    id: int
    client_id: int
    status: str
    stage: str
    stage_since: date | None
    opened_on: date
    pause_until: date | None
    assignee_id: int | None


_CASE_COLUMNS = (Case.id, Case.client_id, Case.status, Case.stage, Case.stage_since, Case.opened_on, Case.pause_until,
                 Case.assignee_id)


class _ClientRow(NamedTuple):
    id: int
    consumer: bool
    preferred_channel: str
    phone: str | None
    email: str | None
    language: str
    kind: str
    email_consent_on: date | None


_CLIENT_COLUMNS = (Client.id, Client.consumer, Client.preferred_channel, Client.phone, Client.email, Client.language,
                   Client.kind, Client.email_consent_on)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# the tables a batch inserts into, and the audit entity of each
_INSERTS: dict[str, tuple[Table, str]] = {
    "letters": (_table(Letter), "letter"),
    "tasks": (_table(Task), "task"),
    "bkr_mutations": (_table(BkrMutation), "bkr_mutation"),
    "charges": (_table(Charge), "charge"),
}
_CASES = _table(Case)


@dataclass
class _Run:
    s: Session
    ctx: Context
    day: date
    procedure: Procedure
    report: RunReport
    actor: str
    now: datetime
    window: BkrWindow
    touched: set[int] = field(default_factory=set)
    numbers: dict[int, str] = field(default_factory=dict)  # loan id -> number, of the loans _positions loaded
    # (case id, kind) of the letters that wait to be dispatched, of the cases of the group being decided: the run
    # never decides a second one (the unique index ux_letters_waiting would refuse it)
    waiting: set[tuple[int, str]] = field(default_factory=set)
    line_counts: dict[int, int] = field(default_factory=dict)  # loan id -> open past-due installments
    commercial: dict[int, bool] = field(default_factory=dict)  # loan id -> a commercial agreement (art. 6:96 lid 4)
    bkr_rules: BkrRules = field(default_factory=load_bkr_rules)

    def count(self, kind: str) -> None:
        self.report.actions[kind] += 1

    def unverified(self, what: str) -> None:
        """Say in the report that the run applied a rule or rate marked unverified."""
        self.report.unverified.add(what)


@dataclass
class _Batch:
    """What the run decided for a group of cases, written once (``write``): the case updates grouped by their new
    values (``UPDATE ... WHERE id IN``), one multi-row ``INSERT ... RETURNING id`` per table, and the audit events
    through one ``audit.record_many`` in the order of the decisions, so a case's events follow each other exactly
    as when the run acted on one case at a time. Used once per group."""

    run: _Run
    updates: dict[tuple[tuple[str, object], ...], list[int]] = field(default_factory=dict)
    rows: dict[str, list[dict[str, object]]] = field(default_factory=lambda: {name: [] for name in _INSERTS})
    # per event: (table or None, row index or the case id, action, case id, before, after)
    log: list[tuple[str | None, int, str, int | None, dict[str, object] | None, dict[str, object]]] = field(
        default_factory=list)

    def update_case(self, case_id: int, values: dict[str, object]) -> None:
        self.updates.setdefault(tuple(sorted(values.items())), []).append(case_id)

    def case_event(self, action: str, case_id: int, before: dict[str, object] | None, after: dict[str, object]) -> None:
        self.log.append((None, case_id, action, case_id, before, after))

    def insert(self, table: str, row: dict[str, object], action: str, case_id: int | None,
               after: dict[str, object]) -> None:
        """A new row and its audit event (whose entity id is the row's id, known once the batch is written)."""
        self.rows[table].append(row)
        self.log.append((table, len(self.rows[table]) - 1, action, case_id, None, after))

    def write(self) -> None:
        run = self.run
        for items, case_ids in self.updates.items():
            _update_cases(run, case_ids, dict(items))
        ids: dict[str, list[int]] = {}
        for name, rows in self.rows.items():
            if rows:
                table = _INSERTS[name][0]
                ids[name] = list(run.s.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))
        events = []
        for table, ref, action, case_id, before, after in self.log:
            entity, entity_id = ("case", ref) if table is None else (_INSERTS[table][1], ids[table][ref])
            events.append(audit.Event(at=run.now, actor=run.actor, action=action, entity=entity, entity_id=entity_id,
                                      case_id=case_id, before=before, after=after))
        audit.record_many(run.s, events)


def _update_cases(run: _Run, case_ids: list[int], values: dict[str, object]) -> None:
    """Set the same values on these cases (in slices of ``_CHUNK`` ids), stamped with the run's actor and time; the
    version goes up as with every change to a case, so a form opened before the run is refused as stale."""
    for chunk in _chunks(case_ids):
        run.s.execute(
            update(_CASES).where(_CASES.c.id.in_(chunk))
            .values(**values, updated_by=run.actor, updated_at=run.now, version=_CASES.c.version + 1)
        )


def run_procedure(ctx: Context, day: date, dry_run: bool = False, progress: Progress | None = None) -> RunReport:
    """Run the procedure as of ``day`` (see the module docstring). Supervisor or admin only."""
    ctx.require(*RUN_ROLES)
    procedure = procedure_for(ctx)
    started = time.perf_counter()
    report = RunReport(day=day, dry_run=dry_run)
    window = BkrWindow(ctx.settings.bkr_warning_min_days, ctx.settings.bkr_warning_max_days, ctx.settings.bkr_threshold)
    with ctx.db.sessions() as s:
        s.begin()
        s.connection(execution_options={"writer": True})
        try:
            run = _Run(s, ctx, day, procedure, report, ctx.actor.name, ctx.clock.now(), window)
            run_row = None if dry_run else ProcedureRun(run_date=day, started_at=run.now, actor=run.actor, counts="{}")
            if run_row is not None:
                s.add(run_row)
            steps: Sequence[tuple[str, Callable[[_Run], None]]] = (
                ("positions", lambda r: refresh_changed_positions(r.s, r.day)),
                ("pauses", _end_pauses),
                ("close", _close_cleared),
                ("open", _open_cases),
                ("move", _move_cases),
                ("costs", _post_costs),
                ("interest", _post_interest),
                ("bkr", _bkr_from_state),
                ("positions_touched", _refresh_touched),
                # the risk view's history and early-warning signals (issue 20)
                ("risk", lambda r: risk.daily_step(r.s, r.ctx, r.day, r.actor, r.now)),
                # the roll rates' history; not on a dry run (it rolls back anyway)
                *(() if dry_run else (("snapshot", _snapshot_buckets),)),
                # the worklist's query plans follow the stages and positions just changed (0.1-0.3 s on 1M loans)
                ("statistics", lambda r: refresh_statistics(r.s.connection(), ("cases",))),
            )
            for number, (name, step) in enumerate(steps, start=1):
                if progress:
                    progress(name, number - 1, len(steps))
                step_started = time.perf_counter()
                step(run)
                report.steps[name] = time.perf_counter() - step_started
            if progress:
                progress("done", len(steps), len(steps))
            report.seconds = time.perf_counter() - started
            if run_row is not None:
                run_row.finished_at = ctx.clock.now()
                run_row.counts = json.dumps({**report.actions, "held": dict(report.held)}, sort_keys=True)
                s.flush()
                report.run_id = run_row.id
                audit.record(s, at=run.now, actor=run.actor, action="procedure.run", entity="procedure_run",
                             entity_id=run_row.id, after={"date": day, "actions": report.actions})
                s.commit()
            else:
                s.rollback()
        except BaseException:
            s.rollback()
            raise
    return report


def _snapshot_buckets(run: _Run) -> None:
    """The bucket and arrears of every desk case as of the run day, in one ``INSERT ... SELECT``; a re-run the same
    day replaces the day's snapshot, snapshots older than ``SNAPSHOT_DAYS`` go. Bulk data, not a change of any case:
    one ``procedure.snapshot`` event with the count (docs/decisions.md)."""
    run.s.execute(delete(BucketSnapshot).where(
        or_(BucketSnapshot.day == run.day, BucketSnapshot.day < run.day - timedelta(days=SNAPSHOT_DAYS))))
    run.s.execute(insert(BucketSnapshot).from_select(
        ["day", "case_id", "bucket", "arrears"],
        select(literal(run.day, Date), Case.id, bucket_of(run.day), Case.pos_arrears).where(text(DESK_WHERE)),
    ))
    # counted, not the INSERT's rowcount: psycopg reports -1 for INSERT ... SELECT through SQLAlchemy
    written = run.s.scalar(select(func.count()).select_from(BucketSnapshot).where(BucketSnapshot.day == run.day))
    audit.record(run.s, at=run.now, actor=run.actor, action="procedure.snapshot", entity="bucket_snapshot",
                 entity_id=None, after={"date": run.day, "cases": written})


def _refresh_touched(run: _Run) -> None:
    """The position cache of the cases this run opened, moved, resumed or charged."""
    refresh_changed_positions(run.s, run.day, run.touched)


def _selected(run: _Run, name: str, query) -> list:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    rows = list(run.s.execute(query))
    run.report.selection[name] = run.report.selection.get(name, 0.0) + time.perf_counter() - started
    return rows


def _no_open_track():  # type: ignore[no-untyped-def]
    from incasso_tui.services.external import outside_desk_hold  # issue 19: at a bailiff/agency, or disputed

    return and_(~exists().where(DebtTrack.case_id == Case.id, DebtTrack.status == "open"), outside_desk_hold())


def _clean_slate(client_id):  # type: ignore[no-untyped-def]
    """The client has a debt track that ended with a clean slate (schone lei): no dunning, costs, interest or BKR step
    follows on what remained."""
    other = aliased(Case)
    return exists().where(other.client_id == client_id, DebtTrack.case_id == other.id,
                          DebtTrack.outcome == "schone_lei")


def _no_bkr(run: _Run, client_id):  # type: ignore[no-untyped-def]
    """No BKR code for a legal person (the BKR registers natural persons) nor after a clean slate."""
    kinds = sorted(run.bkr_rules.legal_person_kinds)
    holder = aliased(Client)
    return and_(~exists().where(holder.id == client_id, holder.kind.in_(kinds)), ~_clean_slate(client_id))


def _end_pauses(run: _Run) -> None:
    rows = _selected(run, "pauses", select(Case.id, Case.status, Case.pause_reason, Case.pause_until)
                     .where(Case.status == CaseStatus.PAUSED.value, Case.pause_until < run.day)
                     .order_by(Case.id).with_for_update())
    batch = _Batch(run)
    for case_id, status, reason, until in rows:
        batch.update_case(case_id, {"status": CaseStatus.ACTIVE.value, "pause_reason": None, "pause_until": None,
                                    "next_action_date": run.day, "next_action": "Pauze afgelopen: stand van zaken bekijken"})
        batch.case_event("procedure.pause_ended", case_id, {"status": status, "pause_reason": reason, "pause_until": until},
                         {"status": CaseStatus.ACTIVE.value})
        run.count("pause_ended")
        run.touched.add(case_id)
    batch.write()


def _close_cleared(run: _Run) -> None:
    rows = _selected(run, "close", select(Case.id, Case.status, Case.stage).where(
        Case.status == CaseStatus.ACTIVE.value, Case.pos_arrears == 0, Case.pos_oldest_due == NO_ARREARS)
        .order_by(Case.id).with_for_update())
    batch = _Batch(run)
    for case_id, status, stage in rows:
        batch.update_case(case_id, {"status": CaseStatus.CLOSED.value, "closed_on": run.day, "next_action_date": run.day,
                                    "next_action": ""})
        batch.case_event("procedure.close", case_id, {"status": status, "stage": stage},
                         {"status": CaseStatus.CLOSED.value, "closed_on": run.day})
        run.count("case_closed")
    batch.write()


def _clients(run: _Run, client_ids: Iterable[int]) -> dict[int, _ClientRow]:
    return {row[0]: _ClientRow(*row) for row in run.s.execute(select(*_CLIENT_COLUMNS).where(Client.id.in_(list(client_ids))))}


def _open_cases(run: _Run) -> None:
    """Clients with a loan whose oldest unpaid line is past the first stage's offset and no open case.

    The loans come from the open lines due on or before the later cutoff, grouped per loan: the shape of the days
    past due query (one pass over the partial index of open lines) rather than a probe for each of the book's loans.
    """
    cutoffs = {consumer: run.day - timedelta(days=run.procedure.for_debtor(consumer).first.after_days)
               for consumer in (True, False)}
    first_open = (
        select(Installment.loan_id, func.min(Installment.due_date).label("first_due"))
        .where(_OPEN_LINE, Installment.due_date <= max(cutoffs.values()))
        .group_by(Installment.loan_id)
        .subquery()
    )
    open_case = exists().where(Case.client_id == Loan.client_id, Case.status != CaseStatus.CLOSED.value)
    # a clean slate (schone lei, art. 358 Fw): the remaining claim can no longer be enforced, no new case follows
    cutoff = case((Client.consumer.is_(True), literal(cutoffs[True])), else_=literal(cutoffs[False]))
    query = (
        select(Loan.client_id)
        .select_from(first_open)
        .join(Loan, Loan.id == first_open.c.loan_id)
        .join(Client, Client.id == Loan.client_id)
        .where(Loan.status.in_(("active", "called")), ~open_case, ~_clean_slate(Loan.client_id),
               first_open.c.first_due <= cutoff)
        .group_by(Loan.client_id)
        .order_by(Loan.client_id)
    )
    client_ids = [row[0] for row in _selected(run, "open", query)]
    for chunk in _chunks(client_ids):
        clients = _clients(run, chunk)
        positions = _positions(run, set(chunk))
        stages = [run.procedure.for_debtor(clients[client_id].consumer).first for client_id in chunk]
        new = [
            {"client_id": client_id, "status": CaseStatus.ACTIVE.value, "stage": stage.stage.value, "opened_on": run.day,
             **_stage_values(run, clients[client_id].consumer, stage), "pos_oldest_due": NO_ARREARS, "pos_arrears": ZERO,
             "updated_by": run.actor, "updated_at": run.now, "version": 1}
            for client_id, stage in zip(chunk, stages, strict=True)
        ]
        case_ids = list(run.s.scalars(insert(_CASES).returning(_CASES.c.id, sort_by_parameter_order=True), new))
        run.waiting = set()  # new cases: no letters yet
        batch = _Batch(run)
        for case_id, client_id, stage in zip(case_ids, chunk, stages, strict=True):
            c = _CaseRow(case_id, client_id, CaseStatus.ACTIVE.value, stage.stage.value, run.day, run.day, None, None)
            run.touched.add(case_id)
            batch.case_event("procedure.open", case_id, None, {"status": c.status, "stage": c.stage, "opened_on": run.day})
            run.count("case_opened")
            _stage_actions(batch, c, clients[client_id], stage, positions[client_id], None)
        batch.write()


def _move_cases(run: _Run) -> None:
    """Active cases outside any track whose next stage's offset has passed since they entered their stage."""
    whens = []
    for consumer in (True, False):
        debtor = run.procedure.for_debtor(consumer)
        for stage in Stage:
            following = debtor.next_after(stage.value)
            if following is not None:
                whens.append((and_(Client.consumer.is_(consumer), Case.stage == stage.value),
                              literal(run.day - timedelta(days=following.after_days))))
    since = func.coalesce(Case.stage_since, Case.opened_on)
    query = (
        select(Case.id)
        .join(Client, Client.id == Case.client_id)
        .where(Case.status == CaseStatus.ACTIVE.value, Case.pos_arrears > 0, _no_open_track(), since <= case(*whens, else_=None))
        .order_by(Case.id)
    )
    case_ids = [row[0] for row in _selected(run, "move", query)]
    vulnerable_max = risk.rules_for(run.ctx).vulnerability.max_automatic_stage
    for chunk in _chunks(case_ids):
        cases = {row[0]: _CaseRow(*row) for row in run.s.execute(
            select(*_CASE_COLUMNS).where(Case.id.in_(chunk)).with_for_update())}
        clients = _clients(run, {c.client_id for c in cases.values()})
        chunk_positions = _positions(run, set(clients))
        _load_waiting(run, chunk)
        targets = {case_id: run.procedure.for_debtor(clients[c.client_id].consumer).next_after(c.stage)
                   for case_id, c in cases.items()}
        warnings = _latest_warnings(run, [case_id for case_id, target in targets.items()
                                          if target is not None and Action.BKR_REGISTER in target.actions])
        vulnerable = risk.flagged_clients(run.s, clients)
        batch = _Batch(run)
        for case_id in chunk:
            c = cases[case_id]
            client = clients[c.client_id]
            try:
                check_automatic_step(c.status, False, c.pause_until, run.day)
            except RuleViolation:
                run.report.held["stopped"] += 1
                continue
            target = targets[case_id]
            assert target is not None  # the query only selects cases with a next stage
            try:
                check_vulnerable_escalation(client.id in vulnerable, target.stage.value, vulnerable_max)
            except RuleViolation:
                run.report.held["vulnerable"] += 1
                continue
            positions = chunk_positions[client.id]
            warning = warnings.get(case_id)
            if Action.BKR_REGISTER in target.actions and not _bkr_register_ready(batch, c, client, positions, warning):
                continue
            batch.update_case(case_id, {"stage": target.stage.value, **_stage_values(run, client.consumer, target)})
            batch.case_event("procedure.move", case_id, {"stage": c.stage, "stage_since": c.stage_since or c.opened_on},
                             {"stage": target.stage.value, "stage_since": run.day})
            run.count("case_moved")
            run.touched.add(case_id)
            _stage_actions(batch, c, client, target, positions, warning)
        batch.write()


def _bkr_register_ready(batch: _Batch, c: _CaseRow, client: _ClientRow, positions: dict[int, Arrears],
                        warning: _Warning | None) -> bool:
    """Whether the move into the BKR registration stage may happen today; if the warning is missing or too
    old, a new warning letter is sent and the case waits. A legal person gets no BKR code: the stage is passed."""
    run = batch.run
    if client.kind in run.bkr_rules.legal_person_kinds:
        return True  # _register_a reports it under held
    if warning is None and (c.id, "bkr_warning") in run.waiting:
        run.report.held["bkr_warning_not_dispatched"] += 1  # decided or rendered, not yet in the post: no effect yet
        return False
    refusals = []
    for loan_id, pos in positions.items():
        try:
            _check_a(run, loan_id, pos, warning)
            return True
        except BkrRefused as err:
            refusals.append(err.why)
    whys = set(refusals)
    if whys <= {"cleared", "threshold", "too_few_installments"}:
        return True  # the stage is passed without a registration (_register_a reports each refusal under held)
    if whys & {"no_warning", "warning_too_old"}:
        if (c.id, "bkr_warning") in run.waiting:
            run.report.held["bkr_warning_not_dispatched"] += 1
            return False
        _letter(batch, c, client, "bkr_warning", positions)
        run.report.held["bkr_warning_resent"] += 1
        return False
    run.report.held["bkr_waiting"] += 1
    return False


def _check_a(run: _Run, loan_id: int, pos: Arrears, warning: _Warning | None) -> None:
    rules = run.bkr_rules
    if not rules.arrears_verified:
        run.unverified("bkr: arrears rule (data/bkr.toml)")
    check_bkr_registration(day=run.day, warning=BkrWarningFact(warning.received, warning.report_from) if warning else None,
                           window=run.window, arrears=pos.total, oldest_due=pos.oldest_due_date,
                           installments_in_arrears=run.line_counts.get(loan_id, 0),
                           rule=BkrArrearsRule(rules.min_installments, rules.min_days_past_due, rules.months_after_due))


def _stage_values(run: _Run, consumer: bool, stage: StageDef) -> dict[str, object]:
    """The case's columns on entering ``stage``: a stage with a task is work for today; otherwise the next look is
    when the following stage falls due."""
    following = run.procedure.for_debtor(consumer).next_after(stage.stage.value)
    has_task = any(action in TASK_KIND for action in stage.actions)
    next_date = run.day + timedelta(days=following.after_days) if following and not has_task else run.day
    return {"stage_since": run.day, "next_action": stage.next_action, "next_action_date": next_date}


def _stage_actions(batch: _Batch, c: _CaseRow, client: _ClientRow, stage: StageDef, positions: dict[int, Arrears],
                   warning: _Warning | None) -> None:
    run = batch.run
    for action in stage.actions:
        if action in LETTER_KIND:
            kind = LETTER_KIND[action]
            if kind == "bkr_warning" and client.kind in run.bkr_rules.legal_person_kinds:
                run.report.held["bkr_warning_legal_person"] += 1  # the BKR registers natural persons only
                continue
            _letter(batch, c, client, kind, positions)
        elif action in TASK_KIND:
            _task(batch, c, TASK_KIND[action], stage.next_action)
        elif action is Action.BKR_REGISTER:
            _register_a(batch, c, client, positions, warning)
        # COLLECTION_COSTS and STATUTORY_INTEREST are postings: _post_costs / _post_interest act on them


def _register_a(batch: _Batch, c: _CaseRow, client: _ClientRow, positions: dict[int, Arrears],
                warning: _Warning | None) -> None:
    run = batch.run
    if client.kind in run.bkr_rules.legal_person_kinds:
        run.report.held["bkr_A_legal_person"] += 1
        return
    for loan_id, pos in sorted(positions.items()):
        try:
            _check_a(run, loan_id, pos, warning)
        except BkrRefused as err:
            run.report.held[f"bkr_A_{err.why}"] += 1
            continue
        _mutation(batch, c.id, loan_id, client.id, "A", pos.total, warning.id if warning else None)


def _mutation(batch: _Batch, case_id: int | None, loan_id: int, client_id: int, code: str, amount: Decimal,
              warning_id: int | None = None) -> None:
    run = batch.run
    batch.insert("bkr_mutations",
                 {"loan_id": loan_id, "client_id": client_id, "code": code, "mutation_date": run.day, "amount": amount,
                  "warning_letter_id": warning_id, "created_by": run.actor, "created_at": run.now},
                 f"bkr.{code}", case_id,
                 {"loan_id": loan_id, "code": code, "amount": amount, "mutation_date": run.day,
                  "warning_letter_id": warning_id})
    run.count(f"bkr_{code}")


class _Warning(NamedTuple):
    id: int
    received: date
    report_from: date


def _latest_warnings(run: _Run, case_ids: list[int]) -> dict[int, _Warning]:
    """Per case: its newest DISPATCHED BKR warning (a decided, rendered, failed or cancelled one has no effect):
    its id, assumed receipt and the registration date it stated."""
    found: dict[int, _Warning] = {}
    if case_ids:
        for case_id, letter_id, received, raw in run.s.execute(
            select(Letter.case_id, Letter.id, Letter.received_on, Letter.figures)
            .where(Letter.case_id.in_(case_ids), Letter.kind == "bkr_warning", Letter.status == "sent",
                   Letter.received_on.is_not(None))
            .order_by(Letter.case_id, Letter.dispatched_on, Letter.id)
        ):
            figures = lm.LetterFigures.from_json(raw)
            stated = figures.bkr.report_from if figures.bkr else received
            found[case_id] = _Warning(letter_id, received, stated)  # the last one of a case is its newest
    return found


def _load_waiting(run: _Run, case_ids: Iterable[int]) -> None:
    """The letters of these cases that wait to be dispatched, and their loans' open past-due line counts."""
    ids = list(case_ids)
    run.waiting = {(case_id, kind) for case_id, kind in run.s.execute(
        select(Letter.case_id, Letter.kind).where(Letter.case_id.in_(ids), Letter.status.in_(("pending", "rendered"))))}


def _channel(client: _ClientRow, kind: str) -> str:
    """Reminders go by the client's preference (e-mail or WhatsApp); a legal letter by post, or by e-mail where the
    client consented to legal notices by e-mail (services.dispatch.legal_channel); other letters by post."""
    if kind in LEGAL_KINDS:
        return legal_channel(kind, client.email, client.email_consent_on)
    if kind == "reminder":
        if client.preferred_channel == Channel.WHATSAPP.value and client.phone:
            return Channel.WHATSAPP.value
        if is_email_address(client.email):  # one valid address (safetext); otherwise the reminder goes by post
            return Channel.EMAIL.value
    return Channel.LETTER.value


def _figures(run: _Run, kind: str, positions: dict[int, Arrears], client: _ClientRow) -> lm.LetterFigures | None:
    """The figures contract of letters.model: every amount and date the letter states; None when a 14-day letter
    has nothing to cover or no costs to announce (held, with the reason)."""
    numbers = run.numbers  # filled by _positions, which loaded these positions
    in_arrears = sorted((loan_id for loan_id, p in positions.items() if p.total > 0), key=numbers.__getitem__)
    figures: dict[str, object] = {
        "loans": tuple(numbers[loan_id] for loan_id in in_arrears),
        "arrears": lm.Arrears.of(combined(positions[loan_id] for loan_id in in_arrears), run.day),
    }
    if kind in ("reminder", "demand", "default_notice"):
        figures["pay_by"] = run.day + timedelta(days=PAY_DAYS)
        if kind == "demand" and not client.consumer:
            figures.update(business_figures(client.kind in run.bkr_rules.legal_person_kinds, (
                positions[loan_id] for loan_id in in_arrears if run.commercial.get(loan_id))))
    elif kind == "fourteen_day":
        # every claim against the consumer in one letter, WIK on the summed claims (art. 6:96 lid 7 BW), each
        # installment covered once (a later letter covers only the new ones), the stacking limit applied
        cover = cover_for_letter(run.s, client.id, in_arrears, run.day)
        if not cover.claims:
            run.report.held["fourteen_day_all_covered"] += 1
            return None
        if cover.prior and not load_costs_rules().verified:
            run.unverified("costs: stacking period (data/costs.toml)")
        if cover.costs <= 0:
            run.report.held["fourteen_day_no_costs"] += 1
            return None
        term = fourteen_day_term(run.day, run.ctx.settings.fourteen_day_receipt_delivery_days)
        figures["collection_costs"] = lm.CollectionCosts(amount=cover.costs)
        figures["claims"] = cover.claims
        figures["fourteen_day"] = lm.FourteenDayDates.from_term(term)  # expected if posted today; see the letter row
    elif kind == "bkr_warning":
        # the registration date stated: at least the minimum window after the receipt expected when it is posted
        # today (a later dispatch only moves the earliest registration later, guards.check_bkr_registration)
        expected = fourteen_day_term(run.day, run.ctx.settings.fourteen_day_receipt_delivery_days).assumed_receipt
        figures["bkr"] = lm.BkrWarning(report_from=expected + timedelta(days=run.window.min_days))
    return lm.LetterFigures.model_validate(figures)


def business_figures(legal_person: bool, commercial: Iterable[Arrears]) -> dict[str, object]:
    """What a business debtor's demand letter states: the costs owed under art. 6:96 lid 4 BW on its commercial
    agreements in arrears (the WIK scale per loan on its overdue installments, as ``_post_costs`` charges them), and
    whether it is a legal person (no BKR)."""
    costs = sum((wik_costs(p.principal + p.interest) for p in commercial if p.principal + p.interest > 0), ZERO)
    return {"business_debtor": True, "legal_person": legal_person,
            "commercial_costs": lm.CollectionCosts(amount=costs) if costs > 0 else None}


def _letter(batch: _Batch, c: _CaseRow, client: _ClientRow, kind: str, positions: dict[int, Arrears]) -> None:
    run = batch.run
    if (c.id, kind) in run.waiting:
        run.report.held[f"letter_waiting_{kind}"] += 1  # one of this kind waits to be dispatched: not a second
        return
    figures = _figures(run, kind, positions, client)
    if figures is None:
        return
    channel = _channel(client, kind)
    run.waiting.add((c.id, kind))
    # received_on and costs_from stay empty: they follow from the dispatch (services.dispatch.mark_dispatched)
    batch.insert("letters",
                 {"case_id": c.id, "client_id": client.id, "kind": kind, "channel": channel,
                  "language": client.language if client.language in ("nl", "en") else "nl", "letter_date": run.day,
                  "figures": figures.to_json(), "status": "pending", "run_date": run.day, "created_by": run.actor,
                  "created_at": run.now},
                 "letter.decide", c.id,
                 {"kind": kind, "channel": channel, "letter_date": run.day,
                  "collection_costs": figures.collection_costs.amount if figures.collection_costs else None})
    run.count(f"letter_{kind}")


def _task(batch: _Batch, c: _CaseRow, kind: str, title: str) -> None:
    run = batch.run
    batch.insert("tasks",
                 {"case_id": c.id, "kind": kind, "title": title, "due_date": run.day, "status": "open",
                  "assignee_id": c.assignee_id, "created_by": run.actor, "created_at": run.now},
                 "task.create", c.id, {"kind": kind, "due_date": run.day})
    run.count(f"task_{kind}")


def _positions(run: _Run, client_ids: set[int]) -> dict[int, dict[int, Arrears]]:
    """The arrears of every loan of these clients (one batch of queries): {client id: {loan id: Arrears}}."""
    owners: dict[int, int] = {}
    for loan_id, client_id, number, commercial in run.s.execute(
            select(Loan.id, Loan.client_id, Loan.number, Loan.commercial).where(Loan.client_id.in_(client_ids))):
        owners[loan_id] = client_id
        run.numbers[loan_id] = number
        run.commercial[loan_id] = bool(commercial)
    found = loan_positions(run.s, owners, run.day)
    run.line_counts.update({loan_id: n for loan_id, n in run.s.execute(
        select(Installment.loan_id, func.count()).where(Installment.loan_id.in_(list(owners)),
                                                        Installment.due_date < run.day, _OPEN_LINE)
        .group_by(Installment.loan_id))})
    grouped: dict[int, dict[int, Arrears]] = {client_id: {} for client_id in client_ids}
    for loan_id, pos in found.items():
        grouped[owners[loan_id]][loan_id] = pos
    return grouped


def _chunks(items: list[int]) -> list[list[int]]:
    return [items[i:i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _stages_reaching(debtor: DebtorProcedure, action: Action) -> list[str]:
    holder = debtor.first_with(action)
    if holder is None:
        return []
    return [s.value for s in Stage if STAGE_ORDER[s.value] >= STAGE_ORDER[holder.stage.value]]


def _reached(run: _Run, action: Action):  # type: ignore[no-untyped-def]
    return or_(
        and_(Client.consumer.is_(True), Case.stage.in_(_stages_reaching(run.procedure.consumer, action))),
        and_(Client.consumer.is_(False), Case.stage.in_(_stages_reaching(run.procedure.business, action))),
    )


# ----- postings


def _split(total: Decimal, weights: dict[int, Decimal]) -> dict[int, Decimal]:
    """Divide ``total`` over the keys in proportion to ``weights``, cent-exact (the rest to the largest)."""
    base = sum(weights.values(), ZERO)
    parts = {k: (total * w / base).quantize(CENT, rounding=ROUND_DOWN) for k, w in weights.items()}
    largest = max(weights, key=lambda k: (weights[k], -k))
    parts[largest] += total - sum(parts.values(), ZERO)
    return {k: v for k, v in parts.items() if v > 0}


def _charge(batch: _Batch, case_id: int, loan_id: int, kind: str, amount: Decimal, key: str, description: str,
            due: date, basis: str | None = None) -> None:
    run = batch.run
    batch.insert("charges",
                 {"loan_id": loan_id, "kind": kind, "due_date": due, "amount": amount, "paid": ZERO,
                  "description": description, "period_key": key, "basis": basis},
                 f"charge.{kind}", case_id, {"loan_id": loan_id, "amount": amount, "period_key": key, "due_date": due})
    run.count(f"charge_{kind}")
    run.touched.add(case_id)


def _open_lines(run: _Run, loan_ids: Iterable[int], before: date) -> dict[int, list[tuple[date, Decimal]]]:
    """Per loan, in due-date order: (due date, unpaid principal and contractual interest) of each installment due
    before ``before`` that is not fully paid."""
    lines: dict[int, list[tuple[date, Decimal]]] = {}
    for loan_id, due, amount in run.s.execute(
        select(Installment.loan_id, Installment.due_date,
               type_coerce(Installment.principal - Installment.principal_paid + Installment.interest
                           - Installment.interest_paid, Money))
        .where(Installment.loan_id.in_(list(loan_ids)), Installment.due_date < before, _OPEN_LINE)
        .order_by(Installment.loan_id, Installment.due_date)
    ):
        lines.setdefault(loan_id, []).append((due, amount))
    return lines


def _open_claims(lines: dict[int, list[tuple[date, Decimal]]], loan_ids: Iterable[int], before: date) -> dict[int, Decimal]:
    """Per loan (ascending id): the unpaid part of the lines due before ``before``, where there is one."""
    claims = {}
    for loan_id in sorted(loan_ids):
        amount = sum((a for due, a in lines.get(loan_id, ()) if due < before), ZERO)
        if amount > 0:
            claims[loan_id] = amount
    return claims


def _post_costs(run: _Run) -> None:
    """Collection costs. Consumers: a DISPATCHED 14-day letter whose term (counted from its dispatch) has passed and
    that has no posting yet, on the unpaid remainder of the installments it covers, never more than it stated, nor
    more than the stacking limit allows. Business: WIK once per case from the costs stage, on commercial agreements
    only (art. 6:96 lid 4 BW); a business debtor's other loans follow the consumer route (a 14-day letter)."""
    key = literal("wik:letter:") + cast(Letter.id, String)
    posted = exists().where(Loan.client_id == Letter.client_id, Charge.loan_id == Loan.id,
                            Charge.kind == "collection_costs", Charge.period_key == key)
    query = (
        select(Letter.id, Letter.client_id, Letter.figures, Letter.letter_date, Letter.costs_from, Case.id)
        .join(Case, Case.id == Letter.case_id)
        .where(Letter.kind == "fourteen_day", Letter.status == "sent", Letter.costs_from <= run.day,
               Case.status == CaseStatus.ACTIVE.value, _no_open_track(), ~posted)
        .order_by(Letter.id)
    )
    letters = _selected(run, "costs_consumer", query)
    costs_rules = load_costs_rules()
    for start in range(0, len(letters), _CHUNK):
        chunk = [(letter_id, client_id, lm.LetterFigures.from_json(raw), letter_date, costs_from, case_id)
                 for letter_id, client_id, raw, letter_date, costs_from, case_id in letters[start:start + _CHUNK]]
        loan_of = {number: loan_id for number, loan_id in run.s.execute(select(Loan.number, Loan.id).where(
            Loan.number.in_({number for _l, _c, figures, *_rest in chunk for number in figures.loans})))}
        lines = _open_lines(run, loan_of.values(), max(letter_date for _l, _c, _f, letter_date, *_rest in chunk))
        batch = _Batch(run)
        for letter_id, client_id, figures, letter_date, costs_from, case_id in chunk:
            assert figures.collection_costs is not None  # a fourteen_day letter cannot be made without them
            if figures.claims is not None:
                wanted = {(loan_of[c.loan], c.seq) for c in figures.claims if c.loan in loan_of}
                remainder: dict[int, Decimal] = {}
                for loan_id, seq, amount in _open_seq_lines(run, {loan for loan, _seq in wanted}):
                    if (loan_id, seq) in wanted:
                        remainder[loan_id] = remainder.get(loan_id, ZERO) + amount
            else:  # a letter from before issue 12: the installments of its loans due before its date
                remainder = _open_claims(lines, [loan_of[n] for n in figures.loans if n in loan_of], letter_date)
            if not remainder:
                continue  # paid within the term: no costs
            check_consumer_costs_date(costs_from, run.day)
            base = sum(remainder.values(), ZERO)
            prior = prior_costs(run.s, client_id, figures.loans, letter_date, before_id=letter_id)
            if prior and not costs_rules.verified:
                run.unverified("costs: stacking period (data/costs.toml)")
            # never more than the letter stated; on the unpaid remainder only; within the stacking limit
            costs = min(figures.collection_costs.amount, stacked_costs(base, prior))
            if costs <= 0:
                run.report.held["costs_stacked_away"] += 1
                continue
            check_costs_within_wik(costs, base)
            basis = json.dumps({"letter_id": letter_id, "base": str(base),
                                "claims": [[c.loan, c.seq] for c in figures.claims or ()]})
            for loan_id, part in _split(costs, remainder).items():
                _charge(batch, case_id, loan_id, "collection_costs", part, f"wik:letter:{letter_id}",
                        f"Buitengerechtelijke incassokosten (WIK) na veertiendagenbrief van {letter_date.isoformat()}",
                        run.day, basis)
        batch.write()
    # business: from the costs stage on, once per case, WIK per commercial loan (a loan charged before is skipped)
    earlier = exists().where(Charge.loan_id == Loan.id, Charge.kind == "collection_costs",
                             Charge.due_date >= Case.opened_on)
    query = (
        select(Case.id, Loan.id)
        .join(Client, Client.id == Case.client_id)
        .join(Loan, Loan.client_id == Case.client_id)
        .where(Client.consumer.is_(False), Loan.commercial.is_(True), Case.status == CaseStatus.ACTIVE.value,
               Case.pos_arrears > 0, _no_open_track(), _reached(run, Action.COLLECTION_COSTS), ~earlier)
        .order_by(Case.id, Loan.id)
    )
    rows = _selected(run, "costs_business", query)
    for chunk_start in range(0, len(rows), _CHUNK):
        chunk = rows[chunk_start:chunk_start + _CHUNK]
        principals = _open_claims(_open_lines(run, [loan_id for _c, loan_id in chunk], run.day),
                                  [loan_id for _c, loan_id in chunk], run.day)
        batch = _Batch(run)
        for case_id, loan_id in chunk:
            principal = principals.get(loan_id)
            if not principal:
                continue
            costs = wik_costs(principal)
            check_costs_within_wik(costs, principal)
            _charge(batch, case_id, loan_id, "collection_costs", costs, f"wik:case:{case_id}",
                    "Buitengerechtelijke incassokosten (WIK)", run.day, json.dumps({"base": str(principal)}))
        batch.write()


def _open_seq_lines(run: _Run, loan_ids: Iterable[int]) -> list[tuple[int, int, Decimal]]:
    """(loan, seq, unpaid amount) of every open line of these loans."""
    ids = list(loan_ids)
    if not ids:
        return []
    return list(run.s.execute(
        select(Installment.loan_id, Installment.seq,
               type_coerce(Installment.principal - Installment.principal_paid + Installment.interest
                           - Installment.interest_paid, Money))
        .where(Installment.loan_id.in_(ids), _OPEN_LINE)).all())


def interest_kind(procedure: Procedure, consumer: bool, commercial: bool) -> str:
    """The interest kind follows the loan: handelsrente (art. 6:119a BW) only for a commercial agreement of a business
    debtor; every other loan carries the wettelijke rente of art. 6:119 BW (unless the procedure says none)."""
    configured = procedure.for_debtor(consumer).interest
    if configured == "handels" and (consumer or not commercial):
        return "wettelijk"
    return configured


def _interest_kind(run: _Run, consumer: bool, commercial: bool) -> str:
    return interest_kind(run.procedure, consumer, commercial)


def resume_dates(s: Session, client_ids: Iterable[int]) -> dict[int, date]:
    """Per client: the day after its last ended debt track (no interest for a day inside a track)."""
    found: dict[int, date] = {}
    for client_id, ended in s.execute(
        select(Case.client_id, func.max(DebtTrack.ended_on)).join(Case, Case.id == DebtTrack.case_id)
        .where(Case.client_id.in_(list(client_ids)), DebtTrack.status == "ended", DebtTrack.ended_on.is_not(None))
        .group_by(Case.client_id)
    ):
        if ended is not None:
            found[client_id] = ended + timedelta(days=1)
    return found


def interest_lines(lines: Iterable[tuple[date, Decimal]], resume: date | None) -> list[InterestLine]:
    """Open lines (due date, unpaid amount) as interest lines: from the day after the due date, or from ``resume``
    (the day after a debt track ended) when that is later."""
    return [InterestLine(amount, max(due + timedelta(days=1), resume) if resume else due + timedelta(days=1))
            for due, amount in lines]


def _post_interest(run: _Run) -> None:
    """Statutory interest over the previous calendar month on each past-due line still open, once per loan and
    month (period key ``interest:YYYY-MM``), for cases that reached the interest stage; compounded yearly from each
    line's start (domain.postings.period_interest), never on a day inside a debt track."""
    month_start = run.day.replace(day=1)
    previous_start = (month_start - timedelta(days=1)).replace(day=1)
    key = f"interest:{previous_start:%Y-%m}"
    posted = exists().where(Charge.loan_id == Loan.id, Charge.kind == "statutory_interest", Charge.period_key == key)
    late = exists().where(Installment.loan_id == Loan.id, Installment.due_date < month_start, _OPEN_LINE)
    query = (
        select(Case.id, Loan.id, Client.consumer, Loan.commercial, Case.client_id)
        .join(Client, Client.id == Case.client_id)
        .join(Loan, Loan.client_id == Case.client_id)
        .where(Case.status == CaseStatus.ACTIVE.value, _no_open_track(), _reached(run, Action.STATUTORY_INTEREST),
               late, ~posted)
        .order_by(Case.id, Loan.id)
    )
    rows = [r for r in _selected(run, "interest", query) if _interest_kind(run, r[2], r[3]) != "none"]
    rates = load_rates()
    for chunk_start in range(0, len(rows), _CHUNK):
        chunk = rows[chunk_start:chunk_start + _CHUNK]
        lines = _open_lines(run, [r[1] for r in chunk], month_start)
        resume = resume_dates(run.s, {r[4] for r in chunk})
        batch = _Batch(run)
        for case_id, loan_id, consumer, commercial, client_id in chunk:
            kind = _interest_kind(run, consumer, commercial)
            open_lines = interest_lines(lines.get(loan_id, []), resume.get(client_id))
            total, basis, used = period_interest(open_lines, previous_start, month_start, kind, rates)  # type: ignore[arg-type]
            for row in used:
                if not row.verified:
                    run.unverified(f"rates: row {row.start.isoformat()} (data/rates.toml)")
            if total > 0:
                _charge(batch, case_id, loan_id, "statutory_interest", total, key,
                        f"Wettelijke rente {previous_start:%m-%Y}", month_start, basis.to_json())
        batch.write()


# ----- BKR codes that follow from the state of the book


def _bkr_from_state(run: _Run) -> None:
    a = BkrMutation.__table__.alias("a")
    later = BkrMutation.__table__.alias("later")
    # the newest A of each loan that no H followed
    standing = (
        select(a.c.loan_id, a.c.client_id, func.max(a.c.id).label("a_id"), func.max(a.c.mutation_date).label("a_date"))
        .where(a.c.code == "A")
        .group_by(a.c.loan_id, a.c.client_id)
        .subquery()
    )
    no_h = ~exists().where(later.c.loan_id == standing.c.loan_id, later.c.code == "H", later.c.id > standing.c.a_id)
    past_due = exists().where(Installment.loan_id == standing.c.loan_id, Installment.due_date < run.day, _OPEN_LINE)
    open_costs = exists().where(Charge.loan_id == standing.c.loan_id, Charge.due_date <= run.day, Charge.paid < Charge.amount)
    rows = _selected(run, "bkr_H", select(standing).where(no_h, ~past_due, ~open_costs, ~_clean_slate(standing.c.client_id)))
    cases = _cases_of(run, {row.client_id for row in rows})
    batch = _Batch(run)
    # the selection is guards.check_bkr_cleared's rule in SQL (a standing A, no past-due line, no open charge);
    # a kept arrangement applies the same guard one loan at a time (payments._bkr_h)
    for loan_id, client_id, _a_id, _a_date in rows:
        _mutation(batch, cases.get(client_id), loan_id, client_id, "H", ZERO)
    batch.write()
    # 1: an arrangement agreed after the A
    no_1 = ~exists().where(later.c.loan_id == standing.c.loan_id, later.c.code == "1", later.c.id > standing.c.a_id)
    arranged = (
        select(standing.c.loan_id, standing.c.client_id)
        .join(Case, Case.client_id == standing.c.client_id)
        .join(Arrangement, Arrangement.case_id == Case.id)
        .where(no_h, no_1, Case.status != CaseStatus.CLOSED.value, Arrangement.status == ArrangementStatus.ACTIVE.value,
               func.date(Arrangement.created_at) >= standing.c.a_date, _no_bkr(run, standing.c.client_id))
        .distinct()
    )
    rows = _selected(run, "bkr_1", arranged)
    cases = _cases_of(run, {row.client_id for row in rows})
    batch = _Batch(run)
    for loan_id, client_id in rows:
        _mutation(batch, cases.get(client_id), loan_id, client_id, "1", ZERO)
    batch.write()
    # 2: a loan called in
    code = BkrMutation.__table__.alias("code")
    called = select(Loan.id, Loan.client_id, Loan.status).where(
        Loan.status == "called", ~exists().where(code.c.loan_id == Loan.id, code.c.code == "2"),
        _no_bkr(run, Loan.client_id))
    rows = _selected(run, "bkr_2", called)
    cases = _cases_of(run, {row.client_id for row in rows})
    batch = _Batch(run)
    for loan_id, client_id, status in rows:
        check_bkr_call_in(status)
        _mutation(batch, cases.get(client_id), loan_id, client_id, "2", ZERO)
    batch.write()
    # 3: at least EUR 250 written off (the write-offs summed per loan first: one pass over the ledger, not a probe
    # for each of the book's loans)
    written = (
        select(LedgerEntry.loan_id, money_sum(LedgerEntry.amount).label("amount"))
        .where(LedgerEntry.kind == "write_off")
        .group_by(LedgerEntry.loan_id)
        .subquery()
    )
    write_offs = (
        select(Loan.id, Loan.client_id, written.c.amount)
        .join(written, written.c.loan_id == Loan.id)
        .where(~exists().where(code.c.loan_id == Loan.id, code.c.code == "3"), _no_bkr(run, Loan.client_id))
        .order_by(Loan.id)
    )
    rows = _selected(run, "bkr_3", write_offs)
    cases = _cases_of(run, {row.client_id for row in rows})
    batch = _Batch(run)
    for loan_id, client_id, amount in rows:
        try:
            check_bkr_write_off(amount)
        except RuleViolation:
            continue
        _mutation(batch, cases.get(client_id), loan_id, client_id, "3", amount)
    batch.write()


def _cases_of(run: _Run, client_ids: set[int]) -> dict[int, int]:
    """Per client: the id of the case an event is filed under (the open case, else the newest closed one)."""
    found: dict[int, int] = {}
    for chunk in _chunks(sorted(client_ids)):
        for case_id, client_id in run.s.execute(
            select(Case.id, Case.client_id).where(Case.client_id.in_(chunk))
            .order_by(Case.status == CaseStatus.CLOSED.value, Case.id.desc())
        ):
            found.setdefault(client_id, case_id)
    return found


# ---------------------------------------------------------------------------------------- manual steps


def move_stage(ctx: Context, case_id: int, target: str, reason: str, expected_version: int | None = None) -> None:
    """A supervisor moves a case to a later stage, past the procedure, with a reason (audited). The stage's
    automatic actions are NOT performed: letters, costs and BKR codes keep their own guards."""
    if target not in STAGE_ORDER:
        raise NotFound(N_("Unknown stage {stage}"), stage=target)
    try:
        with ctx.db.transaction() as s:
            c = load_case(s, case_id)
            if expected_version is not None and c.version != expected_version:
                raise changed_by(c)
            check_manual_stage_move(c.stage, target, supervisor=ctx.actor.role == Role.SUPERVISOR, reason=reason)
            before = {"stage": c.stage, "stage_since": c.stage_since or c.opened_on}
            c.stage, c.stage_since = target, ctx.clock.today()
            c.updated_by, c.updated_at = ctx.actor.name, ctx.clock.now()
            audit.record(s, at=ctx.clock.now(), actor=ctx.actor.name, action="case.stage_skip", entity="case",
                         entity_id=c.id, case_id=c.id, before=before,
                         after={"stage": target, "stage_since": c.stage_since, "reason": reason.strip()})
    except StaleDataError:  # another writer committed between our read and our flush (the version check)
        with ctx.db.reader() as s:
            raise changed_by(load_case(s, case_id)) from None
