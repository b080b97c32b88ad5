"""A case-status change outside the table (domain.case_status) is refused before anything is written: by hand
(services.access.move_case) and in the daily run's batch writer (procedure.batch.Batch)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from incasso_tui.domain.case_status import TransitionRefused
from incasso_tui.domain.enums import CaseStatus, NextAction
from incasso_tui.services.access import move_case
from incasso_tui.services.procedure.batch import Batch
from incasso_tui.store.models import AuditEvent, Case


def _state(ctx, case_id: int) -> tuple[str, int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        case = s.get(Case, case_id)
        return case.status, case.version, s.scalar(select(func.count()).select_from(AuditEvent))


def test_a_forbidden_change_by_hand_is_refused_and_nothing_is_written(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    with ctx.db.reader() as s:
        case_id = s.scalar(select(Case.id).where(Case.status == CaseStatus.CLOSED.value).order_by(Case.id))
    assert case_id is not None
    before = _state(ctx, case_id)
    with pytest.raises(TransitionRefused), ctx.db.transaction() as s:
        case = s.get(Case, case_id)
        case.next_action, case.next_action_params = NextAction.FREE, {"text": "mag niet blijven staan"}
        move_case(case, CaseStatus.ACTIVE)
    assert _state(ctx, case_id) == before
    with ctx.db.reader() as s:
        assert s.get(Case, case_id).next_action_params != {"text": "mag niet blijven staan"}


def test_an_allowed_change_by_hand_is_made(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    with ctx.db.transaction() as s:
        case = s.scalars(select(Case).where(Case.status == CaseStatus.ACTIVE.value).order_by(Case.id)).first()
        move_case(case, CaseStatus.PAUSED)
        case_id = case.id
    assert _state(ctx, case_id)[0] == CaseStatus.PAUSED.value


def test_the_batch_writer_refuses_a_forbidden_change_before_queueing_it() -> None:
    batch = Batch(run=None)  # type: ignore[arg-type]  # update_case only queues; nothing reaches a database
    with pytest.raises(TransitionRefused):
        batch.update_case(1, {"status": CaseStatus.ACTIVE.value}, from_status=CaseStatus.CLOSED.value)
    with pytest.raises(ValueError, match="present status"):
        batch.update_case(1, {"status": CaseStatus.ACTIVE.value})
    assert batch.updates == {}
    batch.update_case(1, {"status": CaseStatus.ACTIVE.value}, from_status=CaseStatus.PAUSED.value)
    batch.update_case(2, {"stage": "demand"})  # no status: no transition to check
    assert sorted(batch.updates.values()) == [[1], [2]]
