"""The steps of the run that act on cases by their stage: end the pauses that passed, close the cases whose arrears
is cleared, open a case for a client newly in arrears and move a case whose next stage is due, performing the
stage's actions (letters with their figures and channel, tasks, the BKR code A after a dispatched warning)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import and_, case, exists, func, literal, select

from incasso_tui.domain.arrears import Arrears, combined
from incasso_tui.domain.calendar import fourteen_day_term
from incasso_tui.domain.costs import wik_costs
from incasso_tui.domain.enums import CaseStatus, Channel, LetterStatus, LoanStatus, NextAction, Stage
from incasso_tui.domain.guards import (
    BkrArrearsRule,
    BkrRefused,
    BkrWarningFact,
    check_automatic_step,
    check_bkr_registration,
    check_vulnerable_escalation,
)
from incasso_tui.domain.legal_data import load_costs_rules
from incasso_tui.domain.money import ZERO
from incasso_tui.domain.procedure import LETTER_KIND, TASK_KIND, Action, StageDef
from incasso_tui.errors import RuleViolation
from incasso_tui.letters import model as lm
from incasso_tui.safetext import is_email_address
from incasso_tui.services import risk
from incasso_tui.services.claims_cover import cover_for_letter
from incasso_tui.services.dispatch import LEGAL_KINDS, legal_channel
from incasso_tui.services.positions import loan_positions
from incasso_tui.services.procedure.batch import CASES, Batch, mutation
from incasso_tui.services.procedure.common import OPEN_LINE, Run, chunks, clean_slate, no_open_track, selected
from incasso_tui.store.bulk import insert_returning_ids
from incasso_tui.store.models import NO_ARREARS, Case, Client, Installment, Letter, Loan

PAY_DAYS = 14  # reminder, demand and notice of default: pay within 14 calendar days of the letter date


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


_CASE_COLUMNS = (
    Case.id,
    Case.client_id,
    Case.status,
    Case.stage,
    Case.stage_since,
    Case.opened_on,
    Case.pause_until,
    Case.assignee_id,
)


class _ClientRow(NamedTuple):
    id: int
    consumer: bool
    preferred_channel: str
    phone: str | None
    email: str | None
    language: str
    kind: str
    email_consent_on: date | None


_CLIENT_COLUMNS = (
    Client.id,
    Client.consumer,
    Client.preferred_channel,
    Client.phone,
    Client.email,
    Client.language,
    Client.kind,
    Client.email_consent_on,
)


def end_pauses(run: Run) -> None:
    rows = selected(
        run,
        "pauses",
        select(Case.id, Case.status, Case.pause_reason, Case.pause_until)
        .where(Case.status == CaseStatus.PAUSED.value, Case.pause_until < run.day)
        .order_by(Case.id)
        .with_for_update(),
    )
    batch = Batch(run)
    for case_id, status, reason, until in rows:
        batch.update_case(
            case_id,
            {
                "status": CaseStatus.ACTIVE.value,
                "pause_reason": None,
                "pause_until": None,
                "next_action_date": run.day,
                "next_action": NextAction.PAUSE_ENDED_REVIEW,
                "next_action_params": None,
            },
            from_status=status,
        )
        batch.case_event(
            "procedure.pause_ended",
            case_id,
            {"status": status, "pause_reason": reason, "pause_until": until},
            {"status": CaseStatus.ACTIVE.value},
        )
        run.count("pause_ended")
        run.touched.add(case_id)
    batch.write()


def close_cleared(run: Run) -> None:
    rows = selected(
        run,
        "close",
        select(Case.id, Case.status, Case.stage)
        .where(Case.status == CaseStatus.ACTIVE.value, Case.pos_arrears == 0, Case.pos_oldest_due == NO_ARREARS)
        .order_by(Case.id)
        .with_for_update(),
    )
    batch = Batch(run)
    for case_id, status, stage in rows:
        batch.update_case(
            case_id,
            {
                "status": CaseStatus.CLOSED.value,
                "closed_on": run.day,
                "next_action_date": run.day,
                "next_action": NextAction.NONE,
            },
            from_status=status,
        )
        batch.case_event(
            "procedure.close",
            case_id,
            {"status": status, "stage": stage},
            {"status": CaseStatus.CLOSED.value, "closed_on": run.day},
        )
        run.count("case_closed")
    batch.write()


def _clients(run: Run, client_ids: Iterable[int]) -> dict[int, _ClientRow]:
    return {
        row[0]: _ClientRow(*row)
        for row in run.s.execute(select(*_CLIENT_COLUMNS).where(Client.id.in_(list(client_ids))))
    }


def open_cases(run: Run) -> None:
    """Clients with a loan whose oldest unpaid line is past the first stage's offset and no open case.

    The loans come from the open lines due on or before the later cutoff, grouped per loan: the shape of the days
    past due query (one pass over the partial index of open lines) rather than a probe for each of the book's loans.
    """
    cutoffs = {
        consumer: run.day - timedelta(days=run.procedure.for_debtor(consumer).first.after_days)
        for consumer in (True, False)
    }
    first_open = (
        select(Installment.loan_id, func.min(Installment.due_date).label("first_due"))
        .where(OPEN_LINE, Installment.due_date <= max(cutoffs.values()))
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
        .where(
            Loan.status.in_((LoanStatus.ACTIVE, LoanStatus.CALLED)),
            ~open_case,
            ~clean_slate(Loan.client_id),
            first_open.c.first_due <= cutoff,
        )
        .group_by(Loan.client_id)
        .order_by(Loan.client_id)
    )
    client_ids = [row[0] for row in selected(run, "open", query)]
    for chunk in chunks(client_ids):
        clients = _clients(run, chunk)
        positions = _positions(run, set(chunk))
        stages = [run.procedure.for_debtor(clients[client_id].consumer).first for client_id in chunk]
        new = [
            {
                "client_id": client_id,
                "status": CaseStatus.ACTIVE.value,
                "stage": stage.stage.value,
                "opened_on": run.day,
                **_stage_values(run, clients[client_id].consumer, stage),
                "pos_oldest_due": NO_ARREARS,
                "pos_arrears": ZERO,
                "updated_by": run.actor,
                "updated_at": run.now,
                "version": 1,
            }
            for client_id, stage in zip(chunk, stages, strict=True)
        ]
        case_ids = insert_returning_ids(run.s, CASES, new)
        run.waiting = set()  # new cases: no letters yet
        batch = Batch(run)
        for case_id, client_id, stage in zip(case_ids, chunk, stages, strict=True):
            c = _CaseRow(case_id, client_id, CaseStatus.ACTIVE.value, stage.stage.value, run.day, run.day, None, None)
            run.touched.add(case_id)
            batch.case_event(
                "procedure.open", case_id, None, {"status": c.status, "stage": c.stage, "opened_on": run.day}
            )
            run.count("case_opened")
            _stage_actions(batch, c, clients[client_id], stage, positions[client_id], None)
        batch.write()


def move_cases(run: Run) -> None:
    """Active cases outside any track whose next stage's offset has passed since they entered their stage."""
    whens = []
    for consumer in (True, False):
        debtor = run.procedure.for_debtor(consumer)
        for stage in Stage:
            following = debtor.next_after(stage.value)
            if following is not None:
                whens.append(
                    (
                        and_(Client.consumer.is_(consumer), Case.stage == stage.value),
                        literal(run.day - timedelta(days=following.after_days)),
                    )
                )
    since = func.coalesce(Case.stage_since, Case.opened_on)
    query = (
        select(Case.id)
        .join(Client, Client.id == Case.client_id)
        .where(
            Case.status == CaseStatus.ACTIVE.value,
            Case.pos_arrears > 0,
            no_open_track(),
            since <= case(*whens, else_=None),
        )
        .order_by(Case.id)
    )
    case_ids = [row[0] for row in selected(run, "move", query)]
    vulnerable_max = risk.rules_for(run.ctx).vulnerability.max_automatic_stage
    for chunk in chunks(case_ids):
        cases = {
            row[0]: _CaseRow(*row)
            for row in run.s.execute(select(*_CASE_COLUMNS).where(Case.id.in_(chunk)).with_for_update())
        }
        clients = _clients(run, {c.client_id for c in cases.values()})
        chunk_positions = _positions(run, set(clients))
        _load_waiting(run, chunk)
        targets = {
            case_id: run.procedure.for_debtor(clients[c.client_id].consumer).next_after(c.stage)
            for case_id, c in cases.items()
        }
        warnings = _latest_warnings(
            run,
            [
                case_id
                for case_id, target in targets.items()
                if target is not None and Action.BKR_REGISTER in target.actions
            ],
        )
        vulnerable = risk.flagged_clients(run.s, clients)
        batch = Batch(run)
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
            batch.case_event(
                "procedure.move",
                case_id,
                {"stage": c.stage, "stage_since": c.stage_since or c.opened_on},
                {"stage": target.stage.value, "stage_since": run.day},
            )
            run.count("case_moved")
            run.touched.add(case_id)
            _stage_actions(batch, c, client, target, positions, warning)
        batch.write()


