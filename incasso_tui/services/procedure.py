"""The daily arrears procedure run, and a supervisor's manual move of a case to a later stage.

``run_procedure(ctx, day)`` does, in ONE transaction (all of it or nothing):

1. refresh the ``cases.pos_*`` cache of every open case as of ``day`` (set-based, ``services.positions``);
2. end the pauses whose end date has passed (the case becomes active again);
3. close the active cases whose arrears is cleared;
4. open a case for every client newly in arrears (oldest unpaid due date at least the first stage's
   ``after_days`` ago) and perform the first stage's actions;
5. move every active case whose next stage is due (``stage_since`` + the next stage's ``after_days``) and
   perform that stage's actions, through the legal guards (``domain.guards``): a refused step holds the case
   and is reported under ``held``;
6. post collection costs (consumers: after the 14-day letter's term; business: from the costs stage) and
   statutory interest per calendar month (``charges.period_key`` makes a second posting impossible);
7. BKR codes that follow from the state of the book: H (an A stands, the loan's arrears is cleared), 1 (an
   arrangement made after an A), 2 (a loan called in), 3 (at least EUR 250 written off);
8. write a ``ProcedureRun`` row and an audit event per state change.

Every selection is a SQL query over the whole book (no Python loop over loans); Python loops only over the
cases that act. A second run for the same day finds nothing to do: every step is keyed on the state it
leaves behind (stage_since, letters, mutations, period keys), not on a "ran today" flag. ``dry_run`` runs the
same code in a transaction that is rolled back, so it reports exactly the counts a real run would.

Role: the run is an operator action: a supervisor or an admin (employees work cases; the run decides for the
whole book). The CLI without ``--user`` acts as the operator ``cli:<os user>`` (see cli_procedure).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import String, and_, case, cast, exists, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from incasso_tui.domain.arrears import Arrears
from incasso_tui.domain.calendar import fourteen_day_term
from incasso_tui.domain.costs import consumer_costs_for_claims, wik_costs
from incasso_tui.domain.enums import ArrangementStatus, CaseStatus, Channel, Role, Stage
from incasso_tui.domain.guards import (
    BkrRefused,
    BkrWindow,
    ClaimPrincipal,
    check_automatic_step,
    check_bkr_arrangement,
    check_bkr_call_in,
    check_bkr_cleared,
    check_bkr_registration,
    check_bkr_write_off,
    check_consumer_costs_date,
    check_costs_within_wik,
    check_manual_stage_move,
    consumer_letter_costs,
)
from incasso_tui.domain.interest import load_rates, statutory_interest
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
from incasso_tui.services import audit
from incasso_tui.services.cases import changed_by, load_case
from incasso_tui.services.context import Context
from incasso_tui.services.positions import loan_positions, refresh_case_positions
from incasso_tui.store.models import (
    NO_ARREARS,
    Arrangement,
    BkrMutation,
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
    "procedure_for",
    "run_procedure",
]

RUN_ROLES = (Role.SUPERVISOR, Role.ADMIN)
_CHUNK = 500
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

    @property
    def selection_seconds(self) -> float:
        return sum(self.selection.values())

    def as_json(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "dry_run": self.dry_run,
            "actions": dict(self.actions),
            "held": dict(sorted(self.held.items())),
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

    def count(self, kind: str) -> None:
        self.report.actions[kind] += 1

    def event(self, action: str, case: Case, before: dict[str, object] | None, after: dict[str, object]) -> None:
        audit.record(self.s, at=self.now, actor=self.actor, action=action, entity="case", entity_id=case.id,
                     case_id=case.id, before=before, after=after)


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
                ("positions", lambda r: refresh_case_positions(r.s, r.day)),
                ("pauses", _end_pauses),
                ("close", _close_cleared),
                ("open", _open_cases),
                ("move", _move_cases),
                ("costs", _post_costs),
                ("interest", _post_interest),
                ("bkr", _bkr_from_state),
                ("positions_touched", _refresh_touched),
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


def _refresh_touched(run: _Run) -> None:
    """The position cache of the cases this run opened or charged (in chunks: bounded statement parameters)."""
    for chunk in _chunks(sorted(run.touched)):
        refresh_case_positions(run.s, run.day, chunk)


def _selected(run: _Run, name: str, query) -> list:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    rows = list(run.s.execute(query))
    run.report.selection[name] = run.report.selection.get(name, 0.0) + time.perf_counter() - started
    return rows


def _no_open_track():  # type: ignore[no-untyped-def]
    return ~exists().where(DebtTrack.case_id == Case.id, DebtTrack.status == "open")


def _end_pauses(run: _Run) -> None:
    rows = _selected(run, "pauses", select(Case).where(Case.status == CaseStatus.PAUSED.value, Case.pause_until < run.day))
    for (c,) in rows:
        before = {"status": c.status, "pause_reason": c.pause_reason, "pause_until": c.pause_until}
        c.status, c.pause_reason, c.pause_until = CaseStatus.ACTIVE.value, None, None
        c.next_action_date, c.next_action = run.day, "Pauze afgelopen: stand van zaken bekijken"
        _stamp(run, c)
        run.event("procedure.pause_ended", c, before, {"status": c.status})
        run.count("pause_ended")
        run.touched.add(c.id)


def _close_cleared(run: _Run) -> None:
    rows = _selected(run, "close", select(Case).where(
        Case.status == CaseStatus.ACTIVE.value, Case.pos_arrears == 0, Case.pos_oldest_due == NO_ARREARS))
    for (c,) in rows:
        before = {"status": c.status, "stage": c.stage}
        c.status, c.closed_on = CaseStatus.CLOSED.value, run.day
        c.next_action_date, c.next_action = run.day, ""
        _stamp(run, c)
        run.event("procedure.close", c, before, {"status": c.status, "closed_on": run.day})
        run.count("case_closed")


def _open_cases(run: _Run) -> None:
    """Clients with a loan whose oldest unpaid line is past the first stage's offset and no open case."""
    by_type = {True: run.procedure.consumer.first, False: run.procedure.business.first}
    first_open = (
        select(func.min(Installment.due_date)).where(Installment.loan_id == Loan.id, _OPEN_LINE).scalar_subquery()
    )
    open_case = exists().where(Case.client_id == Loan.client_id, Case.status != CaseStatus.CLOSED.value)
    cutoff = case(
        (Client.consumer.is_(True), literal(run.day - timedelta(days=by_type[True].after_days))),
        else_=literal(run.day - timedelta(days=by_type[False].after_days)),
    )
    query = (
        select(Loan.client_id)
        .join(Client, Client.id == Loan.client_id)
        .where(Loan.status.in_(("active", "called")), ~open_case, first_open <= cutoff)
        .group_by(Loan.client_id)
        .order_by(Loan.client_id)
    )
    clients = [row[0] for row in _selected(run, "open", query)]
    for chunk in _chunks(clients):
        client_rows = {c.id: c for c in run.s.scalars(select(Client).where(Client.id.in_(chunk)))}
        positions = _positions(run, set(chunk))
        for client_id in chunk:
            client = client_rows[client_id]
            stage = run.procedure.for_debtor(client.consumer).first
            c = Case(client_id=client_id, status=CaseStatus.ACTIVE.value, stage=stage.stage.value, opened_on=run.day,
                     stage_since=run.day, next_action_date=run.day, next_action=stage.next_action,
                     pos_oldest_due=NO_ARREARS, pos_arrears=ZERO, updated_by=run.actor, updated_at=run.now)
            run.s.add(c)
            run.s.flush()
            run.touched.add(c.id)
            run.event("procedure.open", c, None, {"status": c.status, "stage": c.stage, "opened_on": run.day})
            run.count("case_opened")
            _enter_stage(run, c, client, stage, positions[client_id])


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
    for chunk in _chunks(case_ids):
        cases = {c.id: c for c in run.s.scalars(select(Case).where(Case.id.in_(chunk)))}
        clients = {c.id: c for c in run.s.scalars(select(Client).where(Client.id.in_({c.client_id for c in cases.values()})))}
        chunk_positions = _positions(run, set(clients))
        for case_id in chunk:
            c = cases[case_id]
            client = clients[c.client_id]
            try:
                check_automatic_step(c.status, False, c.pause_until, run.day)
            except RuleViolation:
                run.report.held["stopped"] += 1
                continue
            target = run.procedure.for_debtor(client.consumer).next_after(c.stage)
            assert target is not None  # the query only selects cases with a next stage
            positions = chunk_positions[client.id]
            if Action.BKR_REGISTER in target.actions and not _bkr_register_ready(run, c, client, positions):
                continue
            before = {"stage": c.stage, "stage_since": c.stage_since or c.opened_on}
            c.stage = target.stage.value
            run.event("procedure.move", c, before, {"stage": c.stage, "stage_since": run.day})
            run.count("case_moved")
            run.touched.add(c.id)
            _enter_stage(run, c, client, target, positions)


