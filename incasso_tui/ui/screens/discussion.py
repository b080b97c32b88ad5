"""The team meeting's discussion list ("bespreken", issue 13): ``d`` on the worklist, or the command palette.

Everyone sees the open items; a supervisor records the decision (``enter`` the dossier, ``b`` decide): the text,
then who does what by when ("jansen 05-12-2026 Regeling voorstellen"), which becomes a task in that inbox.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import DataTable

from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_, BadInput
from incasso_tui.services.discussion import Action, DiscussionRow, decide, items
from incasso_tui.ui.parse import parse_day
from incasso_tui.ui.screens.prompt import PromptScreen
from incasso_tui.ui.screens.rows import RowsScreen
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, text_cell


class DiscussionScreen(RowsScreen[DiscussionRow]):
    CSS_PATH = STYLES / "inbox.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "dossier", "Dossier", id="dossier"),
        Binding("b", "decide", "Decide", id="decide", tooltip="Record the meeting's decision (supervisors)"),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (tr(N_("Raised")), "at", 16),
            (tr(N_("By")), "by", 8),
            (tr(N_("Client")), "client", 24),
            (tr(N_("Question")), "question", None),
        ]

    def fetch(self) -> list[DiscussionRow]:
        return items(self.ctx)

    def cells(self, row: DiscussionRow) -> list[Text]:
        return [
            text_cell(self.tr.datetime(row.raised_at)),
            text_cell(row.raised_by),
            text_cell(row.client_name),
            text_cell(row.question[:70]),
        ]

    def count_text(self, count: int) -> Content | str:
        return self.tr.plural(
            "Team meeting: {count} case to discuss", "Team meeting: {count} cases to discuss", count, count=count
        )

    def panel(self, row: DiscussionRow | None) -> Content | str:
        tr = self.tr
        if row is None:
            return tr(N_("Nothing on the discussion list."))
        return Content("\n").join(
            [lit(tr(N_("Case {case} · {client}"), case=row.case_id, client=row.client_name), "bold"), lit(row.question)]
        )

    @on(DataTable.RowSelected, "#queue")
    def _selected(self) -> None:
        self.action_dossier()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "decide":
            return self.current is not None and self.ctx.actor.role == Role.SUPERVISOR
        if action == "dossier":
            return self.current is not None
        return True

    def action_dossier(self) -> None:
        from incasso_tui.ui.screens.detail import ClientDetailScreen

        if self.current is not None:
            self.app.push_screen(ClientDetailScreen(self.current.case_id))

    def action_decide(self) -> None:
        row = self.current
        if row is None:
            return
        tr = self.tr
        ctx = self.ctx

        def decision_given(decision: str | None) -> None:
            if not decision:
                return

            def action_given(text: str | None) -> None:
                actions: list[Action] = []
                if text:
                    parts = text.split(None, 2)
                    if len(parts) < 3:
                        self.message(tr(N_("Write: user date what, e.g. jansen 05-12-2026 Regeling voorstellen")))
                        return
                    try:
                        due = parse_day(parts[1], tr)
                    except BadInput as exc:
                        self.message(tr.error(exc))
                        return
                    actions.append(Action(parts[0], parts[2], due))
                self.run_action(lambda: decide(ctx, row.id, decision, actions), tr(N_("Decision recorded")))

            self.app.push_screen(
                PromptScreen(tr(N_("Who does what by when? (user date what; esc: nobody)"))), action_given
            )

        self.app.push_screen(
            PromptScreen(tr(N_("The meeting's decision")), required=N_("Please fill this in")), decision_given
        )
