"""Pausing the procedure on a case by hand (``p`` on the client detail), or resuming a paused case.

Saving goes through ``services.tracks.pause_case`` / ``resume_case`` in a worker; refusals appear at their
field and the form keeps what was typed (``form.FormScreen``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from incasso_tui.errors import N_
from incasso_tui.services.cases import ClientDetail
from incasso_tui.services.tracks import MAX_REASON, pause_case, resume_case
from incasso_tui.ui.screens.form import ConfirmScreen, FormScreen
from incasso_tui.ui.text import lit


@dataclass(frozen=True)
class PauseInput:
    reason: str
    since: date | None
    until: date | None


class PauseScreen(FormScreen[bool]):
    FIELDS = ("reason", "since", "until")

    def __init__(self, detail: ClientDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(
                lit(tr(N_("Pause the procedure for {name}"), name=self.detail.client.name), "bold"), classes="title"
            )
            yield from self.field("reason", N_("Reason"), Input(id="reason", max_length=MAX_REASON, compact=True))
            yield from self.field(
                "since",
                N_("From"),
                Input(tr.date(self.detail.as_of), id="since", placeholder=tr(N_("dd/mm/yyyy")), compact=True),
            )
            yield from self.field(
                "until", N_("Until"), Input(id="until", placeholder=tr(N_("dd/mm/yyyy")), compact=True)
            )
            yield Static(tr(N_("A start in the past is allowed; both dates are recorded.")), classes="hint")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def read(self) -> PauseInput | None:
        (ok_since, since), (ok_until, until) = self.parse("since", self.day), self.parse("until", self.day)
        if not (ok_since and ok_until):
            return None
        return PauseInput(self.query_one("#reason", Input).value, since, until)

    def submit(self, given: Any) -> bool:
        case = self.detail.case
        pause_case(self.ctx, case.id, case.version, given.reason, given.until, since=given.since)
        return True


class ResumeScreen(ConfirmScreen):
    """Confirm ending the pause now."""

    def __init__(self, detail: ClientDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        tr, case = self.tr, self.detail.case
        with Vertical(classes="dialog"):
            yield Label(
                lit(tr(N_("Resume the procedure for {name}?"), name=self.detail.client.name), "bold"), classes="title"
            )
            if case.pause_until is not None:
                yield Static(lit(tr(N_("Paused until {day}"), day=case.pause_until) + ": " + (case.pause_reason or "")))
            yield from self.buttons(N_("Resume"))

    def submit(self, given: Any) -> bool:
        resume_case(self.ctx, self.detail.case.id, self.detail.case.version)
        return True
