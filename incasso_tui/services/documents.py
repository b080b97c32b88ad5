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

from incasso_tui.atomicfile import atomic_write
from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_, BadInput, NotAllowed, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.context import Context
from incasso_tui.services.exports import export_path
from incasso_tui.store.models import Client, ClientAdviser, Document, Letter


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


def document(ctx: Context, document_id: int) -> DocumentView:
    """The document ``document_id`` with its letter's facts; an adviser reads only their own clients'."""
    with ctx.db.reader() as s:
        doc = s.get(Document, document_id)
        if doc is None:
            raise NotFound(N_("There is no document {id}"), id=str(document_id))
        if (
            ctx.actor.role == Role.ADVISER
            and s.scalar(
                select(ClientAdviser.client_id).where(
                    ClientAdviser.client_id == doc.client_id, ClientAdviser.adviser_id == ctx.actor.id
                )
            )
            is None
        ):
            raise NotAllowed(N_("An adviser reads only the cases of their own clients"))
        letter = s.scalar(select(Letter).where(Letter.file_path == doc.path)) if doc.path else None
        return DocumentView(
            doc.id,
            doc.client_id,
            doc.kind,
            doc.title,
            doc.added_on,
            doc.path,
            doc.path is not None and Path(doc.path).is_file(),
            _facts(letter) if letter else None,
        )


def documents(ctx: Context, client_id: int) -> list[DocumentView]:
    """Every document of the client's dossier, oldest first."""
    with ctx.db.reader() as s:
        if s.get(Client, client_id) is None:
            raise NotFound(N_("There is no client {id}"), id=str(client_id))
        ids = list(
            s.scalars(
                select(Document.id).where(Document.client_id == client_id).order_by(Document.added_on, Document.id)
            )
        )
    return [document(ctx, i) for i in ids]


def copy_document(ctx: Context, document_id: int, name: str) -> Path:
    """A copy of the document's PDF as the new file ``name`` in the export folder (a plain file name); audited."""
    view = document(ctx, document_id)
    if view.path is None or not view.on_disk:
        raise RuleViolation(
            N_("The document {title} has no file to copy (not rendered, or its file is gone)"), title=view.title
        )
    target = export_path(ctx.settings, name)
    if target.exists():
        raise RuleViolation(N_("The file {path} exists already: choose another name"), field="path", path=str(target))
    try:
        data = Path(view.path).read_bytes()
        atomic_write(target, data, exclusive=True)
    except FileExistsError:
        raise RuleViolation(
            N_("The file {path} exists already: choose another name"), field="path", path=str(target)
        ) from None
    except OSError as exc:
        raise BadInput(
            N_("Cannot write {path}: {error}"), field="path", path=str(target), error=exc.strerror or str(exc)
        ) from None
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
