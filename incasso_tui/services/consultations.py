"""Consulting the client's business adviser or special management about a case (issue 13).

- Asked from a case by whoever may write on it (services.access): the question goes to the client's adviser
  (``client_advisers``) or to a user of special management, nobody else; it lands in their inbox as a
  ``consultation`` task (due in two days).
- Answered by the one asked: the answer is kept on the consultation (the case shows it), their task is done, and
  a ``consultation_answer`` task returns to whoever asked, due the same day. Audited both ways
  (``consultation.ask``, ``consultation.answer``).
- An adviser reads the cases of their own clients (services.cases.client_detail refuses the others) and changes
  nothing else on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from incasso_tui.domain.enums import CaseStatus, NextAction, Role, TaskStatus
from incasso_tui.errors import N_, NotAllowed, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.access import CASE_WRITERS, check_write
from incasso_tui.services.cases import load_case
from incasso_tui.services.contacts import check_text
from incasso_tui.services.context import Context
from incasso_tui.services.inbox import add_task, close_task
from incasso_tui.store.models import Case, Client, ClientAdviser, Consultation, Task, User

__all__ = [
    "ANSWER_DAYS",
    "AdvisedCase",
    "ConsultationRow",
    "advised_cases",
    "advisers_for",
    "answer",
    "ask",
    "consultations",
    "is_adviser_of",
]

ANSWER_DAYS = 2  # the consultation task is due this many days after it was asked
MAX_TEXT = 2000


@dataclass(frozen=True)
class ConsultationRow:
    id: int
    case_id: int
    client_name: str
    asked_by: str
    asked_of: str
    asked_of_role: str
    question: str
    asked_at: datetime
    status: str
    answer: str | None
    answered_at: datetime | None


def is_adviser_of(s: Session, user_id: int, client_id: int) -> bool:
    return (
        s.scalar(
            select(ClientAdviser.client_id).where(
                ClientAdviser.client_id == client_id, ClientAdviser.adviser_id == user_id
            )
        )
        is not None
    )


def advisers_for(ctx: Context, case_id: int) -> list[tuple[str, str, str]]:
    """Whom a consultation on the case can go to: (name, full name, role), the client's adviser first."""
    with ctx.db.reader() as s:
        case = load_case(s, case_id)
        rows = list(
            s.execute(
                select(User.name, User.full_name, User.role)
                .join(ClientAdviser, ClientAdviser.adviser_id == User.id)
                .where(ClientAdviser.client_id == case.client_id, User.active.is_(True))
            )
        )
        rows += s.execute(
            select(User.name, User.full_name, User.role)
            .where(User.role == Role.SPECIAL_MANAGEMENT.value, User.active.is_(True), User.id != ctx.actor.id)
            .order_by(User.name)
        ).all()
        return [(n, f, r) for n, f, r in rows]


def ask(ctx: Context, case_id: int, to: str, question: str) -> int:
    """Ask ``to`` (the client's adviser or special management) a question on the case; returns the consultation."""
    ctx.require(*CASE_WRITERS)
    text = check_text(question, "question", required=True, maximum=MAX_TEXT)
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        case = load_case(s, case_id)
        check_write(ctx, s, case)
        target = s.scalar(select(User).where(User.name == to))
        if target is None:
            raise NotFound(N_("There is no user {name}"), name=to)
        if target.id == ctx.actor.id:
            raise RuleViolation(N_("You cannot consult yourself"), field="to")
        if target.role == Role.ADVISER.value:
            if not is_adviser_of(s, target.id, case.client_id):
                raise RuleViolation(N_("{name} is not this client's adviser"), field="to", name=target.name)
        elif target.role != Role.SPECIAL_MANAGEMENT.value:
            raise RuleViolation(
                N_("A consultation goes to the client's adviser or to special management, not to {name} ({role})"),
                field="to",
                name=target.name,
                role=target.role,
            )
        if not target.active:
            raise RuleViolation(N_("{name} is no longer active"), field="to", name=target.name)
        row = Consultation(
            case_id=case.id, asked_by_id=ctx.actor.id, asked_of_id=target.id, question=text, asked_at=now, status="open"
        )
        s.add(row)
        s.flush()
        add_task(
            ctx,
            s,
            case.id,
            "consultation",
            "",
            ctx.clock.today() + timedelta(days=ANSWER_DAYS),
            target.id,
            ref=f"consultation:{row.id}",
            subject=NextAction.CONSULTATION_QUESTION,
            subject_params={"by": ctx.actor.name, "text": text},
        )
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="consultation.ask",
            entity="consultation",
            entity_id=row.id,
            case_id=case.id,
            after={"to": target.name, "question": text},
        )
        return row.id


