"""Import of a statement file (:func:`import_statement`).

A file is parsed whole first (``bank.parse_statement_file``: a bad entry refuses the file, naming the element or
line), then booked in ONE transaction: every entry row, ledger row, allocation, position refresh and audit event
of the file commits together or not at all, so a crash halfway (kill -9) leaves nothing and the rerun is safe.
An entry whose ``dedup_key`` is already stored is a duplicate and is skipped, so importing a file twice, or two
overlapping statements, books each entry once (the UNIQUE key also stops two imports racing each other).

How, for files of 100,000 entries (``benchmarks/RESULTS.md``, "Payment import"): nothing is done per entry in the
database. The stored keys, the candidate loans and clients of all payments and the payments that reversals may undo
are read in a few IN (...) queries of slices; the open items of the touched loans are read once and allocated in
memory in file order; the rows are written with ``COPY`` (PostgreSQL) or ``executemany`` (SQLite) with ids taken
up front (``store.bulk.insert_rows``); the position cache is refreshed for the touched cases only; the audit events,
one per booked payment or reversal, go in with ``audit.record_many``, then one event for the import.

What an entry is
  - a credit that is neither a reversal nor a return: an incoming payment, matched (``payments.auto_match``) and
    booked (``payments.booking``);
  - a debit that is a reversal (``RvslInd``) or carries a return reason: it undoes an earlier payment (found by the
    end-to-end id, else by the counterparty IBAN and the amount, newest first) with a ledger row of kind
    ``reversal`` and the opposite of each of its allocations; not found: it goes to the queue;
  - anything else (our own debits, the return of our own transfer, a zero amount): stored, nothing booked
    (status ``not_payment``).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from incasso_tui.bank import BankEntry, Statement, parse_statement_file
from incasso_tui.bank.model import refuse_too_big
from incasso_tui.config import Settings
from incasso_tui.domain.enums import BankEntryStatus, LedgerKind
from incasso_tui.domain.references import normalize_reference
from incasso_tui.errors import N_, BadFile
from incasso_tui.services import audit
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.services.locking import serialise_imports
from incasso_tui.services.payments.auto_match import Lookup, Match, candidates
from incasso_tui.services.payments.booking import Book, Posting, Stored
from incasso_tui.services.payments.common import (
    KEY_CHUNK,
    chunks,
    entry_description,
    insert_rows,
    refresh_cases,
    take_ids,
)
from incasso_tui.store.bulk import bulk_page_cache
from incasso_tui.store.models import BankEntryRow, BankImport


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
        return {
            "entries": self.entries,
            "new": self.new,
            "duplicates": self.duplicates,
            "matched": self.matched,
            "unmatched": self.unmatched,
        }


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


_ENTRY_COLUMNS = (
    "id",
    "import_id",
    "dedup_key",
    "account_iban",
    "booking_date",
    "value_date",
    "amount",
    "credit",
    "reversal",
    "return_reason",
    "counterparty_name",
    "counterparty_iban",
    "remittance",
    "creditor_reference",
    "end_to_end_id",
    "bank_reference",
    "status",
    "match_reason",
    "match_detail",
    "loan_id",
    "ledger_id",
    "reverses_id",
)


def _entry_row(
    e: BankEntry, o: _Outcome, import_id: int, entry_id: int, ledger_id: int | None, reverses_id: int | None
) -> tuple[Any, ...]:
    """A bank entry row in the order of ``_ENTRY_COLUMNS`` (not assigned to anyone yet)."""
    return (
        entry_id,
        import_id,
        e.dedup_key,
        e.account_iban,
        e.booking_date,
        e.value_date,
        e.amount,
        e.credit,
        e.reversal,
        e.return_reason,
        (e.counterparty_name or None) and e.counterparty_name[:200],
        e.counterparty_iban,
        e.remittance,
        (e.creditor_reference or None) and e.creditor_reference[:64],
        (e.end_to_end_id or None) and e.end_to_end_id[:64],
        (e.bank_reference or None) and e.bank_reference[:64],
        o.status,
        o.reason,
        o.detail and o.detail[:200],
        o.loan_id,
        ledger_id,
        reverses_id,
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
        raise BadFile(
            N_("Cannot read {path}: {error}"), where=str(path), path=str(path), error=exc.strerror or str(exc)
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadFile(
                N_("{path} is not a regular file (a pipe, a device or a directory): not read"),
                where=str(path),
                path=str(path),
            )
        if info.st_size > max_bytes:
            raise BadFile(
                N_("The file is {size} bytes, more than the {limit} bytes a statement file may have"),
                where="file size",
                size=info.st_size,
                limit=max_bytes,
            )
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)  # a file that grew meanwhile is still bounded
    except OSError as exc:
        raise BadFile(
            N_("Cannot read {path}: {error}"), where=str(path), path=str(path), error=exc.strerror or str(exc)
        ) from None
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
        raise BadFile(
            N_("No own accounts are set (setting lender_accounts): a statement cannot be checked"),
            where="lender_accounts",
        )
    earliest = today - timedelta(days=settings.statement_max_days_back)
    latest = today + timedelta(days=min(settings.statement_max_days_ahead, (date.max - today).days))
    cents = 0
    for st in statements:
        account = normalize_reference(st.account_iban)
        if account not in own:
            raise BadFile(
                N_(
                    "Statement {statement} is of account {account}, which is not one of our accounts "
                    "(setting lender_accounts)"
                ),
                where=f"statement {st.statement_id}",
                statement=st.statement_id,
                account=st.account_iban,
            )
        for e in st.entries:
            for day in (e.booking_date, e.value_date):
                if day is not None and not earliest <= day <= latest:
                    raise BadFile(
                        N_(
                            "Entry {entry}: the date {day} is more than the settings allow from today "
                            "({earliest} to {latest})"
                        ),
                        where=f"entry {e.entry_index}",
                        entry=e.entry_index,
                        day=day.isoformat(),
                        earliest=earliest.isoformat(),
                        latest=latest.isoformat(),
                    )
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
    for part in chunks(keys, KEY_CHUNK):
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
    with ctx.db.transaction() as s, bulk_page_cache(s):
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
        payments = [(i, candidates(e, prefix)) for i, e in enumerate(fresh) if _is_payment(e)]
        lookup = Lookup(s, (c for _i, c in payments), horizon + timedelta(days=1))
        matches = {i: lookup.match(c) for i, c in payments}
        del payments, lookup
        book = Book(s, ctx.actor.name, now)
        book.load({m.loan_id for m in matches.values() if m.loan_id is not None}, horizon)
        undos = [e for e in fresh if _is_undo(e)]
        outcomes = _book_entries(fresh, matches, book, _Originals(s, book, undos) if undos else None, report)
        del matches
        book.write()
        ids = take_ids(s, BankEntryRow, len(fresh))
        postings = book.postings
        insert_rows(
            s,
            BankEntryRow,
            _ENTRY_COLUMNS,
            (
                _entry_row(
                    e,
                    o,
                    imp.id,
                    ids[i],
                    postings[o.posting].id if o.posting is not None else None,
                    ids[o.reverses] if o.reverses is not None else o.reverses_id,
                )
                for i, (e, o) in enumerate(zip(fresh, outcomes, strict=True))
            ),
        )
        reversed_ids = [{"id": o.reverses_id, "status": "reversed"} for o in outcomes if o.reverses_id is not None]
        if reversed_ids:
            s.execute(update(BankEntryRow), reversed_ids)
        imp.matched, imp.unmatched = report.matched, report.unmatched
        cases = refresh_cases(s, book.touched_loans(), today)
        audit.record_many(s, _posting_events(ctx.actor.name, now, outcomes, postings, ids, cases))
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="payments.import",
            entity="bank_import",
            entity_id=imp.id,
            after={
                "file": file_name,
                **report.counts(),
                "reversals": report.reversals,
                "recoveries": report.recoveries,
            },
        )
    return report


def _book_entries(
    fresh: list[BankEntry], matches: dict[int, Match], book: Book, originals: _Originals | None, report: ImportReport
) -> list[_Outcome]:
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
            posting = book.pay(m.loan_id, e.amount, e.booking_date, entry_description(e))
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
            description = f"Storno {e.return_reason or ''} {entry_description(e)}".strip()
            if isinstance(found, int):  # a payment of this file
                target = outcomes[found]
                assert target.posting is not None
                outcomes[found] = target._replace(status="reversed")
                book.undo(book.postings[target.posting], e.booking_date, description)
                outcomes[i] = _Outcome(
                    "reversal", loan_id=target.loan_id, posting=len(book.postings) - 1, reverses=found
                )
            else:
                entry_id, loan_id, stored = found
                book.undo(stored, e.booking_date, description)
                outcomes[i] = _Outcome(
                    "reversal", loan_id=loan_id, posting=len(book.postings) - 1, reverses_id=entry_id
                )
    return outcomes


def _posting_events(
    actor: str, now: datetime, outcomes: list[_Outcome], postings: list[Posting], ids: list[int], cases: dict[int, int]
) -> Iterator[audit.Event]:
    """One event per booked payment or reversal, on the case of the loan's client (when it has an open one)."""
    for i, o in enumerate(outcomes):
        if o.posting is None:
            continue
        posting = postings[o.posting]
        action = "payment.book" if posting.kind == LedgerKind.PAYMENT.value else "payment.reverse"
        yield audit.Event(
            at=now,
            actor=actor,
            action=action,
            entity="bank_entry",
            entity_id=ids[i],
            case_id=cases.get(posting.loan_id),
            after={
                "loan_id": posting.loan_id,
                "amount": posting.amount,
                "ledger_id": posting.id,
                "reason": o.reason,
                "credit": posting.credit,
                "recovery": posting.recovery,
            },
        )


