""" "In progress by NAME": who has a case open right now.

Advisory presence, not a write lock: it tells a colleague that someone is working the case; changes are
protected by the version check (optimistic locking). A lock expires by itself after
``settings.case_lock_minutes``; opening the case again renews it. Taking and releasing a lock is audited
(``presence.enter`` / ``presence.leave``): who worked the case when is in the audit trail, but presence is not a
dossier event, so the case's timeline leaves it out (``services.cases.PRESENCE_ACTIONS``). Auditors read without
taking a lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete

from incasso_tui.domain.enums import Role
from incasso_tui.services import audit
from incasso_tui.services.cases import load_case
from incasso_tui.services.context import Context
from incasso_tui.store.models import CaseLock


@dataclass(frozen=True)
class Presence:
    user_name: str
    until: datetime


def open_case(ctx: Context, case_id: int) -> Presence | None:
    """Mark the case as being worked by the actor; returns the colleague who has it open, if anyone."""
    now = ctx.clock.now()
    if ctx.actor.role == Role.AUDITOR:
        with ctx.db.reader() as s:
            lock = s.get(CaseLock, case_id)
            return Presence(lock.user_name, lock.until) if lock is not None and lock.until > now else None
    with ctx.db.transaction() as s:
        load_case(s, case_id)
        lock = s.get(CaseLock, case_id, with_for_update=True)
        if lock is not None and lock.until > now and lock.user_name != ctx.actor.name:
            return Presence(lock.user_name, lock.until)
        until = now + timedelta(minutes=ctx.settings.case_lock_minutes)
        if lock is None:
            s.add(CaseLock(case_id=case_id, user_name=ctx.actor.name, until=until))
        else:
            lock.user_name, lock.until = ctx.actor.name, until
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="presence.enter",
            entity="case",
            entity_id=case_id,
            case_id=case_id,
            after={"in_progress_until": until},
        )
        return None


def release_case(ctx: Context, case_id: int) -> None:
    """The actor left the case: their mark goes (someone else's is left alone)."""
    if ctx.actor.role == Role.AUDITOR:
        return
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        gone = s.execute(
            delete(CaseLock).where(CaseLock.case_id == case_id, CaseLock.user_name == ctx.actor.name)
        ).rowcount
        if gone:
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="presence.leave",
                entity="case",
                entity_id=case_id,
                case_id=case_id,
            )
