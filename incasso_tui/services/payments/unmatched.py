"""The queue of unmatched and ambiguous entries: listing it, booking a queued payment on a loan by hand
(:func:`assign`, through the one booking function) and taking an entry out as not ours (:func:`mark_not_ours`).
The assisted matching of the queue (ranked candidates, undo) is ``services.matching``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from incasso_tui.domain.enums import LoanStatus
from incasso_tui.errors import N_, BadInput, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.services.locking import lock_bank_entry, lock_loans
from incasso_tui.services.payments.booking import Book
from incasso_tui.services.payments.common import entry_description, refresh_cases
from incasso_tui.store.models import BankEntryRow, Loan

QUEUE_STATUSES = ("unmatched", "ambiguous")


@dataclass(frozen=True)
class QueueRow:
    id: int
    booking_date: date
    amount: Decimal
    credit: bool
    reversal: bool
    counterparty_name: str | None
    counterparty_iban: str | None
    remittance: str
    creditor_reference: str | None
    status: str
    match_detail: str | None


def queue(ctx: Context, limit: int = 500) -> list[QueueRow]:
    """The unmatched and ambiguous entries, oldest first."""
    with ctx.db.reader() as s:
        rows = s.scalars(
            select(BankEntryRow)
            .where(BankEntryRow.status.in_(QUEUE_STATUSES))
            .order_by(BankEntryRow.booking_date, BankEntryRow.id)
            .limit(limit)
        )
        return [
            QueueRow(
                r.id,
                r.booking_date,
                r.amount,
                r.credit,
                r.reversal,
                r.counterparty_name,
                r.counterparty_iban,
                r.remittance,
                r.creditor_reference,
                r.status,
                r.match_detail,
            )
            for r in rows
        ]


def _queued(s: Session, entry_id: int) -> BankEntryRow:
    """The queued entry, locked: of two people dealing with it at once the second waits, then is told who did."""
    row = lock_bank_entry(s, entry_id)
    if row is None:
        raise NotFound(N_("There is no bank entry {id}"), id=entry_id)
    if row.status not in QUEUE_STATUSES:
        raise RuleViolation(
            N_("Bank entry {id} is {status} already: {name} dealt with it"),
            id=entry_id,
            status=row.status,
            name=row.assigned_by or "the import",
        )
    return row


def assign(ctx: Context, entry_id: int, loan: int | str) -> int:
    """Book a queued payment on a loan (given by id or number); returns the ledger id. Audited."""
    ctx.require(*DESK_WRITERS)
    now, today = ctx.clock.now(), ctx.clock.today()
    with ctx.db.transaction() as s:
        row = _queued(s, entry_id)
        if not row.credit or row.reversal:
            raise RuleViolation(N_("A reversal or a debit cannot be booked on a loan: mark it as not ours"))
        number = loan.strip().upper() if isinstance(loan, str) else None
        target = s.scalar(select(Loan).where(Loan.number == number)) if number else s.get(Loan, loan)
        if target is None:
            raise BadInput(N_("There is no loan {loan}"), field="loan", loan=loan)
        lock_loans(s, [target.id])
        s.refresh(target)
        if target.status == LoanStatus.REPAID.value:
            raise RuleViolation(
                N_("Loan {loan} is {status}: no payment can be booked on it"), loan=target.number, status=target.status
            )
        book = Book(s, ctx.actor.name, now)
        posting = book.pay(target.id, row.amount, row.booking_date, entry_description(row))
        book.write()
        before = {"status": row.status}
        row.status, row.match_reason, row.loan_id, row.ledger_id = "matched", "manual", target.id, posting.id
        row.assigned_by, row.assigned_at = ctx.actor.name, now
        cases = refresh_cases(s, {target.id}, today)
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="payment.assign",
            entity="bank_entry",
            entity_id=row.id,
            case_id=cases.get(target.id),
            before=before,
            after={
                "status": "matched",
                "loan": target.number,
                "amount": row.amount,
                "ledger_id": posting.id,
                "credit": posting.credit,
                "recovery": posting.recovery,
            },
        )
        assert posting.id is not None
        return posting.id


def mark_not_ours(ctx: Context, entry_id: int, reason: str = "") -> None:
    """Take a queued entry out of the queue: the money is not for a loan of ours. Audited."""
    ctx.require(*DESK_WRITERS)
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        row = _queued(s, entry_id)
        before = {"status": row.status}
        row.status, row.assigned_by, row.assigned_at = "not_ours", ctx.actor.name, now
        if reason.strip():
            row.match_detail = reason.strip()[:200]
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="payment.not_ours",
            entity="bank_entry",
            entity_id=row.id,
            before=before,
            after={"status": "not_ours", "amount": row.amount, "reason": reason.strip()},
        )
