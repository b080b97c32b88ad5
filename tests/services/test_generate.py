"""The demo / benchmark book generator: deterministic, valid identifiers, every scenario, consistent sums."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from schwifty import IBAN
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from incasso_tui.demo.generate import HOSTILE_NAMES, USERS, generate, nl_iban
from incasso_tui.domain.arrears import BUCKETS, ageing_bucket
from incasso_tui.domain.enums import CaseStatus, Role, Stage
from incasso_tui.domain.schedule import add_months, build_schedule
from incasso_tui.errors import ConfigError
from incasso_tui.services.positions import verify_positions
from incasso_tui.services.worklist import name_key
from incasso_tui.store.db import Database
from incasso_tui.store.models import (
    DESK_WHERE,
    NO_ARREARS,
    Allocation,
    AuditEvent,
    Case,
    Charge,
    Client,
    Installment,
    LedgerEntry,
    Loan,
    User,
)
from incasso_tui.store.types import Money

AS_OF = date(2026, 11, 23)
BIG = 2000  # loans: enough for every stage, status and bucket
PG_URL = os.environ.get("INCASSO_TEST_PG_URL")


def _new_db(path: os.PathLike[str] | str) -> Database:
    db = Database(f"sqlite:///{path}", create=True)
    db.upgrade()
    return db


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = _new_db(tmp_path_factory.mktemp("gen") / "g.db")
    seen: list[tuple[str, int, int]] = []
    report = generate(db, loans=BIG, seed=7, as_of=AS_OF, progress=lambda *a: seen.append(a))
    assert report.counts["loans"] == BIG
    assert seen[-1] == ("finish", 1, 1) and ("book", BIG, BIG) in seen
    yield db
    db.dispose()


def _snapshot(db: Database) -> tuple[object, ...]:
    with db.reader() as s:
        return (
            s.execute(select(Client.number, Client.name, Client.iban).order_by(Client.id)).all(),
            s.execute(select(Loan.number, Loan.principal, Loan.start_date).order_by(Loan.id)).all(),
            s.execute(select(Case.client_id, Case.status, Case.stage, Case.pos_arrears).order_by(Case.id)).all(),
            s.execute(select(func.sum(Installment.principal_paid), func.count())).one(),
        )


def test_same_seed_same_book_other_seed_other_book(tmp_path) -> None:  # type: ignore[no-untyped-def]
    books = []
    for n, seed in enumerate((3, 3, 4)):
        db = _new_db(tmp_path / f"d{n}.db")
        generate(db, loans=300, seed=seed, as_of=AS_OF)
        books.append(_snapshot(db))
        db.dispose()
    assert books[0] == books[1]
    assert books[0][0] != books[2][0] and books[0][1] != books[2][1]


def test_refuses_a_database_that_holds_loans(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = _new_db(tmp_path / "g.db")
    generate(db, loans=20, seed=1, as_of=AS_OF)
    with pytest.raises(ConfigError, match="already holds"):
        generate(db, loans=20, seed=1, as_of=AS_OF)
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Loan)) == 20
    db.dispose()


def test_iban_check_digits() -> None:
    assert nl_iban("ABNA", 417164300) == "NL91ABNA0417164300"


def test_clients_have_valid_identifiers(book: Database) -> None:
    with book.reader() as s:
        clients = s.scalars(select(Client)).all()
    assert len({c.number for c in clients}) == len(clients)
    for c in clients:
        assert re.fullmatch(r"C[0-9]{7}", c.number)
        assert IBAN(c.iban).bank_code in {"INGB", "RABO", "ABNA", "SNSB", "TRIO", "ASNB", "KNAB", "BUNQ"}
        assert re.fullmatch(r"[1-9][0-9]{3}[A-Z]{2}", c.postcode) and c.postcode[4:] not in ("SS", "SD", "SA")
        assert c.name_key == name_key(c.name)
        if c.kind == "natural":
            assert c.kvk is None
        else:
            assert c.kvk is not None and re.fullmatch(r"[1-9][0-9]{7}", c.kvk)
            assert not c.consumer
        assert c.preferred_channel in {"phone", "whatsapp", "email", "letter", "video"}
        assert c.language in {"nl", "en"}
    assert {c.kind for c in clients} == {"natural", "eenmanszaak", "vof", "bv"}
    assert 0.10 < sum(c.consumer for c in clients) / len(clients) < 0.22
    hostile = [c.name for c in clients if c.name in HOSTILE_NAMES]
    assert sorted(hostile) == sorted(HOSTILE_NAMES)
    assert any("[bold]x[/]" in n for n in hostile) and any("\x1b[31m" in n for n in hostile)


def test_users_for_every_role(book: Database) -> None:
    with book.reader() as s:
        users = {u.name: u.role for u in s.scalars(select(User))}
    assert users == {name: role for name, _full, role in USERS}
    assert set(users.values()) == {r.value for r in Role}


def test_loans_and_their_schedules(book: Database) -> None:
    with book.reader() as s:
        loans = s.scalars(select(Loan).order_by(Loan.id)).all()
        assert len({ln.number for ln in loans}) == BIG
        for loan in loans:
            assert re.fullmatch(r"L[0-9]{8}", loan.number)
            assert Decimal(2500) <= loan.principal <= Decimal(250000) and loan.principal % 500 == 0
            assert loan.term_months in (12, 24, 36, 48, 60, 72, 84)
            assert loan.start_date < AS_OF
        # a sample of schedules equals the domain function's
        for loan in loans[::97]:
            lines = s.scalars(select(Installment).where(Installment.loan_id == loan.id).order_by(Installment.seq)).all()
            expected = build_schedule(
                loan.repayment, loan.principal, loan.annual_rate, loan.term_months, add_months(loan.start_date, 1)
            )
            assert [(i.seq, i.due_date, i.principal, i.interest) for i in lines] == [
                (e.seq, e.due_date, e.principal, e.interest) for e in expected
            ]
        # repaid loans: everything paid and the last line due before as_of; others have something open
        open_by_loan = dict(
            s.execute(
                select(Installment.loan_id, func.count())
                .where(
                    Installment.principal_paid + Installment.interest_paid
                    < Installment.principal + Installment.interest
                )
                .group_by(Installment.loan_id)
            ).all()
        )
        last_due = dict(
            s.execute(select(Installment.loan_id, func.max(Installment.due_date)).group_by(Installment.loan_id)).all()
        )
        for loan in loans:
            if loan.status == "repaid":
                assert loan.id not in open_by_loan and last_due[loan.id] < AS_OF
            else:
                assert loan.status == "active" and loan.id in open_by_loan
        assert 0.6 < sum(ln.repayment == "annuity" for ln in loans) / BIG < 0.9
        assert sum(not ln.commercial for ln in loans) > 0


def _loan_days_past_due(db: Database) -> dict[int, int]:
    with db.reader() as s:
        oldest = dict(
            s.execute(
                select(Installment.loan_id, func.min(Installment.due_date))
                .where(
                    Installment.due_date < AS_OF,
                    Installment.principal_paid + Installment.interest_paid
                    < Installment.principal + Installment.interest,
                )
                .group_by(Installment.loan_id)
            ).all()
        )
        ids = s.scalars(select(Loan.id)).all()
    return {i: (AS_OF - oldest[i]).days if i in oldest else 0 for i in ids}


def test_every_bucket_status_and_stage_occurs(book: Database) -> None:
    dpd = _loan_days_past_due(book)
    buckets = [ageing_bucket(d) for d in dpd.values()]
    assert set(buckets) == set(BUCKETS)
    assert 0.80 < buckets.count("current") / len(buckets) < 0.92
    with book.reader() as s:
        cases = s.scalars(select(Case)).all()
        users = {u.id: u.name for u in s.scalars(select(User))}
    assert {c.status for c in cases} == {st.value for st in CaseStatus}
    assert {c.stage for c in cases if c.status != "closed"} == {st.value for st in Stage}
    open_cases = [c for c in cases if c.status != "closed"]
    assert len({c.client_id for c in open_cases}) == len(open_cases)  # one open case per client
    assert any(users.get(c.assignee_id) == "demo" for c in open_cases)
    for c in open_cases:
        assert c.pos_oldest_due < AS_OF and c.pos_arrears > 0  # every open case is in arrears
        assert c.opened_on >= c.pos_oldest_due and c.opened_on <= AS_OF
        if c.status == "handed_over":
            assert users[c.assignee_id] == "visser" and c.stage == "handover"
        else:
            assert c.assignee_id is None or users[c.assignee_id] in ("demo", "jansen", "dekker")
        if c.status == "paused":
            assert c.pause_reason and c.pause_until and c.pause_until > AS_OF
        days = (AS_OF - c.pos_oldest_due).days
        if c.stage == "reminder":
            assert days <= 14
        if c.stage in ("call_in",):
            assert days > 90
    assert {c.next_action_date > AS_OF for c in open_cases} == {True, False}
    assert any(c.next_action_date == AS_OF for c in open_cases)
    for c in cases:
        if c.status == "closed":
            assert c.closed_on is not None and c.pos_oldest_due == NO_ARREARS


def test_position_cache_is_right(book: Database) -> None:
    with book.reader() as s:
        assert verify_positions(s, AS_OF) == []


def test_position_cache_equals_raw_sums(book: Database) -> None:
    """The same check in whole cents straight from the tables (independent of the service's typing)."""
    with book.reader() as s:
        rows = s.execute(
            text(
                "SELECT c.id, c.pos_arrears, c.pos_oldest_due,"
                " (SELECT coalesce(sum(i.principal - i.principal_paid + i.interest - i.interest_paid), 0)"
                "    FROM installments i JOIN loans l ON l.id = i.loan_id"
                "   WHERE l.client_id = c.client_id AND i.due_date < :d),"
                " (SELECT coalesce(sum(ch.amount - ch.paid), 0) FROM charges ch JOIN loans l ON l.id = ch.loan_id"
                "   WHERE l.client_id = c.client_id AND ch.due_date <= :d),"
                " (SELECT min(i.due_date) FROM installments i JOIN loans l ON l.id = i.loan_id"
                "   WHERE l.client_id = c.client_id AND i.due_date < :d"
                "     AND i.principal_paid + i.interest_paid < i.principal + i.interest)"
                " FROM cases c WHERE c.status <> 'closed'"
            ),
            {"d": AS_OF.isoformat()},
        ).all()
    assert rows
    for case_id, cached, oldest, lines, costs, derived_oldest in rows:
        assert (case_id, cached, oldest) == (case_id, lines + costs, derived_oldest)


def test_ledger_matches_the_paid_schedule(book: Database) -> None:
    with book.reader() as s:
        paid = dict(
            s.execute(
                select(
                    Installment.loan_id, func.sum(Installment.principal_paid + Installment.interest_paid, type_=Money)
                ).group_by(Installment.loan_id)
            ).all()
        )
        booked = dict(
            s.execute(select(LedgerEntry.loan_id, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.loan_id)).all()
        )
        conversions = s.execute(
            select(LedgerEntry.loan_id, func.count())
            .where(LedgerEntry.kind == "conversion")
            .group_by(LedgerEntry.loan_id)
        ).all()
        assert paid == booked
        assert len(conversions) == BIG and {n for _id, n in conversions} == {1}
        allocated = dict(
            s.execute(select(Allocation.ledger_id, func.sum(Allocation.amount)).group_by(Allocation.ledger_id)).all()
        )
        payments = dict(
            s.execute(select(LedgerEntry.id, LedgerEntry.amount).where(LedgerEntry.kind == "payment")).all()
        )
        assert payments and allocated == payments
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.created_by != "conversie")) == 0
        # an allocation never exceeds what its line has paid on that component
        over = s.scalar(
            text(
                "SELECT count(*) FROM (SELECT a.loan_id, a.installment_seq, a.component, sum(a.amount) AS amt"
                " FROM allocations a GROUP BY 1, 2, 3) x JOIN installments i"
                " ON i.loan_id = x.loan_id AND i.seq = x.installment_seq"
                " WHERE x.amt > CASE x.component WHEN 'interest' THEN i.interest_paid ELSE i.principal_paid END"
            )
        )
        assert over == 0


