"""Incoming payments: import, idempotency, matching order, 6:44 allocation, reversals, the queue, monitoring,
write-off with four eyes and recoveries. On both backends (the ``db`` fixture)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from incasso_tui.clock import FixedClock
from incasso_tui.domain.enums import Frequency
from incasso_tui.domain.references import make_betalingskenmerk, make_rf
from incasso_tui.errors import BadFile, FourEyesViolation, RuleViolation
from incasso_tui.services import payments
from incasso_tui.services.arrangements import ArrangementInput, create_arrangement
from incasso_tui.services.audit import case_timeline
from incasso_tui.services.proposals import decide, proposals, propose_write_off, write_off_balance
from incasso_tui.store.models import (
    Allocation,
    Arrangement,
    AuditEvent,
    BankEntryRow,
    BkrMutation,
    Case,
    Charge,
    Client,
    Installment,
    LedgerEntry,
    LedgerLink,
    Loan,
    Promise,
)
from tests.payment_files import Tx, camt053

TODAY = date(2026, 11, 23)


def _one_loan_case(ctx, *, with_costs: bool = False, skip: int = 0):  # type: ignore[no-untyped-def]
    """An active case with arrears whose client has exactly one loan (and a known IBAN)."""
    with ctx.db.reader() as s:
        one_loan = select(Loan.client_id).group_by(Loan.client_id).having(func.count() == 1).scalar_subquery()
        query = (
            select(Case.id, Loan.id, Loan.number, Client.number, Client.iban)
            .join(Client, Client.id == Case.client_id)
            .join(Loan, Loan.client_id == Client.id)
            .where(
                Case.status == "active",
                Case.pos_arrears > 0,
                Client.id.in_(one_loan),
                Client.iban.is_not(None),
                Loan.status == "active",
            )
            .order_by(Case.id)
        )
        if with_costs:
            query = query.where(
                select(func.count()).where(Charge.loan_id == Loan.id, Charge.paid < Charge.amount).scalar_subquery() > 0
            )
        rows = s.execute(query).all()
    return rows[skip]


def _arrears(ctx, case_id: int) -> Decimal:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return s.get(Case, case_id).pos_arrears


def _count(ctx, model) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return s.scalar(select(func.count()).select_from(model))


def _events_after(ctx, last_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The actions of the audit events written after event ``last_id``."""
    with ctx.db.reader() as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.id > last_id).order_by(AuditEvent.id)))


def _entries(ctx) -> list[BankEntryRow]:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return list(s.scalars(select(BankEntryRow).order_by(BankEntryRow.id)))


