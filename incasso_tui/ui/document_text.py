"""What is said of a dossier document, in the session's language: the document screen (``ui.screens.document``)
and ``incasso documents`` say it in the same words. No Textual here: the command line imports it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from incasso_tui.domain.enums import LetterStatus
from incasso_tui.errors import N_
from incasso_tui.ui.labels import CHANNEL, DOCUMENT_KIND, LETTER_KIND, LETTER_STATUS, label

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator
    from incasso_tui.services.documents import DocumentView

MUTED, ERROR = "$text-muted", "$error"


def fact_lines(tr: Translator, view: DocumentView) -> list[tuple[str, str]]:
    """The lines that describe ``view``, each with its style for the screen ("" for plain)."""
    lines = [
        (view.title, "bold"),
        (tr(N_("{kind} · added {day}"), kind=label(tr, DOCUMENT_KIND, view.kind), day=view.added_on), MUTED),
    ]
    letter = view.letter
    if letter is not None:
        kind, channel = label(tr, LETTER_KIND, letter.kind), label(tr, CHANNEL, letter.channel)
        lines.append(
            (tr(N_("Letter: {kind} by {channel}, dated {day}"), kind=kind, channel=channel, day=letter.letter_date), "")
        )
        lines.append((tr(N_("Status: {status}"), status=label(tr, LETTER_STATUS, letter.status)), ""))
        if letter.dispatched_on is not None:
            lines.append((tr(N_("Dispatched {day}"), day=letter.dispatched_on), ""))
            if letter.received_on is not None:
                lines.append((tr(N_("Assumed received {day}"), day=letter.received_on), ""))
        elif letter.status == LetterStatus.RENDERED:
            waits = (
                tr(N_("In print batch {batch}: not yet posted"), batch=letter.batch_id)
                if letter.batch_id
                else tr(N_("Waits for a print batch: no legal effect yet"))
            )
            lines.append((waits, ""))
        if letter.addressee:
            lines.append((tr(N_("Addressed to {name}"), name=letter.addressee), ""))
        if letter.sent_with:
            sent = ", ".join(label(tr, DOCUMENT_KIND, item) for item in letter.sent_with)
            lines.append((tr(N_("Sent with it: {documents}"), documents=sent), ""))
        if letter.error:
            lines.append((tr(N_("Why it failed: {error}"), error=letter.error), ERROR))
    if view.path is None:
        lines.append((tr(N_("No file")), MUTED))
    elif view.on_disk:
        lines.append((tr(N_("File {path}"), path=view.path), MUTED))
    else:
        lines.append((tr(N_("File {path} is missing on this machine"), path=view.path), ERROR))
    return lines


def state(tr: Translator, view: DocumentView) -> str:
    """A letter's state in a few words for a list ("" for a document that is no letter)."""
    letter = view.letter
    if letter is None:
        return ""
    if letter.dispatched_on is None:
        return label(tr, LETTER_STATUS, letter.status)
    sent = tr(N_("sent {day}"), day=letter.dispatched_on)
    return sent + (" · " + tr(N_("Assumed received {day}"), day=letter.received_on) if letter.received_on else "")
