"""The loan book, the collections cases and the audit trail (SQLAlchemy 2.0 typed ORM).

Conventions:
- Money columns are ``Money`` (whole cents in the database, ``Decimal`` in Python).
- Vocabularies (roles, statuses, channels...) are the string values of the enums in ``domain.enums``;
  the services validate them, CHECK constraints guard the most important ones.
- Arrears are *derived* from the schedule (``installments``: what fell due and what of it was paid) and the
  charges; the ``cases.pos_*`` columns are a cache of that derivation, refreshed in the same transaction as
  every change that moves it and by the daily run, so that the worklist can sort a million-loan book on an
  index. ``services.positions.verify_positions`` recomputes them to prove the cache right.

No ``from __future__ import annotations`` here: with it every ``Mapped[...]`` annotation is a string that SQLAlchemy
evaluates while it maps the class: about 15 ms of the 125 ms (CPU) that importing and configuring the models took with
it (issue 18: they are on the TUI's path to its first paint). The tables name no class before it is defined, so nothing needs the postponed form.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

from incasso_tui.domain.enums import (
    DESK_STATUSES,
    ArrangementStatus,
    BankEntryStatus,
    CaseStatus,
    Channel,
    ClientKind,
    ContactOutcome,
    EmailStatus,
    Frequency,
    HandoverStatus,
    LedgerKind,
    LetterStatus,
    LoanStatus,
    NextAction,
    PrintBatchStatus,
    PromiseStatus,
    ProposalKind,
    ProposalStatus,
    Repayment,
    Role,
    Stage,
    TaskStatus,
    TrackKind,
    TrackOutcome,
    TrackStatus,
)
from incasso_tui.safetext import email_address
from incasso_tui.store.types import Money, Rate, Vocab


class Base(DeclarativeBase):
    pass


# A partial index names its predicate once, for SQLite (``sqlite_where``); PostgreSQL's is the same predicate, added by
# ``postgresql_partial_indexes`` when a PostgreSQL engine is made (store.db.make_engine). Naming ``postgresql_where`` in
# the tables below would load SQLAlchemy's PostgreSQL dialect (and its four drivers' modules) at import: about 35 ms of
# every start on SQLite, the TUI's included (issue 18).
def postgresql_partial_indexes() -> None:
    """Give every partial index its predicate on PostgreSQL too (the same as SQLite's); idempotent."""
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"]["where"]
            if where is not None:
                index.dialect_kwargs["postgresql_where"] = where


# "Nothing past due" in cases.pos_oldest_due: sorts after every real date in every database (no NULLs,
# whose order differs between SQLite and PostgreSQL).
NO_ARREARS = date(9999, 12, 31)
# the desk's statuses (domain.enums.DESK_STATUSES) as SQL text: the partial indexes' predicate, which queries repeat
# literally so SQLite uses those indexes; it renders exactly as the migrations wrote it
DESK_WHERE = "status IN (" + ",".join(f"'{status.value}'" for status in DESK_STATUSES) + ")"


def Key(length: int) -> String:
    """A search-key column: byte order (collation C) on PostgreSQL so prefix ranges use the index."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(Vocab(Role, 32))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # the OS account this desk user is locally (``incasso users add NAME --os-user LOGIN``); services.identity
    os_user: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    __table_args__ = (
        CheckConstraint(
            "role in ('employee','supervisor','special_management','admin','auditor','adviser')", name="ck_users_role"
        ),
    )


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(Vocab(ClientKind, 16))
    consumer: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(200))
    # lower-cased, accents folded: the key for "name starts with" searches
    name_key: Mapped[str] = mapped_column(Key(200), index=True)
    contact_person: Mapped[str | None] = mapped_column(String(200))
    kvk: Mapped[str | None] = mapped_column(Key(8), index=True)
    iban: Mapped[str | None] = mapped_column(Key(34), index=True)
    street: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(Key(6), index=True)  # "1234AB", no space
    city: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(200))
    preferred_channel: Mapped[str] = mapped_column(Vocab(Channel, 16))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    # the client's consent to receive legal notices (14-day letter, BKR warning, notice of default, call-in, claim
    # statement) by e-mail: since when, and how it was given (issue 12). Without it they go by post.
    email_consent_on: Mapped[date | None] = mapped_column(Date)
    email_consent_source: Mapped[str | None] = mapped_column(String(200))
    # a natural person's date of birth: what confirms a portal login (issue 21; a business confirms with its KvK)
    birth_date: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (CheckConstraint("kind in ('natural','eenmanszaak','vof','bv')", name="ck_clients_kind"),)

    @validates("email")
    def _one_address(self, _key: str, value: str | None) -> str | None:  # one valid address, checked when stored
        return None if value is None or not value.strip() else email_address(value)


class Loan(Base):
    __tablename__ = "loans"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(Key(16), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    # indexed for the selections' product criterion and the list of products (services.criteria)
    product: Mapped[str] = mapped_column(String(64), index=True)
    principal: Mapped[Decimal] = mapped_column(Money)
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    term_months: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    repayment: Mapped[str] = mapped_column(Vocab(Repayment, 16))
    # a commercial agreement in the sense of art. 6:96 lid 4 BW (product setting)
    commercial: Mapped[bool] = mapped_column(Boolean, default=True)
    has_loan_agreement: Mapped[bool] = mapped_column(Boolean, default=True)
    has_pledge_deed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(Vocab(LoanStatus, 16), default="active")

    __table_args__ = (
        CheckConstraint("repayment in ('annuity','linear')", name="ck_loans_repayment"),
        CheckConstraint("principal > 0", name="ck_loans_principal"),
        # the daily run's BKR code 2 look-up (called loans are few)
        Index("ix_loans_called", "id", sqlite_where=text("status = 'called'")),
    )


class Installment(Base):
    """One line of a loan's schedule: what falls due, and how much of it has been paid (allocated)."""

    __tablename__ = "installments"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_date: Mapped[date] = mapped_column(Date)
    principal: Mapped[Decimal] = mapped_column(Money)
    interest: Mapped[Decimal] = mapped_column(Money)
    principal_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    interest_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))

    __table_args__ = (
        CheckConstraint("principal_paid >= 0 and principal_paid <= principal", name="ck_inst_principal_paid"),
        CheckConstraint("interest_paid >= 0 and interest_paid <= interest", name="ck_inst_interest_paid"),
        # The open lines of every loan: what the arrears derivation and allocation read.
        Index(
            "ix_installments_open",
            "loan_id",
            "due_date",
            sqlite_where=text("principal_paid + interest_paid < principal + interest"),
        ),
    )


