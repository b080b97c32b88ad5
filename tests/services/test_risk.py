"""The risk view's service (services.risk) on both backends: the history rows the daily run writes, the figures and
their reconciliation with an independent derivation, forbearance from a deferral and an arrangement, the
vulnerability guard of the daily run, the early-warning signals and their tasks, and refused input."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from incasso_tui.domain.arrears import BUCKETS, ageing_bucket
from incasso_tui.domain.enums import LoanStatus
from incasso_tui.domain.money import ZERO
from incasso_tui.errors import BadInput, NotAllowed, RuleViolation
from incasso_tui.services import risk
from incasso_tui.services.positions import loan_positions
from incasso_tui.services.procedure import run_procedure
from incasso_tui.store.models import (
    AuditEvent,
    Case,
    Client,
    Forbearance,
    Installment,
    LedgerEntry,
    Loan,
    LoanRisk,
    RiskSignal,
    Task,
)
from tests.conftest import AS_OF, NOW


def _independent(s, day: date) -> tuple[dict[str, list], Decimal]:  # type: ignore[no-untyped-def]
    """Outstanding principal per ageing bucket, derived from the schedule by the domain (loan_positions and
    ageing_bucket), not by the risk service: every loan not written off with principal outstanding."""
    loans = list(s.scalars(select(Loan.id).where(Loan.status != LoanStatus.WRITTEN_OFF.value)))
    outstanding = dict(
        s.execute(
            select(Installment.loan_id, func.sum(Installment.principal - Installment.principal_paid)).group_by(
                Installment.loan_id
            )
        ).all()
    )
    positions = loan_positions(s, loans, day)
    buckets: dict[str, list] = {b: [0, ZERO] for b in BUCKETS}
    total = ZERO
    for loan_id in loans:
        cents = outstanding.get(loan_id) or 0
        if not cents:
            continue
        amount = Decimal(cents) / 100
        oldest = positions[loan_id].oldest_due_date
        bucket = ageing_bucket(0 if oldest is None else (day - oldest).days)
        buckets[bucket][0] += 1
        buckets[bucket][1] += amount
        total += amount
    return buckets, total


def test_the_figures_reconcile_with_the_schedule_and_add_up(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    run_procedure(ctx, AS_OF)
    r = risk.risk_report(ctx, AS_OF)
    with ctx.db.reader() as s:
        buckets, total = _independent(s, AS_OF)
    # the portfolio and its ageing buckets are the schedule's, loan by loan
    assert r.portfolio.amount == total > 0
    for b in BUCKETS:
        assert (r.buckets[b].count, r.buckets[b].amount) == tuple(buckets[b]), b
    # stage amounts add up to the portfolio, and so do the buckets
    assert sum(f.amount for f in r.stages.values()) == r.portfolio.amount
    assert sum(f.count for f in r.stages.values()) == r.portfolio.count
    assert sum(f.amount for f in r.buckets.values()) == r.portfolio.amount
    # the PAR numerators are the buckets past 30 / 90 days plus the restructured loans not already in them
    assert (
        r.par30_amount == sum((buckets[b][1] for b in ("31-60", "61-90", "90+")), ZERO) + r.forborne_not_past_30.amount
    )
    assert r.par90_amount == buckets["90+"][1] + r.forborne_not_past_90.amount
    assert r.par30 == (r.par30_amount / r.portfolio.amount).quantize(Decimal("0.0001"))
    # every loan past 90 days on a material amount is in default here (the book's arrears are material)
    assert r.default.count >= 1 and r.stages[3].count >= r.default.count
    assert r.stages[2].count >= r.buckets["31-60"].count + r.buckets["61-90"].count


def test_a_figure_as_of_a_past_day_stays_what_it_was(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    run_procedure(ctx, AS_OF)
    before = risk.risk_report(ctx, AS_OF)
    later = AS_OF + timedelta(days=40)
    ctx.clock.advance(days=40)
    run_procedure(ctx, later)
    after = risk.risk_report(ctx, later)
    again = risk.risk_report(ctx, AS_OF)
    assert again.portfolio == before.portfolio and again.buckets == before.buckets and again.stages == before.stages
    # 40 days on, with no payments booked, loans moved to later buckets
    assert after.buckets["90+"].count > before.buckets["90+"].count
    with ctx.db.reader() as s:
        changed = s.scalar(select(func.count()).select_from(LoanRisk).where(LoanRisk.valid_to == later))
        current = s.scalar(select(func.count()).select_from(LoanRisk).where(LoanRisk.valid_to.is_(None)))
        loans = s.scalar(select(func.count()).select_from(Loan).where(Loan.status != "repaid"))
    assert changed > 0 and current == loans


def test_a_second_run_the_same_day_writes_no_new_rows(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    run_procedure(ctx, AS_OF)
    with ctx.db.reader() as s:
        rows = list(
            s.execute(select(LoanRisk.id, LoanRisk.loan_id, LoanRisk.stage, LoanRisk.valid_to).order_by(LoanRisk.id))
        )
    run_procedure(ctx, AS_OF)
    with ctx.db.reader() as s:
        assert (
            list(
                s.execute(
                    select(LoanRisk.id, LoanRisk.loan_id, LoanRisk.stage, LoanRisk.valid_to).order_by(LoanRisk.id)
                )
            )
            == rows
        )


def test_an_arrangement_makes_the_loans_in_arrears_forborne_and_stage_2(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.domain.enums import Frequency
    from incasso_tui.services.arrangements import ArrangementInput, create_arrangement

    ctx = ctx_for("demo")
    with ctx.db.reader() as s:
        case = s.scalars(
            select(Case)
            .where(
                Case.status == "active",
                Case.pos_arrears.between(200, 2000),
                Case.pos_oldest_due > AS_OF - timedelta(days=25),
            )
            .order_by(Case.id)
        ).first()
        assert case is not None
        case_id, version, client_id = case.id, case.version, case.client_id
    create_arrangement(
        ctx,
        case_id,
        version,
        ArrangementInput(
            down_payment=Decimal("0.00"), count=4, frequency=Frequency.MONTHLY, first_date=AS_OF + timedelta(days=7)
        ),
    )
    with ctx.db.reader() as s:
        granted = list(
            s.execute(
                select(Forbearance.loan_id, Forbearance.kind, Forbearance.npv_loss)
                .join(Loan, Loan.id == Forbearance.loan_id)
                .where(Loan.client_id == client_id)
            )
        )
    assert granted and all(kind == "arrangement" and loss >= 0 for _l, kind, loss in granted)
    run_procedure(ctx_for("bakker"), AS_OF)
    with ctx.db.reader() as s:
        for loan_id, _kind, _loss in granted:
            row = s.execute(
                select(LoanRisk).where(LoanRisk.loan_id == loan_id, LoanRisk.valid_to.is_(None))
            ).scalar_one()
            assert row.forborne and row.forborne_since == AS_OF and row.stage >= 2
            assert row.probation_until == date(2028, 11, 23)  # performing when forborne: 24 months from the day
        assert s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "forbearance.record")
        ) == len(granted)


def _reminder_case(db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        row = s.execute(
            select(Case.id, Case.client_id)
            .where(Case.status == "active", Case.stage == "reminder", Case.pos_arrears > 100)
            .order_by(Case.id)
        ).first()
        assert row is not None
        s.execute(update(Case).where(Case.id == row[0]).values(stage_since=AS_OF - timedelta(days=60)))
    return row[0], row[1]


def test_a_vulnerable_client_is_not_escalated_beyond_the_reminder_without_a_person(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    case_id, client_id = _reminder_case(ctx.db)
    flag_id = risk.set_vulnerability(ctx_for("demo"), client_id, "illness", "ziekenhuisopname")
    assert flag_id > 0
    report = run_procedure(ctx, AS_OF)
    with ctx.db.reader() as s:
        assert s.get(Case, case_id).stage == "reminder"
    assert report.held["vulnerable"] >= 1
    flags = risk.vulnerabilities(ctx, client_id)
    assert [(f.kind, f.set_by) for f in flags] == [("illness", "demo")]
    # the flag removed, the next run moves the case
    risk.remove_vulnerability(ctx_for("demo"), client_id, "illness")
    run_procedure(ctx, AS_OF + timedelta(days=1))
    with ctx.db.reader() as s:
        assert s.get(Case, case_id).stage != "reminder"


def test_vulnerability_input_is_checked(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    with ctx.db.reader() as s:
        client_id = s.scalar(select(Client.id).order_by(Client.id))
    with pytest.raises(BadInput, match="Unknown vulnerability"):
        risk.set_vulnerability(ctx, client_id, "sadness")
    risk.set_vulnerability(ctx, client_id, "divorce")
    with pytest.raises(RuleViolation, match="already flagged"):
        risk.set_vulnerability(ctx, client_id, "divorce")
    with pytest.raises(NotAllowed):
        risk.set_vulnerability(ctx_for("audit"), client_id, "illness")


def test_a_reversal_on_a_loan_not_in_arrears_is_a_signal_and_a_task_when_the_desk_says_so(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker", signal_tasks=True)
    with ctx.db.transaction() as s:
        # a client with an open case and a second loan that is not in arrears
        late = select(Installment.loan_id).where(
            Installment.due_date < AS_OF,
            Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest,
        )
        loan_id, client_id, case_id = s.execute(
            select(Loan.id, Loan.client_id, Case.id)
            .join(Case, Case.client_id == Loan.client_id)
            .where(Case.status == "active", Loan.status == "active", Loan.id.not_in(late))
            .order_by(Loan.id)
        ).first()
        s.add(
            LedgerEntry(
                loan_id=loan_id,
                booking_date=AS_OF - timedelta(days=2),
                kind="reversal",
                amount=Decimal("120.00"),
                description="storno",
                created_by="test",
                created_at=NOW,
            )
        )
    run_procedure(ctx, AS_OF)
    with ctx.db.reader() as s:
        signals = dict(
            s.execute(select(RiskSignal.rule, RiskSignal.task_id).where(RiskSignal.loan_id == loan_id)).all()
        )
        assert "reversal" in signals  # (the client may also have named a cause in a contact: a signal of its own)
        task = s.get(Task, signals["reversal"])
        assert task.case_id == case_id and task.kind == risk.SIGNAL_TASK
    # not raised again within the look-back window
    run_procedure(ctx, AS_OF + timedelta(days=1))
    with ctx.db.reader() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(RiskSignal)
                .where(RiskSignal.loan_id == loan_id, RiskSignal.rule == "reversal")
            )
            == 1
        )
    r = risk.risk_report(ctx, AS_OF + timedelta(days=1))
    assert r.signals_by_rule.get("reversal", 0) >= 1


def test_without_the_desk_setting_a_signal_makes_no_task(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    run_procedure(ctx, AS_OF)
    with ctx.db.reader() as s:
        assert s.scalar(select(func.count()).select_from(RiskSignal)) > 0
        assert s.scalar(select(func.count()).select_from(RiskSignal).where(RiskSignal.task_id.is_not(None))) == 0


def test_a_signal_followed_by_arrears_is_counted(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    with ctx.db.transaction() as s:
        late = select(Installment.loan_id).where(
            Installment.due_date < AS_OF + timedelta(days=40),
            Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest,
            Installment.due_date < AS_OF,
        )
        loan_id = s.scalar(select(Loan.id).where(Loan.status == "active", Loan.id.not_in(late)).order_by(Loan.id))
        s.add(
            LedgerEntry(
                loan_id=loan_id,
                booking_date=AS_OF - timedelta(days=1),
                kind="reversal",
                amount=Decimal("80.00"),
                description="storno",
                created_by="test",
                created_at=NOW,
            )
        )
    run_procedure(ctx, AS_OF)
    # 40 days later nothing was paid: the loan's next installment is past due
    later = AS_OF + timedelta(days=40)
    run_procedure(ctx, later)
    with ctx.db.reader() as s:
        arrears_on = s.scalar(select(RiskSignal.arrears_on).where(RiskSignal.loan_id == loan_id))
    assert arrears_on == later
    r = risk.risk_report(ctx, later, AS_OF)
    assert r.signals_followed >= 1 and r.signals >= r.signals_followed


def test_bad_report_input_is_refused_naming_the_field(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    with ctx.db.reader() as s:
        first = s.scalar(select(func.min(Loan.start_date)))
    with pytest.raises(BadInput) as exc:
        risk.risk_report(ctx, first - timedelta(days=1))
    assert exc.value.field == "as_of" and "before the book's first day" in str(exc.value)
    with pytest.raises(BadInput) as exc:
        risk.risk_report(ctx, AS_OF, AS_OF + timedelta(days=1))
    assert exc.value.field == "from"
    with pytest.raises(NotAllowed):
        risk.risk_report(ctx_for("demo"), AS_OF)


def test_a_deferral_is_recorded_as_forbearance_with_its_npv_loss(ctx_for) -> None:  # type: ignore[no-untyped-def]
    """The deferral's hook: a row per granted deferral (the proposal flow itself is tested in test_proposals)."""
    ctx = ctx_for("bakker")
    with ctx.db.transaction() as s:
        loan = s.scalars(select(Loan).where(Loan.status == "active").order_by(Loan.id)).first()
        case_id = s.scalar(select(Case.id).order_by(Case.id))
        # three months later, same amounts: the loss is the discounting of 3 months at the loan's rate
        before = [(AS_OF + timedelta(days=30), Decimal("100.00"))]
        after = [(AS_OF + timedelta(days=120), Decimal("100.00"))]
        risk.record_deferral_forbearance(ctx, s, loan, case_id, AS_OF, before, after, 99)
        rate = loan.annual_rate
        loan_id = loan.id
    with ctx.db.reader() as s:
        (row,) = s.scalars(select(Forbearance).where(Forbearance.loan_id == loan_id))
    # 1 - (1+r)^-(90/365) computed independently in float for the check only (tolerance one millionth)
    expected = 1 - (1 + float(rate)) ** (-90 / 365)
    assert row.kind == "deferral" and row.source == "proposal:99"
    assert abs(float(row.npv_loss) - expected) < 2e-6