def _bkr_register_ready(run: _Run, c: Case, client: Client, positions: dict[int, Arrears]) -> bool:
    """Whether the move into the BKR registration stage may happen today; if the warning is missing or too
    old, a new warning letter is sent and the case waits."""
    warning = _latest_warning(run, c.id)
    refusals = []
    for loan_id, pos in positions.items():
        try:
            check_bkr_registration(day=run.day, warning_sent=warning.letter_date if warning else None, window=run.window,
                                   arrears=pos.total, oldest_due=pos.oldest_due_date)
            return True
        except BkrRefused as err:
            refusals.append(err.why)
    whys = set(refusals)
    if whys <= {"cleared", "threshold"}:
        return True  # the stage is passed without a registration (_register_a reports each refusal under held)
    if whys & {"no_warning", "warning_too_old"}:
        _letter(run, c, client, "bkr_warning", positions)
        run.report.held["bkr_warning_resent"] += 1
        return False
    run.report.held["bkr_waiting"] += 1
    return False


def _enter_stage(run: _Run, c: Case, client: Client, stage: StageDef, positions: dict[int, Arrears]) -> None:
    c.stage_since = run.day
    c.next_action = stage.next_action
    following = run.procedure.for_debtor(client.consumer).next_after(stage.stage.value)
    # a stage with a task is work for today; otherwise the next look is when the following stage falls due
    has_task = any(action in TASK_KIND for action in stage.actions)
    c.next_action_date = run.day + timedelta(days=following.after_days) if following and not has_task else run.day
    _stamp(run, c)
    for action in stage.actions:
        if action in LETTER_KIND:
            _letter(run, c, client, LETTER_KIND[action], positions)
        elif action in TASK_KIND:
            _task(run, c, TASK_KIND[action], stage.next_action)
        elif action is Action.BKR_REGISTER:
            _register_a(run, c, client, positions)
        # COLLECTION_COSTS and STATUTORY_INTEREST are postings: _post_costs / _post_interest act on them


