"""Call tasks made by a person: one case (``create_call_task``) or a campaign's group (``services.campaigns``).

Both go through :func:`add_call_task`, in the caller's transaction:
- only on a case the desk works and may contact: not closed, not handed over, not paused, not in a debt-relief or
  insolvency track (contact then goes through the trustee); a case in an arrangement or a deferral may be called;
- not when the case has an open call task already (the procedure's, or a campaign's run twice);
- the task goes to the case's assignee (none when the case has none, as the procedure's call tasks); its title is
  the note; the due date not in the past;
- when the case's next action lies after the call, the call becomes its next action (so the worklist puts it on
  top on that day); an earlier next action is left alone.
Audit: ``task.create`` with the next action before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from incasso_tui.domain.enums import CaseStatus, NextAction, TaskStatus
from incasso_tui.errors import N_, BadInput, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.access import CASE_WRITERS, check_write
from incasso_tui.services.cases import case_transaction, load_case
from incasso_tui.services.contacts import check_text
from incasso_tui.services.context import Context
from incasso_tui.store.models import Case, Task

__all__ = ["MAX_NOTE", "CallTaskInput", "add_call_task", "create_call_task", "validate_call_task"]

MAX_NOTE = 200  # tasks.title
_NO_CALL = {
    CaseStatus.CLOSED.value: N_("The case is closed"),
    CaseStatus.HANDED_OVER.value: N_("The case is handed over to special management"),
    CaseStatus.INSOLVENCY.value: N_(
        "The client is in a debt-relief or insolvency track: contact goes through the trustee"
    ),
}


@dataclass(frozen=True)
class CallTaskInput:
    due_date: date | None
    note: str


def validate_call_task(given: CallTaskInput, today: date) -> None:
    if given.due_date is None:
        raise BadInput(N_("When is the call due? Please give a date"), field="due_date")
    if given.due_date < today:
        raise RuleViolation(N_("The due date may not be in the past"), field="due_date")
    check_text(given.note, "note", required=True, maximum=MAX_NOTE)


def add_call_task(ctx: Context, s: Session, case: Case, given: CallTaskInput) -> tuple[int, list[audit.Event]]:
    """The call task on ``case`` (validated input), in the caller's transaction; returns its id and its audit event."""
    check_write(ctx, s, case)  # past it, a handed-over case is special management's own
    if case.status in _NO_CALL and case.status != CaseStatus.HANDED_OVER.value:
        raise RuleViolation(_NO_CALL[case.status])
    if case.status == CaseStatus.PAUSED.value:
        raise RuleViolation(N_("The case is paused until {until}"), until=case.pause_until or ctx.clock.today())
    due = s.scalar(
        select(Task.due_date)
        .where(Task.case_id == case.id, Task.kind == "call", Task.status == TaskStatus.OPEN)
        .order_by(Task.due_date)
        .limit(1)
    )
    if due is not None:
        raise RuleViolation(N_("The case has an open call task due {due} already"), due=due)
    assert given.due_date is not None  # validate_call_task
    now = ctx.clock.now()
    title = given.note.strip()
    task = Task(
        case_id=case.id,
        kind="call",
        title=title,
        due_date=given.due_date,
        status="open",
        assignee_id=case.assignee_id,
        created_by=ctx.actor.name,
        created_at=now,
    )
    s.add(task)
    before = {
        "next_action_date": case.next_action_date,
        "next_action": case.next_action,
        "next_action_params": case.next_action_params,
    }
    if case.next_action_date > given.due_date:  # the typed note becomes the next action: free text
        case.next_action_date = given.due_date
        case.next_action, case.next_action_params = NextAction.FREE, {"text": title}
        case.updated_by, case.updated_at = ctx.actor.name, now
    s.flush()  # the case's version check runs here
    event = audit.Event(
        at=now,
        actor=ctx.actor.name,
        action="task.create",
        entity="task",
        entity_id=task.id,
        case_id=case.id,
        before=before,
        after={
            "kind": "call",
            "title": title,
            "due_date": given.due_date,
            "assignee_id": task.assignee_id,
            "next_action_date": case.next_action_date,
        },
    )
    return task.id, [event]


def create_call_task(ctx: Context, case_id: int, given: CallTaskInput) -> int:
    """A call task on one case (see the module docstring); returns the task's id."""
    ctx.require(*CASE_WRITERS)
    validate_call_task(given, ctx.clock.today())
    with case_transaction(ctx, case_id) as s:
        case = load_case(s, case_id)
        task_id, events = add_call_task(ctx, s, case, given)
        audit.record_many(s, events)
        return task_id
