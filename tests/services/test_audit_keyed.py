"""The keyed audit trail against whoever can write the database (issue 16), on both backends.

The attacker here has the database (any SQL) but not the key file or the checkpoint file: each test tampers the way
the red team did and ``verify_chain`` (with the key and the signed checkpoints) must name the first event that does
not verify. Without the key the same tampering went unseen ("intact")."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import delete, event, select, update

from incasso_tui.config import Settings
from incasso_tui.errors import ConfigError
from incasso_tui.services import audit
from incasso_tui.services.audit import GENESIS, verify_chain
from incasso_tui.services.audit_seal import init_key, load_key, read_checkpoints, write_checkpoint
from incasso_tui.store.db import Database
from incasso_tui.store.models import AuditEvent, AuditHead
from tests.conftest import NOW


@pytest.fixture
def sealed(db: Database, tmp_path: Path):  # type: ignore[no-untyped-def]
    """(keyed database, settings, key): the book's events so far are sealed by a first checkpoint, then ten keyed
    events are written and a second checkpoint."""
    settings = Settings(audit_key_file=tmp_path / "audit.key", audit_checkpoint_file=tmp_path / "checkpoints.jsonl")
    key, _path = init_key(settings)
    keyed = Database(db.url, audit_key=key)
    write_checkpoint(keyed, settings, key, NOW)
    _write(keyed, 10)
    write_checkpoint(keyed, settings, key, NOW)
    yield keyed, settings, key
    keyed.dispose()


def _write(db: Database, n: int, actor: str = "demo") -> None:
    with db.transaction() as s:
        for i in range(n):
            audit.record(s, at=NOW, actor=actor, action="note.add", entity="case", entity_id=i, after={"i": i})


def _verify(db: Database, settings: Settings, key: bytes):  # type: ignore[no-untyped-def]
    return verify_chain(db, key, read_checkpoints(db, settings, key))


def _events(db: Database) -> list[AuditEvent]:
    with db.reader() as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_an_untouched_keyed_chain_verifies_against_its_checkpoint(sealed) -> None:  # type: ignore[no-untyped-def]
    db, settings, key = sealed
    _write(db, 3)
    report = _verify(db, settings, key)
    events = _events(db)
    assert report.intact and report.events == len(events) and report.keyed == 10 + 3
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # no gaps
    assert report.checkpoint is not None and report.since_checkpoint == 3


def test_an_event_altered_and_the_chain_recomputed_after_it_is_found(sealed) -> None:  # type: ignore[no-untyped-def]
    db, settings, key = sealed
    _write(db, 5)
    events = _events(db)
    target = events[-4]
    # the attacker alters an event and recomputes every hash after it, the way verify computed them (SHA-256; an
    # HMAC with a key of their own is no better)
    forged_key = b"x" * 32
    previous = next(e.hash for e in events if e.seq == target.seq - 1)
    with db.transaction() as s:
        for e in events[events.index(target) :]:
            row = s.get(AuditEvent, e.id)
            if row.id == target.id:
                row.actor = "someone-else"
            row.prev_hash = previous
            row.hash = audit.event_hash(previous, row, forged_key)
            previous = row.hash
        s.execute(update(AuditHead).values(last_hash=previous))
    report = _verify(db, settings, key)
    assert not report.intact and report.broken_at == target.id and report.broken_seq == target.seq
    assert "does not verify with the audit key" in report.reason


def test_rewriting_keyed_events_as_unkeyed_ones_is_found(sealed) -> None:  # type: ignore[no-untyped-def]
    db, settings, key = sealed
    events = _events(db)
    first_keyed = next(e for e in events if e.keyed)
    previous = next((e.hash for e in events if e.seq == first_keyed.seq - 1), GENESIS)
    with db.transaction() as s:  # every keyed event made plain SHA-256 again, chain recomputed, head moved
        for e in events[events.index(first_keyed) :]:
            row = s.get(AuditEvent, e.id)
            row.keyed = False
            row.prev_hash = previous
            row.hash = audit.event_hash(previous, row)
            previous = row.hash
        s.execute(update(AuditHead).values(last_hash=previous, keyed=False))
    report = _verify(db, settings, key)
    assert not report.intact and report.broken_at == first_keyed.id
    assert "not keyed, but the trail is keyed from event" in report.reason


def test_the_newest_events_deleted_and_the_head_moved_back_is_found(sealed) -> None:  # type: ignore[no-untyped-def]
    db, settings, key = sealed
    events = _events(db)
    keep = events[-6]
    with db.transaction() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id > keep.id))
        s.execute(update(AuditHead).values(last_hash=keep.hash, last_seq=keep.seq))
    report = _verify(db, settings, key)
    assert not report.intact and report.broken_seq == keep.seq + 1 and report.broken_at is None
    assert report.reason.startswith("the trail ends at event {last}, but the signed checkpoint")
    assert report.params["last"] == keep.seq and report.params["count"] == events[-1].seq


def test_every_event_deleted_is_found(sealed) -> None:  # type: ignore[no-untyped-def]
    db, settings, key = sealed
    total = len(_events(db))
    with db.transaction() as s:
        s.execute(delete(AuditEvent))
        s.execute(update(AuditHead).values(last_hash=GENESIS, last_seq=0, keyed=False))
    report = _verify(db, settings, key)
    assert not report.intact and report.broken_seq == 1 and report.params["count"] == total


def test_a_forged_event_appended_to_the_head_is_found(sealed) -> None:  # type: ignore[no-untyped-def]
    db, settings, key = sealed
    last = _events(db)[-1]
    for keyed in (False, True):
        with db.transaction() as s:
            forged = AuditEvent(
                at=NOW,
                actor="bakker",
                action="proposal.write_off.approved",
                entity="proposal",
                entity_id=1,
                case_id=None,
                before=None,
                after=json.dumps({"status": "approved"}),
                prev_hash=last.hash,
                seq=last.seq + 1,
                keyed=keyed,
            )
            forged.hash = audit.event_hash(last.hash, forged, b"guessed-key" if keyed else None)
            s.add(forged)
            s.flush()
            s.execute(update(AuditHead).values(last_hash=forged.hash, last_seq=forged.seq))
            forged_id = forged.id
        report = _verify(db, settings, key)
        assert not report.intact and report.broken_at == forged_id and report.broken_seq == last.seq + 1
        with db.transaction() as s:
            s.execute(delete(AuditEvent).where(AuditEvent.id == forged_id))
            s.execute(update(AuditHead).values(last_hash=last.hash, last_seq=last.seq))
    assert _verify(db, settings, key).intact


def test_a_gap_in_the_sequence_numbers_is_named(sealed) -> None:  # type: ignore[no-untyped-def]
    db, settings, key = sealed
    events = _events(db)
    removed, following = events[-5], events[-4]
    with db.transaction() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == removed.id))
    report = _verify(db, settings, key)
    assert report.broken_at == following.id and report.params == {"seq": following.seq, "previous": removed.seq - 1}


def test_an_old_event_from_before_the_key_altered_and_its_chain_recomputed_is_found(sealed) -> None:  # type: ignore[no-untyped-def]
    db, settings, key = sealed
    events = _events(db)
    legacy = [e for e in events if not e.keyed]
    assert legacy, "the book has events from before the key"
    target = legacy[0]
    previous = GENESIS
    with db.transaction() as s:  # an unkeyed prefix can be recomputed by anyone: the sealing checkpoint holds it
        for e in legacy:
            row = s.get(AuditEvent, e.id)
            if row.id == target.id:
                row.after = json.dumps({"rewritten": True})
            row.prev_hash = previous
            row.hash = audit.event_hash(previous, row)
            previous = row.hash
    report = _verify(db, settings, key)
    assert not report.intact
    assert report.broken_seq in (legacy[-1].seq, legacy[-1].seq + 1)  # the sealed head, or the first keyed event


def test_an_altered_checkpoint_file_is_refused(sealed) -> None:  # type: ignore[no-untyped-def]
    db, settings, key = sealed
    path = Path(settings.audit_checkpoint_file)
    lines = path.read_text().splitlines()
    doctored = json.loads(lines[-1])
    doctored["seq"] = 1
    path.write_text("\n".join([*lines[:-1], json.dumps(doctored)]) + "\n")
    with pytest.raises(ConfigError, match="Line 2 of the audit checkpoints .* does not verify"):
        read_checkpoints(db, settings, key)


def test_writing_without_the_key_once_the_chain_is_keyed_is_refused(sealed) -> None:  # type: ignore[no-untyped-def]
    db, _settings, _key = sealed
    plain = Database(db.url)
    before = len(_events(db))
    with pytest.raises(ConfigError, match="keyed, but this process has no audit key"):
        _write(plain, 1)
    plain.dispose()
    assert len(_events(db)) == before


def test_record_many_reads_the_head_once_per_transaction(sealed) -> None:  # type: ignore[no-untyped-def]
    db, settings, key = sealed
    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if "audit_head" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.transaction() as s:
            audit.record_many(s, [audit.Event(NOW, "demo", "procedure.move", "case", i) for i in range(2000)])
            audit.record(s, at=NOW, actor="demo", action="note.add", entity="case", entity_id=1)
            audit.record_many(s, [audit.Event(NOW, "demo", "procedure.move", "case", i) for i in range(10)])
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(reads) == 1
    assert _verify(db, settings, key).intact


def test_the_key_file_is_the_owners_alone_and_never_replaced(tmp_path: Path) -> None:
    settings = Settings(audit_key_file=tmp_path / "k" / "audit.key")
    key, path = init_key(settings)
    assert (path.stat().st_mode & 0o777) == 0o600 and load_key(settings) == key
    with pytest.raises(ConfigError, match="never replaced"):
        init_key(settings)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match=r"can be read or written by others \(mode 644\)"):
        load_key(settings)
    os.chmod(path, 0o600)
    path.write_text("not a key\n")
    with pytest.raises(ConfigError, match="does not hold a key"):
        load_key(settings)
    assert load_key(Settings(audit_key_file=tmp_path / "none")) is None
