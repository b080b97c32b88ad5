"""Changing, cancelling and proposing arrangements (issue 14).

- ``change_arrangement``: a new plan (amount, number, dates) for what the running arrangement still has open, through
  the same desk limits as a new one (``domain.arrangement.plan_arrangement``), with a reason. The old arrangement is
  kept as ``cancelled`` (its lines and payments stay in the history); the new one is active. One transaction, the
  running arrangement's row locked; refused when it was broken, kept or cancelled meanwhile.
- ``cancel_arrangement``: ends the running arrangement with a reason; the case goes back to the procedure (status
  active, next action today).
- ``propose_arrangement``: a plan outside the desk limits goes to a supervisor as a proposal (four eyes,
  ``services.proposals.decide``); on approval ``apply_arrangement_proposal`` registers it (replacing the running one
  when the proposal was a change). The proposal plan must still be a plan: at most ``PROPOSAL_LIMITS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incasso_tui.domain.arrangement import DeskLimits, Plan, plan_arrangement
from incasso_tui.domain.enums import ArrangementStatus, CaseStatus, Frequency, NextAction
from incasso_tui.errors import N_, BadInput, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.access import move_case, next_status
from incasso_tui.services.arrangements import _CLOSED_TO_DESK, ArrangementInput, _terms, case_arrears, limits
from incasso_tui.services.cases import load_case
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.store.models import Arrangement, ArrangementLine, Case
from incasso_tui.store.types import money_sum

# what a supervisor may approve beyond the desk: ten years of monthly installments, at least one euro each
PROPOSAL_LIMITS = DeskLimits(max_installments=120, min_installment=Decimal("1.00"))


@dataclass(frozen=True)
class RunningArrangement:
    id: int
    case_id: int
    version: int
    created_by: str
    created_at_day: date
    open_amount: Decimal  # what its lines still have open


def _reason(reason: str) -> str:
    if not reason.strip():
        raise BadInput(N_("A reason is required"), field="reason")
    return reason.strip()[:300]


def _locked(s: Session, arrangement_id: int) -> Arrangement:
    row = s.execute(select(Arrangement).where(Arrangement.id == arrangement_id).with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFound(N_("There is no arrangement {id}"), id=arrangement_id)
    if row.status != ArrangementStatus.ACTIVE.value:
        raise RuleViolation(
            N_("The arrangement is {status} meanwhile: nothing was changed; reopen the case"), status=row.status
        )
    return row


def _open_amount(s: Session, arrangement_id: int) -> Decimal:
    return s.scalar(
        select(money_sum(ArrangementLine.amount - ArrangementLine.paid)).where(
            ArrangementLine.arrangement_id == arrangement_id
        )
    ) or Decimal("0.00")


def running(ctx: Context, case_id: int) -> RunningArrangement | None:
    """The case's running arrangement and what it still has open (the amount a change re-plans)."""
    with ctx.db.reader() as s:
        row = s.scalar(
            select(Arrangement).where(
                Arrangement.case_id == case_id, Arrangement.status == ArrangementStatus.ACTIVE.value
            )
        )
        if row is None:
            return None
        return RunningArrangement(
            row.id, row.case_id, row.version, row.created_by, row.created_at.date(), _open_amount(s, row.id)
        )


def preview_change(ctx: Context, arrangement: RunningArrangement, given: ArrangementInput) -> Plan:
    """The new plan for what the running arrangement still has open (writes nothing)."""
    return plan_arrangement(_terms(arrangement.open_amount, given), limits(ctx), ctx.clock.today())


