"""A one-line question in a box (a reason, a loan number): dismissed with the answer, or None on escape."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label

from incasso_tui.errors import N_
from incasso_tui.ui.desk import DeskModal
from incasso_tui.ui.text import lit, translate_bindings


class PromptScreen(DeskModal[str | None]):
    """An empty answer is refused with ``required`` (an English msgid) under the field."""

    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen #prompt-box { width: 60; height: auto; padding: 1 2; border: round $primary; background: $surface; }
    PromptScreen #prompt-box > Label { width: 100%; }  /* a long question wraps instead of being cut */
    PromptScreen #answer-error { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(
        self, prompt: str, *, placeholder: str = "", required: str = N_("A reason is required"), value: str = ""
    ) -> None:
        super().__init__()
        self.prompt = prompt
        self.placeholder = placeholder
        self.required = required
        self.value = value  # what the field holds at first (a suggestion the person may change)

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Label(lit(self.prompt))  # a question may hold data (a name, a path): shown literally
            yield Input(self.value, id="answer", placeholder=self.placeholder)
            yield Label(id="answer-error", classes="error")

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one("#answer-error", Label).update(self.tr(self.required))
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
