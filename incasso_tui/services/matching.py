"""Assisted matching of the queue (issue 14): ranked candidates with reasons, the allocation a booking will make,
booking a candidate, debits and bank costs apart (marked in bulk), and undoing a booking from the queue.

Booking and undoing go through ``services.payments`` (``assign`` and ``payments.booking.Book``, the one booking function), so
they share its rules, locking and audit. The weights are in ``domain.matching``.

Undo (four eyes):
- the same day, by whoever booked it;
- later, or by someone else, only by a supervisor who did not book it, with a reason;
- refused when a later payment or reversal on the loan moved an item this booking paid (undo that first);
- the allocation is reversed (a reversal row in the ledger, the items' paid amounts back), the entry returns to the
  queue, and the undo is audited with the reason, in one transaction; the entry's row is locked first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from incasso_tui.domain.enums import ArrangementStatus, BankEntryStatus, CaseStatus, LedgerKind, LoanStatus, Role
from incasso_tui.domain.matching import Evidence, Reason, amount_kind, name_similarity
from incasso_tui.domain.search import words
from incasso_tui.errors import N_, BadInput, FourEyesViolation, NotAllowed, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.services.payments import QUEUE_STATUSES, QueueRow, assign, queue
from incasso_tui.services.payments.booking import Book
from incasso_tui.services.payments.common import entry_description, refresh_cases
from incasso_tui.store import search_index
from incasso_tui.store.models import (
    Allocation,
    Arrangement,
    ArrangementLine,
    BankEntryRow,
    Case,
    Client,
    Installment,
    LedgerEntry,
    Loan,
)

MAX_CANDIDATES = 5
_NAME_CLIENTS = 30  # clients read for a name
_DIGITS = re.compile(r"(?<![0-9])[0-9]{7,8}(?![0-9])")


@dataclass(frozen=True)
class Candidate:
    client_id: int
    client_number: str
    client_name: str
    loan_id: int
    loan_number: str
    case_id: int | None
    score: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class AllocationPreview:
    """What booking the entry on the loan would do now: per component, and what stays as credit."""

    loan_number: str
    client_name: str
    amount: Decimal
    costs: Decimal
    interest: Decimal
    principal: Decimal
    credit: Decimal


def _entry(s: Session, entry_id: int) -> BankEntryRow:
    row = s.get(BankEntryRow, entry_id)
    if row is None:
        raise NotFound(N_("There is no bank entry {id}"), id=entry_id)
    return row


def split_queue(ctx: Context) -> tuple[list[QueueRow], list[QueueRow]]:
    """The queue in two: client payments (money in), and debits and bank costs (money out: not a client's)."""
    rows = queue(ctx)
    return [r for r in rows if r.credit and not r.reversal], [r for r in rows if not r.credit or r.reversal]


def candidates(ctx: Context, entry_id: int, limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """The loans a queued payment may be for, best first, each with its reasons."""
    today = ctx.clock.today()
    with ctx.db.reader() as s:
        row = _entry(s, entry_id)
        text = " ".join(v for v in (row.creditor_reference, row.remittance) if v)
        evidence: dict[int, Evidence] = {}

        def ev(client_id: int) -> Evidence:
            return evidence.setdefault(client_id, Evidence(client_id))

        if row.counterparty_iban:
            for cid in s.scalars(
                select(Client.id).where(Client.iban == row.counterparty_iban.replace(" ", "").upper())
            ):
                ev(cid).iban = True
        refs = set(_DIGITS.findall(text)) | {m.group(0)[1:] for m in re.finditer(r"[LlCc][0-9]{7,8}", text)}
        if refs:
            loans = [f"L{d}" for d in refs if len(d) == 8]
            for cid, number in s.execute(select(Loan.client_id, Loan.number).where(Loan.number.in_(loans))):
                ev(cid).loan_refs.add(number)
            clients = [f"C{d}" for d in refs if len(d) == 7]
            for cid, number in s.execute(select(Client.id, Client.number).where(Client.number.in_(clients))):
                ev(cid).client_ref = number
        name_words = [w for w in words(row.counterparty_name) if len(w) >= 3]
        if name_words:
            ids = search_index.matching_ids(ctx.db.backend, sorted(name_words, key=len, reverse=True)[:3])
            for cid in s.scalars(select(Client.id).where(Client.id.in_(ids)).order_by(Client.id).limit(_NAME_CLIENTS)):
                ev(cid)
        if not evidence:
            return []
        ids = list(evidence)
        clients = {c.id: c for c in s.scalars(select(Client).where(Client.id.in_(ids)))}
        for cid, e in evidence.items():
            c = clients[cid]
            e.name_similarity = name_similarity(row.counterparty_name, c.name, c.contact_person)
        loans_by_client: dict[int, list[Loan]] = {}
        for loan in s.scalars(
            select(Loan).where(Loan.client_id.in_(ids), Loan.status != LoanStatus.REPAID.value).order_by(Loan.number)
        ):
            loans_by_client.setdefault(loan.client_id, []).append(loan)
        loan_ids = [loan.id for ls in loans_by_client.values() for loan in ls]
        # the installments due up to a month ahead that are still open, per loan
        open_amounts: dict[int, set[Decimal]] = {}
        arrears: dict[int, Decimal] = {}
        if loan_ids:
            for loan_id, principal, interest, pp, ip, due in s.execute(
                select(
                    Installment.loan_id,
                    Installment.principal,
                    Installment.interest,
                    Installment.principal_paid,
                    Installment.interest_paid,
                    Installment.due_date,
                ).where(
                    Installment.loan_id.in_(loan_ids),
                    Installment.due_date <= today + timedelta(days=31),
                    Installment.principal_paid + Installment.interest_paid
                    < Installment.principal + Installment.interest,
                )
            ):
                open_amounts.setdefault(loan_id, set()).update({principal + interest, principal + interest - pp - ip})
                if due < today:
                    arrears[loan_id] = arrears.get(loan_id, Decimal(0)) + principal + interest - pp - ip
        cases = dict(
            s.execute(
                select(Case.client_id, Case.id).where(Case.client_id.in_(ids), Case.status != CaseStatus.CLOSED)
            ).all()
        )
        arrangement_amounts: dict[int, set[Decimal]] = {}
        if cases:
            for case_id, amount, paid in s.execute(
                select(Arrangement.case_id, ArrangementLine.amount, ArrangementLine.paid)
                .join(ArrangementLine, ArrangementLine.arrangement_id == Arrangement.id)
                .where(
                    Arrangement.case_id.in_(list(cases.values())),
                    Arrangement.status == ArrangementStatus.ACTIVE,
                    ArrangementLine.paid < ArrangementLine.amount,
                )
            ):
                arrangement_amounts.setdefault(case_id, set()).update({amount, amount - paid})
        out: list[Candidate] = []
        for cid, e in evidence.items():
            loans = loans_by_client.get(cid, [])
            if not loans:
                continue
            # the loan the reference names, else the one with the most arrears, else the first
            named = [loan for loan in loans if loan.number in e.loan_refs]
            loan = named[0] if named else max(loans, key=lambda ln: (arrears.get(ln.id, Decimal(0)), -ln.id))
            total_arrears = sum((arrears.get(ln.id, Decimal(0)) for ln in loans), Decimal(0))
            e.amount_kind = amount_kind(
                row.amount,
                open_amounts.get(loan.id, set()),
                arrangement_amounts.get(cases.get(cid, -1), set()),
                total_arrears,
            )
            reasons = tuple(e.reasons())
            if not reasons:
                continue
            c = clients[cid]
            out.append(Candidate(cid, c.number, c.name, loan.id, loan.number, cases.get(cid), e.score(), reasons))
        out.sort(key=lambda c: (-c.score, c.client_name, c.loan_number))
        return out[:limit]


def preview(ctx: Context, entry_id: int, loan_id: int) -> AllocationPreview:
    """The allocation booking the entry on the loan would make now (nothing is written)."""
    with ctx.db.reader() as s:
        row = _entry(s, entry_id)
        loan = s.get(Loan, loan_id)
        if loan is None:
            raise NotFound(N_("There is no loan {loan}"), loan=loan_id)
        client = s.get(Client, loan.client_id)
        assert client is not None
        book = Book(s, ctx.actor.name, ctx.clock.now())  # in memory only: the reader rolls back, nothing is written
        posting = book.pay(loan.id, row.amount, row.booking_date, entry_description(row))
        sums = {"costs": Decimal(0), "interest": Decimal(0), "principal": Decimal(0)}
        for component, _seq, _charge, amount in posting.parts:
            sums[component] += amount
        return AllocationPreview(
            loan.number, client.name, row.amount, sums["costs"], sums["interest"], sums["principal"], posting.credit
        )


def book_candidate(ctx: Context, entry_id: int, loan_id: int) -> int:
    """Book a queued payment on a candidate's loan: ``payments.assign`` (refused when a colleague dealt with the entry
    meanwhile). Returns the ledger id."""
    return assign(ctx, entry_id, loan_id)


def mark_not_ours_many(ctx: Context, entry_ids: list[int], reason: str) -> int:
    """Mark several queued debits or bank costs as not a client's payment, in one transaction (all or none). Only
    money out can be marked in bulk: a client's payment is looked at one by one. Audited per entry."""
    ctx.require(*DESK_WRITERS)
    if not reason.strip():
        raise BadInput(N_("A reason is required"), field="reason")
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        rows = list(
            s.scalars(
                select(BankEntryRow).where(BankEntryRow.id.in_(entry_ids)).order_by(BankEntryRow.id).with_for_update()
            )
        )
        if len(rows) != len(set(entry_ids)):
            raise NotFound(N_("Some of these bank entries do not exist any more"))
        for row in rows:
            if row.status not in QUEUE_STATUSES:
                raise RuleViolation(
                    N_("Bank entry {id} is {status} already: {name} dealt with it"),
                    id=row.id,
                    status=row.status,
                    name=row.assigned_by or "the import",
                )
            if row.credit and not row.reversal:
                raise RuleViolation(N_("Entry {id} is money in: mark a client's payment one by one"), id=row.id)
        for row in rows:
            before = {"status": row.status}
            row.status, row.assigned_by, row.assigned_at = "not_ours", ctx.actor.name, now
            row.match_detail = reason.strip()[:200]
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="payment.not_ours",
                entity="bank_entry",
                entity_id=row.id,
                before=before,
                after={"status": "not_ours", "amount": -row.amount, "reason": reason.strip(), "bulk": True},
            )
    return len(rows)


@dataclass(frozen=True)
class BookedRow:
    id: int
    booking_date: date
    amount: Decimal
    counterparty_name: str | None
    loan_number: str
    client_name: str
    booked_by: str
    booked_on: date


def booked_from_queue(ctx: Context, days: int = 31, limit: int = 500) -> list[BookedRow]:
    """Entries booked by hand from the queue in the last ``days`` days, newest first (what an undo is for)."""
    since = ctx.clock.now() - timedelta(days=days)
    with ctx.db.reader() as s:
        rows = s.execute(
            select(BankEntryRow, Loan.number, Client.name)
            .join(Loan, Loan.id == BankEntryRow.loan_id)
            .join(Client, Client.id == Loan.client_id)
            .where(
                BankEntryRow.status == BankEntryStatus.MATCHED,
                BankEntryRow.match_reason == "manual",
                BankEntryRow.assigned_at >= since,
            )
            .order_by(BankEntryRow.assigned_at.desc(), BankEntryRow.id.desc())
            .limit(limit)
        ).all()
        return [
            BookedRow(
                e.id,
                e.booking_date,
                e.amount,
                e.counterparty_name,
                number,
                name,
                e.assigned_by or "",
                e.assigned_at.date() if e.assigned_at else e.booking_date,
            )
            for e, number, name in rows
        ]


def undo_booking(ctx: Context, entry_id: int, reason: str = "") -> int:
    """Undo a booking from the queue (see the module's rules); returns the reversal's ledger id."""
    ctx.require(*DESK_WRITERS)
    now, today = ctx.clock.now(), ctx.clock.today()
    with ctx.db.transaction() as s:
        # the entry first, locked: a second undo, or a colleague's, waits and then finds it back in the queue
        row = s.execute(select(BankEntryRow).where(BankEntryRow.id == entry_id).with_for_update()).scalar_one_or_none()
        if row is None:
            raise NotFound(N_("There is no bank entry {id}"), id=entry_id)
        if row.status != "matched" or row.match_reason != "manual" or row.ledger_id is None:
            raise RuleViolation(
                N_("Bank entry {id} is not a booking from the queue (it is {status}): nothing to undo"),
                id=entry_id,
                status=row.status,
            )
        booked_by = row.assigned_by or ""
        same_day = row.assigned_at is not None and row.assigned_at.date() == today
        if not (same_day and booked_by == ctx.actor.name):
            if ctx.actor.role != Role.SUPERVISOR:
                raise NotAllowed(
                    N_(
                        "Only {name} can undo this booking today; after that, or for someone else's "
                        "booking, a supervisor"
                    ),
                    name=booked_by,
                )
            if booked_by == ctx.actor.name:
                raise FourEyesViolation(N_("You booked this entry yourself: another supervisor undoes it (four eyes)"))
            if not reason.strip():
                raise BadInput(N_("A reason is required"), field="reason")
        ledger_id = row.ledger_id
        loan = s.get(Loan, row.loan_id)
        assert loan is not None
        later = _later_change(s, ledger_id, loan.id)
        if later is not None:
            raise RuleViolation(
                N_("A later booking on loan {loan} of {day} moved what this payment paid: undo that one first"),
                loan=loan.number,
                day=later,
            )
        book = Book(s, ctx.actor.name, now)
        stored = book.stored_payments([ledger_id])[ledger_id]
        reversal = book.undo(stored, today, f"Undo {entry_description(row)}"[:300])
        book.write()
        before = {"status": row.status, "loan": loan.number, "ledger_id": ledger_id, "booked_by": booked_by}
        row.status, row.match_reason, row.match_detail = "unmatched", None, None  # who and why: in the audit event
        row.loan_id, row.ledger_id, row.assigned_by, row.assigned_at = None, None, None, None
        cases = refresh_cases(s, {loan.id}, today)
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="payment.undo",
            entity="bank_entry",
            entity_id=row.id,
            case_id=cases.get(loan.id),
            before=before,
            after={
                "status": "unmatched",
                "amount": row.amount,
                "reversal_ledger_id": reversal.id,
                "reason": reason.strip(),
            },
        )
        assert reversal.id is not None
        return reversal.id


