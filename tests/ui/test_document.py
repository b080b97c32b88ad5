"""A dossier document opened from the client detail's dossier tab and copied to print (issues 12 and 19)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from incasso_tui.services.letters import render_pending
from incasso_tui.store.models import Case, Client, Document
from incasso_tui.ui.screens.detail import ClientDetailScreen
from incasso_tui.ui.screens.document import DocumentScreen
from tests.letter_samples import LENDER, add_pending_letter
from tests.ui.test_approvals import _settle, _text

LENDER_SETTINGS = {f"lender_{k}": v for k, v in LENDER.model_dump(exclude={"display_name"}).items()}


def _case_with_a_rendered_letter(app) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A case of the test book with a reminder rendered today; its case id and the row of the letter on the tab."""
    with app.ctx.db.reader() as s:
        case = s.scalars(select(Case).where(Case.status == "active", Case.pos_arrears > 0).order_by(Case.id)).first()
        assert case is not None
        case_id, client_id = case.id, case.client_id
    add_pending_letter(app.ctx.db, case_id, client_id)
    render_pending(app.ctx)
    with app.ctx.db.reader() as s:
        docs = list(
            s.scalars(select(Document).where(Document.client_id == client_id).order_by(Document.added_on, Document.id))
        )
        consent = s.scalar(select(Client.email_consent_on).where(Client.id == client_id))  # a row above the documents
    row = next(i for i, d in enumerate(docs) if d.path and d.path.endswith(".pdf") and Path(d.path).is_file())
    return case_id, row + (1 if consent else 0)


@pytest.mark.parametrize(
    ("lang", "size", "words"),
    [
        ("nl", (80, 24), ("Brief: Herinnering", "Wacht op een printbatch", "Kopie geschreven naar")),
        ("en", (120, 40), ("Letter: Reminder", "Waits for a print batch", "Copy written to")),
    ],
)
async def test_enter_on_the_dossier_tab_shows_the_letter_and_s_writes_a_copy(  # type: ignore[no-untyped-def]
    app_for, tmp_path: Path, lang: str, size: tuple[int, int], words: tuple[str, str, str]
) -> None:
    app = app_for(
        "demo", lang=lang, letters_dir=tmp_path / "outbox", export_dir=tmp_path / "exports", **LENDER_SETTINGS
    )
    case_id, row = _case_with_a_rendered_letter(app)
    async with app.run_test(size=size) as pilot:
        await _settle(pilot)
        await app.push_screen(ClientDetailScreen(case_id))
        await _settle(pilot)
        await pilot.press("8")
        await _settle(pilot)
        table = app.screen.query_one("#dossier-table")
        table.move_cursor(row=row)  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("enter")
        await _settle(pilot)
        assert isinstance(app.screen, DocumentScreen)
        shown = _text(app, "#document-facts")
        assert words[0] in shown and words[1] in shown, shown
        await pilot.press("s")
        await _settle(pilot)
        await pilot.press("enter")  # the suggested name
        await _settle(pilot)
        assert isinstance(app.screen, DocumentScreen)
        assert words[2] in _text(app, "#document-status")
        await pilot.press("escape")
        await _settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
    copies = list((tmp_path / "exports").glob("*.pdf"))
    assert len(copies) == 1 and copies[0].read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize(
    ("lang", "missing", "status"),
    [
        ("nl", "ontbreekt op deze machine", "heeft geen bestand"),
        ("en", "is missing on this machine", "has no file"),
    ],
)
async def test_a_document_whose_file_is_missing_says_so_and_offers_no_copy(  # type: ignore[no-untyped-def]
    app_for, lang: str, missing: str, status: str
) -> None:
    """The demo book records loan agreements with a path and no file: the screen names the missing file as an
    error and the footer offers no ``s`` (a key that could only say "nothing to copy")."""
    app = app_for("demo", lang=lang)
    with app.ctx.db.reader() as s:
        doc = s.scalars(select(Document).where(Document.path.is_not(None)).order_by(Document.id)).first()
        assert doc is not None and not Path(doc.path).is_file()
        doc_id = doc.id
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await app.push_screen(DocumentScreen(doc_id))
        await _settle(pilot)
        assert missing in _text(app, "#document-facts")
        assert status in _text(app, "#document-status")
        shown_keys = {key for key, active in app.screen.active_bindings.items() if active.enabled}
        assert "s" not in shown_keys and "escape" in shown_keys, shown_keys
