"""Registering payment arrangements: the desk limits, the audit event, stale data, roles."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from incasso_tui.domain.enums import Frequency
from incasso_tui.errors import NotAllowed, RuleViolation, StaleData
from incasso_tui.services.arrangements import ArrangementInput, create_arrangement
from incasso_tui.services.cases import client_detail
from incasso_tui.store.models import Arrangement, ArrangementLine, AuditEvent, Case
from tests.conftest import AS_OF


def _open_case(ctx, status="active", min_arrears=Decimal("300")):  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        case = s.scalars(
            select(Case).where(Case.status == status, Case.pos_arrears >= min_arrears).order_by(Case.id)
        ).first()
    assert case is not None, f"the test book has no {status} case with arrears >= {min_arrears}"
    return case


def test_a_valid_arrangement_is_saved_with_its_audit_event(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case = _open_case(ctx)
    detail = client_detail(ctx, case.id)
    arrears = detail.arrears.total
    given = ArrangementInput(
        down_payment=Decimal("50.00"), first_date=AS_OF + timedelta(days=7), frequency=Frequency.MONTHLY, count=4
    )
    arrangement_id = create_arrangement(ctx, case.id, detail.case.version, given)
    with ctx.db.reader() as s:
        arrangement = s.get(Arrangement, arrangement_id)
        lines = list(s.scalars(select(ArrangementLine).where(ArrangementLine.arrangement_id == arrangement_id)))
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.entity == "arrangement", AuditEvent.entity_id == arrangement_id)
        ).one()
        saved_case = s.get(Case, case.id)
    assert arrangement.arrears_covered == arrears
    assert sum(line.amount for line in lines) == arrears
    assert [line.seq for line in sorted(lines, key=lambda line: line.seq)] == [0, 1, 2, 3, 4]
    assert saved_case.status == "arrangement" and saved_case.version == detail.case.version + 1
    assert event.actor == "demo" and event.case_id == case.id
    assert json.loads(event.after)["installments"] == 4
    shown = client_detail(ctx, case.id)
    assert shown.case.status == "arrangement" and shown.active_arrangement is not None


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (dict(count=13), "at most 12"),
        (dict(installment=Decimal("1.00")), "at most 12"),
        (dict(count=1, down_payment=Decimal("-1")), "negative"),
        (dict(count=2, first_date=AS_OF - timedelta(days=1)), "past"),
        (dict(count=None), "either"),
    ],
)
def test_the_desk_limits_refuse_with_a_reason(ctx_for, given, message) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case = _open_case(ctx)
    base = dict(down_payment=Decimal("0"), first_date=AS_OF + timedelta(days=3), frequency=Frequency.MONTHLY)
    with pytest.raises(RuleViolation, match=message):
        create_arrangement(ctx, case.id, case.version, ArrangementInput(**{**base, **given}))
    with ctx.db.reader() as s:
        assert (
            s.scalars(select(Arrangement).where(Arrangement.case_id == case.id, Arrangement.status == "active")).first()
            is None
        )


def test_minimum_installment_is_a_setting(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo", arrangement_min_installment=Decimal("100000"))
    case = _open_case(ctx)
    given = ArrangementInput(down_payment=Decimal("0"), first_date=AS_OF, frequency=Frequency.WEEKLY, count=2)
    with pytest.raises(RuleViolation, match="at least"):
        create_arrangement(ctx, case.id, case.version, given)


def test_stale_version_is_refused_and_names_who_changed_it(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case = _open_case(ctx)
    with ctx.db.transaction() as s:
        s.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(version=Case.version + 1, updated_by="jansen", updated_at=ctx.clock.now())
        )
    given = ArrangementInput(down_payment=Decimal("0"), first_date=AS_OF, frequency=Frequency.MONTHLY, count=3)
    with pytest.raises(StaleData, match="jansen"):
        create_arrangement(ctx, case.id, case.version, given)


def test_two_arrangements_on_one_case_are_refused(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case = _open_case(ctx)
    given = ArrangementInput(down_payment=Decimal("0"), first_date=AS_OF, frequency=Frequency.MONTHLY, count=3)
    create_arrangement(ctx, case.id, case.version, given)
    with pytest.raises(RuleViolation, match="already has an active arrangement"):
        create_arrangement(ctx_for("jansen"), case.id, case.version + 1, given)


def test_roles_that_may_not_arrange(ctx_for) -> None:  # type: ignore[no-untyped-def]
    case = _open_case(ctx_for())
    given = ArrangementInput(down_payment=Decimal("0"), first_date=AS_OF, frequency=Frequency.MONTHLY, count=3)
    for user in ("audit", "visser", "admin"):
        with pytest.raises(NotAllowed):
            create_arrangement(ctx_for(user), case.id, case.version, given)


def test_handed_over_and_insolvency_cases_get_no_arrangement(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    given = ArrangementInput(down_payment=Decimal("0"), first_date=AS_OF, frequency=Frequency.MONTHLY, count=3)
    for status, message in (("handed_over", "special management"), ("insolvency", "insolvency")):
        case = _open_case(ctx, status=status, min_arrears=Decimal("0"))
        with pytest.raises(RuleViolation, match=message):
            create_arrangement(ctx, case.id, case.version, given)


def test_client_detail_splits_the_arrears(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case = _open_case(ctx)
    detail = client_detail(ctx, case.id)
    a = detail.arrears
    assert a.total == a.costs + a.interest + a.principal == case.pos_arrears
    assert a.days_past_due == (AS_OF - case.pos_oldest_due).days
    assert detail.loans and detail.schedule
    assert any(row.state == "past_due" for row in detail.schedule)
