"""The supervisor's approval queue and special management's list, driven with Pilot."""

from __future__ import annotations

from sqlalchemy import select

from incasso_tui.store.models import Case, Proposal
from incasso_tui.ui.screens.approvals import ApprovalsScreen
from incasso_tui.ui.screens.special import SpecialManagementScreen
from incasso_tui.ui.screens.worklist import WorklistScreen
from tests.services.test_proposals import _case_with_a_running_loan, _input


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _open_queue(pilot) -> ApprovalsScreen:  # type: ignore[no-untyped-def]
    """`v` on the worklist, settled: the approvals screen."""
    await _settle(pilot)
    await pilot.press("v")
    await _settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ApprovalsScreen)
    return screen


def _text(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one(selector).render())


def _submit(app, proposer: str) -> int:  # type: ignore[no-untyped-def]
    from incasso_tui.services.context import Context
    from incasso_tui.services.proposals import propose_deferral_of_repayment
    from incasso_tui.services.users import resolve_actor

    ctx = app.ctx
    as_proposer = Context(db=ctx.db, actor=resolve_actor(ctx.db, proposer), clock=ctx.clock, settings=ctx.settings)
    case_id, version, loan_id = _case_with_a_running_loan(as_proposer)
    propose_deferral_of_repayment(as_proposer, case_id, version, _input(loan_id))
    return case_id


async def test_a_supervisor_approves_a_deferral_from_the_queue(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("bakker")
    case_id = _submit(app, "demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("v")
        await _settle(pilot)
        assert isinstance(app.screen, ApprovalsScreen)
        assert "1 voorstel wacht" in _text(app, "#count")
        assert "Uitstel van 3 maanden" in _text(app, "#proposal") and "Seizoenszaak" in _text(app, "#proposal")
        assert app.screen.query_one("#lines").row_count > 3  # the schedule preview
        await pilot.press("y")
        await _settle(pilot)
        assert "Goedgekeurd" in _text(app, "#message") and "0 voorstellen" in _text(app, "#count")
    with app.ctx.db.reader() as s:
        assert s.get(Case, case_id).status == "deferral"


async def test_four_eyes_refusal_is_shown_and_nothing_changes(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("bakker")
    _submit(app, "bakker")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("v", "y")
        await _settle(pilot)
        assert "zelf voorgesteld" in _text(app, "#message") and "vier ogen" in _text(app, "#message")
    with app.ctx.db.reader() as s:
        assert s.scalar(select(Proposal.status)) == "submitted"


async def test_a_rejection_asks_for_a_reason(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("bakker")
    _submit(app, "jansen")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("v", "x")
        await _settle(pilot)
        await pilot.press("enter")  # empty: refused at the field
        await pilot.pause()
        assert "verplicht" in _text(app, "#answer-error")
        await pilot.press(*"Geen herstel", "enter")
        await _settle(pilot)
        assert "Afgewezen" in _text(app, "#message")
    with app.ctx.db.reader() as s:
        assert s.scalar(select(Proposal.decision_reason)) == "Geen herstel"


async def test_employees_have_no_approval_queue_and_special_management_starts_on_its_list(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("v", "g")
        await _settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
    app = app_for("visser")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert isinstance(app.screen, SpecialManagementScreen)
        handed_over = int(_text(app, "#count").split(": ")[1].split()[0])
        assert handed_over > 0 and app.screen.query_one("#queue").row_count == handed_over  # the book's handovers
        await pilot.press("escape")
        await _settle(pilot)
        assert isinstance(app.screen, WorklistScreen)


async def test_the_context_beside_a_proposal_is_read_when_it_is_highlighted(app_for) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: the budget, cause, arrangements and promises beside a proposal are read for the highlighted one
    (the first with the rows), not for every waiting proposal before the queue shows."""
    from textual.content import Content

    from incasso_tui.services.budget import decision_context
    from incasso_tui.ui.widgets.capacity import decision_lines

    app = app_for("bakker")
    first = _submit(app, "demo")
    with app.ctx.db.transaction() as s:  # a second proposal, on another case (the same figures)
        p = s.scalars(select(Proposal)).one()
        other = s.scalar(select(Case.id).where(Case.status == "active", Case.id != first).order_by(Case.id))
        columns = {c.key: getattr(p, c.key) for c in Proposal.__mapper__.column_attrs if c.key not in ("id",)}
        s.add(Proposal(**{**columns, "case_id": other, "proposed_at": p.proposed_at.replace(minute=59)}))
    assert other is not None

    def beside(case_id: int) -> str:
        return str(Content("\n").join(decision_lines(app.tr, decision_context(app.ctx, case_id))))

    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_queue(pilot)
        assert "2 voorstellen" in _text(app, "#count")
        assert set(screen.contexts) == {first}  # only the highlighted proposal's case was read
        assert _text(app, "#beside") == beside(first)
        await pilot.press("down")
        await _settle(pilot)
        assert set(screen.contexts) == {first, other}
        assert _text(app, "#beside") == beside(other) != beside(first)


async def test_the_queue_opens_again_on_the_kept_screen_read_afresh_and_painted_once(app_for) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: the app keeps one approvals screen; opened again it shows the queue as it is now (a proposal
    decided meanwhile, elsewhere, is gone; no message of the last visit), painted once, with the keys it has now."""
    from textual.widgets._footer import FooterKey

    from incasso_tui.ui.widgets.footer import DeskFooter

    app = app_for("bakker")
    _submit(app, "demo")
    async with app.run_test(size=(80, 24)) as pilot:
        first = await _open_queue(pilot)
        assert "1 voorstel wacht" in _text(app, "#count")
        first.message("Goedgekeurd: iets van eerder")
        assert "approve" in [k.action for k in first.query_one(DeskFooter).query(FooterKey)]
        await pilot.press("escape")
        await _settle(pilot)
        from incasso_tui.services.proposals import decide, proposals

        (waiting,) = proposals(app.ctx)
        decide(app.ctx, waiting.id, waiting.version, approve=False, reason="Meanwhile, elsewhere")
        painted: list[str] = []
        real = first._compositor_refresh

        def refresh() -> None:
            painted.append(_text(app, "#count") if app.screen is first else "")
            real()

        first._compositor_refresh = refresh  # type: ignore[method-assign]
        assert await _open_queue(pilot) is first  # the kept screen, not a new one
        assert "0 voorstellen wachten" in _text(app, "#count") and "eerder" not in _text(app, "#message")
        assert painted and all("0 voorstellen wachten" in p for p in painted)  # no paint before the rows were read
        assert app.screen.query_one("#lines").row_count == 0  # the schedule of the proposal shown last time: gone
        assert "Er wachten geen voorstellen" in _text(app, "#proposal")
        assert "approve" not in [k.action for k in first.query_one(DeskFooter).query(FooterKey)]  # nothing to decide
