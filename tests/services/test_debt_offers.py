"""A debt counsellor's proposal in a minnelijk traject and the desk's answer, four eyes above the setting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from incasso_tui.errors import BadInput, FourEyesViolation, NotAllowed, RuleViolation
from incasso_tui.services import debt_offers as do
from incasso_tui.services.tracks import TrackInput, TrackKind, register_track
from incasso_tui.store.models import Case, Task
from tests.conftest import AS_OF
from tests.services.test_external import _consumer_case


def _minnelijk(ctx) -> int:  # type: ignore[no-untyped-def]
    case_id, _n, _l = _consumer_case(ctx)
    with ctx.db.reader() as s:
        version = s.get(Case, case_id).version
    register_track(
        ctx,
        case_id,
        version,
        TrackInput(
            kind=TrackKind.MINNELIJK,
            ruling_date=date(2026, 11, 2),
            trustee_name="Gemeente Kredietbank",
            response_due=date(2026, 12, 7),
        ),
    )
    return case_id


def test_an_offer_gets_its_task_and_a_small_claim_is_answered_at_once(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo", debt_offer_four_eyes_above=Decimal("1000000"))
    case_id, _n, _l = _consumer_case(demo)
    with pytest.raises(RuleViolation, match="minnelijk"):
        do.record_offer(
            demo, case_id, percentage=Decimal("35"), term_months=18, received_on=AS_OF, respond_by=date(2026, 12, 7)
        )
    case_id = _minnelijk(demo)
    with pytest.raises(BadInput):
        do.record_offer(demo, case_id, percentage=Decimal("0"), term_months=18, received_on=AS_OF, respond_by=AS_OF)
    offer_id = do.record_offer(
        demo, case_id, percentage=Decimal("35"), term_months=18, received_on=AS_OF, respond_by=date(2026, 12, 7)
    )
    (row,) = do.offers(demo, case_id)
    # 35 % of the claim, as the counsellor offers it
    assert row.percentage == Decimal("0.35") and row.offered == (row.claim * Decimal("0.35")).quantize(Decimal("0.01"))
    with demo.db.reader() as s:
        task = s.scalar(select(Task).where(Task.case_id == case_id, Task.kind == "debt_offer_answer"))
    assert task.due_date == date(2026, 12, 7) and task.status == "open"
    with pytest.raises(BadInput):
        do.answer_offer(demo, offer_id, accept=False)
    assert do.answer_offer(demo, offer_id, accept=False, reason="Te laag: 35 % bij een vast inkomen") == "rejected"
    with demo.db.reader() as s:
        assert s.get(Task, task.id).status == "done"


def test_above_the_setting_the_answer_waits_for_another_supervisor(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo", debt_offer_four_eyes_above=Decimal("0"))
    bakker = ctx_for("bakker", debt_offer_four_eyes_above=Decimal("0"))
    case_id = _minnelijk(demo)
    offer_id = do.record_offer(
        demo, case_id, percentage=Decimal("60"), term_months=36, received_on=AS_OF, respond_by=date(2026, 12, 7)
    )
    assert do.answer_offer(bakker, offer_id, accept=True) == "proposed"
    with pytest.raises(FourEyesViolation):
        do.confirm_answer(bakker, offer_id, confirm=True)
    with pytest.raises(RuleViolation):
        do.answer_offer(demo, offer_id, accept=True)
    with pytest.raises(NotAllowed):  # an employee is not the second person
        do.confirm_answer(demo, offer_id, confirm=True)


def test_a_second_person_confirms_the_answer(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo", debt_offer_four_eyes_above=Decimal("0"))
    bakker = ctx_for("bakker", debt_offer_four_eyes_above=Decimal("0"))
    case_id = _minnelijk(demo)
    offer_id = do.record_offer(
        demo, case_id, percentage=Decimal("60"), term_months=36, received_on=AS_OF, respond_by=date(2026, 12, 7)
    )
    assert do.answer_offer(demo, offer_id, accept=True) == "proposed"
    with pytest.raises(BadInput):
        do.confirm_answer(bakker, offer_id, confirm=False)
    assert do.confirm_answer(bakker, offer_id, confirm=False, reason="Eerst inkomen controleren") == "open"
    assert do.answer_offer(demo, offer_id, accept=True) == "proposed"
    assert do.confirm_answer(bakker, offer_id, confirm=True) == "accepted"
    (row,) = do.offers(demo, case_id)
    assert (row.answered_by, row.approved_by) == ("demo", "bakker")
