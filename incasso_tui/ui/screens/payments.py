"""Incoming payments: the statement import screen (`i` on the worklist) and the unmatched queue (`u`).

The services do the work (``services.payments``): a file is booked whole or not at all; the queue holds the
unmatched and ambiguous entries, which an employee books on a loan by typing its number (`a`) or marks as not
ours with a reason (`n`). Both are audited. Data from the bank (names, remittance texts) is shown literally.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Header, Input, Label, Static

from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.matching import mark_not_ours_many, split_queue
from incasso_tui.services.payments import ImportReport, QueueRow, assign, import_statement, mark_not_ours
from incasso_tui.ui.desk import DeskScreen
from incasso_tui.ui.screens.prompt import PromptScreen
from incasso_tui.ui.screens.rows import RowsScreen
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, money_cell, text_cell, translate_bindings
from incasso_tui.ui.widgets.footer import DeskFooter

STATUS = {"unmatched": N_("unmatched"), "ambiguous": N_("ambiguous")}


class ImportScreen(DeskScreen[None]):
    """Type the path of a statement file and press enter; every import's counts or refusal is listed."""

    CSS_PATH = STYLES / "payments.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back"),
    ]

    def compose(self) -> ComposeResult:
        tr = self.tr
        yield Header()
        yield Label(
            tr(N_("Import a bank statement (CAMT.053, CAMT.054 or MT940): type the file's path and press enter")),
            id="import-help",
        )
        yield Input(placeholder=tr(N_("/path/to/statement.xml")), id="path")
        yield Static(id="results")
        yield DeskFooter(compact=True)

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
            report = import_statement(self.ctx, Path(path).expanduser())
        except IncassoError as exc:
            self.app.call_from_thread(self._refused, path, self.tr.error(exc))
            return
        self.app.call_from_thread(self._done, path, report)

    def _done(self, path: str, report: ImportReport) -> None:
        tr = self.tr
        self.lines.pop()
        self._add(
            Text(
                tr(
                    N_(
                        "{file}: {entries} entries, {new} new, {duplicates} already imported, {matched} matched, "
                        "{unmatched} to the queue (u on the worklist), {reversals} reversed, {recoveries} recoveries"
                    ),
                    file=path,
                    entries=report.entries,
                    new=report.new,
                    duplicates=report.duplicates,
                    matched=report.matched,
                    unmatched=report.unmatched,
                    reversals=report.reversals,
                    recoveries=report.recoveries,
                )
            )
        )
        self.query_one("#path", Input).value = ""

    def _refused(self, path: str, message: str) -> None:
        self.lines.pop()
        self._add(
            Text(self.tr(N_("{file}: refused, nothing booked: {error}"), file=path, error=message), style="bold red")
        )

    def _add(self, line: Text) -> None:
        self.lines.append(line)
        self.query_one("#results", Static).update(Text("\n").join(self.lines[-15:]))

    def action_back(self) -> None:
        self.app.pop_screen()