def _register_a(run: _Run, c: Case, client: Client, positions: dict[int, Arrears]) -> None:
    warning = _latest_warning(run, c.id)
    for loan_id, pos in sorted(positions.items()):
        try:
            check_bkr_registration(day=run.day, warning_sent=warning.letter_date if warning else None,
                                   window=run.window, arrears=pos.total, oldest_due=pos.oldest_due_date)
        except BkrRefused as err:
            run.report.held[f"bkr_A_{err.why}"] += 1
            continue
        _mutation(run, c, loan_id, client.id, "A", pos.total, warning.id if warning else None)


def _mutation(run: _Run, c: Case | None, loan_id: int, client_id: int, code: str, amount: Decimal,
              warning_id: int | None = None) -> None:
    m = BkrMutation(loan_id=loan_id, client_id=client_id, code=code, mutation_date=run.day, amount=amount,
                    warning_letter_id=warning_id, created_by=run.actor, created_at=run.now)
    run.s.add(m)
    run.s.flush()
    audit.record(run.s, at=run.now, actor=run.actor, action=f"bkr.{code}", entity="bkr_mutation", entity_id=m.id,
                 case_id=c.id if c else None, after={"loan_id": loan_id, "code": code, "amount": amount,
                                                      "mutation_date": run.day, "warning_letter_id": warning_id})
    run.count(f"bkr_{code}")