def _later_change(s: Session, ledger_id: int, loan_id: int) -> date | None:
    """The booking day of a later payment or reversal on the loan that touched an item this one paid, if any."""
    mine = list(
        s.execute(select(Allocation.installment_seq, Allocation.charge_id).where(Allocation.ledger_id == ledger_id))
    )
    seqs = [q for q, _c in mine if q is not None]
    charges = [c for _q, c in mine if c is not None]
    touched = []
    if seqs:
        touched.append(Allocation.installment_seq.in_(seqs))
    if charges:
        touched.append(Allocation.charge_id.in_(charges))
    if not touched:
        return None
    return s.scalar(
        select(func.min(LedgerEntry.booking_date))
        .join(Allocation, Allocation.ledger_id == LedgerEntry.id)
        .where(
            LedgerEntry.loan_id == loan_id,
            LedgerEntry.id > ledger_id,
            LedgerEntry.kind.in_((LedgerKind.PAYMENT.value, LedgerKind.REVERSAL.value)),
            Allocation.loan_id == loan_id,
            or_(*touched),
        )
    )


__all__ = [
    "AllocationPreview",
    "BookedRow",
    "Candidate",
    "book_candidate",
    "booked_from_queue",
    "candidates",
    "mark_not_ours_many",
    "preview",
    "split_queue",
    "undo_booking",
]
