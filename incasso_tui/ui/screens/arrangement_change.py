"""Changing or ending the running arrangement (`x` in the client detail, issue 14).

The arrangement form (``ui.screens.arrangement``) for what the running arrangement still has open: the new plan goes
through the same desk limits (``services.arrangement_changes.change_arrangement``), beyond them ctrl+r sends it to
a supervisor; saving asks the reason. ctrl+d ends the arrangement with a reason (the procedure resumes).
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from incasso_tui.domain.arrangement import Plan
from incasso_tui.errors import N_
from incasso_tui.services.arrangement_changes import (
    RunningArrangement,
    cancel_arrangement,
    change_arrangement,
    preview_change,
)
from incasso_tui.services.arrangements import ArrangementInput
from incasso_tui.services.cases import ClientDetail
from incasso_tui.ui.screens.arrangement import ArrangementScreen
from incasso_tui.ui.screens.prompt import PromptScreen
from incasso_tui.ui.work import closing_worker


class ArrangementChangeScreen(ArrangementScreen):
    KEPT_AS = None  # made per change: it holds the arrangement it changes
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+d",
            "end",
            "End arrangement",
            id="end",
            priority=True,
            tooltip="End the running arrangement with a reason; the procedure resumes",
        ),
    ]

    def __init__(self, detail: ClientDetail, arrangement: RunningArrangement) -> None:
        super().__init__(detail)
        self.arrangement = arrangement
        self.replaces = arrangement.id
        self.reason: str | None = None

    def cover_text(self) -> str:
        a = self.arrangement
        return self.tr(
            N_("Change the arrangement of {name} ({day}): still open {total}"),
            name=a.created_by,
            day=a.created_at_day,
            total=a.open_amount,
        )

    def plan_for(self, given: ArrangementInput) -> Plan:
        return preview_change(self.ctx, self.arrangement, given)

    def action_save(self) -> None:
        if self.saving:
            return
        if self.reason is not None:
            super().action_save()
            return
        self._clear_errors()
        if self.read() is None:
            self.app.bell()
            return

        def reason_given(reason: str | None) -> None:
            if reason:
                self.reason = reason
                super(ArrangementChangeScreen, self).action_save()

        self.app.push_screen(PromptScreen(self.tr(N_("Why is the arrangement changed?"))), reason_given)

    def submit(self, given: ArrangementInput) -> int:
        assert self.reason is not None
        return change_arrangement(self.ctx, self.arrangement.id, self.arrangement.version, given, self.reason)

    def action_end(self) -> None:
        def reason_given(reason: str | None) -> None:
            if reason:
                self._end(reason)

        self.app.push_screen(
            PromptScreen(self.tr(N_("End the arrangement: why? The procedure resumes today."))), reason_given
        )

    def _end(self, reason: str) -> None:
        closing_worker(
            self,
            lambda: cancel_arrangement(self.ctx, self.arrangement.id, self.arrangement.version, reason),
            self._ended,
            self._refused,
            group="form-save",
        )

    def _ended(self, _result: object) -> None:
        self.notify(self.tr(N_("The arrangement is ended; the procedure resumes")))
        self.dismiss(None)