class Charge(Base):
    """Collection costs or statutory interest charged on a loan. For art. 6:44 BW collection costs are "costs" and
    statutory interest is "interest" (services.payments)."""

    __tablename__ = "charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # collection_costs | statutory_interest
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    description: Mapped[str] = mapped_column(String(200), default="")
    # what the posting is for, e.g. "wik:<letter id>" or "interest:2026-11": one posting per key and loan, so a
    # second daily run cannot charge twice
    period_key: Mapped[str | None] = mapped_column(String(64))
    # what the amount was computed on (JSON; domain.postings): statutory interest: the period and each line's
    # amount and interest start, so that a track can cancel the days on and after its ruling exactly; collection
    # costs: the letter and the claims (installments) they cover
    basis: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("paid >= 0 and paid <= amount", name="ck_charges_paid"),
        Index("ux_charges_period", "loan_id", "kind", "period_key", unique=True),
    )


class LedgerEntry(Base):
    """The ledger: every movement of money on a loan (payments, costs, interest, write-offs)."""

    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    booking_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(Vocab(LedgerKind, 16))
    amount: Mapped[Decimal] = mapped_column(Money)  # always positive; the kind says the direction
    description: Mapped[str] = mapped_column(String(300), default="")
    # what of a payment did not go to an open item: credit on the loan
    credit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        # the daily run's BKR code 3 look-up (write-offs per loan; few)
        Index(
            "ix_ledger_write_off",
            "loan_id",
            sqlite_where=text("kind = 'write_off'"),
        ),
    )


