"""Client detail: everything the desk needs to work one case, read in one snapshot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from incasso_tui.domain.arrears import Arrears, combined
from incasso_tui.domain.enums import CaseStatus, Role
from incasso_tui.domain.money import ZERO
from incasso_tui.errors import N_, NotAllowed, NotFound, StaleData
from incasso_tui.services.context import Context
from incasso_tui.services.positions import loan_positions
from incasso_tui.store.models import (
    Arrangement,
    ArrangementLine,
    AuditEvent,
    Case,
    Client,
    ClientAdviser,
    Contact,
    Document,
    Installment,
    LedgerEntry,
    Loan,
    Note,
    Promise,
    User,
)


@dataclass(frozen=True)
class CaseInfo:
    id: int
    status: str
    stage: str
    assignee: str | None
    opened_on: date
    next_action_date: date
    next_action: str  # a domain.enums.NextAction code, shown with its params (ui.labels.next_action)
    next_action_params: dict[str, str] | None
    pause_reason: str | None
    pause_until: date | None
    flag: str | None
    version: int
    updated_by: str | None
    updated_at: datetime | None
    cause: str | None = None  # the cause of the arrears (issue 15: services.causes)


@dataclass(frozen=True)
class ClientInfo:
    id: int
    number: str
    name: str
    kind: str
    consumer: bool
    contact_person: str | None
    kvk: str | None
    iban: str | None
    street: str
    postcode: str
    city: str
    phone: str | None
    email: str | None
    preferred_channel: str
    language: str
    # consent to receive legal notices by e-mail (issue 12): since when, and how it was given
    email_consent_on: date | None = None
    email_consent_source: str | None = None


@dataclass(frozen=True)
class LoanInfo:
    id: int
    number: str
    product: str
    principal: Decimal
    annual_rate: Decimal
    term_months: int
    start_date: date
    repayment: str
    status: str
    outstanding_principal: Decimal
    has_loan_agreement: bool
    has_pledge_deed: bool
    arrears: Arrears


@dataclass(frozen=True)
class ScheduleRow:
    loan_number: str
    seq: int
    due_date: date
    principal: Decimal
    interest: Decimal
    paid: Decimal
    state: str  # paid | partial | past_due | open

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


@dataclass(frozen=True)
class LedgerRow:
    booking_date: date
    loan_number: str
    kind: str
    amount: Decimal
    description: str


@dataclass(frozen=True)
class ContactRow:
    at: datetime
    channel: str
    outcome: str
    cause: str | None
    summary: str
    user: str


@dataclass(frozen=True)
class PromiseRow:
    due_date: date
    amount: Decimal
    status: str


@dataclass(frozen=True)
class NoteRow:
    at: datetime
    user: str
    text: str


@dataclass(frozen=True)
class ArrangementRow:
    id: int
    status: str
    arrears_covered: Decimal
    installment_count: int
    frequency: str
    first_date: date
    created_by: str
    created_at: datetime
    lines: tuple[tuple[int, date, Decimal, Decimal], ...]  # seq, due, amount, paid


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    actor: str
    action: str
    details: str  # the technical details (the event's after-state), one key away on screen
    before: dict[str, object] = field(default_factory=dict)
    after: dict[str, object] = field(default_factory=dict)


# who had the case open (services.locks) is presence, not a dossier event: the timeline leaves it out
PRESENCE_ACTIONS = ("presence.enter", "presence.leave")


@dataclass(frozen=True)
class DocumentRow:
    kind: str
    title: str
    added_on: date
    path: str | None = None
    # a letter's: its id, kind and status (pending | rendered | sent | failed | cancelled), the day it was dispatched
    # and the print batch it waits in (issue 12)
    letter_id: int | None = None
    letter_kind: str | None = None
    letter_status: str | None = None
    dispatched_on: date | None = None
    batch_id: int | None = None
    document_id: int | None = None  # the dossier's document (services.documents shows it whole)


@dataclass(frozen=True)
class ClientDetail:
    as_of: date
    case: CaseInfo
    client: ClientInfo
    loans: tuple[LoanInfo, ...]
    schedule: tuple[ScheduleRow, ...]
    ledger: tuple[LedgerRow, ...]
    contacts: tuple[ContactRow, ...]
    promises: tuple[PromiseRow, ...]
    notes: tuple[NoteRow, ...]
    arrangements: tuple[ArrangementRow, ...]
    timeline: tuple[TimelineRow, ...]
    documents: tuple[DocumentRow, ...]

    @property
    def arrears(self) -> Arrears:
        """The client's arrears over all loans."""
        return combined(loan.arrears for loan in self.loans)

    @property
    def active_arrangement(self) -> ArrangementRow | None:
        return next((a for a in self.arrangements if a.status == "active"), None)


