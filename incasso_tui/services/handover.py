"""Handover to special management (bijzonder beheer), and special management's accept / return.

A case qualifies at 90+ days past due, a position above the desk mandate, a debt-relief or insolvency track, a
second broken arrangement, or by decision (with a reason). The employee writes the handover summary; the service
adds what the dossier says (cause, contacts, agreements, proposals). The dossier checklist (loan agreement,
pledge deed, letters sent, BKR status) must be complete, or its missing items waived by a supervisor. After the
handover the case is read-only for the desk (the desk's services refuse a handed-over case) and appears in the
special-management list, which accepts it or returns it to the desk with a reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from incasso_tui.domain.enums import (
    ArrangementStatus,
    CaseStatus,
    HandoverStatus,
    LetterStatus,
    NextAction,
    Role,
    Stage,
    TaskStatus,
)
from incasso_tui.errors import N_, BadInput, NotFound, RuleViolation, StaleData
from incasso_tui.services import audit
from incasso_tui.services.access import check_write, move_case
from incasso_tui.services.cases import changed_by, load_case
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.services.inbox import add_task, close_task
from incasso_tui.services.proposals import client_position
from incasso_tui.store.models import (
    NO_ARREARS,
    Arrangement,
    BkrMutation,
    Case,
    Client,
    Contact,
    Handover,
    Letter,
    Loan,
    Promise,
    Proposal,
    Task,
    User,
)

REASONS = ("dpd_90", "above_mandate", "insolvency", "broken_twice", "decision")
CHECKLIST = ("loan_agreement", "pledge_deed", "letters_sent", "bkr_status")
DPD_LIMIT = 90
# from the BKR registration on, a case's dossier must show its BKR status
_BKR_STAGES = {Stage.BKR_REGISTERED.value, Stage.DEFAULT_NOTICE.value, Stage.CALL_IN.value, Stage.HANDOVER.value}


@dataclass(frozen=True)
class Qualification:
    reasons: tuple[str, ...]  # the reasons that hold now (empty: only a decision can hand it over)
    days_past_due: int
    position: Decimal
    checklist: dict[str, bool]  # item -> present
    # an employee's handover waiting for a supervisor's waiver (issue 13): its summary, so nobody retypes it
    requested_summary: str | None = None
    requested_reason: str | None = None


@dataclass(frozen=True)
class HandoverRow:
    id: int
    case_id: int
    client_name: str
    reason: str
    status: str
    handed_by: str
    handed_at: datetime
    position: Decimal
    summary: dict[str, Any]
    checklist: dict[str, str]
    version: int
    # special management's workbench (issue 13): who accepted it, and the case as it stands now
    decided_by: str | None = None
    arrears: Decimal = Decimal("0.00")
    case_status: str = ""
    next_action_date: date | None = None
    next_action: str = "none"  # a domain.enums.NextAction code, shown with its params (ui.labels.next_action)
    next_action_params: dict[str, str] | None = None
    open_tasks: int = 0


def _checklist(s: Session, case: Case) -> dict[str, bool]:
    loans = list(s.scalars(select(Loan).where(Loan.client_id == case.client_id)))
    sent = s.scalar(
        select(func.count()).where(
            Letter.case_id == case.id, Letter.status.in_((LetterStatus.RENDERED, LetterStatus.SENT))
        )
    )
    bkr = s.scalar(select(func.count()).where(BkrMutation.client_id == case.client_id))
    return {
        "loan_agreement": all(loan.has_loan_agreement for loan in loans),
        "pledge_deed": all(loan.has_pledge_deed for loan in loans),
        "letters_sent": bool(sent),
        # the BKR status is known when a mutation was made (or the arrears never reached a code)
        "bkr_status": bool(bkr) or case.stage not in _BKR_STAGES,
    }


def _qualification(ctx: Context, s: Session, case: Case) -> Qualification:
    today = ctx.clock.today()
    dpd = 0 if case.pos_oldest_due == NO_ARREARS else max(0, (today - case.pos_oldest_due).days)
    position = client_position(s, case.client_id, today)
    broken = s.scalar(
        select(func.count()).where(Arrangement.case_id == case.id, Arrangement.status == ArrangementStatus.BROKEN.value)
    )
    reasons = []
    if dpd >= DPD_LIMIT:
        reasons.append("dpd_90")
    if position > ctx.settings.mandate_limit:
        reasons.append("above_mandate")
    if case.status == CaseStatus.INSOLVENCY.value:
        reasons.append("insolvency")
    if broken >= 2:
        reasons.append("broken_twice")
    requested = _requested(s, case.id)
    return Qualification(
        tuple(reasons),
        dpd,
        position,
        _checklist(s, case),
        json.loads(requested.summary)["text"] if requested else None,
        requested.reason if requested else None,
    )


def _requested(s: Session, case_id: int) -> Handover | None:
    return s.scalar(
        select(Handover)
        .where(Handover.case_id == case_id, Handover.status == HandoverStatus.REQUESTED)
        .order_by(Handover.id.desc())
        .limit(1)
    )


def request_waiver(ctx: Context, case_id: int, expected_version: int, *, reason: str, summary: str) -> int:
    """An employee's handover with dossier items missing: kept with its summary, waiting for a supervisor, who
    finds it in the team's inbox (a ``handover_waiver`` task) and completes it with ``hand_over`` (waiving the
    items) without retyping the summary. Returns the handover's id."""
    ctx.require(*DESK_WRITERS)
    if reason not in REASONS:
        raise BadInput(N_("Unknown handover reason {reason}"), field="reason", reason=reason)
    if not summary.strip():
        raise BadInput(N_("Write the handover summary: cause, contacts, agreements"), field="summary")
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        case = load_case(s, case_id)
        check_write(ctx, s, case)
        if case.version != expected_version:
            raise changed_by(case)
        if _requested(s, case.id) is not None:
            raise RuleViolation(N_("A handover of this case waits for a supervisor already"))
        q = _qualification(ctx, s, case)
        if reason != "decision" and reason not in q.reasons:
            raise RuleViolation(N_("The case does not qualify for handover on {reason}"), reason=reason)
        missing = [item for item, present in q.checklist.items() if not present]
        if not missing:
            raise RuleViolation(N_("The dossier is complete: hand the case over"))
        row = Handover(
            case_id=case.id,
            reason=reason,
            status="requested",
            checklist=json.dumps({item: "missing" for item in missing}),
            summary=json.dumps({"text": summary.strip()}, ensure_ascii=False),
            handed_by=ctx.actor.name,
            handed_at=now,
        )
        s.add(row)
        s.flush()
        add_task(
            ctx,
            s,
            case.id,
            "handover_waiver",
            f"Overdracht van {ctx.actor.name}: ontbrekend {', '.join(missing)}",
            ctx.clock.today(),
            None,
            ref=f"handover:{row.id}",
        )
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="handover.request",
            entity="handover",
            entity_id=row.id,
            case_id=case.id,
            after={"reason": reason, "missing": missing},
        )
        return row.id


