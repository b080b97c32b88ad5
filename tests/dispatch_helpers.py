"""Test shortcut: dispatch the letters that wait, as if their print batch went into the post (or the mail server
accepted them) on ``day``. The real path (render, batch, post) is tested in tests/services/test_dispatch.py."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select

from incasso_tui.config import Settings
from incasso_tui.services.dispatch import mark_dispatched
from incasso_tui.store.db import Database
from incasso_tui.store.models import Letter


def dispatch_waiting(db: Database, day: date, settings: Settings | None = None, **where: object) -> list[int]:
    settings = settings or Settings()
    now = datetime.combine(day, time(16, 0))
    with db.transaction() as s:
        query = select(Letter).where(Letter.status.in_(("pending", "rendered"))).order_by(Letter.id)
        for name, value in where.items():
            query = query.where(getattr(Letter, name) == value)
        letters = list(s.scalars(query))
        for letter in letters:
            mark_dispatched(s, settings, letter, day, now, "test", "post (test)")
        return [letter.id for letter in letters]
