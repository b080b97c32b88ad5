"""The team meeting's discussion list ("bespreken", issue 13).

Anyone who reads a case puts it on the list with a question; a supervisor's screen lists the open items and
records the meeting's decision: the text, and who does what by when, each of which becomes a ``meeting_action``
task in that user's inbox. Audited: ``discussion.raise``, ``discussion.decide``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_, BadInput, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.cases import load_case
from incasso_tui.services.contacts import check_text
from incasso_tui.services.context import Context
from incasso_tui.services.inbox import TASK_OWNERS, add_task
from incasso_tui.store.models import Case, Client, DiscussionItem, User

__all__ = ["Action", "DiscussionRow", "decide", "items", "raise_item"]

RAISERS = (Role.EMPLOYEE, Role.SUPERVISOR, Role.SPECIAL_MANAGEMENT, Role.ADVISER)
MAX_TEXT = 2000


@dataclass(frozen=True)
class Action:
    """One thing the meeting decided: who does it, what, by when."""

    user: str
    what: str
    due: date | None


@dataclass(frozen=True)
class DiscussionRow:
    id: int
    case_id: int
    client_name: str
    question: str
    raised_by: str
    raised_at: datetime
    status: str
    decision: str | None
    decided_by: str | None


def raise_item(ctx: Context, case_id: int, question: str) -> int:
    """Put the case on the team meeting's list with a question."""
    ctx.require(*RAISERS)
    text = check_text(question, "question", required=True, maximum=MAX_TEXT)
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        case = load_case(s, case_id)
        if (
            s.scalar(
                select(DiscussionItem.id).where(DiscussionItem.case_id == case.id, DiscussionItem.status == "open")
            )
            is not None
        ):
            raise RuleViolation(N_("The case is on the discussion list already"))
        row = DiscussionItem(case_id=case.id, question=text, raised_by=ctx.actor.name, raised_at=now, status="open")
        s.add(row)
        s.flush()
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="discussion.raise",
            entity="discussion",
            entity_id=row.id,
            case_id=case.id,
            after={"question": text},
        )
        return row.id


def items(ctx: Context, *, status: str = "open") -> list[DiscussionRow]:
    """The list for the meeting (oldest first)."""
    with ctx.db.reader() as s:
        rows = s.execute(
            select(DiscussionItem, Client.name)
            .join(Case, Case.id == DiscussionItem.case_id)
            .join(Client, Client.id == Case.client_id)
            .where(DiscussionItem.status == status)
            .order_by(DiscussionItem.raised_at, DiscussionItem.id)
            .limit(500)
        )
        return [
            DiscussionRow(
                d.id, d.case_id, name, d.question, d.raised_by, d.raised_at, d.status, d.decision, d.decided_by
            )
            for d, name in rows
        ]


def decide(ctx: Context, item_id: int, decision: str, actions: list[Action]) -> list[int]:
    """A supervisor records the meeting's decision; every action becomes a task. Returns the tasks' ids."""
    ctx.require(Role.SUPERVISOR)
    text = check_text(decision, "decision", required=True, maximum=MAX_TEXT)
    today, now = ctx.clock.today(), ctx.clock.now()
    for a in actions:
        check_text(a.what, "what", required=True, maximum=200)
        if a.due is None:
            raise BadInput(N_("By when? Please give a date"), field="due")
        if a.due < today:
            raise RuleViolation(N_("The due date may not be in the past"), field="due")
    with ctx.db.transaction() as s:
        row = s.get(DiscussionItem, item_id)
        if row is None:
            raise NotFound(N_("There is no discussion item {id}"), id=item_id)
        if row.status != "open":
            raise RuleViolation(N_("This item was decided by {name} already"), name=row.decided_by or "?")
        tasks = []
        for a in actions:
            user = s.scalar(select(User).where(User.name == a.user))
            if user is None:
                raise NotFound(N_("There is no user {name}"), name=a.user)
            if not user.active or user.role not in {r.value for r in TASK_OWNERS}:
                raise RuleViolation(N_("{name} cannot be given tasks (role {role})"), name=user.name, role=user.role)
            assert a.due is not None
            tasks.append(
                add_task(
                    ctx, s, row.case_id, "meeting_action", a.what.strip(), a.due, user.id, ref=f"discussion:{row.id}"
                ).id
            )
        row.status, row.decision, row.decided_by, row.decided_at = "decided", text, ctx.actor.name, now
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="discussion.decide",
            entity="discussion",
            entity_id=row.id,
            case_id=row.case_id,
            before={"status": "open"},
            after={
                "decision": text,
                "tasks": tasks,
                "actions": [{"user": a.user, "what": a.what.strip(), "due": a.due} for a in actions],
            },
        )
        return tasks
