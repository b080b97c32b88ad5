"""Debt-relief and insolvency tracks, and pausing a case by hand.

Registering a track (``register_track``) is one transaction: the ``DebtTrack`` row; the case leaves the
procedure (status ``insolvency`` for every kind, see below); a running arrangement is cancelled; a
claim-filing task with its deadline; a pending claim-statement letter whose figures carry the principal,
the interest up to the ruling date and the costs (``domain.claims``); and the audit event.

Decisions (docs/decisions.md has the why):
- **Status ``insolvency`` also for a minnelijk traject.** Every consumer of the status then treats the three
  tracks alike: the daily run takes no automatic step, the desk cannot make its own arrangement (the
  debt-help agency negotiates), and nothing resumes the case by itself as a pause with an end date would.
  The track's kind is shown beside the status.
- **Claim deadline.** Faillissement: the date set by the court, required. WSNP and minnelijk: when none is
  given, ``CLAIM_DAYS`` (30) days after the ruling (start) date, and not before today when registering late.
- **Pause.** Only an active (or already paused) case can be paused; reason and end date required; the start
  may lie in the past (back-dating), never before the case was opened nor in the future; both dates are in
  the audit event (the case keeps the reason and the end date).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from incasso_tui.domain.claims import ClaimCharge, ClaimInstallment, LoanClaim, loan_claim
from incasso_tui.domain.enums import (
    ArrangementStatus,
    CaseStatus,
    LetterStatus,
    LoanStatus,
    NextAction,
    TaskStatus,
    TrackKind,
    TrackOutcome,
    TrackStatus,
)
from incasso_tui.domain.money import ZERO
from incasso_tui.errors import N_, BadInput, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.access import CASE_WRITERS, check_write, move_case, next_status
from incasso_tui.services.cases import case_transaction, changed_by, load_case
from incasso_tui.services.contacts import check_text
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.services.procedure import interest_kind, procedure_for, resume_dates
from incasso_tui.services.track_effects import (
    cancel_costs_from,
    cancel_interest_from,
    post_interest_until,
    write_off_proposal,
)
from incasso_tui.store.models import Arrangement, Case, Charge, Client, DebtTrack, Installment, Letter, Loan, Task

CLAIM_DAYS = 30  # default claim deadline after the ruling date when the court or agency set none
MAX_NAME = 200
MAX_CONTACT = 300
MAX_REASON = 300
# the case's next action and the claim-filing task's subject per kind of track
FILE_CLAIM = {
    "minnelijk": NextAction.FILE_CLAIM_DEBT_COUNSELLOR,
    "wsnp": NextAction.FILE_CLAIM_ADMINISTRATOR,
    "faillissement": NextAction.FILE_CLAIM_CURATOR,
}
CLAIM_TASK = {
    "minnelijk": NextAction.CLAIM_TASK_DEBT_COUNSELLOR,
    "wsnp": NextAction.CLAIM_TASK_ADMINISTRATOR,
    "faillissement": NextAction.CLAIM_TASK_CURATOR,
}
# the law that stops interest at the ruling date (shown on the claim statement)
INTEREST_STOP = {"wsnp": "art. 303 Fw", "faillissement": "art. 128 Fw"}


@dataclass(frozen=True)
class TrackInput:
    kind: TrackKind
    ruling_date: date  # minnelijk: the start of the track
    trustee_name: str  # curator, bewindvoerder or debt-help agency
    trustee_contact: str = ""
    claim_deadline: date | None = None  # required for faillissement
    response_due: date | None = None  # minnelijk: when the offer must be answered


@dataclass(frozen=True)
class RegisteredTrack:
    track_id: int
    task_id: int
    letter_id: int
    claim_deadline: date


@dataclass(frozen=True)
class TrackRow:
    id: int
    kind: str
    ruling_date: date
    trustee_name: str
    trustee_contact: str
    claim_deadline: date | None
    response_due: date | None
    status: str
    ended_on: date | None
    outcome: str | None = None


@dataclass(frozen=True)
class TaskRow:
    id: int
    kind: str
    title: str  # typed by a person (subject "free"); otherwise shown from the subject (ui.labels.task_title)
    due_date: date
    status: str
    created_by: str
    subject: str = "free"
    subject_params: dict[str, str] | None = None


@dataclass(frozen=True)
class CaseTracks:
    tracks: tuple[TrackRow, ...]  # newest first
    tasks: tuple[TaskRow, ...]  # open tasks, earliest due first

    @property
    def open_track(self) -> TrackRow | None:
        return next((t for t in self.tracks if t.status == "open"), None)


# ----- reading
def case_tracks(ctx: Context, case_id: int) -> CaseTracks:
    """The case's tracks and open tasks (for the client detail)."""
    with ctx.db.reader() as s:
        load_case(s, case_id)
        tracks = s.scalars(select(DebtTrack).where(DebtTrack.case_id == case_id).order_by(DebtTrack.id.desc()))
        tasks = s.scalars(
            select(Task).where(Task.case_id == case_id, Task.status == TaskStatus.OPEN).order_by(Task.due_date, Task.id)
        )
        return CaseTracks(
            tracks=tuple(
                TrackRow(
                    t.id,
                    t.kind,
                    t.ruling_date,
                    t.trustee_name,
                    t.trustee_contact,
                    t.claim_deadline,
                    t.response_due,
                    t.status,
                    t.ended_on,
                    t.outcome,
                )
                for t in tracks
            ),
            tasks=tuple(
                TaskRow(t.id, t.kind, t.title, t.due_date, t.status, t.created_by, t.subject, t.subject_params)
                for t in tasks
            ),
        )