class Allocation(Base):
    """How a ledger payment was allocated (art. 6:44 BW), so it can be undone on a reversal."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledger.id"), index=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    component: Mapped[str] = mapped_column(String(16))  # costs | interest | principal
    installment_seq: Mapped[int | None] = mapped_column(Integer)
    charge_id: Mapped[int | None] = mapped_column(ForeignKey("charges.id"))
    amount: Mapped[Decimal] = mapped_column(Money)


class Case(Base):
    """One collections case per client in arrears (closed cases are kept as history)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    status: Mapped[str] = mapped_column(Vocab(CaseStatus, 16))
    stage: Mapped[str] = mapped_column(Vocab(Stage, 32))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    next_action_date: Mapped[date] = mapped_column(Date)
    # a code, translated when shown (ui.labels.next_action), with its parameters; free text only as the parameter
    # "text" of NextAction.FREE. The column keeps the length it had when it held sentences (no table rewrite).
    next_action: Mapped[str] = mapped_column(Vocab(NextAction, 200), default=NextAction.NONE)
    next_action_params: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))
    pause_reason: Mapped[str | None] = mapped_column(String(300))
    pause_until: Mapped[date | None] = mapped_column(Date)
    flag: Mapped[str | None] = mapped_column(String(32))  # broken_promise | broken_arrangement
    # the day the case entered its current stage (NULL on cases older than the procedure: read opened_on)
    stage_since: Mapped[date | None] = mapped_column(Date)
    # cache of the derived position (see module docstring); NO_ARREARS when nothing is past due
    pos_oldest_due: Mapped[date] = mapped_column(Date)
    pos_arrears: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    pos_as_of: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # the cause of the arrears as the desk knows it now (issue 15; its history: case_causes)
    cause: Mapped[str | None] = mapped_column(String(32))

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        CheckConstraint(
            "status in ('active','arrangement','deferral','paused','handed_over','insolvency','closed')",
            name="ck_cases_status",
        ),
        # at most one open case per client
        Index(
            "ux_cases_open_client",
            "client_id",
            unique=True,
            sqlite_where=text("status <> 'closed'"),
        ),
        Index("ix_cases_client", "client_id"),
        # next_action_date makes it covering for the worklist's counts (total and due segment in one pass)
        Index("ix_cases_status", "status", "pos_oldest_due", "id", "next_action_date"),
        # The desk worklist's orders: keyset and offset pagination walk these partial indexes. A query
        # must repeat DESK_WHERE literally for SQLite to use them (see services.worklist).
        Index(
            "ix_cases_desk_prio",
            "pos_oldest_due",
            text("pos_arrears DESC"),
            "id",
            "next_action_date",
            sqlite_where=text(DESK_WHERE),
        ),
        Index(
            "ix_cases_desk_amount",
            text("pos_arrears DESC"),
            "id",
            sqlite_where=text(DESK_WHERE),
        ),
        Index(
            "ix_cases_desk_next",
            "next_action_date",
            "id",
            sqlite_where=text(DESK_WHERE),
        ),
        Index(
            "ix_cases_desk_assignee",
            "assignee_id",
            "pos_oldest_due",
            text("pos_arrears DESC"),
            "id",
            "next_action_date",
            sqlite_where=text(DESK_WHERE),
        ),
        Index(
            "ix_cases_desk_stage",
            "stage",
            "pos_oldest_due",
            text("pos_arrears DESC"),
            "id",
            "next_action_date",
            sqlite_where=text(DESK_WHERE),
        ),
    )


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    channel: Mapped[str] = mapped_column(Vocab(Channel, 16))
    outcome: Mapped[str] = mapped_column(Vocab(ContactOutcome, 16))
    cause: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="")
    user_name: Mapped[str] = mapped_column(String(64))


class Promise(Base):
    """A promise to pay made in a contact; monitored against incoming payments."""

    __tablename__ = "promises"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(Vocab(PromiseStatus, 16), default="open")  # open | kept | broken


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    user_name: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)


class Arrangement(Base):
    """A payment arrangement (betalingsregeling) agreed with the client to clear the arrears."""

    __tablename__ = "arrangements"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(Vocab(ArrangementStatus, 16))
    arrears_covered: Mapped[Decimal] = mapped_column(Money)
    down_payment: Mapped[Decimal] = mapped_column(Money)
    installment_count: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[str] = mapped_column(Vocab(Frequency, 16))
    first_date: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        # two employees cannot register two active arrangements on one case
        Index(
            "ux_arrangements_active_case",
            "case_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
        ),
    )


class ArrangementLine(Base):
    __tablename__ = "arrangement_lines"

    arrangement_id: Mapped[int] = mapped_column(ForeignKey("arrangements.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0 = the down payment
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))


class Document(Base):
    """A dossier document (loan agreement, pledge deed, letter sent, ...)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    added_on: Mapped[date] = mapped_column(Date)
    path: Mapped[str | None] = mapped_column(String(500))


class AuditEvent(Base):
    """Every state change, written in the same transaction as the change.

    ``hash`` chains each event to the previous one (sha256 over the previous hash and the event's
    canonical JSON) so that an altered or removed event is detected.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[str | None] = mapped_column(Text)  # JSON
    after: Mapped[str | None] = mapped_column(Text)  # JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # issue 16: the event's place in the chain (1, 2, 3, ... without gaps) and whether ``hash`` is an HMAC with the
    # audit key (services.audit); events written before a key existed are plain SHA-256 and not keyed
    seq: Mapped[int | None] = mapped_column(BigInteger, index=True, unique=True)
    keyed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    # the KPIs count events of a few actions within a period (services.kpi)
    __table_args__ = (Index("ix_audit_events_action_at", "action", "at"),)


