"""Row locks for use cases that read money or a state and then write it (issue 16).

SQLite serialises writers (``Database.transaction`` begins IMMEDIATE), so a writer there always reads what the
previous writer committed. PostgreSQL under READ COMMITTED does not: two transactions can read the same queued
bank entry or the same open installments and both write. Every use case that books on a loan or changes a bank
entry therefore locks those rows first with ``SELECT ... FOR UPDATE``; a second writer waits for the first to
commit and then reads its result (PostgreSQL re-reads a locked row once the lock is granted).

Loans are locked in ascending id order, so two writers that lock several loans cannot deadlock each other.
The booking function (``services.payments.booking.Book``) locks the loans it books on itself, so every use case that
books a payment or a reversal (the import, the queue, an undo) inherits the lock.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incasso_tui.store.models import BankEntryRow, Loan

__all__ = ["lock_bank_entry", "lock_loans", "locked_loan", "serialise_imports"]

_CHUNK = 500
# the key of the transaction-level advisory lock that lets one statement import at a time (PostgreSQL)
IMPORT_LOCK_KEY = 0x1C0_16A


def _postgres(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"


def lock_loans(s: Session, loan_ids: Iterable[int]) -> None:
    """Lock the loans' rows until the transaction ends (PostgreSQL; SQLite's writer lock covers it)."""
    if not _postgres(s):
        return
    locked: set[int] = s.info.setdefault("locked_loans", set())
    ids = sorted(set(loan_ids) - locked)
    for start in range(0, len(ids), _CHUNK):
        part = ids[start : start + _CHUNK]
        s.execute(select(Loan.id).where(Loan.id.in_(part)).order_by(Loan.id).with_for_update()).all()
    locked.update(ids)


def locked_loan(s: Session, loan_id: int) -> Loan | None:
    """The loan, locked and read afresh: a use case that rewrites a loan's schedule or books on it (an approval that
    defers, calls in or writes off) waits for a payment being booked on it, and the other way round."""
    lock_loans(s, [loan_id])
    return s.get(Loan, loan_id, populate_existing=True)


def lock_bank_entry(s: Session, entry_id: int) -> BankEntryRow | None:
    """The bank entry, read with a row lock (on PostgreSQL the newest committed version, once the lock is ours)."""
    return s.execute(
        select(BankEntryRow)
        .where(BankEntryRow.id == entry_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def serialise_imports(s: Session) -> None:
    """One statement import at a time (PostgreSQL: a transaction-level advisory lock), so the second import reads
    the entries the first one stored and skips them as duplicates instead of failing on the unique key."""
    if _postgres(s):
        s.execute(select(func.pg_advisory_xact_lock(IMPORT_LOCK_KEY)))