# ----- the claim
def claim_figures(s: Session, case: Case, kind: TrackKind, ruling_date: date) -> dict[str, object]:
    """The figures of the claim statement: per loan and in total (amounts as decimal strings in the JSON), the
    statutory interest up to the day before the ruling, and the dossier documents sent with it."""
    from incasso_tui.services.track_effects import charge_period

    loans = list(s.scalars(select(Loan).where(Loan.client_id == case.client_id).order_by(Loan.number)))
    ids = [loan.id for loan in loans]
    installments: dict[int, list[ClaimInstallment]] = {i: [] for i in ids}
    for inst in s.scalars(select(Installment).where(Installment.loan_id.in_(ids))):
        installments[inst.loan_id].append(
            ClaimInstallment(inst.due_date, inst.principal, inst.interest, inst.principal_paid, inst.interest_paid)
        )
    charges: dict[int, list[ClaimCharge]] = {i: [] for i in ids}
    for charge in s.scalars(select(Charge).where(Charge.loan_id.in_(ids), Charge.paid < Charge.amount)):
        period = charge_period(charge) if charge.kind == "statutory_interest" else None
        charges[charge.loan_id].append(
            ClaimCharge(charge.kind, charge.due_date, charge.amount, charge.paid, period[0] if period else None)
        )
    claims: list[LoanClaim] = [
        loan_claim(loan.number, loan.principal, loan.start_date, installments[loan.id], charges[loan.id], ruling_date)
        for loan in loans
        if loan.status not in ("repaid", "written_off")
    ]

    def total(part: str) -> Decimal:
        return sum((getattr(c, part) for c in claims), ZERO)

    documents = [
        {"kind": name, "loan": loan.number}
        for loan in loans
        if loan.status not in ("repaid", "written_off")
        for name, flag in (("loan_agreement", loan.has_loan_agreement), ("pledge_deed", loan.has_pledge_deed))
        if flag
    ]
    return {
        "track": kind.value,
        "interest_until": ruling_date,  # exclusive: the interest runs until (not including) the ruling date
        "documents": documents,
        "interest_stopped_by": INTEREST_STOP.get(kind.value),
        "loans": [
            {"number": c.number, "principal": c.principal, "interest": c.interest, "costs": c.costs, "total": c.total}
            for c in claims
        ],
        "principal": total("principal"),
        "interest": total("interest"),
        "costs": total("costs"),
        "total": total("total"),
    }


