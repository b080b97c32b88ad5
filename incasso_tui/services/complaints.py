"""The complaints register (issue 19): complaints and disputes recorded on the case, with their terms and tasks.

- ``add_complaint``: received when, by which channel, about what, handled by whom. The terms come from
  ``data/complaints.toml`` (``domain.complaints``): an acknowledgement task due ``acknowledge_working_days`` working
  days after receipt and a final-answer task due ``answer_weeks`` weeks after receipt (the term Kifid applies), both
  in the tasks table for the handler, so they show in the task inbox.
- ``acknowledge``: the acknowledgement was sent; its task is done.
- ``answer``: the final answer with its outcome; the Kifid sentence of the terms (in the client's language) is
  added to the recorded answer when the text does not mention Kifid; both tasks are done.
- A **dispute** about the claim holds the case while it is open: the daily run takes no automatic step and posts
  no costs on it (``open_dispute``, ANDed into the run's steps through ``services.external.outside_desk_hold``), and
  a dunning letter by hand is refused (``check_no_open_dispute``). The dispute covers the case's whole claim: the
  register does not split a claim into a disputed and an undisputed part.
- ``report``: per period, the count per kind, the outcomes, and the days to answer; ``overdue`` feeds the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ColumnElement

from incasso_tui.domain import complaints as dc
from incasso_tui.domain.enums import Channel, Role, TaskStatus
from incasso_tui.errors import N_, BadInput, NotFound, RuleViolation, StaleData
from incasso_tui.services import audit
from incasso_tui.services.cases import load_case
from incasso_tui.services.context import Context
from incasso_tui.store.models import Case, Client, Complaint, Task, User

__all__ = [
    "ComplaintInput",
    "ComplaintRow",
    "ComplaintsReport",
    "acknowledge",
    "add_complaint",
    "answer",
    "check_no_open_dispute",
    "complaints",
    "open_dispute",
    "overdue",
    "report",
]

WRITERS = (Role.EMPLOYEE, Role.SUPERVISOR, Role.SPECIAL_MANAGEMENT)
READERS = (*WRITERS, Role.ADMIN, Role.AUDITOR)
TASK_ACK, TASK_ANSWER = "complaint_ack", "complaint_answer"
MAX_ABOUT = 2000


def open_dispute() -> ColumnElement[bool]:
    """SQL: the case (``cases.id``) has an open dispute."""
    return exists().where(Complaint.case_id == Case.id, Complaint.kind == "dispute", Complaint.status == "open")


def check_no_open_dispute(s: Session, case_id: int) -> None:
    received = s.scalar(
        select(Complaint.received_on)
        .where(Complaint.case_id == case_id, Complaint.kind == "dispute", Complaint.status == "open")
        .limit(1)
    )
    if received is not None:
        raise RuleViolation(
            N_("The client disputes the claim (received {day}): no dunning while the dispute is open"), day=received
        )


@dataclass(frozen=True)
class ComplaintInput:
    kind: str  # complaint | dispute
    received_on: date | None
    channel: str
    about: str
    handled_by: str | None = None  # a user name; default the one recording it


@dataclass(frozen=True)
class ComplaintRow:
    id: int
    case_id: int
    client_name: str
    kind: str
    received_on: date
    channel: str
    about: str
    handled_by: str
    status: str
    acknowledge_by: date
    answer_by: date
    acknowledged_on: date | None
    answered_on: date | None
    outcome: str | None
    answer: str | None
    version: int

    def overdue(self, today: date) -> tuple[bool, bool]:
        """(acknowledgement overdue, answer overdue) as of ``today``."""
        return (
            self.acknowledged_on is None and self.status == "open" and today > self.acknowledge_by,
            self.status == "open" and today > self.answer_by,
        )


def _row(c: Complaint, name: str) -> ComplaintRow:
    return ComplaintRow(
        c.id,
        c.case_id,
        name,
        c.kind,
        c.received_on,
        c.channel,
        c.about,
        c.handled_by,
        c.status,
        c.acknowledge_by,
        c.answer_by,
        c.acknowledged_on,
        c.answered_on,
        c.outcome,
        c.answer,
        c.version,
    )


def _terms(ctx: Context) -> dc.ComplaintTerms:
    return dc.load_terms(ctx.settings.complaint_terms_file)


def add_complaint(ctx: Context, case_id: int, given: ComplaintInput) -> int:
    """Record a complaint or dispute with its acknowledgement and answer tasks; returns its id.

    Whoever receives a complaint records it, whatever the case's state: also the desk on a case handed over to
    special management (``services.access.check_write`` is not asked on purpose). A complaint that was not recorded
    because the case "belongs to" another team would miss its legal terms; its acknowledgement and answer tasks go
    to the handler named (by default the one who records it)."""
    ctx.require(*WRITERS)
    today = ctx.clock.today()
    if given.kind not in dc.KINDS:
        raise BadInput(N_("The kind must be complaint or dispute"), field="kind")
    if given.received_on is None:
        raise BadInput(N_("When was it received? Please give a date"), field="received")
    if given.received_on > today:
        raise RuleViolation(N_("The day of receipt may not be in the future"), field="received")
    if given.channel not in tuple(c.value for c in Channel):
        raise BadInput(
            N_("Unknown channel {channel} (known: {known})"),
            field="channel",
            channel=given.channel,
            known=", ".join(c.value for c in Channel),
        )
    about = (given.about or "").strip()
    if not about:
        raise BadInput(N_("Say what the complaint is about"), field="about")
    if len(about) > MAX_ABOUT:
        raise BadInput(N_("The text is longer than {limit} characters"), field="about", limit=MAX_ABOUT)
    terms = _terms(ctx)
    ack_by, answer_by = dc.deadlines(given.received_on, terms)
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        case = load_case(s, case_id)
        handler = s.scalar(select(User).where(User.name == (given.handled_by or ctx.actor.name), User.active.is_(True)))
        if handler is None:
            raise NotFound(N_("There is no active user {name}"), field="handled_by", name=given.handled_by)
        row = Complaint(
            case_id=case.id,
            kind=given.kind,
            received_on=given.received_on,
            channel=given.channel,
            about=about,
            handled_by=handler.name,
            status="open",
            acknowledge_by=ack_by,
            answer_by=answer_by,
            created_by=ctx.actor.name,
            created_at=now,
        )
        s.add(row)
        s.flush()
        label = "Klacht" if given.kind == "complaint" else "Betwisting"
        tasks = [
            Task(
                case_id=case.id,
                kind=kind,
                title=f"{label} {row.id}: {what}"[:200],
                due_date=due,
                status="open",
                assignee_id=handler.id,
                created_by=ctx.actor.name,
                created_at=now,
            )
            for kind, what, due in (
                (TASK_ACK, "ontvangst bevestigen", ack_by),
                (TASK_ANSWER, "definitief antwoord (Kifid)", answer_by),
            )
        ]
        s.add_all(tasks)
        s.flush()
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action=f"{given.kind}.add",
            entity="complaint",
            entity_id=row.id,
            case_id=case.id,
            after={
                "received_on": given.received_on,
                "channel": given.channel,
                "about": about,
                "handled_by": handler.name,
                "acknowledge_by": ack_by,
                "answer_by": answer_by,
                "tasks": [t.id for t in tasks],
            },
        )
        return row.id


def _load(s: Session, complaint_id: int, expected_version: int | None) -> Complaint:
    row = s.get(Complaint, complaint_id, with_for_update=True)
    if row is None:
        raise NotFound(N_("There is no complaint {id}"), id=complaint_id)
    if row.status != "open":
        raise RuleViolation(N_("Complaint {id} was answered on {day} already"), id=complaint_id, day=row.answered_on)
    if expected_version is not None and row.version != expected_version:
        raise StaleData(N_("The complaint was changed meanwhile: reopen it"))
    return row


def _close_tasks(ctx: Context, s: Session, row: Complaint, kinds: tuple[str, ...]) -> list[int]:
    tasks = list(
        s.scalars(
            select(Task).where(
                Task.case_id == row.case_id,
                Task.kind.in_(kinds),
                Task.status == TaskStatus.OPEN,
                Task.title.like(f"% {row.id}: %"),
            )
        )
    )
    for t in tasks:
        t.status, t.done_by, t.done_at = "done", ctx.actor.name, ctx.clock.now()
    return [t.id for t in tasks]


def acknowledge(ctx: Context, complaint_id: int, expected_version: int | None = None) -> None:
    """The acknowledgement of receipt was sent today."""
    ctx.require(*WRITERS)
    try:
        with ctx.db.transaction() as s:
            row = _load(s, complaint_id, expected_version)
            if row.acknowledged_on is not None:
                raise RuleViolation(
                    N_("Complaint {id} was acknowledged on {day} already"), id=row.id, day=row.acknowledged_on
                )
            row.acknowledged_on = ctx.clock.today()
            done = _close_tasks(ctx, s, row, (TASK_ACK,))
            s.flush()
            audit.record(
                s,
                at=ctx.clock.now(),
                actor=ctx.actor.name,
                action="complaint.acknowledge",
                entity="complaint",
                entity_id=row.id,
                case_id=row.case_id,
                after={
                    "acknowledged_on": row.acknowledged_on,
                    "tasks_done": done,
                    "on_time": row.acknowledged_on <= row.acknowledge_by,
                },
            )
    except StaleDataError:
        raise StaleData(N_("The complaint was changed meanwhile: reopen it")) from None


def answer(ctx: Context, complaint_id: int, outcome: str, text: str, expected_version: int | None = None) -> str:
    """The final answer; returns the answer as recorded (with the Kifid sentence when the text lacked it)."""
    ctx.require(*WRITERS)
    if outcome not in dc.OUTCOMES:
        raise BadInput(N_("The outcome must be one of {known}"), field="outcome", known=", ".join(dc.OUTCOMES))
    text = (text or "").strip()
    if not text:
        raise BadInput(N_("Write the final answer"), field="text")
    if len(text) > MAX_ABOUT:
        raise BadInput(N_("The text is longer than {limit} characters"), field="text", limit=MAX_ABOUT)
    terms = _terms(ctx)
    today = ctx.clock.today()
    try:
        with ctx.db.transaction() as s:
            row = _load(s, complaint_id, expected_version)
            language = (
                s.scalar(select(Client.language).join(Case, Case.client_id == Client.id).where(Case.id == row.case_id))
                or "nl"
            )
            if "kifid" not in text.lower():
                text = f"{text}\n\n{terms.kifid_notice.get(language, terms.kifid_notice['nl'])}"
            row.status, row.outcome, row.answer, row.answered_on = "answered", outcome, text, today
            if row.acknowledged_on is None:  # the final answer also acknowledges receipt
                row.acknowledged_on = today
            done = _close_tasks(ctx, s, row, (TASK_ACK, TASK_ANSWER))
            s.flush()
            audit.record(
                s,
                at=ctx.clock.now(),
                actor=ctx.actor.name,
                action="complaint.answer",
                entity="complaint",
                entity_id=row.id,
                case_id=row.case_id,
                before={"status": "open"},
                after={
                    "status": "answered",
                    "outcome": outcome,
                    "answered_on": today,
                    "tasks_done": done,
                    "on_time": today <= row.answer_by,
                    "days": (today - row.received_on).days,
                },
            )
            return text
    except StaleDataError:
        raise StaleData(N_("The complaint was changed meanwhile: reopen it")) from None


def complaints(ctx: Context, *, open_only: bool = False, case_id: int | None = None) -> list[ComplaintRow]:
    """The register, oldest answer-by first (open ones before answered ones)."""
    ctx.require(*READERS)
    query = (
        select(Complaint, Client.name)
        .join(Case, Case.id == Complaint.case_id)
        .join(Client, Client.id == Case.client_id)
        .order_by(Complaint.status.desc(), Complaint.answer_by, Complaint.id)
    )
    if open_only:
        query = query.where(Complaint.status == "open")
    if case_id is not None:
        query = query.where(Complaint.case_id == case_id)
    with ctx.db.reader() as s:
        return [_row(c, name) for c, name in s.execute(query)]


@dataclass(frozen=True)
class Overdue:
    open: int
    acknowledgements_overdue: int
    answers_overdue: int


def overdue(ctx: Context) -> Overdue:
    """The dashboard's complaints figure: open ones, and those past their acknowledgement or answer term."""
    ctx.require(*READERS)
    today = ctx.clock.today()
    with ctx.db.reader() as s:
        open_ = s.scalar(select(func.count()).where(Complaint.status == "open")) or 0
        ack = (
            s.scalar(
                select(func.count()).where(
                    Complaint.status == "open", Complaint.acknowledged_on.is_(None), Complaint.acknowledge_by < today
                )
            )
            or 0
        )
        late = s.scalar(select(func.count()).where(Complaint.status == "open", Complaint.answer_by < today)) or 0
    return Overdue(open_, ack, late)


