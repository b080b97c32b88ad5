"""Asking a consultation from a case (``k`` on the client detail, issue 13): to the client's business adviser or
to special management, with the question. Saving goes through ``services.consultations.ask``; the question lands
in their inbox as a task.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Select, TextArea

from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.cases import ClientDetail
from incasso_tui.services.consultations import advisers_for, ask
from incasso_tui.ui.labels import ROLE
from incasso_tui.ui.screens.form import FormScreen
from incasso_tui.ui.text import lit


class ConsultScreen(FormScreen[int]):
    """Dismissed with the consultation's id, or None when cancelled."""

    DEFAULT_CSS = """
    ConsultScreen #question { height: 5; }
    """
    FIELDS: ClassVar[tuple[str, ...]] = ("to", "question")

    def __init__(self, detail: ClientDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(lit(tr(N_("Consult about {name}"), name=self.detail.client.name), "bold"), classes="title")
            yield from self.field("to", N_("To"), Select([], prompt=tr(N_("(reading...)")), compact=True, id="to"))
            yield Label(tr(N_("Question (e.g. income fell: propose a deferral?)")))
            yield TextArea(id="question", soft_wrap=True, show_line_numbers=False, compact=True)
            yield Label(id="question-error", classes="error")
            yield from self.buttons(N_("Ask"))

    def on_mount(self) -> None:
        self.query_one("#question", TextArea).focus()
        self.run_worker(self._load, thread=True, exclusive=True, group="advisers")

    def _load(self) -> None:
        try:
            people = advisers_for(self.ctx, self.detail.case.id)
        except IncassoError as err:
            self.app.call_from_thread(self.error, None, self.tr.error(err))
            return
        self.app.call_from_thread(self._show, people)

    def _show(self, people: list[tuple[str, str, str]]) -> None:
        tr = self.tr
        select = self.query_one("#to", Select)
        # names are data: shown literally (a "[" in a name is no markup, an escape sequence no terminal command)
        options = [(lit(f"{full} ({name}) · {tr(ROLE.get(role, role))}"), name) for name, full, role in people]
        select.set_options(options)
        if options:
            select.value = options[0][1]
        else:
            self.error("to", tr(N_("This client has no adviser and special management has nobody to ask")))

    def read(self) -> dict[str, Any] | None:
        value = self.query_one("#to", Select).value
        if value is Select.BLANK:
            self.error("to", self.tr(N_("Whom do you ask?")))
            return None
        return {"to": str(value), "question": self.query_one("#question", TextArea).text}

    def submit(self, given: Any) -> int:
        return ask(self.ctx, self.detail.case.id, given["to"], given["question"])
