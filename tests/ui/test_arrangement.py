"""Payment arrangement screen: live plan, refusals at the field, saving, and a case changed meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label

from incasso_tui.services.cases import client_detail
from incasso_tui.store.models import Arrangement, AuditEvent
from incasso_tui.ui.screens.arrangement import ArrangementScreen
from incasso_tui.ui.screens.detail import ClientDetailScreen
from incasso_tui.ui.text import lit
from tests.ui.pictures import settle as settle_picture
from tests.ui.test_detail import first_case, open_detail, shown

ARRANGEABLE = (
    "status = 'active' AND pos_arrears > 0 AND NOT EXISTS "
    "(SELECT 1 FROM arrangements a WHERE a.case_id = cases.id AND a.status = 'active')"
)


async def open_arrangement(pilot: Pilot[Any], case_id: int) -> ArrangementScreen:
    await open_detail(pilot, case_id)
    await pilot.press("a")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ArrangementScreen)
    return screen


async def fill(pilot: Pilot[Any], field: str, value: str) -> None:
    """Replace what the field holds by ``value``, typed key by key."""
    pilot.app.screen.query_one(f"#{field}", Input).focus()
    await pilot.press("ctrl+a", "ctrl+k", *value)
    await pilot.pause()


def error_at(screen: ArrangementScreen, field: str) -> str:
    label = screen.query_one(f"#{field}-error", Label)
    return shown(label) if label.display else ""


def arrangements_of(app: Any, case_id: int) -> int:
    with app.ctx.db.reader() as s:
        return int(s.scalar(select(func.count()).select_from(Arrangement).where(Arrangement.case_id == case_id)))


async def test_plan_follows_the_input(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app, ARRANGEABLE)
        total = client_detail(app.ctx, case_id).arrears.total
        screen = await open_arrangement(pilot, case_id)
        assert app.tr.money(total) in shown(screen.query_one("#cover"))
        assert "blijven daarnaast" in shown(screen.query_one("#note"))
        lines = screen.query_one("#lines", DataTable)
        assert lines.row_count == 0 and error_at(screen, "count") == ""  # nothing typed: no plan, no complaint
        await fill(pilot, "count", "4")
        assert lines.row_count == 4
        assert "4 termijnen van" in shown(screen.query_one("#totals"))
        assert app.tr.money(total) in shown(screen.query_one("#totals"))
        await fill(pilot, "down_payment", "100")
        assert lines.row_count == 5  # the down payment comes first
        assert str(lines.get_row_at(0)[2]) == app.tr.money(Decimal("100.00"))


async def test_over_the_limit_is_refused_at_the_count(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app, ARRANGEABLE)
        screen = await open_arrangement(pilot, case_id)
        await fill(pilot, "count", "13")
        assert "Dit vraagt 13 termijnen; de afdeling staat er hoogstens 12 toe" in error_at(screen, "count")
        assert screen.query_one("#lines", DataTable).row_count == 0
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        assert arrangements_of(app, case_id) == 0
        # what the down payment leaves over 2 installments is below the desk's minimum of 25 euros
        total = client_detail(app.ctx, case_id).arrears.total
        await fill(pilot, "down_payment", str(total - Decimal("40.00")))
        await fill(pilot, "count", "2")
        minimum, each = app.tr.money(Decimal("25.00")), app.tr.money(Decimal("20.00"))
        assert f"Een termijn moet minstens {minimum} zijn; deze zouden {each} zijn" in error_at(screen, "count")


async def test_bad_input_is_reported_at_its_field(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_arrangement(pilot, first_case(app, ARRANGEABLE))
        await fill(pilot, "installment", "12,345")
        assert "Een bedrag heeft hoogstens 2 decimalen: 12,345" in error_at(screen, "installment")
        await fill(pilot, "installment", "")
        await fill(pilot, "count", "3")
        await fill(pilot, "first_date", "31-02-2027")
        assert "31-02-2027 bestaat niet: die maand heeft 28 dagen" in error_at(screen, "first_date")  # issue 14
        await fill(pilot, "first_date", "2026-11-01")  # ISO is read too; the rule then refuses the past
        assert "De eerste datum mag niet in het verleden liggen" in error_at(screen, "first_date")
        await fill(pilot, "first_date", "2026-12-01")
        await fill(pilot, "installment", "50")  # both given: the domain asks for one of the two
        assert "óf" in error_at(screen, "count")


async def test_a_valid_plan_is_saved_and_audited(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app, ARRANGEABLE)
        await open_arrangement(pilot, case_id)
        await fill(pilot, "count", "6")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        detail_screen = app.screen
        assert isinstance(detail_screen, ClientDetailScreen)
        await app.workers.wait_for_complete()  # the detail reloads
        await pilot.pause()
        assert detail_screen.detail is not None and detail_screen.detail.case.status == "arrangement"
        assert "Status Regeling" in shown(detail_screen.query_one("#case"))
        assert "lopend" in " ".join(shown(w) for w in detail_screen.query("#arrangements-list .subhead"))
        with app.ctx.db.reader() as s:
            events = s.scalars(
                select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action == "arrangement.create")
            ).all()
        assert len(events) == 1 and events[0].actor == "demo"


async def test_escape_cancels_without_saving(app_for: Callable[..., Any]) -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app, ARRANGEABLE)
        await open_arrangement(pilot, case_id)
        await fill(pilot, "count", "6")
        await pilot.press("escape")  # typed and not saved: it asks first (issue 14)
        await pilot.pause()
        await pilot.press("j", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ClientDetailScreen)
        assert arrangements_of(app, case_id) == 0


@pytest.mark.parametrize(("lang", "expected"), [("nl", "gewijzigd door jansen"), ("en", "changed by jansen")])
async def test_a_case_changed_meanwhile_keeps_the_input(app_for: Callable[..., Any], lang: str, expected: str) -> None:
    app = app_for(lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app, ARRANGEABLE)
        screen = await open_arrangement(pilot, case_id)
        await fill(pilot, "down_payment", "50")
        await fill(pilot, "count", "5")
        with app.ctx.db.transaction() as s:
            s.execute(
                text("UPDATE cases SET version = version + 1, updated_by = 'jansen', updated_at = :at WHERE id = :id"),
                {"at": "2026-11-23 09:25:00", "id": case_id},
            )
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        message = screen.query_one("#message", Label)
        assert message.display and expected in shown(message) and "09:25" in shown(message)
        assert screen.query_one("#down_payment", Input).value == "50"
        assert screen.query_one("#count", Input).value == "5"
        assert screen.query_one("#lines", DataTable).row_count == 6
        assert arrangements_of(app, case_id) == 0


async def test_a_second_arrangement_is_refused(app_for: Callable[..., Any]) -> None:
    """Refused when the form would open, naming who registered the running one (issue 14), not after typing."""
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app, "status = 'arrangement'")
        await open_detail(pilot, case_id)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ClientDetailScreen)
        assert any("heeft al een lopende betalingsregeling" in str(n.message) for n in app._notifications)


def test_snapshot_80x24(app_for: Callable[..., Any], snap_compare: Callable[..., bool]) -> None:
    app = app_for()
    case_id = first_case(app, ARRANGEABLE)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await open_arrangement(pilot, case_id)
        await fill(pilot, "count", "6")
        await settle_picture(pilot)  # tables sized, nothing moving (tests/ui/pictures.py)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_the_kept_arrangement_form_opens_again_as_new_for_the_next_case(app_for: Callable[..., Any]) -> None:
    """The app keeps one arrangement form (issue 18): left with a plan typed, and opened on another client's case, it
    is as a new one for that case (title, arrears, fields, plan, messages, focus), and it saves for that case."""
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        first = first_case(app, ARRANGEABLE)
        with app.ctx.db.reader() as s:
            second = int(
                s.execute(
                    text(
                        f"SELECT id FROM cases WHERE {ARRANGEABLE} AND client_id <> "
                        "(SELECT client_id FROM cases WHERE id = :first) ORDER BY id LIMIT 1"
                    ),
                    {"first": first},
                ).scalar_one()
            )
        form = await open_arrangement(pilot, first)
        assert app.get_screen(ArrangementScreen.KEPT_AS or "") is form
        await fill(pilot, "count", "7")
        await fill(pilot, "installment", "5")  # both: a message at the count
        assert error_at(form, "count")
        await pilot.press("escape", "y", "enter")  # typed, not saved: leave anyway
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ClientDetailScreen)
        app.pop_screen()
        await pilot.pause()

        detail = client_detail(app.ctx, second)
        again = await open_arrangement(pilot, second)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert again is form and form.detail.case.id == second
        assert lit(detail.client.name).plain in shown(form.query_one("#title"))  # as shown: control characters too
        assert app.tr.money(detail.arrears.total) in shown(form.query_one("#cover"))
        assert app.tr.money(detail.arrears.principal) in shown(form.query_one("#note"))
        values = {i.id: i.value for i in form.query(Input).results(Input)}
        assert values["down_payment"] == "0" and values["count"] == "" and values["installment"] == ""
        assert error_at(form, "count") == "" and form.query_one("#lines", DataTable).row_count == 0
        assert form.focused is form.query_one("#count", Input) and not form.dirty
        await fill(pilot, "count", "6")
        assert form.query_one("#lines", DataTable).row_count >= 6
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ClientDetailScreen)
    assert arrangements_of(app, second) == 1 and arrangements_of(app, first) == 0


async def test_the_arrangement_form_is_first_painted_with_the_clients_capacity(app_for: Callable[..., Any]) -> None:
    """Issue 18: the form's first paint waits (a bounded time) for the client's budget and the BKR standing, read in
    workers as it opens, so it is painted once, with the capacity panel filled, the first time and when kept."""
    app = app_for()
    painted: list[str] = []
    real_refresh = ArrangementScreen._compositor_refresh

    def refresh(screen: ArrangementScreen) -> None:  # what each paint of the form shows
        painted.append(shown(screen.query_one("#capacity")))
        real_refresh(screen)

    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app, ARRANGEABLE)
        ArrangementScreen._compositor_refresh = refresh  # type: ignore[method-assign]
        try:
            for _ in range(2):  # a new form, then the kept one shown again
                painted.clear()
                await open_detail(pilot, case_id)
                await pilot.press("a")
                for _ in range(3):
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                assert isinstance(app.screen, ArrangementScreen)
                assert painted and painted[0].strip(), "painted without the client's capacity"
                assert painted[0] == shown(app.screen.query_one("#capacity"))
                await pilot.press("escape")
                await pilot.pause()
                await pilot.press("escape")
                await pilot.pause()
        finally:
            ArrangementScreen._compositor_refresh = real_refresh  # type: ignore[method-assign]
