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
