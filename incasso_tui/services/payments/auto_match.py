"""Matching a payment to a loan at import, in this order; each level that finds exactly one loan decides, with its
reason:

1. ``rf``: an ISO 11649 RF reference whose base is ``payment_rf_prefix`` + the loan number's digits (or the loan
   number itself);
2. ``kenmerk_loan`` / ``kenmerk_client``: a valid 16-digit betalingskenmerk whose body is a loan number's digits,
   or a client number's digits (the reference on our letters, ``services.letters._reference``);
3. ``loan_number``: a loan number (``L`` + 8 digits, a space allowed) in the remittance text;
4. ``iban``: the debtor's IBAN is the IBAN known for exactly one client.

A client-level match (2b, 4) books on the client's loan with the oldest open past-due item; a client with several
loans and nothing past due, or a level that finds several loans, makes the entry ``ambiguous``. Unmatched and
ambiguous entries wait in the queue (``payments.unmatched``) for ``assign`` or ``mark_not_ours``; the assisted
matching of that queue is ``services.matching``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from incasso_tui.bank import BankEntry
from incasso_tui.domain.enums import LoanStatus
from incasso_tui.domain.references import is_valid_betalingskenmerk, is_valid_rf, normalize_reference
from incasso_tui.services.payments.common import KEY_CHUNK, OPEN_LINE, chunks
from incasso_tui.store.models import Client, Installment, Loan

_LOAN_IN_TEXT = re.compile(r"\bL ?([0-9]{8})\b")


class Match(NamedTuple):
    status: str  # matched | unmatched | ambiguous
    reason: str | None = None
    detail: str | None = None
    loan_id: int | None = None


_NONE: tuple[str, ...] = ()


class Candidates(NamedTuple):
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


def candidates(entry: BankEntry, rf_prefix: str) -> Candidates:
    rf_loans = kenmerk_loans = kenmerk_clients = text_loans = _NONE
    rf = kenmerk = iban = None
    ref = normalize_reference(entry.creditor_reference or "")
    if ref and is_valid_rf(ref):
        rf = ref
        base = ref[4:]
        rf_loans = (base,)  # the loan number itself as the base
        if base.startswith(rf_prefix) and base[len(rf_prefix) :].isdigit():
            number = f"L{int(base[len(rf_prefix) :]):08d}"
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
    return Candidates(rf_loans, kenmerk_loans, kenmerk_clients, text_loans, iban, rf, kenmerk)


class Lookup:
    """Set-based look-ups for the candidates of a whole file: a few IN (...) queries, never one per entry."""

    def __init__(self, s: Session, cands: Iterable[Candidates], day: date) -> None:
        cands = list(cands)
        loan_numbers = sorted({n for c in cands for n in (*c.rf_loans, *c.kenmerk_loans, *c.text_loans)})
        client_numbers = sorted({n for c in cands for n in c.kenmerk_clients})
        ibans = sorted({c.iban for c in cands if c.iban})
        self.loans: dict[str, int] = {}
        for part in chunks(loan_numbers, KEY_CHUNK):
            self.loans.update(s.execute(select(Loan.number, Loan.id).where(Loan.number.in_(part))).all())
        self.clients: dict[str, int] = {}
        for part in chunks(client_numbers, KEY_CHUNK):
            self.clients.update(s.execute(select(Client.number, Client.id).where(Client.number.in_(part))).all())
        self.iban_clients: dict[str, list[int]] = defaultdict(list)
        for part in chunks(ibans, KEY_CHUNK):
            for iban, client_id in s.execute(select(Client.iban, Client.id).where(Client.iban.in_(part))):
                self.iban_clients[iban].append(client_id)
        client_ids = sorted({*self.clients.values(), *(i for v in self.iban_clients.values() for i in v)})
        # each client's loans that can still take a payment, with the oldest open past-due item
        self.client_loans: dict[int, list[tuple[int, date | None]]] = defaultdict(list)
        for part in chunks(client_ids):
            rows = s.execute(
                select(Loan.client_id, Loan.id, func.min(Installment.due_date))
                .outerjoin(Installment, and_(Installment.loan_id == Loan.id, Installment.due_date < day, OPEN_LINE))
                .where(Loan.client_id.in_(part), Loan.status != LoanStatus.REPAID.value)
                .group_by(Loan.client_id, Loan.id)
                .order_by(Loan.id)
            )
            for client_id, loan_id, first in rows:
                self.client_loans[client_id].append((loan_id, first))

    def _client_loan(self, client_ids: list[int], reason: str, detail: str) -> Match | None:
        if not client_ids:
            return None
        if len(client_ids) > 1:
            return Match("ambiguous", reason, detail)
        loans = self.client_loans.get(client_ids[0], [])
        if not loans:
            return None
        if len(loans) == 1:
            return Match("matched", reason, detail, loans[0][0])
        past_due = sorted((first, loan_id) for loan_id, first in loans if first is not None)
        if not past_due:
            return Match("ambiguous", reason, detail)
        return Match("matched", reason, detail, past_due[0][1])

    def _loans(self, numbers: tuple[str, ...], reason: str, detail: str) -> Match | None:
        found = sorted({self.loans[n] for n in numbers if n in self.loans})
        if not found:
            return None
        if len(found) > 1:
            return Match("ambiguous", reason, detail)
        return Match("matched", reason, detail, found[0])

    def match(self, c: Candidates) -> Match:
        """The first level that decides (see the module docstring), else unmatched."""
        return (
            self._loans(c.rf_loans, "rf", c.rf or "")
            or self._loans(c.kenmerk_loans, "kenmerk_loan", c.kenmerk or "")
            or self._client_loan(
                [self.clients[n] for n in c.kenmerk_clients if n in self.clients], "kenmerk_client", c.kenmerk or ""
            )
            or self._loans(c.text_loans, "loan_number", ", ".join(c.text_loans))
            or self._client_loan(self.iban_clients.get(c.iban, []) if c.iban else [], "iban", c.iban or "")
            or Match("unmatched")
        )