def qualification(ctx: Context, case_id: int) -> Qualification:
    with ctx.db.reader() as s:
        return _qualification(ctx, s, load_case(s, case_id))


def _dossier_summary(s: Session, case: Case) -> dict[str, Any]:
    contacts = list(s.scalars(select(Contact).where(Contact.case_id == case.id).order_by(Contact.at.desc()).limit(5)))
    causes = [c.cause for c in contacts if c.cause]
    return {
        "cause": causes[0] if causes else None,
        "contacts": s.scalar(select(func.count()).where(Contact.case_id == case.id)),
        "last_contacts": [
            {"at": c.at.isoformat(), "channel": c.channel, "outcome": c.outcome, "summary": c.summary} for c in contacts
        ],
        "arrangements": [
            {
                "status": a.status,
                "installments": a.installment_count,
                "covered": str(a.arrears_covered),
                "by": a.created_by,
                "on": a.created_at.date().isoformat(),
            }
            for a in s.scalars(select(Arrangement).where(Arrangement.case_id == case.id).order_by(Arrangement.id))
        ],
        "promises": [
            {"due": p.due_date.isoformat(), "amount": str(p.amount), "status": p.status}
            for p in s.scalars(select(Promise).where(Promise.case_id == case.id).order_by(Promise.id))
        ],
        "proposals": [
            {"kind": p.kind, "status": p.status, "by": p.proposed_by, "decided_by": p.decided_by}
            for p in s.scalars(select(Proposal).where(Proposal.case_id == case.id).order_by(Proposal.id))
        ],
    }


