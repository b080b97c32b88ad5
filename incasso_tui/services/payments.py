"""Incoming payments (issue 4): statement import, matching, allocation (art. 6:44 BW), the unmatched queue,
monitoring of promises and arrangements, and recoveries after a write-off.

Import (:func:`import_statement`)
  A file is parsed whole first (``bank.parse_statement_file``: a bad entry refuses the file, naming the element or
  line), then booked in ONE transaction: every entry row, ledger row, allocation, position refresh and audit event
  of the file commits together or not at all, so a crash halfway (kill -9) leaves nothing and the rerun is safe.
  An entry whose ``dedup_key`` is already stored is a duplicate and is skipped, so importing a file twice, or two
  overlapping statements, books each entry once (the UNIQUE key also stops two imports racing each other).

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
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from incasso_tui.bank import BankEntry, Statement, parse_statement_file
from incasso_tui.domain.arrears import OpenItem, allocate
from incasso_tui.domain.enums import ArrangementStatus, CaseStatus, LedgerKind, LoanStatus, Role
from incasso_tui.domain.money import ZERO
from incasso_tui.domain.references import is_valid_betalingskenmerk, is_valid_rf, normalize_reference
from incasso_tui.errors import N_, BadFile, BadInput, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.services.positions import refresh_case_positions
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
QUEUE_STATUSES = ("unmatched", "ambiguous")
MONITOR_ROLES = (Role.EMPLOYEE, Role.SUPERVISOR, Role.ADMIN)
_LOAN_IN_TEXT = re.compile(r"\bL ?([0-9]{8})\b")
_OPEN_LINE = Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest
_T = TypeVar("_T")


def _chunks(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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


@dataclass
class _Match:
    status: str  # matched | unmatched | ambiguous
    reason: str | None = None
    detail: str | None = None
    loan_id: int | None = None


@dataclass
class _Candidates:
    """What one payment's references point at (numbers, before they are looked up)."""

    rf_loans: set[str] = field(default_factory=set)
    kenmerk_loans: set[str] = field(default_factory=set)
    kenmerk_clients: set[str] = field(default_factory=set)
    text_loans: set[str] = field(default_factory=set)
    iban: str | None = None
    rf: str | None = None
    kenmerk: str | None = None


def _candidates(entry: BankEntry, rf_prefix: str) -> _Candidates:
    c = _Candidates()
    ref = normalize_reference(entry.creditor_reference or "")
    if ref and is_valid_rf(ref):
        c.rf = ref
        base = ref[4:]
        c.rf_loans.add(base)  # the loan number itself as the base
        if base.startswith(rf_prefix) and base[len(rf_prefix):].isdigit():
            c.rf_loans.add(f"L{int(base[len(rf_prefix):]):08d}")
    kenmerk = ref.replace(".", "")
    if kenmerk and is_valid_betalingskenmerk(kenmerk):
        c.kenmerk = kenmerk
        body = int(kenmerk[1:])
        if body < 10**8:
            c.kenmerk_loans.add(f"L{body:08d}")
        if body < 10**7:
            c.kenmerk_clients.add(f"C{body:07d}")
    c.text_loans = {f"L{digits}" for digits in _LOAN_IN_TEXT.findall(entry.remittance.upper())}
    if entry.counterparty_iban:
        c.iban = normalize_reference(entry.counterparty_iban)
    return c