# ----- registering and ending a track
def validate_track(given: TrackInput, today: date) -> date:
    """Refusals name their field; returns the claim deadline (given or by default)."""
    if not isinstance(given.kind, TrackKind):
        raise BadInput(N_("Unknown track: {value}"), field="kind", value=given.kind)
    if given.ruling_date > today:
        raise RuleViolation(N_("The ruling or start date may not be in the future"), field="ruling_date")
    check_text(given.trustee_name, "trustee_name", required=True, maximum=MAX_NAME)
    check_text(given.trustee_contact, "trustee_contact", required=False, maximum=MAX_CONTACT)
    if given.response_due is not None:
        if given.kind is not TrackKind.MINNELIJK:
            raise BadInput(N_("A response date belongs to a minnelijk traject only"), field="response_due")
        if given.response_due < given.ruling_date:
            raise RuleViolation(N_("The response date may not be before the start date"), field="response_due")
    if given.claim_deadline is None:
        if given.kind is TrackKind.FAILLISSEMENT:
            raise BadInput(N_("A bankruptcy needs the claim deadline set by the court"), field="claim_deadline")
        return max(given.ruling_date + timedelta(days=CLAIM_DAYS), today)
    if given.claim_deadline < given.ruling_date:
        raise RuleViolation(N_("The claim deadline may not be before the ruling date"), field="claim_deadline")
    return given.claim_deadline


_NO_TRACK = {
    CaseStatus.INSOLVENCY.value: N_("The client is already in a debt-relief or insolvency track"),
}


def register_track(ctx: Context, case_id: int, expected_version: int, given: TrackInput) -> RegisteredTrack:
    """Put the case in a debt-relief or insolvency track (see the module docstring for the effects)."""
    ctx.require(*CASE_WRITERS)
    today, now = ctx.clock.today(), ctx.clock.now()
    deadline = validate_track(given, today)
    with case_transaction(ctx, case_id) as s:
        case = load_case(s, case_id)
        check_write(ctx, s, case)
        if case.status in _NO_TRACK:
            raise RuleViolation(_NO_TRACK[case.status])
        if case.version != expected_version:
            raise changed_by(case)
        client = s.get(Client, case.client_id)
        assert client is not None
        track = DebtTrack(
            case_id=case.id,
            kind=given.kind.value,
            ruling_date=given.ruling_date,
            trustee_name=given.trustee_name.strip(),
            trustee_contact=given.trustee_contact.strip(),
            claim_deadline=deadline,
            response_due=given.response_due,
            status="open",
            created_by=ctx.actor.name,
            created_at=now,
        )
        task = Task(
            case_id=case.id,
            kind="claim_filing",
            title="",
            subject=CLAIM_TASK[given.kind.value],
            subject_params={"party": given.trustee_name.strip()},
            due_date=deadline,
            status="open",
            assignee_id=case.assignee_id or ctx.actor.id,
            created_by=ctx.actor.name,
            created_at=now,
        )
        # no interest on a day inside the track: cancel what was posted for the ruling date and after, post the days
        # before it that no posting reached yet, so the claim holds the statutory interest until the ruling
        interest_cancelled = cancel_interest_from(s, case, given.ruling_date, today, now, ctx.actor.name)
        costs_cancelled = cancel_costs_from(s, case, given.ruling_date, today, now, ctx.actor.name)
        procedure = procedure_for(ctx)
        kind_of = {
            loan.id: interest_kind(procedure, client.consumer, loan.commercial)
            for loan in s.scalars(select(Loan).where(Loan.client_id == client.id))
        }
        resume = resume_dates(s, [client.id]).get(client.id)
        until = post_interest_until(s, case, given.ruling_date, kind_of, resume, now, ctx.actor.name)
        for waiting in s.scalars(
            select(Letter).where(
                Letter.case_id == case.id, Letter.status.in_((LetterStatus.PENDING, LetterStatus.RENDERED))
            )
        ):
            # the procedure's letters that did not leave have no effect and must not leave now; an older claim
            # statement gives way to this one
            waiting.status, waiting.error = "cancelled", "cancelled: the client entered a debt track"
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="letter.cancelled",
                entity="letter",
                entity_id=waiting.id,
                case_id=case.id,
                before={"status": "pending/rendered"},
                after={"status": "cancelled", "reason": "debt track"},
            )
        s.flush()
        figures = claim_figures(s, case, given.kind, given.ruling_date)
        figures.update(
            trustee_name=track.trustee_name,
            trustee_contact=track.trustee_contact,
            ruling_date=given.ruling_date,
            claim_deadline=deadline,
        )
        letter = Letter(
            case_id=case.id,
            client_id=client.id,
            kind="claim_statement",
            channel="letter",
            language="nl",  # to the trustee, a Dutch court's curator or bewindvoerder or a Dutch debt-help agency
            letter_date=today,
            figures=json.dumps(figures, default=str, sort_keys=True, ensure_ascii=False),  # Decimal, date -> str
            status="pending",
            created_by=ctx.actor.name,
            created_at=now,
        )
        s.add_all([track, task, letter])
        cancelled = s.scalar(
            select(Arrangement).where(
                Arrangement.case_id == case.id, Arrangement.status == ArrangementStatus.ACTIVE.value
            )
        )
        if cancelled is not None:  # payments now go through the trustee, not through our plan
            cancelled.status = ArrangementStatus.CANCELLED.value
        before = {
            "status": case.status,
            "next_action_date": case.next_action_date,
            "pause_reason": case.pause_reason,
            "pause_until": case.pause_until,
        }
        move_case(case, next_status(case, CaseStatus.INSOLVENCY))
        case.pause_reason = None
        case.pause_until = None
        case.next_action_date = deadline
        case.next_action, case.next_action_params = FILE_CLAIM[given.kind.value], None
        case.updated_by = ctx.actor.name
        case.updated_at = now
        s.flush()
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="track.register",
            entity="debt_track",
            entity_id=track.id,
            case_id=case.id,
            before=before,
            after={
                "status": case.status,
                "kind": track.kind,
                "ruling_date": track.ruling_date,
                "trustee": track.trustee_name,
                "claim_deadline": deadline,
                "response_due": track.response_due,
                "task_id": task.id,
                "letter_id": letter.id,
                "cancelled_arrangement_id": cancelled.id if cancelled is not None else None,
                "principal": figures["principal"],
                "interest": figures["interest"],
                "costs": figures["costs"],
                "interest_cancelled": interest_cancelled,
                "costs_cancelled": costs_cancelled,
                "interest_posted_until_ruling": until,
            },
        )
        s.flush()  # the case's version check runs here
        return RegisteredTrack(track.id, task.id, letter.id, deadline)


