"""The search screen (`f` / ctrl+t on the worklist): word starts, the scope switch, a client without a case opened
read-only, a refused one-letter term (issue 14)."""

from __future__ import annotations

from sqlalchemy import select
from textual.widgets import DataTable, Input

from incasso_tui.store.models import Case, Client
from incasso_tui.ui.screens.detail import ClientDetailScreen
from incasso_tui.ui.screens.search import ClientOverviewScreen, SearchScreen


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _text(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one(selector).render())


async def test_ctrl_t_takes_the_boxs_text_to_all_clients_and_back(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("slash", *"van dijk")
        await pilot.press("ctrl+t")
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, SearchScreen) and screen.scope == "all"
        assert screen.query_one("#term", Input).value == "van dijk"
        every = list(screen.hits)
        assert every and all(h.matched for h in every)
        # found by the name come first
        assert every[0].matched == ("name",) and "dijk" in every[0].name.lower()
        assert "Alle klanten" in _text(app, "#scope-line")
        await pilot.press("ctrl+t")
        await _settle(pilot)
        assert screen.scope == "desk" and all(h.on_desk for h in screen.hits)
        assert {h.client_id for h in screen.hits} < {h.client_id for h in every} or len(every) == 50


async def test_a_client_without_a_case_opens_read_only(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    with app.ctx.db.reader() as s:
        client = s.execute(select(Client).where(~Client.id.in_(select(Case.client_id))).limit(1)).scalar_one()
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("f")
        await _settle(pilot)
        await pilot.press(*client.number, "enter")
        await _settle(pilot)
        assert [h.client_id for h in app.screen.hits] == [client.id]
        await pilot.press("enter")
        await _settle(pilot)
        assert isinstance(app.screen, ClientOverviewScreen)
        assert client.name in _text(app, "#overview-client")
        assert app.screen.query_one("#overview-loans", DataTable).row_count >= 1
        assert "geen dossier" in app.screen.sub_title
        await pilot.press("escape")
        await _settle(pilot)
        assert isinstance(app.screen, SearchScreen)


async def test_a_client_with_a_case_opens_its_detail(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    with app.ctx.db.reader() as s:
        case = s.execute(select(Case).where(Case.status == "handed_over").limit(1)).scalar_one()
        number = s.get(Client, case.client_id).number
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("f", *number, "enter")
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen) and app.screen.case_id == case.id


async def test_one_letter_is_refused_with_the_reason(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("f", "x", "enter")
        await _settle(pilot)
        assert "Type at least 2 letters or digits" in _text(app, "#message")
        assert app.screen.hits == ()


async def test_the_name_column_takes_a_wider_terminal(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        await pilot.press("f", *"van dijk", "enter")
        await _settle(pilot)
        table = app.screen.query_one("#hits", DataTable)
        widths = [c.width for c in table.columns.values()]
        assert widths[1] == 64 and table.row_count == len(app.screen.hits) > 0
