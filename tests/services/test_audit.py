"""The audit trail is tamper-evident: verify finds an altered, a removed and a truncated event; show lists a case."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from incasso_tui.services.audit import case_timeline, verify_chain
from incasso_tui.services.locks import open_case
from incasso_tui.store.models import AuditEvent, Case

INCASSO = str(Path(sys.executable).with_name("incasso"))


def _work_a_case(ctx) -> int:  # type: ignore[no-untyped-def]
    """Open a case and release it: two audited changes."""
    from incasso_tui.services.locks import release_case

    with ctx.db.reader() as s:
        case_id = s.scalar(select(Case.id).where(Case.status == "active").order_by(Case.id).limit(1))
    open_case(ctx, case_id)
    release_case(ctx, case_id)
    return case_id


def _ids(db) -> list[int]:  # type: ignore[no-untyped-def]
    with db.reader() as s:
        return list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def test_an_untouched_chain_is_intact(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    _work_a_case(ctx)
    report = verify_chain(ctx.db)
    with ctx.db.reader() as s:
        total = s.scalar(select(func.count()).select_from(AuditEvent))
    assert report.intact and report.events == total >= 2


def test_an_altered_event_is_named(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    _work_a_case(ctx)
    target = _ids(ctx.db)[-2]
    with ctx.db.transaction() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == target).values(actor="someone-else"))
    report = verify_chain(ctx.db)
    assert not report.intact and report.broken_at == target and "altered" in (report.reason or "")


def test_a_removed_event_breaks_the_next_one(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    _work_a_case(ctx)
    *_, removed, following = _ids(ctx.db)
    with ctx.db.transaction() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == removed))
    report = verify_chain(ctx.db)
    assert report.broken_at == following


def test_removing_the_newest_event_is_found_by_the_head(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    _work_a_case(ctx)
    newest = _ids(ctx.db)[-1]
    with ctx.db.transaction() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == newest))
    report = verify_chain(ctx.db)
    assert not report.intact and "newest" in (report.reason or "")


def test_the_timeline_of_a_case_lists_its_changes_in_order(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id = _work_a_case(ctx)
    actions = [e.action for e in case_timeline(ctx.db, case_id)]
    assert actions[-2:] == ["presence.enter", "presence.leave"]


@pytest.fixture
def book(sqlite_template: str, tmp_path: Path) -> str:
    import shutil

    path = tmp_path / "book.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _incasso(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([INCASSO, *args], capture_output=True, text=True, timeout=60)


def test_the_commands_verify_and_show(book: str, tmp_path: Path) -> None:
    import sqlite3

    from incasso_tui.clock import FixedClock
    from incasso_tui.config import Settings
    from incasso_tui.services.context import Context
    from incasso_tui.services.users import resolve_actor
    from incasso_tui.store.db import Database
    from tests.conftest import NOW

    db = Database(book)
    ctx = Context(db=db, actor=resolve_actor(db, "demo"), clock=FixedClock(NOW), settings=Settings())
    case_id = _work_a_case(ctx)
    db.dispose()

    ok = _incasso("audit", "verify", "--db", book)
    assert ok.returncode == 0 and "intact" in ok.stdout
    shown = _incasso("audit", "show", "--case", str(case_id), "--db", book, "--json")
    assert shown.returncode == 0 and [e["action"] for e in json.loads(shown.stdout)][-2:] == [
        "presence.enter",
        "presence.leave",
    ]
    missing = _incasso("audit", "show", "--case", "999999", "--db", book)
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1

    with sqlite3.connect(book.removeprefix("sqlite:///")) as conn:
        (target,) = conn.execute("select max(id) - 1 from audit_events").fetchone()
        conn.execute("update audit_events set after = '{}' where id = ?", (target,))
    broken = _incasso("audit", "verify", "--db", book)
    # the generated history (issue 13) puts thousands of events before it
    number = str(target)  # an event's sequence number is its name: no thousands separator
    assert broken.returncode == 1 and f"event {number}" in broken.stderr.replace("gebeurtenis", "event")


def test_record_many_chains_after_single_events_in_one_transaction(ctx_for) -> None:  # type: ignore[no-untyped-def]
    """Bulk events (a run, a bank file) and single ones written in one transaction form one intact chain, in id order."""
    from datetime import datetime

    from incasso_tui.services.audit import Event, record, record_many

    ctx = ctx_for("demo")
    _work_a_case(ctx)
    before = _ids(ctx.db)
    at = datetime(2026, 11, 23, 9, 0)
    with ctx.db.transaction() as s:
        record(s, at=at, actor="demo", action="note.add", entity="case", entity_id=1, case_id=1)
        written = record_many(
            s, [Event(at, "demo", "procedure.move", "case", i, i, None, {"n": i}) for i in range(1, 4)]
        )
        record(s, at=at, actor="demo", action="note.add", entity="case", entity_id=2, case_id=2)
    assert written == 3
    with ctx.db.reader() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.id > before[-1]).order_by(AuditEvent.id)))
    assert actions == ["note.add", "procedure.move", "procedure.move", "procedure.move", "note.add"]
    report = verify_chain(ctx.db)
    assert report.intact and report.events == len(before) + 5


def test_a_rolled_back_bulk_leaves_the_chain_as_it_was(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from incasso_tui.services.audit import Event, record_many

    ctx = ctx_for("demo")
    _work_a_case(ctx)
    before = _ids(ctx.db)
    with pytest.raises(RuntimeError), ctx.db.transaction() as s:
        record_many(s, [Event(datetime(2026, 11, 23), "demo", "procedure.move", "case", 1, 1)])
        raise RuntimeError("stop")
    _work_a_case(ctx)
    report = verify_chain(ctx.db)
    assert report.intact and report.events == len(before) + 2


def test_an_action_outside_the_registry_is_refused_and_nothing_is_written(ctx_for) -> None:  # type: ignore[no-untyped-def]
    """domain.audit_actions: record and record_many refuse an unknown action before touching the chain."""
    from datetime import datetime

    from incasso_tui.services.audit import Event, record, record_many

    ctx = ctx_for()
    with ctx.db.reader() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(ValueError, match="case.vanish"), ctx.db.transaction() as s:
        record(s, at=datetime(2026, 11, 23), actor="demo", action="case.vanish", entity="case", entity_id=1)
    with pytest.raises(ValueError, match="case.vanish"), ctx.db.transaction() as s:
        record_many(s, [Event(datetime(2026, 11, 23), "demo", "case.vanish", "case", 1, 1)])
    with ctx.db.reader() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before


@pytest.mark.parametrize("keyed", [False, True])
def test_record_many_writes_the_rows_record_writes(ctx_for, keyed: bool) -> None:  # type: ignore[no-untyped-def]
    """The same events written one by one with ``record`` and in bulk with ``record_many`` (after a rollback, from the
    same head) give the same rows: texts, sequence numbers and hashes, keyed or not."""
    from datetime import datetime
    from decimal import Decimal

    from incasso_tui.services.audit import Event, record, record_many

    ctx = ctx_for("demo")
    _work_a_case(ctx)
    events = [
        Event(
            datetime(2026, 11, 23, 9, i % 2),  # two times, each object its own
            "demo",
            "payment.book" if i % 3 else "payment.reverse",
            "bank_entry",
            i,
            i % 4 or None,
            None if i % 2 else {"n": i},
            {"loan_id": i, "amount": Decimal(i) / 100, "reason": None, "credit": bool(i % 2), "when": [i]},
        )
        for i in range(1, 8)
    ]
    columns = (
        AuditEvent.at,
        AuditEvent.actor,
        AuditEvent.action,
        AuditEvent.entity,
        AuditEvent.entity_id,
        AuditEvent.case_id,
        AuditEvent.before,
        AuditEvent.after,
        AuditEvent.prev_hash,
        AuditEvent.hash,
        AuditEvent.seq,
        AuditEvent.keyed,
    )
    key = b"k" * 32 if keyed else None

    class Undo(Exception):
        """Rolls the transaction back: both ways start from the same head."""

    def rows_of(bulk: bool) -> list[tuple[object, ...]]:
        rows: list[tuple[object, ...]] = []
        with pytest.raises(Undo), ctx.db.transaction() as s:
            s.info["audit_key"] = key
            first = s.scalar(select(func.max(AuditEvent.id))) or 0
            if bulk:
                record_many(s, events)
            else:
                for e in events:
                    record(
                        s,
                        at=e.at,
                        actor=e.actor,
                        action=e.action,
                        entity=e.entity,
                        entity_id=e.entity_id,
                        case_id=e.case_id,
                        before=e.before,
                        after=e.after,
                    )
            s.flush()
            rows = [tuple(r) for r in s.execute(select(*columns).where(AuditEvent.id > first).order_by(AuditEvent.id))]
            raise Undo
        return rows

    one_by_one, bulk = rows_of(False), rows_of(True)
    assert len(one_by_one) == len(events) and one_by_one == bulk
    assert all(row[-1] is keyed for row in bulk)
