"""The task inbox ("agenda", issue 13): every follow-up is a task with an owner and a due date.

Kinds: ``call`` (one case or a campaign), ``claim_filing`` (a track's claim deadline), ``follow_up`` (the next
action a contact set), ``promise_check`` (a promise to pay falls due), ``handover_review`` (special management's,
unassigned until accepted), ``consultation`` / ``consultation_answer`` (services.consultations),
``meeting_action`` (the team meeting's decisions, services.discussion).

- Who sees what: everyone their own open tasks; special management also the unassigned handover reviews; a
  supervisor (and the auditor, the admin) the whole team's, filtered by user.
- Complete (with an outcome), move (to a date not in the past, with a reason), assign: the task's owner, or a
  supervisor; an unassigned task by whoever takes it. A supervisor assigns to anyone who works tasks, everyone
  else only to themselves. Every change is audited (``task.done``, ``task.move``, ``task.assign``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from incasso_tui.domain.enums import NextAction, Role, TaskStatus
from incasso_tui.errors import N_, BadInput, NotAllowed, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.contacts import check_text
from incasso_tui.services.context import Context
from incasso_tui.store.models import Case, Client, Task, User

__all__ = [
    "DUE",
    "KINDS",
    "TaskRow",
    "add_task",
    "assign_task",
    "complete_task",
    "list_tasks",
    "move_task",
    "overdue_per_user",
    "task",
]

Due = Literal["overdue", "today", "week"]
DUE: tuple[Due, ...] = ("overdue", "today", "week")
KINDS = (
    "call",
    "claim_filing",
    "follow_up",
    "promise_check",
    "handover_review",
    "consultation",
    "consultation_answer",
    "meeting_action",
)
TEAM_VIEW = (Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
TASK_OWNERS = (Role.EMPLOYEE, Role.SUPERVISOR, Role.SPECIAL_MANAGEMENT, Role.ADVISER)
MAX_OUTCOME = 500
MAX_ROWS = 500


@dataclass(frozen=True)
class TaskRow:
    id: int
    case_id: int
    client_name: str
    kind: str
    title: str
    due_date: date
    status: str
    assignee: str | None
    created_by: str
    ref: str | None
    outcome: str | None
    # a task made by the code: its subject (a domain.enums.NextAction code, "free" for a typed title) and parameters
    subject: str = "free"
    subject_params: dict[str, str] | None = None

    def bucket(self, today: date) -> str:
        """overdue | today | week | later: the inbox's groups."""
        if self.due_date < today:
            return "overdue"
        if self.due_date == today:
            return "today"
        return "week" if self.due_date < today + timedelta(days=7) else "later"


def _row(t: Task, name: str, assignee: str | None) -> TaskRow:
    return TaskRow(
        t.id,
        t.case_id,
        name,
        t.kind,
        t.title,
        t.due_date,
        t.status,
        assignee,
        t.created_by,
        t.ref,
        t.outcome,
        t.subject,
        t.subject_params,
    )


def _user(s: Session, name: str) -> User:
    user = s.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(N_("There is no user {name}"), name=name)
    return user