def _write_plan(
    s: Session, ctx: Context, case: Case, covered: Decimal, plan: Plan, frequency: str, first_date: date
) -> Arrangement:
    now = ctx.clock.now()
    new = Arrangement(
        case_id=case.id,
        status=ArrangementStatus.ACTIVE.value,
        arrears_covered=covered,
        down_payment=plan.down_payment,
        installment_count=plan.count,
        frequency=frequency,
        first_date=first_date,
        created_by=ctx.actor.name,
        created_at=now,
    )
    s.add(new)
    s.flush()
    s.add_all(
        ArrangementLine(arrangement_id=new.id, seq=line.seq, due_date=line.due_date, amount=line.amount)
        for line in plan.lines
    )
    # a case special management holds stays theirs (it is refused as a transition: handed_over -> arrangement)
    move_case(case, next_status(case, CaseStatus.ARRANGEMENT))
    case.next_action_date = plan.lines[0].due_date
    case.next_action, case.next_action_params = NextAction.CHECK_ARRANGEMENT_PAYMENT, None
    case.flag = None
    case.updated_by, case.updated_at = ctx.actor.name, now
    return new


def _plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "down_payment": plan.down_payment,
        "installments": plan.count,
        "installment": plan.installment,
        "last_date": plan.last_date,
    }


def change_arrangement(
    ctx: Context, arrangement_id: int, expected_version: int, given: ArrangementInput, reason: str
) -> int:
    """Replace the running arrangement by a new plan for what it still has open; returns the new arrangement's id."""
    ctx.require(*DESK_WRITERS)
    why = _reason(reason)
    today, now = ctx.clock.today(), ctx.clock.now()
    with ctx.db.transaction() as s:
        old = _locked(s, arrangement_id)
        if old.version != expected_version:
            raise RuleViolation(
                N_("The arrangement was changed meanwhile by {name}: reopen the case"), name=old.created_by
            )
        case = load_case(s, old.case_id)
        if case.status in _CLOSED_TO_DESK:
            raise RuleViolation(_CLOSED_TO_DESK[case.status])
        remaining = _open_amount(s, old.id)
        plan = plan_arrangement(_terms(remaining, given), limits(ctx), today)
        old.status = ArrangementStatus.CANCELLED.value
        s.flush()  # the old one leaves the "one active per case" index before the new one enters it
        new = _write_plan(s, ctx, case, remaining, plan, given.frequency.value, given.first_date)
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="arrangement.change",
            entity="arrangement",
            entity_id=new.id,
            case_id=case.id,
            before={
                "arrangement": old.id,
                "installments": old.installment_count,
                "open": remaining,
                "first_date": old.first_date,
            },
            after={
                "arrangement": new.id,
                "reason": why,
                "frequency": given.frequency.value,
                "first_date": given.first_date,
                **_plan_json(plan),
            },
        )
        s.flush()
        return new.id


def cancel_arrangement(ctx: Context, arrangement_id: int, expected_version: int, reason: str) -> None:
    """End the running arrangement; the procedure resumes (the case is active again, next action today)."""
    ctx.require(*DESK_WRITERS)
    why = _reason(reason)
    today, now = ctx.clock.today(), ctx.clock.now()
    with ctx.db.transaction() as s:
        old = _locked(s, arrangement_id)
        if old.version != expected_version:
            raise RuleViolation(
                N_("The arrangement was changed meanwhile by {name}: reopen the case"), name=old.created_by
            )
        case = load_case(s, old.case_id)
        old.status = ArrangementStatus.CANCELLED.value
        before = {"status": case.status, "next_action_date": case.next_action_date}
        if case.status == CaseStatus.ARRANGEMENT.value:
            move_case(case, CaseStatus.ACTIVE)
            case.next_action_date = today
            case.next_action, case.next_action_params = NextAction.ARRANGEMENT_ENDED_RESUME, None
        case.updated_by, case.updated_at = ctx.actor.name, now
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="arrangement.cancel",
            entity="arrangement",
            entity_id=old.id,
            case_id=case.id,
            before=before,
            after={"status": case.status, "reason": why, "open": _open_amount(s, old.id)},
        )


