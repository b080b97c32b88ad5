"""The team view's stored figures (services.kpi_snapshots, issue 18) against the live query, on both backends."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select, update

from incasso_tui.services.causes import cause_counts
from incasso_tui.services.kpi import kpi
from incasso_tui.services.kpi_snapshots import KEEP_DAYS, for_dashboard, latest, stored_figures, take
from incasso_tui.services.procedure import run_procedure
from incasso_tui.store.models import AuditEvent, Case, KpiSnapshot
from tests.conftest import AS_OF, NOW


def _events(ctx) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "kpi.snapshot").order_by(AuditEvent.id)))


def test_a_snapshot_holds_exactly_the_live_figures_with_its_moment_and_event(ctx_for) -> None:  # type: ignore[no-untyped-def]
    for user in ("bakker", "demo"):  # the whole desk, and an employee's own cases
        ctx = ctx_for(user)
        assert latest(ctx) is None
        taken = take(ctx)
        stored = latest(ctx)
        assert stored == taken and stored is not None
        live = kpi(ctx)
        assert stored.report == live and stored.report.open_cases > 0
        assert stored.causes == cause_counts(ctx)
        assert (stored.taken_at, stored.taken_by) == (NOW, user)
        event = _events(ctx)[-1]
        assert (event.entity, event.entity_id, event.actor) == ("kpi_snapshot", stored.id, user)
        assert json.loads(event.after) == {
            "scope": live.scope,
            "as_of": AS_OF.isoformat(),
            "open_cases": live.open_cases,
        }
    assert latest(ctx_for("bakker")).report.scope is None  # type: ignore[union-attr]  # scopes are kept apart
    assert latest(ctx_for("demo")).report.scope == "demo"  # type: ignore[union-attr]


def test_the_stored_figures_round_trip_every_field(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    report, causes = kpi(ctx, AS_OF - timedelta(days=200), AS_OF), cause_counts(ctx)
    assert report.promises_kept and report.workload  # a report with something in it
    with ctx.db.transaction() as s:
        s.add(KpiSnapshot(taken_at=NOW, taken_by="t", as_of=AS_OF, figures=stored_figures(report, causes)))
    stored = latest(ctx)
    assert stored is not None and (stored.report, stored.causes) == (report, causes)


def test_a_change_after_the_snapshot_does_not_change_it_and_a_new_one_has_it(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    first = take(ctx)
    with ctx.db.transaction() as s:  # two desk cases leave the desk
        ids = list(s.scalars(select(Case.id).where(Case.status == "active").order_by(Case.id).limit(2)))
        s.execute(update(Case).where(Case.id.in_(ids)).values(status="handed_over"))
    assert for_dashboard(ctx) == first  # the stored figures, shown with their moment, not recomputed
    live = kpi(ctx)
    assert live.open_cases == first.report.open_cases - 2
    again = take(ctx)
    assert again.id > first.id and again.report == live and latest(ctx) == again


def test_the_dashboard_takes_a_snapshot_when_its_scope_has_none_of_today(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    got = for_dashboard(ctx)
    assert got.report == kpi(ctx) and latest(ctx) == got and len(_events(ctx)) == 1
    assert for_dashboard(ctx) == got and len(_events(ctx)) == 1  # the second opening reads it
    yesterday = replace(got.report, as_of=AS_OF - timedelta(days=1))
    with ctx.db.transaction() as s:  # the same figures, but of yesterday
        s.execute(update(KpiSnapshot).values(as_of=yesterday.as_of, figures=stored_figures(yesterday, got.causes)))
    assert latest(ctx).report.as_of == yesterday.as_of  # type: ignore[union-attr]
    today = for_dashboard(ctx)
    assert today.id > got.id and today.report.as_of == AS_OF and len(_events(ctx)) == 2


def test_the_daily_run_stores_the_whole_desks_figures_it_leaves_behind(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    with ctx.db.transaction() as s:
        old = KpiSnapshot(taken_at=NOW, taken_by="t", as_of=AS_OF - timedelta(days=KEEP_DAYS + 1), figures="{}")
        kept = KpiSnapshot(taken_at=NOW, taken_by="t", as_of=AS_OF - timedelta(days=KEEP_DAYS), figures="{}")
        s.add_all([old, kept])
        s.flush()
        old_id, kept_id = old.id, kept.id
    run_procedure(ctx, AS_OF, dry_run=True)
    with ctx.db.reader() as s:
        assert s.scalar(select(func.count()).select_from(KpiSnapshot)) == 2  # a dry run stores nothing
    run_procedure(ctx, AS_OF)
    with ctx.db.reader() as s:
        written = list(s.scalars(select(KpiSnapshot).where(KpiSnapshot.id > kept_id)))
        ids = set(s.scalars(select(KpiSnapshot.id)))
    assert old_id not in ids and kept_id in ids  # older than KEEP_DAYS went
    assert [(w.scope_user_id, w.taken_by) for w in written] == [(None, "bakker")] and len(_events(ctx)) == 1
    # what the run stored is what the live query gives on the book it left behind; the dashboard reads it
    stored = latest(ctx)
    assert stored is not None and stored.report == kpi(ctx) and stored.causes == cause_counts(ctx)
    assert for_dashboard(ctx) == stored
    assert latest(ctx_for("demo")) is None  # an employee's figures are taken at their first opening of the day


def test_the_newest_is_by_its_day_so_one_stored_later_for_another_day_hides_nothing(ctx_for) -> None:  # type: ignore[no-untyped-def]
    """A snapshot stored after today's but for an earlier day (a run for a past date) or for a later one does not
    become "the newest": the dashboard keeps today's and takes no new one."""
    ctx = ctx_for("demo")
    today = for_dashboard(ctx)
    for day in (AS_OF - timedelta(days=3), AS_OF + timedelta(days=2)):
        other = replace(today.report, as_of=day)
        with ctx.db.transaction() as s:  # stored after today's: a higher id
            s.add(
                KpiSnapshot(
                    scope_user_id=ctx.actor.id,
                    as_of=day,
                    taken_at=NOW,
                    taken_by="demo",
                    figures=stored_figures(other, today.causes),
                )
            )
    assert latest(ctx) == today
    assert for_dashboard(ctx) == today and len(_events(ctx)) == 1
