"""The daily procedure run on the test book (both backends): counts, idempotence, dry run, the legal guards."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from incasso_tui.errors import NotAllowed, RuleViolation
from incasso_tui.letters.model import LetterFigures
from incasso_tui.services.procedure import move_stage, run_procedure
from incasso_tui.store.models import (
    AuditEvent,
    BkrMutation,
    BucketSnapshot,
    Case,
    Charge,
    Client,
    DebtTrack,
    Letter,
    ProcedureRun,
    Task,
)
from tests.conftest import AS_OF, NOW
from tests.dispatch_helpers import dispatch_waiting

TABLES = (Case, Letter, Task, BkrMutation, Charge, AuditEvent, ProcedureRun, BucketSnapshot)


def _counts(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db.reader() as s:
        return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) for t in TABLES}


def _case_fingerprint(db) -> list[tuple]:  # type: ignore[no-untyped-def]
    with db.reader() as s:
        return list(
            s.execute(select(Case.id, Case.status, Case.stage, Case.stage_since, Case.version).order_by(Case.id))
        )


def test_a_run_acts_a_second_run_does_nothing_and_a_dry_run_writes_nothing(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    before, cases_before = _counts(ctx.db), _case_fingerprint(ctx.db)
    dry = run_procedure(ctx, AS_OF, dry_run=True)
    assert _counts(ctx.db) == before and _case_fingerprint(ctx.db) == cases_before
    real = run_procedure(ctx, AS_OF)
    assert real.actions == dry.actions
    acting = {kind for kind, n in real.actions.items() if n > 0}
    assert {
        "case_moved",
        "letter_bkr_warning",
        "letter_default_notice",
        "task_call",
        "charge_collection_costs",
        "charge_statutory_interest",
        "letter_fourteen_day",
    } <= acting
    after = _counts(ctx.db)
    assert after["letters"] - before["letters"] == sum(n for k, n in real.actions.items() if k.startswith("letter_"))
    assert after["tasks"] - before["tasks"] == sum(n for k, n in real.actions.items() if k.startswith("task_"))
    assert after["procedure_runs"] == before["procedure_runs"] + 1
    again = run_procedure(ctx, AS_OF)
    assert set(again.actions.values()) == {0}
    with ctx.db.reader() as s:
        runs = list(s.scalars(select(ProcedureRun).order_by(ProcedureRun.id)))
        assert json.loads(runs[-2].counts)["case_moved"] == real.actions["case_moved"]
        # the run's own events (the generated book's history has stage moves too, by "procedure")
        moved = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "procedure.move", AuditEvent.actor == ctx.actor.name)
        )
        assert moved == real.actions["case_moved"]
        letter = s.scalars(select(Letter).where(Letter.kind == "default_notice")).first()
        figures = LetterFigures.from_json(letter.figures)
        assert letter.status == "pending" and letter.letter_date == AS_OF and figures.loans
        assert figures.arrears.total > 0 and figures.pay_by == AS_OF + timedelta(days=14)
        assert figures.missing_for("default_notice") == []


def test_only_a_supervisor_or_admin_runs_the_procedure(ctx_for) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAllowed):
        run_procedure(ctx_for("demo"), AS_OF)


def _due_case(db, stage: str = "call") -> int:  # type: ignore[no-untyped-def]
    """An active case at ``stage`` made due to move (entered its stage long ago)."""
    with db.transaction() as s:
        case_id = s.scalars(
            select(Case.id)
            .where(Case.status == "active", Case.stage == stage, Case.pos_arrears > 100)
            .order_by(Case.id)
        ).first()
        assert case_id is not None
        s.execute(update(Case).where(Case.id == case_id).values(stage_since=AS_OF - timedelta(days=60)))
    return case_id


def _untouched(db, case_id: int, stage: str) -> None:  # type: ignore[no-untyped-def]
    with db.reader() as s:
        assert s.get(Case, case_id).stage == stage
        assert not s.scalars(select(Letter).where(Letter.case_id == case_id)).first()
        assert not s.scalars(select(Task).where(Task.case_id == case_id)).first()


@pytest.mark.parametrize("stop", ["paused", "arrangement", "insolvency"])
def test_no_automatic_step_on_a_stopped_case(ctx_for, stop: str) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    case_id = _due_case(ctx.db)
    with ctx.db.transaction() as s:
        if stop == "paused":
            s.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(status="paused", pause_reason="ziekte", pause_until=AS_OF + timedelta(days=30))
            )
        elif stop == "arrangement":
            s.execute(update(Case).where(Case.id == case_id).values(status="arrangement"))
        else:  # a WSNP track on a case whose status still says active
            s.add(
                DebtTrack(
                    case_id=case_id,
                    kind="wsnp",
                    ruling_date=AS_OF - timedelta(days=3),
                    trustee_name="mr. X",
                    status="open",
                    created_by="demo",
                    created_at=NOW,
                )
            )
    run_procedure(ctx, AS_OF)
    _untouched(ctx.db, case_id, "call")


def test_a_due_case_moves_and_gets_its_stage_actions(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    case_id = _due_case(ctx.db)
    run_procedure(ctx, AS_OF)
    with ctx.db.reader() as s:
        c = s.get(Case, case_id)
        consumer = s.get(Client, c.client_id).consumer
        assert c.stage == ("fourteen_day" if consumer else "bkr_warning") and c.stage_since == AS_OF
        kinds = set(s.scalars(select(Letter.kind).where(Letter.case_id == case_id)))
        assert kinds == {"fourteen_day" if consumer else "bkr_warning"}


def test_bkr_a_only_after_a_dispatched_warning_counted_from_its_receipt(ctx_for) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: the warning the run decides has no effect until it is dispatched; the 5-14 day window counts from its
    assumed receipt (2 delivery days after the posting day), never from the day the run decided it."""
    ctx = ctx_for("bakker")
    with ctx.db.transaction() as s:  # a natural person well past 2 months, put back at the warning stage
        case_id = s.scalars(
            select(Case.id)
            .join(Client, Client.id == Case.client_id)
            .where(
                Case.status == "active",
                Case.stage == "default_notice",
                Case.pos_arrears > 500,
                Client.kind != "bv",
                Client.consumer.is_(True),
            )
            .order_by(Case.id)
        ).first()
        s.execute(
            update(Case).where(Case.id == case_id).values(stage="bkr_warning", stage_since=AS_OF - timedelta(days=40))
        )
    report = run_procedure(ctx, AS_OF)
    assert report.held["bkr_warning_resent"] >= 1
    with ctx.db.reader() as s:
        assert s.get(Case, case_id).stage == "bkr_warning"
        client_id = s.get(Case, case_id).client_id
        assert not s.scalars(select(BkrMutation).where(BkrMutation.client_id == client_id)).first()
        warning = s.scalars(select(Letter).where(Letter.case_id == case_id, Letter.kind == "bkr_warning")).one()
        assert (warning.letter_date, warning.status, warning.received_on) == (AS_OF, "pending", None)
    # ten days later it still was not posted: no registration, and no second warning while this one waits
    report = run_procedure(ctx, AS_OF + timedelta(days=10))
    assert report.held["bkr_warning_not_dispatched"] >= 1
    with ctx.db.reader() as s:
        assert not s.scalars(select(BkrMutation).where(BkrMutation.client_id == client_id)).first()
        assert s.scalar(select(func.count()).where(Letter.case_id == case_id, Letter.kind == "bkr_warning")) == 1
    # posted on Thursday 3 December: assumed received on Saturday 5 December (Dutch post: no delivery on Sunday or
    # Monday, so the 2nd delivery day after Thursday is Saturday); registration from 5 + 5 = 10 December
    posted = AS_OF + timedelta(days=10)
    dispatch_waiting(ctx.db, posted, id=warning.id)
    with ctx.db.reader() as s:
        assert s.get(Letter, warning.id).received_on == posted + timedelta(days=2)
    run_procedure(ctx, posted + timedelta(days=6))  # 9 December: 4 days after receipt, too young
    with ctx.db.reader() as s:
        assert not s.scalars(select(BkrMutation).where(BkrMutation.client_id == client_id)).first()
    run_procedure(ctx, posted + timedelta(days=7))  # 10 December
    with ctx.db.reader() as s:
        assert s.get(Case, case_id).stage == "bkr_registered"
        codes = list(s.scalars(select(BkrMutation).where(BkrMutation.client_id == client_id)))
        assert codes and {m.code for m in codes} == {"A"} and {m.warning_letter_id for m in codes} == {warning.id}
        assert {m.mutation_date for m in codes} == {posted + timedelta(days=7)}