SETTLEMENT_DAYS = 30  # the case waits this long for the agreed amount when no date is given


@dataclass(frozen=True)
class EndedTrack:
    outcome: str
    proposal_id: int | None  # the write-off proposed for a supervisor (clean slate, settlement)
    written_off_proposed: Decimal


def end_track(
    ctx: Context,
    case_id: int,
    expected_version: int,
    outcome: TrackOutcome | str | None = None,
    *,
    settled_amount: Decimal | None = None,
    settle_by: date | None = None,
) -> EndedTrack:
    """End the case's open track (today) with its outcome; open claim-filing tasks are cancelled.

    - schone lei: the case closes; the whole remaining claim is proposed for write-off (a supervisor approves it,
      four eyes; no BKR code); no dunning, costs, interest or BKR step follows (the daily run opens no new case);
    - terminated, rejected: the case is active again and the procedure resumes; no interest is charged for the days
      inside the track (the interest of the lines restarts the day after the track ended);
    - settled: the agreed amount (``settled_amount``) stays due and is paid in through the bank; the rest is
      proposed for write-off (four eyes); the case waits, paused, until ``settle_by`` (default 30 days).
    """
    ctx.require(*CASE_WRITERS)
    if outcome is None:
        raise BadInput(N_("Say how the track ended: clean slate, terminated, rejected or settled"), field="outcome")
    try:
        outcome = TrackOutcome(outcome)
    except ValueError:
        raise BadInput(N_("Unknown outcome of a track: {value}"), field="outcome", value=str(outcome)) from None
    today, now = ctx.clock.today(), ctx.clock.now()
    if outcome is TrackOutcome.SETTLED:
        if settled_amount is None or settled_amount <= 0 or settled_amount != settled_amount.quantize(Decimal("0.01")):
            raise BadInput(N_("A settlement needs the agreed amount in euros and cents above zero"), field="amount")
        settle_by = settle_by or today + timedelta(days=SETTLEMENT_DAYS)
        if settle_by <= today:
            raise RuleViolation(N_("The date the agreed amount is due must be after today"), field="settle_by")
    with case_transaction(ctx, case_id) as s:
        case = load_case(s, case_id)
        check_write(ctx, s, case)
        track = s.scalar(select(DebtTrack).where(DebtTrack.case_id == case.id, DebtTrack.status == TrackStatus.OPEN))
        if track is None:
            raise RuleViolation(N_("The case is not in a debt-relief or insolvency track"))
        if case.version != expected_version:
            raise changed_by(case)
        tasks = list(
            s.scalars(
                select(Task).where(Task.case_id == case.id, Task.kind == "claim_filing", Task.status == TaskStatus.OPEN)
            )
        )
        for task in tasks:
            task.status = "cancelled"
            task.done_by = ctx.actor.name
            task.done_at = now
        track.status = "ended"
        track.ended_on = today
        track.outcome = outcome.value
        before = {"status": case.status, "next_action_date": case.next_action_date}
        proposal_id, proposed = None, ZERO
        if outcome in (TrackOutcome.SCHONE_LEI, TrackOutcome.SETTLED):
            from incasso_tui.services.proposals import client_position, write_off_balance

            loans = list(
                s.scalars(
                    select(Loan)
                    .where(Loan.client_id == case.client_id, Loan.status.in_((LoanStatus.ACTIVE, LoanStatus.CALLED)))
                    .order_by(Loan.number)
                )
            )
            balances = {loan.id: write_off_balance(s, loan, today) for loan in loans}
            keep = settled_amount if outcome is TrackOutcome.SETTLED else ZERO
            total = sum(balances.values(), ZERO)
            if keep is not None and keep > total:
                raise RuleViolation(
                    N_("The agreed amount {amount} is more than the claim {total}"),
                    field="amount",
                    amount=keep,
                    total=total,
                )
            # the agreed amount stays on the last loans (as their principal); the rest is written off loan by loan
            rest = total - (keep or ZERO)
            write: dict[int, Decimal] = {}
            for loan in loans:
                part = min(balances[loan.id], rest)
                if part > 0:
                    write[loan.id] = part
                    rest -= part
            reason = (
                "Schone lei (art. 358 Fw)"
                if outcome is TrackOutcome.SCHONE_LEI
                else f"Schikking met {track.trustee_name}: {keep} afgesproken"
            )
            proposal_id = write_off_proposal(
                s, case, write, reason, client_position(s, case.client_id, today), now, ctx.actor.name
            )
            proposed = sum(write.values(), ZERO)
        if outcome is TrackOutcome.SCHONE_LEI:
            move_case(case, next_status(case, CaseStatus.CLOSED))
            case.closed_on = today
            case.next_action_date = today
            case.next_action, case.next_action_params = NextAction.NONE, None
        elif outcome is TrackOutcome.SETTLED:
            assert settle_by is not None
            move_case(case, next_status(case, CaseStatus.PAUSED))
            case.pause_reason = f"Schikking {settled_amount} met {track.trustee_name}"[:300]
            case.pause_until = settle_by
            case.next_action_date = settle_by
            case.next_action, case.next_action_params = NextAction.WATCH_SETTLEMENT, None
        else:
            move_case(case, next_status(case, CaseStatus.ACTIVE))
            case.next_action_date = today
            case.next_action, case.next_action_params = NextAction.TRACK_ENDED_RESUME, None
        case.updated_by = ctx.actor.name
        case.updated_at = now
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="track.end",
            entity="debt_track",
            entity_id=track.id,
            case_id=case.id,
            before=before,
            after={
                "status": case.status,
                "kind": track.kind,
                "ended_on": today,
                "outcome": outcome.value,
                "cancelled_task_ids": [t.id for t in tasks],
                "write_off_proposal_id": proposal_id,
                "write_off_proposed": proposed,
                "settled_amount": settled_amount,
                "settle_by": settle_by,
            },
        )
        s.flush()
        return EndedTrack(outcome.value, proposal_id, proposed)