def test_costs_only_on_commercial_loans_61_days_past_due(book: Database) -> None:
    dpd = _loan_days_past_due(book)
    with book.reader() as s:
        charges = s.execute(select(Charge, Loan.commercial).join(Loan, Loan.id == Charge.loan_id)).all()
    assert charges
    for charge, commercial in charges:
        assert commercial and charge.kind == "collection_costs"
        assert dpd[charge.loan_id] >= 61 and Decimal(40) <= charge.amount <= Decimal(6775)
        assert charge.due_date <= AS_OF


def test_details_and_audit(book: Database) -> None:
    with book.reader() as s:

        def count(table: str) -> int:
            return int(s.scalar(text(f"SELECT count(*) FROM {table}")))

        for table in ("contacts", "promises", "notes", "arrangements", "arrangement_lines", "documents"):
            assert count(table) > 0, table
        assert {r[0] for r in s.execute(text("SELECT DISTINCT status FROM promises"))} == {"open", "kept", "broken"}
        assert {r[0] for r in s.execute(text("SELECT DISTINCT kind FROM documents"))} == {
            "loan_agreement",
            "pledge_deed",
        }
        # arrangement lines add up to the arrears covered
        bad = s.scalar(
            text(
                "SELECT count(*) FROM arrangements a WHERE a.arrears_covered <>"
                " (SELECT sum(amount) FROM arrangement_lines l WHERE l.arrangement_id = a.id)"
            )
        )
        assert bad == 0
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        opened = count("cases")
    # the generated cases' history (issue 13), one chain, then the generator's own event last
    assert (events[-1].action, events[-1].entity) == ("generate", "book")
    history = events[:-1]
    assert sum(e.action == "procedure.open" for e in history) == opened  # every case has its opening
    assert {"contact.log", "procedure.move", "handover.accept"} <= {e.action for e in history}
    assert all(e.at.date() <= AS_OF for e in history)  # none of it after as_of
    assert [e.at for e in history] == sorted(e.at for e in history)


