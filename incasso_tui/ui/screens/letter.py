"""A letter by hand (``l`` on the client detail): pick the kind, see what it will say, issue it.

The preview is ``services.letters.preview`` (rendered, nothing written): the figures the letter states are listed
here, the PDF's size and page count told. ``ctrl+s`` issues it through ``issue_by_hand``: the same guards as the
daily procedure, the letter row, its PDF in the outbox, the dossier document and, for e-mail, the outbox message,
in one transaction. A refusal (a paused case, a 14-day letter to a business...) is shown and nothing is written.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, Select, Static

from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.cases import ClientDetail
from incasso_tui.services.letters import HAND_KINDS, Preview, issue_by_hand, preview
from incasso_tui.ui.labels import CHANNEL, LETTER_KIND
from incasso_tui.ui.screens.form import FormScreen
from incasso_tui.ui.text import lit

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator

MAX_PREVIEW_LINES = 12
AMOUNT = re.compile(r"-?\d+\.\d\d")
ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")


def _shown(value: Any, tr: Translator) -> str:
    """A figure as the letter prints it: amounts (decimal strings with cents) and ISO dates in the session's notation."""
    if isinstance(value, str) and AMOUNT.fullmatch(value):
        return tr.money(Decimal(value))
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return tr.date(date.fromisoformat(value))
    return str(value)


def _flatten(value: Any, tr: Translator, prefix: str = "") -> list[str]:
    """The figures as ``section.field: value`` lines (nested sections and lists of loans included)."""
    if isinstance(value, dict):
        return [line for k, v in value.items() if v not in (None, [], {}) for line in _flatten(v, tr, f"{prefix}{k}.")]
    if isinstance(value, list):
        return [line for i, v in enumerate(value, 1) for line in _flatten(v, tr, f"{prefix}{i}.")]
    return [f"{prefix.rstrip('.')}: {_shown(value, tr)}"]


class LetterScreen(FormScreen[int]):
    """Dismissed with the issued letter's id, or None when cancelled."""

    FIELDS: ClassVar[tuple[str, ...]] = ("kind",)

    def __init__(self, detail: ClientDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(lit(tr(N_("Letter to {name}"), name=self.detail.client.name), "bold"), classes="title")
            yield from self.field(
                "kind",
                N_("Letter"),
                Select(
                    [(tr(LETTER_KIND[k]), k) for k in HAND_KINDS],
                    value=HAND_KINDS[0],
                    allow_blank=False,
                    compact=True,
                    id="kind",
                ),
            )
            yield Static(id="preview")
            yield from self.buttons(N_("Issue"))

    def on_mount(self) -> None:
        self.query_one("#kind", Select).focus()
        self._preview(str(self.query_one("#kind", Select).value))

    @on(Select.Changed, "#kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self._clear_errors()
        self._preview(str(event.value))

    @work(thread=True, exclusive=True, group="letter-preview")
    def _preview(self, kind: str) -> None:
        try:
            shown = preview(self.ctx, self.detail.case.id, kind)
        except IncassoError as err:
            self.app.call_from_thread(self._refused_preview, err)
            return
        self.app.call_from_thread(self._show, shown)

    def _refused_preview(self, err: IncassoError) -> None:
        self.query_one("#preview", Static).update("")
        self.error("kind", self.tr.error(err))

    def _show(self, shown: Preview) -> None:
        tr = self.tr
        figures = json.loads(shown.figures.to_json())
        lines = _flatten(figures, tr)
        head = tr(
            N_("By {channel} in {language}; the PDF has {size} KB."),
            channel=tr(CHANNEL.get(shown.channel, shown.channel)),
            language=shown.language,
            size=max(1, len(shown.pdf) // 1024),
        )
        more = (
            [
                tr.plural(
                    "… and {count} more figure",
                    "… and {count} more figures",
                    len(lines) - MAX_PREVIEW_LINES,
                    count=len(lines) - MAX_PREVIEW_LINES,
                )
            ]
            if len(lines) > MAX_PREVIEW_LINES
            else []
        )
        self.query_one("#preview", Static).update(
            Content("\n").join([lit(line) for line in [head, *lines[:MAX_PREVIEW_LINES], *more]])
        )

    def read(self) -> str | None:
        return str(self.query_one("#kind", Select).value)

    def submit(self, given: Any) -> int:
        return issue_by_hand(self.ctx, self.detail.case.id, given)