# ----- pausing by hand
_NO_PAUSE = {
    CaseStatus.ARRANGEMENT.value: N_("The case has a running arrangement: it cannot be paused"),
    CaseStatus.DEFERRAL.value: N_("The case has a deferral of repayment: it cannot be paused"),
    CaseStatus.INSOLVENCY.value: N_("The client is in a debt-relief or insolvency track: end the track instead"),
    CaseStatus.HANDED_OVER.value: N_("The case is handed over to special management"),
    CaseStatus.CLOSED.value: N_("The case is closed"),
}


def pause_case(
    ctx: Context, case_id: int, expected_version: int, reason: str, until: date | None, since: date | None = None
) -> None:
    """Pause the procedure on the case from ``since`` (default today; may be in the past) up to ``until``."""
    ctx.require(*DESK_WRITERS)
    today = ctx.clock.today()
    why = check_text(reason, "reason", required=True, maximum=MAX_REASON)
    start = today if since is None else since
    if start > today:
        raise RuleViolation(N_("A pause cannot start in the future"), field="since")
    if until is None:
        raise BadInput(N_("A pause needs an end date"), field="until")
    if until < today:
        raise RuleViolation(N_("The end of the pause may not be in the past"), field="until")
    if until <= start:
        raise RuleViolation(N_("The end of the pause must be after its start"), field="until")

    def check(case: Case) -> None:
        if case.status in _NO_PAUSE:
            raise RuleViolation(_NO_PAUSE[case.status])
        if start < case.opened_on:
            raise RuleViolation(
                N_("A pause cannot start before the case was opened ({day})"), field="since", day=case.opened_on
            )

    _set_pause(
        ctx,
        case_id,
        expected_version,
        check,
        action="case.pause",
        status=CaseStatus.PAUSED,
        reason=why,
        until=until,
        next_action_date=until,
        after={"reason": why, "since": start, "until": until, "back_dated": start < today},
    )