def test_import_matches_in_order_books_and_a_reimport_books_nothing(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_a, loan_a, number_a, _client_a, iban_a = _one_loan_case(ctx)
    case_b, loan_b, number_b, client_b, _iban_b = _one_loan_case(ctx, skip=1)
    before_a, before_b = _arrears(ctx, case_a), _arrears(ctx, case_b)
    ledger_before = _count(ctx, LedgerEntry)
    with ctx.db.reader() as s_:  # the generated history has payment events of its own (issue 13): count only ours
        events_before = s_.scalar(select(func.max(AuditEvent.id))) or 0
    data = camt053(
        [
            # RF names loan A, the text names loan B: the structured reference wins
            Tx("10.00", text=f"termijn {number_b}", reference=make_rf("INC" + number_a[1:]), bank_ref="R1"),
            Tx("11.00", reference=make_betalingskenmerk(number_a[1:]), bank_ref="R2"),
            Tx("12.00", reference=make_betalingskenmerk(client_b[1:]), bank_ref="R3"),  # the letters' reference
            Tx("13.00", text=f"Aflossing {number_b[:1]} {number_b[1:]}", bank_ref="R4"),
            Tx("14.00", iban=iban_a, text="betaling", bank_ref="R5"),
            Tx("15.00", iban="NL02ABNA0123456789", text="geen idee", bank_ref="R6"),  # nobody's
            Tx("99.00", credit=False, text="huur kantoor", bank_ref="R7"),  # our own debit
        ]
    )
    report = payments.import_statement(ctx, data, "stmt.xml")
    assert report.counts() == {"entries": 7, "new": 7, "duplicates": 0, "matched": 5, "unmatched": 1}
    rows = _entries(ctx)
    assert [(r.status, r.match_reason, r.loan_id) for r in rows] == [
        ("matched", "rf", loan_a),
        ("matched", "kenmerk_loan", loan_a),
        ("matched", "kenmerk_client", loan_b),
        ("matched", "loan_number", loan_b),
        ("matched", "iban", loan_a),
        ("unmatched", None, None),
        ("not_payment", None, None),
    ]
    assert _count(ctx, LedgerEntry) == ledger_before + 5
    assert _arrears(ctx, case_a) == before_a - Decimal("35.00")
    assert _arrears(ctx, case_b) == before_b - Decimal("25.00")
    with ctx.db.reader() as s:
        booked = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "payment.book", AuditEvent.id > events_before)
        ).all()
        assert len(booked) == 5
    again = payments.import_statement(ctx, data, "stmt.xml")
    assert again.counts() == {"entries": 7, "new": 0, "duplicates": 7, "matched": 0, "unmatched": 0}
    assert _count(ctx, LedgerEntry) == ledger_before + 5
    assert _arrears(ctx, case_a) == before_a - Decimal("35.00")