@pytest.fixture
def pg_scratch() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("INCASSO_TEST_PG_URL is not set: PostgreSQL generate test skipped")
    name = f"incasso_gen_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgresql_book(pg_scratch: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(pg_scratch, create=True)
    db.upgrade()
    generate(db, loans=300, seed=3, as_of=AS_OF)
    with db.reader() as s:
        paid = dict(
            s.execute(
                select(
                    Installment.loan_id, func.sum(Installment.principal_paid + Installment.interest_paid, type_=Money)
                ).group_by(Installment.loan_id)
            ).all()
        )
        booked = dict(
            s.execute(select(LedgerEntry.loan_id, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.loan_id)).all()
        )
        assert paid == booked
    # the same book as on SQLite
    lite = _new_db(tmp_path / "same.db")
    generate(lite, loans=300, seed=3, as_of=AS_OF)
    assert _snapshot(db) == _snapshot(lite)
    # sequences continue after the generated ids
    with db.transaction() as s:
        s.add(
            User(
                name="nieuw",
                full_name="Nieuwe Medewerker",
                role="employee",
                language="nl",
                created_at=__import__("datetime").datetime(2026, 11, 23),
            )
        )
    lite.dispose()
    with db.reader() as s:
        assert verify_positions(s, AS_OF) == []
    db.dispose()


def test_the_book_leaves_planner_statistics_for_the_worklist(book: Database) -> None:
    """Without statistics SQLite walks ix_cases_status and reads every desk case for a filtered count
    (benchmarks/RESULTS.md); the generator and migration 0007 leave them, ``cases`` counted exactly."""
    with book.reader() as s:
        stats = dict(s.execute(text("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'cases'")).all())
        desk = s.scalar(select(func.count()).select_from(Case).where(text(DESK_WHERE)))
    assert {"ix_cases_desk_prio", "ix_cases_desk_stage", "ix_cases_desk_assignee", "ix_cases_status"} <= set(stats)
    assert int(stats["ix_cases_desk_stage"].split()[0]) == desk > 0