def _latest_warning(run: _Run, case_id: int) -> Letter | None:
    return run.s.scalar(
        select(Letter).where(Letter.case_id == case_id, Letter.kind == "bkr_warning", Letter.status != "failed")
        .order_by(Letter.letter_date.desc(), Letter.id.desc()).limit(1)
    )


def _channel(client: Client, kind: str) -> str:
    """Reminders go by the client's preference (e-mail or WhatsApp); formal letters go by post."""
    if kind == "reminder":
        if client.preferred_channel == Channel.WHATSAPP.value and client.phone:
            return Channel.WHATSAPP.value
        if client.email:
            return Channel.EMAIL.value
    return Channel.LETTER.value


def _claim(p: Arrears) -> Decimal:
    """The claim of an overdue loan for the WIK scale: its overdue installments (principal and contractual
    interest), not costs or statutory interest charged (the same base as services.letters)."""
    return p.principal + p.interest


def _figures(run: _Run, kind: str, positions: dict[int, Arrears]) -> lm.LetterFigures:
    """The figures contract of letters.model: every amount and date the letter states."""
    numbers = run.numbers  # filled by _positions, which loaded these positions
    in_arrears = sorted((loan_id for loan_id, p in positions.items() if p.total > 0), key=numbers.__getitem__)
    parts = [positions[loan_id] for loan_id in in_arrears]
    oldest = min((p.oldest_due_date for p in parts if p.oldest_due_date is not None), default=run.day)
    figures: dict[str, object] = {
        "loans": tuple(numbers[loan_id] for loan_id in in_arrears),
        "arrears": lm.Arrears(
            costs=sum((p.costs for p in parts), ZERO), interest=sum((p.interest for p in parts), ZERO),
            principal=sum((p.principal for p in parts), ZERO), total=sum((p.total for p in parts), ZERO),
            days_past_due=max((p.days_past_due for p in parts), default=0), oldest_due_date=oldest),
    }
    if kind in ("reminder", "demand", "default_notice"):
        figures["pay_by"] = run.day + timedelta(days=PAY_DAYS)
    elif kind == "fourteen_day":
        # every claim against the consumer in one letter, WIK on the summed claims (art. 6:96 lid 7 BW)
        claims = [ClaimPrincipal(loan_id, _claim(positions[loan_id])) for loan_id in in_arrears]
        _total, costs = consumer_letter_costs(claims, in_arrears)
        term = fourteen_day_term(run.day, run.ctx.settings.fourteen_day_receipt_delivery_days)
        figures["collection_costs"] = lm.CollectionCosts(amount=costs)
        figures["fourteen_day"] = lm.FourteenDayDates.from_term(term)
    elif kind == "bkr_warning":
        figures["bkr"] = lm.BkrWarning(report_from=run.day + timedelta(days=run.window.min_days))
    return lm.LetterFigures.model_validate(figures)


