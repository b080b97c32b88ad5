"""The team view's dashboard, opened with `k` on the worklist (Pilot)."""

from __future__ import annotations

from incasso_tui.services.kpi import kpi
from incasso_tui.ui.screens.dashboard import DashboardScreen, bar
from incasso_tui.ui.screens.worklist import WorklistScreen


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_k_opens_the_dashboard_with_the_supervisors_figures(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("bakker")
    expected = kpi(app.ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("k")
        await _settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        period = str(app.screen.query_one("#period").render())
        rates = str(app.screen.query_one("#rates").render())
        workload = str(app.screen.query_one("#workload").render())
        assert "hele afdeling" in period
        assert f"Open dossiers: {expected.open_cases}," in rates.replace(".", "")
        assert "Toezeggingen nagekomen:" in rates and "█" in workload
        assert all(w.user in workload for w in expected.workload if w.user)
        await pilot.press("escape")
        await _settle(pilot)
        assert isinstance(app.screen, WorklistScreen)


async def test_k_again_shows_the_kept_dashboard_with_the_figures_read_again(app_for) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: the app keeps one dashboard; the second `k` shows that one, with the figures read again (a snapshot
    computed meanwhile shows), nothing of the first showing left (its message)."""
    from incasso_tui.services.kpi_snapshots import take

    app = app_for("bakker")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("k")
        await _settle(pilot)
        first = app.screen
        assert isinstance(first, DashboardScreen)
        first_period = str(first.query_one("#period").render())
        first.query_one("#message").update("a message of the first showing")
        await pilot.press("escape")
        await _settle(pilot)
        app.ctx.clock.advance(minutes=7)  # type: ignore[attr-defined]
        take(app.ctx)  # newer figures, computed while the dashboard was not shown
        await pilot.press("k")
        await _settle(pilot)
        assert app.screen is first
        period = str(first.query_one("#period").render())
        assert period != first_period and "09:37" in period
        assert str(first.query_one("#message").render()) == ""
        assert "█" in str(first.query_one("#workload").render())


def test_bars_scale_in_eighths() -> None:
    assert bar(10, 10, 4) == "████"
    assert bar(1, 8, 1) == "▏"
    assert bar(0, 10, 3) == "   "
    assert bar(5, 10, 4) == "██  "


async def test_the_dashboard_shows_stored_figures_with_their_moment_and_r_computes_new_ones(app_for) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: the dashboard opens with the stored figures of today (not recomputed), says when they were
    computed, and `r` computes and stores them anew."""
    from dataclasses import replace
    from datetime import datetime

    from sqlalchemy import func, select

    from incasso_tui.services.causes import cause_counts
    from incasso_tui.services.kpi_snapshots import latest, stored_figures
    from incasso_tui.store.models import KpiSnapshot

    app = app_for("bakker")
    live = kpi(app.ctx)
    with app.ctx.db.transaction() as s:  # this morning's figures, with one number that differs from the live ones
        s.add(
            KpiSnapshot(
                taken_at=datetime(2026, 11, 23, 6, 5),
                taken_by="run",
                as_of=live.as_of,
                figures=stored_figures(replace(live, open_cases=live.open_cases + 1), cause_counts(app.ctx)),
            )
        )
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("k")
        await _settle(pilot)
        period = str(app.screen.query_one("#period").render())
        rates = str(app.screen.query_one("#rates").render()).replace(".", "")
        assert "Stand per 23-11-2026 06:05 (r berekent ze nu)" in period
        assert f"Open dossiers: {live.open_cases + 1}," in rates  # the stored figure, not a live one
        await pilot.press("r")
        await _settle(pilot)
        period = str(app.screen.query_one("#period").render())
        rates = str(app.screen.query_one("#rates").render()).replace(".", "")
        assert "Stand per 23-11-2026 09:30 (r berekent ze nu)" in period
        assert f"Open dossiers: {live.open_cases}," in rates
        # figures of an earlier day (a screen left open past midnight) never pass for today's
        stored = latest(app.ctx)
        assert stored is not None and stored.report == live
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        earlier = replace(stored, report=replace(live, as_of=datetime(2026, 11, 22).date()))
        screen.show(earlier.report, [], earlier)
        await pilot.pause()
        period = str(screen.query_one("#period").render())
        assert "Stand per 23-11-2026 09:30: niet de cijfers van vandaag; r berekent ze nu" in period
    with app.ctx.db.reader() as s:
        assert s.scalar(select(func.count()).select_from(KpiSnapshot)) == 2