def test_counts_per_bucket_of_the_history_match_the_positions(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    run_procedure(ctx, AS_OF)
    with ctx.db.reader() as s:
        per: dict[str, int] = defaultdict(int)
        for bucket, n in s.execute(
            select(LoanRisk.bucket, func.count())
            .where(LoanRisk.valid_to.is_(None), LoanRisk.outstanding > 0, LoanRisk.written_off.is_(False))
            .group_by(LoanRisk.bucket)
        ):
            per[bucket] = n
        buckets, _total = _independent(s, AS_OF)
    assert {b: per[b] for b in BUCKETS} == {b: buckets[b][0] for b in BUCKETS}


def test_a_contact_naming_a_cause_after_the_run_is_a_signal_the_next_day(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.store.models import Contact

    ctx = ctx_for("bakker")
    run_procedure(ctx, AS_OF)
    with ctx.db.transaction() as s:
        late = select(Installment.loan_id).where(
            Installment.due_date < AS_OF + timedelta(days=1),
            Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest,
        )
        signalled = select(RiskSignal.loan_id)
        loan_id, case_id = s.execute(
            select(Loan.id, Case.id)
            .join(Case, Case.client_id == Loan.client_id)
            .where(Case.status != "closed", Loan.status == "active", Loan.id.not_in(late), Loan.id.not_in(signalled))
            .order_by(Loan.id)
        ).first()
        # logged the same day, after the run
        s.add(
            Contact(
                case_id=case_id,
                at=NOW + timedelta(hours=5),
                channel="phone",
                outcome="hardship",
                cause="illness",
                summary="ziek",
                user_name="demo",
            )
        )
    run_procedure(ctx, AS_OF + timedelta(days=1))
    with ctx.db.reader() as s:
        rules = list(s.scalars(select(RiskSignal.rule).where(RiskSignal.loan_id == loan_id)))
    assert rules == ["contact_cause"]


def test_a_forbearance_granted_after_the_run_counts_once_at_the_next_run(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    run_procedure(ctx, AS_OF)
    with ctx.db.transaction() as s:
        late = select(Installment.loan_id).where(
            Installment.due_date < AS_OF + timedelta(days=3),
            Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest,
        )
        loan = s.scalars(select(Loan).where(Loan.status == "active", Loan.id.not_in(late)).order_by(Loan.id)).first()
        case_id = s.scalar(select(Case.id).order_by(Case.id))
        # granted on the run's day, after the run
        risk.record_deferral_forbearance(
            ctx,
            s,
            loan,
            case_id,
            AS_OF,
            [(AS_OF + timedelta(days=30), Decimal("100"))],
            [(AS_OF + timedelta(days=31), Decimal("100"))],
            1,
        )
        loan_id = loan.id

    def current():  # type: ignore[no-untyped-def]
        with ctx.db.reader() as s:
            return s.execute(
                select(LoanRisk).where(LoanRisk.loan_id == loan_id, LoanRisk.valid_to.is_(None))
            ).scalar_one()

    assert not current().forborne
    run_procedure(ctx, AS_OF + timedelta(days=1))
    row = current()
    assert (row.forborne, row.forborne_since, row.probation_until, row.stage) == (True, AS_OF, date(2028, 11, 23), 2)
    run_procedure(ctx, AS_OF + timedelta(days=2))
    again = current()
    assert again.id == row.id  # seen once: nothing changed the next day


def test_the_quiet_loans_first_rows_in_sql_are_those_of_the_step_per_loan(ctx_for, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A loan's first row when nothing is past due goes in one INSERT ... SELECT (services.risk._observe); the same
    run with every loan through domain.risk.step one by one writes the same rows and the same events (ids aside: PostgreSQL's sequences do not roll back)."""
    ctx = ctx_for("demo")
    db = ctx.db
    quiet: list[int] = []
    insert_quiet = risk._insert_quiet_first_rows

    def counted(conn, day, loan_ids, values):  # type: ignore[no-untyped-def]
        quiet.extend(loan_ids)
        insert_quiet(conn, day, loan_ids, values)

    monkeypatch.setattr(risk, "_insert_quiet_first_rows", counted)
    with db.sessions() as s:
        s.begin()
        risk.daily_step(s, ctx, AS_OF, "test", NOW)
        s.flush()
        cols = [c for c in LoanRisk.__table__.c if c.name != "id"]
        quick = sorted(tuple(row) for row in s.execute(select(*cols)))
        events = [(e.action, e.entity, e.after) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        s.rollback()
    monkeypatch.setattr(risk, "_NOT_QUIET", frozenset(str(status.value) for status in LoanStatus))
    with db.sessions() as s:
        s.begin()
        risk.daily_step(s, ctx, AS_OF, "test", NOW)
        s.flush()
        one_by_one = sorted(tuple(row) for row in s.execute(select(*cols)))
        assert events == [(e.action, e.entity, e.after) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        s.rollback()
    assert len(quick) > len(quiet) > 10 and quick == one_by_one
    # the quiet loans' state does not depend on their outstanding principal
    rules = risk.rules_for(ctx)
    for exposure in (ZERO, Decimal("0.01"), Decimal("250000.00")):
        obs = risk.Observation(day=AS_OF, past_due=ZERO, exposure=exposure, oldest_due=None, retail=True)
        assert risk.step(None, obs, rules, None) == risk.quiet_first_state(rules, AS_OF, None)
