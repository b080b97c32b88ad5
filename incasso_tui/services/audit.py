"""The audit trail: one event per state change, in the same transaction, chained by hashes."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incasso_tui.store.db import Database
from incasso_tui.store.models import AuditEvent, AuditHead

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


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(
        [
            prev_hash,
            event.at.isoformat(),
            event.actor,
            event.action,
            event.entity,
            event.entity_id,
            event.case_id,
            event.before,
            event.after,
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


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
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS)
        session.add(head)
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


def latest_event_id(db: Database) -> int:
    """The newest audit event's id: every state change writes one, so a changed value means "something
    changed" (the live worklist polls this; one primary-key lookup)."""
    with db.reader() as s:
        return int(s.scalar(select(func.max(AuditEvent.id))) or 0)
