"""A document of a client's dossier seen whole, and a copy of it to print (issues 12 and 19).

The dossier tab lists the documents; this use case shows one of them with what the law attaches to it (for a
letter: its channel, its status, the day it was dispatched and the day it is assumed received, the print batch it
waits in, whom it is addressed to and the documents sent with it) and writes a copy of its PDF into the export folder
(``export_dir``), the place from which the desk prints or sends a file on. A copy is taken out of the system like
an export: it is a new file, whole or not at all, never over another, and the audit trail says who took which
document where. The copy has no legal effect: only the letter's own dispatch has (issue 12).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incasso_tui.atomicfile import atomic_write
from incasso_tui.errors import N_, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.cases import check_reads_client
from incasso_tui.services.context import Context
from incasso_tui.services.exports import export_path, new_export_file
from incasso_tui.store.models import Client, Document, Letter


@dataclass(frozen=True)
class LetterFacts:
    id: int
    kind: str
    channel: str
    status: str
    letter_date: date
    dispatched_on: date | None
    received_on: date | None  # assumed received: from the dispatch (issue 12)
    batch_id: int | None
    error: str | None
    addressee: str | None  # a claim statement's: the curator, bewindvoerder or debt counsellor
    sent_with: tuple[str, ...]  # the dossier documents sent with it (a claim statement's enclosures)


@dataclass(frozen=True)
class DocumentView:
    id: int
    client_id: int
    kind: str
    title: str
    added_on: date
    path: str | None
    on_disk: bool
    letter: LetterFacts | None


def _facts(letter: Letter) -> LetterFacts:
    """The letter's facts; a claim statement's addressee and the documents sent with it come from the figures the
    track stored (``services.tracks``: flat, ``trustee_name`` and ``documents``) or rendered (``debt_track``)."""
    try:
        figures = json.loads(letter.figures or "{}")
    except ValueError:
        figures = {}
    if not isinstance(figures, dict):
        figures = {}

    def part(parent: dict[str, Any], key: str) -> dict[str, Any]:
        value = parent.get(key)
        return value if isinstance(value, dict) else {}

    addressee = figures.get("trustee_name") or part(part(figures, "debt_track"), "trustee").get("name")
    claim = part(figures, "claim")
    sent = [*claim.get("enclosures", []), *(figures.get("documents") or claim.get("documents") or [])]
    return LetterFacts(
        letter.id,
        letter.kind,
        letter.channel,
        letter.status,
        letter.letter_date,
        letter.dispatched_on,
        letter.received_on,
        letter.batch_id,
        letter.error,
        str(addressee) if addressee else None,
        tuple(str(item.get("title", item)) if isinstance(item, dict) else str(item) for item in sent),
    )


def _views(s: Session, docs: list[Document]) -> list[DocumentView]:
    """The documents with their letters' facts (a letter is its document's by the PDF's path): one query for all."""
    paths = [doc.path for doc in docs if doc.path]
    letters = {letter.file_path: letter for letter in s.scalars(select(Letter).where(Letter.file_path.in_(paths)))}
    return [
        DocumentView(
            doc.id,
            doc.client_id,
            doc.kind,
            doc.title,
            doc.added_on,
            doc.path,
            doc.path is not None and Path(doc.path).is_file(),
            _facts(letters[doc.path]) if doc.path in letters else None,
        )
        for doc in docs
    ]


def document(ctx: Context, document_id: int) -> DocumentView:
    """The document ``document_id`` with its letter's facts; an adviser reads only their own clients'."""
    with ctx.db.reader() as s:
        doc = s.get(Document, document_id)
        if doc is None:
            raise NotFound(N_("There is no document {id}"), id=str(document_id))
        check_reads_client(ctx, s, doc.client_id)
        return _views(s, [doc])[0]


def documents(ctx: Context, client_id: int) -> list[DocumentView]:
    """Every document of the client's dossier, oldest first."""
    with ctx.db.reader() as s:
        if s.get(Client, client_id) is None:
            raise NotFound(N_("There is no client {id}"), id=str(client_id))
        check_reads_client(ctx, s, client_id)
        docs = list(
            s.scalars(select(Document).where(Document.client_id == client_id).order_by(Document.added_on, Document.id))
        )
        return _views(s, docs)


def copy_document(ctx: Context, document_id: int, name: str) -> Path:
    """A copy of the document's PDF as the new file ``name`` in the export folder (a plain file name); audited."""
    view = document(ctx, document_id)
    if view.path is None or not view.on_disk:
        raise RuleViolation(
            N_("The document {title} has no file to copy (not rendered, or its file is gone)"), title=view.title
        )
    target = export_path(ctx.settings, name)
    data = Path(view.path).read_bytes()
    with new_export_file(target):
        atomic_write(target, data, exclusive=True)
    try:
        with ctx.db.transaction() as s:
            audit.record(
                s,
                at=ctx.clock.now(),
                actor=ctx.actor.name,
                action="document.copy",
                entity="document",
                entity_id=view.id,
                after={
                    "client_id": view.client_id,
                    "title": view.title,
                    "letter_id": view.letter.id if view.letter else None,
                    "file": str(target),
                    "bytes": len(data),
                },
            )
    except BaseException:
        os.unlink(target)  # no copy the audit trail does not know of
        raise
    return target
