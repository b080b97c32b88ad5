"""The queue's assisted matching as a user drives it (issue 14): suggestions with reasons, confirm with the name and
the allocation, booked, then undone from the booked list; money out apart, marked in bulk, amounts with their sign."""

from __future__ import annotations

from sqlalchemy import select

from incasso_tui.services.payments import import_statement, queue
from incasso_tui.store.models import BankEntryRow
from incasso_tui.ui.screens.matching import BookedScreen, CandidatesScreen
from incasso_tui.ui.screens.payments import QueueScreen
from tests.payment_files import Tx, camt053
from tests.services.test_matching import _client_with_arrears
from tests.ui.test_approvals import _settle, _text


async def test_book_from_a_suggestion_and_undo_it(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo", lang="en")
    _case, loan, client, installment = _client_with_arrears(app.ctx)
    import_statement(app.ctx, camt053([Tx(str(installment), name=client.name, iban=None, text="nov", bank_ref="S1")]))
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("u")
        await _settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("s")
        await _settle(pilot)
        cands = app.screen
        assert isinstance(cands, CandidatesScreen) and cands.found[0].client_id == client.id
        reasons = _text(app, "#cand-reasons")
        assert "the payer's name is 100 % like the client's" in reasons
        assert "the amount is an installment of the loan" in reasons
        await pilot.press("1")
        await _settle(pilot)
        question = str(app.screen.query_one("Label").render())
        assert client.name in question and loan.number in question and "principal" in question
        await pilot.press("y", "enter")
        await _settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert f"for {client.name} on loan {loan.number}" in _text(app, "#message")
        assert queue(app.ctx) == []
        await pilot.press("b")
        await _settle(pilot)
        assert isinstance(app.screen, BookedScreen) and app.screen.rows[0].loan_number == loan.number
        await pilot.press("z")
        await pilot.press("y", "enter")
        await _settle(pilot)
        assert "is back in the queue" in _text(app, "#message")
        assert [q.amount for q in queue(app.ctx)] == [installment]


async def test_money_out_apart_marked_in_bulk_with_the_sign(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo")
    import_statement(
        app.ctx,
        camt053(
            [
                Tx("564.05", credit=False, reversal=True, return_reason="MD06", e2e="X-1", bank_ref="O1"),
                Tx("2.50", credit=False, reversal=True, return_reason="AC04", e2e="X-2", bank_ref="O2"),
                Tx("9.99", iban=None, text="?", bank_ref="O3"),
            ]
        ),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("u")
        await _settle(pilot)
        assert "Niet-gekoppelde betalingen: 1" in _text(app, "#count")
        await pilot.press("d")
        await _settle(pilot)
        assert "Geld uit" in _text(app, "#count") and len(app.screen.rows) == 2
        await pilot.press("N")
        await pilot.press(*"stornos", "enter")
        await _settle(pilot)
        assert "2 posten, €\xa0-566,55" in _text(app, "#message")
        with app.ctx.db.reader() as s:
            assert sorted(s.scalars(select(BankEntryRow.status))) == ["not_ours", "not_ours", "unmatched"]


async def test_marked_as_not_ours_keeps_the_minus_sign(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo")
    import_statement(
        app.ctx, camt053([Tx("564.05", credit=False, reversal=True, return_reason="MD06", e2e="Y-1", bank_ref="P1")])
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("u", "d")
        await _settle(pilot)
        await pilot.press("n", *"bank", "enter")
        await _settle(pilot)
        assert _text(app, "#message") == "Gemarkeerd als niet van ons: €\xa0-564,05"
