"""The audit trail: one event per state change, in the same transaction, chained by hashes.

Keyed chain (issue 16). A plain hash chain inside the database proves nothing against whoever can write the
database: they can recompute it. With an audit key (``incasso audit init-key``; a file outside the database that
only its owner can read, ``services.audit_seal``), each event's ``hash`` is an HMAC-SHA256 with that key over its
sequence number, the previous hash and its content, so an altered, recomputed or forged event does not verify
without the key. Events written before a key existed stay plain SHA-256 (``keyed`` false): the first checkpoint made
with the key seals them (its signed head hash covers them), and no unkeyed event may follow a keyed one.

Sequence numbers (``seq``) run 1, 2, 3, ... without gaps in the order of the chain; the head row keeps the last one.
The head is read (and locked) once per transaction, so ``record_many`` stays one read for thousands of events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incasso_tui.domain.audit_actions import check_action
from incasso_tui.errors import N_, ConfigError, NotFound
from incasso_tui.store.bulk import insert_rows
from incasso_tui.store.db import Database
from incasso_tui.store.models import AuditEvent, AuditHead, Case

GENESIS = "0" * 64


# the encoders json.dumps would make anew for each call with these options (the same output)
_ENCODE_SORTED = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_PLAIN = frozenset({str, int, bool, float, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):  # the plain values as they are, without a call each (a run dumps 100,000s)
        return {str(k): v if type(v) in _PLAIN else _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _dump(value: dict[str, Any] | None) -> str | None:
    return None if value is None else _ENCODE_SORTED(_jsonable(value))


def _chain_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    case_id: int | None,
    before: str | None,
    after: str | None,
) -> str:
    body = _ENCODE([prev_hash, at.isoformat(), actor, action, entity, entity_id, case_id, before, after])
    return hashlib.sha256(body.encode()).hexdigest()


def _keyed_hash(
    key: bytes,
    seq: int,
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    case_id: int | None,
    before: str | None,
    after: str | None,
) -> str:
    body = _ENCODE([seq, prev_hash, at.isoformat(), actor, action, entity, entity_id, case_id, before, after])
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def event_hash(prev_hash: str, event: AuditEvent, key: bytes | None = None) -> str:
    """The hash the event must carry: the HMAC with ``key`` for a keyed event, the plain SHA-256 otherwise."""
    if event.keyed:
        if key is None:
            raise ConfigError(N_("The audit trail is keyed and no audit key is configured (setting audit_key_file)"))
        return _keyed_hash(
            key,
            int(event.seq or 0),
            prev_hash,
            event.at,
            event.actor,
            event.action,
            event.entity,
            event.entity_id,
            event.case_id,
            event.before,
            event.after,
        )
    return _chain_hash(
        prev_hash,
        event.at,
        event.actor,
        event.action,
        event.entity,
        event.entity_id,
        event.case_id,
        event.before,
        event.after,
    )


def _key(session: Session, head: AuditHead) -> bytes | None:
    """This process's audit key (``Database(audit_key=...)``); once the chain is keyed, writing without it is refused
    (an unkeyed event after keyed ones would only look like a forgery)."""
    key = session.info.get("audit_key")
    if key is None and head.keyed:
        raise ConfigError(
            N_(
                "The audit trail is keyed, but this process has no audit key (setting audit_key_file): "
                "nothing was written"
            )
        )
    if key is not None:
        head.keyed = True
    return key


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
        head = AuditHead(id=1, last_hash=GENESIS, last_seq=0, keyed=False)
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
    """Append an event to the chain. The head row is locked so concurrent writers chain in turn. ``action`` must be
    in the registry (``domain.audit_actions``)."""
    check_action(action)
    head = _head(session)
    key = _key(session, head)
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
        seq=head.last_seq + 1,
        keyed=key is not None,
    )
    event.hash = event_hash(head.last_hash, event, key)
    head.last_hash, head.last_seq = event.hash, event.seq
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
    """Append many events to the chain in one bulk insert (``store.bulk.insert_rows``: COPY on PostgreSQL, the
    driver's executemany on SQLite; bulk work: a run, a bank file).

    Pending ORM changes are flushed first, so events written earlier with ``record`` keep lower ids than these;
    the chain's order is the id order. Returns the number of events written.
    """
    session.flush()
    head = _head(session)
    key = _key(session, head)
    previous, seq = head.last_hash, head.last_seq
    keyed = key is not None
    rows: list[tuple[Any, ...]] = []  # in the order of _EVENT_COLUMNS
    for e in events:
        check_action(e.action)
        before, after = _dump(e.before), _dump(e.after)
        seq += 1
        if key is not None:
            digest = _keyed_hash(
                key, seq, previous, e.at, e.actor, e.action, e.entity, e.entity_id, e.case_id, before, after
            )
        else:
            digest = _chain_hash(previous, e.at, e.actor, e.action, e.entity, e.entity_id, e.case_id, before, after)
        rows.append(
            (e.at, e.actor, e.action, e.entity, e.entity_id, e.case_id, before, after, previous, digest, seq, keyed)
        )
        previous = digest
    if rows:
        insert_rows(session, AuditEvent, _EVENT_COLUMNS, rows)
        head.last_hash, head.last_seq = previous, seq
    return len(rows)


_EVENT_COLUMNS = (
    "at",
    "actor",
    "action",
    "entity",
    "entity_id",
    "case_id",
    "before",
    "after",
    "prev_hash",
    "hash",
    "seq",
    "keyed",
)


def latest_event_id(db: Database) -> int:
    """The newest audit event's id: every state change writes one, so a changed value means "something
    changed" (the live worklist polls this; one primary-key lookup)."""
    with db.reader() as s:
        return int(s.scalar(select(func.max(AuditEvent.id))) or 0)


@dataclass(frozen=True)
class Checkpoint:
    """A signed checkpoint of the chain (``services.audit_seal``): the sequence number and hash of the newest event,
    the number of events, when, and from which sequence number on every event must be keyed."""

    seq: int
    head: str
    count: int
    at: str
    keyed_from: int | None = None


@dataclass(frozen=True)
class ChainReport:
    """The outcome of ``verify_chain``: how many events were checked, and the first break if any."""

    events: int
    broken_at: int | None = None  # the id of the first event that does not fit the chain (None: see broken_seq)
    reason: str | None = None  # an English msgid (translated by the caller) with ``params``
    params: dict[str, Any] = field(default_factory=dict)
    broken_seq: int | None = None  # the sequence number of the first event that does not verify (or is missing)
    keyed: int = 0  # how many of the events were verified with the key
    checkpoint: Checkpoint | None = None  # the newest checkpoint the chain was checked against

    @property
    def intact(self) -> bool:
        return self.reason is None

    @property
    def since_checkpoint(self) -> int:
        return self.events - (self.checkpoint.seq if self.checkpoint else 0)


VERIFY_CHUNK = 5000


def verify_chain(db: Database, key: bytes | None = None, checkpoints: Iterable[Checkpoint] = ()) -> ChainReport:
    """Recompute the chain from the first event to the head, in order, a chunk at a time, and hold it against the
    signed ``checkpoints`` (outside the database).

    - an altered event no longer matches its own hash; with the key, a recomputed or forged one does not either;
    - a removed event leaves a gap in the sequence numbers and the next one pointing at a hash that is not its
      predecessor's; removing the newest events leaves the head pointing past the last one, and (whatever the head
      says) the chain shorter than the newest checkpoint;
    - an event that is not keyed after keyed ones, or at or after the checkpoints' ``keyed_from``, is a forgery.
    """
    marks = sorted(checkpoints, key=lambda c: c.seq)
    by_seq = {c.seq: c for c in marks}
    latest = marks[-1] if marks else None
    keyed_from = min((c.keyed_from for c in marks if c.keyed_from is not None), default=None)
    previous, expected = GENESIS, 1
    checked = keyed = 0
    last_id = 0
    seen_keyed = False

    def broken(event: AuditEvent | None, reason: str, **params: Any) -> ChainReport:
        return ChainReport(
            checked,
            event.id if event is not None else None,
            reason,
            params,
            event.seq if event is not None and event.seq is not None else expected,
            keyed,
            latest,
        )

    with db.reader() as s:
        while True:
            chunk = list(
                s.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(VERIFY_CHUNK))
            )
            if not chunk:
                break
            for event in chunk:
                if event.seq != expected:
                    return broken(
                        event,
                        N_(
                            "its sequence number {seq} does not follow {previous}: events before it "
                            "were removed or renumbered"
                        ),
                        seq=event.seq,
                        previous=expected - 1,
                    )
                if event.prev_hash != previous:
                    return broken(event, N_("the event before it was removed or altered"))
                if not event.keyed and (seen_keyed or (keyed_from is not None and event.seq >= keyed_from)):
                    return broken(
                        event,
                        N_("it is not keyed, but the trail is keyed from event {seq} on: it was forged or rewritten"),
                        seq=keyed_from or expected,
                    )
                if event.keyed and key is None:
                    raise ConfigError(
                        N_(
                            "The audit trail is keyed and no audit key is configured (setting "
                            "audit_key_file): it cannot be verified"
                        )
                    )
                if event_hash(previous, event, key) != event.hash:
                    if event.keyed:
                        return broken(
                            event, N_("it does not verify with the audit key: it was altered, recomputed or forged")
                        )
                    return broken(event, N_("its content was altered"))
                mark = by_seq.get(event.seq)
                if mark is not None and mark.head != event.hash:
                    return broken(
                        event, N_("it differs from the signed checkpoint of {at}: the trail was rewritten"), at=mark.at
                    )
                seen_keyed = seen_keyed or event.keyed
                keyed += event.keyed
                previous = event.hash
                checked += 1
                expected += 1
                last_id = event.id
            s.expunge_all()
        head = s.scalar(select(AuditHead.last_hash).where(AuditHead.id == 1))
    if latest is not None and checked < latest.seq:
        return broken(
            None,
            N_(
                "the trail ends at event {last}, but the signed checkpoint of {at} covers {count} "
                "events: events were removed"
            ),
            last=checked,
            at=latest.at,
            count=latest.seq,
        )
    if (head or GENESIS) != previous:
        return ChainReport(
            checked, last_id + 1 if checked else 1, N_("the newest events were removed"), {}, expected, keyed, latest
        )
    return ChainReport(checked, keyed=keyed, checkpoint=latest)


def chain_head(db: Database) -> tuple[int, str, int | None]:
    """(sequence number, hash, first keyed sequence number) of the chain as it stands: the head row gives the first
    two together (they are written together), so a checkpoint never pairs one event's number with another's hash."""
    with db.reader() as s:
        head = s.execute(select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == 1)).first()
        first_keyed = s.scalar(select(func.min(AuditEvent.seq)).where(AuditEvent.keyed.is_(True)))
    seq, digest = (int(head[0]), head[1]) if head is not None else (0, GENESIS)
    return seq, digest, (int(first_keyed) if first_keyed is not None else None)


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
            TimelineEvent(
                e.id,
                e.at,
                e.actor,
                e.action,
                e.entity,
                e.entity_id,
                json.loads(e.before) if e.before else None,
                json.loads(e.after) if e.after else None,
            )
            for e in events
        ]