def list_tasks(ctx: Context, *, user: str | None = None, due: str | None = None, status: str = "open") -> list[TaskRow]:
    """Open tasks by due date. ``user``: one user's (a supervisor's choice; anyone may name themselves);
    without it a supervisor sees the team's, everyone else their own. ``due``: overdue | today | week."""
    today = ctx.clock.today()
    if due is not None and due not in DUE:
        raise BadInput(N_("Unknown due filter {due}: overdue, today or week"), field="due", due=due)
    if user is not None and user != ctx.actor.name and ctx.actor.role not in TEAM_VIEW:
        raise NotAllowed(N_("Only a supervisor sees another user's tasks"))
    assignee = User.__table__.alias("assignee")
    query = (
        select(Task, Client.name, assignee.c.name)
        .join(Case, Case.id == Task.case_id)
        .join(Client, Client.id == Case.client_id)
        .outerjoin(assignee, assignee.c.id == Task.assignee_id)
        .where(Task.status == status)
    )
    with ctx.db.reader() as s:
        if user is not None:
            query = query.where(Task.assignee_id == _user(s, user).id)
        elif ctx.actor.role == Role.SPECIAL_MANAGEMENT:
            query = query.where(
                or_(Task.assignee_id == ctx.actor.id, (Task.assignee_id.is_(None)) & (Task.kind == "handover_review"))
            )
        elif ctx.actor.role not in TEAM_VIEW:
            query = query.where(Task.assignee_id == ctx.actor.id)
        if due == "overdue":
            query = query.where(Task.due_date < today)
        elif due == "today":
            query = query.where(Task.due_date <= today)  # what is to be done today: today's and the overdue
        elif due == "week":
            query = query.where(Task.due_date < today + timedelta(days=7))
        rows = s.execute(query.order_by(Task.due_date, Task.id).limit(MAX_ROWS))
        return [_row(t, name, who) for t, name, who in rows]


def task(ctx: Context, task_id: int) -> TaskRow:
    with ctx.db.reader() as s:
        t = _load(s, task_id)
        name = s.scalar(select(Client.name).join(Case, Case.client_id == Client.id).where(Case.id == t.case_id))
        who = s.get(User, t.assignee_id).name if t.assignee_id else None  # type: ignore[union-attr]
        return _row(t, name or "", who)


def _load(s: Session, task_id: int) -> Task:
    t = s.get(Task, task_id)
    if t is None:
        raise NotFound(N_("There is no task {id}"), id=task_id)
    return t


def _open_for(ctx: Context, s: Session, task_id: int) -> Task:
    """The open task, if the actor may change it: its owner, a supervisor, anyone who works tasks when unassigned."""
    ctx.require(*TASK_OWNERS)
    t = _load(s, task_id)
    if t.status != "open":
        raise RuleViolation(N_("Task {id} is {status} already"), id=t.id, status=t.status)
    if t.assignee_id not in (None, ctx.actor.id) and ctx.actor.role != Role.SUPERVISOR:
        owner = s.get(User, t.assignee_id)
        raise NotAllowed(
            N_("Task {id} is {name}'s: only they or a supervisor can change it"),
            id=t.id,
            name=owner.name if owner else "?",
        )
    return t


def close_task(ctx: Context, s: Session, t: Task, outcome: str, now: datetime, *, status: str = "done") -> None:
    """Complete ``t`` in the caller's transaction, audited (what completing, a consultation's answer and accepting
    a handover share)."""
    t.status, t.outcome, t.done_by, t.done_at = status, outcome, ctx.actor.name, now
    audit.record(
        s,
        at=now,
        actor=ctx.actor.name,
        action="task.done",
        entity="task",
        entity_id=t.id,
        case_id=t.case_id,
        before={"status": "open"},
        after={"status": status, "kind": t.kind, "outcome": outcome},
    )


def complete_task(ctx: Context, task_id: int, outcome: str) -> None:
    """Mark the task done with what came of it."""
    text = check_text(outcome, "outcome", required=True, maximum=MAX_OUTCOME)
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        t = _open_for(ctx, s, task_id)
        if t.kind == "consultation":
            raise RuleViolation(N_("A consultation is completed by answering it (the case's consultations, a)"))
        close_task(ctx, s, t, text, now)


def move_task(ctx: Context, task_id: int, to: date | None, reason: str) -> None:
    """Move the task's due date (not into the past) with the reason."""
    if to is None:
        raise BadInput(N_("To which date? Please give one"), field="to")
    if to < ctx.clock.today():
        raise RuleViolation(N_("A task cannot be moved into the past ({day})"), field="to", day=to)
    why = check_text(reason, "reason", required=True, maximum=MAX_OUTCOME)
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        t = _open_for(ctx, s, task_id)
        before = t.due_date
        if before == to:
            raise RuleViolation(N_("The task is due on {day} already"), field="to", day=to)
        t.due_date = to
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="task.move",
            entity="task",
            entity_id=t.id,
            case_id=t.case_id,
            before={"due_date": before},
            after={"due_date": to, "reason": why},
        )


