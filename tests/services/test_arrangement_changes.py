"""Changing, cancelling and proposing arrangements (services.arrangement_changes) on both databases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from incasso_tui.domain.enums import Frequency
from incasso_tui.errors import BadInput, FourEyesViolation, RuleViolation
from incasso_tui.services.arrangement_changes import (
    cancel_arrangement,
    change_arrangement,
    propose_arrangement,
    running,
)
from incasso_tui.services.arrangements import ArrangementInput, create_arrangement
from incasso_tui.services.proposals import decide, proposals
from incasso_tui.store.models import Arrangement, ArrangementLine, AuditEvent, Case

FIRST = date(2026, 12, 1)


def _case(ctx, skip: int = 0):  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return s.scalars(select(Case).where(Case.status == "active", Case.pos_arrears > 300).order_by(Case.id)).all()[
            skip
        ]


def _with_arrangement(ctx, skip: int = 0):  # type: ignore[no-untyped-def]
    case = _case(ctx, skip)
    arrangement_id = create_arrangement(
        ctx,
        case.id,
        case.version,
        ArrangementInput(down_payment=Decimal("0.00"), first_date=FIRST, frequency=Frequency.MONTHLY, count=3),
    )
    return case, arrangement_id


def test_change_replans_what_is_open_and_keeps_the_old_one(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case, old_id = _with_arrangement(ctx)
    with ctx.db.transaction() as s:  # the first line half paid
        s.execute(
            update(ArrangementLine)
            .where(ArrangementLine.arrangement_id == old_id, ArrangementLine.seq == 1)
            .values(paid=Decimal("10.00"))
        )
    now = running(ctx, case.id)
    assert now is not None and now.id == old_id
    with ctx.db.reader() as s:
        covered = s.get(Arrangement, old_id).arrears_covered
    assert now.open_amount == covered - Decimal("10.00")
    new_id = change_arrangement(
        ctx,
        old_id,
        now.version,
        ArrangementInput(
            down_payment=Decimal("0.00"), first_date=date(2026, 12, 15), frequency=Frequency.MONTHLY, count=6
        ),
        "klant verloor inkomen",
    )
    with ctx.db.reader() as s:
        old, new = s.get(Arrangement, old_id), s.get(Arrangement, new_id)
        assert (old.status, new.status) == ("cancelled", "active")
        lines = s.scalars(select(ArrangementLine).where(ArrangementLine.arrangement_id == new_id)).all()
        # six installments that add up to exactly what was still open
        assert len(lines) == 6 and sum(ln.amount for ln in lines) == covered - Decimal("10.00")
        assert new.arrears_covered == covered - Decimal("10.00")
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "arrangement.change")).one()
        assert "klant verloor inkomen" in event.after and event.case_id == case.id


def test_change_goes_through_the_desk_limits_and_needs_a_reason(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case, old_id = _with_arrangement(ctx)
    version = running(ctx, case.id).version
    too_many = ArrangementInput(down_payment=Decimal("0.00"), first_date=FIRST, frequency=Frequency.MONTHLY, count=13)
    with pytest.raises(BadInput):
        change_arrangement(ctx, old_id, version, too_many, " ")
    with pytest.raises(RuleViolation) as err:
        change_arrangement(ctx, old_id, version, too_many, "reden")
    assert "12" in str(err.value.params) or err.value.field == "count"
    with ctx.db.reader() as s:
        assert s.get(Arrangement, old_id).status == "active"  # nothing half done


def test_a_broken_arrangement_cannot_be_changed(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case, old_id = _with_arrangement(ctx)
    version = running(ctx, case.id).version
    with ctx.db.transaction() as s:
        s.execute(update(Arrangement).where(Arrangement.id == old_id).values(status="broken"))
    with pytest.raises(RuleViolation) as err:
        change_arrangement(
            ctx,
            old_id,
            version,
            ArrangementInput(down_payment=Decimal("0.00"), first_date=FIRST, frequency=Frequency.MONTHLY, count=4),
            "reden",
        )
    assert err.value.params["status"] == "broken"


def test_cancel_resumes_the_procedure(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case, old_id = _with_arrangement(ctx)
    cancel_arrangement(ctx, old_id, running(ctx, case.id).version, "klant wil niet meer")
    with ctx.db.reader() as s:
        assert s.get(Arrangement, old_id).status == "cancelled"
        again = s.get(Case, case.id)
        assert (again.status, again.next_action_date) == ("active", date(2026, 11, 23))
    assert running(ctx, case.id) is None


def test_a_plan_beyond_the_desk_goes_to_a_supervisor_with_four_eyes(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case = _case(ctx, 1)
    beyond = ArrangementInput(down_payment=Decimal("0.00"), first_date=FIRST, frequency=Frequency.MONTHLY, count=24)
    within = ArrangementInput(down_payment=Decimal("0.00"), first_date=FIRST, frequency=Frequency.MONTHLY, count=2)
    with pytest.raises(RuleViolation):  # the desk can do this one itself
        propose_arrangement(ctx, case.id, case.version, within, "reden")
    proposal_id = propose_arrangement(ctx, case.id, case.version, beyond, "kleine ondernemer, seizoen")
    row = next(p for p in proposals(ctx_for("bakker")) if p.id == proposal_id)
    assert row.kind == "arrangement" and row.payload["installments"] == 24 and row.proposed_by == "demo"
    with ctx.db.reader() as s:
        assert s.get(Case, case.id).status == "active"  # nothing registered before the decision
    decide(ctx_for("bakker"), proposal_id, row.version, approve=True)
    with ctx.db.reader() as s:
        arrangement = s.scalars(
            select(Arrangement).where(Arrangement.case_id == case.id, Arrangement.status == "active")
        ).one()
        assert arrangement.installment_count == 24
        assert s.get(Case, case.id).status == "arrangement"


def test_nobody_approves_their_own_arrangement_proposal(ctx_for) -> None:  # type: ignore[no-untyped-def]
    bakker = ctx_for("bakker")
    case = _case(bakker, 2)
    proposal_id = propose_arrangement(
        bakker,
        case.id,
        case.version,
        ArrangementInput(down_payment=Decimal("0.00"), first_date=FIRST, frequency=Frequency.MONTHLY, count=30),
        "reden",
    )
    row = next(p for p in proposals(bakker) if p.id == proposal_id)
    with pytest.raises(FourEyesViolation):
        decide(bakker, proposal_id, row.version, approve=True)