def resume_case(ctx: Context, case_id: int, expected_version: int) -> None:
    """End a pause by hand: the case is active again and its next action is today."""
    ctx.require(*DESK_WRITERS)
    today = ctx.clock.today()

    def check(case: Case) -> None:
        if case.status != CaseStatus.PAUSED.value:
            raise RuleViolation(N_("The case is not paused"))

    _set_pause(
        ctx,
        case_id,
        expected_version,
        check,
        action="case.resume",
        status=CaseStatus.ACTIVE,
        reason=None,
        until=None,
        next_action_date=today,
        after={"resumed_on": today},
    )


def _set_pause(
    ctx: Context,
    case_id: int,
    expected_version: int,
    check: Callable[[Case], None],
    *,
    action: str,
    status: CaseStatus,
    reason: str | None,
    until: date | None,
    next_action_date: date,
    after: dict[str, object],
) -> None:
    """Start or end a pause in one transaction: ``check`` refuses on the case's state, then the version is
    checked, the case gets ``status``, the pause fields and its next action, and ``action`` is audited."""
    now = ctx.clock.now()
    with case_transaction(ctx, case_id) as s:
        case = load_case(s, case_id)
        check_write(ctx, s, case)
        check(case)
        if case.version != expected_version:
            raise changed_by(case)
        before = {
            "status": case.status,
            "pause_reason": case.pause_reason,
            "pause_until": case.pause_until,
            "next_action_date": case.next_action_date,
        }
        move_case(case, status)
        case.pause_reason = reason
        case.pause_until = until
        case.next_action_date = next_action_date
        case.next_action, case.next_action_params = NextAction.PAUSE_OVER_RESUME, None
        case.updated_by = ctx.actor.name
        case.updated_at = now
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action=action,
            entity="case",
            entity_id=case.id,
            case_id=case.id,
            before=before,
            after={"status": case.status, **after},
        )
        s.flush()
