"""A deterministic, seeded generator of a Dutch small-business loan book (``incasso demo``, benchmarks).

The same ``seed`` and ``as_of`` always give the same book, byte for byte: every random choice comes from
one ``random.Random(seed)``, every date is derived from ``as_of`` (never the wall clock), and ids are
assigned here in a fixed order.

Shape of the book (shares are of clients; a client has 1-3 loans, 1.2 on average):

- users for every role (``USERS``), the same set always;
- clients: natural persons (mostly consumers, e.g. private borrowers), eenmanszaken, v.o.f.'s and B.V.'s,
  with Dutch names, addresses (postcode ``1234AB``), a KvK number (8 digits) for firms, a valid NL IBAN
  (real bank codes, 11-proof account number, mod-97 check digits), phone, e-mail, channel and language;
  exactly two clients carry hostile names (console markup and an ANSI escape) that the UI must show
  literally; the name tables are data, ``names.toml`` beside this module (``demo.names``);
- loans with their full schedule (``domain.schedule``) and the paid state of every line;
- one collections case per client in arrears, at the procedure stage that fits its days past due and
  in every status (``SCENARIOS``), with contacts, promises, notes, payment arrangements and collection
  costs; closed historic cases for some clients that are current now;
- the ledger: one ``conversion`` entry per loan (the paid history taken over from the previous system)
  plus the last payments as individual entries with their allocations, so that
  ``conversion + payments == principal_paid + interest_paid`` per loan;
- dossier documents per loan, and one audit event ("generate", entity "book").

Speed (a million loans, ~40 million schedule lines): schedules are never built per loan. Loans share a
few thousand (principal, rate, term, repayment) templates; each template is computed once with the domain
function, and the installments are written set-based with one ``INSERT ... SELECT`` per chunk that joins
the chunk's loans with the template lines and a calendar of due dates (temporary tables). Other rows go
in with ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) as plain tuples of whole cents, bypassing the
ORM. Every chunk of clients is one transaction; the last chunk's transaction also refreshes the
worklist's position cache (``services.positions``) and records the audit event.

Due dates fall on day 1-28 of the month only, so a schedule's lines are exactly one calendar month
apart and never clamped (``domain.schedule.add_months``).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import time as _time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from incasso_tui.demo.names import load_names
from incasso_tui.domain.costs import wik_costs
from incasso_tui.domain.enums import ArrearsCause, CaseStatus, NextAction, Stage
from incasso_tui.domain.money import from_cents, to_cents
from incasso_tui.domain.schedule import add_months, build_schedule
from incasso_tui.domain.search import index_words
from incasso_tui.errors import N_, ConfigError
from incasso_tui.services.audit import Event, record, record_many
from incasso_tui.services.causes import BACKFILL as CAUSE_BACKFILL
from incasso_tui.services.positions import refresh_case_positions
from incasso_tui.services.worklist import name_key
from incasso_tui.store.db import Database, refresh_statistics
from incasso_tui.store.models import NO_ARREARS, Client, Loan

__all__ = ["GenerateReport", "Progress", "USERS", "generate"]

Progress = Callable[[str, int, int], None]

ACTOR = "conversie"  # created_by / actor of everything the generator writes
CHUNK_CLIENTS = 20_000  # clients per transaction
DETAIL_MAX_LOANS = 25_000  # up to this book size every loan gets individual payments, not only arrears loans
MAX_AGE_DAYS = 7 * 365  # loans started within the last 7 years

# name, full name, role: the same set in every book
USERS: tuple[tuple[str, str, str], ...] = (
    ("demo", "Demo Medewerker", "employee"),
    ("jansen", "Sanne Jansen", "employee"),
    ("dekker", "Ruben Dekker", "employee"),
    ("bakker", "Femke Bakker", "supervisor"),  # afdeling Risk
    ("visser", "Joost Visser", "special_management"),
    ("admin", "Applicatiebeheer", "admin"),
    ("audit", "Interne Audit", "auditor"),
    ("devries", "Pieter de Vries", "adviser"),  # bedrijfsadviseurs (issue 13)
    ("smit", "Lotte Smit", "adviser"),
)
ADVISERS = ("devries", "smit")
EMPLOYEES = ("demo", "jansen", "dekker")
EMPLOYEE_WEIGHTS = (0.4, 0.3, 0.3)

_NAMES = load_names()  # names.toml beside this module: the lists in the file's order
HOSTILE_NAMES = _NAMES.hostile  # console markup (must show literally) and an ANSI escape (never to the terminal)


@dataclass(frozen=True)
class Scenario:
    """What happens to a client: its share per pool, the days past due of its first loan, the case status."""

    code: str
    business: float  # share among business clients (and natural persons acting as a business)
    consumer: float  # share among consumers
    dpd: tuple[int, int] | None  # days past due range (None: no arrears)
    status: str | None  # case status (None: no case)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("closed", 0.020, 0.020, None, CaseStatus.CLOSED),  # current now, a historic closed case
    Scenario("reminder", 0.030, 0.035, (1, 14), CaseStatus.ACTIVE),
    Scenario("demand", 0.020, 0.025, (15, 30), CaseStatus.ACTIVE),
    Scenario("call", 0.012, 0.008, (31, 37), CaseStatus.ACTIVE),
    Scenario("fourteen_day", 0.0, 0.015, (38, 52), CaseStatus.ACTIVE),
    Scenario("bkr_warning", 0.012, 0.008, (46, 60), CaseStatus.ACTIVE),
    Scenario("bkr_registered", 0.010, 0.010, (61, 75), CaseStatus.ACTIVE),
    Scenario("default_notice", 0.008, 0.008, (76, 90), CaseStatus.ACTIVE),
    Scenario("call_in", 0.011, 0.010, (91, 200), CaseStatus.ACTIVE),
    Scenario("handed_over", 0.005, 0.003, (91, 420), CaseStatus.HANDED_OVER),
    Scenario("arrangement", 0.010, 0.012, (20, 120), CaseStatus.ARRANGEMENT),
    Scenario("paused", 0.005, 0.008, (10, 90), CaseStatus.PAUSED),
    Scenario("deferral", 0.003, 0.002, (15, 60), CaseStatus.DEFERRAL),
    Scenario("insolvency", 0.005, 0.006, (45, 300), CaseStatus.INSOLVENCY),
)
_CURRENT = -1  # scenario index of a client without arrears and without a case


def stage_for(dpd: int, consumer: bool, status: str) -> Stage:
    """The procedure stage that fits ``dpd`` days past due (consumers get the 14-day letter before BKR)."""
    if status == CaseStatus.HANDED_OVER:
        return Stage.HANDOVER
    if dpd <= 14:
        return Stage.REMINDER
    if dpd <= 30:
        return Stage.DEMAND
    if consumer:
        if dpd <= 37:
            return Stage.CALL
        if dpd <= 52:
            return Stage.FOURTEEN_DAY
    elif dpd <= 45:
        return Stage.CALL
    if dpd <= 60:
        return Stage.BKR_WARNING
    if dpd <= 75:
        return Stage.BKR_REGISTERED
    if dpd <= 90:
        return Stage.DEFAULT_NOTICE
    return Stage.CALL_IN if dpd <= 150 else Stage.HANDOVER


# the case's next action (a domain.enums.NextAction code) per stage, and per status off the procedure
NEXT_ACTION = {
    Stage.REMINDER: NextAction.FOLLOW_UP_REMINDER,
    Stage.DEMAND: NextAction.FOLLOW_UP_DEMAND,
    Stage.CALL: NextAction.CALL_ABOUT_ARREARS,
    Stage.FOURTEEN_DAY: NextAction.WATCH_FOURTEEN_DAY_TERM,
    Stage.BKR_WARNING: NextAction.PREPARE_BKR_REPORT,
    Stage.BKR_REGISTERED: NextAction.CHECK_BKR_REPORT,
    Stage.DEFAULT_NOTICE: NextAction.FOLLOW_UP_DEFAULT_NOTICE,
    Stage.CALL_IN: NextAction.CALL_IN_PROPOSAL,
    Stage.HANDOVER: NextAction.HANDOVER_TO_SPECIAL,
}
NEXT_ACTION_STATUS = {
    CaseStatus.ARRANGEMENT: NextAction.CHECK_ARRANGEMENT_PAYMENT,
    CaseStatus.PAUSED: NextAction.PAUSE_OVER_RESUME,
    CaseStatus.DEFERRAL: NextAction.EVALUATE_DEFERRAL,
    CaseStatus.INSOLVENCY: NextAction.FILE_CLAIM_CURATOR,
    CaseStatus.HANDED_OVER: NextAction.REVIEW_HANDED_OVER,
}
PAUSE_REASONS = (
    "Minnelijk traject schuldhulpverlening gemeente {city}",
    "Klant opgenomen in ziekenhuis, contact na herstel",
    "Moratorium aangevraagd (art. 287b Fw)",
    "Geschil over hoogte achterstand in onderzoek",
    "Verkoop bedrijfspand loopt, opbrengst afwachten",
)

# ----- Dutch names and places (the tables are in names.toml) ------------------------------------------

FIRST_NAMES = _NAMES.first_names
SURNAMES = _NAMES.surnames
TRADES = _NAMES.trades
SECTORS = _NAMES.sectors
FANCY = _NAMES.fancy
STREETS = _NAMES.streets
CITIES = _NAMES.cities  # city, lowest and highest 4-digit postcode number
POSTCODE_LETTERS = _NAMES.postcode_letters  # F, I, O, Q, U and Y are not used in Dutch postcodes
BANKS = (
    ("INGB", 0.32),
    ("RABO", 0.28),
    ("ABNA", 0.22),
    ("SNSB", 0.05),
    ("TRIO", 0.04),
    ("ASNB", 0.03),
    ("KNAB", 0.03),
    ("BUNQ", 0.03),
)
MAIL_PROVIDERS = _NAMES.mail_providers
AREA_CODES = _NAMES.area_codes

# kind, consumer, share of clients
KINDS = (
    ("natural", True, 0.15),
    ("natural", False, 0.02),
    ("eenmanszaak", False, 0.40),
    ("vof", False, 0.13),
    ("bv", False, 0.30),
)
CHANNELS = (("phone", 0.35), ("whatsapp", 0.30), ("email", 0.25), ("letter", 0.09), ("video", 0.01))

# the principal grid (euros, multiples of 500): every principal is one of these
PRINCIPALS = tuple(
    list(range(2500, 10001, 500))
    + list(range(11000, 50001, 1000))
    + list(range(55000, 100001, 5000))
    + list(range(110000, 250001, 10000))
)


@dataclass(frozen=True)
class Product:
    name: str
    share: float
    low: int  # principal range in euros
    high: int
    median: int
    rates: tuple[str, ...]
    terms: tuple[int, ...]
    consumer: bool  # offered to consumers too


PRODUCTS = (
    Product(
        "Microkrediet",
        0.50,
        2500,
        50000,
        12000,
        ("0.0795", "0.0895", "0.0995", "0.1095"),
        (12, 24, 36, 48, 60, 72),
        True,
    ),
    Product("Starterslening", 0.20, 5000, 100000, 20000, ("0.0695", "0.0795", "0.0895"), (36, 48, 60, 72, 84), True),
    Product("Werkkapitaal", 0.18, 10000, 150000, 30000, ("0.0795", "0.0895", "0.0995"), (12, 24, 36), False),
    Product("Groeikrediet", 0.12, 25000, 250000, 75000, ("0.0595", "0.0695", "0.0795"), (48, 60, 72, 84), False),
)
TERMS = (12, 24, 36, 48, 60, 72, 84)

OUTCOMES = (
    ("no_answer", 0.30),
    ("reached", 0.25),
    ("promise", 0.25),
    ("hardship", 0.09),
    ("dispute", 0.06),
    ("wrong_number", 0.05),
)
CAUSES = (
    (ArrearsCause.BUSINESS_DOWNTURN, 0.30, "omzetdaling"),
    (ArrearsCause.SEASONAL_INCOME, 0.15, "seizoensinkomsten"),
    (ArrearsCause.ILLNESS, 0.15, "ziekte"),
    (ArrearsCause.LOSS_OF_WORK, 0.10, "verlies van opdrachten"),
    (ArrearsCause.TOO_MANY_DEBTS, 0.15, "te veel schulden"),
    (ArrearsCause.OTHER, 0.15, "late betaling door eigen klanten"),
)
NOTES = (
    "Dossier overgenomen uit het vorige systeem.",
    "Klant heeft seizoensinkomsten; betaling verwacht na het voorjaar.",
    "Boekhouder van klant ({contact}) is de vaste contactpersoon voor betalingen.",
    "Klant vraagt om contact per e-mail, niet telefonisch onder werktijd.",
    "Jaarcijfers opgevraagd om de terugbetaalcapaciteit te beoordelen.",
    "Pand en inventaris verpand; waarde laatst getaxeerd in {year}.",
    "Klant heeft een nieuwe grote opdracht binnen, verwacht de achterstand in te lopen.",
    "Borg (privé) geïnformeerd over de achterstand.",
)


# ----- small helpers ----------------------------------------------------------------------------------


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _eur(cents: int) -> str:
    """Dutch notation for letters and notes: € 1.234,56."""
    whole = f"{cents // 100:,}".replace(",", ".")
    return f"€ {whole},{cents % 100:02d}"


def _nl_date(d: date) -> str:
    return f"{d.day:02d}-{d.month:02d}-{d.year}"


def _cap(surname: str) -> str:
    """A surname without a first name before it capitalises its tussenvoegsel: 'van Dijk' -> 'Van Dijk'."""
    return surname[0].upper() + surname[1:]


def nl_iban(bank: str, account: int) -> str:
    """A Dutch IBAN for a 4-letter bank code and an account number (at most 10 digits), check digits by mod 97."""
    bban = f"{bank}{account:010d}"
    numeric = "".join(str(int(ch, 36)) for ch in bban) + "232100"  # N=23, L=21, check digits 00
    check = 98 - int(numeric) % 97
    return f"NL{check:02d}{bban}"


def _weighted(pairs: Sequence[tuple[Any, float]]) -> tuple[list[Any], list[float]]:
    values = [p[0] for p in pairs]
    cum, total = [], 0.0
    for p in pairs:
        total += p[1]
        cum.append(total)
    return values, cum


# ----- the report -------------------------------------------------------------------------------------


@dataclass
class GenerateReport:
    """What :func:`generate` wrote: rows per table, and how long it took (seconds, also per phase)."""

    loans: int
    seed: int
    as_of: date
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)


# ----- schedule templates -----------------------------------------------------------------------------


class _Templates:
    """Distinct (principal, rate, term, repayment) schedules, each computed once by the domain function."""

    def __init__(self) -> None:
        self.ids: dict[tuple[int, str, int, str], int] = {}
        self.principal: list[list[int]] = []  # per template: principal part per line (cents), index seq-1
        self.interest: list[list[int]] = []
        self.cum_amount: list[list[int]] = []  # cum_amount[t][k] = sum of lines 1..k (principal + interest)
        self.cum_principal: list[list[int]] = []
        self.pending: list[tuple[int, int, int, int]] = []  # rows for the temporary table, not written yet

    def get(self, principal_euros: int, rate: str, term: int, repayment: str) -> int:
        key = (principal_euros, rate, term, repayment)
        tpl = self.ids.get(key)
        if tpl is not None:
            return tpl
        tpl = len(self.principal)
        self.ids[key] = tpl
        lines = build_schedule(repayment, Decimal(principal_euros), Decimal(rate), term, date(2000, 1, 1))
        ps = [to_cents(line.principal) for line in lines]
        is_ = [to_cents(line.interest) for line in lines]
        cum_a, cum_p, a, p = [0], [0], 0, 0
        for seq, (pp, ii) in enumerate(zip(ps, is_, strict=True), start=1):
            a += pp + ii
            p += pp
            cum_a.append(a)
            cum_p.append(p)
            self.pending.append((tpl, seq, pp, ii))
        self.principal.append(ps)
        self.interest.append(is_)
        self.cum_amount.append(cum_a)
        self.cum_principal.append(cum_p)
        return tpl


def _birth_date(number: str, kind: str) -> date | None:
    """A natural person's date of birth (what confirms a portal login, issue 21), derived from the client number so
    that it draws nothing from the generator's random stream (the rest of the book stays as it was)."""
    if kind != "natural":
        return None
    n = int(hashlib.sha256(number.encode()).hexdigest()[:8], 16)
    return date(1950, 1, 1) + timedelta(days=n % (365 * 50))


