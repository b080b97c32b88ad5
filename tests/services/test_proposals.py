"""Deferral and call-in proposals: the mandate, four eyes, roles, the watch period, stale data, and applying."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from incasso_tui.domain.enums import ArrearsCause
from incasso_tui.errors import BadInput, FourEyesViolation, MandateExceeded, NotAllowed, RuleViolation, StaleData
from incasso_tui.letters.model import LetterFigures
from incasso_tui.services.proposals import (
    DeferralInput,
    client_position,
    decide,
    preview_deferral,
    proposals,
    propose_call_in,
    propose_deferral_of_repayment,
)
from incasso_tui.store.models import AuditEvent, BkrMutation, Case, Deferral, Installment, Letter, Loan
from tests.budgets import give_budget

TODAY = date(2026, 11, 23)


def _case_with_a_running_loan(
    ctx,
    *,
    max_position: Decimal = Decimal("40000"),
    budget: bool = True,  # type: ignore[no-untyped-def]
    kinds: tuple[str, ...] | None = None,
):
    """An active case whose client has an active loan with at least 8 installments to come, under the mandate; with
    ``budget`` the client's budget is entered first (a deferral is weighed against it); ``kinds``: of a client of
    one of these kinds (``bv``, ``eenmanszaak`` ...)."""
    from incasso_tui.store.models import Client

    with ctx.db.reader() as s:
        rows = s.execute(
            select(Case.id, Case.version, Case.client_id, Loan.id)
            .join(Loan, Loan.client_id == Case.client_id)
            .join(Client, Client.id == Case.client_id)
            .where(
                Case.status == "active",
                Loan.status == "active",
                Client.kind.in_(kinds) if kinds else Client.id.is_not(None),
            )
            .where(
                select(func.count())
                .where(Installment.loan_id == Loan.id, Installment.due_date > TODAY)
                .scalar_subquery()
                >= 8
            )
            .order_by(Case.id)
        ).all()
        for case_id, version, client_id, loan_id in rows:  # noqa: B007 (the case found is used after the loop)
            if client_position(s, client_id, TODAY) <= max_position:
                break
        else:
            raise AssertionError("the test book has no such case")
    if budget:
        give_budget(ctx, client_id)
    return case_id, version, loan_id


def _input(loan_id: int, **changes: object) -> DeferralInput:
    values: dict[str, object] = dict(
        loan_id=loan_id,
        months=3,
        option="extend_term",
        cause=ArrearsCause.SEASONAL_INCOME,
        weighing="Seizoenszaak; in het voorjaar weer omzet.",
        outlook="Herstel na maart",
    )
    values.update(changes)
    return DeferralInput(**values)  # type: ignore[arg-type]


def _version(ctx, case_id: int) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return s.get(Case, case_id).version


def test_a_deferral_proposed_by_the_desk_and_approved_by_risk_rewrites_the_schedule(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo, bakker = ctx_for("demo"), ctx_for("bakker")
    case_id, version, loan_id = _case_with_a_running_loan(demo)
    preview, position, budget = preview_deferral(demo, case_id, _input(loan_id))
    assert budget.budget is not None and budget.capacity is not None and position > 0
    with demo.db.reader() as s:
        term_before = s.get(Loan, loan_id).term_months
    proposal_id = propose_deferral_of_repayment(demo, case_id, version, _input(loan_id))
    (queued,) = [p for p in proposals(bakker) if p.id == proposal_id]
    assert queued.proposed_by == "demo" and queued.payload["months"] == 3 and queued.position == position

    decide(bakker, proposal_id, queued.version, approve=True)

    with demo.db.reader() as s:
        lines = list(
            s.scalars(
                select(Installment)
                .where(Installment.loan_id == loan_id, Installment.due_date > TODAY)
                .order_by(Installment.seq)
            )
        )
        assert [ln.principal for ln in lines[:3]] == [Decimal("0.00")] * 3 and all(ln.interest > 0 for ln in lines[:3])
        assert sum(ln.principal for ln in lines) == preview.balance
        assert s.get(Loan, loan_id).term_months == term_before + 3
        assert s.get(Case, case_id).status == "deferral"
        (deferral,) = s.scalars(select(Deferral).where(Deferral.loan_id == loan_id))
        assert deferral.months == 3 and deferral.option == "extend_term"
        actions = list(
            s.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id))
        )
    # the deferral form's cause became the case's cause (issue 15); the deferral makes the loan forborne (issue 20),
    # in the same transaction as the approval
    assert actions[-4:] == [
        "proposal.deferral.submit",
        "case.cause",
        "forbearance.record",
        "proposal.deferral.approved",
    ]
    (decided,) = proposals(demo, status=None, case_id=case_id)
    assert decided.status == "approved" and decided.decided_by == "bakker"  # the proposer sees the decision


def test_nobody_decides_their_own_proposal(ctx_for) -> None:  # type: ignore[no-untyped-def]
    bakker = ctx_for("bakker")
    case_id, version, loan_id = _case_with_a_running_loan(bakker)
    proposal_id = propose_deferral_of_repayment(bakker, case_id, version, _input(loan_id))
    (row,) = proposals(bakker, case_id=case_id)
    with pytest.raises(FourEyesViolation) as caught:
        decide(bakker, proposal_id, row.version, approve=True)
    assert "four eyes" in str(caught.value)
    assert proposals(bakker, case_id=case_id)[0].status == "submitted"


def test_only_a_supervisor_decides_and_an_auditor_proposes_nothing(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo, jansen, auditor = ctx_for("demo"), ctx_for("jansen"), ctx_for("audit")
    case_id, version, loan_id = _case_with_a_running_loan(demo)
    proposal_id = propose_deferral_of_repayment(demo, case_id, version, _input(loan_id))
    with pytest.raises(NotAllowed):
        decide(jansen, proposal_id, 1, approve=True)
    with pytest.raises(NotAllowed):
        propose_call_in(auditor, case_id, _version(demo, case_id), loan_id, "geen betaling")


def test_above_the_mandate_is_refused(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo", mandate_limit=Decimal("100.00"))
    case_id, version, loan_id = _case_with_a_running_loan(demo)
    with pytest.raises(MandateExceeded) as caught:
        propose_deferral_of_repayment(demo, case_id, version, _input(loan_id))
    assert "special management" in str(caught.value)
    assert proposals(demo, status=None, case_id=case_id) == []


def test_a_second_deferral_waits_for_the_watch_period(ctx_for, clock) -> None:  # type: ignore[no-untyped-def]
    demo, bakker = ctx_for("demo"), ctx_for("bakker")
    case_id, version, loan_id = _case_with_a_running_loan(demo)
    proposal_id = propose_deferral_of_repayment(demo, case_id, version, _input(loan_id))
    decide(bakker, proposal_id, proposals(bakker, case_id=case_id)[0].version, approve=True)
    with pytest.raises(RuleViolation) as caught:
        preview_deferral(demo, case_id, _input(loan_id))
    assert "watch period" in str(caught.value)


def test_the_form_is_checked(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo")
    case_id, version, loan_id = _case_with_a_running_loan(demo)
    with pytest.raises(BadInput) as caught:
        propose_deferral_of_repayment(demo, case_id, version, _input(loan_id, weighing="  "))
    assert caught.value.field == "weighing"
    with pytest.raises(BadInput) as caught:
        propose_deferral_of_repayment(demo, case_id, version, _input(loan_id, months=9))
    assert caught.value.field == "months"
    with pytest.raises(StaleData) as stale:
        propose_deferral_of_repayment(demo, case_id, version - 1, _input(loan_id))
    assert "changed by" in str(stale.value)


def test_one_open_proposal_of_a_kind_per_case_and_a_rejection_needs_a_reason(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo, bakker = ctx_for("demo"), ctx_for("bakker")
    case_id, version, loan_id = _case_with_a_running_loan(demo)
    proposal_id = propose_deferral_of_repayment(demo, case_id, version, _input(loan_id))
    with pytest.raises(RuleViolation):
        propose_deferral_of_repayment(demo, case_id, _version(demo, case_id), _input(loan_id))
    row_version = proposals(bakker, case_id=case_id)[0].version
    with pytest.raises(BadInput):
        decide(bakker, proposal_id, row_version, approve=False)
    decide(bakker, proposal_id, row_version, approve=False, reason="Budget laat geen herstel zien")
    (rejected,) = proposals(demo, status=None, case_id=case_id)
    assert rejected.status == "rejected" and rejected.decision_reason == "Budget laat geen herstel zien"
    with demo.db.reader() as s:
        assert s.get(Case, case_id).status == "active"  # nothing applied


def test_a_call_in_of_a_legal_person_registers_nothing_at_the_bkr_and_the_screen_says_nothing(ctx_for) -> None:  # type: ignore[no-untyped-def]
    """The BKR registers natural persons only (issue 12): a call-in of a bv's loan makes it due, but writes no code 2,
    and the approval queue does not announce one (before this, code 2 was written for every client)."""
    demo, bakker = ctx_for("demo"), ctx_for("bakker")
    case_id, version, loan_id = _case_with_a_running_loan(demo, kinds=("bv",))
    proposal_id = propose_call_in(demo, case_id, version, loan_id, "Geen contact, geen betaling sinds juni")
    (row,) = [r for r in proposals(bakker) if r.id == proposal_id]
    assert row.bkr_code is None
    decide(bakker, proposal_id, row.version, approve=True)
    with demo.db.reader() as s:
        assert s.get(Loan, loan_id).status == "called"
        assert list(s.scalars(select(BkrMutation).where(BkrMutation.loan_id == loan_id))) == []


def test_an_approved_call_in_makes_everything_due_and_reports_bkr_code_2(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo, bakker = ctx_for("demo"), ctx_for("bakker")
    case_id, version, loan_id = _case_with_a_running_loan(demo, kinds=("natural", "eenmanszaak", "vof"))
    proposal_id = propose_call_in(demo, case_id, version, loan_id, "Geen contact, geen betaling sinds juni")
    (row,) = [r for r in proposals(bakker) if r.id == proposal_id]
    assert row.bkr_code == "2"  # the approval screen says it before the approval (issue 13)
    decide(bakker, proposal_id, proposals(bakker, case_id=case_id)[0].version, approve=True)
    with demo.db.reader() as s:
        assert s.get(Loan, loan_id).status == "called"
        assert s.scalar(select(func.count()).where(Installment.loan_id == loan_id, Installment.due_date > TODAY)) == 0
        (mutation,) = s.scalars(select(BkrMutation).where(BkrMutation.loan_id == loan_id))
        (letter,) = s.scalars(select(Letter).where(Letter.case_id == case_id, Letter.kind == "call_in"))
    assert mutation.code == "2" and mutation.mutation_date == TODAY
    figures = LetterFigures.from_json(letter.figures)
    assert letter.status == "pending" and figures.call_in is not None and figures.call_in.total > 0
    assert figures.call_in.pay_by == date(2026, 12, 7)


def test_the_queue_is_for_supervisors_and_auditors_a_cases_proposals_for_the_desk(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo")
    case_id, version, loan_id = _case_with_a_running_loan(demo)
    proposal_id = propose_deferral_of_repayment(demo, case_id, version, _input(loan_id))
    for user in ("demo", "devries", "visser"):
        with pytest.raises(NotAllowed):
            proposals(ctx_for(user))
    assert [p.id for p in proposals(ctx_for("audit"))] == [proposal_id]
    assert [p.id for p in proposals(ctx_for("bakker"))] == [proposal_id]
    assert [p.id for p in proposals(demo, status=None, case_id=case_id)] == [proposal_id]
