"""Assigning a case to an employee: one case (``assign_case``) or a campaign's group (``services.campaigns``).

Supervisors only. Both go through :func:`desk_employee` (who may receive cases) and :func:`assign_in` (the case):
- the employee is a registered, active user whose role works the desk's cases (employee or supervisor);
- the case is on the desk: not closed, not handed over to special management (they assign their own);
- a case already assigned to that employee is refused (nothing would change), so a repeated run says so;
- the case's open tasks that were the previous assignee's (or nobody's) go along to the new one.
Audit: ``case.assign`` with the assignee before and after and the tasks moved.
"""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from incasso_tui.domain.enums import CaseStatus, Role, TaskStatus
from incasso_tui.errors import N_, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.cases import case_transaction, load_case
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.store.models import Case, Task, User

__all__ = ["ASSIGNERS", "assign_case", "assign_in", "desk_employee", "desk_employees"]

ASSIGNERS = (Role.SUPERVISOR,)
_NOT_ON_DESK = {
    CaseStatus.CLOSED.value: N_("The case is closed"),
    CaseStatus.HANDED_OVER.value: N_("The case is handed over to special management"),
}


def desk_employees(ctx: Context) -> list[tuple[str, str]]:
    """(name, full name) of every active user who may be given cases, by name (for the screens' choices)."""
    with ctx.db.reader() as s:
        return [
            (name, full)
            for name, full in s.execute(
                select(User.name, User.full_name)
                .where(User.active.is_(True), User.role.in_([r.value for r in DESK_WRITERS]))
                .order_by(User.name)
            )
        ]


def desk_employee(s: Session, name: str) -> User:
    """The user ``name``, who must be active and work the desk's cases."""
    user = s.scalar(select(User).where(User.name == name.strip()))
    if user is None:
        raise NotFound(N_("Unknown user {name}"), field="employee", name=name)
    if not user.active:
        raise RuleViolation(N_("User {name} is disabled"), field="employee", name=user.name)
    if user.role not in {r.value for r in DESK_WRITERS}:
        raise RuleViolation(
            N_("{name} does not work the desk's cases (role {role})"), field="employee", name=user.name, role=user.role
        )
    return user


def assign_in(ctx: Context, s: Session, case: Case, user: User) -> list[audit.Event]:
    """Assign ``case`` to ``user`` (from :func:`desk_employee`) in the caller's transaction; returns the audit event."""
    if case.status in _NOT_ON_DESK:
        raise RuleViolation(_NOT_ON_DESK[case.status])
    if case.assignee_id == user.id:
        raise RuleViolation(N_("The case is assigned to {name} already"), name=user.name)
    now = ctx.clock.now()
    before = case.assignee_id
    moved = (
        s.execute(
            update(Task)
            .where(
                Task.case_id == case.id,
                Task.status == TaskStatus.OPEN,
                or_(Task.assignee_id.is_(None), Task.assignee_id == before)
                if before is not None
                else Task.assignee_id.is_(None),
            )
            .values(assignee_id=user.id)
            .returning(Task.id)
        )
        .scalars()
        .all()
    )
    case.assignee_id = user.id
    case.updated_by, case.updated_at = ctx.actor.name, now
    s.flush()  # the case's version check runs here
    return [
        audit.Event(
            at=now,
            actor=ctx.actor.name,
            action="case.assign",
            entity="case",
            entity_id=case.id,
            case_id=case.id,
            before={"assignee_id": before},
            after={"assignee_id": user.id, "assignee": user.name, "tasks": sorted(moved)},
        )
    ]


def assign_case(ctx: Context, case_id: int, employee: str) -> None:
    """Assign one case to ``employee`` (see the module docstring)."""
    ctx.require(*ASSIGNERS)
    with case_transaction(ctx, case_id) as s:
        user = desk_employee(s, employee)
        case = load_case(s, case_id)
        audit.record_many(s, assign_in(ctx, s, case, user))