class AuditHead(Base):
    """One row holding the hash of the newest audit event; locked while appending to the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # once an event was written with the key, every later one must be (a process without the key writes nothing)
    keyed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SshKey(Base):
    """A public key that lets a user log in to the built-in SSH server (``incasso users add-key``)."""

    __tablename__ = "ssh_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    algorithm: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(128), unique=True)  # SHA256:... as OpenSSH prints it
    public_key: Mapped[str] = mapped_column(Text)  # the authorized_keys line
    comment: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime] = mapped_column(DateTime)


class CaseLock(Base):
    """ "In progress by NAME": set when someone opens a case, expires by itself; advisory, not a write lock."""

    __tablename__ = "case_locks"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(DateTime)


class Task(Base):
    """Work for a person: a phone call, filing a claim with a curator, a review. Made by the procedure or by hand."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # call | claim_filing | handover_review | ...
    title: Mapped[str] = mapped_column(String(200))  # what a person typed (subject "free"); "" for a coded subject
    # what a task made by the code is about: a code translated when shown (ui.labels.task_title), with its parameters
    subject: Mapped[str] = mapped_column(Vocab(NextAction, 40), default=NextAction.FREE, server_default="free")
    subject_params: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Vocab(TaskStatus, 16), default="open")  # open | done | cancelled
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(Text)  # what came of it, given when it was completed (issue 13)
    # what the task is about, "<kind>:<id>" (consultation:5, discussion:3, promise:7), for the inbox to open it
    ref: Mapped[str | None] = mapped_column(String(48))

    __table_args__ = (
        Index("ix_tasks_open_due", "status", "due_date"),
        # the inbox: a user's open tasks by due date
        Index(
            "ix_tasks_assignee_open",
            "assignee_id",
            "due_date",
            sqlite_where=text("status = 'open'"),
        ),
    )


class Letter(Base):
    """A letter or e-mail to a client: what was decided (kind, figures) and what became of it (file, sending).

    ``figures`` is the JSON of every amount and date the letter states, so the letter can be accounted for
    without re-rendering it. ``status``: pending (decided, not yet rendered) | rendered (a post letter waits for
    its print batch to be posted, an e-mail for the SMTP server) | sent (dispatched: ``dispatched_on``, the day it
    went into the post or the SMTP server accepted it) | failed | cancelled. Only a sent letter has legal effect;
    ``received_on`` and ``costs_from`` are set when it is dispatched (services.dispatch).
    """

    __tablename__ = "letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # reminder | demand | fourteen_day | bkr_warning | ...
    channel: Mapped[str] = mapped_column(Vocab(Channel, 16))  # letter | email | whatsapp
    language: Mapped[str] = mapped_column(String(2))
    letter_date: Mapped[date] = mapped_column(Date)
    figures: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(Vocab(LetterStatus, 16), default="pending")
    file_path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    # the 14-day letter: assumed receipt day and the first day collection costs may be charged
    received_on: Mapped[date | None] = mapped_column(Date)
    costs_from: Mapped[date | None] = mapped_column(Date)
    run_date: Mapped[date | None] = mapped_column(Date)  # the daily run that decided it; NULL when by hand
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatched_on: Mapped[date | None] = mapped_column(Date)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("print_batches.id"), index=True)

    __table_args__ = (
        Index("ix_letters_status", "status", "id"),
        # no second letter of a kind to a case while one waits (issue 16): the database refuses the second writer
        Index(
            "ux_letters_waiting",
            "case_id",
            "kind",
            unique=True,
            sqlite_where=text("status IN ('pending','rendered')"),
        ),
    )


class PrintBatch(Base):
    """Rendered post letters collected into one PDF to print (``incasso letters batch``); ``posted_on`` is the day
    the desk confirms they went into the post, which dispatches every letter in it. ``status``: open | posted |
    undone."""

    __tablename__ = "print_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(Vocab(PrintBatchStatus, 16), default="open")
    made_on: Mapped[date] = mapped_column(Date)
    file_path: Mapped[str] = mapped_column(String(500))
    letters: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    posted_on: Mapped[date | None] = mapped_column(Date)
    posted_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("status in ('open','posted','undone')", name="ck_print_batches_status"),)


class EmailOutbox(Base):
    """Transactional outbox: an e-mail is queued in the transaction that decided it, sent later, retried."""

    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attachment_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(Vocab(EmailStatus, 16), default="queued")  # queued | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))

    @validates("to_address")
    def _one_address(self, _key: str, value: str) -> str:  # one valid address when queued (and again when sent)
        return email_address(value)

    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_email_outbox_due", "status", "next_attempt_at"),)


