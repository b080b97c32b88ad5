"""Next and previous case from the client detail (`]` and `[`), in the worklist's order; escape lands on the case
last shown (issue 14)."""

from __future__ import annotations

from incasso_tui.services.worklist import WorklistFilter, worklist
from incasso_tui.ui.screens.detail import ClientDetailScreen
from incasso_tui.ui.screens.worklist import WorklistScreen
from incasso_tui.ui.widgets.virtual_table import VirtualTable


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_ten_cases_walked_forward_and_back_in_the_filtered_order(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    flt = WorklistFilter(sort="amount")
    wl = worklist(app.ctx, flt)
    order = [r.case_id for r in wl.page(0, 12, wl.count()).rows]
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        app.screen.apply_filter_change({"sort": "amount"})
        await _settle(pilot)
        await pilot.press("home")
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)
        detail = app.screen
        assert isinstance(detail, ClientDetailScreen) and detail.case_id == order[0]
        seen = [detail.case_id]
        for _ in range(10):
            await pilot.press("right_square_bracket")
            await _settle(pilot)
            seen.append(detail.case_id)
            assert detail.detail is not None and detail.detail.case.id == detail.case_id  # the new case is shown
        assert seen == order[:11]
        assert detail.sub_title == f"dossier 11 van {wl.count()}"
        await pilot.press("left_square_bracket", "left_square_bracket")
        await _settle(pilot)
        assert detail.case_id == order[8]
        await pilot.press("escape")
        await _settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
        table = app.screen.query_one(VirtualTable)
        assert table.cursor == 8 and table.cursor_row.case_id == order[8]


async def test_at_the_start_previous_says_so_and_stays(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)
        detail = app.screen
        first = detail.case_id
        await pilot.press("left_square_bracket")
        await _settle(pilot)
        assert detail.case_id == first
        assert any("eerste dossier" in str(n.message) for n in app._notifications)


async def test_a_detail_opened_elsewhere_has_no_walk_keys(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        row = app.screen.query_one(VirtualTable).cursor_row
        screen = ClientDetailScreen(row.case_id)
        await app.push_screen(screen)
        await _settle(pilot)
        assert screen.check_action("walk", (1,)) is False
        await pilot.press("right_square_bracket")
        await _settle(pilot)
        assert screen.case_id == row.case_id
