"""Special management's list: cases handed over by the desk; accept (`a`) or return to the desk with a reason (`x`).

The start screen for a user with the role special_management (the desk's worklist stays one `escape` away).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static

from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.handover import HandoverRow, accept, handovers, return_to_desk
from incasso_tui.ui.labels import CHECKLIST_ITEM, HANDOVER_REASON
from incasso_tui.ui.screens.approvals import ReasonScreen
from incasso_tui.ui.screens.detail import money_cell, text_cell
from incasso_tui.ui.text import lit, translate_bindings

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator

STATUS = {"handed_over": N_("new"), "accepted": N_("accepted")}
CHECK_STATE = {"present": N_("present"), "waived": N_("waived")}


class SpecialManagementScreen(Screen[None]):
    CSS_PATH = "../styles/approvals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "dossier", "Dossier", id="dossier"),
        Binding("a", "accept", "Accept", id="accept"),
        Binding("x", "return", "Return to desk", id="return"),
        Binding("r", "reload", "Refresh", id="reload"),
        Binding("escape", "back", "Desk worklist", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[HandoverRow] = []

    @property
    def tr(self) -> Translator:
        return self.app.tr  # type: ignore[attr-defined, no-any-return]

    def compose(self) -> ComposeResult:
        tr = self.tr
        yield Header()
        yield Static(id="count")
        table: DataTable[Text] = DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        table.add_column(tr(N_("Client")), key="client", width=24)
        table.add_column(tr(N_("Reason")), key="reason")
        table.add_column(Text(tr(N_("Position")), justify="right"), key="position")
        table.add_column(tr(N_("By")), key="by")
        table.add_column(tr(N_("Status")), key="status")
        yield table
        yield Static(id="proposal")
        yield Label(id="message", classes="error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        self.load()

    @work(thread=True, exclusive=True, group="handovers")
    def load(self) -> None:
        try:
            rows = handovers(self.app.ctx)  # type: ignore[attr-defined]
        except IncassoError as exc:
            self.app.call_from_thread(self._message, self.tr.error(exc))
            return
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[HandoverRow]) -> None:
        tr = self.tr
        self.rows = rows
        table = self.query_one("#queue", DataTable)
        table.clear()
        for row in rows:
            table.add_row(text_cell(row.client_name), text_cell(tr(HANDOVER_REASON.get(row.reason, row.reason))),
                          money_cell(tr, row.position), text_cell(row.handed_by), text_cell(tr(STATUS.get(row.status, row.status))),
                          key=str(row.id))
        self.query_one("#count", Static).update(tr(N_("Special management: {count} handed-over cases"), count=len(rows)))
        self._details(rows[0] if rows else None)
        self.refresh_bindings()

    @property
    def current(self) -> HandoverRow | None:
        table = self.query_one("#queue", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowHighlighted, "#queue")
    def _highlighted(self) -> None:
        self._details(self.current)

    @on(DataTable.RowSelected, "#queue")
    def _selected(self) -> None:  # enter on a row: the table's own binding comes first
        self.action_dossier()

    def _details(self, row: HandoverRow | None) -> None:
        tr = self.tr
        panel = self.query_one("#proposal", Static)
        if row is None:
            panel.update(tr(N_("No handed-over cases.")))
            return
        checklist = ", ".join(f"{tr(CHECKLIST_ITEM[item])}: {tr(CHECK_STATE[state])}" for item, state in row.checklist.items())
        parts = [
            lit(tr(N_("Case {case} · {client} · {days} days past due"), case=row.case_id, client=row.client_name,
                   days=row.summary.get("days_past_due", "?")), "bold"),
            lit(row.summary.get("text", "")),
            Content(tr(N_("{contacts} contacts · {arrangements} arrangements · {proposals} proposals"),
                       contacts=row.summary.get("contacts", 0), arrangements=len(row.summary.get("arrangements", [])),
                       proposals=len(row.summary.get("proposals", [])))),
            lit(tr(N_("Dossier: {items}"), items=checklist)),
        ]
        panel.update(Content("\n").join(parts))

    def _message(self, text: str) -> None:
        self.query_one("#message", Label).update(lit(text))

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
            self._decide(row, None)

    def action_return(self) -> None:
        row = self.current
        if row is None:
            return

        def given(reason: str | None) -> None:
            if reason:
                self._decide(row, reason)

        self.app.push_screen(ReasonScreen(self.tr(N_("Why does the case go back to the desk?"))), given)

    @work(thread=True, exclusive=True, group="decide")
    def _decide(self, row: HandoverRow, return_reason: str | None) -> None:
        ctx = self.app.ctx  # type: ignore[attr-defined]
        try:
            if return_reason is None:
                accept(ctx, row.id, row.version)
            else:
                return_to_desk(ctx, row.id, row.version, return_reason)
        except IncassoError as exc:
            self.app.call_from_thread(self._message, self.tr.error(exc))
            return
        done = N_("Accepted: {client}") if return_reason is None else N_("Returned to the desk: {client}")
        self.app.call_from_thread(self._message, self.tr(done, client=row.client_name))
        self.app.call_from_thread(self.load)

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()