def _import_row(
    statements: list[Statement], file_name: str, digest: str, actor: str, now: datetime, report: ImportReport
) -> BankImport:
    first = statements[0] if statements else None
    return BankImport(
        file_name=file_name[:300],
        file_hash=digest,
        format=first.format if first else "",
        account_iban=first.account_iban if first else "",
        statement_ids=",".join(st.statement_id for st in statements)[:500],
        imported_at=now,
        imported_by=actor,
        entries=report.entries,
        new=report.new,
        duplicates=report.duplicates,
        matched=0,
        unmatched=0,
    )


class _Originals:
    """Finds the payment a reversal (or return) undoes: the newest payment of this file before it with the same
    amount and end-to-end id (without one: the same counterparty IBAN), else the newest stored matched payment
    that fits the same way. Each payment is undone at most once.

    The stored candidates of all the file's reversals are read at the start in a few IN (...) queries; the file's
    own payments are indexed as they are booked, so a reversal costs no query and no scan of the file.
    """

    def __init__(self, s: Session, book: Book, undos: list[BankEntry]) -> None:
        e2e = {e.end_to_end_id for e in undos if e.end_to_end_id}
        ibans = {e.counterparty_iban for e in undos if not e.end_to_end_id and e.counterparty_iban}
        found: dict[int, Any] = {}  # entry id -> (booking date, id, end-to-end id, IBAN, amount, ledger id, loan id)
        base = select(
            BankEntryRow.booking_date,
            BankEntryRow.id,
            BankEntryRow.end_to_end_id,
            BankEntryRow.counterparty_iban,
            BankEntryRow.amount,
            BankEntryRow.ledger_id,
            BankEntryRow.loan_id,
        ).where(BankEntryRow.status == BankEntryStatus.MATCHED, BankEntryRow.ledger_id.is_not(None))
        # locked (PostgreSQL): a payment being undone by hand at the same moment is undone once; after the wait the
        # row is read again and no longer "matched"
        base = base.with_for_update(of=BankEntryRow)
        for column, values in ((BankEntryRow.end_to_end_id, e2e), (BankEntryRow.counterparty_iban, ibans)):
            for part in chunks(sorted(values)):
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

    def find(self, e: BankEntry, outcomes: list[_Outcome]) -> int | tuple[int, int | None, Stored] | None:
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