class BkrMutation(Base):
    """A mutation for the BKR credit registry (code A, H, 1, 2, 3, 4, SH, ZK), exported by ``incasso bkr export``."""

    __tablename__ = "bkr_mutations"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    code: Mapped[str] = mapped_column(String(4))
    mutation_date: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)  # the arrears (A) or the amount written off (3)
    warning_letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))
    exported_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class DebtTrack(Base):
    """A debt-relief or insolvency track (minnelijk traject, WSNP, faillissement) that stops the procedure."""

    __tablename__ = "debt_tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(Vocab(TrackKind, 16))  # minnelijk | wsnp | faillissement
    ruling_date: Mapped[date] = mapped_column(Date)  # or the start of the amicable track
    trustee_name: Mapped[str] = mapped_column(String(200))  # curator, bewindvoerder or debt-help agency
    trustee_contact: Mapped[str] = mapped_column(String(300), default="")
    claim_deadline: Mapped[date | None] = mapped_column(Date)
    response_due: Mapped[date | None] = mapped_column(Date)  # minnelijk: answer to the offer
    status: Mapped[str] = mapped_column(Vocab(TrackStatus, 16), default="open")  # open | ended
    ended_on: Mapped[date | None] = mapped_column(Date)
    # how it ended (issue 12): schone_lei | terminated | rejected | settled
    outcome: Mapped[str | None] = mapped_column(Vocab(TrackOutcome, 16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ProcedureRun(Base):
    """One real ``incasso procedure run`` for a date: who ran it, when, and the count of each action."""

    __tablename__ = "procedure_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_date: Mapped[date] = mapped_column(Date, index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))
    counts: Mapped[str] = mapped_column(Text, default="{}")  # JSON {"<action kind>": n}


class Proposal(Base):
    """Something the desk proposes and a supervisor (Risk) decides: a deferral, a write-off, a stage override, a
    call-in. ``payload`` is the JSON of what was proposed (the inputs and the computed figures shown to the
    supervisor); ``position`` the client's total outstanding when it was proposed (the mandate check)."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    kind: Mapped[str] = mapped_column(Vocab(ProposalKind, 16))  # domain.enums.ProposalKind
    status: Mapped[str] = mapped_column(
        Vocab(ProposalStatus, 16), default="submitted"
    )  # submitted | approved | rejected | withdrawn
    position: Mapped[Decimal] = mapped_column(Money)
    payload: Mapped[str] = mapped_column(Text)  # JSON
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        Index("ix_proposals_status", "status", "proposed_at"),
        # one open proposal of a kind per case: a second one is a mistake or a race
        Index(
            "ux_proposals_open",
            "case_id",
            "kind",
            unique=True,
            sqlite_where=text("status = 'submitted'"),
        ),
    )


class Deferral(Base):
    """An approved deferral of repayment applied to a loan (the limit per loan and the watch period read these)."""

    __tablename__ = "deferrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    months: Mapped[int] = mapped_column(Integer)
    option: Mapped[str] = mapped_column(String(24))  # extend_term | raise_installments
    first_seq: Mapped[int] = mapped_column(Integer)  # the first installment deferred
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # the last deferred month's due date
    applied_at: Mapped[datetime] = mapped_column(DateTime)


class Handover(Base):
    """A case handed over to special management (bijzonder beheer), with the summary and the dossier checklist."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))  # dpd_90 | above_mandate | insolvency | broken_twice | decision
    summary: Mapped[str] = mapped_column(
        Text
    )  # JSON: cause, contacts, agreements, proposal history, the employee's text
    checklist: Mapped[str] = mapped_column(Text)  # JSON: {item: present | waived}
    waived_by: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(
        Vocab(HandoverStatus, 16), default="handed_over"
    )  # handed_over | accepted | returned
    handed_by: Mapped[str] = mapped_column(String(64))
    handed_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    return_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class BankImport(Base):
    """One bank statement file imported by ``incasso payments import`` or the import screen (issue 4)."""

    __tablename__ = "bank_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(300))
    file_hash: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the bytes
    format: Mapped[str] = mapped_column(String(32))  # camt.053.001.02, mt940-ing, ... (the first statement's)
    account_iban: Mapped[str] = mapped_column(String(34))
    statement_ids: Mapped[str] = mapped_column(String(500))  # the statements' own ids, comma-separated
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    imported_by: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    new: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    matched: Mapped[int] = mapped_column(Integer)
    unmatched: Mapped[int] = mapped_column(Integer)


class BankEntryRow(Base):
    """One transaction of an imported statement, kept once (``dedup_key``), and what became of it.

    ``status``: matched (booked on ``loan_id`` as ``ledger_id``) | unmatched | ambiguous (in the queue) |
    not_ours (a person said so) | reversed (booked, then undone by a later reversal or return) |
    reversal (the entry that undid ``reverses_id``) | not_payment (our own debits, the return of our own transfers,
    zero amounts: nothing to book). ``match_reason``: rf | kenmerk_loan | kenmerk_client | loan_number | iban | manual.
    """

    __tablename__ = "bank_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("bank_imports.id"), index=True)
    dedup_key: Mapped[str] = mapped_column(String(32), unique=True)
    account_iban: Mapped[str] = mapped_column(String(34))
    booking_date: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    credit: Mapped[bool] = mapped_column(Boolean)
    reversal: Mapped[bool] = mapped_column(Boolean)
    return_reason: Mapped[str | None] = mapped_column(String(8))
    counterparty_name: Mapped[str | None] = mapped_column(String(200))
    counterparty_iban: Mapped[str | None] = mapped_column(String(34), index=True)
    remittance: Mapped[str] = mapped_column(Text, default="")
    creditor_reference: Mapped[str | None] = mapped_column(String(64))
    end_to_end_id: Mapped[str | None] = mapped_column(String(64), index=True)
    bank_reference: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(Vocab(BankEntryStatus, 16))
    match_reason: Mapped[str | None] = mapped_column(String(16))
    match_detail: Mapped[str | None] = mapped_column(String(200))  # the reference, number or IBAN that matched
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"), index=True)
    ledger_id: Mapped[int | None] = mapped_column(ForeignKey("ledger.id"))
    # indexed: the foreign key to itself makes SQLite look up referring rows on every delete
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("bank_entries.id"), index=True)
    assigned_by: Mapped[str | None] = mapped_column(String(64))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint(
            "status in ('matched','unmatched','ambiguous','not_ours','reversed','reversal','not_payment')",
            name="ck_bank_entries_status",
        ),
        Index("ix_bank_entries_status", "status", "booking_date", "id"),
    )


