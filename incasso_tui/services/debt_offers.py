"""A debt counsellor's proposal in a minnelijk traject, and the desk's answer (issue 19).

- ``record_offer``: the proposal (a percentage of the claim, paid over a term in months), when it came in and by
  when the desk must answer; the answer's deadline becomes a task (``debt_offer_answer``) for the case's assignee.
  Only on an open minnelijk track (a WSNP or a bankruptcy has no such offer: the court decides there).
- ``answer_offer``: accept, or reject with a reason. Where the claim is at most
  ``settings.debt_offer_four_eyes_above`` the answer is final at once; above it the answer waits for a second
  person (``confirm_answer``: a supervisor who is not the one who answered, as ``services.proposals`` does it), who
  confirms it or sends it back with a reason. The task is done when the answer is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from incasso_tui.domain.enums import Role, TaskStatus, TrackStatus
from incasso_tui.errors import N_, BadInput, FourEyesViolation, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.cases import load_case
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.services.proposals import client_position
from incasso_tui.store.models import DebtOffer, DebtTrack, Task

__all__ = ["OfferRow", "answer_offer", "confirm_answer", "offers", "record_offer"]

TASK_KIND = "debt_offer_answer"


@dataclass(frozen=True)
class OfferRow:
    id: int
    track_id: int
    case_id: int
    percentage: Decimal
    term_months: int
    claim: Decimal
    received_on: date
    respond_by: date
    status: str  # open | proposed (an answer waits for the second person) | accepted | rejected
    answer: str | None
    reason: str | None
    answered_by: str | None
    approved_by: str | None

    @property
    def offered(self) -> Decimal:
        """What the client would pay in total under the proposal."""
        return (self.claim * self.percentage).quantize(Decimal("0.01"))


def _row(o: DebtOffer, case_id: int) -> OfferRow:
    return OfferRow(
        o.id,
        o.track_id,
        case_id,
        o.percentage,
        o.term_months,
        o.claim,
        o.received_on,
        o.respond_by,
        o.status,
        o.answer,
        o.reason,
        o.answered_by,
        o.approved_by,
    )


def record_offer(
    ctx: Context, case_id: int, *, percentage: Decimal, term_months: int, received_on: date, respond_by: date
) -> int:
    """Record the debt counsellor's proposal on the case's open minnelijk track; returns the offer's id."""
    ctx.require(*DESK_WRITERS)
    if not Decimal(0) < percentage <= Decimal(100):
        raise BadInput(N_("The percentage must be above 0 and at most 100"), field="percentage")
    if not 1 <= term_months <= 120:
        raise BadInput(N_("The term must be 1 to 120 months"), field="term")
    today = ctx.clock.today()
    if received_on > today:
        raise RuleViolation(N_("The day of receipt may not be in the future"), field="received")
    if respond_by < received_on:
        raise RuleViolation(N_("The answer cannot be due before the proposal came in"), field="respond_by")
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        case = load_case(s, case_id)
        track = s.scalar(select(DebtTrack).where(DebtTrack.case_id == case.id, DebtTrack.status == TrackStatus.OPEN))
        if track is None or track.kind != "minnelijk":
            raise RuleViolation(N_("A debt counsellor's proposal needs an open minnelijk traject on the case"))
        if s.scalar(
            select(DebtOffer.id).where(DebtOffer.track_id == track.id, DebtOffer.status.in_(("open", "proposed")))
        ):
            raise RuleViolation(N_("The track has an unanswered proposal already"))
        claim = client_position(s, case.client_id, today)
        offer = DebtOffer(
            track_id=track.id,
            percentage=(percentage / 100).quantize(Decimal("0.000001")),
            term_months=term_months,
            claim=claim,
            received_on=received_on,
            respond_by=respond_by,
            status="open",
            created_by=ctx.actor.name,
            created_at=now,
        )
        s.add(offer)
        s.flush()
        task = Task(
            case_id=case.id,
            kind=TASK_KIND,
            title=f"Voorstel schuldhulp {offer.id}: antwoord geven"[:200],
            due_date=respond_by,
            status="open",
            assignee_id=case.assignee_id,
            created_by=ctx.actor.name,
            created_at=now,
        )
        s.add(task)
        track.response_due = respond_by
        s.flush()
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="debt_offer.add",
            entity="debt_offer",
            entity_id=offer.id,
            case_id=case.id,
            after={
                "percentage": offer.percentage,
                "term_months": term_months,
                "claim": claim,
                "received_on": received_on,
                "respond_by": respond_by,
                "task": task.id,
            },
        )
        return offer.id


