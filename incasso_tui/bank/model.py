"""What a parsed bank statement looks like, whatever the file format was.

A :class:`Statement` holds :class:`BankEntry` values, one per transaction: a batch booking (one CAMT
``Ntry`` with several ``TxDtls``) becomes one entry per transaction, so each can be matched to a loan.

``BankEntry.dedup_key`` lets the payment import skip an entry it has already imported from another
statement that covers the same days. It is built by :class:`DedupKeyer` as follows:

1. a canonical text ``account | booking date | [R]C or [R]D | amount | basis``, where ``basis`` is the
   first that exists of

   - ``ref:`` + the bank's own reference (CAMT ``AcctSvcrRef``, MT940 reference after ``//``),
   - ``e2e:`` + the end-to-end id the payer gave,
   - ``txt:`` + a hash of the content: value date, counterparty IBAN and name, remittance text,
     creditor reference, return reason;

2. followed by ``| n``: with the bank's own reference, n is the transaction's place in its booking (a batch
   shares the booking's reference), so the same reference twice on the same day and amount is the same
   entry, whether it appears twice in one statement or in two files (issue 16). Without one, n counts
   the entries of the statement with the same canonical text: two identical payments on one day keep
   apart, and the same entries read again from an overlapping statement, or from the same statement
   repeated in one file, get the same numbers (a keyer per statement: ``DedupKeyer`` is made anew for
   each);
3. the key is the first 32 hexadecimal digits of the SHA-256 of that text.

Keys are comparable between files in the same format from the same bank only: an MT940 and a CAMT
export of the same account carry different references.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from incasso_tui.errors import N_, BadFile

__all__ = [
    "ACCEPTED_CURRENCY",
    "MAX_BYTES",
    "BankEntry",
    "DedupKeyer",
    "EntryDraft",
    "Statement",
    "refuse_too_big",
]

ACCEPTED_CURRENCY = "EUR"  # the lender's accounts are in euro; any other currency is refused
MAX_BYTES = 200 * 1024 * 1024  # default bound on the size of a statement file


class BankEntry(NamedTuple):
    """One transaction on the account. ``amount`` is never negative; ``credit`` tells the direction.

    Immutable. A named tuple rather than a frozen dataclass: a statement file has up to a few hundred thousand of
    them, and a frozen dataclass takes about six times as long to make (one ``object.__setattr__`` per field)."""

    account_iban: str
    booking_date: date
    value_date: date | None
    amount: Decimal  # whole cents, exactly as in the file
    credit: bool  # True: money came in
    currency: str
    counterparty_name: str | None
    counterparty_iban: str | None
    remittance: str  # unstructured text, whitespace collapsed; may be ""
    creditor_reference: str | None  # structured reference (RF, betalingskenmerk, ...) as given, normalized
    end_to_end_id: str | None
    bank_reference: str | None
    reversal: bool  # the bank reverses an earlier booking (CAMT RvslInd, MT940 RC/RD)
    return_reason: str | None  # e.g. "AC06", "MS03"
    entry_index: int  # 1-based position of the booking (CAMT Ntry, MT940 :61:) in the file
    tx_index: int  # 1-based position of the transaction within its booking (batches); 1 otherwise
    dedup_key: str


class EntryDraft(NamedTuple):
    """A :class:`BankEntry` before its dedup key is known: the same fields in the same order."""

    account_iban: str
    booking_date: date
    value_date: date | None
    amount: Decimal
    credit: bool
    currency: str
    counterparty_name: str | None
    counterparty_iban: str | None
    remittance: str
    creditor_reference: str | None
    end_to_end_id: str | None
    bank_reference: str | None
    reversal: bool
    return_reason: str | None
    entry_index: int
    tx_index: int


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement (CAMT ``Stmt``/``Ntfctn``, MT940 ``:20:`` to ``:62F:``) of one account."""

    format: str  # "camt.053.001.02", "camt.054.001.04", "mt940-ing", "mt940-rabo", ...
    statement_id: str
    account_iban: str
    currency: str
    entries: tuple[BankEntry, ...]


class DedupKeyer:
    """Turns drafts into entries with their dedup key; use one per statement (see the module docstring)."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def entry(self, draft: EntryDraft) -> BankEntry:
        return BankEntry(*draft, self._key(draft))

    def _key(self, d: EntryDraft) -> str:
        if d.bank_reference:
            basis = f"ref:{d.bank_reference}"
        elif d.end_to_end_id:
            basis = f"e2e:{d.end_to_end_id}"
        else:
            content = "\x1f".join(
                (
                    d.value_date.isoformat() if d.value_date else "",
                    d.counterparty_iban or "",
                    d.counterparty_name or "",
                    d.remittance,
                    d.creditor_reference or "",
                    d.return_reason or "",
                )
            )
            basis = "txt:" + hashlib.sha256(content.encode()).hexdigest()
        direction = ("R" if d.reversal else "") + ("C" if d.credit else "D")
        canonical = f"{d.account_iban}|{d.booking_date.isoformat()}|{direction}|{d.amount:.2f}|{basis}"
        if d.bank_reference:
            n = d.tx_index
        else:
            n = self._seen.get(canonical, 0) + 1
            self._seen[canonical] = n
        return hashlib.sha256(f"{canonical}|{n}".encode()).hexdigest()[:32]


def refuse_too_big(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise BadFile(
            N_("The file is {size} bytes, more than the {limit} bytes a statement file may have"),
            where="file size",
            size=len(data),
            limit=max_bytes,
        )