# ----- writing rows -----------------------------------------------------------------------------------

COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "name", "full_name", "role", "language", "active", "created_at"),
    "clients": (
        "id",
        "number",
        "kind",
        "consumer",
        "name",
        "name_key",
        "contact_person",
        "kvk",
        "iban",
        "street",
        "postcode",
        "city",
        "phone",
        "email",
        "preferred_channel",
        "language",
        "birth_date",
    ),
    "loans": (
        "id",
        "number",
        "client_id",
        "product",
        "principal",
        "annual_rate",
        "term_months",
        "start_date",
        "repayment",
        "commercial",
        "has_loan_agreement",
        "has_pledge_deed",
        "status",
    ),
    "charges": ("id", "loan_id", "kind", "due_date", "amount", "paid", "description"),
    "ledger": ("id", "loan_id", "booking_date", "kind", "amount", "description", "credit", "created_by", "created_at"),
    "allocations": ("id", "ledger_id", "loan_id", "component", "installment_seq", "charge_id", "amount"),
    "cases": (
        "id",
        "client_id",
        "status",
        "stage",
        "assignee_id",
        "opened_on",
        "closed_on",
        "next_action_date",
        "next_action",
        "pause_reason",
        "pause_until",
        "flag",
        "pos_oldest_due",
        "pos_arrears",
        "pos_as_of",
        "version",
        "updated_by",
        "updated_at",
    ),
    "contacts": ("id", "case_id", "at", "channel", "outcome", "cause", "summary", "user_name"),
    "promises": ("id", "case_id", "contact_id", "due_date", "amount", "status"),
    "notes": ("id", "case_id", "at", "user_name", "text"),
    "arrangements": (
        "id",
        "case_id",
        "status",
        "arrears_covered",
        "down_payment",
        "installment_count",
        "frequency",
        "first_date",
        "created_by",
        "created_at",
        "version",
    ),
    "arrangement_lines": ("arrangement_id", "seq", "due_date", "amount", "paid"),
    "forbearances": ("id", "loan_id", "granted_on", "kind", "npv_loss", "source", "created_by", "created_at"),
    "client_search": ("client_id", "words"),
    "documents": ("id", "client_id", "loan_id", "kind", "title", "added_on", "path"),
    "client_advisers": ("client_id", "adviser_id"),
    "handovers": (
        "id",
        "case_id",
        "reason",
        "summary",
        "checklist",
        "waived_by",
        "status",
        "handed_by",
        "handed_at",
        "decided_by",
        "decided_at",
        "return_reason",
        "version",
    ),
    "gen_loan": ("loan_id", "tpl", "m0", "day", "npaid", "part_p", "part_i"),
    "gen_tpl": ("tpl", "seq", "principal", "interest"),
    "gen_cal": ("m", "d", "due"),
}
# the order that satisfies the foreign keys
WRITE_ORDER = (
    "users",
    "clients",
    "client_advisers",
    "loans",
    "client_search",
    "charges",
    "ledger",
    "allocations",
    "cases",
    "contacts",
    "promises",
    "notes",
    "arrangements",
    "arrangement_lines",
    "forbearances",
    "documents",
    "handovers",
)
ID_TABLES = (
    "users",
    "clients",
    "loans",
    "charges",
    "ledger",
    "allocations",
    "cases",
    "contacts",
    "promises",
    "notes",
    "arrangements",
    "forbearances",
    "documents",
    "handovers",
)

