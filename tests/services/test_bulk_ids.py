"""store.bulk.insert_returning_ids: the new rows' ids in the order of the rows, on each backend."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from incasso_tui.store.bulk import insert_returning_ids
from incasso_tui.store.models import Case, Task
from tests.conftest import NOW


def _task(case_id: int, title: str) -> dict[str, object]:
    return {
        "case_id": case_id,
        "kind": "call",
        "title": title,
        "subject": "call_about_arrears",
        "due_date": NOW.date(),
        "status": "open",
        "assignee_id": None,
        "created_by": "test",
        "created_at": NOW,
    }


def test_the_ids_follow_the_rows_and_lie_above_every_earlier_id(db) -> None:  # type: ignore[no-untyped-def]
    table = Task.__table__
    with db.sessions() as s:
        s.begin()
        case_ids = list(s.scalars(select(Case.id).order_by(Case.id).limit(3)))
        first = insert_returning_ids(s, table, [_task(case_ids[i % 3], f"t{i}") for i in range(7)])
        assert len(first) == 7 and first == sorted(first)
        # the newest row gone: the next ids still follow the rows, and none is an id a row of this insert took
        s.execute(delete(table).where(table.c.id == first[-1]))
        rows = [_task(case_ids[(i + 1) % 3], f"u{i}") for i in range(5)]
        second = insert_returning_ids(s, table, rows)
        assert second == sorted(second) and min(second) > max(first[:-1])
        for task_id, row in zip(second, rows, strict=True):
            assert s.execute(select(table.c.title, table.c.case_id).where(table.c.id == task_id)).one() == (
                row["title"],
                row["case_id"],
            )
        assert insert_returning_ids(s, table, []) == []
        assert s.scalar(select(func.count()).select_from(table).where(table.c.created_by == "test")) == 11
        s.rollback()