def propose_arrangement(
    ctx: Context, case_id: int, expected_version: int, given: ArrangementInput, reason: str, replaces: int | None = None
) -> int:
    """Send a plan that the desk limits refuse to a supervisor; returns the proposal's id. A plan the desk may make
    itself is refused here (save it instead); ``replaces``: the running arrangement it would change."""
    from incasso_tui.services.proposals import _submit, client_position

    ctx.require(*DESK_WRITERS)
    why = _reason(reason)
    today, now = ctx.clock.today(), ctx.clock.now()
    with ctx.db.reader() as s:
        case = load_case(s, case_id)
        if case.status in _CLOSED_TO_DESK:
            raise RuleViolation(_CLOSED_TO_DESK[case.status])
        covered = _open_amount(s, replaces) if replaces is not None else case_arrears(s, case, today)
        position = client_position(s, case.client_id, today)
    terms = _terms(covered, given)
    try:
        plan_arrangement(terms, limits(ctx), today)
    except RuleViolation as desk_refusal:
        plan = plan_arrangement(terms, PROPOSAL_LIMITS, today)  # still a plan, only beyond the desk's limits
        payload = {
            "reason": why,
            "desk_refusal": desk_refusal.msgid,
            "desk_refusal_params": {k: str(v) for k, v in desk_refusal.params.items()},
            "covered": str(covered),
            "frequency": given.frequency.value,
            "first_date": given.first_date.isoformat(),
            "down_payment": str(plan.down_payment),
            "installments": plan.count,
            "installment": str(plan.installment),
            "last_date": plan.last_date.isoformat(),
            "replaces": replaces,
            "lines": [
                {"seq": ln.seq, "due_date": ln.due_date.isoformat(), "amount": str(ln.amount)} for ln in plan.lines
            ],
        }
        return _submit(ctx, case_id, expected_version, "arrangement", None, position, payload, now)  # type: ignore[arg-type]
    raise RuleViolation(N_("This plan is within the desk limits: save it yourself, no supervisor is needed"))


def apply_arrangement_proposal(
    ctx: Context, s: Session, p: Any, case: Case, payload: dict[str, Any], today: date
) -> dict[str, Any]:
    """Register an approved arrangement proposal (called by ``services.proposals.decide`` in its transaction)."""
    replaces = payload.get("replaces")
    covered = Decimal(payload["covered"])
    if replaces is not None:
        old = _locked(s, int(replaces))
        if _open_amount(s, old.id) != covered:
            raise RuleViolation(N_("The running arrangement was paid on since the proposal: propose again"))
        old.status = ArrangementStatus.CANCELLED.value
        s.flush()
    else:
        running_now = s.scalar(
            select(Arrangement).where(
                Arrangement.case_id == case.id, Arrangement.status == ArrangementStatus.ACTIVE.value
            )
        )
        if running_now is not None:
            raise RuleViolation(
                N_("The case already has an active arrangement, registered by {name} on {day}"),
                name=running_now.created_by,
                day=running_now.created_at.date(),
            )
        if case_arrears(s, case, today) != covered:
            raise RuleViolation(N_("The arrears changed since the proposal: propose again"))
    given = ArrangementInput(
        down_payment=Decimal(payload["down_payment"]),
        first_date=date.fromisoformat(payload["first_date"]),
        frequency=Frequency(payload["frequency"]),
        count=int(payload["installments"]),
    )
    if given.first_date < today:
        raise RuleViolation(N_("The proposal's first date has passed: propose again with a new date"))
    plan = plan_arrangement(_terms(covered, given), PROPOSAL_LIMITS, today)
    new = _write_plan(s, ctx, case, covered, plan, given.frequency.value, given.first_date)
    return {"arrangement": new.id, **{k: str(v) for k, v in _plan_json(plan).items()}}


__all__ = [
    "PROPOSAL_LIMITS",
    "RunningArrangement",
    "apply_arrangement_proposal",
    "cancel_arrangement",
    "change_arrangement",
    "preview_change",
    "propose_arrangement",
    "running",
]