class LedgerLink(Base):
    """Facts about a ledger row that the generated book does not have: a payment booked after a write-off is a
    recovery; a reversal row names the payment it undid."""

    __tablename__ = "ledger_links"

    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledger.id"), primary_key=True)
    recovery: Mapped[bool] = mapped_column(Boolean, default=False)
    reverses_ledger_id: Mapped[int | None] = mapped_column(ForeignKey("ledger.id"), index=True)


class Selection(Base):
    """A saved client group (issue 8): criteria under a name, opened as a worklist, the target of campaigns.

    ``criteria`` is the JSON of ``services.criteria.Criteria``; the book has one desk, so a name is unique in it.
    """

    __tablename__ = "selections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    criteria: Mapped[str] = mapped_column(Text)  # JSON
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Campaign(Base):
    """One bulk action run on a selection's cases: what was done, with which parameters, by whom, when.

    The selection's name and criteria are copied in, so the campaign keeps its meaning when the selection is
    changed or deleted later. ``finished_at`` is NULL while it runs, and stays NULL when the run was interrupted:
    its members still ``pending`` were not reached (``services.campaigns``).
    """

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    selection_id: Mapped[int | None] = mapped_column(ForeignKey("selections.id"), index=True)
    selection_name: Mapped[str] = mapped_column(String(100))
    criteria: Mapped[str] = mapped_column(Text)  # JSON, as the selection had it
    action: Mapped[str] = mapped_column(String(16))  # letter | email | call_task | assign
    parameters: Mapped[str] = mapped_column(Text)  # JSON
    actor: Mapped[str] = mapped_column(String(64))
    run_date: Mapped[date] = mapped_column(Date)  # the campaign's day: payments are measured from it
    started_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)  # the last slice committed
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    selected: Mapped[int] = mapped_column(Integer)  # members when it started
    done: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("action in ('letter','email','call_task','assign')", name="ck_campaigns_action"),)


class CampaignMember(Base):
    """A case a campaign was for, and what became of it: done (``entity_id``: the letter or task made) or
    refused (``reason``: an English msgid, ``reason_params`` its JSON parameters), or still pending."""

    __tablename__ = "campaign_members"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    outcome: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | refused
    reason: Mapped[str | None] = mapped_column(Text)
    reason_params: Mapped[str | None] = mapped_column(Text)  # JSON
    entity_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("outcome in ('pending','done','refused')", name="ck_campaign_members_outcome"),
        Index("ix_campaign_members_outcome", "campaign_id", "outcome", "case_id"),
    )


class BucketSnapshot(Base):
    """The ageing bucket and arrears of a desk case as the daily run left it (``services.procedure``): the history
    the roll rates compare (``services.kpi``). One row per desk case per run day, kept 35 days."""

    __tablename__ = "bucket_snapshots"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(8))  # one of domain.arrears.BUCKETS
    arrears: Mapped[Decimal] = mapped_column(Money)


class KpiSnapshot(Base):
    """The team view's figures as computed at ``taken_at`` (``services.kpi``, issue 18): written by the daily run
    and on demand (the dashboard's refresh, ``incasso report kpi --take``), shown with that moment. ``scope_user_id``
    NULL is the whole desk, otherwise the user whose cases these are. ``figures`` is the JSON of the report and the
    cause counts, exactly as the live query gave them (``services.kpi_snapshots.stored_figures``)."""

    __tablename__ = "kpi_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    taken_at: Mapped[datetime] = mapped_column(DateTime)
    taken_by: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(Date)
    figures: Mapped[str] = mapped_column(Text)

    # the newest of a scope: WHERE scope_user_id = :u (or IS NULL) ORDER BY id DESC LIMIT 1
    __table_args__ = (Index("ix_kpi_snapshots_scope", "scope_user_id", "id"),)


class ClientAdviser(Base):
    """The client's business adviser (bedrijfsadviseur, a user of role adviser), consulted on problem cases and
    reading the client's cases (issue 13). A table of its own: at most one adviser per client, most have none."""

    __tablename__ = "client_advisers"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), primary_key=True)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)


