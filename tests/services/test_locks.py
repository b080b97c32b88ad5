"""'In progress by NAME': colleagues see who has a case open; marks expire; auditors leave none."""

from __future__ import annotations

from sqlalchemy import func, select

from incasso_tui.services.locks import open_case, release_case
from incasso_tui.services.worklist import WorklistFilter, worklist
from incasso_tui.store.models import AuditEvent, Case


def _a_case(ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return s.scalar(select(Case.id).where(Case.status == "active").order_by(Case.id).limit(1))


def _row(ctx, case_id):  # type: ignore[no-untyped-def]
    wl = worklist(ctx, WorklistFilter())
    position = wl.position_of(case_id)
    return wl.page(position, 1, wl.count()).rows[0]


def test_a_colleague_sees_who_has_the_case_open(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo, jansen = ctx_for("demo"), ctx_for("jansen")
    case_id = _a_case(demo)
    assert open_case(demo, case_id) is None
    presence = open_case(jansen, case_id)
    assert presence is not None and presence.user_name == "demo"
    assert _row(jansen, case_id).in_progress_by == "demo"
    assert _row(demo, case_id).in_progress_by is None  # not shown to oneself
    release_case(jansen, case_id)  # jansen's leaving does not clear demo's mark
    assert _row(jansen, case_id).in_progress_by == "demo"
    release_case(demo, case_id)
    assert _row(jansen, case_id).in_progress_by is None
    with demo.db.reader() as s:
        actions = list(
            s.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id))
        )
    assert actions[-2:] == ["presence.enter", "presence.leave"]


def test_marks_expire(ctx_for, clock) -> None:  # type: ignore[no-untyped-def]
    demo, jansen = ctx_for("demo", case_lock_minutes=15), ctx_for("jansen")
    case_id = _a_case(demo)
    open_case(demo, case_id)
    clock.advance(minutes=16)
    assert _row(jansen, case_id).in_progress_by is None
    assert open_case(jansen, case_id) is None  # the expired mark is taken over
    assert open_case(demo, case_id).user_name == "jansen"


def test_auditors_read_without_leaving_a_mark(ctx_for) -> None:  # type: ignore[no-untyped-def]
    audit, demo = ctx_for("audit"), ctx_for("demo")
    case_id = _a_case(demo)
    with demo.db.reader() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    assert open_case(audit, case_id) is None
    assert _row(demo, case_id).in_progress_by is None
    with demo.db.reader() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before
