"""The audit trail: one event per state change, in the same transaction, chained by hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from incasso_tui.errors import N_, NotFound
from incasso_tui.store.db import Database
from incasso_tui.store.models import AuditEvent, AuditHead, Case

GENESIS = "0" * 64


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _dump(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(_jsonable(value), sort_keys=True, ensure_ascii=False)


def _chain_hash(prev_hash: str, at: datetime, actor: str, action: str, entity: str, entity_id: int | None,
                case_id: int | None, before: str | None, after: str | None) -> str:
    body = json.dumps([prev_hash, at.isoformat(), actor, action, entity, entity_id, case_id, before, after],
                      ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    return _chain_hash(prev_hash, event.at, event.actor, event.action, event.entity, event.entity_id,
                       event.case_id, event.before, event.after)


def _head(session: Session) -> AuditHead:
    """The chain's head row, locked for this transaction (``FOR UPDATE`` on PostgreSQL; SQLite has one writer).

    It is read once per transaction and kept in ``session.info``, so a transaction that writes thousands of events
    (a procedure run, a bank file) does not read it again for each one.
    """
    transaction = session.get_transaction()
    cached = session.info.get("audit_head")
    if cached is not None and cached[0] is transaction:
        return cached[1]
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS)
        session.add(head)
    session.info["audit_head"] = (transaction, head)
    return head


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    case_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the chain. The head row is locked so concurrent writers chain in turn."""
    head = _head(session)
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        case_id=case_id,
        before=_dump(before),
        after=_dump(after),
        prev_hash=head.last_hash,
    )
    event.hash = event_hash(head.last_hash, event)
    head.last_hash = event.hash
    session.add(event)
    return event


@dataclass(frozen=True)
class Event:
    """One event for ``record_many``: the same fields as ``record``'s keywords."""

    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    case_id: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def record_many(session: Session, events: Iterable[Event]) -> int:
    """Append many events to the chain with one multi-row insert (bulk work: a run, a bank file).

    Pending ORM changes are flushed first, so events written earlier with ``record`` keep lower ids than these;
    the chain's order is the id order. Returns the number of events written.
    """
    session.flush()
    head = _head(session)
    previous = head.last_hash
    rows: list[dict[str, Any]] = []
    for e in events:
        before, after = _dump(e.before), _dump(e.after)
        digest = _chain_hash(previous, e.at, e.actor, e.action, e.entity, e.entity_id, e.case_id, before, after)
        rows.append({"at": e.at, "actor": e.actor, "action": e.action, "entity": e.entity,
                     "entity_id": e.entity_id, "case_id": e.case_id, "before": before, "after": after,
                     "prev_hash": previous, "hash": digest})
        previous = digest
    if rows:
        session.execute(insert(AuditEvent.__table__), rows)  # Core: one executemany, however the rows vary
        head.last_hash = previous
    return len(rows)


def latest_event_id(db: Database) -> int:
    """The newest audit event's id: every state change writes one, so a changed value means "something
    changed" (the live worklist polls this; one primary-key lookup)."""
    with db.reader() as s:
        return int(s.scalar(select(func.max(AuditEvent.id))) or 0)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of ``verify_chain``: how many events were checked, and the first break if any."""

    events: int
    broken_at: int | None = None  # the id of the first event that does not fit the chain
    reason: str | None = None  # an English msgid (translated by the caller)

    @property
    def intact(self) -> bool:
        return self.broken_at is None


VERIFY_CHUNK = 5000


def verify_chain(db: Database) -> ChainReport:
    """Recompute the hash chain from the first event to the head, in id order, a chunk at a time.

    An altered event no longer matches its own hash; a removed event leaves the next one pointing at a hash that
    is not its predecessor's; removing the newest events leaves the head pointing past the last one.
    """
    previous = GENESIS
    checked = 0
    last_id = 0
    with db.reader() as s:
        while True:
            chunk = list(s.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(VERIFY_CHUNK)))
            if not chunk:
                break
            for event in chunk:
                if event.prev_hash != previous:
                    return ChainReport(checked, event.id, N_("the event before it was removed or altered"))
                if event_hash(previous, event) != event.hash:
                    return ChainReport(checked, event.id, N_("its content was altered"))
                previous = event.hash
                checked += 1
                last_id = event.id
            s.expunge_all()
        head = s.scalar(select(AuditHead.last_hash).where(AuditHead.id == 1))
    if (head or GENESIS) != previous:
        return ChainReport(checked, last_id + 1 if checked else 1, N_("the newest events were removed"))
    return ChainReport(checked)


@dataclass(frozen=True)
class TimelineEvent:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def case_timeline(db: Database, case_id: int) -> list[TimelineEvent]:
    """Every audit event of a case, oldest first (the dossier timeline)."""
    with db.reader() as s:
        if s.get(Case, case_id) is None:
            raise NotFound(N_("There is no case {case}"), case=case_id)
        events = s.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id))
        return [
            TimelineEvent(e.id, e.at, e.actor, e.action, e.entity, e.entity_id,
                          json.loads(e.before) if e.before else None, json.loads(e.after) if e.after else None)
            for e in events
        ]
