"""What the payment use cases share: the slice sizes of the set-based queries, the open-line condition, an entry's
booking description, the position refresh after booking, ids taken up front, and the bulk writer (``store.bulk``:
``COPY`` on PostgreSQL, ``executemany`` on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incasso_tui.bank import BankEntry
from incasso_tui.domain.enums import CaseStatus
from incasso_tui.services.positions import refresh_case_positions
from incasso_tui.store.bulk import WRITE_CHUNK, batches, insert_rows
from incasso_tui.store.models import BankEntryRow, Case, Installment, Loan

__all__ = [
    "CHUNK",
    "KEY_CHUNK",
    "OPEN_LINE",
    "WRITE_CHUNK",
    "batches",
    "chunks",
    "entry_description",
    "insert_rows",
    "refresh_cases",
    "take_ids",
]

CHUNK = 500  # ids or keys per IN (...) list
KEY_CHUNK = 2000  # dedup keys, loan or client numbers, IBANs per IN (...) list
OPEN_LINE = Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest
_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def entry_description(e: BankEntry | BankEntryRow) -> str:
    who = e.counterparty_name or e.counterparty_iban or ""
    return " ".join(f"{who} {e.remittance}".split())


def refresh_cases(s: Session, loan_ids: set[int], today: date) -> dict[int, int]:
    """Refresh the position cache of the open cases of the loans' clients; returns {loan id: open case id}."""
    cases: dict[int, int] = {}
    for part in chunks(sorted(loan_ids)):
        rows = s.execute(
            select(Loan.id, Case.id)
            .join(Case, Case.client_id == Loan.client_id)
            .where(Loan.id.in_(part), Case.status != CaseStatus.CLOSED.value)
        )
        cases.update((a, b) for a, b in rows)
    case_ids = sorted(set(cases.values()))
    for part in chunks(case_ids):
        refresh_case_positions(s, today, part)
    return cases


def take_ids(s: Session, model: type[Any], count: int) -> list[int]:
    """``count`` new ids for ``model``'s table, so rows can go in as plain multi-row inserts that name their ids.

    PostgreSQL hands them out from the table's sequence; SQLite gives the next ids after the highest, which is safe
    because a writer holds SQLite's write lock (BEGIN IMMEDIATE) until it commits.
    """
    if not count:
        return []
    table = model.__table__
    if s.get_bind().dialect.name == "postgresql":
        return list(
            s.scalars(
                select(func.nextval(func.pg_get_serial_sequence(table.name, "id"))).select_from(
                    func.generate_series(1, count)
                )
            )
        )
    first = (s.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(first, first + count))
