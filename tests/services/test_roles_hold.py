"""Roles, identities and case states that hold in the services (issue 16)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from incasso_tui.errors import MandateExceeded, NotAllowed
from incasso_tui.services.contacts import add_note
from incasso_tui.services.proposals import proposals, propose_call_in, propose_write_off
from incasso_tui.services.users import disable_user
from incasso_tui.store.models import AuditEvent, Note, Proposal
from tests.services.test_proposals import _case_with_a_running_loan


@pytest.mark.parametrize("kind", ["call_in", "write_off"])
def test_proposals_above_the_mandate_are_refused_when_proposed(ctx_for, kind: str) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo", mandate_limit=Decimal("100.00"))
    case_id, version, loan_id = _case_with_a_running_loan(demo)
    with pytest.raises(MandateExceeded, match="special management"):
        if kind == "call_in":
            propose_call_in(demo, case_id, version, loan_id, "geen betaling ondanks aanmaningen")
        else:
            propose_write_off(demo, case_id, version, loan_id, Decimal("10.00"), "oninbaar")
    assert proposals(demo, status=None, case_id=case_id) == []  # nothing waits for an approval that cannot come


def test_a_disabled_users_running_session_cannot_write(ctx_for, clock) -> None:  # type: ignore[no-untyped-def]
    """The session (TUI or SSH) resolved its user at login; disabling the user afterwards stops its next write."""
    demo = ctx_for("demo")
    case_id, _version, _loan = _case_with_a_running_loan(demo)
    add_note(demo, case_id, "voor het uitschakelen")  # the session works...
    disable_user(demo.db, clock, "cli:admin", "demo")
    with demo.db.reader() as s:
        notes = s.scalar(select(func.count()).select_from(Note).where(Note.case_id == case_id))
        events = s.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(NotAllowed, match="disabled"):
        add_note(demo, case_id, "na het uitschakelen")  # ...and its next write is refused, in the same transaction
    with pytest.raises(NotAllowed, match="disabled"):
        propose_call_in(demo, case_id, _version, _loan, "x")
    with demo.db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Note).where(Note.case_id == case_id)) == notes
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == events
        assert s.scalar(select(func.count()).select_from(Proposal).where(Proposal.case_id == case_id)) == 0


def _case_for_arrangement_and_deferral(ctx):  # type: ignore[no-untyped-def]
    """An active case in arrears whose client has an active loan with at least 8 installments to come."""
    from datetime import date

    from incasso_tui.services.proposals import client_position
    from incasso_tui.store.models import Case, Installment, Loan

    today = date(2026, 11, 23)
    with ctx.db.reader() as s:
        rows = s.execute(
            select(Case.id, Case.client_id, Loan.id)
            .join(Loan, Loan.client_id == Case.client_id)
            .where(Case.status == "active", Case.pos_arrears >= 300, Loan.status == "active")
            .where(
                select(func.count())
                .where(Installment.loan_id == Loan.id, Installment.due_date > today)
                .scalar_subquery()
                >= 8
            )
            .order_by(Case.id)
        ).all()
        for case_id, client_id, loan_id in rows:
            if client_position(s, client_id, today) <= Decimal("40000"):
                return case_id, loan_id
    raise AssertionError("the test book has no such case")


def _version(ctx, case_id):  # type: ignore[no-untyped-def]
    from incasso_tui.store.models import Case

    with ctx.db.reader() as s:
        return s.get(Case, case_id).version


def test_an_approved_deferral_ends_the_arrangement_and_nothing_overrides_it(ctx_for, clock) -> None:  # type: ignore[no-untyped-def]
    """The red team's path: a deferral approved while an arrangement runs; a line of the arrangement is missed; the
    monitor set the case back to active and the next daily run sent a demand letter with costs during the deferral."""
    from datetime import timedelta

    from incasso_tui.domain.enums import Frequency
    from incasso_tui.errors import RuleViolation
    from incasso_tui.services.arrangements import ArrangementInput, create_arrangement
    from incasso_tui.services.payments import monitor
    from incasso_tui.services.procedure import run_procedure
    from incasso_tui.services.proposals import decide, propose_deferral_of_repayment
    from incasso_tui.store.models import Arrangement, Case, Charge, Letter
    from tests.budgets import give_budget
    from tests.services.test_proposals import _input

    demo, bakker = ctx_for("demo"), ctx_for("bakker")
    today = clock.today()
    case_id, loan_id = _case_for_arrangement_and_deferral(demo)
    with demo.db.reader() as s:
        give_budget(demo, s.get(Case, case_id).client_id)  # a deferral is weighed against the budget (issue 15)
    arrangement_id = create_arrangement(
        demo,
        case_id,
        _version(demo, case_id),
        ArrangementInput(
            down_payment=Decimal("0"), first_date=today + timedelta(days=7), frequency=Frequency.MONTHLY, count=4
        ),
    )
    proposal_id = propose_deferral_of_repayment(demo, case_id, _version(demo, case_id), _input(loan_id))
    decide(bakker, proposal_id, proposals(bakker, case_id=case_id)[0].version, approve=True)
    with demo.db.reader() as s:
        assert s.get(Arrangement, arrangement_id).status == "cancelled"  # ended by the approval
        assert s.get(Case, case_id).status == "deferral"
        assert (
            s.scalar(
                select(AuditEvent.after).where(
                    AuditEvent.action == "arrangement.cancelled", AuditEvent.entity_id == arrangement_id
                )
            )
            is not None
        )
    with pytest.raises(RuleViolation, match="deferral"):  # and no new arrangement while the deferral runs
        create_arrangement(
            demo,
            case_id,
            _version(demo, case_id),
            ArrangementInput(
                down_payment=Decimal("0"), first_date=today + timedelta(days=7), frequency=Frequency.MONTHLY, count=4
            ),
        )

    # both left active (as before this fix, or by hand): the missed line no longer ends the deferral
    with demo.db.transaction() as s:
        s.get(Arrangement, arrangement_id).status = "active"
        letters_before = s.scalar(select(func.count()).select_from(Letter).where(Letter.case_id == case_id))
        loans = [loan_id]
        charges_before = s.scalar(select(func.count()).select_from(Charge).where(Charge.loan_id.in_(loans)))
    missed = today + timedelta(days=7 + demo.settings.payment_grace_days + 1)
    report = monitor(bakker, missed)
    assert report.arrangements_broken >= 1
    with demo.db.reader() as s:
        assert s.get(Arrangement, arrangement_id).status == "broken"
        assert s.get(Case, case_id).status == "deferral"  # not set back to active
    for day in (missed, missed + timedelta(days=20)):
        run_procedure(bakker, day)
    with demo.db.reader() as s:
        assert s.get(Case, case_id).status == "deferral"
        assert s.scalar(select(func.count()).select_from(Letter).where(Letter.case_id == case_id)) == letters_before
        assert s.scalar(select(func.count()).select_from(Charge).where(Charge.loan_id.in_(loans))) == charges_before