def test_bkr_h_when_the_arrears_is_cleared(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.store.models import Installment, Loan

    ctx = ctx_for("bakker")
    run_procedure(ctx, AS_OF)
    with ctx.db.transaction() as s:
        case = s.scalars(select(Case).where(Case.status == "active", Case.pos_arrears > 0).order_by(Case.id)).first()
        loan = s.scalars(select(Loan).where(Loan.client_id == case.client_id)).first()
        s.add(
            BkrMutation(
                loan_id=loan.id,
                client_id=case.client_id,
                code="A",
                mutation_date=AS_OF - timedelta(days=30),
                amount=Decimal("100.00"),
                created_by="test",
                created_at=NOW,
            )
        )
        # every line of every loan of the client paid, every charge paid: arrears cleared
        for l_id in s.scalars(select(Loan.id).where(Loan.client_id == case.client_id)):
            s.execute(
                update(Installment)
                .where(Installment.loan_id == l_id, Installment.due_date < AS_OF + timedelta(days=1))
                .values(principal_paid=Installment.principal, interest_paid=Installment.interest)
            )
            s.execute(update(Charge).where(Charge.loan_id == l_id).values(paid=Charge.amount))
    report = run_procedure(ctx, AS_OF + timedelta(days=1))
    assert report.actions["bkr_H"] >= 1 and report.actions["case_closed"] >= 1
    with ctx.db.reader() as s:
        assert s.get(Case, case.id).status == "closed"
        assert [
            m.code
            for m in s.scalars(select(BkrMutation).where(BkrMutation.loan_id == loan.id).order_by(BkrMutation.id))
        ] == ["A", "H"]


def test_consumer_costs_not_before_the_term_counted_from_the_dispatch(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    run_procedure(ctx, AS_OF)
    with ctx.db.reader() as s:
        letter = s.scalars(select(Letter).where(Letter.kind == "fourteen_day").order_by(Letter.id)).first()
    # decided, not dispatched: no term at all
    assert (letter.status, letter.received_on, letter.costs_from) == ("pending", None, None)
    figures = LetterFigures.from_json(letter.figures)
    assert figures.collection_costs.amount >= Decimal("40.00") and figures.claims
    key = f"wik:letter:{letter.id}"
    with ctx.db.transaction() as s:  # keep the case where it is, so only the costs are at stake
        s.execute(
            update(Case)
            .where(Case.id == letter.case_id)
            .values(status="active", stage_since=AS_OF + timedelta(days=60))
        )
    # the expected term (had it been posted on its letter date) passes without costs: it never left
    run_procedure(ctx, figures.fourteen_day.costs_from + timedelta(days=1))
    with ctx.db.reader() as s:
        assert not s.scalars(select(Charge).where(Charge.period_key == key)).first()
    # posted a week late: receipt, term and costs date count from that day
    posted = AS_OF + timedelta(days=7)
    dispatch_waiting(ctx.db, posted, id=letter.id)
    with ctx.db.reader() as s:
        letter = s.get(Letter, letter.id)
    assert letter.received_on > posted and letter.costs_from > letter.received_on + timedelta(days=14)
    assert letter.costs_from > figures.fourteen_day.costs_from
    run_procedure(ctx, letter.costs_from - timedelta(days=1))
    with ctx.db.reader() as s:
        assert not s.scalars(select(Charge).where(Charge.period_key == key)).first()
    run_procedure(ctx, letter.costs_from)
    with ctx.db.reader() as s:
        charges = list(s.scalars(select(Charge).where(Charge.period_key == key)))
    assert charges and sum(c.amount for c in charges) <= figures.collection_costs.amount


def test_a_pause_ends_by_itself_after_its_end_date(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    with ctx.db.reader() as s:
        c = s.scalars(select(Case).where(Case.status == "paused").order_by(Case.pause_until)).first()
    report = run_procedure(ctx, c.pause_until + timedelta(days=1))
    assert report.actions["pause_ended"] >= 1
    with ctx.db.reader() as s:
        assert s.get(Case, c.id).status == "active"


def test_only_a_supervisor_skips_stages_with_a_reason(ctx_for) -> None:  # type: ignore[no-untyped-def]
    case_id = _due_case(ctx_for("demo").db, stage="reminder")
    with pytest.raises(NotAllowed):
        move_stage(ctx_for("demo"), case_id, "call_in", "fraude vermoed")
    with pytest.raises(RuleViolation, match="needs a reason"):
        move_stage(ctx_for("bakker"), case_id, "call_in", "")
    move_stage(ctx_for("bakker"), case_id, "call_in", "fraude vermoed")
    ctx = ctx_for("bakker")
    with ctx.db.reader() as s:
        assert s.get(Case, case_id).stage == "call_in"
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.stage_skip", AuditEvent.case_id == case_id)
        ).one()
        assert json.loads(event.after)["reason"] == "fraude vermoed" and event.actor == "bakker"


def test_new_arrears_open_cases_with_a_reminder_by_preference(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    day = AS_OF + timedelta(days=3)  # the lines due on the 23rd and 24th fell into arrears
    report = run_procedure(ctx, day)
    assert report.actions["case_opened"] > 0
    assert report.actions["letter_reminder"] == report.actions["case_opened"]
    with ctx.db.reader() as s:
        channels = set(s.scalars(select(Letter.channel).where(Letter.kind == "reminder")))
    assert channels <= {"email", "whatsapp", "letter"} and "email" in channels
    assert set(run_procedure(ctx, day).actions.values()) == {0}


def test_a_registration_offset_outside_the_warning_window_stops_the_run(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.errors import ConfigError

    ctx = ctx_for("bakker", bkr_warning_min_days=2, bkr_warning_max_days=8)  # procedure.toml registers after 9 days
    before = _counts(ctx.db)
    with pytest.raises(
        ConfigError,
        match=r"stage consumer.bkr_registered, field after_days: must lie inside the BKR warning window 2..8",
    ):
        run_procedure(ctx, AS_OF)
    assert _counts(ctx.db) == before


# ----- the run writes in groups (issue 7): the same outcome as one case at a time


@pytest.fixture(params=["sqlite", "postgresql"])
def twin_books(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    """Two writable copies of the test book on one backend."""
    import shutil
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from incasso_tui.store.db import Database
    from tests.conftest import PG_URL, _pg_admin_url

    if request.param == "sqlite":
        books = []
        for name in ("a.db", "b.db"):
            shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / name)
            books.append(Database(f"sqlite:///{tmp_path / name}"))
        yield books
        for book in books:
            book.dispose()
        return
    template = request.getfixturevalue("pg_template")
    names = [f"incasso_t_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    books = [Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False)) for name in names]  # type: ignore[arg-type]
    try:
        yield books
    finally:
        for book in books:
            book.dispose()
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _written(db) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    """Every row a run can write, in id order (the audit events with their hashes: the chain itself)."""
    with db.reader() as s:
        return {
            t.__tablename__: [tuple(row) for row in s.execute(select(t.__table__).order_by(*t.__table__.primary_key))]
            for t in (Case, Letter, Task, BkrMutation, Charge, AuditEvent)
        }


def test_a_run_in_groups_writes_exactly_what_acting_on_one_case_at_a_time_writes(
    twin_books, clock, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.config import Settings
    from incasso_tui.services import procedure
    from incasso_tui.services.context import Context
    from incasso_tui.services.users import resolve_actor

    one_by_one, grouped = twin_books
    reports = {}
    for db, chunk in ((one_by_one, 1), (grouped, procedure.common.CHUNK)):
        monkeypatch.setattr(procedure.common, "CHUNK", chunk)
        ctx = Context(db=db, actor=resolve_actor(db, "bakker"), clock=clock, settings=Settings())
        # moves, letters, tasks and postings; then new cases, resent warnings, BKR codes A and a new month's interest
        reports[chunk] = []
        for n in (0, 9, 18):
            reports[chunk].append(run_procedure(ctx, AS_OF + timedelta(days=n)).actions)
            dispatch_waiting(db, AS_OF + timedelta(days=n))  # legal effects follow the dispatch (issue 12)
    assert reports[1] == reports[procedure.common.CHUNK]
    acted = Counter()
    for actions in reports[1]:
        acted.update(actions)
    assert (
        min(
            acted[k]
            for k in (
                "case_moved",
                "case_opened",
                "letter_bkr_warning",
                "task_call",
                "bkr_A",
                "charge_collection_costs",
                "charge_statutory_interest",
            )
        )
        > 0
    )
    assert _written(one_by_one) == _written(grouped)


def test_every_row_the_run_writes_has_one_event_and_a_case_reads_in_decision_order(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.domain.procedure import LETTER_KIND, TASK_KIND, load_procedure
    from incasso_tui.services.audit import case_timeline, verify_chain
    from incasso_tui.store.models import Loan

    ctx = ctx_for("bakker")
    with ctx.db.reader() as s:
        first_event = s.scalar(select(func.max(AuditEvent.id))) or 0
    report = run_procedure(ctx, AS_OF)
    assert verify_chain(ctx.db).intact
    with ctx.db.reader() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.id > first_event).order_by(AuditEvent.id)))
        by_entity = Counter((e.entity, e.entity_id) for e in events)
        assert all(n == 1 for n in by_entity.values())
        case_of_client = dict(s.execute(select(Case.client_id, Case.id).where(Case.status != "closed")).all())
        written = {
            "letter": {r.id: r.case_id for r in s.scalars(select(Letter).where(Letter.run_date == AS_OF))},
            "task": {r.id: r.case_id for r in s.scalars(select(Task).where(Task.created_at == NOW))},
            "charge": {
                c.id: case_of_client[client]
                for c, client in s.execute(
                    select(Charge, Loan.client_id)
                    .join(Loan, Loan.id == Charge.loan_id)
                    .where(Charge.period_key.is_not(None))
                )
            },
        }
        for entity, rows in written.items():
            assert {e.entity_id: e.case_id for e in events if e.entity == entity} == rows
        assert len(written["letter"]) == sum(n for k, n in report.actions.items() if k.startswith("letter_"))
        moved = [e for e in events if e.action == "procedure.move"]
        assert len(moved) == report.actions["case_moved"]
    consumer = load_procedure().consumer
    for event in moved[:50]:
        timeline = [e for e in case_timeline(ctx.db, event.case_id) if e.id >= event.id]
        stage = json.loads(event.after)["stage"]
        actions = (consumer.get(stage) or load_procedure().business.get(stage)).actions
        expected = [
            ("letter.decide" if a in LETTER_KIND else "task.create")
            for a in actions
            if a in LETTER_KIND or a in TASK_KIND
        ]
        # the move, then its stage's letters and tasks, with nothing of another case in between (a letter may be
        # held: one of its kind waits to be dispatched, or a 14-day letter has nothing new to cover)
        following = []
        for e in timeline[1:]:
            if e.action not in ("letter.decide", "task.create") or e.id != event.id + 1 + len(following):
                break
            following.append(e.action)
        assert following == [a for a in expected if a in following] and set(following) >= {
            a for a in expected if a == "task.create"
        }


def test_a_move_raises_the_case_version_once_so_a_form_opened_before_is_refused(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.errors import StaleData

    ctx = ctx_for("bakker")
    case_id = _due_case(ctx.db)
    with ctx.db.reader() as s:
        version = s.get(Case, case_id).version
    run_procedure(ctx, AS_OF)
    with ctx.db.reader() as s:
        moved = s.get(Case, case_id)
        assert moved.version == version + 1 and moved.updated_by == "bakker" and moved.updated_at == NOW
    with pytest.raises(StaleData):
        move_stage(ctx, case_id, "handover", "fraude vermoed", expected_version=version)


def test_bkr_3_for_a_write_off_of_at_least_250_once(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.store.models import LedgerEntry, Loan

    ctx = ctx_for("bakker")
    with ctx.db.transaction() as s:
        # natural persons: a legal person gets no BKR code at all (issue 12)
        big, small = s.scalars(
            select(Loan.id)
            .join(Client, Client.id == Loan.client_id)
            .where(Loan.status == "active", Client.kind != "bv")
            .order_by(Loan.id)
            .limit(2)
        ).all()
        for loan_id, amounts in ((big, ("200.00", "50.00")), (small, ("249.99",))):
            for amount in amounts:
                s.add(
                    LedgerEntry(
                        loan_id=loan_id,
                        booking_date=AS_OF,
                        kind="write_off",
                        amount=Decimal(amount),
                        created_by="test",
                        created_at=NOW,
                    )
                )
    assert run_procedure(ctx, AS_OF).actions["bkr_3"] == 1
    with ctx.db.reader() as s:
        [code] = s.scalars(select(BkrMutation).where(BkrMutation.code == "3"))
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "bkr.3")).one()
    assert (code.loan_id, code.amount) == (big, Decimal("250.00"))
    assert event.entity_id == code.id and json.loads(event.after)["amount"] == "250.00"
    assert run_procedure(ctx, AS_OF).actions["bkr_3"] == 0


def _snapshot(db, day) -> dict[int, tuple[str, Decimal]]:  # type: ignore[no-untyped-def]
    with db.reader() as s:
        return {
            c: (b, a)
            for c, b, a in s.execute(
                select(BucketSnapshot.case_id, BucketSnapshot.bucket, BucketSnapshot.arrears).where(
                    BucketSnapshot.day == day
                )
            )
        }


def test_the_run_snapshots_every_desk_case_replaces_a_same_day_snapshot_and_prunes_old_ones(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert, text

    from incasso_tui.services.kpi import kpi
    from incasso_tui.store.models import DESK_WHERE

    ctx = ctx_for("bakker")
    with ctx.db.transaction() as s:
        some_case = s.scalar(select(func.min(Case.id)))
        s.execute(
            insert(BucketSnapshot),
            [
                {"day": AS_OF - timedelta(days=36), "case_id": some_case, "bucket": "1-30", "arrears": Decimal("1.00")},
                {"day": AS_OF - timedelta(days=35), "case_id": some_case, "bucket": "1-30", "arrears": Decimal("1.00")},
            ],
        )
    run_procedure(ctx, AS_OF)
    with ctx.db.reader() as s:
        desk = dict(s.execute(select(Case.id, Case.pos_arrears).where(text(DESK_WHERE))).all())
        days = set(s.scalars(select(BucketSnapshot.day).distinct()))
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "procedure.snapshot")).one()
    snap = _snapshot(ctx.db, AS_OF)
    assert {c: a for c, (_b, a) in snap.items()} == desk and desk
    figures = kpi(ctx).buckets  # the cache as of AS_OF, bucketed independently of the snapshot's SQL
    assert Counter(b for b, _a in snap.values()) == {b: f.count for b, f in figures.items() if f.count}
    assert days == {AS_OF, AS_OF - timedelta(days=35)}  # the 36-day-old one is pruned
    assert json.loads(event.after)["cases"] == len(desk)
    # a re-run the same day replaces the day's snapshot (a stale row of a case that left the desk goes)
    gone = min(desk)  # handed over: still open (no new case for the client), off the desk
    with ctx.db.transaction() as s:
        s.execute(update(Case).where(Case.id == gone).values(status="handed_over"))
        s.execute(update(BucketSnapshot).where(BucketSnapshot.day == AS_OF).values(bucket="90+"))
    run_procedure(ctx, AS_OF)
    again = _snapshot(ctx.db, AS_OF)
    assert gone not in again and set(again) == set(desk) - {gone}
    assert {c: v for c, v in again.items()} == {c: v for c, v in snap.items() if c != gone}