def assign_task(ctx: Context, task_id: int, user: str) -> None:
    """Give the task to ``user``: a supervisor to anyone who works tasks, everyone else to themselves."""
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        t = _open_for(ctx, s, task_id)
        target = _user(s, user)
        if not target.active or target.role not in {r.value for r in TASK_OWNERS}:
            raise RuleViolation(N_("{name} cannot be given tasks (role {role})"), name=target.name, role=target.role)
        if target.id != ctx.actor.id and ctx.actor.role != Role.SUPERVISOR:
            raise NotAllowed(N_("Only a supervisor gives a task to someone else; you can take it yourself"))
        if t.assignee_id == target.id:
            raise RuleViolation(N_("Task {id} is {name}'s already"), id=t.id, name=target.name)
        before = t.assignee_id
        t.assignee_id = target.id
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="task.assign",
            entity="task",
            entity_id=t.id,
            case_id=t.case_id,
            before={"assignee_id": before},
            after={"assignee_id": target.id, "assignee": target.name},
        )


def add_task(
    ctx: Context,
    s: Session,
    case_id: int,
    kind: str,
    title: str,
    due: date,
    assignee_id: int | None,
    *,
    ref: str | None = None,
    subject: NextAction = NextAction.FREE,
    subject_params: dict[str, str] | None = None,
) -> Task:
    """A task in the caller's transaction, audited (``task.create``). ``title`` is text a person typed (or, until
    those have a code too, a sentence of the code); a coded ``subject`` (with its parameters) has no title."""
    now = ctx.clock.now()
    t = Task(
        case_id=case_id,
        kind=kind,
        title="" if subject is not NextAction.FREE else title[:200],
        subject=subject,
        subject_params=subject_params,
        due_date=due,
        status="open",
        assignee_id=assignee_id,
        created_by=ctx.actor.name,
        created_at=now,
        ref=ref,
    )
    s.add(t)
    s.flush()
    audit.record(
        s,
        at=now,
        actor=ctx.actor.name,
        action="task.create",
        entity="task",
        entity_id=t.id,
        case_id=case_id,
        after={
            "kind": kind,
            "title": t.title,
            "subject": subject,
            "subject_params": subject_params,
            "due_date": due,
            "assignee_id": assignee_id,
        },
    )
    return t


def replace_follow_up(
    ctx: Context,
    s: Session,
    case: Case,
    kind: str,
    subject: NextAction,
    params: dict[str, str] | None,
    due: date,
) -> Task:
    """The case's one open task of ``kind`` (follow_up, promise_check) becomes this one: an older one is
    cancelled (the new contact replaced it), in the caller's transaction."""
    now = ctx.clock.now()
    for old in s.scalars(
        select(Task).where(Task.case_id == case.id, Task.kind == kind, Task.status == TaskStatus.OPEN)
    ):
        close_task(ctx, s, old, "Vervangen door een nieuw contact", now, status="cancelled")
    owner = case.assignee_id if case.assignee_id is not None else ctx.actor.id
    if subject is NextAction.FREE:  # a typed next action is the task's title
        return add_task(ctx, s, case.id, kind, (params or {}).get("text", ""), due, owner)
    return add_task(ctx, s, case.id, kind, "", due, owner, subject=subject, subject_params=params)


def overdue_per_user(s: Session, today: date) -> dict[str, int]:
    """Open tasks past their due date per owner's name ("" for the unassigned): the dashboard's count."""
    from sqlalchemy import func

    rows = s.execute(
        select(User.name, func.count())
        .select_from(Task)
        .outerjoin(User, User.id == Task.assignee_id)
        .where(Task.status == TaskStatus.OPEN, Task.due_date < today)
        .group_by(User.name)
    )
    return {name or "": n for name, n in rows}
