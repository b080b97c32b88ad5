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


def test_bars_scale_in_eighths() -> None:
    assert bar(10, 10, 4) == "████"
    assert bar(1, 8, 1) == "▏"
    assert bar(0, 10, 3) == "   "
    assert bar(5, 10, 4) == "██  "
