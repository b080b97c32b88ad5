"""Special management's workbench: the cases handed over by the desk (accept with `a`) and the ones the user
accepted, with their arrears, next action and open tasks (issue 13); `enter` works the case (everything the desk
can do and more), `x` returns it to the desk with a reason, `m` shows the colleagues' accepted cases too.

The start screen for a user with the role special_management (the desk's worklist stays one `escape` away).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import DataTable

from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_
from incasso_tui.services.handover import HandoverRow, accept, handovers, return_to_desk
from incasso_tui.ui.labels import CHECKLIST_ITEM, HANDOVER_REASON
from incasso_tui.ui.screens.prompt import PromptScreen
from incasso_tui.ui.screens.rows import RowsScreen
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, money_cell, text_cell

STATUS = {"handed_over": N_("new"), "accepted": N_("accepted")}
CHECK_STATE = {"present": N_("present"), "waived": N_("waived")}


class SpecialManagementScreen(RowsScreen[HandoverRow]):
    CSS_PATH = STYLES / "inbox.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "dossier", "Dossier", id="dossier"),
        Binding("a", "accept", "Accept", id="accept"),
        Binding("x", "return", "Return to desk", id="return"),
        Binding("m", "mine", "Mine / all", id="mine", tooltip="Only mine (and the new ones), or all accepted cases"),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Desk worklist", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        # a user of special management starts with their own workbench; a supervisor sees all
        self.mine = False

    def on_mount(self) -> None:
        self.mine = self.ctx.actor.role == Role.SPECIAL_MANAGEMENT

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (tr(N_("Client")), "client", 20),
            (tr(N_("Status")), "status", 12),
            (Text(tr(N_("Arrears")), justify="right"), "arrears", 12),
            (tr(N_("Next action")), "next", 11),
            (Text(tr(N_("Tasks")), justify="right"), "tasks", 5),
            (tr(N_("Reason")), "reason", None),
            (tr(N_("By")), "by", None),
        ]

    def fetch(self) -> list[HandoverRow]:
        return handovers(self.ctx, mine=self.mine)

    def cells(self, row: HandoverRow) -> list[Text]:
        tr = self.tr
        status = tr(STATUS.get(row.status, row.status))
        if row.status == "accepted" and row.decided_by:
            status = f"{status} ({row.decided_by})" if not self.mine else status
        return [
            text_cell(row.client_name),
            text_cell(status),
            money_cell(tr, row.arrears),
            text_cell(tr.date(row.next_action_date) if row.next_action_date else ""),
            Text(str(row.open_tasks) if row.open_tasks else "", justify="right"),
            text_cell(tr(HANDOVER_REASON.get(row.reason, row.reason))),
            text_cell(row.handed_by),
        ]

    def count_text(self, count: int) -> str:
        if self.mine:
            return self.tr.plural(
                "Special management, my workbench: {count} case (new and accepted by me)",
                "Special management, my workbench: {count} cases (new and accepted by me)",
                count,
                count=count,
            )
        return self.tr.plural(
            "Special management: {count} handed-over case",
            "Special management: {count} handed-over cases",
            count,
            count=count,
        )

    def action_mine(self) -> None:
        self.mine = not self.mine
        self.load()

    @on(DataTable.RowSelected, "#queue")
    def _selected(self) -> None:  # enter on a row: the table's own binding comes first
        self.action_dossier()

    def panel(self, row: HandoverRow | None) -> Content | str:
        tr = self.tr
        if row is None:
            return tr(N_("No handed-over cases."))
        checklist = ", ".join(
            f"{tr(CHECKLIST_ITEM[item])}: {tr(CHECK_STATE[state])}" for item, state in row.checklist.items()
        )
        return Content("\n").join(
            [
                lit(
                    tr(
                        N_("Case {case} · {client} · {days} days past due"),
                        case=row.case_id,
                        client=row.client_name,
                        days=row.summary.get("days_past_due", "?"),
                    ),
                    "bold",
                ),
                lit(row.summary.get("text", "")),
                Content(
                    tr(
                        N_("{contacts} contacts · {arrangements} arrangements · {proposals} proposals"),
                        contacts=row.summary.get("contacts", 0),
                        arrangements=len(row.summary.get("arrangements", [])),
                        proposals=len(row.summary.get("proposals", [])),
                    )
                ),
                lit(tr(N_("Dossier: {items}"), items=checklist)),
            ]
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        row = self.current
        if action == "accept":
            return row is not None and row.status == "handed_over"
        if action == "return":  # before or after accepting it (an accepted case by the one who accepted it)
            return row is not None and (row.status == "handed_over" or row.decided_by == self.ctx.actor.name)
        if action == "dossier":
            return row is not None
        return True

    def action_dossier(self) -> None:
        from incasso_tui.ui.screens.detail import ClientDetailScreen

        if self.current is not None:
            self.app.push_screen(ClientDetailScreen(self.current.case_id), lambda _r: self.load())

    def action_accept(self) -> None:
        row = self.current
        if row is not None:
            ctx = self.ctx
            self.run_action(
                lambda: accept(ctx, row.id, row.version), self.tr(N_("Accepted: {client}"), client=row.client_name)
            )

    def action_return(self) -> None:
        row = self.current
        if row is None:
            return
        ctx = self.ctx

        def given(reason: str | None) -> None:
            if reason:
                self.run_action(
                    lambda: return_to_desk(ctx, row.id, row.version, reason),
                    self.tr(N_("Returned to the desk: {client}"), client=row.client_name),
                )

        self.app.push_screen(PromptScreen(self.tr(N_("Why does the case go back to the desk?"))), given)