_INSTALLMENTS_SQL = """
INSERT INTO installments (loan_id, seq, due_date, principal, interest, principal_paid, interest_paid)
SELECT g.loan_id, t.seq, c.due, t.principal, t.interest,
       CASE WHEN t.seq <= g.npaid THEN t.principal WHEN t.seq = g.npaid + 1 THEN g.part_p ELSE 0 END,
       CASE WHEN t.seq <= g.npaid THEN t.interest WHEN t.seq = g.npaid + 1 THEN g.part_i ELSE 0 END
FROM gen_loan g
JOIN gen_tpl t ON t.tpl = g.tpl
JOIN gen_cal c ON c.m = g.m0 + t.seq AND c.d = g.day
ORDER BY g.loan_id, t.seq
"""


class _Sink:
    """Writes plain tuples: ``executemany`` on SQLite, ``COPY`` on PostgreSQL (same transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.superuser = self.pg and conn.exec_driver_sql("SELECT current_setting('is_superuser')").scalar_one() == "on"

    # values as the Date / DateTime columns store them (SQLAlchemy's SQLite formats; PostgreSQL adapts)
    def d(self, value: date | None) -> Any:
        if value is None or self.pg:
            return value
        return value.isoformat()

    def dt(self, value: datetime) -> Any:
        return value if self.pg else value.isoformat(" ", "microseconds")

    def write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cols = COLUMNS[table]
        names = ", ".join(f'"{c}"' for c in cols)
        if self.pg:
            raw = self.conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(cols))
            self.conn.exec_driver_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)

    def create_temp_tables(self) -> None:
        due_type = "DATE" if self.pg else "TEXT"
        for ddl in (
            "CREATE TEMPORARY TABLE gen_loan (loan_id INTEGER PRIMARY KEY, tpl INTEGER NOT NULL, m0 INTEGER NOT NULL,"
            " day INTEGER NOT NULL, npaid INTEGER NOT NULL, part_p BIGINT NOT NULL, part_i BIGINT NOT NULL)",
            "CREATE TEMPORARY TABLE gen_tpl (tpl INTEGER NOT NULL, seq INTEGER NOT NULL, principal BIGINT NOT NULL,"
            " interest BIGINT NOT NULL, PRIMARY KEY (tpl, seq))",
            f"CREATE TEMPORARY TABLE gen_cal (m INTEGER NOT NULL, d INTEGER NOT NULL, due {due_type} NOT NULL,"
            " PRIMARY KEY (m, d))",
        ):
            self.conn.exec_driver_sql(ddl)

    def drop_temp_tables(self) -> None:
        for name in ("gen_loan", "gen_tpl", "gen_cal"):
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


# ----- the generator ----------------------------------------------------------------------------------


class _Book:
    """State of one generation run: the random stream, id counters and the rows of the current chunk."""

    def __init__(
        self, sink: _Sink, *, loans: int, seed: int, as_of: date, id_base: dict[str, int], user_ids: dict[str, int]
    ) -> None:
        self.sink = sink
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.midnight = datetime.combine(as_of, time())
        self.n_loans = loans
        self.detail = loans <= DETAIL_MAX_LOANS
        self.events: list[Event] = []  # the generated cases' history (detail books), written with the last chunk
        self.next_id = {t: id_base.get(t, 0) + 1 for t in ID_TABLES}
        self.user_ids = user_ids
        self.templates = _Templates()
        self.tpl_written = 0
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
        self.counts: dict[str, int] = {t: 0 for t in (*WRITE_ORDER, "installments")}
        self.kvks: set[str] = set()
        self.ibans: set[str] = set()
        self.mi_as_of = _month_index(as_of)
        self._channels = _weighted(CHANNELS)
        self._banks = _weighted(BANKS)
        self._outcomes = _weighted(OUTCOMES)
        self._causes = _weighted([(c[0], c[1]) for c in CAUSES])
        self._cause_nl = {c[0]: c[2] for c in CAUSES}
        self._products = _weighted([(p, p.share) for p in PRODUCTS])
        self._consumer_products = _weighted([(p, p.share) for p in PRODUCTS if p.consumer])
        # numbers: a seeded offset and a stride coprime to the range give unique, unordered-looking numbers
        self._client_no = (self.rng.randrange(9_000_000), 2_718_281)
        self._loan_no = (self.rng.randrange(90_000_000), 31_415_927)
        self.n_client = 0
        self.n_loan = 0

    def pick(self, weighted: tuple[list[Any], list[float]]) -> Any:
        return self.rng.choices(weighted[0], cum_weights=weighted[1])[0]

    def take(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.rows[table].append(row)

    # ----- planning (up front, so quotas are exact and every scenario occurs in a small book)
    def plan(self) -> tuple[list[int], list[tuple[str, bool]], bytearray | list[int], set[int]]:
        rng = self.rng
        loans_per_client: list[int] = []
        left = self.n_loans
        while left > 0:
            u = rng.random()
            n = 1 if u < 0.84 else 2 if u < 0.97 else 3
            n = min(n, left)
            loans_per_client.append(n)
            left -= n
        kinds_values, kinds_cum = _weighted([((k, c), s) for k, c, s in KINDS])
        kinds = rng.choices(kinds_values, cum_weights=kinds_cum, k=len(loans_per_client))
        scenario = [_CURRENT] * len(kinds)
        for consumer_pool in (False, True):
            members = [i for i, (_k, consumer) in enumerate(kinds) if consumer == consumer_pool]
            codes: list[int] = []
            for idx, sc in enumerate(SCENARIOS):
                share = sc.consumer if consumer_pool else sc.business
                if share > 0:
                    codes += [idx] * max(1 if len(members) >= 60 else 0, round(share * len(members)))
            codes += [_CURRENT] * max(0, len(members) - len(codes))
            codes = codes[: len(members)]
            rng.shuffle(codes)
            for i, code in zip(members, codes, strict=True):
                scenario[i] = code
        # the two hostile names go to the first two business clients with an active case (on the worklist)
        hostile = [
            i
            for i, sc in enumerate(scenario)
            if sc != _CURRENT and SCENARIOS[sc].status == CaseStatus.ACTIVE and kinds[i][0] != "natural"
        ][:2]
        return loans_per_client, kinds, scenario, set(hostile)

    # ----- clients
    def person(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES)

    def client(self, index: int, kind: str, consumer: bool, hostile: int | None) -> tuple[int, str, str, str]:
        """Write a client; returns (id, name, city, contact person or name)."""
        rng = self.rng
        cid = self.take("clients")
        number = f"C{(self._client_no[0] + index * self._client_no[1]) % 9_000_000 + 1_000_000:07d}"
        first, surname = self.person()
        contact: str | None = None
        kvk: str | None = None
        if kind == "natural":
            name = f"{first} {surname}"
            mail_local = f"{name_key(first)}.{name_key(surname)}"
            domain = rng.choice(MAIL_PROVIDERS)
        else:
            contact = f"{first} {surname}"
            trade = rng.choice(TRADES)
            if kind == "eenmanszaak":
                name = f"{trade} {_cap(surname)}" if rng.random() < 0.7 else f"{_cap(surname)} {rng.choice(SECTORS)}"
            elif kind == "vof":
                other = rng.choice(SURNAMES)
                name = (
                    f"{_cap(surname)} & {_cap(other)} V.O.F."
                    if rng.random() < 0.5
                    else f"{trade} {_cap(surname)} & Zn."
                )
            else:
                roll = rng.random()
                if roll < 0.45:
                    name = f"{_cap(surname)} {rng.choice(SECTORS)} B.V."
                elif roll < 0.8:
                    name = f"{trade} {rng.choice(FANCY)} B.V."
                else:
                    name = f"{rng.choice(FANCY)} {rng.choice(SECTORS)} B.V."
            while True:
                kvk = str(rng.randrange(10_000_000, 100_000_000))
                if kvk not in self.kvks:
                    self.kvks.add(kvk)
                    break
            if hostile is not None:
                name = HOSTILE_NAMES[hostile]
            mail_local = "info"
            domain = name_key(name.removesuffix(" B.V.").removesuffix(" V.O.F."))[:30] + ".nl"
        city, low, high = rng.choice(CITIES)
        while True:
            letters = rng.choice(POSTCODE_LETTERS) + rng.choice(POSTCODE_LETTERS)
            if letters not in ("SS", "SD", "SA"):
                break
        postcode = f"{rng.randint(low, high)}{letters}"
        house = str(rng.randint(1, 250))
        roll = rng.random()
        if roll < 0.08:
            house += rng.choice("abc")
        elif roll < 0.12:
            house += f"-{rng.randint(1, 4)}"
        street = f"{rng.choice(STREETS)} {house}"
        iban = self.iban()
        if kind == "natural" or rng.random() < 0.7:
            phone = f"06-{rng.randrange(10_000_000, 100_000_000)}"
            if rng.random() < 0.25:
                phone = f"+31 6 {phone[3:]}"
        else:
            area = rng.choice(AREA_CODES)
            phone = f"{area}-{rng.randrange(10 ** (9 - len(area)), 10 ** (10 - len(area)))}"
        email = None if rng.random() < 0.04 else f"{mail_local}@{domain}"
        channel = self.pick(self._channels)
        if email is None and channel == "email":
            channel = "phone"
        language = "nl" if rng.random() < 0.9 else "en"
        self.add(
            "clients",
            (
                cid,
                number,
                kind,
                consumer,
                name,
                name_key(name),
                contact,
                kvk,
                iban,
                street,
                postcode,
                city,
                phone,
                email,
                channel,
                language,
                _birth_date(number, kind),
            ),
        )
        return cid, name, city, contact or name

    def search_words(self, client: tuple[Any, ...], loan_numbers: list[str]) -> None:
        """The client's row in the search index (store.search_index), as the services would write it."""
        c = dict(zip(COLUMNS["clients"], client, strict=True))
        self.add(
            "client_search",
            (
                c["id"],
                index_words(
                    name=c["name"],
                    number=c["number"],
                    loan_numbers=loan_numbers,
                    kvk=c["kvk"],
                    iban=c["iban"],
                    phone=c["phone"],
                    email=c["email"],
                    postcode=c["postcode"],
                    street=c["street"],
                    city=c["city"],
                    contact_person=c["contact_person"],
                ),
            ),
        )

    def iban(self) -> str:
        rng = self.rng
        bank = self.pick(self._banks)
        while True:
            # account number 0xxxxxxxxd: 8 random digits (the first not 0), then the check digit of the
            # Dutch 11-proof (sum of digit * weight 10..1 divisible by 11)
            body = rng.randrange(10_000_000, 100_000_000)
            total, rest = 0, body
            for weight in range(2, 10):
                rest, digit = divmod(rest, 10)
                total += digit * weight
            last = -total % 11
            if last == 10:
                continue
            iban = nl_iban(bank, body * 10 + last)
            if iban not in self.ibans:
                self.ibans.add(iban)
                return iban

    # ----- loans
    def loan_terms(self, consumer: bool) -> tuple[Product, int, str, int, str]:
        rng = self.rng
        product: Product = self.pick(self._consumer_products if consumer else self._products)
        raw = rng.lognormvariate(0.0, 0.6) * product.median
        raw = min(max(raw, product.low), product.high)
        at = bisect.bisect_left(PRINCIPALS, raw)  # the nearest grid value
        principal = PRINCIPALS[at] if at == 0 or PRINCIPALS[at] - raw < raw - PRINCIPALS[at - 1] else PRINCIPALS[at - 1]
        rate = rng.choice(product.rates)
        term = rng.choice(product.terms)
        repayment = "annuity" if rng.random() < 0.75 else "linear"
        return product, principal, rate, term, repayment

    def loan(self, client_id: int, consumer: bool, dpd: int | None, client_no: str) -> dict[str, Any]:
        """Write a loan (and its temp schedule row, documents and charges); returns what the case needs."""
        rng, as_of = self.rng, self.as_of
        lid = self.take("loans")
        number = f"L{(self._loan_no[0] + self.n_loan * self._loan_no[1]) % 90_000_000 + 10_000_000:08d}"
        self.n_loan += 1
        product, principal, rate, term, repayment = self.loan_terms(consumer)
        part_p = part_i = 0
        oldest: date | None = None
        if dpd is None:  # current: all lines due before as_of are paid
            age = int(MAX_AGE_DAYS * rng.random() ** 1.3) + 1
            start = as_of - timedelta(days=age)
            if start.day > 28:
                start = start.replace(day=28)
            first_due = add_months(start, 1)
            mi_first = _month_index(first_due)
            npaid = min(max(self.mi_as_of - mi_first + (1 if first_due.day < as_of.day else 0), 0), term)
            missed = 0
        else:
            while True:  # the oldest unpaid due date: day 1-28 of its month
                oldest = as_of - timedelta(days=dpd)
                if oldest.day <= 28:
                    break
                dpd += 1
            missed = self.mi_as_of - _month_index(oldest) + (1 if oldest.day < as_of.day else 0)
            if term < missed:
                term = next(t for t in TERMS if t >= missed)
            first_unpaid = rng.randint(1, term - missed + 1)
            npaid = first_unpaid - 1
            first_due = add_months(oldest, -npaid)
            start = add_months(first_due, -1)
            mi_first = _month_index(first_due)
        tpl = self.templates.get(principal, rate, term, repayment)
        if dpd is not None and rng.random() < 0.3:  # a partial payment on the oldest unpaid line
            line_p, line_i = self.templates.principal[tpl][npaid], self.templates.interest[tpl][npaid]
            amount = line_p + line_i
            pay = (amount * rng.randint(10, 90) // 100) // 100 * 100
            if 0 < pay < amount:
                part_i = min(line_i, pay)
                part_p = pay - part_i
        commercial = not consumer
        has_agreement = rng.random() < 0.97
        has_pledge = rng.random() < 0.4
        status = "repaid" if dpd is None and npaid == term else "active"
        d = self.sink.d
        self.add(
            "loans",
            (
                lid,
                number,
                client_id,
                product.name,
                principal * 100,
                int(Decimal(rate) * 1_000_000),
                term,
                d(start),
                repayment,
                commercial,
                has_agreement,
                has_pledge,
                status,
            ),
        )
        self.add("gen_loan", (lid, tpl, mi_first - 1, first_due.day, npaid, part_p, part_i))
        self.counts["installments"] += term
        # dossier documents
        for present, kind, title in (
            (has_agreement, "loan_agreement", "Leningsovereenkomst"),
            (has_pledge, "pledge_deed", "Verpandingsakte"),
        ):
            if present:
                slug = title.lower()
                self.add(
                    "documents",
                    (
                        self.take("documents"),
                        client_id,
                        lid,
                        kind,
                        f"{title} {number}",
                        d(start),
                        f"dossier/{client_no}/{number}-{slug}.pdf",
                    ),
                )
        # arrears figures (cents)
        cum_a, cum_p = self.templates.cum_amount[tpl], self.templates.cum_principal[tpl]
        past_due = cum_a[npaid + missed] - cum_a[npaid] - part_p - part_i
        past_due_principal = cum_p[npaid + missed] - cum_p[npaid] - part_p
        costs = 0
        if dpd is not None and dpd >= 61 and commercial and rng.random() < 0.7 and oldest is not None:
            costs = to_cents(wik_costs(from_cents(past_due_principal)))
            self.add(
                "charges",
                (
                    self.take("charges"),
                    lid,
                    "collection_costs",
                    d(oldest + timedelta(days=61)),
                    costs,
                    0,
                    f"Buitengerechtelijke incassokosten (WIK) over {_eur(past_due_principal)}",
                ),
            )
        self.ledger(lid, tpl, first_due, npaid, part_p, part_i, start, detail=self.detail or dpd is not None)
        return {"oldest": oldest, "dpd": dpd, "arrears": past_due + costs, "number": number, "id": lid}

    def ledger(
        self, lid: int, tpl: int, first_due: date, npaid: int, part_p: int, part_i: int, start: date, *, detail: bool
    ) -> None:
        rng, as_of, d = self.rng, self.as_of, self.sink.d
        total = self.templates.cum_amount[tpl][npaid] + part_p + part_i
        payments: list[tuple[int, date, int, int]] = []  # seq, line due date, interest, principal
        if detail:
            if part_p or part_i:
                payments.append((npaid + 1, add_months(first_due, npaid), part_i, part_p))
            seq = npaid
            while seq >= 1 and len(payments) < 3:
                payments.append(
                    (
                        seq,
                        add_months(first_due, seq - 1),
                        self.templates.interest[tpl][seq - 1],
                        self.templates.principal[tpl][seq - 1],
                    )
                )
                seq -= 1
        first_individual = min((p[0] for p in payments), default=npaid + 1)
        converted = total - sum(p[2] + p[3] for p in payments)
        through = add_months(first_due, first_individual - 2) if first_individual >= 2 else start
        self.add(
            "ledger",
            (
                self.take("ledger"),
                lid,
                d(through),
                "conversion",
                converted,
                f"Overgenomen betaalhistorie t/m {_nl_date(through)}",
                0,
                ACTOR,
                self.sink.dt(self.midnight),
            ),
        )
        for seq, due, interest, principal in reversed(payments):
            booked = min(due + timedelta(days=rng.randint(0, 3)), as_of - timedelta(days=1))
            ledger_id = self.take("ledger")
            self.add(
                "ledger",
                (
                    ledger_id,
                    lid,
                    d(booked),
                    "payment",
                    interest + principal,
                    f"SEPA-incasso termijn {seq}",
                    0,
                    ACTOR,
                    self.sink.dt(datetime.combine(booked, time())),
                ),
            )
            for component, amount in (("interest", interest), ("principal", principal)):
                if amount:
                    self.add("allocations", (self.take("allocations"), ledger_id, lid, component, seq, None, amount))

    # ----- cases
    def case(
        self,
        client_id: int,
        consumer: bool,
        sc: Scenario,
        first: dict[str, Any],
        arrears: int,
        city: str,
        contact_name: str,
        loan_numbers: list[str],
    ) -> None:
        rng, as_of, d = self.rng, self.as_of, self.sink.d
        case_id = self.take("cases")
        if sc.status == CaseStatus.CLOSED:
            opened = as_of - timedelta(days=rng.randint(120, 1800))
            closed = opened + timedelta(days=rng.randint(20, 110))
            stage = rng.choice((Stage.REMINDER, Stage.REMINDER, Stage.DEMAND, Stage.CALL))
            assignee = self.user_ids[rng.choices(EMPLOYEES, EMPLOYEE_WEIGHTS)[0]]
            self.add(
                "cases",
                (
                    case_id,
                    client_id,
                    "closed",
                    stage.value,
                    assignee,
                    d(opened),
                    d(closed),
                    d(closed),
                    NextAction.NONE.value,
                    None,
                    None,
                    None,
                    d(NO_ARREARS),
                    0,
                    d(closed),
                    1,
                    ACTOR,
                    self.sink.dt(self.midnight),
                ),
            )
            if self.detail:
                self.note(case_id, closed, "demo", "Achterstand volledig ingelopen, dossier gesloten.")
            return
        oldest: date = first["oldest"]
        dpd: int = first["dpd"]
        status = str(sc.status.value) if isinstance(sc.status, CaseStatus) else str(sc.status)
        stage = stage_for(dpd, consumer, status)
        opened = min(oldest + timedelta(days=rng.randint(1, 5)), as_of)
        if status == CaseStatus.HANDED_OVER:
            user = "visser"
        else:
            user = rng.choices(EMPLOYEES, EMPLOYEE_WEIGHTS)[0]
        assignee = None if (stage == Stage.REMINDER and rng.random() < 0.1) else self.user_ids[user]
        roll = rng.random()
        if roll < 0.2:
            next_date = as_of - timedelta(days=rng.randint(1, 10))
        elif roll < 0.35:
            next_date = as_of
        else:
            next_date = as_of + timedelta(days=rng.randint(1, 14))
        next_action = NEXT_ACTION_STATUS.get(CaseStatus(status), NEXT_ACTION[stage])
        pause_reason = pause_until = None
        if status == CaseStatus.PAUSED:
            pause_reason = rng.choice(PAUSE_REASONS).format(city=city)
            pause_until = as_of + timedelta(days=rng.randint(7, 90))
            next_date = pause_until
        elif status == CaseStatus.INSOLVENCY and rng.random() < 0.4:
            next_action = NextAction.FILE_CLAIM_ADMINISTRATOR
        flag = self.contacts(case_id, opened, user, arrears, consumer, loan_numbers)
        if status != CaseStatus.ACTIVE:
            flag = None
        self.add(
            "cases",
            (
                case_id,
                client_id,
                status,
                stage.value,
                assignee,
                d(opened),
                None,
                d(next_date),
                next_action.value,
                pause_reason,
                d(pause_until),
                flag,
                d(oldest),
                arrears,
                d(as_of),
                1,
                ACTOR,
                self.sink.dt(self.midnight),
            ),
        )
        for _ in range(rng.randint(1, 3 if self.detail else 2)):
            day = opened + timedelta(days=rng.randint(0, max((as_of - opened).days - 1, 0)))
            text = rng.choice(NOTES).format(contact=contact_name, year=as_of.year - rng.randint(1, 4))
            self.note(case_id, min(day, as_of - timedelta(days=1)), user, text)
        if status == CaseStatus.ARRANGEMENT:
            created = self.arrangement(case_id, arrears, user)
            self.forbearance(first["id"], created, "arrangement", f"arrangement:{self.next_id['arrangements'] - 1}")
        elif status == CaseStatus.DEFERRAL:
            self.forbearance(first["id"], opened + timedelta(days=14), "deferral", "generated")
        elif status == CaseStatus.HANDED_OVER:
            self.handover(case_id, opened, dpd, arrears)

    def handover(self, case_id: int, opened: date, dpd: int, arrears: int) -> None:
        """The desk handed the case over at 90+ days; special management (visser) accepted it."""
        as_of = self.as_of
        handed = max(opened, as_of - timedelta(days=max(dpd - 90, 1)))
        by = EMPLOYEES[case_id % len(EMPLOYEES)]  # not from the random stream: the rest of the book stays as it was
        summary = {
            "text": "Geen betaling en geen bereikbaarheid na herhaalde pogingen; 90+ dagen achterstand.",
            "position": str(from_cents(arrears)),
            "days_past_due": dpd,
            "cause": None,
            "contacts": 0,
            "last_contacts": [],
            "arrangements": [],
            "promises": [],
            "proposals": [],
        }
        checklist = {item: "present" for item in ("loan_agreement", "pledge_deed", "letters_sent", "bkr_status")}
        at = datetime.combine(handed, time(11))
        self.add(
            "handovers",
            (
                self.take("handovers"),
                case_id,
                "dpd_90",
                json.dumps(summary, ensure_ascii=False),
                json.dumps(checklist),
                None,
                "accepted",
                by,
                self.sink.dt(at),
                "visser",
                self.sink.dt(at + timedelta(days=1)),
                None,
                1,
            ),
        )

    def note(self, case_id: int, day: date, user: str, text: str) -> None:
        at = datetime.combine(day, time(9)) + timedelta(minutes=self.rng.randint(0, 480))
        self.add("notes", (self.take("notes"), case_id, self.sink.dt(at), user, text))

    def contacts(
        self, case_id: int, opened: date, user: str, arrears: int, consumer: bool, loan_numbers: list[str]
    ) -> str | None:
        """Contact history of a case (with promises); returns the case flag (broken_promise) or None."""
        rng, as_of, d = self.rng, self.as_of, self.sink.d
        days = (as_of - opened).days
        if days < 1:
            return None
        count = rng.randint(2, 5) if self.detail else rng.randint(1, 3)
        flag = None
        moments = sorted(
            datetime.combine(opened + timedelta(days=rng.randrange(days)), time(8, 30))
            + timedelta(minutes=rng.randrange(540))
            for _ in range(count)
        )
        for at in moments:
            channel = self.pick(self._channels)
            outcome = self.pick(self._outcomes)
            if channel == "letter":
                outcome = "no_answer" if rng.random() < 0.6 else "reached"
            cause = None
            if outcome in ("reached", "promise", "hardship", "dispute"):
                cause = self.pick(self._causes)
            cause_nl = self._cause_nl.get(cause, "onbekend")  # type: ignore[arg-type]
            amount = max(arrears * rng.randint(30, 100) // 100 // 100 * 100, min(arrears, 5000))
            promise_due = at.date() + timedelta(days=rng.randint(3, 14))
            summary = {
                "no_answer": {
                    "phone": "Gebeld, geen gehoor. Voicemail ingesproken met verzoek om terug te bellen.",
                    "whatsapp": "WhatsApp-bericht gestuurd over de achterstand, nog geen reactie.",
                    "email": f"E-mail gestuurd over de achterstand van {_eur(arrears)}, geen reactie.",
                    "video": "Videogesprek ingepland, klant niet verschenen.",
                    "letter": f"Brief verstuurd over de achterstand op {', '.join(loan_numbers)}.",
                }[channel],
                "reached": f"Klant gesproken over de achterstand van {_eur(arrears)}. Oorzaak: {cause_nl}. "
                "Klant overlegt met de boekhouder en neemt contact op.",
                "promise": f"Klant belooft {_eur(amount)} te betalen uiterlijk {_nl_date(promise_due)}. "
                f"Oorzaak achterstand: {cause_nl}.",
                "hardship": f"Klant geeft aan in financiële problemen te zitten ({cause_nl}). "
                "Inkomsten- en uitgavenoverzicht opgevraagd"
                + (", doorverwezen naar schuldhulpverlening." if consumer else "."),
                "dispute": "Klant betwist de hoogte van de achterstand; rekeningoverzicht toegestuurd.",
                "wrong_number": "Nummer onjuist, klant niet bereikbaar op dit nummer. Nieuw nummer opvragen.",
            }[outcome]
            contact_id = self.take("contacts")
            self.add(
                "contacts",
                (
                    contact_id,
                    case_id,
                    self.sink.dt(at),
                    channel,
                    outcome,
                    None if cause is None else str(cause),
                    summary,
                    user,
                ),
            )
            if outcome == "promise":
                if promise_due >= as_of:
                    status = "open"
                else:
                    status = "kept" if rng.random() < 0.4 else "broken"
                flag = "broken_promise" if status == "broken" else None
                self.add("promises", (self.take("promises"), case_id, contact_id, d(promise_due), amount, status))
        return flag

    def forbearance(self, loan_id: int, granted: date, kind: str, source: str) -> None:
        """The forbearance an arrangement or deferral of the book stands for (issue 20); its NPV loss is not known
        for a generated book: recorded as 0 (no rng draw: the rest of the book stays what it was)."""
        granted = min(granted, self.as_of)
        self.add(
            "forbearances",
            (
                self.take("forbearances"),
                loan_id,
                self.sink.d(granted),
                kind,
                0,
                source,
                ACTOR,
                self.sink.dt(datetime.combine(granted, time(10, 15))),
            ),
        )

    def arrangement(self, case_id: int, arrears: int, user: str) -> date:
        rng, as_of, d = self.rng, self.as_of, self.sink.d
        created = as_of - timedelta(days=rng.randint(1, 6))
        count = rng.randint(3, 12)
        down = min(arrears // 10 * rng.randint(1, 2) // 1000 * 1000, arrears // 2)
        rest = arrears - down
        each = rest // count
        arrangement_id = self.take("arrangements")
        first = add_months(created, 1, day=min(created.day, 28))
        self.add(
            "arrangements",
            (
                arrangement_id,
                case_id,
                "active",
                arrears,
                down,
                count,
                "monthly",
                d(first),
                user,
                self.sink.dt(datetime.combine(created, time(10, 15))),
                1,
            ),
        )
        self.add("arrangement_lines", (arrangement_id, 0, d(created + timedelta(days=7)), down, 0))
        for seq in range(1, count + 1):
            amount = each if seq < count else rest - each * (count - 1)
            self.add("arrangement_lines", (arrangement_id, seq, d(add_months(first, seq - 1)), amount, 0))
        return created

    # ----- the dossier's history (issue 13)
    def history(self, consumer: bool, rows_before: dict[str, int]) -> None:
        """Audit events for the case just made, from its rows (no draw from the random stream, so the book stays
        the same): the case opened and its stage moves, the contacts and promises, an arrangement, a handover and
        its acceptance, and the payments of the last four months, so that a demo case's timeline is not empty.
        Written with the last chunk as one hash chain (``_run``); detail books only."""

        def new(table: str) -> list[tuple[Any, ...]]:
            return self.rows[table][rows_before[table] :]

        def day(value: Any) -> date:
            return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])

        def at(value: Any) -> datetime:
            return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

        cases = new("cases")
        if not cases:
            return
        case_id, _client, status, stage, _assignee, opened_raw, closed_raw = cases[0][:7]
        opened, events = day(opened_raw), self.events
        first_at = datetime.combine(opened, time(6))
        events.append(
            Event(
                first_at,
                "procedure",
                "procedure.open",
                "case",
                case_id,
                case_id,
                None,
                {"status": "active", "stage": Stage.REMINDER.value, "opened_on": opened},
            )
        )
        order = [s for s in Stage if consumer or s != Stage.FOURTEEN_DAY]
        reached = order[: order.index(Stage(stage)) + 1] if Stage(stage) in order else [Stage.REMINDER]
        end = day(closed_raw) if closed_raw else self.as_of - timedelta(days=1)
        span = max((end - opened).days, 1)
        for n, (before, after) in enumerate(pairwise(reached), start=1):
            moved = opened + timedelta(days=span * n // len(reached))
            events.append(
                Event(
                    datetime.combine(moved, time(6)),
                    "procedure",
                    "procedure.move",
                    "case",
                    case_id,
                    case_id,
                    {"stage": before.value},
                    {"stage": after.value, "stage_since": moved},
                )
            )
        promises = {row[2]: row for row in new("promises")}
        for contact_id, _c, when, channel, outcome, cause, _summary, user in new("contacts"):
            moment = at(when)
            events.append(
                Event(
                    moment,
                    user,
                    "contact.log",
                    "contact",
                    contact_id,
                    case_id,
                    None,
                    {
                        "channel": channel,
                        "outcome": outcome,
                        "cause": cause,
                        "next_action_date": moment.date() + timedelta(days=7),
                    },
                )
            )
            if contact_id in promises:
                p = promises[contact_id]
                events.append(
                    Event(
                        moment,
                        user,
                        "promise.create",
                        "promise",
                        p[0],
                        case_id,
                        None,
                        {"contact_id": contact_id, "due_date": day(p[3]), "amount": from_cents(p[4])},
                    )
                )
        for a in new("arrangements"):
            lines = [ln for ln in new("arrangement_lines") if ln[0] == a[0] and ln[1] > 0]
            events.append(
                Event(
                    at(a[9]),
                    a[8],
                    "arrangement.create",
                    "arrangement",
                    a[0],
                    case_id,
                    {"status": "active"},
                    {
                        "status": "arrangement",
                        "arrears": from_cents(a[3]),
                        "down_payment": from_cents(a[4]),
                        "installments": a[5],
                        "installment": from_cents(lines[0][3]) if lines else None,
                        "frequency": a[6],
                        "first_date": day(a[7]),
                    },
                )
            )
        for h in new("handovers"):
            events.append(
                Event(
                    at(h[8]),
                    h[7],
                    "case.handover",
                    "handover",
                    h[0],
                    case_id,
                    {"status": "active"},
                    {"status": "handed_over", "reason": h[2]},
                )
            )
            events.append(Event(at(h[10]), h[9], "handover.accept", "handover", h[0], case_id, None, {}))
        recent = self.as_of - timedelta(days=120)
        for row in new("ledger"):
            if row[3] == "payment" and day(row[2]) >= max(recent, opened):
                # the generated payments are the loans' direct debits (ledger "SEPA-incasso termijn n")
                events.append(
                    Event(
                        datetime.combine(day(row[2]), time(7)),
                        "bank",
                        "payment.direct_debit",
                        "ledger",
                        row[0],
                        case_id,
                        None,
                        {"loan_id": row[1], "amount": from_cents(row[4])},
                    )
                )
        if closed_raw:
            events.append(
                Event(
                    datetime.combine(day(closed_raw), time(6)),
                    "procedure",
                    "procedure.close",
                    "case",
                    case_id,
                    case_id,
                    {"status": "active"},
                    {"status": "closed", "closed_on": day(closed_raw)},
                )
            )

    # ----- handing a chunk to the writer
    def take_chunk(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rows made since the last call (the buffers start empty again)."""
        chunk = self.rows
        chunk["gen_tpl"] = self.templates.pending
        self.templates.pending = []
        self.rows = {t: [] for t in COLUMNS}
        for table in WRITE_ORDER:
            self.counts[table] += len(chunk[table])
        return chunk


def _write_chunk(sink: _Sink, chunk: dict[str, list[tuple[Any, ...]]]) -> None:
    """Write one chunk's rows, then its schedules set-based (template lines x calendar), in the open transaction."""
    for table in WRITE_ORDER:
        sink.write(table, chunk[table])
    sink.write("gen_tpl", chunk["gen_tpl"])
    sink.write("gen_loan", chunk["gen_loan"])
    if sink.pg:  # autovacuum never analyzes temporary tables: without statistics the join plan is poor
        sink.conn.exec_driver_sql("ANALYZE gen_loan, gen_tpl, gen_cal")
        sink.conn.exec_driver_sql("SET LOCAL work_mem = '128MB'")  # sort the chunk's lines in memory
        if sink.superuser:
            # The per-row foreign-key trigger costs 2/3 of the time of this insert. Every loan_id comes from
            # gen_loan, whose loans were written just above: prove that with one anti-join, then skip the
            # per-row check for this transaction only (SET LOCAL ends with it; needs a superuser).
            orphans = sink.conn.exec_driver_sql(
                "SELECT count(*) FROM gen_loan g WHERE NOT EXISTS (SELECT 1 FROM loans l WHERE l.id = g.loan_id)"
            ).scalar_one()
            if orphans:
                raise RuntimeError(f"generator bug: {orphans} schedule rows without their loan")
            sink.conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
    sink.conn.exec_driver_sql(_INSTALLMENTS_SQL)
    if sink.pg and sink.superuser:
        sink.conn.exec_driver_sql("SET LOCAL session_replication_role = origin")
    sink.conn.exec_driver_sql("DELETE FROM gen_loan")


def _write_and_commit(sink: _Sink, chunk: dict[str, list[tuple[Any, ...]]]) -> None:
    with sink.conn.begin():
        _write_chunk(sink, chunk)


def _calendar(sink: _Sink, as_of: date) -> list[tuple[int, int, Any]]:
    """Due dates (day 1-28) for every month a generated schedule can touch."""
    first = _month_index(as_of) - 12 * 8 - 2
    last = _month_index(as_of) + 12 * 8
    rows = []
    for m in range(first, last + 1):
        year, month0 = divmod(m, 12)
        for day in range(1, 29):
            rows.append((m, day, sink.d(date(year, month0 + 1, day))))
    return rows


def _count(conn: Connection, model: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def generate(
    db: Database,
    *,
    loans: int,
    seed: int = 1,
    as_of: date,
    progress: Progress | None = None,
) -> GenerateReport:
    """Fill an empty, migrated database with a loan book of ``loans`` loans, deterministic for (seed, as_of).

    ``progress(phase, done, total)`` is called as the work advances; phases: ``"prepare"``, ``"book"``
    (loans written of the total: nearly all the time), ``"positions"`` and ``"finish"``.
    Raises :class:`ConfigError` when the database already holds a loan book.
    """
    if loans < 1:
        raise ConfigError(N_("The number of loans must be at least 1, not {loans}"), loans=loans)
    report = GenerateReport(loans=loans, seed=seed, as_of=as_of)
    started = _time.perf_counter()
    tick = started

    def phase(name: str) -> None:
        nonlocal tick
        now = _time.perf_counter()
        report.phases[name] = report.phases.get(name, 0.0) + now - tick
        tick = now

    def say(name: str, done: int, total: int) -> None:
        if progress is not None:
            progress(name, done, total)

    say("prepare", 0, 1)
    with db.engine.connect() as conn:
        conn.execution_options(writer=True)
        pg = conn.dialect.name == "postgresql"
        with conn.begin():
            existing_loans, existing_clients = _count(conn, Loan), _count(conn, Client)
            if existing_loans or existing_clients:
                raise ConfigError(
                    N_(
                        "The database already holds a loan book ({loans} loans, {clients} clients): "
                        "generate needs an empty database"
                    ),
                    loans=existing_loans,
                    clients=existing_clients,
                )
            if not pg:
                conn.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MB page cache for the bulk load
            sink = _Sink(conn)
        try:
            report.counts = _run(conn, sink, loans=loans, seed=seed, as_of=as_of, say=say, phase=phase)
        finally:
            if conn.in_transaction():
                conn.rollback()
            sink.drop_temp_tables()
            conn.commit()
            if not pg:
                conn.exec_driver_sql("PRAGMA cache_size=-2000")
    report.seconds = _time.perf_counter() - started
    say("finish", 1, 1)
    return report


def _run(
    conn: Connection,
    sink: _Sink,
    *,
    loans: int,
    seed: int,
    as_of: date,
    say: Callable[[str, int, int], None],
    phase: Callable[[str], None],
) -> dict[str, int]:
    pg = sink.pg
    with conn.begin():
        id_base = {
            t: int(conn.exec_driver_sql(f'SELECT COALESCE(MAX(id), 0) FROM "{t}"').scalar_one()) for t in ID_TABLES
        }
        users = dict(conn.exec_driver_sql("SELECT name, id FROM users").all())
        sink.create_temp_tables()
        book = _Book(sink, loans=loans, seed=seed, as_of=as_of, id_base=id_base, user_ids={})
        midnight = sink.dt(datetime.combine(as_of, time()))
        for name, full_name, role in USERS:
            if name not in users:
                users[name] = book.take("users")
                book.add("users", (users[name], name, full_name, role, "nl", True, midnight))
        book.user_ids = users
        sink.write("gen_cal", _calendar(sink, as_of))
        loans_per_client, kinds, scenario, hostile = book.plan()
    say("prepare", 1, 1)
    phase("prepare")
    hostile_order = {i: n for n, i in enumerate(sorted(hostile))}
    n_clients = len(loans_per_client)
    done_loans = 0
    # The main thread makes chunk k+1 while a writer thread writes chunk k (sqlite3 and psycopg release
    # the GIL inside the database, so the two overlap on two cores). One chunk in flight at most; the
    # connection is only ever used by one thread at a time.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generate-writer")
    in_flight: Future[None] | None = None
    try:
        for chunk_start in range(0, n_clients, CHUNK_CLIENTS):
            chunk_end = min(chunk_start + CHUNK_CLIENTS, n_clients)
            for i in range(chunk_start, chunk_end):
                kind, consumer = kinds[i]
                sc = SCENARIOS[scenario[i]] if scenario[i] != _CURRENT else None
                rows_before = {t: len(rows) for t, rows in book.rows.items()}
                client_id, _name, city, contact = book.client(i, kind, consumer, hostile_order.get(i))
                client_no = book.rows["clients"][-1][1]
                if not consumer and i % 3 == 0:  # a third of the business clients has a business adviser
                    book.add("client_advisers", (client_id, book.user_ids[ADVISERS[(i // 3) % len(ADVISERS)]]))
                made = []
                for n in range(loans_per_client[i]):
                    dpd = None
                    if n == 0 and sc is not None and sc.dpd is not None:
                        dpd = book.rng.randint(*sc.dpd)
                    made.append(book.loan(client_id, consumer, dpd, client_no))
                book.search_words(book.rows["clients"][-1], [m["number"] for m in made])
                if sc is not None:
                    book.case(
                        client_id,
                        consumer,
                        sc,
                        made[0],
                        sum(m["arrears"] for m in made),
                        city,
                        contact,
                        [m["number"] for m in made],
                    )
                    if book.detail:
                        book.history(consumer, rows_before)
            chunk = book.take_chunk()
            if in_flight is not None:
                in_flight.result()
                in_flight = None
                say("book", done_loans, loans)
            done_loans += sum(loans_per_client[chunk_start:chunk_end])
            if chunk_end < n_clients:
                in_flight = writer.submit(_write_and_commit, sink, chunk)
                continue
            # the last chunk, the position cache and the audit event: one transaction
            with conn.begin():
                _write_chunk(sink, chunk)
                say("book", done_loans, loans)
                phase("book")
                say("positions", 0, 1)
                with Session(bind=conn) as session:
                    if pg:
                        conn.exec_driver_sql("ANALYZE")
                        for table in ID_TABLES:
                            conn.exec_driver_sql(
                                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                                f' (SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"), false)'
                            )
                    for statement in CAUSE_BACKFILL:  # each case's cause from its newest contact naming one
                        conn.exec_driver_sql(statement)
                    refresh_case_positions(session, as_of)
                    refresh_statistics(conn, ("cases",) if pg else ())  # PostgreSQL analyzed the rest above
                    history = record_many(session, sorted(book.events, key=lambda e: (e.at, e.case_id or 0)))
                    record(
                        session,
                        at=datetime.combine(as_of, time()),
                        actor=ACTOR,
                        action="generate",
                        entity="book",
                        entity_id=None,
                        after={
                            "loans": loans,
                            "clients": n_clients,
                            "seed": seed,
                            "as_of": as_of,
                            "cases": book.counts["cases"],
                        },
                    )
                    session.flush()
            book.counts["audit_events"] = 1 + history
            phase("positions")
            say("positions", 1, 1)
    finally:
        if in_flight is not None:  # an error while making a chunk: let the write finish before cleaning up
            try:
                in_flight.result()
            except Exception:  # noqa: BLE001 - the first error is the one raised
                pass
        writer.shutdown(wait=True)
    return book.counts