class QueueScreen(RowsScreen[QueueRow]):
    """The unmatched and ambiguous payments, oldest first: `a` books one on a loan, `n` marks it not ours."""

    CSS_PATH = STYLES / "payments.tcss"
    TABLE_ID = "entries"
    PANEL_ID = "entry"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "suggest", "Suggestions", id="suggest", tooltip="Candidates with their reasons; pick and confirm"),
        Binding("a", "assign", "Book on loan", id="assign"),
        Binding("n", "not_ours", "Not ours", id="not_ours"),
        # money out (returned debits, bank costs) is listed apart and can be marked in bulk (ui.screens.matching)
        Binding("d", "money_out", "Money in / out", id="money_out"),
        Binding("N", "all_not_ours", "All not ours", id="all_not_ours", show=False),
        Binding("b", "booked", "Booked (undo)", id="booked", show=False),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]
    money_out = False  # which half of the queue is shown

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (tr(N_("Date")), "date", None),
            (Text(tr(N_("Amount")), justify="right"), "amount", None),
            (tr(N_("From")), "from", 22),
            (tr(N_("Description")), "text", None),
        ]

    def fetch(self) -> list[QueueRow]:
        money_in, money_out = split_queue(self.ctx)
        return money_out if self.money_out else money_in

    def cells(self, row: QueueRow) -> list[Text]:
        tr = self.tr
        amount = row.amount if row.credit else -row.amount
        return [
            text_cell(tr.date(row.booking_date)),
            money_cell(tr, amount),
            text_cell(row.counterparty_name or row.counterparty_iban or "?"),
            text_cell(row.creditor_reference or row.remittance),
        ]

    def count_text(self, count: int) -> str:
        if self.money_out:
            return self.tr(
                N_("Money out (returned debits, bank costs): {count} · N marks all as not ours"), count=count
            )
        return self.tr(N_("Unmatched payments: {count}"), count=count)

    def panel(self, row: QueueRow | None) -> Content | str:
        tr = self.tr
        if row is None:
            return tr(N_("No payments are waiting."))
        lines = [
            tr(
                N_("{status} · {name} · {iban}"),
                status=tr(STATUS.get(row.status, row.status)),
                name=row.counterparty_name or "-",
                iban=row.counterparty_iban or "-",
            ),
            tr(N_("Reference: {reference}"), reference=row.creditor_reference or "-"),
            tr(N_("Description: {text}"), text=row.remittance or "-"),
        ]
        if row.match_detail:
            lines.append(tr(N_("Note: {text}"), text=row.match_detail))
        return Content("\n").join([lit(line) for line in lines])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("assign", "suggest"):
            return self.current is not None and not self.money_out
        if action == "not_ours":
            return self.current is not None
        if action == "all_not_ours":
            return self.money_out and bool(self.rows)
        return True

    def action_suggest(self) -> None:
        from incasso_tui.ui.screens.matching import CandidatesScreen

        row = self.current
        if row is None:
            return

        def done(message: str | None) -> None:
            if message:
                self.message(message)
                self.load()

        self.app.push_screen(CandidatesScreen(row), done)

    def action_money_out(self) -> None:
        self.money_out = not self.money_out
        self.load()

    def action_all_not_ours(self) -> None:
        rows = list(self.rows)
        if not self.money_out or not rows:
            return
        tr, ctx = self.tr, self.ctx
        total = sum((-r.amount if not r.credit else r.amount for r in rows), Decimal(0))

        def given(reason: str | None) -> None:
            if reason:
                self.run_action(
                    lambda: mark_not_ours_many(ctx, [r.id for r in rows], reason),
                    tr.plural(
                        "Marked as not ours: {count} entry, {amount}",
                        "Marked as not ours: {count} entries, {amount}",
                        len(rows),
                        count=len(rows),
                        amount=total,
                    ),
                )

        self.app.push_screen(
            PromptScreen(
                tr.plural(
                    "Mark the {count} entry of money out ({amount}) as not ours: why?",
                    "Mark all {count} entries of money out ({amount}) as not ours: why?",
                    len(rows),
                    count=len(rows),
                    amount=total,
                )
            ),
            given,
        )

    def action_booked(self) -> None:
        from incasso_tui.ui.screens.matching import BookedScreen

        def back(_result: object) -> None:
            self.message("")  # the last booking's message is history now
            self.load()

        self.app.push_screen(BookedScreen(), back)

    def action_assign(self) -> None:
        row = self.current
        if row is None:
            return
        tr, ctx = self.tr, self.ctx

        def chosen(loan: str | None) -> None:
            if loan:
                self.run_action(
                    lambda: assign(ctx, row.id, loan),
                    tr(N_("Booked {amount} on loan {loan}"), amount=tr.money(row.amount), loan=loan.upper()),
                )

        self.app.push_screen(
            PromptScreen(
                tr(N_("Book {amount} on which loan? Type the loan number"), amount=tr.money(row.amount)),
                placeholder="L12345678",
                required=N_("Type the loan number"),
            ),
            chosen,
        )

    def action_not_ours(self) -> None:
        row = self.current
        if row is None:
            return
        tr, ctx = self.tr, self.ctx

        def given(reason: str | None) -> None:
            if reason:
                self.run_action(
                    lambda: mark_not_ours(ctx, row.id, reason),  # with its sign: money out is negative
                    tr(N_("Marked as not ours: {amount}"), amount=row.amount if row.credit else -row.amount),
                )

        self.app.push_screen(PromptScreen(tr(N_("Why is this payment not ours?"))), given)