def _letter(run: _Run, c: Case, client: Client, kind: str, positions: dict[int, Arrears]) -> Letter:
    figures = _figures(run, kind, positions)
    letter = Letter(case_id=c.id, client_id=client.id, kind=kind, channel=_channel(client, kind),
                    language=client.language if client.language in ("nl", "en") else "nl", letter_date=run.day,
                    figures=figures.to_json(), status="pending",
                    received_on=figures.fourteen_day.assumed_receipt if figures.fourteen_day else None,
                    costs_from=figures.fourteen_day.costs_from if figures.fourteen_day else None,
                    run_date=run.day, created_by=run.actor, created_at=run.now)
    run.s.add(letter)
    run.s.flush()
    audit.record(run.s, at=run.now, actor=run.actor, action="letter.decide", entity="letter", entity_id=letter.id,
                 case_id=c.id, after={"kind": kind, "channel": letter.channel, "letter_date": run.day,
                                      "costs_from": letter.costs_from})
    run.count(f"letter_{kind}")
    return letter


def _task(run: _Run, c: Case, kind: str, title: str) -> None:
    task = Task(case_id=c.id, kind=kind, title=title, due_date=run.day, status="open", assignee_id=c.assignee_id,
                created_by=run.actor, created_at=run.now)
    run.s.add(task)
    run.s.flush()
    audit.record(run.s, at=run.now, actor=run.actor, action="task.create", entity="task", entity_id=task.id,
                 case_id=c.id, after={"kind": kind, "due_date": run.day})
    run.count(f"task_{kind}")


def _positions(run: _Run, client_ids: set[int]) -> dict[int, dict[int, Arrears]]:
    """The arrears of every loan of these clients (one batch of queries): {client id: {loan id: Arrears}}."""
    owners: dict[int, int] = {}
    for loan_id, client_id, number in run.s.execute(
            select(Loan.id, Loan.client_id, Loan.number).where(Loan.client_id.in_(client_ids))):
        owners[loan_id] = client_id
        run.numbers[loan_id] = number
    found = loan_positions(run.s, owners, run.day)
    grouped: dict[int, dict[int, Arrears]] = {client_id: {} for client_id in client_ids}
    for loan_id, pos in found.items():
        grouped[owners[loan_id]][loan_id] = pos
    return grouped


def _stamp(run: _Run, c: Case) -> None:
    c.updated_by, c.updated_at = run.actor, run.now


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


def _charge(run: _Run, case_id: int, loan_id: int, kind: str, amount: Decimal, key: str, description: str,
            due: date) -> None:
    charge = Charge(loan_id=loan_id, kind=kind, due_date=due, amount=amount, paid=ZERO, description=description,
                    period_key=key)
    run.s.add(charge)
    run.s.flush()
    audit.record(run.s, at=run.now, actor=run.actor, action=f"charge.{kind}", entity="charge", entity_id=charge.id,
                 case_id=case_id, after={"loan_id": loan_id, "amount": amount, "period_key": key, "due_date": due})
    run.count(f"charge_{kind}")
    run.touched.add(case_id)


def _open_claims_before(run: _Run, loan_ids: list[int], before: date) -> dict[int, Decimal]:
    """Per loan: the unpaid part (principal and contractual interest) of the installments due before ``before``."""
    rows = run.s.execute(
        select(Installment.loan_id, money_sum(
            Installment.principal - Installment.principal_paid + Installment.interest - Installment.interest_paid))
        .where(Installment.loan_id.in_(loan_ids), Installment.due_date < before, _OPEN_LINE)
        .group_by(Installment.loan_id)
    ).all()
    return {loan_id: amount for loan_id, amount in rows if amount > 0}