def _offer(s: Session, offer_id: int) -> tuple[DebtOffer, DebtTrack]:
    offer = s.get(DebtOffer, offer_id, with_for_update=True)
    if offer is None:
        raise NotFound(N_("There is no debt counsellor's proposal {id}"), id=offer_id)
    track = s.get(DebtTrack, offer.track_id)
    assert track is not None
    return offer, track


def _finish(ctx: Context, s: Session, offer: DebtOffer, track: DebtTrack) -> None:
    offer.status = "accepted" if offer.answer == "accept" else "rejected"
    for task in s.scalars(
        select(Task).where(
            Task.case_id == track.case_id,
            Task.kind == TASK_KIND,
            Task.status == TaskStatus.OPEN,
            Task.title.like(f"% {offer.id}: %"),
        )
    ):
        task.status, task.done_by, task.done_at = "done", ctx.actor.name, ctx.clock.now()


def answer_offer(ctx: Context, offer_id: int, *, accept: bool, reason: str = "") -> str:
    """The desk's answer; returns the offer's status after it (final, or ``proposed`` for the second person)."""
    ctx.require(*DESK_WRITERS)
    reason = (reason or "").strip()
    if not accept and not reason:
        raise BadInput(N_("Give the reason for the rejection"), field="reason")
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        offer, track = _offer(s, offer_id)
        if offer.status != "open":
            raise RuleViolation(N_("This proposal was answered already ({status})"), status=offer.status)
        offer.answer, offer.reason = ("accept" if accept else "reject"), reason or None
        offer.answered_by, offer.answered_at = ctx.actor.name, now
        four_eyes = offer.claim > ctx.settings.debt_offer_four_eyes_above
        if four_eyes:
            offer.status = "proposed"
        else:
            _finish(ctx, s, offer, track)
        s.flush()
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="debt_offer.answer",
            entity="debt_offer",
            entity_id=offer.id,
            case_id=track.case_id,
            after={
                "answer": offer.answer,
                "reason": offer.reason,
                "status": offer.status,
                "four_eyes": four_eyes,
                "claim": offer.claim,
            },
        )
        return offer.status


def confirm_answer(ctx: Context, offer_id: int, *, confirm: bool, reason: str = "") -> str:
    """The second person (a supervisor, not the one who answered) confirms the answer or sends it back."""
    ctx.require(Role.SUPERVISOR)
    reason = (reason or "").strip()
    if not confirm and not reason:
        raise BadInput(N_("Give the reason for sending the answer back"), field="reason")
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        offer, track = _offer(s, offer_id)
        if offer.status != "proposed":
            raise RuleViolation(
                N_("This proposal has no answer waiting for a second person ({status})"), status=offer.status
            )
        if offer.answered_by == ctx.actor.name:
            raise FourEyesViolation(N_("You answered this yourself: another supervisor must confirm it (four eyes)"))
        if confirm:
            offer.approved_by, offer.approved_at = ctx.actor.name, now
            _finish(ctx, s, offer, track)
        else:
            offer.status, offer.answer, offer.answered_by, offer.answered_at = "open", None, None, None
            offer.reason = reason
        s.flush()
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="debt_offer.confirm" if confirm else "debt_offer.send_back",
            entity="debt_offer",
            entity_id=offer.id,
            case_id=track.case_id,
            after={"status": offer.status, "reason": reason or None},
        )
        return offer.status


def offers(ctx: Context, case_id: int) -> list[OfferRow]:
    ctx.require(*DESK_WRITERS, Role.SPECIAL_MANAGEMENT, Role.ADMIN, Role.AUDITOR)
    with ctx.db.reader() as s:
        load_case(s, case_id)
        rows = s.scalars(
            select(DebtOffer)
            .join(DebtTrack, DebtTrack.id == DebtOffer.track_id)
            .where(DebtTrack.case_id == case_id)
            .order_by(DebtOffer.id.desc())
        )
        return [_row(o, case_id) for o in rows]
