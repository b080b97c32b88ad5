"""The position cache refresh that writes only what changed (the daily run's) leaves the cache exactly as the full one."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from incasso_tui.services.positions import refresh_case_positions, refresh_changed_positions, verify_positions
from incasso_tui.store.models import Case
from tests.conftest import AS_OF


def _cache(db) -> list[tuple]:  # type: ignore[no-untyped-def]
    with db.reader() as s:
        return list(
            s.execute(
                select(Case.id, Case.pos_arrears, Case.pos_oldest_due, Case.pos_as_of, Case.version)
                .where(Case.status != "closed")
                .order_by(Case.id)
            )
        )


def _spoil(db) -> list[int]:  # type: ignore[no-untyped-def]
    """Three open cases with a wrong cache: the arrears, the oldest due date, no as-of date."""
    with db.transaction() as s:
        ids = list(
            s.scalars(select(Case.id).where(Case.status != "closed", Case.pos_arrears > 0).order_by(Case.id).limit(3))
        )
        s.execute(update(Case).where(Case.id == ids[0]).values(pos_arrears=Decimal("1.23")))
        s.execute(update(Case).where(Case.id == ids[1]).values(pos_oldest_due=date(2000, 1, 1)))
        s.execute(update(Case).where(Case.id == ids[2]).values(pos_as_of=None))
    return ids


def test_only_the_changed_cases_are_written_and_the_cache_equals_the_full_refresh(ctx_for) -> None:  # type: ignore[no-untyped-def]
    db = ctx_for("demo").db
    day = AS_OF + timedelta(days=3)  # the lines due on the 23rd to the 25th fall into arrears
    _spoil(db)
    before = {row[0]: row for row in _cache(db)}
    with db.transaction() as s:
        changed = refresh_changed_positions(s, day)
        open_cases = s.scalar(select(func.count()).select_from(Case).where(Case.status != "closed"))
    after = _cache(db)
    moved = [row for row in after if (row[1], row[2]) != before[row[0]][1:3]]
    assert changed == len(moved) and 2 <= changed < open_cases
    assert {row[3] for row in after} == {day}  # every open case is current as of the day, changed or not
    assert all(row[4] == before[row[0]][4] for row in after)  # a cache refresh is not a change of the case
    with db.transaction() as s:
        assert verify_positions(s, day) == []
        assert refresh_changed_positions(s, day) == 0
        refresh_case_positions(s, day)
    assert _cache(db) == after


def test_a_refresh_of_some_cases_leaves_the_others(ctx_for) -> None:  # type: ignore[no-untyped-def]
    db = ctx_for("demo").db
    first, second, _third = _spoil(db)
    with db.transaction() as s:
        assert refresh_changed_positions(s, AS_OF, [first]) == 1
        problems = verify_positions(s, AS_OF)
    assert len(problems) == 2 and any(p.startswith(f"case {second}:") for p in problems)