def _post_costs(run: _Run) -> None:
    # consumers: a 14-day letter whose term has passed and that has no posting yet
    key = literal("wik:letter:") + cast(Letter.id, String)
    posted = exists().where(Loan.client_id == Letter.client_id, Charge.loan_id == Loan.id,
                            Charge.kind == "collection_costs", Charge.period_key == key)
    query = (
        select(Letter, Case.id)
        .join(Case, Case.id == Letter.case_id)
        .where(Letter.kind == "fourteen_day", Letter.status != "failed", Letter.costs_from <= run.day,
               Case.status == CaseStatus.ACTIVE.value, _no_open_track(), ~posted)
        .order_by(Letter.id)
    )
    for letter, case_id in _selected(run, "costs_consumer", query):
        figures = lm.LetterFigures.from_json(letter.figures)
        assert figures.collection_costs is not None  # a fourteen_day letter cannot be made without them
        loan_ids = list(run.s.scalars(select(Loan.id).where(Loan.number.in_(figures.loans))))
        remainder = _open_claims_before(run, loan_ids, letter.letter_date)
        if not remainder:
            continue  # paid within the term: no costs
        check_consumer_costs_date(letter.costs_from, run.day)
        claims = sum(remainder.values(), ZERO)
        # never more than the letter stated; on the unpaid remainder only when part was paid in the term
        costs = min(figures.collection_costs.amount, consumer_costs_for_claims(remainder.values()))
        check_costs_within_wik(costs, claims)
        for loan_id, part in _split(costs, remainder).items():
            _charge(run, case_id, loan_id, "collection_costs", part, f"wik:letter:{letter.id}",
                    f"Buitengerechtelijke incassokosten (WIK) na veertiendagenbrief van {letter.letter_date.isoformat()}",
                    run.day)
    # business: from the costs stage on, once per case, WIK per loan (a loan charged before is skipped)
    earlier = exists().where(Charge.loan_id == Loan.id, Charge.kind == "collection_costs",
                             Charge.due_date >= Case.opened_on)
    query = (
        select(Case.id, Loan.id)
        .join(Client, Client.id == Case.client_id)
        .join(Loan, Loan.client_id == Case.client_id)
        .where(Client.consumer.is_(False), Case.status == CaseStatus.ACTIVE.value, Case.pos_arrears > 0,
               _no_open_track(), _reached(run, Action.COLLECTION_COSTS), ~earlier)
        .order_by(Case.id, Loan.id)
    )
    rows = _selected(run, "costs_business", query)
    for chunk_start in range(0, len(rows), _CHUNK):
        chunk = rows[chunk_start:chunk_start + _CHUNK]
        principals = _open_claims_before(run, [loan_id for _c, loan_id in chunk], run.day)
        for case_id, loan_id in chunk:
            principal = principals.get(loan_id)
            if not principal:
                continue
            costs = wik_costs(principal)
            check_costs_within_wik(costs, principal)
            _charge(run, case_id, loan_id, "collection_costs", costs, f"wik:case:{case_id}",
                    "Buitengerechtelijke incassokosten (WIK)", run.day)


