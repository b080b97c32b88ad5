"""Approvals (supervisor / Risk): the queue of submitted proposals; approve with `y`, reject with a reason with `x`.

The services decide everything: only a supervisor may decide, never their own proposal (four eyes), and an
approval applies the proposal in the same transaction. This screen shows the proposal, its schedule preview
and opens the case's dossier (`d`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.proposals import ProposalRow, decide, proposals
from incasso_tui.ui.labels import CAUSE, PROPOSAL_KIND, REPAY_OPTION
from incasso_tui.ui.screens.detail import money_cell, right, text_cell
from incasso_tui.ui.text import lit, translate_bindings

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator


class ReasonScreen(ModalScreen[str | None]):
    """Asks for a reason; dismissed with the text, or None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, prompt: str) -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box"):
            yield Label(self.prompt)
            yield Input(id="reason")
            yield Label(id="reason-error", classes="error")

    def on_mount(self) -> None:
        translate_bindings(self, self.app.tr)  # type: ignore[attr-defined]

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one("#reason-error", Label).update(self.app.tr(N_("A reason is required")))  # type: ignore[attr-defined]
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class ApprovalsScreen(Screen[None]):
    CSS_PATH = "../styles/approvals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "approve", "Approve", id="approve"),
        Binding("x", "reject", "Reject", id="reject"),
        Binding("d", "dossier", "Dossier", id="dossier"),
        Binding("r", "reload", "Refresh", id="reload"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[ProposalRow] = []

    @property
    def tr(self) -> Translator:
        return self.app.tr  # type: ignore[attr-defined, no-any-return]

    def compose(self) -> ComposeResult:
        tr = self.tr
        yield Header()
        yield Static(id="count")
        queue: DataTable[Text] = DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        queue.add_column(tr(N_("Client")), key="client", width=24)
        queue.add_column(tr(N_("Proposal")), key="kind")
        queue.add_column(Text(tr(N_("Position")), justify="right"), key="position")
        queue.add_column(tr(N_("By")), key="by")
        queue.add_column(tr(N_("On")), key="on")
        yield queue
        yield Static(id="proposal")
        lines: DataTable[Text] = DataTable(id="lines", cursor_type="none", zebra_stripes=True)
        lines.add_column(Text("#", justify="right"), key="seq")
        lines.add_column(tr(N_("Date")), key="date")
        lines.add_column(Text(tr(N_("Principal")), justify="right"), key="principal")
        lines.add_column(Text(tr(N_("Interest")), justify="right"), key="interest")
        yield lines
        yield Label(id="message", classes="error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        self.refresh_bindings()
        self.load()

    @work(thread=True, exclusive=True, group="approvals")
    def load(self) -> None:
        try:
            rows = proposals(self.app.ctx)  # type: ignore[attr-defined]
        except IncassoError as exc:
            self.app.call_from_thread(self._message, self.tr.error(exc))
            return
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[ProposalRow]) -> None:
        tr = self.tr
        self.rows = rows
        table = self.query_one("#queue", DataTable)
        table.clear()
        for row in rows:
            table.add_row(text_cell(row.client_name), text_cell(tr(PROPOSAL_KIND.get(row.kind, row.kind))),
                          money_cell(tr, row.position), text_cell(row.proposed_by), text_cell(tr.date(row.proposed_at.date())),
                          key=str(row.id))
        self.query_one("#count", Static).update(tr(N_("Approvals: {count} proposals waiting"), count=len(rows)))
        self._details(rows[0] if rows else None)
        self.refresh_bindings()

    @property
    def current(self) -> ProposalRow | None:
        table = self.query_one("#queue", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowHighlighted, "#queue")
    def _highlighted(self) -> None:
        self._details(self.current)

    @on(DataTable.RowSelected, "#queue")
    def _selected(self) -> None:  # enter on a row opens the dossier, like `d`
        self.action_dossier()

    def _details(self, row: ProposalRow | None) -> None:
        tr = self.tr
        lines = self.query_one("#lines", DataTable)
        lines.clear()
        panel = self.query_one("#proposal", Static)
        if row is None:
            panel.update(tr(N_("No proposals are waiting.")))
            return
        p = row.payload
        parts = [lit(tr(N_("Case {case} · {client}"), case=row.case_id, client=row.client_name), "bold")]
        if row.kind == "deferral":
            repay = p["option"]
            parts.append(Content(tr(
                N_("Deferral of {months} months · {option} · installment {old} → {new} · ends {end} · extra interest {extra}"),
                months=p["months"], option=tr(REPAY_OPTION[repay]), old=_money(tr, p["current_installment"]),
                new=_money(tr, p["new_installment"]), end=tr.date(_day(p["end_date"])), extra=_money(tr, p["extra_interest"]))))
            parts.append(Content(tr(N_("Cause {cause} · capacity {capacity} a month (income {income}, fixed costs {expenses})"),
                                    cause=tr(CAUSE.get(p["cause"], p["cause"])), capacity=_money(tr, p["capacity"]),
                                    income=_money(tr, p["monthly_income"]), expenses=_money(tr, p["fixed_expenses"]))))
            parts.append(lit(tr(N_("Weighing: {text}"), text=p["weighing"])))
            if p.get("outlook"):
                parts.append(lit(tr(N_("Outlook: {text}"), text=p["outlook"])))
            for line in p["lines"]:
                lines.add_row(right(line["seq"]), text_cell(tr.date(_day(line["due_date"]))),
                              money_cell(tr, _dec(line["principal"])), money_cell(tr, _dec(line["interest"])))
        elif row.kind == "write_off":
            parts.append(lit(tr(N_("Write off {amount} of loan {loan} (balance {balance})"),
                                    amount=_money(tr, p["amount"]), loan=p["loan"], balance=_money(tr, p["balance"]))))
            parts.append(lit(tr(N_("Reason: {text}"), text=p.get("reason", ""))))
        else:
            parts.append(lit(tr(N_("Reason: {text}"), text=p.get("reason", ""))))
        panel.update(Content("\n").join(parts))

    def _message(self, text: str) -> None:
        self.query_one("#message", Label).update(lit(text))

    # ----- actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "reject", "dossier"):
            return self.current is not None
        return True

    def action_approve(self) -> None:
        row = self.current
        if row is not None:
            self._decide(row, True, "")

    def action_reject(self) -> None:
        row = self.current
        if row is None:
            return

        def rejected(reason: str | None) -> None:
            if reason:
                self._decide(row, False, reason)

        self.app.push_screen(ReasonScreen(self.tr(N_("Why is this proposal rejected?"))), rejected)

    @work(thread=True, exclusive=True, group="decide")
    def _decide(self, row: ProposalRow, approve: bool, reason: str) -> None:
        try:
            decide(self.app.ctx, row.id, row.version, approve=approve, reason=reason)  # type: ignore[attr-defined]
        except IncassoError as exc:
            self.app.call_from_thread(self._message, self.tr.error(exc))
            return
        done = N_("Approved: {client}") if approve else N_("Rejected: {client}")
        self.app.call_from_thread(self._message, self.tr(done, client=row.client_name))
        self.app.call_from_thread(self.load)

    def action_dossier(self) -> None:
        from incasso_tui.ui.screens.detail import ClientDetailScreen

        row = self.current
        if row is not None:
            self.app.push_screen(ClientDetailScreen(row.case_id))

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()


def _dec(text: str) -> Decimal:
    return Decimal(text)


def _money(tr: Translator, text: str) -> str:
    return tr.money(Decimal(text))


def _day(text: str) -> date:
    return date.fromisoformat(text)