def test_allocation_follows_6_44_and_an_overpayment_stays_as_credit(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id, loan_id, number, _c, _i = _one_loan_case(ctx, with_costs=True)
    day = date(2026, 11, 20)
    with ctx.db.reader() as s:
        costs = s.scalar(
            select(func.sum(Charge.amount - Charge.paid)).where(Charge.loan_id == loan_id, Charge.due_date <= day)
        )
        open_lines = s.scalars(
            select(Installment).where(Installment.loan_id == loan_id, Installment.due_date <= day)
        ).all()
        interest = sum((ln.interest - ln.interest_paid for ln in open_lines), Decimal("0"))
        principal = sum((ln.principal - ln.principal_paid for ln in open_lines), Decimal("0"))
    due = Decimal(costs) / 100 + interest + principal  # the raw sum of Money columns is cents
    payments.import_statement(ctx, camt053([Tx(str(due + Decimal("5.00")), text=number, bank_ref="OVER")]))
    with ctx.db.reader() as s:
        ledger = s.scalar(
            select(LedgerEntry)
            .where(LedgerEntry.kind == "payment", LedgerEntry.loan_id == loan_id)
            .order_by(LedgerEntry.id.desc())
            .limit(1)
        )
        assert ledger.credit == Decimal("5.00")
        parts = s.scalars(select(Allocation).where(Allocation.ledger_id == ledger.id).order_by(Allocation.id)).all()
        order = [p.component for p in parts]
        assert order == sorted(
            order, key=["costs", "interest", "principal"].index
        )  # costs, then interest, then principal
        assert sum(p.amount for p in parts if p.component == "costs") == Decimal(costs) / 100
        assert (
            s.scalar(
                select(func.count())
                .select_from(Charge)
                .where(Charge.loan_id == loan_id, Charge.due_date <= day, Charge.paid < Charge.amount)
            )
            == 0
        )
    assert _arrears(ctx, case_id) == Decimal("0.00")


def test_a_partial_payment_pays_the_oldest_interest_first(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    _case, loan_id, number, _c, _i = _one_loan_case(ctx, skip=2)
    with ctx.db.reader() as s:
        lines = s.scalars(
            select(Installment)
            .where(
                Installment.loan_id == loan_id,
                Installment.due_date <= date(2026, 11, 20),
                Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest,
            )
            .order_by(Installment.due_date)
        ).all()
        assert (
            s.scalar(
                select(func.count()).select_from(Charge).where(Charge.loan_id == loan_id, Charge.paid < Charge.amount)
            )
            == 0
        )
    oldest = lines[0]
    assert oldest.interest - oldest.interest_paid > Decimal("0.01")
    payments.import_statement(ctx, camt053([Tx("0.01", text=number, bank_ref="CENT")]))
    with ctx.db.reader() as s:
        line = s.get(Installment, (loan_id, oldest.seq))
        assert line.interest_paid == oldest.interest_paid + Decimal("0.01")
        assert line.principal_paid == oldest.principal_paid


def test_a_reversal_undoes_the_booking_and_its_allocation(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id, loan_id, number, _c, _i = _one_loan_case(ctx)
    before = _arrears(ctx, case_id)
    with ctx.db.reader() as s:
        paid_before = s.scalar(
            select(func.sum(Installment.principal_paid + Installment.interest_paid)).where(
                Installment.loan_id == loan_id
            )
        )
    payments.import_statement(ctx, camt053([Tx("40.00", text=number, e2e="SDD-1", bank_ref="P1")]))
    assert _arrears(ctx, case_id) == before - Decimal("40.00")
    report = payments.import_statement(
        ctx,
        camt053(
            [
                Tx(
                    "40.00",
                    credit=False,
                    reversal=True,
                    return_reason="MD06",
                    e2e="SDD-1",
                    bank_ref="P2",
                    day=date(2026, 11, 21),
                )
            ],
            "S2",
        ),
    )
    assert report.reversals == 1
    assert _arrears(ctx, case_id) == before
    rows = _entries(ctx)
    assert [r.status for r in rows] == ["reversed", "reversal"]
    assert rows[1].reverses_id == rows[0].id
    with ctx.db.reader() as s:
        assert (
            s.scalar(
                select(func.sum(Installment.principal_paid + Installment.interest_paid)).where(
                    Installment.loan_id == loan_id
                )
            )
            == paid_before
        )
        link = s.scalar(select(LedgerLink).where(LedgerLink.ledger_id == rows[1].ledger_id))
        assert link.reverses_ledger_id == rows[0].ledger_id


def test_a_reversal_in_the_same_file_and_a_batch_split(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id, _loan_id, number, _c, _i = _one_loan_case(ctx)
    before = _arrears(ctx, case_id)
    report = payments.import_statement(
        ctx,
        camt053(
            [
                [Tx("20.00", text=number, e2e="B-1"), Tx("30.00", text=number, e2e="B-2")],  # one batch, two payments
                Tx("20.00", credit=False, reversal=True, e2e="B-1", bank_ref="RV"),
            ]
        ),
    )
    assert (report.matched, report.reversals) == (2, 1)
    assert _arrears(ctx, case_id) == before - Decimal("30.00")
    assert [r.status for r in _entries(ctx)] == ["reversed", "matched", "reversal"]


def test_a_file_with_a_bad_entry_is_refused_whole(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    _case, _loan, number, _c, _i = _one_loan_case(ctx)
    good = camt053([Tx("10.00", text=number, bank_ref="G1"), Tx("10.00", text=number, bank_ref="G2")])
    bad = good.replace(b'<Amt Ccy="EUR">10.00</Amt></TxAmt>', b'<Amt Ccy="EUR">10.001</Amt></TxAmt>', 1)
    ledger_before = _count(ctx, LedgerEntry)
    with ctx.db.reader() as s_:  # the generated history has payment events of its own (issue 13): count only ours
        events_before = s_.scalar(select(func.max(AuditEvent.id))) or 0
    with pytest.raises(BadFile) as err:
        payments.import_statement(ctx, bad, "bad.xml")
    assert "Ntry[1]" in str(err.value)
    assert _count(ctx, BankEntryRow) == 0
    assert _count(ctx, LedgerEntry) == ledger_before
    assert _events_after(ctx, events_before) == []


def test_a_failure_while_booking_leaves_nothing(ctx_for, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The whole file is one transaction: an error after half the entries were written rolls all of it back."""
    ctx = ctx_for("demo")
    _case, _loan, number, _c, _i = _one_loan_case(ctx)
    ledger_before = _count(ctx, LedgerEntry)
    with ctx.db.reader() as s_:  # the generated history has payment events of its own (issue 13): count only ours
        events_before = s_.scalar(select(func.max(AuditEvent.id))) or 0

    def boom(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the machine died")

    monkeypatch.setattr(payments.importing, "refresh_cases", boom)  # runs after the ledger and entry rows were written
    with pytest.raises(RuntimeError):
        payments.import_statement(ctx, camt053([Tx("10.00", text=number, bank_ref="K1")]))
    assert (_count(ctx, BankEntryRow), _count(ctx, LedgerEntry)) == (0, ledger_before)
    assert _events_after(ctx, events_before) == []


def test_the_queue_assign_and_not_ours(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id, loan_id, number, _c, _i = _one_loan_case(ctx)
    before = _arrears(ctx, case_id)
    payments.import_statement(
        ctx,
        camt053(
            [
                Tx("25.00", iban=None, text="voor mijn lening", bank_ref="Q1"),
                Tx("7.00", iban=None, text="?", bank_ref="Q2"),
            ]
        ),
    )
    queued = payments.queue(ctx)
    assert [q.amount for q in queued] == [Decimal("25.00"), Decimal("7.00")]
    payments.assign(ctx, queued[0].id, number.lower())
    payments.mark_not_ours(ctx, queued[1].id, "terugstorten")
    assert payments.queue(ctx) == []
    assert _arrears(ctx, case_id) == before - Decimal("25.00")
    rows = _entries(ctx)
    assert [(r.status, r.match_reason, r.loan_id, r.assigned_by) for r in rows] == [
        ("matched", "manual", loan_id, "demo"),
        ("not_ours", None, None, "demo"),
    ]
    with pytest.raises(RuleViolation):
        payments.assign(ctx, rows[1].id, number)
    with ctx.db.reader() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.entity == "bank_entry")).all()
    assert actions == ["payment.assign", "payment.not_ours"]


def _add_promise(ctx, case_id: int, due: date, amount: str) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.transaction() as s:
        s.execute(Promise.__table__.update().where(Promise.case_id == case_id).values(status="kept"))
        p = Promise(case_id=case_id, contact_id=None, due_date=due, amount=Decimal(amount), status="open")
        s.add(p)
        s.flush()
        return p.id


def test_monitor_keeps_and_breaks_promises(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    kept_case, _l, kept_loan, _c, _i = _one_loan_case(ctx)
    broken_case = _one_loan_case(ctx, skip=1)[0]
    with ctx.db.reader() as s:
        opened = s.get(Case, kept_case).opened_on
    kept = _add_promise(ctx, kept_case, date(2026, 11, 25), "50.00")
    broken = _add_promise(ctx, broken_case, date(2026, 11, 10), "50.00")
    payments.import_statement(
        ctx, camt053([Tx("50.00", text=kept_loan, bank_ref="PR", day=max(opened, date(2026, 11, 20)))])
    )
    report = payments.monitor(ctx, TODAY)
    assert report.promises_kept >= 1 and report.promises_broken >= 1
    with ctx.db.reader() as s:
        assert (s.get(Promise, kept).status, s.get(Promise, broken).status) == ("kept", "broken")
        case = s.get(Case, broken_case)
        assert (case.flag, case.next_action_date) == ("broken_promise", TODAY)
        assert s.get(Case, kept_case).flag != "broken_promise"


def test_monitor_grace_days_hold_off_a_broken_promise(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo", payment_grace_days=5)
    case_id = _one_loan_case(ctx)[0]
    promise = _add_promise(ctx, case_id, date(2026, 11, 20), "50.00")
    payments.monitor(ctx, TODAY)  # 3 days late, 5 days grace: still open
    with ctx.db.reader() as s:
        assert s.get(Promise, promise).status == "open"
    payments.monitor(ctx, TODAY + timedelta(days=3))
    with ctx.db.reader() as s:
        assert s.get(Promise, promise).status == "broken"


def _arrangement(ctx, case_id: int) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        version = s.get(Case, case_id).version
    return create_arrangement(
        ctx,
        case_id,
        version,
        ArrangementInput(
            down_payment=Decimal("0.00"), first_date=date(2026, 12, 1), frequency=Frequency.MONTHLY, count=2
        ),
    )


def test_an_arrangement_paid_in_full_closes_the_case_with_bkr_h(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id, loan_id, number, client_no, _i = _one_loan_case(ctx)
    arrangement_id = _arrangement(ctx, case_id)
    with ctx.db.transaction() as s:
        client_id = s.get(Case, case_id).client_id
        s.add(
            BkrMutation(
                loan_id=loan_id,
                client_id=client_id,
                code="A",
                mutation_date=date(2026, 10, 1),
                amount=Decimal("100.00"),
                created_by="test",
                created_at=datetime(2026, 10, 1, 9),
            )
        )
        total = s.get(Arrangement, arrangement_id).arrears_covered
    payments.import_statement(
        ctx, camt053([Tx(str(total), reference=make_betalingskenmerk(client_no[1:]), bank_ref="ALL", day=TODAY)])
    )
    report = payments.monitor(ctx, TODAY)
    assert (report.arrangements_kept, report.cases_closed) >= (1, 1)
    with ctx.db.reader() as s:
        assert s.get(Arrangement, arrangement_id).status == "kept"
        case = s.get(Case, case_id)
        assert (case.status, case.closed_on) == ("closed", TODAY)
        codes = s.scalars(select(BkrMutation.code).where(BkrMutation.loan_id == loan_id).order_by(BkrMutation.id)).all()
        assert codes[-2:] == ["A", "H"]


def test_a_kept_arrangement_leaves_the_a_while_a_later_line_is_still_open(ctx_for) -> None:  # type: ignore[no-untyped-def]
    """Code H means the arrears is cleared: an instalment that fell due during the arrangement and is unpaid keeps
    the A (the same guard as the daily run's H, which writes it once that line is paid)."""
    ctx = ctx_for("demo")
    case_id, loan_id, _number, client_no, _i = _one_loan_case(ctx)
    arrangement_id = _arrangement(ctx, case_id)
    with ctx.db.transaction() as s:
        client_id = s.get(Case, case_id).client_id
        s.add(
            BkrMutation(
                loan_id=loan_id,
                client_id=client_id,
                code="A",
                mutation_date=date(2026, 10, 1),
                amount=Decimal("100.00"),
                created_by="test",
                created_at=datetime(2026, 10, 1, 9),
            )
        )
        total = s.get(Arrangement, arrangement_id).arrears_covered
        next_due = s.scalar(
            select(func.min(Installment.due_date)).where(Installment.loan_id == loan_id, Installment.due_date >= TODAY)
        )
    payments.import_statement(
        ctx, camt053([Tx(str(total), reference=make_betalingskenmerk(client_no[1:]), bank_ref="ALL", day=TODAY)])
    )
    report = payments.monitor(ctx, next_due + timedelta(days=1))
    assert (report.arrangements_kept, report.bkr_h) == (1, 0)
    with ctx.db.reader() as s:
        assert s.get(Arrangement, arrangement_id).status == "kept"
        codes = s.scalars(select(BkrMutation.code).where(BkrMutation.loan_id == loan_id).order_by(BkrMutation.id)).all()
        assert codes[-1] == "A"


def test_a_missed_arrangement_installment_breaks_it_and_resumes_the_procedure(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id = _one_loan_case(ctx)[0]
    arrangement_id = _arrangement(ctx, case_id)
    payments.monitor(ctx, date(2026, 12, 4))  # due 1 December, 3 grace days: not yet
    with ctx.db.reader() as s:
        assert s.get(Arrangement, arrangement_id).status == "active"
    payments.monitor(ctx, date(2026, 12, 5))
    with ctx.db.reader() as s:
        assert s.get(Arrangement, arrangement_id).status == "broken"
        case = s.get(Case, case_id)
        assert (case.status, case.flag, case.next_action_date) == ("active", "broken_arrangement", date(2026, 12, 5))


def test_write_off_four_eyes_bkr_3_and_a_later_payment_is_a_recovery(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo, bakker = ctx_for("demo"), ctx_for("bakker")
    case_id, loan_id, number, _c, _i = _one_loan_case(demo)
    with demo.db.reader() as s:
        version = s.get(Case, case_id).version
        balance = write_off_balance(s, s.get(Loan, loan_id), TODAY)
    assert balance >= Decimal("250.00")
    proposal_id = propose_write_off(demo, case_id, version, loan_id, balance, "Onvindbaar, geen verhaal")
    row = next(p for p in proposals(bakker) if p.id == proposal_id)
    assert row.kind == "write_off" and row.payload["amount"] == str(balance)
    decide(bakker, proposal_id, row.version, approve=True)
    with demo.db.reader() as s:
        assert s.get(Loan, loan_id).status == "written_off"
        assert (
            s.scalar(select(LedgerEntry.amount).where(LedgerEntry.loan_id == loan_id, LedgerEntry.kind == "write_off"))
            == balance
        )
        assert (
            s.scalar(select(BkrMutation.amount).where(BkrMutation.loan_id == loan_id, BkrMutation.code == "3"))
            == balance
        )
        assert s.get(Case, case_id).pos_arrears == Decimal("0.00")
        assert write_off_balance(s, s.get(Loan, loan_id), TODAY) == Decimal("0.00")
    later = FixedClock(datetime(2026, 12, 2, 9, 0))
    from dataclasses import replace

    report = payments.import_statement(
        replace(demo, clock=later), camt053([Tx("75.00", text=number, bank_ref="REC", day=date(2026, 12, 1))])
    )
    assert (report.matched, report.recoveries) == (1, 1)
    found = payments.recoveries(demo)
    assert [(r.loan_number, r.amount) for r in found] == [(number, Decimal("75.00"))]


def test_nobody_approves_their_own_write_off(ctx_for) -> None:  # type: ignore[no-untyped-def]
    bakker = ctx_for("bakker")
    case_id, loan_id, _n, _c, _i = _one_loan_case(bakker)
    with bakker.db.reader() as s:
        version = s.get(Case, case_id).version
    proposal_id = propose_write_off(bakker, case_id, version, loan_id, Decimal("30.00"), "Rest na schikking")
    row = next(p for p in proposals(bakker) if p.id == proposal_id)
    with pytest.raises(FourEyesViolation):
        decide(bakker, proposal_id, row.version, approve=True)
    with bakker.db.reader() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.loan_id == loan_id, LedgerEntry.kind == "write_off")
            )
            == 0
        )


def test_a_small_write_off_gets_no_bkr_code_and_keeps_the_loan_open(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo, bakker = ctx_for("demo"), ctx_for("bakker")
    case_id, loan_id, _n, _c, _i = _one_loan_case(demo)
    before = _arrears(demo, case_id)
    with demo.db.reader() as s:
        version = s.get(Case, case_id).version
    proposal_id = propose_write_off(demo, case_id, version, loan_id, Decimal("20.00"), "Kleine rest")
    decide(bakker, proposal_id, next(p for p in proposals(bakker) if p.id == proposal_id).version, approve=True)
    with demo.db.reader() as s:
        assert s.get(Loan, loan_id).status == "active"
        assert (
            s.scalar(
                select(func.count())
                .select_from(BkrMutation)
                .where(BkrMutation.loan_id == loan_id, BkrMutation.code == "3")
            )
            == 0
        )
    assert _arrears(demo, case_id) == before - Decimal("20.00")
    with pytest.raises(RuleViolation):
        with demo.db.reader() as s:
            version = s.get(Case, case_id).version
        propose_write_off(demo, case_id, version, loan_id, Decimal("999999.00"), "te veel")


def _two_loan_client(ctx):  # type: ignore[no-untyped-def]
    """A client with an open case and exactly two loans that can take a payment: (case, loans)."""
    with ctx.db.reader() as s:
        two = (
            select(Loan.client_id)
            .where(Loan.status != "repaid")
            .group_by(Loan.client_id)
            .having(func.count() == 2)
            .scalar_subquery()
        )
        case_id, client_id = s.execute(
            select(Case.id, Case.client_id).where(Case.status == "active", Case.client_id.in_(two)).order_by(Case.id)
        ).first()
        loans = s.execute(
            select(Loan.id, Loan.number).where(Loan.client_id == client_id, Loan.status != "repaid").order_by(Loan.id)
        ).all()
    return case_id, loans


def test_one_client_pays_two_loans_in_one_statement(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id, [(loan_1, number_1), (loan_2, number_2)] = _two_loan_client(ctx)
    ledger_before = _count(ctx, LedgerEntry)
    with ctx.db.reader() as s_:  # the generated history has payment events of its own (issue 13): count only ours
        events_before = s_.scalar(select(func.max(AuditEvent.id))) or 0
    timeline_before = [t.action for t in case_timeline(ctx.db, case_id)]
    report = payments.import_statement(
        ctx,
        camt053(
            [
                Tx("21.00", reference=make_rf("INC" + number_1[1:]), bank_ref="TWO-1"),
                Tx("22.00", text=f"aflossing {number_2}", bank_ref="TWO-2"),
                Tx("23.00", text=f"{number_1} en {number_2}", bank_ref="TWO-3"),  # names both: ambiguous, to the queue
            ]
        ),
    )
    assert (report.matched, report.unmatched) == (2, 1)
    rows = _entries(ctx)
    assert [(r.status, r.match_reason, r.loan_id) for r in rows] == [
        ("matched", "rf", loan_1),
        ("matched", "loan_number", loan_2),
        ("ambiguous", "loan_number", None),
    ]
    with ctx.db.reader() as s:
        booked = s.execute(
            select(LedgerEntry.id, LedgerEntry.loan_id, LedgerEntry.amount, LedgerEntry.credit)
            .order_by(LedgerEntry.id.desc())
            .limit(2)
        ).all()[::-1]
        events = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "payment.book", AuditEvent.id > events_before)
            .order_by(AuditEvent.id)
        ).all()
    assert _count(ctx, LedgerEntry) == ledger_before + 2
    assert [(loan, amount) for _id, loan, amount, _credit in booked] == [
        (loan_1, Decimal("21.00")),
        (loan_2, Decimal("22.00")),
    ]
    assert [r.ledger_id for r in rows] == [booked[0][0], booked[1][0], None]
    # one event per booked payment, on the bank entry and the client's case, saying what was booked where and why
    assert [(e.entity, e.entity_id, e.case_id, e.before) for e in events] == [
        ("bank_entry", rows[0].id, case_id, None),
        ("bank_entry", rows[1].id, case_id, None),
    ]
    assert [json.loads(e.after) for e in events] == [
        {
            "loan_id": loan_1,
            "amount": "21.00",
            "ledger_id": booked[0][0],
            "reason": "rf",
            "credit": str(booked[0][3]),
            "recovery": False,
        },
        {
            "loan_id": loan_2,
            "amount": "22.00",
            "ledger_id": booked[1][0],
            "reason": "loan_number",
            "credit": str(booked[1][3]),
            "recovery": False,
        },
    ]
    timeline = [t.action for t in case_timeline(ctx.db, case_id)]
    assert timeline.count("payment.book") == timeline_before.count("payment.book") + 2


def test_two_identical_payments_in_one_file_are_both_booked_and_both_skipped_again(ctx_for) -> None:  # type: ignore[no-untyped-def]
    """Duplicates inside one file are two payments (the n-th of the same text: dedup keys differ); a second import
    of the file, or of a statement that holds them again, books neither."""
    ctx = ctx_for("demo")
    case_id, loan_id, number, _c, _i = _one_loan_case(ctx)
    before = _arrears(ctx, case_id)
    same = Tx("15.00", text=f"termijn {number}", e2e=None, bank_ref=None)
    data = camt053([same, same])
    assert payments.import_statement(ctx, data).counts() == {
        "entries": 2,
        "new": 2,
        "duplicates": 0,
        "matched": 2,
        "unmatched": 0,
    }
    assert _arrears(ctx, case_id) == before - Decimal("30.00")
    overlapping = camt053([same, same, Tx("16.00", text=f"termijn {number}")], "STMT-2")
    assert payments.import_statement(ctx, overlapping).counts() == {
        "entries": 3,
        "new": 1,
        "duplicates": 2,
        "matched": 1,
        "unmatched": 0,
    }
    assert _arrears(ctx, case_id) == before - Decimal("46.00")
    assert [r.loan_id for r in _entries(ctx)] == [loan_id] * 3


def test_reversals_of_stored_payments_restore_costs_and_take_each_payment_once(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id, loan_id, number, _c, iban = _one_loan_case(ctx, with_costs=True)
    before = _arrears(ctx, case_id)
    with ctx.db.reader() as s:
        open_costs = s.scalar(select(func.sum(Charge.amount - Charge.paid)).where(Charge.loan_id == loan_id))
    payments.import_statement(
        ctx,
        camt053(
            [
                Tx("30.00", text=number, e2e="SDD-9", iban=iban, bank_ref="C1"),  # goes to the costs first (6:44)
                Tx("12.00", text=number, e2e=None, iban=iban, bank_ref="C2"),
            ],
            "S1",
        ),
    )
    with ctx.db.reader() as s:
        assert s.scalar(select(func.sum(Charge.amount - Charge.paid)).where(Charge.loan_id == loan_id)) < open_costs
    report = payments.import_statement(
        ctx,
        camt053(
            [
                Tx(
                    "30.00",
                    credit=False,
                    reversal=True,
                    return_reason="MD06",
                    e2e="SDD-9",
                    bank_ref="R1",
                    day=date(2026, 11, 21),
                ),
                Tx(
                    "30.00",
                    credit=False,
                    reversal=True,
                    return_reason="MD06",
                    e2e="SDD-9",
                    bank_ref="R2",
                    day=date(2026, 11, 21),
                ),  # the same payment again: it is undone once only
                Tx(
                    "12.00",
                    credit=False,
                    return_reason="AC04",
                    e2e=None,
                    iban=iban,
                    bank_ref="R3",
                    day=date(2026, 11, 21),
                ),  # no end-to-end id: found by the IBAN and the amount
            ],
            "S2",
        ),
    )
    assert (report.reversals, report.unmatched) == (2, 1)
    assert _arrears(ctx, case_id) == before
    with ctx.db.reader() as s:
        assert s.scalar(select(func.sum(Charge.amount - Charge.paid)).where(Charge.loan_id == loan_id)) == open_costs
    rows = _entries(ctx)
    assert [(r.status, r.match_detail) for r in rows] == [
        ("reversed", number),
        ("reversed", number),
        ("reversal", None),
        ("unmatched", "reversal: payment not found"),
        ("reversal", None),
    ]
    assert (rows[2].reverses_id, rows[4].reverses_id) == (rows[0].id, rows[1].id)
    with ctx.db.reader() as s:
        assert (
            s.scalars(select(AuditEvent.action).where(AuditEvent.action == "payment.reverse")).all()
            == ["payment.reverse"] * 2
        )