def _bkr_register_ready(
    batch: Batch, c: _CaseRow, client: _ClientRow, positions: dict[int, Arrears], warning: _Warning | None
) -> bool:
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


def _check_a(run: Run, loan_id: int, pos: Arrears, warning: _Warning | None) -> None:
    rules = run.bkr_rules
    if not rules.arrears_verified:
        run.unverified("bkr: arrears rule (data/bkr.toml)")
    check_bkr_registration(
        day=run.day,
        warning=BkrWarningFact(warning.received, warning.report_from) if warning else None,
        window=run.window,
        arrears=pos.total,
        oldest_due=pos.oldest_due_date,
        installments_in_arrears=run.line_counts.get(loan_id, 0),
        rule=BkrArrearsRule(rules.min_installments, rules.min_days_past_due, rules.months_after_due),
    )


def _stage_values(run: Run, consumer: bool, stage: StageDef) -> dict[str, object]:
    """The case's columns on entering ``stage``: a stage with a task is work for today; otherwise the next look is
    when the following stage falls due."""
    following = run.procedure.for_debtor(consumer).next_after(stage.stage.value)
    has_task = any(action in TASK_KIND for action in stage.actions)
    next_date = run.day + timedelta(days=following.after_days) if following and not has_task else run.day
    return {
        "stage_since": run.day,
        "next_action": stage.next_action,
        "next_action_params": None,
        "next_action_date": next_date,
    }


