"""Contacts with the client (every attempt and its outcome), promises to pay, and notes.

``log_contact`` is one use case in one transaction: the contact, the promise it holds (if any), the case's
next action date and the audit events are all written or none is. A promise to pay is stored as a
:class:`~incasso_tui.store.models.Promise` (status ``open``) linked to its contact; the daily run monitors it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from incasso_tui.domain.audit_actions import CONTACT_LOG, ContactLogBefore
from incasso_tui.domain.enums import ArrearsCause, Channel, ContactOutcome, NextAction, TaskStatus
from incasso_tui.domain.money import ensure_money
from incasso_tui.errors import N_, BadInput, RuleViolation
from incasso_tui.services import audit, risk
from incasso_tui.services.access import CASE_WRITERS, check_write
from incasso_tui.services.cases import case_transaction, changed_by, load_case
from incasso_tui.services.causes import record_cause
from incasso_tui.services.context import Context
from incasso_tui.store.models import Contact, Note, Promise, Task

# who may log contacts and notes: the desk, and special management on the cases handed over to it
# (services.access decides by the case's state)
CONTACT_WRITERS = CASE_WRITERS
MAX_TEXT = 4000  # characters in a contact summary or a note


@dataclass(frozen=True)
class ContactInput:
    """What the employee gave (already parsed). ``promise_*`` only with the outcome PROMISE."""

    channel: Channel
    outcome: ContactOutcome
    summary: str
    next_action_date: date | None
    cause: ArrearsCause | None = None
    promise_date: date | None = None
    promise_amount: Decimal | None = None
    referral: str | None = None  # a debt-help referral made in the contact (data/risk.toml, issue 20)


@dataclass(frozen=True)
class LoggedContact:
    contact_id: int
    promise_id: int | None


def check_text(text: str, field: str, *, required: bool, maximum: int = MAX_TEXT) -> str:
    """The text stripped of surrounding blanks; refused when required and empty, or longer than ``maximum``."""
    stripped = text.strip()
    if required and not stripped:
        raise BadInput(N_("Please fill this in"), field=field)
    if len(stripped) > maximum:
        raise BadInput(
            N_("At most {maximum} characters, this is {length}"), field=field, maximum=maximum, length=len(stripped)
        )
    return stripped


def validate_contact(given: ContactInput, today: date) -> None:
    """Every refusal names the field it is about (``err.field``), so the form can show it there."""
    if not isinstance(given.channel, Channel):
        raise BadInput(N_("Unknown channel: {value}"), field="channel", value=given.channel)
    if not isinstance(given.outcome, ContactOutcome):
        raise BadInput(N_("Unknown outcome: {value}"), field="outcome", value=given.outcome)
    if given.cause is not None and not isinstance(given.cause, ArrearsCause):
        raise BadInput(N_("Unknown cause: {value}"), field="cause", value=given.cause)
    if given.outcome is ContactOutcome.PROMISE:
        if given.promise_date is None:
            raise BadInput(N_("A promise to pay needs the date the client will pay"), field="promise_date")
        if given.promise_date < today:
            raise RuleViolation(N_("The promised date may not be in the past"), field="promise_date")
        if given.promise_amount is None:
            raise BadInput(N_("A promise to pay needs the amount the client will pay"), field="promise_amount")
        if ensure_money(given.promise_amount) <= 0:
            raise RuleViolation(N_("The promised amount must be more than zero"), field="promise_amount")
    elif given.promise_date is not None or given.promise_amount is not None:
        raise BadInput(N_("A promised date and amount belong to the outcome promise to pay"), field="outcome")
    check_text(given.summary, "summary", required=False)
    if given.next_action_date is None:
        raise BadInput(N_("When is the next action? Please give a date"), field="next_action_date")
    if given.next_action_date < today:
        raise RuleViolation(N_("The next action date may not be in the past"), field="next_action_date")


def log_contact(ctx: Context, case_id: int, expected_version: int, given: ContactInput) -> LoggedContact:
    """Log a contact on the case (and the promise to pay it holds); sets the case's next action date."""
    ctx.require(*CONTACT_WRITERS)
    today, now = ctx.clock.today(), ctx.clock.now()
    validate_contact(given, today)
    with case_transaction(ctx, case_id) as s:
        case = load_case(s, case_id)
        check_write(ctx, s, case)
        if case.version != expected_version:
            raise changed_by(case)
        contact = Contact(
            case_id=case.id,
            at=now,
            channel=given.channel.value,
            outcome=given.outcome.value,
            cause=given.cause.value if given.cause is not None else None,
            summary=given.summary.strip(),
            user_name=ctx.actor.name,
        )
        s.add(contact)
        s.flush()
        if given.referral:
            risk.refer_to_debt_help(s, ctx, case.client_id, case.id, contact.id, given.referral)
        promise: Promise | None = None
        if given.outcome is ContactOutcome.PROMISE:
            assert given.promise_date is not None and given.promise_amount is not None  # validated above
            promise = Promise(
                case_id=case.id,
                contact_id=contact.id,
                due_date=given.promise_date,
                amount=given.promise_amount,
                status="open",
            )
            s.add(promise)
            s.flush()
        before = ContactLogBefore(case.next_action_date, case.next_action, case.next_action_params).payload()
        assert given.next_action_date is not None  # validated above
        case.next_action_date = given.next_action_date
        case.next_action = NextAction.CHECK_PROMISE if promise is not None else NextAction.FOLLOW_UP_CONTACT
        case.next_action_params = None
        case.updated_by = ctx.actor.name
        case.updated_at = now
        if given.cause is not None:  # the case keeps the cause (issue 15: services.causes), with its other changes
            record_cause(s, case, given.cause, "contact", ctx.actor.name, now)
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action=CONTACT_LOG,
            entity="contact",
            entity_id=contact.id,
            case_id=case.id,
            before=before,
            after={
                "channel": contact.channel,
                "outcome": contact.outcome,
                "cause": contact.cause,
                "next_action_date": case.next_action_date,
            },
        )
        if promise is not None:
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="promise.create",
                entity="promise",
                entity_id=promise.id,
                case_id=case.id,
                after={"contact_id": contact.id, "due_date": promise.due_date, "amount": promise.amount},
            )
        # the follow-up is a task in the inbox of the case's owner (issue 13); so is checking the promise
        from incasso_tui.services.inbox import close_task, replace_follow_up

        replace_follow_up(ctx, s, case, "follow_up", NextAction(case.next_action), None, case.next_action_date)
        if given.channel in (Channel.PHONE, Channel.VIDEO):  # the call was made: its open call task is done
            for call in s.scalars(
                select(Task).where(Task.case_id == case.id, Task.kind == "call", Task.status == TaskStatus.OPEN)
            ):
                close_task(ctx, s, call, f"Contact {given.outcome.value}: {contact.summary}"[:500], now)
        if promise is not None:
            replace_follow_up(
                ctx,
                s,
                case,
                "promise_check",
                NextAction.CHECK_PROMISE,
                None,
                promise.due_date + timedelta(days=ctx.settings.payment_grace_days),
            )
        s.flush()  # the case's version check (UPDATE ... WHERE version = n) runs here
        return LoggedContact(contact.id, promise.id if promise is not None else None)


def add_note(ctx: Context, case_id: int, text: str) -> int:
    """Add a note to the case; returns its id. A note does not change the case, so it needs no version."""
    ctx.require(*CONTACT_WRITERS)
    body = check_text(text, "text", required=True)
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        case = load_case(s, case_id)
        check_write(ctx, s, case)
        note = Note(case_id=case.id, at=now, user_name=ctx.actor.name, text=body)
        s.add(note)
        s.flush()
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="note.add",
            entity="note",
            entity_id=note.id,
            case_id=case.id,
            after={"length": len(body)},
        )
        return note.id
