"""Incoming payments (issue 4): statement import, matching, allocation (art. 6:44 BW), the unmatched queue,
monitoring of promises and arrangements, and recoveries after a write-off.

Import (:func:`import_statement`)
  A file is parsed whole first (``bank.parse_statement_file``: a bad entry refuses the file, naming the element or
  line), then booked in ONE transaction: every entry row, ledger row, allocation, position refresh and audit event
  of the file commits together or not at all, so a crash halfway (kill -9) leaves nothing and the rerun is safe.
  An entry whose ``dedup_key`` is already stored is a duplicate and is skipped, so importing a file twice, or two
  overlapping statements, books each entry once (the UNIQUE key also stops two imports racing each other).

How, for files of 100,000 entries (``benchmarks/RESULTS.md``, "Payment import"): nothing is done per entry in the
database. The stored keys, the candidate loans and clients of all payments and the payments that reversals may undo
are read in a few IN (...) queries of slices; the open items of the touched loans are read once and allocated in
memory in file order; the rows are written with ``COPY`` (PostgreSQL) or ``executemany`` (SQLite) with ids taken
up front (``_insert``); the position cache is refreshed for the touched cases only; the audit events, one per
booked payment or reversal, go in with ``audit.record_many``, then one event for the import.

What an entry is
  - a credit that is neither a reversal nor a return: an incoming payment, matched and booked;
  - a debit that is a reversal (``RvslInd``) or carries a return reason: it undoes an earlier payment (found by the
    end-to-end id, else by the counterparty IBAN and the amount, newest first) with a ledger row of kind
    ``reversal`` and the opposite of each of its allocations; not found: it goes to the queue;
  - anything else (our own debits, the return of our own transfer, a zero amount): stored, nothing booked
    (status ``not_payment``).

Matching, in this order; each level that finds exactly one loan decides, with its reason:
  1. ``rf``: an ISO 11649 RF reference whose base is ``payment_rf_prefix`` + the loan number's digits (or the loan
     number itself);
  2. ``kenmerk_loan`` / ``kenmerk_client``: a valid 16-digit betalingskenmerk whose body is a loan number's digits,
     or a client number's digits (the reference on our letters, ``services.letters._reference``);
  3. ``loan_number``: a loan number (``L`` + 8 digits, a space allowed) in the remittance text;
  4. ``iban``: the debtor's IBAN is the IBAN known for exactly one client.
  A client-level match (2b, 4) books on the client's loan with the oldest open past-due item; a client with several
  loans and nothing past due, or a level that finds several loans, makes the entry ``ambiguous``. Unmatched and
  ambiguous entries wait in the queue for :func:`assign` or :func:`mark_not_ours`.

Allocation (art. 6:44 BW via ``domain.arrears.allocate``): the items due on the booking day (open charges, then
interest, then principal, oldest first); what is left is credit on the loan (``ledger.credit``). Credit is not
applied to later installments automatically. A payment on a loan that had a write-off is a recovery
(``ledger_links.recovery``), reported as such.

Monitoring (:func:`monitor`): see its docstring.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import stat
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from incasso_tui.bank import BankEntry, Statement, parse_statement_file
from incasso_tui.bank.model import refuse_too_big
from incasso_tui.config import Settings
from incasso_tui.domain.arrears import Component, OpenItem, allocate, charge_component
from incasso_tui.domain.enums import ArrangementStatus, CaseStatus, LedgerKind, LoanStatus, Role
from incasso_tui.domain.guards import check_bkr_cleared
from incasso_tui.domain.money import ZERO
from incasso_tui.domain.references import is_valid_betalingskenmerk, is_valid_rf, normalize_reference
from incasso_tui.errors import N_, BadFile, BadInput, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.services.locking import lock_bank_entry, lock_loans, serialise_imports
from incasso_tui.services.positions import loan_positions, refresh_case_positions
from incasso_tui.store.models import (
    Allocation,
    Arrangement,
    ArrangementLine,
    BankEntryRow,
    BankImport,
    BkrMutation,
    Case,
    Charge,
    Client,
    Contact,
    Installment,
    LedgerEntry,
    LedgerLink,
    Loan,
    Promise,
)
from incasso_tui.store.types import money_sum

__all__ = [
    "ImportReport",
    "MonitorReport",
    "QueueRow",
    "assign",
    "import_statement",
    "mark_not_ours",
    "monitor",
    "queue",
    "recoveries",
]

CHUNK = 500  # ids or keys per IN (...) list
KEY_CHUNK = 2000  # dedup keys, loan or client numbers, IBANs per IN (...) list
WRITE_CHUNK = 5000  # rows per executemany
QUEUE_STATUSES = ("unmatched", "ambiguous")
MONITOR_ROLES = (Role.EMPLOYEE, Role.SUPERVISOR, Role.ADMIN)
_LOAN_IN_TEXT = re.compile(r"\bL ?([0-9]{8})\b")
_OPEN_LINE = Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest
_T = TypeVar("_T")


def _chunks(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batches(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """``items`` in lists of ``size`` (the last may be shorter), without holding more than one list."""
    it = iter(items)
    while part := list(itertools.islice(it, size)):
        yield part


# ----------------------------------------------------------------------------------------------- reports


@dataclass
class ImportReport:
    file_name: str
    entries: int = 0
    new: int = 0
    duplicates: int = 0
    matched: int = 0
    unmatched: int = 0  # unmatched + ambiguous: what went to the queue
    reversals: int = 0
    recoveries: int = 0
    import_id: int | None = None

    def counts(self) -> dict[str, int]:
        """The figures ``incasso payments import --json`` prints."""
        return {"entries": self.entries, "new": self.new, "duplicates": self.duplicates,
                "matched": self.matched, "unmatched": self.unmatched}


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


@dataclass
class MonitorReport:
    promises_kept: int = 0
    promises_broken: int = 0
    arrangements_kept: int = 0
    arrangements_broken: int = 0
    cases_closed: int = 0
    bkr_h: int = 0


# ----------------------------------------------------------------------------------------------- matching


class _Match(NamedTuple):
    status: str  # matched | unmatched | ambiguous
    reason: str | None = None
    detail: str | None = None
    loan_id: int | None = None


_NONE: tuple[str, ...] = ()


class _Candidates(NamedTuple):
    """What one payment's references point at (numbers, before they are looked up). Tuples of distinct numbers
    rather than sets: a file has up to a few hundred thousand payments, and tuples cost the garbage collector
    nothing."""

    rf_loans: tuple[str, ...] = _NONE
    kenmerk_loans: tuple[str, ...] = _NONE
    kenmerk_clients: tuple[str, ...] = _NONE
    text_loans: tuple[str, ...] = _NONE  # sorted
    iban: str | None = None
    rf: str | None = None
    kenmerk: str | None = None


def _candidates(entry: BankEntry, rf_prefix: str) -> _Candidates:
    rf_loans = kenmerk_loans = kenmerk_clients = text_loans = _NONE
    rf = kenmerk = iban = None
    ref = normalize_reference(entry.creditor_reference or "")
    if ref and is_valid_rf(ref):
        rf = ref
        base = ref[4:]
        rf_loans = (base,)  # the loan number itself as the base
        if base.startswith(rf_prefix) and base[len(rf_prefix):].isdigit():
            number = f"L{int(base[len(rf_prefix):]):08d}"
            if number != base:
                rf_loans = (base, number)
    digits = ref.replace(".", "")
    if digits and is_valid_betalingskenmerk(digits):
        kenmerk = digits
        body = int(digits[1:])
        if body < 10**8:
            kenmerk_loans = (f"L{body:08d}",)
        if body < 10**7:
            kenmerk_clients = (f"C{body:07d}",)
    found = _LOAN_IN_TEXT.findall(entry.remittance.upper())
    if found:
        text_loans = tuple(sorted({f"L{number}" for number in found}))
    if entry.counterparty_iban:
        iban = normalize_reference(entry.counterparty_iban)
    return _Candidates(rf_loans, kenmerk_loans, kenmerk_clients, text_loans, iban, rf, kenmerk)


class _Lookup:
    """Set-based look-ups for the candidates of a whole file: a few IN (...) queries, never one per entry."""

    def __init__(self, s: Session, cands: Iterable[_Candidates], day: date) -> None:
        cands = list(cands)
        loan_numbers = sorted({n for c in cands for n in (*c.rf_loans, *c.kenmerk_loans, *c.text_loans)})
        client_numbers = sorted({n for c in cands for n in c.kenmerk_clients})
        ibans = sorted({c.iban for c in cands if c.iban})
        self.loans: dict[str, int] = {}
        for part in _chunks(loan_numbers, KEY_CHUNK):
            self.loans.update(s.execute(select(Loan.number, Loan.id).where(Loan.number.in_(part))).all())
        self.clients: dict[str, int] = {}
        for part in _chunks(client_numbers, KEY_CHUNK):
            self.clients.update(s.execute(select(Client.number, Client.id).where(Client.number.in_(part))).all())
        self.iban_clients: dict[str, list[int]] = defaultdict(list)
        for part in _chunks(ibans, KEY_CHUNK):
            for iban, client_id in s.execute(select(Client.iban, Client.id).where(Client.iban.in_(part))):
                self.iban_clients[iban].append(client_id)
        client_ids = sorted({*self.clients.values(), *(i for v in self.iban_clients.values() for i in v)})
        # each client's loans that can still take a payment, with the oldest open past-due item
        self.client_loans: dict[int, list[tuple[int, date | None]]] = defaultdict(list)
        for part in _chunks(client_ids):
            rows = s.execute(
                select(Loan.client_id, Loan.id, func.min(Installment.due_date))
                .outerjoin(Installment, and_(Installment.loan_id == Loan.id, Installment.due_date < day, _OPEN_LINE))
                .where(Loan.client_id.in_(part), Loan.status != LoanStatus.REPAID.value)
                .group_by(Loan.client_id, Loan.id)
                .order_by(Loan.id)
            )
            for client_id, loan_id, first in rows:
                self.client_loans[client_id].append((loan_id, first))

    def _client_loan(self, client_ids: list[int], reason: str, detail: str) -> _Match | None:
        if not client_ids:
            return None
        if len(client_ids) > 1:
            return _Match("ambiguous", reason, detail)
        loans = self.client_loans.get(client_ids[0], [])
        if not loans:
            return None
        if len(loans) == 1:
            return _Match("matched", reason, detail, loans[0][0])
        past_due = sorted((first, loan_id) for loan_id, first in loans if first is not None)
        if not past_due:
            return _Match("ambiguous", reason, detail)
        return _Match("matched", reason, detail, past_due[0][1])

    def _loans(self, numbers: tuple[str, ...], reason: str, detail: str) -> _Match | None:
        found = sorted({self.loans[n] for n in numbers if n in self.loans})
        if not found:
            return None
        if len(found) > 1:
            return _Match("ambiguous", reason, detail)
        return _Match("matched", reason, detail, found[0])

    def match(self, c: _Candidates) -> _Match:
        """The first level that decides (see the module docstring), else unmatched."""
        return (
            self._loans(c.rf_loans, "rf", c.rf or "")
            or self._loans(c.kenmerk_loans, "kenmerk_loan", c.kenmerk or "")
            or self._client_loan([self.clients[n] for n in c.kenmerk_clients if n in self.clients],
                                 "kenmerk_client", c.kenmerk or "")
            or self._loans(c.text_loans, "loan_number", ", ".join(c.text_loans))
            or self._client_loan(self.iban_clients.get(c.iban, []) if c.iban else [], "iban", c.iban or "")
            or _Match("unmatched")
        )


# ----------------------------------------------------------------------------------------------- booking


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
class _Posting:
    """A ledger row to write, with its allocations: (component, installment seq, charge id, amount)."""

    loan_id: int
    kind: str
    booking_date: date
    amount: Decimal
    description: str
    credit: Decimal
    parts: list[tuple[str, int | None, int | None, Decimal]]
    recovery: bool = False
    reverses: "_Posting | None" = None
    reverses_ledger_id: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class _Stored:
    """A stored payment that a reversal of this file may undo: its ledger row and allocations."""

    ledger_id: int
    loan_id: int
    amount: Decimal
    credit: Decimal
    parts: list[tuple[str, int | None, int | None, Decimal]]


_LEDGER_COLUMNS = ("id", "loan_id", "booking_date", "kind", "amount", "description", "credit", "created_by",
                   "created_at")
_ALLOCATION_COLUMNS = ("ledger_id", "loan_id", "component", "installment_seq", "charge_id", "amount")
_LINK_COLUMNS = ("ledger_id", "recovery", "reverses_ledger_id")


class _Book:
    """The open items of the loans a file touches, allocated in memory and written in a few bulk statements."""

    def __init__(self, s: Session, actor: str, now: datetime) -> None:
        self.s, self.actor, self.now = s, actor, now
        self.lines: dict[tuple[int, int], _Line] = {}
        self.charges: dict[int, _Charge] = {}
        self.by_loan: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.charges_by_loan: dict[int, list[int]] = defaultdict(list)
        self.loaded: set[int] = set()
        self.written_off: set[int] = set()
        self.postings: list[_Posting] = []

    def load(self, loan_ids: Iterable[int], horizon: date) -> None:
        """Read the open items due on or before ``horizon`` of loans not read yet, locking the loans first (a
        concurrent booking on the same loan waits for this transaction, then reads what it wrote)."""
        ids = sorted(set(loan_ids) - self.loaded)
        lock_loans(self.s, ids)
        self.loaded.update(ids)
        for part in _chunks(ids):
            for row in self.s.execute(
                select(Installment.loan_id, Installment.seq, Installment.due_date, Installment.principal,
                       Installment.interest, Installment.principal_paid, Installment.interest_paid)
                .where(Installment.loan_id.in_(part), Installment.due_date <= horizon, _OPEN_LINE)
            ):
                self._add_line(_Line(*row))
            for row in self.s.execute(
                select(Charge.id, Charge.loan_id, Charge.due_date, Charge.amount, Charge.paid, Charge.kind)
                .where(Charge.loan_id.in_(part), Charge.due_date <= horizon, Charge.paid < Charge.amount)
            ):
                self._add_charge(_Charge(*row))
            self.written_off.update(self.s.scalars(
                select(LedgerEntry.loan_id).where(LedgerEntry.loan_id.in_(part),
                                                  LedgerEntry.kind == LedgerKind.WRITE_OFF.value).distinct()))

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

    def pay(self, loan_id: int, amount: Decimal, day: date, description: str) -> _Posting:
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
        posting = _Posting(loan_id, LedgerKind.PAYMENT.value, day, amount, description, result.credit, parts,
                           recovery=loan_id in self.written_off)
        self.postings.append(posting)
        return posting

    def stored_payments(self, ledger_ids: Iterable[int]) -> dict[int, _Stored]:
        """Read stored payments (ledger rows and allocations) and the items they paid, for reversals: a few
        IN (...) queries for all of them, not one per reversal."""
        ids = sorted(set(ledger_ids))
        heads: dict[int, tuple[int, Decimal, Decimal]] = {}
        parts: dict[int, list[tuple[str, int | None, int | None, Decimal]]] = defaultdict(list)
        for part in _chunks(ids):
            for ledger_id, loan_id, amount, credit in self.s.execute(
                select(LedgerEntry.id, LedgerEntry.loan_id, LedgerEntry.amount, LedgerEntry.credit)
                .where(LedgerEntry.id.in_(part))
            ):
                heads[ledger_id] = (loan_id, amount, credit)
            for ledger_id, component, seq, charge_id, amount in self.s.execute(
                select(Allocation.ledger_id, Allocation.component, Allocation.installment_seq, Allocation.charge_id,
                       Allocation.amount).where(Allocation.ledger_id.in_(part)).order_by(Allocation.id)
            ):
                parts[ledger_id].append((component, seq, charge_id, amount))
        lock_loans(self.s, (loan_id for loan_id, _amount, _credit in heads.values()))  # before reading their items
        lines = {(heads[i][0], seq) for i in heads for _c, seq, ch, _a in parts[i] if ch is None} - self.lines.keys()
        for loan_part in _chunks(sorted({loan_id for loan_id, _seq in lines})):
            for row in self.s.execute(
                select(Installment.loan_id, Installment.seq, Installment.due_date, Installment.principal,
                       Installment.interest, Installment.principal_paid, Installment.interest_paid)
                .where(Installment.loan_id.in_(loan_part))
            ):
                if (row[0], row[1]) in lines:
                    self._add_line(_Line(*row))
        charges = sorted({ch for i in heads for _c, _seq, ch, _a in parts[i] if ch is not None}
                         - self.charges.keys())
        for part in _chunks(charges):
            for row in self.s.execute(select(Charge.id, Charge.loan_id, Charge.due_date, Charge.amount, Charge.paid,
                                             Charge.kind).where(Charge.id.in_(part))):
                self._add_charge(_Charge(*row))
        return {i: _Stored(i, *heads[i], parts[i]) for i in heads}

    def undo(self, original: _Posting | _Stored, day: date, description: str) -> _Posting:
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
        posting = _Posting(loan_id, LedgerKind.REVERSAL.value, day, amount, description, credit,
                           [(c, q, i, -a) for c, q, i, a in parts])
        if isinstance(original, _Posting):
            posting.reverses = original
        else:
            posting.reverses_ledger_id = original.ledger_id
        self.postings.append(posting)
        return posting

    def write(self) -> None:
        """Write the postings, their allocations and links, and the paid amounts of the items they moved."""
        if not self.postings:
            return
        ids = _take_ids(self.s, LedgerEntry, len(self.postings))
        for posting, ledger_id in zip(self.postings, ids, strict=True):
            posting.id = ledger_id
        _insert(self.s, LedgerEntry, _LEDGER_COLUMNS, (
            (p.id, p.loan_id, p.booking_date, p.kind, p.amount, p.description[:300], p.credit, self.actor, self.now)
            for p in self.postings))
        _insert(self.s, Allocation, _ALLOCATION_COLUMNS, (
            (p.id, p.loan_id, c, q, i, a) for p in self.postings for c, q, i, a in p.parts))
        _insert(self.s, LedgerLink, _LINK_COLUMNS, (
            (p.id, p.recovery, p.reverses.id if p.reverses is not None else p.reverses_ledger_id)
            for p in self.postings if p.recovery or p.reverses is not None or p.reverses_ledger_id is not None))
        lines = [{"loan_id": ln.loan_id, "seq": ln.seq, "principal_paid": ln.principal_paid,
                  "interest_paid": ln.interest_paid} for ln in self.lines.values() if ln.dirty]
        for part in _chunks(lines, WRITE_CHUNK):
            self.s.execute(update(Installment), list(part))
        charges = [{"id": ch.id, "paid": ch.paid} for ch in self.charges.values() if ch.dirty]
        if charges:
            self.s.execute(update(Charge), charges)

    def touched_loans(self) -> set[int]:
        return {p.loan_id for p in self.postings}


def _refresh_cases(s: Session, loan_ids: set[int], today: date) -> dict[int, int]:
    """Refresh the position cache of the open cases of the loans' clients; returns {loan id: open case id}."""
    cases: dict[int, int] = {}
    for part in _chunks(sorted(loan_ids)):
        rows = s.execute(select(Loan.id, Case.id).join(Case, Case.client_id == Loan.client_id)
                         .where(Loan.id.in_(part), Case.status != CaseStatus.CLOSED.value))
        cases.update((a, b) for a, b in rows)
    case_ids = sorted(set(cases.values()))
    for part in _chunks(case_ids):
        refresh_case_positions(s, today, part)
    return cases


