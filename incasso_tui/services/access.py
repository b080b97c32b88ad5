"""Who may write on a case, by the case's state: one rule for every service that changes a case (issue 13/16).

- The desk (employee, supervisor) writes on the cases it works: not on a case handed over to special management
  (the desk reads it only), not on a closed case.
- Special management writes only on the cases handed over to it and accepted (by any of special management):
  everything the desk can do there and more (a settlement, returning the case). A desk case that was never
  handed over is not theirs to change.
- Everyone else (adviser, auditor, admin) changes no case.

A case special management holds stays ``handed_over`` whatever is registered on it (an arrangement, a track):
:func:`next_status` keeps it out of the desk's worklist and the daily procedure until it is returned.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from incasso_tui.domain.case_status import check_transition
from incasso_tui.domain.enums import CaseStatus, HandoverStatus, Role
from incasso_tui.errors import N_, NotAllowed, RuleViolation
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.store.models import Case, Handover

CASE_WRITERS = (*DESK_WRITERS, Role.SPECIAL_MANAGEMENT)

__all__ = ["CASE_WRITERS", "check_write", "held_by_special_management", "may_write", "move_case", "next_status"]


def _refusal(role: Role, status: str, accepted: bool) -> NotAllowed | RuleViolation | None:
    if status == CaseStatus.CLOSED.value:
        return RuleViolation(N_("The case is closed"))
    if role in DESK_WRITERS:
        if status == CaseStatus.HANDED_OVER.value:
            return RuleViolation(
                N_("The case is handed over to special management: the desk can read it, not change it")
            )
        return None
    if role == Role.SPECIAL_MANAGEMENT:
        if status != CaseStatus.HANDED_OVER.value:
            return NotAllowed(
                N_("Special management changes only the cases handed over to it; this case is the desk's")
            )
        if not accepted:
            return RuleViolation(N_("Accept the handover first (special management's list, a)"))
        return None
    return NotAllowed(N_("Your role ({role}) may not change cases"), role=role.value)


def _accepted(s: Session, case: Case) -> bool:
    return (
        s.scalar(
            select(Handover.id)
            .where(Handover.case_id == case.id, Handover.status == HandoverStatus.ACCEPTED)
            .order_by(Handover.id.desc())
            .limit(1)
        )
        is not None
    )


def check_write(ctx: Context, s: Session, case: Case) -> None:
    """Refuse, with the reason, when the actor may not write on ``case`` in its present state."""
    accepted = case.status == CaseStatus.HANDED_OVER.value and _accepted(s, case)
    refusal = _refusal(ctx.actor.role, case.status, accepted)
    if refusal is not None:
        raise refusal


def may_write(ctx: Context, case_id: int) -> bool:
    """For screens: whether the actor's writing keys apply to the case (the services decide all the same)."""
    with ctx.db.reader() as s:
        case = s.get(Case, case_id)
        if case is None:
            return False
        accepted = case.status == CaseStatus.HANDED_OVER.value and _accepted(s, case)
        return _refusal(ctx.actor.role, case.status, accepted) is None


def held_by_special_management(case: Case) -> bool:
    return case.status == CaseStatus.HANDED_OVER.value


def next_status(case: Case, status: CaseStatus) -> str:
    """The status a change gives the case: ``status``, except that a case special management holds stays with it."""
    return case.status if held_by_special_management(case) else status.value


def move_case(case: Case, status: str) -> None:
    """Give the case ``status`` when the transition table allows it (``domain.case_status``); refused otherwise,
    before anything is written. Every service that changes a case's status goes through here."""
    case.status = check_transition(case.status, status).value