class Consultation(Base):
    """A question about a case put to the client's business adviser or to special management (issue 13): it lands
    in their inbox as a task; the answer is kept here and returns to whoever asked as a task."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    asked_of_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | answered
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint("status in ('open','answered')", name="ck_consultations_status"),)


class DiscussionItem(Base):
    """A case put on the team meeting's list ("bespreken") with a question, and the decision the meeting took."""

    __tablename__ = "discussion_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    question: Mapped[str] = mapped_column(Text)
    raised_by: Mapped[str] = mapped_column(String(64))
    raised_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | decided
    decision: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint("status in ('open','decided')", name="ck_discussion_items_status"),)


class Budget(Base):
    """A client's budget (issue 15) as given on a day: household and/or business figures, kept as a history (the
    newest ``budget_date``, then ``id``, is current). ``household`` and ``business`` are JSON of decimal strings
    (``services.budget``); ``source`` says who gave them (the desk, or the client through the portal)."""

    __tablename__ = "budgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    budget_date: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))  # desk | client
    checked: Mapped[str] = mapped_column(String(16))  # bank_statements | payslip | self_declared
    household: Mapped[str | None] = mapped_column(Text)  # JSON
    business: Mapped[str | None] = mapped_column(Text)  # JSON
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("source in ('desk','client')", name="ck_budgets_source"),
        CheckConstraint("checked in ('bank_statements','payslip','self_declared')", name="ck_budgets_checked"),
        Index("ix_budgets_client", "client_id", "budget_date", "id"),
    )


class CaseCause(Base):
    """One value of a case's cause of the arrears, from the form it was given on (issue 15): the history of
    ``cases.cause``."""

    __tablename__ = "case_causes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    cause: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # contact | deferral | budget
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(DateTime)


class LoanRisk(Base):
    """A loan's risk status (issue 20, ``domain.risk``) as dated history: one row per change, valid from
    ``valid_from`` up to (not including) ``valid_to`` (NULL: the current row), so any figure can be asked as of a
    past date. Written by the daily run (``services.risk``); ``outstanding`` is the outstanding principal and
    ``bucket`` the ageing bucket on ``valid_from`` (a change of either also starts a new row)."""

    __tablename__ = "loan_risk"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(8))
    dpd: Mapped[int] = mapped_column(Integer)
    outstanding: Mapped[Decimal] = mapped_column(Money)
    past_due: Mapped[Decimal] = mapped_column(Money)
    non_performing: Mapped[bool] = mapped_column(Boolean)
    default_reason: Mapped[str | None] = mapped_column(String(32))
    default_since: Mapped[date | None] = mapped_column(Date)
    cure_from: Mapped[date | None] = mapped_column(Date)
    material_since: Mapped[date | None] = mapped_column(Date)
    forborne: Mapped[bool] = mapped_column(Boolean)
    forborne_since: Mapped[date | None] = mapped_column(Date)
    forborne_np: Mapped[bool] = mapped_column(Boolean)
    probation_from: Mapped[date | None] = mapped_column(Date)
    probation_until: Mapped[date | None] = mapped_column(Date)
    written_off: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        CheckConstraint("stage in (1, 2, 3)", name="ck_loan_risk_stage"),
        Index("ix_loan_risk_loan", "loan_id", "valid_from"),
        # one current row per loan
        Index(
            "ux_loan_risk_current",
            "loan_id",
            unique=True,
            sqlite_where=text("valid_to IS NULL"),
        ),
    )


class Forbearance(Base):
    """A forbearance measure granted to a client in difficulty (a deferral, an arrangement after arrears, a changed
    schedule), with the share of present value it gave up (``npv_loss``, domain.risk.npv_loss)."""

    __tablename__ = "forbearances"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    granted_on: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(24))  # deferral | arrangement | schedule_change
    npv_loss: Mapped[Decimal] = mapped_column(Rate)
    source: Mapped[str] = mapped_column(String(64))  # proposal:<id> | arrangement:<id>
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class RiskSignal(Base):
    """An early-warning signal the daily run found on a loan not (yet) in arrears (``services.risk``): the rule, what
    it saw, the task it became (when the desk setting says so), and whether the loan was in arrears within the
    follow-up window (``arrears_on``: the first day it was)."""

    __tablename__ = "risk_signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    rule: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(300), default="")
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    arrears_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index("ux_risk_signals_rule", "loan_id", "rule", "day", unique=True),)


class VulnerabilityFlag(Base):
    """A vulnerability of a client (illness, bereavement, ...: data/risk.toml), who set it and when; removed flags
    are kept with who removed them. A flagged client's case is not escalated beyond the reminder stage by the daily
    run: a person decides (domain.guards.check_vulnerable_escalation)."""

    __tablename__ = "vulnerability_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(300), default="")
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(DateTime)
    removed_by: Mapped[str | None] = mapped_column(String(64))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)


class DebtHelpReferral(Base):
    """A referral of the client to debt help (the municipality or a national help line, data/risk.toml), made in a
    contact; name and contact details are copied so the record keeps its meaning when the list changes."""

    __tablename__ = "debt_help_referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(300))
    referred_by: Mapped[str] = mapped_column(String(64))
    referred_at: Mapped[datetime] = mapped_column(DateTime)


