"""The statement import screen and the unmatched queue, driven with Pilot from the worklist."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from incasso_tui.store.models import AuditEvent, BankEntryRow
from incasso_tui.ui.screens.payments import ImportScreen, QueueScreen
from tests.payment_files import Tx, camt053
from tests.ui.test_approvals import _settle, _text


async def test_import_a_statement_from_the_worklist_and_a_refused_file(app_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "stmt.xml"
    good.write_bytes(
        camt053([Tx("10.00", text="L00000000 onbekend", bank_ref="U1"), Tx("3.00", credit=False, bank_ref="U2")])
    )
    bad = tmp_path / "bad.xml"
    bad.write_bytes(good.read_bytes().replace(b'Ccy="EUR">10.00', b'Ccy="USD">10.00'))
    app = app_for("demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("i")
        await _settle(pilot)
        assert isinstance(app.screen, ImportScreen)
        await pilot.press(*str(bad), "enter")
        await _settle(pilot)
        assert "geweigerd, niets geboekt" in _text(app, "#results") and "USD" in _text(app, "#results")
        await pilot.press("ctrl+u", *str(good), "enter")  # the refused path stays for correcting
        await _settle(pilot)
        shown = _text(app, "#results")
        assert "2 regels, 2 nieuw, 0 al ingelezen, 0 gekoppeld, 1 naar de wachtrij" in shown
        await pilot.press("escape", "u")
        await _settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert "Niet-gekoppelde betalingen: 1" in _text(app, "#count")


async def test_queue_book_on_a_loan_and_mark_not_ours(app_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.services.payments import import_statement
    from incasso_tui.store.models import Loan

    app = app_for("demo", lang="en")
    import_statement(
        app.ctx,
        camt053(
            [
                Tx("12.00", iban=None, name="[b]Mr X[/b]", text="voor de lening", bank_ref="Q1"),
                Tx("4.00", iban=None, text="?", bank_ref="Q2"),
            ]
        ),
    )
    with app.ctx.db.reader() as s:
        loan = s.scalars(select(Loan.number).where(Loan.status == "active").order_by(Loan.id)).first()
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("u")
        await _settle(pilot)
        assert "Unmatched payments: 2" in _text(app, "#count")
        assert "[b]Mr X[/b]" in _text(app, "#entry")  # shown literally, not as markup
        await pilot.press("a")
        await pilot.press(*loan, "enter")
        await _settle(pilot)
        assert f"Booked €12.00 on loan {loan}" in _text(app, "#message")
        assert "Unmatched payments: 1" in _text(app, "#count")
        await pilot.press("n")
        await pilot.press(*"terugstorten", "enter")
        await _settle(pilot)
        assert "Unmatched payments: 0" in _text(app, "#count")
    with app.ctx.db.reader() as s:
        assert [r.status for r in s.scalars(select(BankEntryRow).order_by(BankEntryRow.id))] == ["matched", "not_ours"]
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.entity == "bank_entry")).all()[-2:] == [
            "payment.assign",
            "payment.not_ours",
        ]


async def test_the_payment_keys_are_for_the_desk_only(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("audit")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("i", "u")
        await _settle(pilot)
        assert not isinstance(app.screen, (ImportScreen, QueueScreen))


async def test_a_write_off_proposal_in_the_approval_queue(app_for) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from incasso_tui.services.context import Context
    from incasso_tui.services.proposals import propose_write_off
    from incasso_tui.services.users import resolve_actor
    from incasso_tui.store.models import Case
    from incasso_tui.ui.screens.approvals import ApprovalsScreen
    from tests.services.test_payments import _one_loan_case

    app = app_for("bakker")
    demo = Context(
        db=app.ctx.db, actor=resolve_actor(app.ctx.db, "demo"), clock=app.ctx.clock, settings=app.ctx.settings
    )
    case_id, loan_id, number, _c, _i = _one_loan_case(demo)
    with demo.db.reader() as s:
        version = s.get(Case, case_id).version
    propose_write_off(demo, case_id, version, loan_id, Decimal("300.00"), "Klant onvindbaar [x]")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("v")
        await _settle(pilot)
        assert isinstance(app.screen, ApprovalsScreen)
        shown = _text(app, "#proposal")
        assert f"€\xa0300,00 afboeken op lening {number}" in shown and "Klant onvindbaar [x]" in shown
        assert "Afboeking" in str(app.screen.query_one("#queue").get_row_at(0)[1])