def _stage_actions(
    batch: Batch,
    c: _CaseRow,
    client: _ClientRow,
    stage: StageDef,
    positions: dict[int, Arrears],
    warning: _Warning | None,
) -> None:
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
        # COLLECTION_COSTS and STATUTORY_INTEREST are postings: charges.post_costs / post_interest act on them


def _register_a(
    batch: Batch, c: _CaseRow, client: _ClientRow, positions: dict[int, Arrears], warning: _Warning | None
) -> None:
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
        mutation(batch, c.id, loan_id, client.id, "A", pos.total, warning.id if warning else None)


class _Warning(NamedTuple):
    id: int
    received: date
    report_from: date


def _latest_warnings(run: Run, case_ids: list[int]) -> dict[int, _Warning]:
    """Per case: its newest DISPATCHED BKR warning (a decided, rendered, failed or cancelled one has no effect):
    its id, assumed receipt and the registration date it stated."""
    found: dict[int, _Warning] = {}
    if case_ids:
        for case_id, letter_id, received, raw in run.s.execute(
            select(Letter.case_id, Letter.id, Letter.received_on, Letter.figures)
            .where(
                Letter.case_id.in_(case_ids),
                Letter.kind == "bkr_warning",
                Letter.status == LetterStatus.SENT,
                Letter.received_on.is_not(None),
            )
            .order_by(Letter.case_id, Letter.dispatched_on, Letter.id)
        ):
            figures = lm.LetterFigures.from_json(raw)
            stated = figures.bkr.report_from if figures.bkr else received
            found[case_id] = _Warning(letter_id, received, stated)  # the last one of a case is its newest
    return found


