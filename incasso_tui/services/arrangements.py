"""Payment arrangements: preview (no writes) and registration (one transaction, audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from incasso_tui.domain.arrangement import ArrangementTerms, DeskLimits, Plan, plan_arrangement
from incasso_tui.domain.enums import ArrangementStatus, CaseStatus, Frequency, NextAction
from incasso_tui.domain.money import ZERO
from incasso_tui.errors import N_, RuleViolation
from incasso_tui.services import audit, risk
from incasso_tui.services.access import CASE_WRITERS, check_write, move_case, next_status
from incasso_tui.services.budget import check_plan
from incasso_tui.services.cases import changed_by, load_case
from incasso_tui.services.context import Context
from incasso_tui.services.positions import loan_positions
from incasso_tui.store.models import Arrangement, ArrangementLine, Case, Loan

# cases in these statuses cannot get a new arrangement (who may write at all: services.access)
_CLOSED_TO_DESK = {
    CaseStatus.INSOLVENCY.value: N_("The client is in a debt-relief or insolvency track: no arrangements"),
    CaseStatus.CLOSED.value: N_("The case is closed"),
    # an approved deferral is not overridden by an arrangement (whose missed line would end the deferral)
    CaseStatus.DEFERRAL.value: N_("The case has an approved deferral of repayment: no arrangement while it runs"),
}


@dataclass(frozen=True)
class ArrangementInput:
    """What the employee typed (already parsed); ``count`` or ``installment`` is None."""

    down_payment: Decimal
    first_date: date
    frequency: Frequency
    count: int | None = None
    installment: Decimal | None = None
    capacity_reason: str = ""  # why a plan above the client's capacity is agreed (services.budget.check_plan)


def limits(ctx: Context) -> DeskLimits:
    return DeskLimits(ctx.settings.arrangement_max_installments, ctx.settings.arrangement_min_installment)


def case_arrears(s: Session, case: Case, as_of: date) -> Decimal:
    loan_ids = list(s.scalars(select(Loan.id).where(Loan.client_id == case.client_id)))
    return sum((a.total for a in loan_positions(s, loan_ids, as_of).values()), ZERO)


def _terms(arrears: Decimal, given: ArrangementInput) -> ArrangementTerms:
    return ArrangementTerms(
        arrears=arrears,
        down_payment=given.down_payment,
        first_date=given.first_date,
        frequency=given.frequency,
        count=given.count,
        installment=given.installment,
    )


def preview(ctx: Context, arrears: Decimal, given: ArrangementInput) -> Plan:
    """The plan the input gives, or the RuleViolation that saving it would raise (writes nothing)."""
    return plan_arrangement(_terms(arrears, given), limits(ctx), ctx.clock.today())


def create_arrangement(ctx: Context, case_id: int, expected_version: int, given: ArrangementInput) -> int:
    """Register an arrangement on the case; returns its id. Refusals say why."""
    ctx.require(*CASE_WRITERS)
    today, now = ctx.clock.today(), ctx.clock.now()
    try:
        with ctx.db.transaction() as s:
            case = load_case(s, case_id)
            check_write(ctx, s, case)
            if case.status in _CLOSED_TO_DESK:
                raise RuleViolation(_CLOSED_TO_DESK[case.status])
            if case.version != expected_version:  # first: a colleague's change explains any refusal below
                raise changed_by(case)
            existing = s.scalar(
                select(Arrangement).where(
                    Arrangement.case_id == case.id, Arrangement.status == ArrangementStatus.ACTIVE.value
                )
            )
            if existing is not None:
                raise RuleViolation(
                    N_("The case already has an active arrangement, registered by {name} on {day}"),
                    name=existing.created_by,
                    day=existing.created_at.date(),
                )
            arrears = case_arrears(s, case, today)
            plan = plan_arrangement(_terms(arrears, given), limits(ctx), today)
            capacity = check_plan(ctx, s, case, plan.installment, given.frequency.value, given.capacity_reason)
            arrangement = Arrangement(
                case_id=case.id,
                status=ArrangementStatus.ACTIVE.value,
                arrears_covered=arrears,
                down_payment=plan.down_payment,
                installment_count=plan.count,
                frequency=given.frequency.value,
                first_date=given.first_date,
                created_by=ctx.actor.name,
                created_at=now,
            )
            s.add(arrangement)
            s.flush()
            s.add_all(
                ArrangementLine(arrangement_id=arrangement.id, seq=line.seq, due_date=line.due_date, amount=line.amount)
                for line in plan.lines
            )
            risk.record_arrangement_forbearance(
                ctx, s, case, arrangement.id, today, arrears, [(line.due_date, line.amount) for line in plan.lines]
            )
            before = {"status": case.status, "next_action_date": case.next_action_date}
            move_case(case, next_status(case, CaseStatus.ARRANGEMENT))
            case.next_action_date = plan.lines[0].due_date
            case.next_action, case.next_action_params = NextAction.CHECK_ARRANGEMENT_PAYMENT, None
            case.flag = None
            case.updated_by = ctx.actor.name
            case.updated_at = now
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="arrangement.create",
                entity="arrangement",
                entity_id=arrangement.id,
                case_id=case.id,
                before=before,
                after={
                    "status": case.status,
                    "arrears": arrears,
                    "down_payment": plan.down_payment,
                    "installments": plan.count,
                    "installment": plan.installment,
                    "frequency": given.frequency.value,
                    "first_date": given.first_date,
                    "last_date": plan.last_date,
                    "capacity": capacity,
                },
            )
            s.flush()  # the case's version check (UPDATE ... WHERE version = n) runs here
            return arrangement.id
    except (IntegrityError, StaleDataError):
        # another session changed the case or registered an arrangement between our read and our write
        with ctx.db.reader() as s:
            case = load_case(s, case_id)
            raise changed_by(case) from None
