"""The deferral proposal and handover forms, driven with Pilot: previews, refusals at the field, saving."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from incasso_tui.services.budget import status as budget_status
from incasso_tui.services.cases import client_detail
from incasso_tui.store.models import Case, Handover, Proposal
from incasso_tui.ui.screens.deferral import DeferralScreen
from incasso_tui.ui.screens.handover import HandoverScreen
from incasso_tui.ui.text import lit
from tests.services.test_handover import _case
from tests.services.test_proposals import _case_with_a_running_loan


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _text(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one(selector).render())


async def _open(pilot, screen) -> None:  # type: ignore[no-untyped-def]
    await _settle(pilot)
    pilot.app.push_screen(screen)
    await _settle(pilot)


async def test_a_deferral_is_previewed_and_submitted_to_risk(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo")
    case_id, _version, loan_id = _case_with_a_running_loan(app.ctx)
    detail = client_detail(app.ctx, case_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, DeferralScreen(detail))
        assert "Positie" in _text(app, "#options") and "looptijd verlengen" in _text(app, "#options")
        assert app.screen.query_one("#compare").row_count > 3
        await pilot.press("ctrl+s")  # no weighing written yet: refused at that field
        await _settle(pilot)
        assert "afweging" in _text(app, "#weighing-error")
        # the client's budget (entered on the client detail) instead of a second entry of income and costs
        assert not app.screen.query("#income") and not app.screen.query("#expenses")
        status = budget_status(app.ctx, detail.client.id)
        assert status.capacity is not None
        panel = _text(app, "#capacity")
        assert "Budget 23-11-2026" in panel and app.tr.money(status.capacity.capacity) in panel
        assert "Daarna" in panel and ("past" in panel or "te veel" in panel)  # the installment after it, fitting or not
        app.screen.query_one("#weighing").value = "Seizoensdip; voorjaar herstel"
        await _settle(pilot)
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert not isinstance(app.screen, DeferralScreen)
    with app.ctx.db.reader() as s:
        (proposal,) = s.scalars(select(Proposal).where(Proposal.case_id == case_id))
    assert proposal.kind == "deferral" and proposal.proposed_by == "demo"


async def test_above_the_mandate_the_preview_and_the_save_say_so(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo", mandate_limit=Decimal("100.00"))
    case_id, _version, _loan = _case_with_a_running_loan(app.ctx)
    detail = client_detail(app.ctx, case_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, DeferralScreen(detail))
        app.screen.query_one("#weighing").value = "x"
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert isinstance(app.screen, DeferralScreen) and "Bijzonder Beheer" in _text(app, "#message")
    with app.ctx.db.reader() as s:
        assert s.scalar(select(Proposal.id)) is None


async def test_an_incomplete_dossier_stops_an_employee_and_a_supervisor_waives_it(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo")
    case_id, _version = _case(app.ctx, min_dpd=90)
    detail = client_detail(app.ctx, case_id)
    async with app.run_test(size=(100, 34)) as pilot:
        await _open(pilot, HandoverScreen(detail))
        assert "90+ dagen" in _text(app, "#qualifies") and "✗" in _text(app, "#checklist")
        assert "teamleider" in _text(app, "#waivers .hint")  # saving sends it to a supervisor (issue 13)
        await pilot.press(*"Geen contact sinds juli")
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert not isinstance(app.screen, HandoverScreen)  # kept with its summary, waiting for a supervisor
    with app.ctx.db.reader() as s:
        assert s.get(Case, case_id).status == "active"  # not handed over yet

    app = app_for("bakker")
    detail = client_detail(app.ctx, case_id)
    async with app.run_test(size=(100, 34)) as pilot:
        await _open(pilot, HandoverScreen(detail))
        # the employee's summary is there: the supervisor does not retype it
        assert app.screen.query_one("#summary").text == "Geen contact sinds juli"
        for box in app.screen.query("Checkbox"):
            box.value = True
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert not isinstance(app.screen, HandoverScreen)
    with app.ctx.db.reader() as s:
        assert s.get(Case, case_id).status == "handed_over"
        assert (
            s.scalar(select(Handover.waived_by).where(Handover.case_id == case_id, Handover.status == "handed_over"))
            == "bakker"
        )


LENDER = dict(
    lender_name="Demo Krediet B.V.",
    lender_street="Stationsplein 1",
    lender_postcode="3511 ED",
    lender_city="Utrecht",
    lender_iban="NL91ABNA0417164300",
    lender_phone="030 123 45 67",
    lender_email="incasso@example.nl",
)


async def test_the_keys_on_the_client_detail_open_the_forms(app_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.store.models import Letter
    from incasso_tui.ui.screens.detail import ClientDetailScreen
    from incasso_tui.ui.screens.letter import LetterScreen

    app = app_for("demo", letters_dir=tmp_path / "letters", **LENDER)
    case_id, _version, _loan = _case_with_a_running_loan(app.ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, ClientDetailScreen(case_id))
        for key, screen in (("u", DeferralScreen), ("h", HandoverScreen)):
            await pilot.press(key)
            await _settle(pilot)
            assert isinstance(app.screen, screen)
            await pilot.press("escape")
            await _settle(pilot)
        await pilot.press("l")
        await _settle(pilot)
        assert isinstance(app.screen, LetterScreen)
        assert "pdf" in _text(app, "#preview")  # the reminder, rendered but not written
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
    with app.ctx.db.reader() as s:
        (letter,) = s.scalars(select(Letter).where(Letter.case_id == case_id))
    assert letter.kind == "reminder" and letter.status in ("rendered", "sent") and letter.created_by == "demo"


async def test_write_off_and_call_in_are_proposed_from_the_detail(app_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.ui.screens.detail import ClientDetailScreen
    from incasso_tui.ui.screens.propose import CallInScreen, WriteOffScreen

    app = app_for("demo")
    case_id, _version, _loan = _case_with_a_running_loan(app.ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot, ClientDetailScreen(case_id))
        await pilot.press("w")
        await _settle(pilot)
        assert isinstance(app.screen, WriteOffScreen)
        app.screen.query_one("#reason").value = "Faillissement afgewikkeld, geen boedel"
        app.screen.query_one("#amount").value = "999999999,00"
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert isinstance(app.screen, WriteOffScreen) and "meer dan het saldo" in _text(app, "#message")
        app.screen.query_one("#amount").value = "250,00"
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        await pilot.press("o")
        await _settle(pilot)
        assert isinstance(app.screen, CallInScreen)
        app.screen.query_one("#reason").value = "Geen betaling sinds juni"
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
    with app.ctx.db.reader() as s:
        kinds = sorted(s.scalars(select(Proposal.kind).where(Proposal.case_id == case_id)))
    assert kinds == ["call_in", "write_off"]


async def test_the_watch_period_and_a_colleagues_change_are_shown_on_the_deferral_form(app_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.services.context import Context
    from incasso_tui.services.proposals import decide, proposals, propose_deferral_of_repayment
    from incasso_tui.services.users import resolve_actor
    from tests.services.test_proposals import _input

    app = app_for("demo")
    ctx = app.ctx
    as_user = lambda name: Context(db=ctx.db, actor=resolve_actor(ctx.db, name), clock=ctx.clock, settings=ctx.settings)  # noqa: E731
    case_id, version, loan_id = _case_with_a_running_loan(ctx)
    proposal_id = propose_deferral_of_repayment(ctx, case_id, version, _input(loan_id))
    decide(as_user("bakker"), proposal_id, proposals(ctx, case_id=case_id)[0].version, approve=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, DeferralScreen(client_detail(ctx, case_id)))
        assert "observatieperiode" in _text(app, "#options")

    other, other_version, other_loan = _case_with_a_running_loan(ctx)
    detail = client_detail(ctx, other)
    app = app_for("demo")  # a new session on the same book
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, DeferralScreen(detail))
        # meanwhile jansen submits a call-in on the same case: the case's version moves on
        from incasso_tui.services.proposals import propose_call_in

        propose_call_in(as_user("jansen"), other, other_version, other_loan, "geen contact")
        app.screen.query_one("#weighing").value = "Seizoen"
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert isinstance(app.screen, DeferralScreen) and "gewijzigd door jansen" in _text(app, "#message")
        assert app.screen.query_one("#weighing").value == "Seizoen"  # what was typed stays


async def test_the_kept_deferral_form_opens_again_as_new_for_the_next_case(app_for) -> None:  # type: ignore[no-untyped-def]
    """The app keeps one deferral form (issue 18): cancelled, and opened for another case, it shows that case's
    client, loans and preview, with every field as new."""
    from incasso_tui.ui.screens.detail import ClientDetailScreen

    app = app_for("demo")
    case_id, _version, loan_id = _case_with_a_running_loan(app.ctx)
    with app.ctx.db.reader() as s:
        other = s.scalars(
            select(Case.id).where(Case.status == "active", Case.client_id != s.get(Case, case_id).client_id)
        ).first()
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        screen = ClientDetailScreen(other)
        await _open(pilot, screen)
        await pilot.press("u")
        await _settle(pilot)
        form = app.screen
        assert isinstance(form, DeferralScreen) and app.get_screen(DeferralScreen.KEPT_AS) is form
        form.query_one("#months").value = "5"
        form.query_one("#weighing").value = "Eerst"
        await _settle(pilot)
        await pilot.press("escape", "y", "enter")
        await _settle(pilot)
        assert app.screen is screen
        app.pop_screen()
        await _open(pilot, ClientDetailScreen(case_id))
        await pilot.press("u")
        await _settle(pilot)
        assert app.screen is form and form.detail.case.id == case_id
        detail = client_detail(app.ctx, case_id)
        assert lit(detail.client.name).plain in _text(app, ".title")
        active = [loan.id for loan in detail.loans if loan.status == "active"]
        assert loan_id in active and [loan.id for loan in form.loans] == active
        assert form.query_one("#loan").value == active[0]
        assert form.query_one("#months").value == "3" and form.query_one("#weighing").value == ""
        assert "Positie" in _text(app, "#options") and form.query_one("#compare").row_count > 3
        assert not form.dirty


async def test_the_deferral_form_is_first_painted_with_its_preview(app_for) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: the form waits (a bounded time) for the preview of what it shows before its first paint, so it is
    painted once, with the options and both schedules, not once without them and again when they come."""
    app = app_for("demo")
    case_id, _version, _loan_id = _case_with_a_running_loan(app.ctx)
    detail = client_detail(app.ctx, case_id)
    painted: list[tuple[str, int]] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        screen = DeferralScreen(detail)
        real = screen._compositor_refresh

        def refresh() -> None:  # what each paint of the form shows
            painted.append((str(screen.query_one("#options").render()), screen.query_one("#compare").row_count))
            real()

        screen._compositor_refresh = refresh  # type: ignore[method-assign]
        await _open(pilot, screen)
        assert painted, "the form was never painted"
        options, rows = painted[0]
        assert "Positie" in options and "looptijd verlengen" in options and rows > 3