def _post_interest(run: _Run) -> None:
    """Statutory interest over the previous calendar month on each past-due line still open, once per loan and
    month (period key ``interest:YYYY-MM``), for cases that reached the interest stage."""
    month_start = run.day.replace(day=1)
    previous_start = (month_start - timedelta(days=1)).replace(day=1)
    key = f"interest:{previous_start:%Y-%m}"
    kinds = {True: run.procedure.consumer.interest, False: run.procedure.business.interest}
    posted = exists().where(Charge.loan_id == Loan.id, Charge.kind == "statutory_interest", Charge.period_key == key)
    late = exists().where(Installment.loan_id == Loan.id, Installment.due_date < month_start, _OPEN_LINE)
    query = (
        select(Case.id, Loan.id, Client.consumer)
        .join(Client, Client.id == Case.client_id)
        .join(Loan, Loan.client_id == Case.client_id)
        .where(Case.status == CaseStatus.ACTIVE.value, _no_open_track(), _reached(run, Action.STATUTORY_INTEREST),
               late, ~posted)
        .order_by(Case.id, Loan.id)
    )
    rows = [r for r in _selected(run, "interest", query) if kinds[r[2]] != "none"]
    rates = load_rates()
    for chunk_start in range(0, len(rows), _CHUNK):
        chunk = rows[chunk_start:chunk_start + _CHUNK]
        lines: dict[int, list[tuple[date, Decimal]]] = {}
        for loan_id, due, amount in run.s.execute(
            select(Installment.loan_id, Installment.due_date,
                   type_coerce(Installment.principal - Installment.principal_paid + Installment.interest - Installment.interest_paid, Money))
            .where(Installment.loan_id.in_([r[1] for r in chunk]), Installment.due_date < month_start, _OPEN_LINE)
        ):
            lines.setdefault(loan_id, []).append((due, amount))
        for case_id, loan_id, consumer in chunk:
            total = ZERO
            for due, amount in lines.get(loan_id, []):
                start = max(due + timedelta(days=1), previous_start)
                if start < month_start:
                    total += statutory_interest(amount, start, month_start, kinds[consumer], rates).interest  # type: ignore[arg-type]
            if total > 0:
                _charge(run, case_id, loan_id, "statutory_interest", total, key,
                        f"Wettelijke rente {previous_start:%m-%Y}", month_start)


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
    rows = _selected(run, "bkr_H", select(standing).where(no_h, ~past_due, ~open_costs))
    cases = _cases_of(run, {row.client_id for row in rows})
    for loan_id, client_id, _a_id, _a_date in rows:
        check_bkr_cleared(True, ZERO)
        _mutation(run, cases.get(client_id), loan_id, client_id, "H", ZERO)
    # 1: an arrangement agreed after the A
    no_1 = ~exists().where(later.c.loan_id == standing.c.loan_id, later.c.code == "1", later.c.id > standing.c.a_id)
    arranged = (
        select(standing.c.loan_id, standing.c.client_id)
        .join(Case, Case.client_id == standing.c.client_id)
        .join(Arrangement, Arrangement.case_id == Case.id)
        .where(no_h, no_1, Case.status != CaseStatus.CLOSED.value, Arrangement.status == ArrangementStatus.ACTIVE.value,
               func.date(Arrangement.created_at) >= standing.c.a_date)
        .distinct()
    )
    rows = _selected(run, "bkr_1", arranged)
    cases = _cases_of(run, {row.client_id for row in rows})
    for loan_id, client_id in rows:
        check_bkr_arrangement(True)
        _mutation(run, cases.get(client_id), loan_id, client_id, "1", ZERO)
    # 2: a loan called in
    code = BkrMutation.__table__.alias("code")
    called = select(Loan.id, Loan.client_id, Loan.status).where(
        Loan.status == "called", ~exists().where(code.c.loan_id == Loan.id, code.c.code == "2"))
    rows = _selected(run, "bkr_2", called)
    cases = _cases_of(run, {row.client_id for row in rows})
    for loan_id, client_id, status in rows:
        check_bkr_call_in(status)
        _mutation(run, cases.get(client_id), loan_id, client_id, "2", ZERO)
    # 3: at least EUR 250 written off
    written = money_sum(LedgerEntry.amount)
    write_offs = (
        select(Loan.id, Loan.client_id, written)
        .join(LedgerEntry, LedgerEntry.loan_id == Loan.id)
        .where(LedgerEntry.kind == "write_off", ~exists().where(code.c.loan_id == Loan.id, code.c.code == "3"))
        .group_by(Loan.id, Loan.client_id)
    )
    rows = _selected(run, "bkr_3", write_offs)
    cases = _cases_of(run, {row.client_id for row in rows})
    for loan_id, client_id, amount in rows:
        try:
            check_bkr_write_off(amount)
        except RuleViolation:
            continue
        _mutation(run, cases.get(client_id), loan_id, client_id, "3", amount)


def _cases_of(run: _Run, client_ids: set[int]) -> dict[int, Case]:
    """Per client: the case an event is filed under (the open case, else the newest closed one)."""
    found: dict[int, Case] = {}
    for chunk in _chunks(sorted(client_ids)):
        for c in run.s.scalars(select(Case).where(Case.client_id.in_(chunk))
                               .order_by(Case.status == CaseStatus.CLOSED.value, Case.id.desc())):
            found.setdefault(c.client_id, c)
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