def _take_ids(s: Session, model: type[Any], count: int) -> list[int]:
    """``count`` new ids for ``model``'s table, so rows can go in as plain multi-row inserts that name their ids.

    PostgreSQL hands them out from the table's sequence; SQLite gives the next ids after the highest, which is safe
    because a writer holds SQLite's write lock (BEGIN IMMEDIATE) until it commits.
    """
    if not count:
        return []
    table = model.__table__
    if s.get_bind().dialect.name == "postgresql":
        return list(s.scalars(select(func.nextval(func.pg_get_serial_sequence(table.name, "id")))
                              .select_from(func.generate_series(1, count))))
    first = (s.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(first, first + count))


def _insert(s: Session, model: type[Any], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` (values in the order of ``columns``): ``COPY`` on PostgreSQL, the driver's ``executemany`` in
    slices on SQLite, in this session's transaction.

    Each value goes through its column's SQLAlchemy type for the dialect (Money to cents, dates as SQLite stores
    them), as in a Core insert, but without Core's passes over every row's parameters (about a second for 100,000
    bank entries). Not the ORM's bulk insert either: that leaves out each row's None values and so splits the rows
    into a statement per run of rows with the same non-None columns.
    """
    connection = s.connection()
    dialect = connection.dialect
    table = model.__table__
    left_out = [c.name for c in table.columns if c.default is not None and c.name not in columns]
    if left_out:  # a Python-side default would not be applied here
        raise ValueError(f"insert into {table.name} must give {', '.join(left_out)}")
    convert = [(i, processor) for i, name in enumerate(columns)
               if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None]
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    if dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for part in _batches(rows, WRITE_CHUNK):
                for row in _converted(part, convert):
                    copy.write_row(row)
        return
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join(['?'] * len(columns))})"
    for part in _batches(rows, WRITE_CHUNK):
        connection.exec_driver_sql(sql, _converted(part, convert))


def _converted(rows: list[Sequence[Any]], convert: list[tuple[int, Any]]) -> list[tuple[Any, ...]]:
    """``rows`` with the values at the ``convert`` positions put through their bind processors (None stays None)."""
    if not convert:
        return [tuple(row) for row in rows]
    out = []
    for row in rows:
        values = list(row)
        for i, processor in convert:
            if values[i] is not None:
                values[i] = processor(values[i])
        out.append(tuple(values))
    return out


# ----------------------------------------------------------------------------------------------- import


def _is_payment(e: BankEntry) -> bool:
    return e.credit and not e.reversal and not e.return_reason and e.amount > 0


def _is_undo(e: BankEntry) -> bool:
    return not e.credit and (e.reversal or bool(e.return_reason)) and e.amount > 0


class _Outcome(NamedTuple):
    """What the import made of a new entry that is a payment or a reversal (the columns of its row that the entry
    itself does not give). Entries without one are ``not_payment``."""

    status: str
    reason: str | None = None
    detail: str | None = None
    loan_id: int | None = None
    posting: int | None = None  # index in the book's postings
    reverses: int | None = None  # the index of the payment of this file it undid
    reverses_id: int | None = None  # the stored entry it undid


_NOT_PAYMENT = _Outcome("not_payment")


_ENTRY_COLUMNS = ("id", "import_id", "dedup_key", "account_iban", "booking_date", "value_date", "amount", "credit",
                  "reversal", "return_reason", "counterparty_name", "counterparty_iban", "remittance",
                  "creditor_reference", "end_to_end_id", "bank_reference", "status", "match_reason", "match_detail",
                  "loan_id", "ledger_id", "reverses_id")


def _entry_row(e: BankEntry, o: _Outcome, import_id: int, entry_id: int, ledger_id: int | None,
               reverses_id: int | None) -> tuple[Any, ...]:
    """A bank entry row in the order of ``_ENTRY_COLUMNS`` (not assigned to anyone yet)."""
    return (
        entry_id, import_id, e.dedup_key, e.account_iban, e.booking_date, e.value_date, e.amount, e.credit,
        e.reversal, e.return_reason, (e.counterparty_name or None) and e.counterparty_name[:200],
        e.counterparty_iban, e.remittance, (e.creditor_reference or None) and e.creditor_reference[:64],
        (e.end_to_end_id or None) and e.end_to_end_id[:64], (e.bank_reference or None) and e.bank_reference[:64],
        o.status, o.reason, o.detail and o.detail[:200], o.loan_id, ledger_id, reverses_id,
    )


# the largest sum of cents the database holds (BIGINT); a file whose amounts add up to more is refused
MAX_CENTS = 2**63 - 1


def _read(source: Path | str | bytes, name: str | None, max_bytes: int) -> tuple[bytes, str]:
    """The file's bytes. Only a regular file is read (a FIFO or a device would block or never end: it is refused
    without waiting), and only when it is not over ``max_bytes`` (refused before it is read, not after)."""
    if isinstance(source, bytes):
        refuse_too_big(source, max_bytes)
        return source, name or "(bytes)"
    path = Path(source)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise BadFile(N_("Cannot read {path}: {error}"), where=str(path), path=str(path),
                      error=exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadFile(N_("{path} is not a regular file (a pipe, a device or a directory): not read"),
                          where=str(path), path=str(path))
        if info.st_size > max_bytes:
            raise BadFile(N_("The file is {size} bytes, more than the {limit} bytes a statement file may have"),
                          where="file size", size=info.st_size, limit=max_bytes)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)  # a file that grew meanwhile is still bounded
    except OSError as exc:
        raise BadFile(N_("Cannot read {path}: {error}"), where=str(path), path=str(path),
                      error=exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    refuse_too_big(data, max_bytes)
    return data, name or path.name


def _check_statements(statements: list[Statement], settings: Settings, today: date) -> None:
    """Refuse the whole file, before anything is written, when a statement is not of one of the lender's own accounts,
    a booking or value date is further from today than the settings allow, or the amounts add up to more than the
    database can hold."""
    own = settings.own_accounts()
    if not own:
        raise BadFile(N_("No own accounts are set (setting lender_accounts): a statement cannot be checked"), where="lender_accounts")
    earliest = today - timedelta(days=settings.statement_max_days_back)
    latest = today + timedelta(days=min(settings.statement_max_days_ahead, (date.max - today).days))
    cents = 0
    for st in statements:
        account = normalize_reference(st.account_iban)
        if account not in own:
            raise BadFile(N_("Statement {statement} is of account {account}, which is not one of our accounts "
                             "(setting lender_accounts)"),
                          where=f"statement {st.statement_id}", statement=st.statement_id, account=st.account_iban)
        for e in st.entries:
            for day in (e.booking_date, e.value_date):
                if day is not None and not earliest <= day <= latest:
                    raise BadFile(N_("Entry {entry}: the date {day} is more than the settings allow from today "
                                     "({earliest} to {latest})"),
                                  where=f"entry {e.entry_index}", entry=e.entry_index, day=day.isoformat(),
                                  earliest=earliest.isoformat(), latest=latest.isoformat())
            cents += int(e.amount * 100)
    if cents > MAX_CENTS:
        raise BadFile(N_("The amounts of the file add up to more than the database can hold"), where="amounts")


def _first_of_each_key(entries: Iterable[BankEntry], known: set[str]) -> list[BankEntry]:
    """The entries whose key is not stored yet, each key once: a second entry with the key of an earlier one of the
    same file (the same bank reference twice, a statement repeated) is a duplicate, as one stored before."""
    seen = set(known)
    fresh = []
    for e in entries:
        if e.dedup_key not in seen:
            seen.add(e.dedup_key)
            fresh.append(e)
    return fresh


def _known_keys(s: Session, keys: Sequence[str]) -> set[str]:
    """The dedup keys among ``keys`` that are stored already."""
    known: set[str] = set()
    for part in _chunks(keys, KEY_CHUNK):
        known.update(s.scalars(select(BankEntryRow.dedup_key).where(BankEntryRow.dedup_key.in_(part))))
    return known


def import_statement(ctx: Context, source: Path | str | bytes, name: str | None = None) -> ImportReport:
    """Import one statement file (CAMT.053/054, MT940) in one transaction; see the module docstring."""
    ctx.require(*DESK_WRITERS)
    max_bytes = ctx.settings.statement_max_bytes
    data, file_name = _read(source, name, max_bytes)
    statements = parse_statement_file(data, file_name, max_bytes=max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    del data  # the parsed entries are all that is needed from here on
    entries = [e for st in statements for e in st.entries]
    report = ImportReport(file_name=file_name, entries=len(entries))
    now, today = ctx.clock.now(), ctx.clock.today()
    _check_statements(statements, ctx.settings, today)
    prefix = ctx.settings.payment_rf_prefix
    with ctx.db.transaction() as s:
        serialise_imports(s)
        known = _known_keys(s, [e.dedup_key for e in entries])
        fresh = _first_of_each_key(entries, known)
        del entries, known
        report.new, report.duplicates = len(fresh), report.entries - len(fresh)
        imp = _import_row(statements, file_name, digest, ctx.actor.name, now, report)
        s.add(imp)
        s.flush()
        report.import_id = imp.id
        horizon = max((e.booking_date for e in fresh), default=today)
        payments = [(i, _candidates(e, prefix)) for i, e in enumerate(fresh) if _is_payment(e)]
        lookup = _Lookup(s, (c for _i, c in payments), horizon + timedelta(days=1))
        matches = {i: lookup.match(c) for i, c in payments}
        del payments, lookup
        book = _Book(s, ctx.actor.name, now)
        book.load({m.loan_id for m in matches.values() if m.loan_id is not None}, horizon)
        undos = [e for e in fresh if _is_undo(e)]
        outcomes = _book_entries(fresh, matches, book, _Originals(s, book, undos) if undos else None, report)
        del matches
        book.write()
        ids = _take_ids(s, BankEntryRow, len(fresh))
        postings = book.postings
        _insert(s, BankEntryRow, _ENTRY_COLUMNS, (
            _entry_row(e, o, imp.id, ids[i], postings[o.posting].id if o.posting is not None else None,
                       ids[o.reverses] if o.reverses is not None else o.reverses_id)
            for i, (e, o) in enumerate(zip(fresh, outcomes, strict=True))))
        reversed_ids = [{"id": o.reverses_id, "status": "reversed"} for o in outcomes if o.reverses_id is not None]
        if reversed_ids:
            s.execute(update(BankEntryRow), reversed_ids)
        imp.matched, imp.unmatched = report.matched, report.unmatched
        cases = _refresh_cases(s, book.touched_loans(), today)
        audit.record_many(s, _posting_events(ctx.actor.name, now, outcomes, postings, ids, cases))
        audit.record(s, at=now, actor=ctx.actor.name, action="payments.import", entity="bank_import",
                     entity_id=imp.id, after={"file": file_name, **report.counts(), "reversals": report.reversals,
                                              "recoveries": report.recoveries})
    return report


def _book_entries(fresh: list[BankEntry], matches: dict[int, _Match], book: _Book, originals: _Originals | None,
                  report: ImportReport) -> list[_Outcome]:
    """Book the new entries in file order (a reversal can undo a payment earlier in the same file); what became of
    each, in the same order."""
    outcomes: list[_Outcome] = [_NOT_PAYMENT] * len(fresh)
    for i, e in enumerate(fresh):
        m = matches.get(i)
        if m is not None:
            if m.loan_id is None:
                outcomes[i] = _Outcome(m.status, m.reason, m.detail)
                report.unmatched += 1
                continue
            posting = book.pay(m.loan_id, e.amount, e.booking_date, _description(e))
            outcomes[i] = _Outcome(m.status, m.reason, m.detail, m.loan_id, len(book.postings) - 1)
            report.matched += 1
            report.recoveries += posting.recovery
            if originals is not None:
                originals.paid(i, e)
        elif originals is not None and _is_undo(e):
            found = originals.find(e, outcomes)
            if found is None:
                outcomes[i] = _Outcome("unmatched", detail="reversal: payment not found")
                report.unmatched += 1
                continue
            report.reversals += 1
            description = f"Storno {e.return_reason or ''} {_description(e)}".strip()
            if isinstance(found, int):  # a payment of this file
                target = outcomes[found]
                assert target.posting is not None
                outcomes[found] = target._replace(status="reversed")
                book.undo(book.postings[target.posting], e.booking_date, description)
                outcomes[i] = _Outcome("reversal", loan_id=target.loan_id, posting=len(book.postings) - 1,
                                       reverses=found)
            else:
                entry_id, loan_id, stored = found
                book.undo(stored, e.booking_date, description)
                outcomes[i] = _Outcome("reversal", loan_id=loan_id, posting=len(book.postings) - 1,
                                       reverses_id=entry_id)
    return outcomes


def _posting_events(actor: str, now: datetime, outcomes: list[_Outcome], postings: list[_Posting], ids: list[int],
                    cases: dict[int, int]) -> Iterator[audit.Event]:
    """One event per booked payment or reversal, on the case of the loan's client (when it has an open one)."""
    for i, o in enumerate(outcomes):
        if o.posting is None:
            continue
        posting = postings[o.posting]
        action = "payment.book" if posting.kind == LedgerKind.PAYMENT.value else "payment.reverse"
        yield audit.Event(at=now, actor=actor, action=action, entity="bank_entry", entity_id=ids[i],
                          case_id=cases.get(posting.loan_id),
                          after={"loan_id": posting.loan_id, "amount": posting.amount, "ledger_id": posting.id,
                                 "reason": o.reason, "credit": posting.credit, "recovery": posting.recovery})


def _import_row(statements: list[Statement], file_name: str, digest: str, actor: str, now: datetime,
                report: ImportReport) -> BankImport:
    first = statements[0] if statements else None
    return BankImport(
        file_name=file_name[:300], file_hash=digest, format=first.format if first else "",
        account_iban=first.account_iban if first else "",
        statement_ids=",".join(st.statement_id for st in statements)[:500], imported_at=now, imported_by=actor,
        entries=report.entries, new=report.new, duplicates=report.duplicates, matched=0, unmatched=0,
    )


def _description(e: BankEntry | BankEntryRow) -> str:
    who = e.counterparty_name or e.counterparty_iban or ""
    return " ".join(f"{who} {e.remittance}".split())


class _Originals:
    """Finds the payment a reversal (or return) undoes: the newest payment of this file before it with the same
    amount and end-to-end id (without one: the same counterparty IBAN), else the newest stored matched payment
    that fits the same way. Each payment is undone at most once.

    The stored candidates of all the file's reversals are read at the start in a few IN (...) queries; the file's
    own payments are indexed as they are booked, so a reversal costs no query and no scan of the file.
    """

    def __init__(self, s: Session, book: _Book, undos: list[BankEntry]) -> None:
        e2e = {e.end_to_end_id for e in undos if e.end_to_end_id}
        ibans = {e.counterparty_iban for e in undos if not e.end_to_end_id and e.counterparty_iban}
        found: dict[int, Any] = {}  # entry id -> (booking date, id, end-to-end id, IBAN, amount, ledger id, loan id)
        base = select(BankEntryRow.booking_date, BankEntryRow.id, BankEntryRow.end_to_end_id,
                      BankEntryRow.counterparty_iban, BankEntryRow.amount, BankEntryRow.ledger_id,
                      BankEntryRow.loan_id).where(BankEntryRow.status == "matched", BankEntryRow.ledger_id.is_not(None))
        # locked (PostgreSQL): a payment being undone by hand at the same moment is undone once; after the wait the
        # row is read again and no longer "matched"
        base = base.with_for_update(of=BankEntryRow)
        for column, values in ((BankEntryRow.end_to_end_id, e2e), (BankEntryRow.counterparty_iban, ibans)):
            for part in _chunks(sorted(values)):
                found.update((row[1], row) for row in s.execute(base.where(column.in_(part))))
        self.stored: dict[tuple[str, str, Decimal], list[int]] = defaultdict(list)
        oldest_first = sorted(found.values(), key=lambda r: (r[0], r[1]))  # a reversal takes the newest from the end
        for _day, entry_id, end_to_end, iban, amount, _ledger, _loan in oldest_first:
            if end_to_end in e2e:
                self.stored[("e2e", end_to_end, amount)].append(entry_id)
            if iban in ibans:
                self.stored[("iban", iban, amount)].append(entry_id)
        self.payments = book.stored_payments(row[5] for row in found.values())
        self.rows = {entry_id: (row[5], row[6]) for entry_id, row in found.items()}  # -> (ledger id, loan id)
        self.taken: set[int] = set()
        self.in_file: dict[tuple[str, str, Decimal], list[int]] = defaultdict(list)

    @staticmethod
    def _key(e: BankEntry) -> tuple[str, str, Decimal] | None:
        if e.end_to_end_id:
            return ("e2e", e.end_to_end_id, e.amount)
        if e.counterparty_iban:
            return ("iban", e.counterparty_iban, e.amount)
        return None

    def paid(self, index: int, e: BankEntry) -> None:
        """Note a payment of this file that was booked (its ``index`` in the file's new entries)."""
        if e.end_to_end_id:
            self.in_file[("e2e", e.end_to_end_id, e.amount)].append(index)
        if e.counterparty_iban:
            self.in_file[("iban", e.counterparty_iban, e.amount)].append(index)

    def find(self, e: BankEntry, outcomes: list[_Outcome]) -> int | tuple[int, int | None, _Stored] | None:
        """The index of a payment of this file, or (stored entry id, its loan id, its payment), or None."""
        key = self._key(e)
        if key is None:
            return None
        in_file = self.in_file.get(key)
        while in_file:
            if outcomes[in_file[-1]].status == "matched":
                return in_file.pop()
            in_file.pop()  # undone already by an earlier reversal
        stored = self.stored.get(key)
        while stored:
            entry_id = stored.pop()
            if entry_id not in self.taken:
                self.taken.add(entry_id)
                ledger_id, loan_id = self.rows[entry_id]
                return entry_id, loan_id, self.payments[ledger_id]
        return None


# ----------------------------------------------------------------------------------------------- the queue


def queue(ctx: Context, limit: int = 500) -> list[QueueRow]:
    """The unmatched and ambiguous entries, oldest first."""
    with ctx.db.reader() as s:
        rows = s.scalars(select(BankEntryRow).where(BankEntryRow.status.in_(QUEUE_STATUSES))
                         .order_by(BankEntryRow.booking_date, BankEntryRow.id).limit(limit))
        return [QueueRow(r.id, r.booking_date, r.amount, r.credit, r.reversal, r.counterparty_name,
                         r.counterparty_iban, r.remittance, r.creditor_reference, r.status, r.match_detail)
                for r in rows]


def _queued(s: Session, entry_id: int) -> BankEntryRow:
    """The queued entry, locked: of two people dealing with it at once the second waits, then is told who did."""
    row = lock_bank_entry(s, entry_id)
    if row is None:
        raise NotFound(N_("There is no bank entry {id}"), id=entry_id)
    if row.status not in QUEUE_STATUSES:
        raise RuleViolation(N_("Bank entry {id} is {status} already: {name} dealt with it"), id=entry_id,
                            status=row.status, name=row.assigned_by or "the import")
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
            raise RuleViolation(N_("Loan {loan} is {status}: no payment can be booked on it"), loan=target.number,
                                status=target.status)
        book = _Book(s, ctx.actor.name, now)
        posting = book.pay(target.id, row.amount, row.booking_date, _description(row))
        book.write()
        before = {"status": row.status}
        row.status, row.match_reason, row.loan_id, row.ledger_id = "matched", "manual", target.id, posting.id
        row.assigned_by, row.assigned_at = ctx.actor.name, now
        cases = _refresh_cases(s, {target.id}, today)
        audit.record(s, at=now, actor=ctx.actor.name, action="payment.assign", entity="bank_entry", entity_id=row.id,
                     case_id=cases.get(target.id), before=before,
                     after={"status": "matched", "loan": target.number, "amount": row.amount, "ledger_id": posting.id,
                            "credit": posting.credit, "recovery": posting.recovery})
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
        audit.record(s, at=now, actor=ctx.actor.name, action="payment.not_ours", entity="bank_entry", entity_id=row.id,
                     before=before, after={"status": "not_ours", "amount": row.amount, "reason": reason.strip()})


@dataclass(frozen=True)
class Recovery:
    ledger_id: int
    loan_number: str
    booking_date: date
    amount: Decimal


def recoveries(ctx: Context, since: date | None = None) -> list[Recovery]:
    """Payments booked on loans after a write-off (net of nothing: a reversed recovery shows its reversal too)."""
    query = (select(LedgerEntry.id, Loan.number, LedgerEntry.booking_date, LedgerEntry.amount)
             .join(LedgerLink, LedgerLink.ledger_id == LedgerEntry.id).join(Loan, Loan.id == LedgerEntry.loan_id)
             .where(LedgerLink.recovery.is_(True)).order_by(LedgerEntry.booking_date, LedgerEntry.id))
    if since is not None:
        query = query.where(LedgerEntry.booking_date >= since)
    with ctx.db.reader() as s:
        return [Recovery(*r) for r in s.execute(query)]


# ----------------------------------------------------------------------------------------------- monitoring


class _NetPaid:
    """Payments on each client's loans less reversals, per booking day, read for all the clients in a few queries."""

    def __init__(self, s: Session, client_ids: Iterable[int], since: date, until: date) -> None:
        sign = {LedgerKind.PAYMENT.value: 1, LedgerKind.REVERSAL.value: -1}
        self.days: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
        for part in _chunks(sorted(set(client_ids))):
            for client_id, day, kind, total in s.execute(
                select(Loan.client_id, LedgerEntry.booking_date, LedgerEntry.kind, money_sum(LedgerEntry.amount))
                .join(Loan, Loan.id == LedgerEntry.loan_id)
                .where(Loan.client_id.in_(part), LedgerEntry.kind.in_(tuple(sign)),
                       LedgerEntry.booking_date >= since, LedgerEntry.booking_date <= until)
                .group_by(Loan.client_id, LedgerEntry.booking_date, LedgerEntry.kind)
            ):
                self.days[client_id].append((day, sign[kind] * total))

    def between(self, client_id: int, start: date, end: date) -> Decimal:
        """Booked from ``start`` to ``end`` inclusive (within the range read)."""
        return sum((amount for day, amount in self.days.get(client_id, []) if start <= day <= end), ZERO)


def monitor(ctx: Context, day: date | None = None) -> MonitorReport:
    """Check every open promise and active arrangement against the payments allocated since it was made.

    - A promise (from the day of its contact) is kept once the payments reach its amount; it is broken when they
      do not by its due date plus ``payment_grace_days``: the case is flagged ``broken_promise`` and goes to the top
      of the worklist (next action today).
    - An arrangement's payments (from the day it was registered) fill its lines in order (``arrangement_lines.paid``).
      A line still short after its due date plus the grace days breaks the arrangement: it becomes ``broken``, the
      case ``active`` again with the flag ``broken_arrangement`` and next action today, so the procedure resumes.
      All lines paid: the arrangement is ``kept`` and the case closed; a loan with a BKR code A and no H after it
      gets an H.
    One transaction, one audit event per change. Overlapping promises of one case each count the same payments.
    The payments and the arrangement lines are read for all promises and arrangements at once, not one by one.
    """
    ctx.require(*MONITOR_ROLES)
    day = day or ctx.clock.today()
    grace = timedelta(days=ctx.settings.payment_grace_days)
    now = ctx.clock.now()
    report = MonitorReport()
    with ctx.db.transaction() as s:
        promises = [
            (promise, case, contact_at.date() if contact_at else case.opened_on)
            for promise, case, contact_at in s.execute(
                select(Promise, Case, Contact.at).join(Case, Case.id == Promise.case_id)
                .outerjoin(Contact, Contact.id == Promise.contact_id)
                .where(Promise.status == "open", Case.status != CaseStatus.CLOSED.value)
                .order_by(Promise.id)
            )
        ]
        arrangements = s.execute(
            select(Arrangement, Case).join(Case, Case.id == Arrangement.case_id)
            .where(Arrangement.status == ArrangementStatus.ACTIVE.value).order_by(Arrangement.id)
        ).all()
        starts = [start for _p, _c, start in promises] + [a.created_at.date() for a, _c in arrangements]
        net_paid = _NetPaid(s, [c.client_id for _p, c, _s in promises] + [c.client_id for _a, c in arrangements],
                            min(starts, default=day), day)
        for promise, case, start in promises:
            paid = net_paid.between(case.client_id, start, min(day, promise.due_date + grace))
            if paid >= promise.amount:
                promise.status = "kept"
                report.promises_kept += 1
            elif day > promise.due_date + grace:
                promise.status = "broken"
                _flag(case, "broken_promise", day, ctx.actor.name, now)
                report.promises_broken += 1
            else:
                continue
            audit.record(s, at=now, actor=ctx.actor.name, action=f"promise.{promise.status}", entity="promise",
                         entity_id=promise.id, case_id=case.id, before={"status": "open"},
                         after={"status": promise.status, "amount": promise.amount, "paid": paid,
                                "due_date": promise.due_date})
        lines: dict[int, list[ArrangementLine]] = defaultdict(list)
        for part in _chunks([a.id for a, _c in arrangements]):
            for line in s.scalars(select(ArrangementLine).where(ArrangementLine.arrangement_id.in_(part))
                                  .order_by(ArrangementLine.arrangement_id, ArrangementLine.seq)):
                lines[line.arrangement_id].append(line)
        for arrangement, case in arrangements:
            paid = net_paid.between(case.client_id, arrangement.created_at.date(), day)
            _check_arrangement(ctx, s, arrangement, case, lines[arrangement.id], paid, day, grace, now, report)
    return report


def _flag(case: Case, flag: str, day: date, actor: str, now: datetime) -> None:
    case.flag = flag
    case.next_action_date = day
    case.next_action = "Afspraak gebroken: opvolgen" if flag == "broken_arrangement" else "Toezegging gebroken: opvolgen"
    case.updated_by, case.updated_at = actor, now


def _check_arrangement(ctx: Context, s: Session, arrangement: Arrangement, case: Case, lines: list[ArrangementLine],
                       left: Decimal, day: date, grace: timedelta, now: datetime, report: MonitorReport) -> None:
    """Fill the lines in order with ``left`` (the net payments since the arrangement was made); kept or broken."""
    for line in lines:
        line.paid = min(line.amount, max(left, ZERO))
        left -= line.paid
    short = [ln for ln in lines if ln.paid < ln.amount]
    deferral = case.status == CaseStatus.DEFERRAL.value  # an approved deferral: no monitor step overrides it
    if not short:
        arrangement.status = ArrangementStatus.KEPT.value
        before = {"status": case.status}
        if deferral:
            audit.record(s, at=now, actor=ctx.actor.name, action="arrangement.kept", entity="arrangement",
                         entity_id=arrangement.id, case_id=case.id, before=before,
                         after={"status": case.status, "arrangement": "kept"})
            report.arrangements_kept += 1
            return
        case.status, case.closed_on, case.flag = CaseStatus.CLOSED.value, day, None
        case.updated_by, case.updated_at = ctx.actor.name, now
        report.arrangements_kept += 1
        report.cases_closed += 1
        codes = _bkr_h(ctx, s, case, day, now)
        report.bkr_h += len(codes)
        audit.record(s, at=now, actor=ctx.actor.name, action="arrangement.kept", entity="arrangement",
                     entity_id=arrangement.id, case_id=case.id, before=before,
                     after={"status": "closed", "arrangement": "kept", "bkr_h_loans": codes})
        return
    late = [ln for ln in short if day > ln.due_date + grace]
    if not late:
        return
    arrangement.status = ArrangementStatus.BROKEN.value
    before = {"status": case.status, "flag": case.flag}
    if case.status != CaseStatus.HANDED_OVER.value and not deferral:  # a case special management holds stays
        # theirs; during an approved deferral the case stays in it (no demand letter, no costs)
        case.status = CaseStatus.ACTIVE.value
    _flag(case, "broken_arrangement", day, ctx.actor.name, now)
    report.arrangements_broken += 1
    audit.record(s, at=now, actor=ctx.actor.name, action="arrangement.broken", entity="arrangement",
                 entity_id=arrangement.id, case_id=case.id, before=before,
                 after={"status": case.status, "flag": case.flag, "line": late[0].seq, "due_date": late[0].due_date,
                        "amount": late[0].amount, "paid": late[0].paid})


def _bkr_h(ctx: Context, s: Session, case: Case, day: date, now: datetime) -> list[int]:
    """Code H for each loan of the client whose newest A has no H after it and whose arrears is cleared (the same
    guard as the daily run's H: a line that fell due during the arrangement and is still open keeps the A; the daily
    run writes the H once it is paid)."""
    made = []
    # loan id -> its newest code A or H: read in id order, the last one of each loan wins
    newest: dict[int, str] = dict(s.execute(
        select(BkrMutation.loan_id, BkrMutation.code).join(Loan, Loan.id == BkrMutation.loan_id)
        .where(Loan.client_id == case.client_id, BkrMutation.code.in_(("A", "H"))).order_by(BkrMutation.id)
    ).all())
    standing = sorted(loan_id for loan_id, code in newest.items() if code == "A")
    arrears = loan_positions(s, standing, day)
    for loan_id in standing:
        try:
            check_bkr_cleared(True, arrears[loan_id].total)
        except RuleViolation:
            continue
        m = BkrMutation(loan_id=loan_id, client_id=case.client_id, code="H", mutation_date=day, amount=ZERO,
                        created_by=ctx.actor.name, created_at=now)
        s.add(m)
        s.flush()
        audit.record(s, at=now, actor=ctx.actor.name, action="bkr.H", entity="bkr_mutation", entity_id=m.id,
                     case_id=case.id, after={"loan_id": loan_id, "code": "H", "mutation_date": day})
        made.append(loan_id)
    return made
