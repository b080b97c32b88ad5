"""One document of the dossier, seen whole, and a copy of it to print (issues 12 and 19): `enter` on the dossier tab.

For a letter it says what the law attaches to it: the channel, the status, the day it was dispatched and the day it
is assumed received, the print batch it waits in, whom a claim statement is addressed to and what was sent with it.
`s` writes a copy of the PDF into the export folder (services.documents: a new file, audited), from which the desk
prints it or sends it on.
"""

from __future__ import annotations

import re
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, Static

from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.documents import DocumentView, copy_document, document
from incasso_tui.ui.desk import DeskModal
from incasso_tui.ui.document_text import fact_lines
from incasso_tui.ui.screens.prompt import PromptScreen
from incasso_tui.ui.text import lit, translate_bindings
from incasso_tui.ui.widgets.footer import DeskFooter
from incasso_tui.ui.work import service_worker


class DocumentScreen(DeskModal[None]):
    DEFAULT_CSS = """
    DocumentScreen { align: center middle; }
    DocumentScreen #document-box { width: 76; max-width: 100%; height: auto; max-height: 100%; padding: 0 1;
                                   border: round $primary; background: $surface; }
    DocumentScreen #document-facts { width: 100%; height: auto; }
    DocumentScreen #document-status { color: $text-muted; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "copy", "Save a copy", id="copy"),
        Binding("escape", "close", "Close", id="close"),
    ]

    def __init__(self, document_id: int) -> None:
        super().__init__()
        self.document_id = document_id
        self.view: DocumentView | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="document-box"):
            yield Static(id="document-facts")
            yield Label(id="document-status")
        yield DeskFooter()

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        self._status(self.tr(N_("Loading ...")))
        service_worker(
            self,
            lambda: document(self.ctx, self.document_id),
            self._show,
            lambda err: self._status(self.tr.error(err)),
            group="document",
        )

    def _status(self, text: str) -> None:
        self.query_one("#document-status", Label).update(lit(text))

    def _show(self, view: DocumentView) -> None:
        self.view = view
        self.query_one("#document-facts", Static).update(
            Content("\n").join(lit(text, style) for text, style in fact_lines(self.tr, view))
        )
        self._status(
            self.tr(N_("s: save a copy into the export folder, to print · esc: close"))
            if view.on_disk
            else self.tr(N_("This document has no file: nothing to copy"))
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``s`` is offered only for a document whose file is there to copy."""
        if action == "copy":
            return self.view is not None and self.view.on_disk
        return True

    def action_copy(self) -> None:
        view, tr = self.view, self.tr
        if view is None:
            return
        if not view.on_disk:
            self._status(tr(N_("This document has no file: nothing to copy")))
            return
        stem = re.sub(r"[^0-9A-Za-z]+", "-", view.title).strip("-").lower() or "document"
        suggestion = f"{stem[:60]}-{self.ctx.clock.today().isoformat()}.pdf"
        folder = str(self.ctx.settings.export_dir.expanduser())

        def chosen(name: str | None) -> None:
            if not name:
                return
            self._status(tr(N_("Writing {path} ..."), path=name))
            service_worker(
                self,
                lambda: copy_document(self.ctx, view.id, name),
                lambda path: self._status(tr(N_("Copy written to {path}"), path=str(path))),
                self._failed,
                group="document-copy",
            )

        self.app.push_screen(
            PromptScreen(
                tr(
                    N_(
                        "Save a copy of the PDF: its file name (no folder); it is written into {folder} on the machine "
                        "incasso runs on (over SSH: the server). An existing file is not overwritten."
                    ),
                    folder=folder,
                ),
                value=suggestion,
                required=N_("Type the name of the file"),
            ),
            chosen,
        )

    def _failed(self, err: IncassoError) -> None:
        self._status(self.tr.error(err))

    def action_close(self) -> None:
        self.dismiss(None)
