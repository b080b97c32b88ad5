"""A dossier document seen whole and copied to print (services.documents; issues 12 and 19), on both backends."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from incasso_tui.errors import BadInput, NotFound, RuleViolation
from incasso_tui.services.documents import copy_document, document, documents
from incasso_tui.services.letters import render_pending
from incasso_tui.store.models import AuditEvent, Document, Letter
from tests.dispatch_helpers import dispatch_waiting
from tests.services.test_letters_service import LENDER_SETTINGS, _add_letter, _case

pytestmark = pytest.mark.pg


def _rendered(ctx_for, tmp_path: Path):  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo", letters_dir=tmp_path / "outbox", export_dir=tmp_path / "exports", **LENDER_SETTINGS)
    case, client, loan = _case(ctx)
    letter_id = _add_letter(ctx, case, client, loan, "reminder")
    report = render_pending(ctx)
    assert report.rendered >= 1
    with ctx.db.reader() as s:
        path = s.scalar(select(Letter.file_path).where(Letter.id == letter_id))
        doc_id = s.scalar(select(Document.id).where(Document.path == path))
    assert doc_id is not None
    return ctx, client, letter_id, doc_id


def test_a_rendered_letter_is_shown_with_what_it_waits_for_then_its_dispatch(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx, client, letter_id, doc_id = _rendered(ctx_for, tmp_path)
    view = document(ctx, doc_id)
    assert view.client_id == client.id and view.on_disk and view.letter is not None
    assert (view.letter.id, view.letter.kind, view.letter.status) == (letter_id, "reminder", "rendered")
    assert view.letter.dispatched_on is None and view.letter.received_on is None  # no legal effect before dispatch
    assert doc_id in [d.id for d in documents(ctx, client.id)]
    dispatch_waiting(ctx.db, date(2026, 11, 23), ctx.settings, id=letter_id)
    after = document(ctx, doc_id).letter
    assert after is not None and after.status == "sent" and after.dispatched_on == date(2026, 11, 23)
    # assumed received on the second delivery day after Monday 23 November: Wednesday 25 November
    assert after.received_on == date(2026, 11, 25)


def test_a_copy_is_a_new_file_with_the_same_bytes_and_an_audit_event(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx, _client, _letter_id, doc_id = _rendered(ctx_for, tmp_path)
    with ctx.db.reader() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "document.copy"))
    target = copy_document(ctx, doc_id, "herinnering.pdf")
    assert target == tmp_path / "exports" / "herinnering.pdf"
    assert target.read_bytes() == Path(str(document(ctx, doc_id).path)).read_bytes()
    assert oct(os.stat(target).st_mode & 0o777) == "0o600"
    with ctx.db.reader() as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "document.copy").order_by(AuditEvent.id.desc())
        ).first()
        count = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "document.copy"))
    assert count == (before or 0) + 1 and event is not None and event.entity_id == doc_id
    assert event.actor == "demo" and str(target) in (event.after or "")
    # never over a file, never outside the export folder; nothing written or recorded when refused
    with pytest.raises(RuleViolation):
        copy_document(ctx, doc_id, "herinnering.pdf")
    with pytest.raises(BadInput):
        copy_document(ctx, doc_id, "../elders.pdf")
    with ctx.db.reader() as s:
        assert (
            s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "document.copy")) == count
        )
    assert not (tmp_path / "elders.pdf").exists()


def test_a_document_without_a_file_or_unknown_is_refused(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo", export_dir=tmp_path / "exports")
    with ctx.db.reader() as s:
        doc_id = s.scalar(select(Document.id).where(Document.path.is_(None)).order_by(Document.id))
    if doc_id is not None:
        view = document(ctx, doc_id)
        assert not view.on_disk and view.letter is None
        with pytest.raises(RuleViolation):
            copy_document(ctx, doc_id, "x.pdf")
    else:  # the test book's documents all have a path: one whose file is missing is refused the same way
        with ctx.db.reader() as s:
            doc_id = s.scalar(select(Document.id).order_by(Document.id))
        assert doc_id is not None
        assert not document(ctx, doc_id).on_disk
        with pytest.raises(RuleViolation):
            copy_document(ctx, doc_id, "x.pdf")
    assert not (tmp_path / "exports" / "x.pdf").exists()
    with pytest.raises(NotFound):
        document(ctx, 10**9)