class _Lookup:
    """Set-based look-ups for the candidates of a whole file: a few IN (...) queries, never one per entry."""

    def __init__(self, s: Session, cands: Iterable[_Candidates], day: date) -> None:
        cands = list(cands)
        loan_numbers = sorted({n for c in cands for n in (*c.rf_loans, *c.kenmerk_loans, *c.text_loans)})
        client_numbers = sorted({n for c in cands for n in c.kenmerk_clients})
        ibans = sorted({c.iban for c in cands if c.iban})
        self.loans: dict[str, int] = {}
        for part in _chunks(loan_numbers):
            self.loans.update(s.execute(select(Loan.number, Loan.id).where(Loan.number.in_(part))).all())
        self.clients: dict[str, int] = {}
        for part in _chunks(client_numbers):
            self.clients.update(s.execute(select(Client.number, Client.id).where(Client.number.in_(part))).all())
        self.iban_clients: dict[str, list[int]] = defaultdict(list)
        for part in _chunks(ibans):
            for iban, client_id in s.execute(select(Client.iban, Client.id).where(Client.iban.in_(part))):
                self.iban_clients[iban].append(client_id)
        client_ids = sorted({*self.clients.values(), *(i for v in self.iban_clients.values() for i in v)})
        # each client's loans that can still take a payment, with the oldest open past-due item
        self.client_loans: dict[int, list[tuple[int, date | None]]] = defaultdict(list)
        for part in _chunks(client_ids):
            oldest = (
                select(Installment.loan_id, func.min(Installment.due_date).label("oldest"))
                .where(Installment.due_date < day, _OPEN_LINE)
                .group_by(Installment.loan_id)
                .subquery()
            )
            rows = s.execute(
                select(Loan.client_id, Loan.id, oldest.c.oldest)
                .outerjoin(oldest, oldest.c.loan_id == Loan.id)
                .where(Loan.client_id.in_(part), Loan.status != LoanStatus.REPAID.value)
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

    def _loans(self, numbers: set[str], reason: str, detail: str) -> _Match | None:
        found = sorted({self.loans[n] for n in numbers if n in self.loans})
        if not found:
            return None
        if len(found) > 1:
            return _Match("ambiguous", reason, detail)
        return _Match("matched", reason, detail, found[0])

    def match(self, c: _Candidates) -> _Match:
        for found in (
            self._loans(c.rf_loans, "rf", c.rf or ""),
            self._loans(c.kenmerk_loans, "kenmerk_loan", c.kenmerk or ""),
            self._client_loan([self.clients[n] for n in c.kenmerk_clients if n in self.clients], "kenmerk_client",
                              c.kenmerk or ""),
            self._loans(c.text_loans, "loan_number", ", ".join(sorted(c.text_loans))),
            self._client_loan(self.iban_clients.get(c.iban, []) if c.iban else [], "iban", c.iban or ""),
        ):
            if found is not None:
                return found
        return _Match("unmatched")


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
    dirty: bool = False


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
        """Read the open items due on or before ``horizon`` of loans not read yet."""
        ids = sorted(set(loan_ids) - self.loaded)
        self.loaded.update(ids)
        for part in _chunks(ids):
            for row in self.s.execute(
                select(Installment.loan_id, Installment.seq, Installment.due_date, Installment.principal,
                       Installment.interest, Installment.principal_paid, Installment.interest_paid)
                .where(Installment.loan_id.in_(part), Installment.due_date <= horizon, _OPEN_LINE)
            ):
                self._add_line(_Line(*row))
            for row in self.s.execute(
                select(Charge.id, Charge.loan_id, Charge.due_date, Charge.amount, Charge.paid)
                .where(Charge.loan_id.in_(part), Charge.due_date <= horizon, Charge.paid < Charge.amount)
            ):
                self._add_charge(_Charge(*row))
            self.written_off.update(self.s.scalars(
                select(LedgerEntry.loan_id).where(LedgerEntry.loan_id.in_(part),
                                                  LedgerEntry.kind == LedgerKind.WRITE_OFF.value).distinct()))

    def _add_line(self, line: _Line) -> None:
        self.lines[(line.loan_id, line.seq)] = line
        self.by_loan[line.loan_id].append((line.loan_id, line.seq))

    def _add_charge(self, charge: _Charge) -> None:
        self.charges[charge.id] = charge
        self.charges_by_loan[charge.loan_id].append(charge.id)

    def pay(self, loan_id: int, amount: Decimal, day: date, description: str) -> _Posting:
        self.load([loan_id], day)
        items: list[OpenItem] = []
        for cid in self.charges_by_loan[loan_id]:
            ch = self.charges[cid]
            if ch.due <= day and ch.paid < ch.amount:
                items.append(OpenItem(f"c{cid}", "costs", ch.due, ch.amount - ch.paid))
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
            if part.component == "costs":
                ch = self.charges[int(part.key[1:])]
                ch.paid += part.amount
                ch.dirty = True
                parts.append(("costs", None, ch.id, part.amount))
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

    def undo(self, original: _Posting | int, day: date, description: str) -> _Posting:
        """Book a reversal of a payment: ``original`` is a posting of this book or a stored ledger id."""
        if isinstance(original, _Posting):
            loan_id, amount, credit, parts = original.loan_id, original.amount, original.credit, original.parts
        else:
            row = self.s.get(LedgerEntry, original)
            assert row is not None
            loan_id, amount, credit = row.loan_id, row.amount, row.credit
            parts = [(a.component, a.installment_seq, a.charge_id, a.amount)
                     for a in self.s.scalars(select(Allocation).where(Allocation.ledger_id == original))]
        for component, seq, charge_id, part in parts:
            if component == "costs":
                assert charge_id is not None
                ch = self.charges.get(charge_id) or self._fetch_charge(charge_id)
                ch.paid -= part
                ch.dirty = True
            else:
                assert seq is not None
                ln = self.lines.get((loan_id, seq)) or self._fetch_line(loan_id, seq)
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
            posting.reverses_ledger_id = original
        self.postings.append(posting)
        return posting

    def _fetch_line(self, loan_id: int, seq: int) -> _Line:
        inst = self.s.get(Installment, (loan_id, seq))
        assert inst is not None
        line = _Line(loan_id, seq, inst.due_date, inst.principal, inst.interest, inst.principal_paid, inst.interest_paid)
        self._add_line(line)
        return line

    def _fetch_charge(self, charge_id: int) -> _Charge:
        ch = self.s.get(Charge, charge_id)
        assert ch is not None
        charge = _Charge(ch.id, ch.loan_id, ch.due_date, ch.amount, ch.paid)
        self._add_charge(charge)
        return charge

    def write(self) -> None:
        """Write the postings, their allocations and links, and the paid amounts of the items they moved."""
        if not self.postings:
            return
        rows = [{"loan_id": p.loan_id, "booking_date": p.booking_date, "kind": p.kind, "amount": p.amount,
                 "description": p.description[:300], "credit": p.credit, "created_by": self.actor,
                 "created_at": self.now} for p in self.postings]
        ids = _insert_returning_ids(self.s, LedgerEntry, rows)
        for posting, ledger_id in zip(self.postings, ids, strict=True):
            posting.id = ledger_id
        allocations = [{"ledger_id": p.id, "loan_id": p.loan_id, "component": c, "installment_seq": q,
                        "charge_id": i, "amount": a} for p in self.postings for c, q, i, a in p.parts]
        for part in _chunks(allocations, 5000):
            self.s.execute(insert(Allocation), list(part))
        links = []
        for p in self.postings:
            reverses = p.reverses.id if p.reverses is not None else p.reverses_ledger_id
            if p.recovery or reverses is not None:
                links.append({"ledger_id": p.id, "recovery": p.recovery, "reverses_ledger_id": reverses})
        if links:
            self.s.execute(insert(LedgerLink), links)
        lines = [{"loan_id": ln.loan_id, "seq": ln.seq, "principal_paid": ln.principal_paid,
                  "interest_paid": ln.interest_paid} for ln in self.lines.values() if ln.dirty]
        if lines:
            self.s.execute(update(Installment), lines)
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


# ----------------------------------------------------------------------------------------------- import


def _is_payment(e: BankEntry) -> bool:
    return e.credit and not e.reversal and not e.return_reason and e.amount > 0


def _is_undo(e: BankEntry) -> bool:
    return not e.credit and (e.reversal or bool(e.return_reason)) and e.amount > 0


def _entry_row(e: BankEntry, import_id: int) -> dict[str, Any]:
    return {
        "import_id": import_id, "dedup_key": e.dedup_key, "account_iban": e.account_iban,
        "booking_date": e.booking_date, "value_date": e.value_date, "amount": e.amount, "credit": e.credit,
        "reversal": e.reversal, "return_reason": e.return_reason,
        "counterparty_name": (e.counterparty_name or None) and e.counterparty_name[:200],
        "counterparty_iban": e.counterparty_iban, "remittance": e.remittance,
        "creditor_reference": (e.creditor_reference or None) and e.creditor_reference[:64],
        "end_to_end_id": (e.end_to_end_id or None) and e.end_to_end_id[:64],
        "bank_reference": (e.bank_reference or None) and e.bank_reference[:64],
        "status": "not_payment", "match_reason": None, "match_detail": None, "loan_id": None, "ledger_id": None,
        "reverses_id": None, "assigned_by": None, "assigned_at": None,
    }


def _read(source: Path | str | bytes, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, name or "(bytes)"
    path = Path(source)
    try:
        return path.read_bytes(), name or path.name
    except OSError as exc:
        raise BadFile(N_("Cannot read {path}: {error}"), where=str(path), path=str(path),
                      error=exc.strerror or str(exc)) from None


def import_statement(ctx: Context, source: Path | str | bytes, name: str | None = None) -> ImportReport:
    """Import one statement file (CAMT.053/054, MT940) in one transaction; see the module docstring."""
    ctx.require(*DESK_WRITERS)
    data, file_name = _read(source, name)
    statements = parse_statement_file(data, file_name)
    entries = [e for st in statements for e in st.entries]
    report = ImportReport(file_name=file_name, entries=len(entries))
    now, today = ctx.clock.now(), ctx.clock.today()
    with ctx.db.transaction() as s:
        known: set[str] = set()
        keys = [e.dedup_key for e in entries]
        for part in _chunks(keys):
            known.update(s.scalars(select(BankEntryRow.dedup_key).where(BankEntryRow.dedup_key.in_(part))))
        fresh = [e for e in entries if e.dedup_key not in known]
        report.new, report.duplicates = len(fresh), len(entries) - len(fresh)
        imp = _import_row(statements, file_name, hashlib.sha256(data).hexdigest(), ctx.actor.name, now, report)
        s.add(imp)
        s.flush()
        report.import_id = imp.id
        rows = [_entry_row(e, imp.id) for e in fresh]
        book = _Book(s, ctx.actor.name, now)
        payments = [(i, e) for i, e in enumerate(fresh) if _is_payment(e)]
        lookup = _Lookup(s, (_candidates(e, ctx.settings.payment_rf_prefix) for _, e in payments),
                         max((e.booking_date for e in fresh), default=today) + timedelta(days=1))
        matches = {i: lookup.match(_candidates(e, ctx.settings.payment_rf_prefix)) for i, e in payments}
        book.load({m.loan_id for m in matches.values() if m.loan_id is not None},
                  max((e.booking_date for e in fresh), default=today))
        postings: dict[int, _Posting] = {}
        reverses_in_file: dict[int, int] = {}  # row index of a reversal -> row index of the payment it undid
        for i, e in enumerate(fresh):
            row = rows[i]
            if i in matches:
                m = matches[i]
                row.update(status=m.status, match_reason=m.reason, match_detail=m.detail and m.detail[:200])
                if m.loan_id is not None:
                    row["loan_id"] = m.loan_id
                    postings[i] = book.pay(m.loan_id, e.amount, e.booking_date, _description(e))
                    report.matched += 1
                    report.recoveries += postings[i].recovery
                else:
                    report.unmatched += 1
            elif _is_undo(e):
                target = _find_original(s, e, fresh, postings, rows)
                if target is None:
                    row.update(status="unmatched", match_detail="reversal: payment not found")
                    report.unmatched += 1
                    continue
                report.reversals += 1
                description = f"Storno {e.return_reason or ''} {_description(e)}".strip()
                if isinstance(target, int):  # a payment of this file
                    rows[target]["status"] = "reversed"
                    postings[i] = book.undo(postings[target], e.booking_date, description)
                    reverses_in_file[i] = target
                    row.update(status="reversal", loan_id=rows[target]["loan_id"])
                else:
                    s.execute(update(BankEntryRow).where(BankEntryRow.id == target.id).values(status="reversed"))
                    assert target.ledger_id is not None
                    postings[i] = book.undo(target.ledger_id, e.booking_date, description)
                    row.update(status="reversal", loan_id=target.loan_id, reverses_id=target.id)
        book.write()
        for i, posting in postings.items():
            rows[i]["ledger_id"] = posting.id
        ids = _insert_returning_ids(s, BankEntryRow, rows)
        if reverses_in_file:
            s.execute(update(BankEntryRow), [{"id": ids[i], "reverses_id": ids[t]} for i, t in reverses_in_file.items()])
        imp.matched, imp.unmatched = report.matched, report.unmatched
        cases = _refresh_cases(s, book.touched_loans(), today)
        with s.no_autoflush:  # the events are flushed together at the end, not one flush per event
            _audit_postings(s, ctx.actor.name, now, postings, rows, ids, cases)
        audit.record(s, at=now, actor=ctx.actor.name, action="payments.import", entity="bank_import",
                     entity_id=imp.id, after={"file": file_name, **report.counts(), "reversals": report.reversals,
                                              "recoveries": report.recoveries})
    return report


def _audit_postings(s: Session, actor: str, now: datetime, postings: dict[int, _Posting], rows: list[dict[str, Any]],
                    ids: list[int], cases: dict[int, int]) -> None:
    """One event per booked payment or reversal, on the case of the loan's client (when it has an open one)."""
    for i, posting in postings.items():
        action = "payment.book" if posting.kind == LedgerKind.PAYMENT.value else "payment.reverse"
        audit.record(s, at=now, actor=actor, action=action, entity="bank_entry", entity_id=ids[i],
                     case_id=cases.get(posting.loan_id),
                     after={"loan_id": posting.loan_id, "amount": posting.amount, "ledger_id": posting.id,
                            "reason": rows[i]["match_reason"], "credit": posting.credit, "recovery": posting.recovery})


def _insert_returning_ids(s: Session, model: type[Any], rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` and return their new ids in the same order.

    The ids are taken first and given explicitly, so the rows go in as one plain multi-row insert (RETURNING with
    the rows' order costs about 0.2 ms a row here). PostgreSQL hands out ids from the table's sequence; SQLite gives
    the next ids after the highest, which is safe because a writer holds SQLite's write lock (BEGIN IMMEDIATE).
    """
    if not rows:
        return []
    table = model.__table__
    if s.get_bind().dialect.name == "postgresql":
        ids = list(s.scalars(select(func.nextval(func.pg_get_serial_sequence(table.name, "id")))
                             .select_from(func.generate_series(1, len(rows)))))
    else:
        first = (s.scalar(select(func.max(table.c.id))) or 0) + 1
        ids = list(range(first, first + len(rows)))
    for part_ids, part in zip(_chunks(ids, 5000), _chunks(rows, 5000), strict=True):
        s.execute(insert(model), [{**row, "id": i} for row, i in zip(part, part_ids, strict=True)])
    return ids


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


def _find_original(s: Session, e: BankEntry, fresh: list[BankEntry], postings: dict[int, _Posting],
                   rows: list[dict[str, Any]]) -> int | BankEntryRow | None:
    """The payment a reversal undoes: first in this file (the newest before it), else stored; None: not found."""
    def fits(end_to_end: str | None, iban: str | None, amount: Decimal) -> bool:
        if amount != e.amount:
            return False
        if e.end_to_end_id:
            return end_to_end == e.end_to_end_id
        return bool(e.counterparty_iban) and iban == e.counterparty_iban

    for j in sorted(postings, reverse=True):
        o = fresh[j]
        if rows[j]["status"] == "matched" and postings[j].kind == LedgerKind.PAYMENT.value and \
                fits(o.end_to_end_id, o.counterparty_iban, o.amount):
            return j
    query = select(BankEntryRow).where(BankEntryRow.status == "matched", BankEntryRow.amount == e.amount,
                                       BankEntryRow.ledger_id.is_not(None))
    if e.end_to_end_id:
        query = query.where(BankEntryRow.end_to_end_id == e.end_to_end_id)
    elif e.counterparty_iban:
        query = query.where(BankEntryRow.counterparty_iban == e.counterparty_iban)
    else:
        return None
    return s.scalar(query.order_by(BankEntryRow.booking_date.desc(), BankEntryRow.id.desc()).limit(1))


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
    row = s.get(BankEntryRow, entry_id)
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
    if not short:
        arrangement.status = ArrangementStatus.KEPT.value
        before = {"status": case.status}
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
    case.status = CaseStatus.ACTIVE.value
    _flag(case, "broken_arrangement", day, ctx.actor.name, now)
    report.arrangements_broken += 1
    audit.record(s, at=now, actor=ctx.actor.name, action="arrangement.broken", entity="arrangement",
                 entity_id=arrangement.id, case_id=case.id, before=before,
                 after={"status": case.status, "flag": case.flag, "line": late[0].seq, "due_date": late[0].due_date,
                        "amount": late[0].amount, "paid": late[0].paid})


def _bkr_h(ctx: Context, s: Session, case: Case, day: date, now: datetime) -> list[int]:
    """Code H for each loan of the client whose newest A has no H after it."""
    made = []
    # loan id -> its newest code A or H: read in id order, the last one of each loan wins
    newest: dict[int, str] = dict(s.execute(
        select(BkrMutation.loan_id, BkrMutation.code).join(Loan, Loan.id == BkrMutation.loan_id)
        .where(Loan.client_id == case.client_id, BkrMutation.code.in_(("A", "H"))).order_by(BkrMutation.id)
    ).all())
    for loan_id in sorted(newest):
        if newest[loan_id] == "A":
            m = BkrMutation(loan_id=loan_id, client_id=case.client_id, code="H", mutation_date=day, amount=ZERO,
                            created_by=ctx.actor.name, created_at=now)
            s.add(m)
            s.flush()
            audit.record(s, at=now, actor=ctx.actor.name, action="bkr.H", entity="bkr_mutation", entity_id=m.id,
                         case_id=case.id, after={"loan_id": loan_id, "code": "H", "mutation_date": day})
            made.append(loan_id)
    return made