def _schedule_state(inst: Installment, as_of: date) -> str:
    paid = inst.principal_paid + inst.interest_paid
    if paid == inst.principal + inst.interest:
        return "paid"
    if inst.due_date < as_of:
        return "past_due"
    return "partial" if paid > ZERO else "open"


def _timeline_details(event: AuditEvent) -> str:
    after = json.loads(event.after) if event.after else {}
    return ", ".join(f"{k}={v}" for k, v in sorted(after.items()))


def _documents(s: Session, client_id: int) -> tuple[DocumentRow, ...]:
    """The dossier: its documents, a letter's with what became of it (matched on its file)."""
    from incasso_tui.store.models import Letter

    letters = {
        letter.file_path: letter
        for letter in s.scalars(select(Letter).where(Letter.client_id == client_id, Letter.file_path.is_not(None)))
    }
    rows = []
    for d in s.scalars(
        select(Document).where(Document.client_id == client_id).order_by(Document.added_on, Document.id)
    ):
        letter = letters.get(d.path) if d.path else None
        rows.append(
            DocumentRow(
                d.kind,
                d.title,
                d.added_on,
                d.path,
                letter.id if letter else None,
                letter.kind if letter else None,
                letter.status if letter else None,
                letter.dispatched_on if letter else None,
                letter.batch_id if letter else None,
                d.id,
            )
        )
    return tuple(rows)


def changed_by(case: Case) -> StaleData:
    """The refusal for a writer whose copy of the case is stale: who changed it, and when (optimistic locking)."""
    return StaleData(
        N_("The case was changed by {name} at {time}: reopen it to see the change; your input is kept"),
        name=case.updated_by or "?",
        time=case.updated_at.strftime("%H:%M") if case.updated_at else "?",
    )


@contextmanager
def case_transaction(ctx: Context, case_id: int) -> Iterator[Session]:
    """A writing transaction on one case. A colleague's commit that lands between our read and our write (the
    version check or a unique index refuses ours) becomes the "changed by NAME at TIME" refusal, read afresh."""
    try:
        with ctx.db.transaction() as s:
            yield s
    except (IntegrityError, StaleDataError):
        with ctx.db.reader() as s:
            raise changed_by(load_case(s, case_id)) from None


def load_case(s: Session, case_id: int) -> Case:
    case = s.get(Case, case_id)
    if case is None:
        raise NotFound(N_("Case {case_id} does not exist"), case_id=case_id)
    return case


def check_reads_client(ctx: Context, s: Session, client_id: int) -> None:
    """An adviser reads only their own clients' cases and documents; everyone else reads every client."""
    if (
        ctx.actor.role == Role.ADVISER
        and s.scalar(
            select(ClientAdviser.client_id).where(
                ClientAdviser.client_id == client_id, ClientAdviser.adviser_id == ctx.actor.id
            )
        )
        is None
    ):
        raise NotAllowed(N_("An adviser reads only the cases of their own clients"))


