"""Incoming payments: the statement import screen (`i` on the worklist) and the unmatched queue (`u`).

The services do the work (``services.payments``): a file is booked whole or not at all; the queue holds the
unmatched and ambiguous entries, which an employee books on a loan by typing its number (`a`) or marks as not
ours with a reason (`n`). Both are audited. Data from the bank (names, remittance texts) is shown literally.
"""

from __future__ import annotations

from pathlib import Path
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
from incasso_tui.services.payments import ImportReport, QueueRow, assign, import_statement, mark_not_ours, queue
from incasso_tui.ui.screens.approvals import ReasonScreen
from incasso_tui.ui.screens.detail import money_cell, text_cell
from incasso_tui.ui.text import lit, translate_bindings

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator

STATUS = {"unmatched": N_("unmatched"), "ambiguous": N_("ambiguous")}


class ImportScreen(Screen[None]):
    """Type the path of a statement file and press enter; every import's counts or refusal is listed."""

    CSS_PATH = "../styles/payments.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back"),
    ]

    @property
    def tr(self) -> Translator:
        return self.app.tr  # type: ignore[attr-defined, no-any-return]

    def compose(self) -> ComposeResult:
        tr = self.tr
        yield Header()
        yield Label(tr(N_("Import a bank statement (CAMT.053, CAMT.054 or MT940): type the file's path and press enter")),
                    id="import-help")
        yield Input(placeholder=tr(N_("/path/to/statement.xml")), id="path")
        yield Static(id="results")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        self.lines: list[Text] = []
        self.query_one("#path", Input).focus()

    @on(Input.Submitted, "#path")
    def _submit(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if path:
            self._add(Text(self.tr(N_("Importing {file} ..."), file=path), style="dim"))
            self.run_import(path)

    @work(thread=True, exclusive=True, group="import")
    def run_import(self, path: str) -> None:
        try:
            report = import_statement(self.app.ctx, Path(path).expanduser())  # type: ignore[attr-defined]
        except IncassoError as exc:
            self.app.call_from_thread(self._refused, path, self.tr.error(exc))
            return
        self.app.call_from_thread(self._done, path, report)

    def _done(self, path: str, report: ImportReport) -> None:
        tr = self.tr
        self.lines.pop()
        self._add(Text(tr(N_("{file}: {entries} entries, {new} new, {duplicates} already imported, {matched} matched, "
                             "{unmatched} to the queue (u on the worklist), {reversals} reversed, {recoveries} recoveries"),
                          file=path, entries=report.entries, new=report.new, duplicates=report.duplicates,
                          matched=report.matched, unmatched=report.unmatched, reversals=report.reversals,
                          recoveries=report.recoveries)))
        self.query_one("#path", Input).value = ""

    def _refused(self, path: str, message: str) -> None:
        self.lines.pop()
        self._add(Text(self.tr(N_("{file}: refused, nothing booked: {error}"), file=path, error=message), style="bold red"))

    def _add(self, line: Text) -> None:
        self.lines.append(line)
        self.query_one("#results", Static).update(Text("\n").join(self.lines[-15:]))

    def action_back(self) -> None:
        self.app.pop_screen()


class LoanNumberScreen(ModalScreen[str | None]):
    """Asks for the loan number to book a payment on; dismissed with the text, or None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, prompt: str) -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="loan-box"):
            yield Label(self.prompt)
            yield Input(id="loan", placeholder="L12345678")

    def on_mount(self) -> None:
        translate_bindings(self, self.app.tr)  # type: ignore[attr-defined]

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class QueueScreen(Screen[None]):
    """The unmatched and ambiguous payments, oldest first: `a` books one on a loan, `n` marks it not ours."""

    CSS_PATH = "../styles/payments.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "assign", "Book on loan", id="assign"),
        Binding("n", "not_ours", "Not ours", id="not_ours"),
        Binding("r", "reload", "Refresh", id="reload"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[QueueRow] = []

    @property
    def tr(self) -> Translator:
        return self.app.tr  # type: ignore[attr-defined, no-any-return]

    def compose(self) -> ComposeResult:
        tr = self.tr
        yield Header()
        yield Static(id="count")
        table: DataTable[Text] = DataTable(id="entries", cursor_type="row", zebra_stripes=True)
        table.add_column(tr(N_("Date")), key="date")
        table.add_column(Text(tr(N_("Amount")), justify="right"), key="amount")
        table.add_column(tr(N_("From")), key="from", width=22)
        table.add_column(tr(N_("Description")), key="text")
        yield table
        yield Static(id="entry")
        yield Label(id="message", classes="error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        self.load()

    @work(thread=True, exclusive=True, group="queue")
    def load(self) -> None:
        try:
            rows = queue(self.app.ctx)  # type: ignore[attr-defined]
        except IncassoError as exc:
            self.app.call_from_thread(self._message, self.tr.error(exc))
            return
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[QueueRow]) -> None:
        tr = self.tr
        self.rows = rows
        table = self.query_one("#entries", DataTable)
        table.clear()
        for row in rows:
            amount = row.amount if row.credit else -row.amount
            table.add_row(text_cell(tr.date(row.booking_date)), money_cell(tr, amount),
                          text_cell(row.counterparty_name or row.counterparty_iban or "?"),
                          text_cell(row.creditor_reference or row.remittance), key=str(row.id))
        self.query_one("#count", Static).update(tr(N_("Unmatched payments: {count}"), count=len(rows)))
        self._details(self.current)
        self.refresh_bindings()

    @property
    def current(self) -> QueueRow | None:
        table = self.query_one("#entries", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowHighlighted, "#entries")
    def _highlighted(self) -> None:
        self._details(self.current)

    def _details(self, row: QueueRow | None) -> None:
        tr = self.tr
        panel = self.query_one("#entry", Static)
        if row is None:
            panel.update(tr(N_("No payments are waiting.")))
            return
        lines = [
            tr(N_("{status} · {name} · {iban}"), status=tr(STATUS.get(row.status, row.status)),
               name=row.counterparty_name or "-", iban=row.counterparty_iban or "-"),
            tr(N_("Reference: {reference}"), reference=row.creditor_reference or "-"),
            tr(N_("Description: {text}"), text=row.remittance or "-"),
        ]
        if row.match_detail:
            lines.append(tr(N_("Note: {text}"), text=row.match_detail))
        panel.update(Content("\n").join([lit(line) for line in lines]))

    def _message(self, text: str) -> None:
        self.query_one("#message", Label).update(lit(text))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("assign", "not_ours"):
            return self.current is not None
        return True

    def action_assign(self) -> None:
        row = self.current
        if row is None:
            return

        def chosen(loan: str | None) -> None:
            if loan:
                self._act(row, loan=loan)

        self.app.push_screen(LoanNumberScreen(self.tr(N_("Book {amount} on which loan? Type the loan number"),
                                                      amount=self.tr.money(row.amount))), chosen)

    def action_not_ours(self) -> None:
        row = self.current
        if row is None:
            return

        def given(reason: str | None) -> None:
            if reason:
                self._act(row, reason=reason)

        self.app.push_screen(ReasonScreen(self.tr(N_("Why is this payment not ours?"))), given)

    @work(thread=True, exclusive=True, group="queue-act")
    def _act(self, row: QueueRow, *, loan: str | None = None, reason: str | None = None) -> None:
        tr = self.tr
        try:
            if loan is not None:
                assign(self.app.ctx, row.id, loan)  # type: ignore[attr-defined]
                done = tr(N_("Booked {amount} on loan {loan}"), amount=tr.money(row.amount), loan=loan.upper())
            else:
                mark_not_ours(self.app.ctx, row.id, reason or "")  # type: ignore[attr-defined]
                done = tr(N_("Marked as not ours: {amount}"), amount=tr.money(row.amount))
        except IncassoError as exc:
            self.app.call_from_thread(self._message, tr.error(exc))
            return
        self.app.call_from_thread(self._message, done)
        self.load()

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()
