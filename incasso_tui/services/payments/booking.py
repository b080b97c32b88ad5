"""The one booking function (:class:`Book`): the open items of the loans a file or a queued entry touches,
allocated in memory and written in a few bulk statements.

Allocation (art. 6:44 BW via ``domain.arrears.allocate``): the items due on the booking day (open charges, then
interest, then principal, oldest first); what is left is credit on the loan (``ledger.credit``). Credit is not
applied to later installments automatically. A payment on a loan that had a write-off is a recovery
(``ledger_links.recovery``), reported as such. A reversal books the opposite of each allocation of the payment it
undoes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from incasso_tui.domain.arrears import Component, OpenItem, allocate, charge_component
from incasso_tui.domain.enums import LedgerKind
from incasso_tui.services.locking import lock_loans
from incasso_tui.services.payments.common import OPEN_LINE, WRITE_CHUNK, chunks, insert_rows, take_ids
from incasso_tui.store.models import Allocation, Charge, Installment, LedgerEntry, LedgerLink


@dataclass
class _Line:
    loan_id: int
    seq: int
    due: date
    principal: Decimal
    interest: Decimal
    principal_paid: Decimal
    interest_paid: Decimal
    dirty: bool = False


@dataclass
class _Charge:
    id: int
    loan_id: int
    due: date
    amount: Decimal
    paid: Decimal
    kind: str = "collection_costs"
    dirty: bool = False

    @property
    def component(self) -> Component:
        """Art. 6:44 BW: collection costs are costs, statutory interest is interest (issue 12)."""
        return charge_component(self.kind)


@dataclass
class Posting:
    """A ledger row to write, with its allocations: (component, installment seq, charge id, amount)."""

    loan_id: int
    kind: str
    booking_date: date
    amount: Decimal
    description: str
    credit: Decimal
    parts: list[tuple[str, int | None, int | None, Decimal]]
    recovery: bool = False
    reverses: Posting | None = None
    reverses_ledger_id: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class Stored:
    """A stored payment that a reversal of this file may undo: its ledger row and allocations."""

    ledger_id: int
    loan_id: int
    amount: Decimal
    credit: Decimal
    parts: list[tuple[str, int | None, int | None, Decimal]]


_LEDGER_COLUMNS = (
    "id",
    "loan_id",
    "booking_date",
    "kind",
    "amount",
    "description",
    "credit",
    "created_by",
    "created_at",
)
_ALLOCATION_COLUMNS = ("ledger_id", "loan_id", "component", "installment_seq", "charge_id", "amount")
_LINK_COLUMNS = ("ledger_id", "recovery", "reverses_ledger_id")


class Book:
    """The open items of the loans a file touches, allocated in memory and written in a few bulk statements."""

    def __init__(self, s: Session, actor: str, now: datetime) -> None:
        self.s, self.actor, self.now = s, actor, now
        self.lines: dict[tuple[int, int], _Line] = {}
        self.charges: dict[int, _Charge] = {}
        self.by_loan: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.charges_by_loan: dict[int, list[int]] = defaultdict(list)
        self.loaded: set[int] = set()
        self.written_off: set[int] = set()
        self.postings: list[Posting] = []

    def load(self, loan_ids: Iterable[int], horizon: date) -> None:
        """Read the open items due on or before ``horizon`` of loans not read yet, locking the loans first (a
        concurrent booking on the same loan waits for this transaction, then reads what it wrote)."""
        ids = sorted(set(loan_ids) - self.loaded)
        lock_loans(self.s, ids)
        self.loaded.update(ids)
        for part in chunks(ids):
            for row in self.s.execute(
                select(
                    Installment.loan_id,
                    Installment.seq,
                    Installment.due_date,
                    Installment.principal,
                    Installment.interest,
                    Installment.principal_paid,
                    Installment.interest_paid,
                ).where(Installment.loan_id.in_(part), Installment.due_date <= horizon, OPEN_LINE)
            ):
                self._add_line(_Line(*row))
            for row in self.s.execute(
                select(Charge.id, Charge.loan_id, Charge.due_date, Charge.amount, Charge.paid, Charge.kind).where(
                    Charge.loan_id.in_(part), Charge.due_date <= horizon, Charge.paid < Charge.amount
                )
            ):
                self._add_charge(_Charge(*row))
            self.written_off.update(
                self.s.scalars(
                    select(LedgerEntry.loan_id)
                    .where(LedgerEntry.loan_id.in_(part), LedgerEntry.kind == LedgerKind.WRITE_OFF.value)
                    .distinct()
                )
            )

    def _add_line(self, line: _Line) -> None:
        """Keep a line read from the database, unless it is held already (then the held one, maybe changed, stays)."""
        key = (line.loan_id, line.seq)
        if key not in self.lines:
            self.lines[key] = line
            self.by_loan[line.loan_id].append(key)

    def _add_charge(self, charge: _Charge) -> None:
        if charge.id not in self.charges:
            self.charges[charge.id] = charge
            self.charges_by_loan[charge.loan_id].append(charge.id)

    def pay(self, loan_id: int, amount: Decimal, day: date, description: str) -> Posting:
        if loan_id not in self.loaded:  # what load() skips anyway (a file's loans are loaded up front)
            self.load([loan_id], day)
        items: list[OpenItem] = []
        for cid in self.charges_by_loan[loan_id]:
            ch = self.charges[cid]
            if ch.due <= day and ch.paid < ch.amount:
                items.append(OpenItem(f"c{cid}", ch.component, ch.due, ch.amount - ch.paid))
        for key in self.by_loan[loan_id]:
            ln = self.lines[key]
            if ln.due > day:
                continue
            if ln.interest_paid < ln.interest:
                items.append(OpenItem(f"{ln.seq:06d}", "interest", ln.due, ln.interest - ln.interest_paid))
            if ln.principal_paid < ln.principal:
                items.append(OpenItem(f"{ln.seq:06d}", "principal", ln.due, ln.principal - ln.principal_paid))
        result = allocate(amount, items)
        parts: list[tuple[str, int | None, int | None, Decimal]] = []
        for part in result.parts:
            if part.key.startswith("c"):  # a charge: collection costs (costs) or statutory interest (interest)
                ch = self.charges[int(part.key[1:])]
                ch.paid += part.amount
                ch.dirty = True
                parts.append((part.component, None, ch.id, part.amount))
            else:
                ln = self.lines[(loan_id, int(part.key))]
                if part.component == "interest":
                    ln.interest_paid += part.amount
                else:
                    ln.principal_paid += part.amount
                ln.dirty = True
                parts.append((part.component, ln.seq, None, part.amount))
        posting = Posting(
            loan_id,
            LedgerKind.PAYMENT.value,
            day,
            amount,
            description,
            result.credit,
            parts,
            recovery=loan_id in self.written_off,
        )
        self.postings.append(posting)
        return posting

    def stored_payments(self, ledger_ids: Iterable[int]) -> dict[int, Stored]:
        """Read stored payments (ledger rows and allocations) and the items they paid, for reversals: a few
        IN (...) queries for all of them, not one per reversal."""
        ids = sorted(set(ledger_ids))
        heads: dict[int, tuple[int, Decimal, Decimal]] = {}
        parts: dict[int, list[tuple[str, int | None, int | None, Decimal]]] = defaultdict(list)
        for part in chunks(ids):
            for ledger_id, loan_id, amount, credit in self.s.execute(
                select(LedgerEntry.id, LedgerEntry.loan_id, LedgerEntry.amount, LedgerEntry.credit).where(
                    LedgerEntry.id.in_(part)
                )
            ):
                heads[ledger_id] = (loan_id, amount, credit)
            for ledger_id, component, seq, charge_id, amount in self.s.execute(
                select(
                    Allocation.ledger_id,
                    Allocation.component,
                    Allocation.installment_seq,
                    Allocation.charge_id,
                    Allocation.amount,
                )
                .where(Allocation.ledger_id.in_(part))
                .order_by(Allocation.id)
            ):
                parts[ledger_id].append((component, seq, charge_id, amount))
        lock_loans(self.s, (loan_id for loan_id, _amount, _credit in heads.values()))  # before reading their items
        lines = {(heads[i][0], seq) for i in heads for _c, seq, ch, _a in parts[i] if ch is None} - self.lines.keys()
        for loan_part in chunks(sorted({loan_id for loan_id, _seq in lines})):
            for row in self.s.execute(
                select(
                    Installment.loan_id,
                    Installment.seq,
                    Installment.due_date,
                    Installment.principal,
                    Installment.interest,
                    Installment.principal_paid,
                    Installment.interest_paid,
                ).where(Installment.loan_id.in_(loan_part))
            ):
                if (row[0], row[1]) in lines:
                    self._add_line(_Line(*row))
        charges = sorted({ch for i in heads for _c, _seq, ch, _a in parts[i] if ch is not None} - self.charges.keys())
        for part in chunks(charges):
            for row in self.s.execute(
                select(Charge.id, Charge.loan_id, Charge.due_date, Charge.amount, Charge.paid, Charge.kind).where(
                    Charge.id.in_(part)
                )
            ):
                self._add_charge(_Charge(*row))
        return {i: Stored(i, *heads[i], parts[i]) for i in heads}

    def undo(self, original: Posting | Stored, day: date, description: str) -> Posting:
        """Book a reversal of a payment: ``original`` is a posting of this book or a stored payment."""
        loan_id, amount, credit, parts = original.loan_id, original.amount, original.credit, original.parts
        for component, seq, charge_id, part in parts:
            if charge_id is not None:
                ch = self.charges[charge_id]
                ch.paid -= part
                ch.dirty = True
            else:
                assert seq is not None
                ln = self.lines[(loan_id, seq)]
                if component == "interest":
                    ln.interest_paid -= part
                else:
                    ln.principal_paid -= part
                ln.dirty = True
        posting = Posting(
            loan_id,
            LedgerKind.REVERSAL.value,
            day,
            amount,
            description,
            credit,
            [(c, q, i, -a) for c, q, i, a in parts],
        )
        if isinstance(original, Posting):
            posting.reverses = original
        else:
            posting.reverses_ledger_id = original.ledger_id
        self.postings.append(posting)
        return posting

    def write(self) -> None:
        """Write the postings, their allocations and links, and the paid amounts of the items they moved."""
        if not self.postings:
            return
        ids = take_ids(self.s, LedgerEntry, len(self.postings))
        for posting, ledger_id in zip(self.postings, ids, strict=True):
            posting.id = ledger_id
        insert_rows(
            self.s,
            LedgerEntry,
            _LEDGER_COLUMNS,
            (
                (p.id, p.loan_id, p.booking_date, p.kind, p.amount, p.description[:300], p.credit, self.actor, self.now)
                for p in self.postings
            ),
        )
        insert_rows(
            self.s,
            Allocation,
            _ALLOCATION_COLUMNS,
            ((p.id, p.loan_id, c, q, i, a) for p in self.postings for c, q, i, a in p.parts),
        )
        insert_rows(
            self.s,
            LedgerLink,
            _LINK_COLUMNS,
            (
                (p.id, p.recovery, p.reverses.id if p.reverses is not None else p.reverses_ledger_id)
                for p in self.postings
                if p.recovery or p.reverses is not None or p.reverses_ledger_id is not None
            ),
        )
        lines = [
            {
                "loan_id": ln.loan_id,
                "seq": ln.seq,
                "principal_paid": ln.principal_paid,
                "interest_paid": ln.interest_paid,
            }
            for ln in self.lines.values()
            if ln.dirty
        ]
        for part in chunks(lines, WRITE_CHUNK):
            self.s.execute(update(Installment), list(part))
        charges = [{"id": ch.id, "paid": ch.paid} for ch in self.charges.values() if ch.dirty]
        if charges:
            self.s.execute(update(Charge), charges)

    def touched_loans(self) -> set[int]:
        return {p.loan_id for p in self.postings}