def answer(ctx: Context, consultation_id: int, text: str) -> None:
    """The one asked answers: kept on the case, their task done, a task back to whoever asked."""
    body = check_text(text, "answer", required=True, maximum=MAX_TEXT)
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        row = s.get(Consultation, consultation_id)
        if row is None:
            raise NotFound(N_("There is no consultation {id}"), id=consultation_id)
        if row.asked_of_id != ctx.actor.id:
            raise NotAllowed(N_("Only the one asked answers a consultation"))
        if row.status != "open":
            raise RuleViolation(N_("This consultation was answered already"))
        row.status, row.answer, row.answered_at = "answered", body, now
        for t in s.scalars(select(Task).where(Task.ref == f"consultation:{row.id}", Task.status == TaskStatus.OPEN)):
            close_task(ctx, s, t, body, now)
        add_task(
            ctx,
            s,
            row.case_id,
            "consultation_answer",
            "",
            ctx.clock.today(),
            row.asked_by_id,
            ref=f"consultation:{row.id}",
            subject=NextAction.CONSULTATION_ANSWER,
            subject_params={"by": ctx.actor.name, "text": body},
        )
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="consultation.answer",
            entity="consultation",
            entity_id=row.id,
            case_id=row.case_id,
            before={"status": "open"},
            after={"status": "answered", "answer": body},
        )


def consultations(ctx: Context, *, case_id: int | None = None, mine: bool = False) -> list[ConsultationRow]:
    """A case's consultations (newest first), or the ones asked of the actor (``mine``)."""
    asker, asked = User.__table__.alias("asker"), User.__table__.alias("asked")
    query = (
        select(Consultation, Client.name, asker.c.name, asked.c.name, asked.c.role)
        .join(Case, Case.id == Consultation.case_id)
        .join(Client, Client.id == Case.client_id)
        .join(asker, asker.c.id == Consultation.asked_by_id)
        .join(asked, asked.c.id == Consultation.asked_of_id)
    )
    if case_id is not None:
        query = query.where(Consultation.case_id == case_id)
    if mine or ctx.actor.role == Role.ADVISER:
        query = query.where(Consultation.asked_of_id == ctx.actor.id)
    with ctx.db.reader() as s:
        return [
            ConsultationRow(
                c.id, c.case_id, name, by, of, role, c.question, c.asked_at, c.status, c.answer, c.answered_at
            )
            for c, name, by, of, role in s.execute(query.order_by(Consultation.id.desc()).limit(200))
        ]


@dataclass(frozen=True)
class AdvisedCase:
    case_id: int
    client_number: str
    client_name: str
    status: str
    stage: str
    arrears: object  # Decimal
    open_consultations: int


def advised_cases(ctx: Context) -> list[AdvisedCase]:
    """The adviser's own clients' open cases (read-only for them), with the consultations waiting for them."""
    from sqlalchemy import func

    ctx.require(Role.ADVISER)
    waiting = (
        select(func.count())
        .where(Consultation.case_id == Case.id, Consultation.asked_of_id == ctx.actor.id, Consultation.status == "open")
        .correlate(Case)
        .scalar_subquery()
    )
    query = (
        select(Case.id, Client.number, Client.name, Case.status, Case.stage, Case.pos_arrears, waiting)
        .join(Client, Client.id == Case.client_id)
        .join(ClientAdviser, ClientAdviser.client_id == Client.id)
        .where(ClientAdviser.adviser_id == ctx.actor.id, Case.status != CaseStatus.CLOSED)
        .order_by(Case.pos_arrears.desc(), Case.id)
        .limit(500)
    )
    with ctx.db.reader() as s:
        return [AdvisedCase(*row) for row in s.execute(query)]
