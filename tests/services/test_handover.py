"""Handover to special management: who qualifies, the dossier checklist, waivers, accept and return."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from incasso_tui.domain.enums import Frequency
from incasso_tui.errors import BadInput, NotAllowed, RuleViolation
from incasso_tui.services.arrangements import ArrangementInput, create_arrangement
from incasso_tui.services.handover import accept, hand_over, handovers, qualification, return_to_desk
from incasso_tui.store.models import AuditEvent, Case, User

TODAY = date(2026, 11, 23)


def _case(ctx, *, min_dpd: int = 0, max_dpd: int = 10_000) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        row = s.execute(
            select(Case.id, Case.version)
            .where(
                Case.status == "active",
                Case.pos_oldest_due <= TODAY - timedelta(days=min_dpd),
                Case.pos_oldest_due > TODAY - timedelta(days=max_dpd),
            )
            .order_by(Case.id)
            .limit(1)
        ).one()
    return row[0], row[1]


def _version(ctx, case_id: int) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return s.get(Case, case_id).version


def test_a_case_at_90_days_qualifies_and_an_incomplete_dossier_needs_a_supervisor(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo, bakker, visser = ctx_for("demo"), ctx_for("bakker"), ctx_for("visser")
    case_id, version = _case(demo, min_dpd=90)
    q = qualification(demo, case_id)
    assert "dpd_90" in q.reasons and q.days_past_due >= 90
    missing = [item for item, present in q.checklist.items() if not present]
    assert "letters_sent" in missing  # the test book has no letters yet
    with pytest.raises(RuleViolation) as caught:
        hand_over(demo, case_id, version, reason="dpd_90", summary="Geen contact sinds juli.")
    assert "letters_sent" in str(caught.value)
    with pytest.raises(RuleViolation):
        hand_over(demo, case_id, version, reason="dpd_90", summary="Geen contact.", waive=tuple(missing))

    handover_id = hand_over(
        bakker, case_id, version, reason="dpd_90", summary="Geen contact sinds juli.", waive=tuple(missing)
    )

    (row,) = [h for h in handovers(visser) if h.id == handover_id]
    assert row.status == "handed_over" and row.summary["text"] == "Geen contact sinds juli."
    assert {row.checklist[item] for item in missing} == {"waived"}
    with bakker.db.reader() as s:
        assert s.get(Case, case_id).status == "handed_over"
        (event,) = s.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action == "case.handover")
        )
    assert event.actor == "bakker"
    # read-only for the desk now
    with pytest.raises(RuleViolation):
        create_arrangement(
            demo,
            case_id,
            _version(demo, case_id),
            ArrangementInput(
                down_payment=q.position * 0, first_date=TODAY + timedelta(days=7), frequency=Frequency.MONTHLY, count=3
            ),
        )


def test_a_case_that_does_not_qualify_goes_only_by_decision(ctx_for) -> None:  # type: ignore[no-untyped-def]
    bakker = ctx_for("bakker")
    case_id, version = _case(bakker, min_dpd=1, max_dpd=30)
    q = qualification(bakker, case_id)
    assert "dpd_90" not in q.reasons
    with pytest.raises(RuleViolation):
        hand_over(bakker, case_id, version, reason="dpd_90", summary="x", waive=("letters_sent",))
    missing = tuple(item for item, present in q.checklist.items() if not present)
    assert hand_over(bakker, case_id, version, reason="decision", summary="Fraude vermoed", waive=missing) > 0


def test_special_management_accepts_or_returns_with_a_reason(ctx_for) -> None:  # type: ignore[no-untyped-def]
    bakker, visser, demo = ctx_for("bakker"), ctx_for("visser"), ctx_for("demo")
    first, v1 = _case(bakker, min_dpd=90)
    missing = tuple(i for i, present in qualification(bakker, first).checklist.items() if not present)
    h1 = hand_over(bakker, first, v1, reason="dpd_90", summary="a", waive=missing)
    with pytest.raises(NotAllowed):
        accept(demo, h1, 1)
    accept(visser, h1, [h for h in handovers(visser) if h.id == h1][0].version)
    with visser.db.reader() as s:
        assert s.get(Case, first).assignee_id == s.scalar(select(User.id).where(User.name == "visser"))
    with pytest.raises(RuleViolation):
        accept(
            visser, h1, 2
        )  # accepted already (an accepted case can still be returned: tests/services/test_access.py)

    second, v2 = _case(bakker, min_dpd=90)
    missing = tuple(i for i, present in qualification(bakker, second).checklist.items() if not present)
    h2 = hand_over(bakker, second, v2, reason="dpd_90", summary="b", waive=missing)
    version = [h for h in handovers(visser) if h.id == h2][0].version
    with pytest.raises(BadInput):
        return_to_desk(visser, h2, version, " ")
    return_to_desk(visser, h2, version, "Regeling lijkt haalbaar: terug naar de afdeling")
    with visser.db.reader() as s:
        assert s.get(Case, second).status == "active"
    assert [h.id for h in handovers(visser, status=("returned",))] == [h2]


def test_bad_input_is_refused(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo")
    case_id, version = _case(demo, min_dpd=90)
    with pytest.raises(BadInput):
        hand_over(demo, case_id, version, reason="boredom", summary="x")
    with pytest.raises(BadInput):
        hand_over(demo, case_id, version, reason="dpd_90", summary="   ")
    with pytest.raises(BadInput):
        hand_over(demo, case_id, version, reason="dpd_90", summary="x", waive=("everything",))