class ClientSearch(Base):
    """The words a client is found by (``domain.search.index_words``): name, numbers, address, phone, e-mail.

    One row per client, written in the same transaction as every change to the client or its loans
    (``store.search_index``, hooked on the session's flush) and by the generator. The index over it is not a
    model: on SQLite the FTS5 table ``client_search_fts`` (external content, kept by triggers), on PostgreSQL a
    GIN full-text index ``ix_client_search_words``; migration 0013 makes both. ``services.search.verify_index``
    recomputes the words to prove them right."""

    __tablename__ = "client_search"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), primary_key=True)
    words: Mapped[str] = mapped_column(Text)


# ----- outside parties and complaints (issue 19)


class ExternalParty(Base):
    """A bailiff (gerechtsdeurwaarder), lawyer or collection agency a claim can be handed to. An agency that
    collects from consumers needs its registration in the Wki register of Justis (``wki_registration``)."""

    __tablename__ = "external_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # bailiff | lawyer | agency
    street: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(16))
    city: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    iban: Mapped[str] = mapped_column(String(34))
    wki_registration: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint("kind in ('bailiff','lawyer','agency')", name="ck_external_parties_kind"),)


class ExternalClaim(Base):
    """A case's claim handed to an outside party (services.external): proposed, decided with four eyes, at the
    party until it ends (a final status report or a recall). ``statement`` is the JSON of the claim statement as
    of ``handed_on``; ``dossier_path`` the folder with the dossier PDF and its machine-readable twin."""

    __tablename__ = "external_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("external_parties.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed | rejected | at_party | ended
    reason: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    handed_on: Mapped[date | None] = mapped_column(Date)
    statement: Mapped[str | None] = mapped_column(Text)  # JSON
    dossier_path: Mapped[str | None] = mapped_column(String(500))
    last_report: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))  # paid | uncollectable | returned | recalled
    ended_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        CheckConstraint("status in ('proposed','rejected','at_party','ended')", name="ck_external_claims_status"),
        # one open handover per case: a second one is a mistake or a race
        Index(
            "ux_external_claims_open",
            "case_id",
            unique=True,
            sqlite_where=text("status in ('proposed','at_party')"),
        ),
    )


class ExternalReport(Base):
    """A status report of the party on a claim (by hand or from its CSV file), or a payment to us reported to it."""

    __tablename__ = "external_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("external_claims.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # paid | arrangement | judgment | uncollectable | returned
    report_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))  # collected by the party
    costs: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))  # the party's costs
    note: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(300))  # hand | the imported file's name and line
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ExternalPaymentNotice(Base):
    """A payment that came to us while the claim was at the party, and the day it was reported to the party."""

    __tablename__ = "external_payment_notices"

    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledger.id"), primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("external_claims.id"), index=True)
    reported_on: Mapped[date] = mapped_column(Date)
    file_path: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))


class Complaint(Base):
    """A complaint or a dispute about the claim, recorded on the case (services.complaints) with its terms."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # complaint | dispute
    received_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    about: Mapped[str] = mapped_column(Text)
    handled_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | answered
    acknowledge_by: Mapped[date] = mapped_column(Date)
    answer_by: Mapped[date] = mapped_column(Date)
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    answered_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(16))  # upheld | partly_upheld | rejected | withdrawn
    answer: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (
        CheckConstraint("kind in ('complaint','dispute')", name="ck_complaints_kind"),
        CheckConstraint("status in ('open','answered')", name="ck_complaints_status"),
        Index("ix_complaints_open", "status", "case_id"),
    )


class DebtOffer(Base):
    """A debt counsellor's proposal in a minnelijk traject (percentage of the claim, term) and the desk's answer."""

    __tablename__ = "debt_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("debt_tracks.id"), index=True)
    percentage: Mapped[Decimal] = mapped_column(Rate)  # of the claim, as a fraction (0.35)
    term_months: Mapped[int] = mapped_column(Integer)
    claim: Mapped[Decimal] = mapped_column(Money)  # the claim the percentage is of, when it was received
    received_on: Mapped[date] = mapped_column(Date)
    respond_by: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | proposed | accepted | rejected
    answer: Mapped[str | None] = mapped_column(String(8))  # accept | reject
    reason: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class PortalLink(Base):
    """A client's personal portal link (issue 21): the link's token and its one-time code, both stored only as
    hashes (the token as SHA-256, it is random and long; the code as salted scrypt). A new link revokes the
    client's older ones; three wrong confirmations lock it for a while."""

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)  # first opened (the campaign measurement)
    # the letter that prints it: the link works from that letter's dispatch (services.portal.letter_dispatched)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class PortalSession(Base):
    """A logged-in portal session: the cookie's SHA-256, the client, its CSRF token, and when it ends."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("portal_links.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)  # the absolute end, whatever the activity
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
