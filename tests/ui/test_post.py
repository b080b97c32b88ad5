"""The Post screen (``p`` on the worklist, issue 12): make a print batch, confirm its posting day, undo one."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from incasso_tui.services.letters import render_pending
from incasso_tui.services.procedure import run_procedure
from incasso_tui.store.models import Letter, PrintBatch
from tests.conftest import AS_OF
from tests.letter_samples import LENDER
from tests.ui.test_approvals import _settle, _text

LENDER_SETTINGS = {f"lender_{k}": v for k, v in LENDER.model_dump(exclude={"display_name"}).items()}


async def test_a_batch_is_made_posted_and_its_letters_dispatched(app_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = app_for("bakker", lang="nl", letters_dir=tmp_path / "outbox", **LENDER_SETTINGS)
    run_procedure(app.ctx, AS_OF)
    render_pending(app.ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("p")
        await _settle(pilot)
        assert "Printbatches: 0" in _text(app, "#count")
        assert "Brieven die wachten op een printbatch" in _text(app, "#entry")
        await pilot.press("b")
        await _settle(pilot)
        assert "nieuwe printbatch" in _text(app, "#message") and "Printbatches: 1" in _text(app, "#count")
        await pilot.press("p")  # the day it went into the post: a day in the future is refused
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", *"24-11-2026", "enter")
        await _settle(pilot)
        assert "in de toekomst" in _text(app, "#message")
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("enter")  # today, as suggested
        await _settle(pilot)
        assert "gepost" in _text(app, "#message")
    with app.ctx.db.reader() as s:
        batch = s.scalars(select(PrintBatch)).one()
        assert (batch.status, batch.posted_on) == ("posted", AS_OF)
        assert s.scalar(select(func.count()).where(Letter.batch_id == batch.id, Letter.status != "sent")) == 0


async def test_an_open_batch_is_undone_in_english(app_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = app_for("bakker", lang="en", letters_dir=tmp_path / "outbox", **LENDER_SETTINGS)
    run_procedure(app.ctx, AS_OF)
    render_pending(app.ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        await pilot.press("p")
        await _settle(pilot)
        await pilot.press("b")
        await _settle(pilot)
        await pilot.press("u")
        await _settle(pilot)
        assert "undone: its letters wait for the next batch" in _text(app, "#message")
        assert "Letters waiting for a print batch" in _text(app, "#entry")


async def test_the_detail_shows_the_e_mail_consent_and_what_became_of_each_letter(app_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from incasso_tui.services.dispatch import make_batch, set_email_consent
    from incasso_tui.services.letters import issue_by_hand
    from incasso_tui.store.models import Case, Client
    from tests.ui.test_detail import first_case, open_detail, shown

    app = app_for("demo", lang="nl", letters_dir=tmp_path / "outbox", **LENDER_SETTINGS)
    async with app.run_test(size=(80, 24)) as pilot:
        case_id = first_case(app)
        with app.ctx.db.transaction() as s:
            client_id = s.get(Case, case_id).client_id
            s.execute(update(Client).where(Client.id == client_id).values(email="klant@example.org"))
        detail = await open_detail(pilot, case_id)
        assert "Juridisch alleen per post" in shown(detail.query_one("#client"))
        await pilot.press("escape")
        set_email_consent(app.ctx, client_id, AS_OF, "getekend formulier")
        issue_by_hand(app.ctx, case_id, "contact_request", channel="letter")
        make_batch(app.ctx)
        detail = await open_detail(pilot, case_id)
        assert "Juridisch per e-mail sinds 23-11-2026" in shown(detail.query_one("#client"))
        await pilot.press("8")
        await _settle(pilot)
        table = detail.query_one("#dossier-table")
        rows = [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        assert "Toestemming e-mail getekend formulier" in rows[0]
        assert any("in printbatch 1" in row for row in rows)