def hand_over(
    ctx: Context, case_id: int, expected_version: int, *, reason: str, summary: str, waive: tuple[str, ...] = ()
) -> int:
    """Hand the case over to special management; returns the handover's id."""
    ctx.require(*DESK_WRITERS)
    if reason not in REASONS:
        raise BadInput(N_("Unknown handover reason {reason}"), field="reason", reason=reason)
    unknown = [item for item in waive if item not in CHECKLIST]
    if unknown:
        raise BadInput(N_("Unknown dossier item {item}"), field="waive", item=unknown[0])
    if waive and ctx.actor.role != Role.SUPERVISOR:
        raise RuleViolation(N_("Only a supervisor can waive a missing dossier item"))
    now = ctx.clock.now()
    try:
        with ctx.db.transaction() as s:
            case = load_case(s, case_id)
            if case.status in (CaseStatus.HANDED_OVER.value, CaseStatus.CLOSED.value):
                raise RuleViolation(N_("The case is {status}: it cannot be handed over"), status=case.status)
            if case.version != expected_version:
                raise changed_by(case)
            q = _qualification(ctx, s, case)
            requested = _requested(s, case.id)
            summary = summary.strip() or (q.requested_summary or "")  # the employee's, when a supervisor completes it
            by = requested.handed_by if requested is not None else ctx.actor.name
            if not summary:
                raise BadInput(N_("Write the handover summary: cause, contacts, agreements"), field="summary")
            if reason != "decision" and reason not in q.reasons:
                raise RuleViolation(N_("The case does not qualify for handover on {reason}"), reason=reason)
            missing = [item for item, present in q.checklist.items() if not present and item not in waive]
            if missing:
                raise RuleViolation(
                    N_("The dossier is not complete: {items} missing (a supervisor can waive them)"),
                    items=", ".join(missing),
                )
            checklist = {item: ("present" if present else "waived") for item, present in q.checklist.items()}
            row = Handover(
                case_id=case.id,
                reason=reason,
                checklist=json.dumps(checklist),
                summary=json.dumps(
                    {
                        "text": summary,
                        "position": str(q.position),
                        "days_past_due": q.days_past_due,
                        **_dossier_summary(s, case),
                    },
                    ensure_ascii=False,
                ),
                waived_by=ctx.actor.name if waive else None,
                handed_by=by,
                handed_at=now,
            )
            if requested is not None:  # the employee's request is completed: its waiver task is done
                requested.status = "superseded"
                for t in s.scalars(
                    select(Task).where(Task.ref == f"handover:{requested.id}", Task.status == TaskStatus.OPEN)
                ):
                    close_task(ctx, s, t, "Ontbrekende stukken kwijtgescholden; overgedragen", now)
            s.add(row)
            before = {"status": case.status, "assignee_id": case.assignee_id}
            move_case(case, CaseStatus.HANDED_OVER)
            case.updated_by, case.updated_at = ctx.actor.name, now
            s.flush()
            # special management's inbox: reviewing the handover (unassigned until one of them accepts it)
            add_task(
                ctx,
                s,
                case.id,
                "handover_review",
                "",
                ctx.clock.today(),
                None,
                ref=f"handover:{row.id}",
                subject=NextAction.REVIEW_HANDOVER,
            )
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="case.handover",
                entity="handover",
                entity_id=row.id,
                case_id=case.id,
                before=before,
                after={
                    "status": case.status,
                    "reason": reason,
                    "checklist": checklist,
                    "position": q.position,
                    "identified_by": ctx.actor.identified_by,
                },
            )  # a supervisor's waiver is an approval
            return row.id
    except StaleDataError:
        raise StaleData(N_("Someone changed the case at the same moment: reopen it; your input is kept")) from None


