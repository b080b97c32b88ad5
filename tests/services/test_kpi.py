"""The team view's figures (services.kpi) on both backends."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update

from incasso_tui.domain.arrears import BUCKETS
from incasso_tui.errors import BadInput
from incasso_tui.services.kpi import kpi
from incasso_tui.services.worklist import WorklistFilter, worklist
from incasso_tui.store.models import DESK_WHERE, Case, Promise
from tests.conftest import AS_OF


def test_buckets_add_up_to_open_cases_and_match_the_worklist(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    r = kpi(ctx)
    assert r.scope is None and r.as_of == AS_OF
    assert sum(b.count for b in r.buckets.values()) == r.open_cases
    assert r.open_cases == worklist(ctx, WorklistFilter()).count() > 0
    for bucket in BUCKETS:  # the worklist's own bucket filter is an independent implementation
        assert r.buckets[bucket].count == worklist(ctx, WorklistFilter(bucket=bucket)).count(), bucket
    with ctx.db.reader() as s:
        total = s.execute(select(func.sum(Case.pos_arrears)).where(text(DESK_WHERE))).scalar_one()
    assert r.arrears == total
    assert sum(w.open_cases for w in r.workload) == r.open_cases


def test_an_employee_sees_only_their_own_cases(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    mine = kpi(ctx)
    desk = kpi(ctx_for("bakker"))
    assert mine.scope == "demo"
    assert mine.open_cases == worklist(ctx, WorklistFilter(mine=True)).count()
    assert 0 < mine.open_cases < desk.open_cases
    assert [w.user for w in mine.workload] == ["demo"]
    assert mine.cure_base < desk.cure_base
    assert mine.promises_kept + mine.promises_broken < desk.promises_kept + desk.promises_broken


def test_rates_are_between_0_and_1_or_null(ctx_for) -> None:  # type: ignore[no-untyped-def]
    r = kpi(ctx_for("bakker"), date(2026, 6, 1), AS_OF)
    rates = [r.cure_rate, r.promises_kept_rate, r.arrangements_kept_rate, r.followup_timeliness_rate]
    assert all(x is None or Decimal(0) <= x <= Decimal(1) for x in rates)
    assert r.promises_kept_rate is not None and r.cure_rate is not None
    # a period nobody promised anything in: no denominator, so null rather than 0
    empty = kpi(ctx_for("bakker"), date(2030, 1, 1), date(2030, 1, 31))
    assert empty.promises_kept_rate is None and empty.arrangements_kept_rate is None
    assert empty.promises_kept == empty.promises_broken == 0


def test_the_promise_rate_of_a_constructed_period_is_exact(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    with ctx.db.transaction() as s:
        ids = list(s.scalars(select(Promise.id).order_by(Promise.id).limit(5)))
        # nothing in the book falls due in 2027-02; put 3 kept, 1 broken and 1 open promise there
        for pid, status in zip(ids, ("kept", "kept", "kept", "broken", "open"), strict=True):
            s.execute(update(Promise).where(Promise.id == pid).values(due_date=date(2027, 2, 10), status=status))
    r = kpi(ctx, date(2027, 2, 1), date(2027, 2, 28))
    assert (r.promises_kept, r.promises_broken) == (3, 1)
    assert r.promises_kept_rate == Decimal("0.75")


def test_cure_rate_counts_the_cases_closed_in_the_period(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    before = kpi(ctx, date(2026, 11, 1), AS_OF)
    with ctx.db.transaction() as s:
        case_id = s.scalars(
            select(Case.id)
            .where(Case.status == "active", Case.opened_on < date(2026, 11, 1))
            .order_by(Case.id)
            .limit(1)
        ).one()
        s.execute(update(Case).where(Case.id == case_id).values(status="closed", closed_on=date(2026, 11, 20)))
    after = kpi(ctx, date(2026, 11, 1), AS_OF)
    assert after.cure_base == before.cure_base
    assert after.cured == before.cured + 1
    assert after.open_cases == before.open_cases - 1


def test_a_period_that_ends_before_it_starts_is_refused(ctx_for) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadInput):
        kpi(ctx_for("bakker"), date(2026, 11, 2), date(2026, 11, 1))


def test_follow_up_timeliness_compares_the_contact_day_with_the_next_action_it_replaced(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from incasso_tui.services.contacts import log_contact
    from tests.services.test_contacts import _promise

    ctx = ctx_for("demo")
    with ctx.db.transaction() as s:
        cases = list(
            s.scalars(
                select(Case).where(Case.status == "active", Case.assignee_id == ctx.actor.id).order_by(Case.id).limit(3)
            )
        )
        # one due in five days (done early: on time), two due three days ago (done today: late)
        for c, days in zip(cases, (5, -3, -3), strict=True):
            s.execute(update(Case).where(Case.id == c.id).values(next_action_date=AS_OF + timedelta(days=days)))
    before = kpi(ctx, AS_OF, AS_OF)  # today only: nothing missed yet counts, only what is done today
    assert (before.followups_on_time, before.followups_late, before.followup_timeliness_rate) == (0, 0, None)
    for c in cases:
        log_contact(ctx, c.id, c.version, _promise())
    after = kpi(ctx, AS_OF, AS_OF)
    assert (after.followups_on_time, after.followups_late) == (1, 2)
    assert after.followup_timeliness_rate == Decimal("0.3333")
    # as a supervisor sees it: the same three contacts
    assert kpi(ctx_for("bakker"), AS_OF, AS_OF).followups_on_time == 1


def _snapshot_moves(db, since: date, until: date) -> Counter:  # type: ignore[no-untyped-def]
    """bucket then -> where now, counted in Python from the raw snapshot rows (independent of services.kpi)."""
    from incasso_tui.store.models import BucketSnapshot

    with db.reader() as s:
        then = dict(
            s.execute(select(BucketSnapshot.case_id, BucketSnapshot.bucket).where(BucketSnapshot.day == since)).all()
        )
        now = dict(
            s.execute(select(BucketSnapshot.case_id, BucketSnapshot.bucket).where(BucketSnapshot.day == until)).all()
        )
        status = dict(s.execute(select(Case.id, Case.status).where(Case.id.in_(list(then)))).all())
    return Counter((b, now.get(c) or ("closed" if status[c] == "closed" else "handed_over")) for c, b in then.items())


def test_roll_rates_are_available_a_week_after_the_first_snapshot(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from incasso_tui.services.procedure import run_procedure

    ctx = ctx_for("bakker")
    nothing = kpi(ctx).roll_rates
    assert (nothing.since, nothing.available_from, nothing.rows) == (None, None, {})
    run_procedure(ctx, AS_OF)
    for end in (AS_OF, AS_OF + timedelta(days=6)):
        rr = kpi(ctx, date_to=end).roll_rates
        assert rr.since is None and rr.rows == {} and rr.available_from == AS_OF + timedelta(days=7)
    stale = kpi(ctx, date_to=AS_OF + timedelta(days=7)).roll_rates
    # last week's snapshot, but no run since: no matrix of one snapshot against itself
    assert (stale.since, stale.until, stale.rows) == (AS_OF, None, {})


def test_roll_rates_between_two_runs_a_week_apart(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from incasso_tui.services.procedure import run_procedure
    from incasso_tui.store.models import BucketSnapshot

    ctx = ctx_for("bakker")
    later = AS_OF + timedelta(days=7)
    run_procedure(ctx, AS_OF)
    run_procedure(ctx, later)
    rr = kpi(ctx, date_to=later).roll_rates
    assert (rr.since, rr.until, rr.available_from) == (AS_OF, later, None)
    with ctx.db.reader() as s:
        then_cases = s.scalar(select(func.count()).select_from(BucketSnapshot).where(BucketSnapshot.day == AS_OF))
    assert sum(rr.cases(b) for b in rr.rows) == then_cases > 0
    assert all(rr.cases(b) > 0 for b in rr.rows)
    for b in rr.rows:
        assert sum(rr.rate(b, t) for t in rr.rows[b]) == pytest.approx(Decimal(1), abs=Decimal("0.001"))
    moves = _snapshot_moves(ctx.db, AS_OF, later)
    assert {(b, t): n for b, row in rr.rows.items() for t, n in row.items() if n} == dict(moves)
    assert any(b != t for b, t in moves), "a week of ageing moves cases between buckets"
    # a case moved to another bucket now shows in that cell
    with ctx.db.transaction() as s:
        then = dict(
            s.execute(select(BucketSnapshot.case_id, BucketSnapshot.bucket).where(BucketSnapshot.day == AS_OF)).all()
        )
        now = dict(
            s.execute(select(BucketSnapshot.case_id, BucketSnapshot.bucket).where(BucketSnapshot.day == later)).all()
        )
        case_id = min(set(then) & set(now))
        target = next(b for b in BUCKETS if b not in (then[case_id], now[case_id]))
        s.execute(
            update(BucketSnapshot)
            .where(BucketSnapshot.day == later, BucketSnapshot.case_id == case_id)
            .values(bucket=target)
        )
    moved = kpi(ctx, date_to=later).roll_rates
    assert moved.rows[then[case_id]][target] == rr.rows[then[case_id]][target] + 1
    assert moved.rows[then[case_id]][now[case_id]] == rr.rows[then[case_id]][now[case_id]] - 1
    mine = kpi(ctx_for("demo"), date_to=later).roll_rates
    assert 0 < sum(mine.cases(b) for b in mine.rows) < then_cases