def _load_waiting(run: Run, case_ids: Iterable[int]) -> None:
    """The letters of these cases that wait to be dispatched, and their loans' open past-due line counts."""
    ids = list(case_ids)
    run.waiting = {
        (case_id, kind)
        for case_id, kind in run.s.execute(
            select(Letter.case_id, Letter.kind).where(
                Letter.case_id.in_(ids), Letter.status.in_((LetterStatus.PENDING, LetterStatus.RENDERED))
            )
        )
    }


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


def _figures(run: Run, kind: str, positions: dict[int, Arrears], client: _ClientRow) -> lm.LetterFigures | None:
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
            figures.update(
                business_figures(
                    client.kind in run.bkr_rules.legal_person_kinds,
                    (positions[loan_id] for loan_id in in_arrears if run.commercial.get(loan_id)),
                )
            )
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
    agreements in arrears (the WIK scale per loan on its overdue installments, as ``charges.post_costs`` charges
    them), and whether it is a legal person (no BKR)."""
    costs = sum((wik_costs(p.principal + p.interest) for p in commercial if p.principal + p.interest > 0), ZERO)
    return {
        "business_debtor": True,
        "legal_person": legal_person,
        "commercial_costs": lm.CollectionCosts(amount=costs) if costs > 0 else None,
    }


def _letter(batch: Batch, c: _CaseRow, client: _ClientRow, kind: str, positions: dict[int, Arrears]) -> None:
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
    batch.insert(
        "letters",
        {
            "case_id": c.id,
            "client_id": client.id,
            "kind": kind,
            "channel": channel,
            "language": client.language if client.language in ("nl", "en") else "nl",
            "letter_date": run.day,
            "figures": figures.to_json(),
            "status": "pending",
            "run_date": run.day,
            "created_by": run.actor,
            "created_at": run.now,
        },
        "letter.decide",
        c.id,
        {
            "kind": kind,
            "channel": channel,
            "letter_date": run.day,
            "collection_costs": figures.collection_costs.amount if figures.collection_costs else None,
        },
    )
    run.count(f"letter_{kind}")


def _task(batch: Batch, c: _CaseRow, kind: str, subject: NextAction) -> None:
    """The stage's task: its subject is the stage's next action (a code, no title)."""
    run = batch.run
    batch.insert(
        "tasks",
        {
            "case_id": c.id,
            "kind": kind,
            "title": "",
            "subject": subject,
            "due_date": run.day,
            "status": "open",
            "assignee_id": c.assignee_id,
            "created_by": run.actor,
            "created_at": run.now,
        },
        "task.create",
        c.id,
        {"kind": kind, "subject": subject, "due_date": run.day},
    )
    run.count(f"task_{kind}")


def _positions(run: Run, client_ids: set[int]) -> dict[int, dict[int, Arrears]]:
    """The arrears of every loan of these clients (one batch of queries): {client id: {loan id: Arrears}}."""
    owners: dict[int, int] = {}
    for loan_id, client_id, number, commercial in run.s.execute(
        select(Loan.id, Loan.client_id, Loan.number, Loan.commercial).where(Loan.client_id.in_(client_ids))
    ):
        owners[loan_id] = client_id
        run.numbers[loan_id] = number
        run.commercial[loan_id] = bool(commercial)
    found = loan_positions(run.s, owners, run.day)
    run.line_counts.update(
        {
            loan_id: n
            for loan_id, n in run.s.execute(
                select(Installment.loan_id, func.count())
                .where(Installment.loan_id.in_(list(owners)), Installment.due_date < run.day, OPEN_LINE)
                .group_by(Installment.loan_id)
            )
        }
    )
    grouped: dict[int, dict[int, Arrears]] = {client_id: {} for client_id in client_ids}
    for loan_id, pos in found.items():
        grouped[owners[loan_id]][loan_id] = pos
    return grouped
