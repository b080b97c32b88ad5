"""Budgets as a history, the capacity they give, the cause of the arrears on the case, and the arrangement's
capacity rule (issue 15). The capacity arithmetic itself is tested against hand computations in
tests/unit/test_budget.py; these tests check what the services store, refuse and hand on."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select, text

from incasso_tui.domain.budget import BusinessBudget, Checked, Household, HouseholdBudget
from incasso_tui.domain.enums import ArrearsCause, Frequency
from incasso_tui.errors import BadInput, NotAllowed, RuleViolation
from incasso_tui.services.arrangements import ArrangementInput, create_arrangement
from incasso_tui.services.budget import (
    BudgetInput,
    budgets,
    compute,
    decision_context,
    propose,
    set_budget,
    stale_warning,
    status,
    with_source,
)
from incasso_tui.services.cases import client_detail
from incasso_tui.services.causes import cause_counts
from incasso_tui.store.models import DESK_WHERE, AuditEvent, Case, CaseCause, Client, Contact
from tests.conftest import AS_OF


def _consumer_case(ctx):  # type: ignore[no-untyped-def]
    """An active case of a natural person (consumer) with arrears: a household budget, no business figures."""
    with ctx.db.reader() as s:
        row = s.execute(
            select(Case.id, Case.client_id)
            .join(Client, Client.id == Case.client_id)
            .where(
                Case.status == "active",
                Case.pos_arrears >= D("300"),
                Client.kind == "natural",
                Client.consumer.is_(True),
            )
            .order_by(Case.id)
        ).first()
    assert row is not None
    return row


def _household(**amounts: str) -> HouseholdBudget:
    values = {"salary": "3000.00", "housing": "800.00", "health": "150.00"} | amounts
    return HouseholdBudget(Household.SINGLE, **{k: D(v) for k, v in values.items()})


def test_budgets_are_a_history_and_the_newest_is_current(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    _case_id, client_id = _consumer_case(ctx)
    first = set_budget(ctx, client_id, BudgetInput(AS_OF - timedelta(days=40), Checked.PAYSLIP, _household()))
    second = set_budget(ctx, client_id, BudgetInput(AS_OF, Checked.BANK_STATEMENTS, _household(salary="2500.00")))
    history = budgets(ctx, client_id)
    assert [v.id for v in history] == [second, first]  # newest first, the older one kept
    st = status(ctx, client_id)
    assert st.budget is not None and st.budget.id == second and not st.stale
    # the capacity as of today is the domain's computation of the current figures (tested by hand there)
    assert st.capacity == compute(ctx, _household(salary="2500.00"), None, AS_OF)
    assert st.regular > 0  # the client's loans' next installments
    with ctx.db.reader() as s:
        events = list(
            s.scalars(
                select(AuditEvent).where(AuditEvent.action == "budget.set", AuditEvent.entity_id.in_([first, second]))
            )
        )
    assert len(events) == 2 and json.loads(events[1].after)["household"]["salary"] == "2500.00"


def test_a_budget_older_than_the_setting_is_flagged(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo", budget_max_age_months=3)
    _case_id, client_id = _consumer_case(ctx)
    set_budget(ctx, client_id, BudgetInput(AS_OF - timedelta(days=100), Checked.PAYSLIP, _household()))
    st = status(ctx, client_id)
    assert st.stale and st.age_months == 3
    warning = stale_warning(ctx, st)
    assert warning is not None and warning[0].startswith("The budget of {day} is older than {months} months")


@pytest.mark.parametrize(
    ("given", "field"),
    [
        (BudgetInput(AS_OF, Checked.PAYSLIP, None), "household"),
        (BudgetInput(AS_OF, Checked.PAYSLIP, _household(), BusinessBudget(D("1000.00"))), "revenue"),
        (BudgetInput(AS_OF + timedelta(days=1), Checked.PAYSLIP, _household()), "budget_date"),
        (BudgetInput(AS_OF, Checked.PAYSLIP, _household(salary="1000000.00")), "salary"),
        (
            BudgetInput(AS_OF, Checked.PAYSLIP, HouseholdBudget(Household.COUPLE_CHILDREN, 0, salary=D("2000.00"))),
            "children",
        ),
        (BudgetInput(AS_OF, Checked.PAYSLIP, _household(), source="client"), "checked"),
    ],
)
def test_bad_budgets_are_refused_at_their_field_and_nothing_is_written(ctx_for, given, field) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    _case_id, client_id = _consumer_case(ctx)
    with pytest.raises(BadInput) as err:
        set_budget(ctx, client_id, given)
    assert err.value.field == field
    assert budgets(ctx, client_id) == []


def test_an_auditor_enters_no_budget(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("audit")
    _case_id, client_id = _consumer_case(ctx)
    with pytest.raises(NotAllowed):
        set_budget(ctx, client_id, BudgetInput(AS_OF, Checked.PAYSLIP, _household()))


def test_a_self_declared_budget_from_the_client_is_kept_as_such(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    _case_id, client_id = _consumer_case(ctx)
    set_budget(ctx, client_id, with_source(BudgetInput(AS_OF, Checked.PAYSLIP, _household()), "client"))
    (view,) = budgets(ctx, client_id)
    assert (view.source, view.checked) == ("client", "self_declared")


def test_the_budgets_cause_becomes_the_cases_cause_with_its_history(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id, client_id = _consumer_case(ctx)
    set_budget(ctx, client_id, BudgetInput(AS_OF, Checked.PAYSLIP, _household(), cause=ArrearsCause.ILLNESS))
    set_budget(ctx, client_id, BudgetInput(AS_OF, Checked.PAYSLIP, _household(), cause=ArrearsCause.ILLNESS))
    with ctx.db.reader() as s:
        assert s.get(Case, case_id).cause == "illness"
        rows = list(s.scalars(select(CaseCause).where(CaseCause.case_id == case_id).order_by(CaseCause.id)))
    assert rows[-1].cause == "illness" and rows[-1].source == "budget"
    assert [r.source for r in rows].count("budget") == 1  # the same cause again adds no history
    assert client_detail(ctx, case_id).case.cause == "illness"
    assert decision_context(ctx, case_id).cause == "illness"


def test_a_generated_book_carries_the_cause_logged_on_its_newest_contact(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    with ctx.db.reader() as s:
        cases = list(s.execute(select(Case.id, Case.cause).where(Case.cause.is_not(None))).all())
        assert cases
        for case_id, cause in cases[:50]:
            newest = s.scalars(
                select(Contact.cause)
                .where(Contact.case_id == case_id, Contact.cause.is_not(None))
                .order_by(Contact.at.desc(), Contact.id.desc())
                .limit(1)
            ).first()
            assert newest == cause
        desk = s.scalar(select(func.count()).select_from(Case).where(text(DESK_WHERE)))
    counts = cause_counts(ctx_for("bakker"))
    assert sum(counts.values()) == desk and counts["unknown"] < desk


def _plan_case(ctx):  # type: ignore[no-untyped-def]
    case_id, client_id = _consumer_case(ctx)
    detail = client_detail(ctx, case_id)
    return case_id, client_id, detail


def test_a_plan_above_the_capacity_needs_a_reason(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id, client_id, detail = _plan_case(ctx)
    # income 1.500: the protected part takes nearly all of it, so any plan is above the capacity
    set_budget(ctx, client_id, BudgetInput(AS_OF, Checked.BANK_STATEMENTS, _household(salary="1500.00")))
    given = ArrangementInput(
        down_payment=D("0.00"), first_date=AS_OF + timedelta(days=7), frequency=Frequency.MONTHLY, count=2
    )
    with pytest.raises(BadInput) as err:
        create_arrangement(ctx, case_id, detail.case.version, given)
    assert err.value.field == "capacity_reason"
    arrangement_id = create_arrangement(
        ctx, case_id, detail.case.version, ArrangementInput(**{**given.__dict__, "capacity_reason": "Bonus in januari"})
    )
    with ctx.db.reader() as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.entity == "arrangement", AuditEvent.entity_id == arrangement_id)
        ).one()
    capacity = json.loads(event.after)["capacity"]
    assert capacity["above_capacity_reason"] == "Bonus in januari" and D(capacity["needed"]) > D(capacity["capacity"])


def test_the_desk_can_refuse_plans_above_the_capacity(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo", arrangement_above_capacity="refuse")
    case_id, client_id, detail = _plan_case(ctx)
    set_budget(ctx, client_id, BudgetInput(AS_OF, Checked.BANK_STATEMENTS, _household(salary="1500.00")))
    given = ArrangementInput(
        down_payment=D("0.00"),
        first_date=AS_OF + timedelta(days=7),
        frequency=Frequency.MONTHLY,
        count=2,
        capacity_reason="toch",
    )
    with pytest.raises(RuleViolation):
        create_arrangement(ctx, case_id, detail.case.version, given)


def test_a_proposed_plan_fits_and_is_accepted_without_a_reason(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id, client_id, detail = _plan_case(ctx)
    set_budget(ctx, client_id, BudgetInput(AS_OF, Checked.BANK_STATEMENTS, _household(salary="4000.00")))
    st = status(ctx, client_id)
    proposal = propose(ctx, st, detail.arrears.total, D("0.00"))
    assert proposal.installment + st.regular <= st.capacity.capacity  # type: ignore[union-attr]
    create_arrangement(
        ctx,
        case_id,
        detail.case.version,
        ArrangementInput(
            down_payment=D("0.00"),
            first_date=AS_OF + timedelta(days=7),
            frequency=Frequency.MONTHLY,
            count=proposal.count,
        ),
    )


def test_no_plan_is_proposed_without_room(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    _case_id, client_id, detail = _plan_case(ctx)
    set_budget(ctx, client_id, BudgetInput(AS_OF, Checked.BANK_STATEMENTS, _household(salary="1500.00")))
    with pytest.raises(RuleViolation) as err:
        propose(ctx, status(ctx, client_id), detail.arrears.total, D("0.00"))
    assert "No room" in str(err.value)


def test_without_norms_for_today_the_status_says_which_file(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from incasso_tui.clock import FixedClock
    from incasso_tui.services.context import Context

    ctx = ctx_for("demo")
    _case_id, client_id = _consumer_case(ctx)
    set_budget(ctx, client_id, BudgetInput(AS_OF, Checked.PAYSLIP, _household()))
    later = Context(db=ctx.db, actor=ctx.actor, clock=FixedClock(datetime(2027, 1, 4, 9)), settings=ctx.settings)
    st = status(later, client_id)
    assert st.capacity is None and st.error is not None
    assert str(st.error).startswith("No norm for 2027-01: add it to ") and str(st.error).endswith("budget_norms.toml")


def test_the_cause_logged_on_a_call_is_carried_to_the_case(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.domain.enums import Channel, ContactOutcome
    from incasso_tui.services.contacts import ContactInput, log_contact

    ctx = ctx_for("demo")
    case_id, _client_id = _consumer_case(ctx)
    detail = client_detail(ctx, case_id)
    new = next(c for c in ArrearsCause if c.value != detail.case.cause)
    log_contact(
        ctx,
        case_id,
        detail.case.version,
        ContactInput(Channel.PHONE, ContactOutcome.REACHED, "gebeld", AS_OF + timedelta(days=3), cause=new),
    )
    with ctx.db.reader() as s:
        newest = s.scalars(select(CaseCause).where(CaseCause.case_id == case_id).order_by(CaseCause.id.desc())).first()
    assert client_detail(ctx, case_id).case.cause == new.value
    assert newest is not None and (newest.cause, newest.source, newest.set_by) == (new.value, "contact", "demo")