def handovers(
    ctx: Context, *, status: tuple[str, ...] = ("handed_over", "accepted"), mine: bool = False
) -> list[HandoverRow]:
    """Special management's list: handed-over cases, newest first. ``mine``: the new ones (to accept) and the ones
    the actor accepted: their workbench, with each case's arrears, next action and the actor's open tasks on it."""
    ctx.require(Role.SPECIAL_MANAGEMENT, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
    tasks = (
        select(func.count())
        .where(
            Task.case_id == Case.id,
            Task.status == TaskStatus.OPEN,
            (Task.assignee_id == ctx.actor.id) | Task.assignee_id.is_(None),
        )
        .correlate(Case)
        .scalar_subquery()
    )
    query = (
        select(
            Handover,
            Client.name,
            Case.pos_arrears,
            Case.status,
            Case.next_action_date,
            Case.next_action,
            Case.next_action_params,
            tasks,
        )
        .join(Case, Case.id == Handover.case_id)
        .join(Client, Client.id == Case.client_id)
        .where(Handover.status.in_(status))
    )
    if mine:
        query = query.where((Handover.status == HandoverStatus.HANDED_OVER) | (Handover.decided_by == ctx.actor.name))
    with ctx.db.reader() as s:
        rows = s.execute(query.order_by(Handover.handed_at.desc(), Handover.id.desc()))
        result = []
        for h, name, arrears, case_status, next_date, next_action, next_params, open_tasks in rows:
            summary = json.loads(h.summary)
            result.append(
                HandoverRow(
                    h.id,
                    h.case_id,
                    name,
                    h.reason,
                    h.status,
                    h.handed_by,
                    h.handed_at,
                    Decimal(summary["position"]),
                    summary,
                    json.loads(h.checklist),
                    h.version,
                    h.decided_by,
                    arrears,
                    case_status,
                    next_date,
                    next_action,
                    next_params,
                    int(open_tasks),
                )
            )
        return result


def accept(ctx: Context, handover_id: int, expected_version: int) -> None:
    """Special management takes the case: it is assigned to the accepting user."""
    ctx.require(Role.SPECIAL_MANAGEMENT)
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        h, case = _open_handover(s, handover_id, expected_version)
        h.status, h.decided_by, h.decided_at = "accepted", ctx.actor.name, now
        user_id = s.scalar(select(User.id).where(User.name == ctx.actor.name))
        before = {"assignee_id": case.assignee_id}
        case.assignee_id = user_id
        case.updated_by, case.updated_at = ctx.actor.name, now
        _close_review(ctx, s, h, "Geaccepteerd", now)
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="handover.accept",
            entity="handover",
            entity_id=h.id,
            case_id=case.id,
            before=before,
            after={"assignee_id": user_id, "identified_by": ctx.actor.identified_by},
        )


def return_to_desk(ctx: Context, handover_id: int, expected_version: int, reason: str) -> None:
    """Special management sends the case back to the desk with a reason; the case is active again."""
    ctx.require(Role.SPECIAL_MANAGEMENT)
    if not reason.strip():
        raise BadInput(N_("Give the reason for returning the case"), field="reason")
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        # returned before or after accepting it: a case special management worked goes back too
        h, case = _open_handover(s, handover_id, expected_version, ("handed_over", "accepted"))
        h.status, h.decided_by, h.decided_at, h.return_reason = "returned", ctx.actor.name, now, reason.strip()
        _close_review(ctx, s, h, f"Teruggegeven: {h.return_reason}", now)
        move_case(case, CaseStatus.ACTIVE)
        case.next_action_date = ctx.clock.today()
        case.next_action, case.next_action_params = NextAction.RETURNED_BY_SPECIAL, None
        case.updated_by, case.updated_at = ctx.actor.name, now
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="handover.return",
            entity="handover",
            entity_id=h.id,
            case_id=case.id,
            before={"status": CaseStatus.HANDED_OVER.value},
            after={"status": case.status, "reason": h.return_reason},
        )


def _close_review(ctx: Context, s: Session, h: Handover, outcome: str, now: datetime) -> None:
    for t in s.scalars(select(Task).where(Task.ref == f"handover:{h.id}", Task.status == TaskStatus.OPEN)):
        close_task(ctx, s, t, outcome, now)


def _open_handover(
    s: Session, handover_id: int, expected_version: int, open_states: tuple[str, ...] = ("handed_over",)
) -> tuple[Handover, Case]:
    h = s.get(Handover, handover_id)
    if h is None:
        raise NotFound(N_("There is no handover {id}"), id=handover_id)
    if h.status not in open_states:
        raise RuleViolation(
            N_("This handover was {status} by {name} already"), status=h.status, name=h.decided_by or "?"
        )
    if h.version != expected_version:
        raise StaleData(N_("The handover was changed meanwhile: reopen it"))
    return h, load_case(s, h.case_id)


__all__ = [
    "CHECKLIST",
    "REASONS",
    "HandoverRow",
    "Qualification",
    "accept",
    "hand_over",
    "handovers",
    "qualification",
    "request_waiver",
    "return_to_desk",
]
