"""Special management's list: cases handed over by the desk; accept (`a`) or return to the desk with a reason (`x`).

The start screen for a user with the role special_management (the desk's worklist stays one `escape` away).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import DataTable

from incasso_tui.errors import N_
from incasso_tui.services.handover import HandoverRow, accept, handovers, return_to_desk
from incasso_tui.ui.labels import CHECKLIST_ITEM, HANDOVER_REASON
from incasso_tui.ui.screens.prompt import PromptScreen
from incasso_tui.ui.screens.rows import RowsScreen
from incasso_tui.ui.text import lit, money_cell, text_cell

STATUS = {"handed_over": N_("new"), "accepted": N_("accepted")}
CHECK_STATE = {"present": N_("present"), "waived": N_("waived")}


class SpecialManagementScreen(RowsScreen[HandoverRow]):
    CSS_PATH = "../styles/approvals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "dossier", "Dossier", id="dossier"),
        Binding("a", "accept", "Accept", id="accept"),
        Binding("x", "return", "Return to desk", id="return"),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Desk worklist", id="back"),
    ]

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [(tr(N_("Client")), "client", 24), (tr(N_("Reason")), "reason", None),
                (Text(tr(N_("Position")), justify="right"), "position", None), (tr(N_("By")), "by", None),
                (tr(N_("Status")), "status", None)]

    def fetch(self) -> list[HandoverRow]:
        return handovers(self.app.ctx)  # type: ignore[attr-defined]

    def cells(self, row: HandoverRow) -> list[Text]:
        tr = self.tr
        return [text_cell(row.client_name), text_cell(tr(HANDOVER_REASON.get(row.reason, row.reason))),
                money_cell(tr, row.position), text_cell(row.handed_by), text_cell(tr(STATUS.get(row.status, row.status)))]

    def count_text(self, count: int) -> str:
        return self.tr(N_("Special management: {count} handed-over cases"), count=count)

    @on(DataTable.RowSelected, "#queue")
    def _selected(self) -> None:  # enter on a row: the table's own binding comes first
        self.action_dossier()

    def panel(self, row: HandoverRow | None) -> Content | str:
        tr = self.tr
        if row is None:
            return tr(N_("No handed-over cases."))
        checklist = ", ".join(f"{tr(CHECKLIST_ITEM[item])}: {tr(CHECK_STATE[state])}" for item, state in row.checklist.items())
        return Content("\n").join([
            lit(tr(N_("Case {case} · {client} · {days} days past due"), case=row.case_id, client=row.client_name,
                   days=row.summary.get("days_past_due", "?")), "bold"),
            lit(row.summary.get("text", "")),
            Content(tr(N_("{contacts} contacts · {arrangements} arrangements · {proposals} proposals"),
                       contacts=row.summary.get("contacts", 0), arrangements=len(row.summary.get("arrangements", [])),
                       proposals=len(row.summary.get("proposals", [])))),
            lit(tr(N_("Dossier: {items}"), items=checklist)),
        ])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        row = self.current
        if action in ("accept", "return"):
            return row is not None and row.status == "handed_over"
        if action == "dossier":
            return row is not None
        return True

    def action_dossier(self) -> None:
        from incasso_tui.ui.screens.detail import ClientDetailScreen

        if self.current is not None:
            self.app.push_screen(ClientDetailScreen(self.current.case_id))

    def action_accept(self) -> None:
        row = self.current
        if row is not None:
            ctx = self.app.ctx  # type: ignore[attr-defined]
            self.run_action(lambda: accept(ctx, row.id, row.version), self.tr(N_("Accepted: {client}"), client=row.client_name))

    def action_return(self) -> None:
        row = self.current
        if row is None:
            return
        ctx = self.app.ctx  # type: ignore[attr-defined]

        def given(reason: str | None) -> None:
            if reason:
                self.run_action(lambda: return_to_desk(ctx, row.id, row.version, reason),
                                self.tr(N_("Returned to the desk: {client}"), client=row.client_name))

        self.app.push_screen(PromptScreen(self.tr(N_("Why does the case go back to the desk?"))), given)