def client_detail(ctx: Context, case_id: int) -> ClientDetail:
    """One consistent read of a case and its client (a handful of indexed queries)."""
    as_of = ctx.clock.today()
    with ctx.db.reader() as s:
        case = load_case(s, case_id)
        client = s.get(Client, case.client_id)
        assert client is not None
        check_reads_client(ctx, s, client.id)
        assignee = s.get(User, case.assignee_id).name if case.assignee_id else None  # type: ignore[union-attr]
        loans = list(s.scalars(select(Loan).where(Loan.client_id == client.id).order_by(Loan.number)))
        numbers = {loan.id: loan.number for loan in loans}
        positions = loan_positions(s, numbers, as_of)
        installments = list(
            s.scalars(
                select(Installment)
                .where(Installment.loan_id.in_(numbers))
                .order_by(Installment.loan_id, Installment.seq)
            )
        )
        outstanding = {loan.id: loan.principal for loan in loans}
        for inst in installments:
            outstanding[inst.loan_id] -= inst.principal_paid
        ledger = s.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.loan_id.in_(numbers))
            .order_by(LedgerEntry.booking_date.desc(), LedgerEntry.id.desc())
        )
        arrangements = list(
            s.scalars(select(Arrangement).where(Arrangement.case_id == case.id).order_by(Arrangement.id.desc()))
        )
        arr_lines: dict[int, list[tuple[int, date, Decimal, Decimal]]] = {}
        if arrangements:
            for line in s.scalars(
                select(ArrangementLine)
                .where(ArrangementLine.arrangement_id.in_([a.id for a in arrangements]))
                .order_by(ArrangementLine.arrangement_id, ArrangementLine.seq)
            ):
                arr_lines.setdefault(line.arrangement_id, []).append((line.seq, line.due_date, line.amount, line.paid))
        return ClientDetail(
            as_of=as_of,
            case=CaseInfo(
                id=case.id,
                status=case.status,
                stage=case.stage,
                assignee=assignee,
                opened_on=case.opened_on,
                next_action_date=case.next_action_date,
                next_action=case.next_action,
                next_action_params=case.next_action_params,
                pause_reason=case.pause_reason,
                pause_until=case.pause_until,
                flag=case.flag,
                version=case.version,
                updated_by=case.updated_by,
                updated_at=case.updated_at,
                cause=case.cause,
            ),
            client=ClientInfo(
                id=client.id,
                number=client.number,
                name=client.name,
                kind=client.kind,
                consumer=client.consumer,
                contact_person=client.contact_person,
                kvk=client.kvk,
                iban=client.iban,
                street=client.street,
                postcode=client.postcode,
                city=client.city,
                phone=client.phone,
                email=client.email,
                preferred_channel=client.preferred_channel,
                language=client.language,
                email_consent_on=client.email_consent_on,
                email_consent_source=client.email_consent_source,
            ),
            loans=tuple(
                LoanInfo(
                    id=loan.id,
                    number=loan.number,
                    product=loan.product,
                    principal=loan.principal,
                    annual_rate=loan.annual_rate,
                    term_months=loan.term_months,
                    start_date=loan.start_date,
                    repayment=loan.repayment,
                    status=loan.status,
                    outstanding_principal=outstanding[loan.id],
                    has_loan_agreement=loan.has_loan_agreement,
                    has_pledge_deed=loan.has_pledge_deed,
                    arrears=positions[loan.id],
                )
                for loan in loans
            ),
            schedule=tuple(
                ScheduleRow(
                    loan_number=numbers[i.loan_id],
                    seq=i.seq,
                    due_date=i.due_date,
                    principal=i.principal,
                    interest=i.interest,
                    paid=i.principal_paid + i.interest_paid,
                    state=_schedule_state(i, as_of),
                )
                for i in installments
            ),
            ledger=tuple(
                LedgerRow(e.booking_date, numbers[e.loan_id], e.kind, e.amount, e.description) for e in ledger
            ),
            contacts=tuple(
                ContactRow(c.at, c.channel, c.outcome, c.cause, c.summary, c.user_name)
                for c in s.scalars(select(Contact).where(Contact.case_id == case.id).order_by(Contact.at.desc()))
            ),
            promises=tuple(
                PromiseRow(p.due_date, p.amount, p.status)
                for p in s.scalars(select(Promise).where(Promise.case_id == case.id).order_by(Promise.due_date.desc()))
            ),
            notes=tuple(
                NoteRow(n.at, n.user_name, n.text)
                for n in s.scalars(select(Note).where(Note.case_id == case.id).order_by(Note.at.desc()))
            ),
            arrangements=tuple(
                ArrangementRow(
                    id=a.id,
                    status=a.status,
                    arrears_covered=a.arrears_covered,
                    installment_count=a.installment_count,
                    frequency=a.frequency,
                    first_date=a.first_date,
                    created_by=a.created_by,
                    created_at=a.created_at,
                    lines=tuple(arr_lines.get(a.id, [])),
                )
                for a in arrangements
            ),
            timeline=tuple(
                TimelineRow(
                    e.at,
                    e.actor,
                    e.action,
                    _timeline_details(e),
                    json.loads(e.before) if e.before else {},
                    json.loads(e.after) if e.after else {},
                )
                for e in s.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.case_id == case.id, AuditEvent.action.not_in(PRESENCE_ACTIONS))
                    .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                )
            ),
            documents=_documents(s, client.id),
        )


def client_by_number(ctx: Context, number: str) -> int:
    """The id of the client with ``number`` as a person types it (spaces around it, lower case)."""
    with ctx.db.reader() as s:
        found = s.scalar(select(Client.id).where(Client.number == number.strip().upper()))
    if found is None:
        raise NotFound(N_("There is no client {client}"), client=number)
    return int(found)


def open_case(s: Session, client_id: int) -> Case | None:
    """The client's case that is not closed (the newest, should there be more)."""
    return s.scalar(
        select(Case)
        .where(Case.client_id == client_id, Case.status != CaseStatus.CLOSED)
        .order_by(Case.id.desc())
        .limit(1)
    )


def open_case_version(ctx: Context, client_id: int) -> tuple[int, int]:
    """The client's open case and its version (for a command that changes it: optimistic locking)."""
    with ctx.db.reader() as s:
        case = open_case(s, client_id)
        if case is None:
            raise NotFound(N_("Client {client} has no open case"), client=client_id)
        return case.id, case.version