@dataclass(frozen=True)
class ComplaintsReport:
    date_from: date
    date_to: date
    received: dict[str, int]  # kind -> received in the period
    answered: int
    outcomes: dict[str, int]  # outcome -> answered in the period
    average_days: float | None  # days from receipt to the final answer, over those answered in the period
    longest_days: int | None
    answered_late: int  # after the answer-by date
    still_open: int  # received in the period and open at its end (today's state)


def report(ctx: Context, date_from: date, date_to: date) -> ComplaintsReport:
    """The complaints report of a period: received per kind, answered, outcomes and the time to answer."""
    ctx.require(*READERS)
    if date_from > date_to:
        raise BadInput(N_("The period starts after it ends"), field="from")
    with ctx.db.reader() as s:
        received = dict(
            s.execute(
                select(Complaint.kind, func.count())
                .where(Complaint.received_on.between(date_from, date_to))
                .group_by(Complaint.kind)
            ).all()
        )
        answered = list(
            s.execute(
                select(Complaint.outcome, Complaint.received_on, Complaint.answered_on, Complaint.answer_by).where(
                    Complaint.answered_on.between(date_from, date_to)
                )
            )
        )
        still_open = (
            s.scalar(
                select(func.count()).where(
                    Complaint.received_on.between(date_from, date_to), Complaint.status == "open"
                )
            )
            or 0
        )
    days = [(done - got).days for _o, got, done, _by in answered]
    outcomes: dict[str, int] = {}
    for outcome, *_rest in answered:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return ComplaintsReport(
        date_from,
        date_to,
        {k: received.get(k, 0) for k in dc.KINDS},
        len(answered),
        outcomes,
        round(sum(days) / len(days), 1) if days else None,
        max(days) if days else None,
        sum(1 for _o, _g, done, by in answered if done > by),
        still_open,
    )
