"""Assisted matching in the queue (issue 14): the candidates of a payment with their reasons (`s`), the confirmation
with the client's name and the allocation, and the bookings from the queue that can be undone (`b`, then `z`).

The services decide (``services.matching``); these screens show, ask and call. Names from the bank are data.
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Label, Static

from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.matching import (
    AllocationPreview,
    BookedRow,
    Candidate,
    book_candidate,
    booked_from_queue,
    candidates,
    preview,
    undo_booking,
)
from incasso_tui.services.payments import QueueRow
from incasso_tui.ui.desk import DeskModal
from incasso_tui.ui.screens.prompt import PromptScreen
from incasso_tui.ui.screens.rows import RowsScreen
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, money_cell, text_cell, translate_bindings
from incasso_tui.ui.widgets.table import Table
from incasso_tui.ui.work import closing_worker


class CandidatesScreen(DeskModal[str | None]):
    """The ranked candidates of one queued payment: `1`-`5` or enter picks one, then it asks to confirm with the
    client's name and the allocation; dismissed with the message to show (None when nothing was booked)."""

    DEFAULT_CSS = """
    CandidatesScreen { align: center middle; }
    CandidatesScreen #cand-box { width: 78; height: auto; max-height: 22; padding: 0 1; border: round $primary;
                                 background: $surface; }
    CandidatesScreen #cand-table { height: auto; max-height: 8; }
    CandidatesScreen #cand-reasons, CandidatesScreen #cand-message { height: auto; }
    CandidatesScreen #cand-message { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
        Binding("1", "pick(0)", "Pick", key_display="1-5", id="pick"),
        *(Binding(str(n + 1), f"pick({n})", "Pick", show=False) for n in range(1, 5)),
    ]

    def __init__(self, row: QueueRow) -> None:
        super().__init__()
        self.row = row
        self.found: list[Candidate] = []

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(id="cand-box"):
            yield Label(
                lit(
                    tr(
                        N_("Who paid {amount} on {day}? From: {name}"),
                        amount=self.row.amount,
                        day=self.row.booking_date,
                        name=self.row.counterparty_name or "-",
                    )
                )
            )
            table: Table[Text] = Table(id="cand-table", cursor_type="row")
            for caption, width in (
                (N_("No."), 3),
                (N_("Score"), 5),
                (N_("Client"), 28),
                (N_("Loan"), 10),
                (N_("Case"), 7),
            ):
                table.add_column(tr(caption), key=caption, width=width)
            yield table
            yield Static(id="cand-reasons")
            yield Label(id="cand-message")

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        self.load()

    @work(thread=True, exclusive=True, group="candidates")
    def load(self) -> None:
        try:
            found = candidates(self.ctx, self.row.id)
        except IncassoError as err:
            self.app.call_from_thread(self._message, self.tr.error(err))
            return
        self.app.call_from_thread(self._show, found)

    def _show(self, found: list[Candidate]) -> None:
        self.found = found
        table = self.query_one("#cand-table", DataTable)
        table.clear()
        for n, c in enumerate(found, 1):
            table.add_row(
                text_cell(str(n)),
                text_cell(str(c.score)),
                text_cell(c.client_name),
                text_cell(c.loan_number),
                text_cell(str(c.case_id or "-")),
                key=str(n),
            )
        if not found:
            self._message(self.tr(N_("No candidates: book it by loan number (a) or mark it as not ours (n)")))
        table.focus()
        self._reasons()

    def _message(self, text: str) -> None:
        self.query_one("#cand-message", Label).update(lit(text))

    @on(DataTable.RowHighlighted, "#cand-table")
    def _reasons(self) -> None:
        table = self.query_one("#cand-table", DataTable)
        if not 0 <= table.cursor_row < len(self.found):
            self.query_one("#cand-reasons", Static).update("")
            return
        c, tr = self.found[table.cursor_row], self.tr
        lines = [lit(f"{c.client_number} · {c.client_name}", "bold")]
        lines += [lit(f"+{r.points}  " + tr(r.msgid, **dict(r.params))) for r in c.reasons]
        self.query_one("#cand-reasons", Static).update(Content("\n").join(lines))

    @on(DataTable.RowSelected, "#cand-table")
    def _selected(self) -> None:
        self.action_pick(self.query_one("#cand-table", DataTable).cursor_row)

    def action_pick(self, index: int) -> None:
        if 0 <= index < len(self.found):
            self._preview(self.found[index])

    @work(thread=True, exclusive=True, group="candidates")
    def _preview(self, chosen: Candidate) -> None:
        try:
            shown = preview(self.ctx, self.row.id, chosen.loan_id)
        except IncassoError as err:
            self.app.call_from_thread(self._message, self.tr.error(err))
            return
        self.app.call_from_thread(self._confirm, chosen, shown)

    def _confirm(self, chosen: Candidate, shown: AllocationPreview) -> None:
        tr = self.tr
        question = tr(
            N_(
                "Book {amount} for {name} ({number}) on loan {loan}? It pays costs {costs}, interest "
                "{interest}, principal {principal}; credit {credit}. Type y to book"
            ),
            amount=shown.amount,
            name=shown.client_name,
            number=chosen.client_number,
            loan=shown.loan_number,
            costs=shown.costs,
            interest=shown.interest,
            principal=shown.principal,
            credit=shown.credit,
        )

        def answered(answer: str | None) -> None:
            if answer is not None and answer.strip().lower() in ("y", "j", "ja", "yes"):
                self._book(chosen, shown)

        self.app.push_screen(
            PromptScreen(question, placeholder=self.tr(N_("y")), required=N_("Type y to book, escape to cancel")),
            answered,
        )

    def _book(self, chosen: Candidate, shown: AllocationPreview) -> None:
        def booked(_result: object) -> None:
            self.dismiss(
                self.tr(
                    N_("Booked {amount} for {name} on loan {loan}"),
                    amount=shown.amount,
                    name=shown.client_name,
                    loan=shown.loan_number,
                )
            )

        # booked meanwhile by a colleague, a loan repaid ...: said, nothing booked
        closing_worker(
            self,
            partial(book_candidate, self.ctx, self.row.id, chosen.loan_id),
            booked,
            lambda err: self._message(self.tr.error(err)),
            group="candidates",
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


class BookedScreen(RowsScreen[BookedRow]):
    """The bookings made from the queue in the last month, newest first; `z` undoes the highlighted one."""

    CSS_PATH = STYLES / "payments.tcss"
    TABLE_ID = "entries"
    PANEL_ID = "entry"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("z", "undo", "Undo booking", id="undo"),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (tr(N_("Date")), "date", None),
            (Text(tr(N_("Amount")), justify="right"), "amount", None),
            (tr(N_("Client")), "client", 24),
            (tr(N_("Loan")), "loan", None),
            (tr(N_("By")), "by", None),
        ]

    def fetch(self) -> list[BookedRow]:
        return booked_from_queue(self.ctx)

    def cells(self, row: BookedRow) -> list[Text]:
        tr = self.tr
        return [
            text_cell(tr.date(row.booking_date)),
            money_cell(tr, row.amount),
            text_cell(row.client_name),
            text_cell(row.loan_number),
            text_cell(row.booked_by),
        ]

    def count_text(self, count: int) -> str:
        return self.tr(N_("Booked from the queue in the last month: {count}"), count=count)

    def panel(self, row: BookedRow | None) -> Content | str:
        tr = self.tr
        if row is None:
            return tr(N_("Nothing was booked from the queue in the last month."))
        return lit(
            tr(
                N_(
                    "From {name} · booked by {by} on {day} · the same day the booker undoes it, later a supervisor "
                    "with a reason"
                ),
                name=row.counterparty_name or "-",
                by=row.booked_by,
                day=row.booked_on,
            )
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo":
            return self.current is not None
        return True

    def action_undo(self) -> None:
        row = self.current
        if row is None:
            return
        tr, ctx = self.tr, self.ctx
        done = tr(N_("Undone: {amount} is back in the queue"), amount=row.amount)
        own_today = row.booked_by == ctx.actor.name and row.booked_on == ctx.clock.today()
        if own_today or ctx.actor.role != Role.SUPERVISOR:  # the service refuses the others, with the reason why
            question = tr(
                N_("Undo the booking of {amount} on {loan} ({name})? Type y"),
                amount=row.amount,
                loan=row.loan_number,
                name=row.client_name,
            )

            def confirmed(answer: str | None) -> None:
                if answer is not None and answer.strip().lower() in ("y", "j", "ja", "yes"):
                    self.run_action(lambda: undo_booking(ctx, row.id), done)

            self.app.push_screen(
                PromptScreen(question, placeholder=self.tr(N_("y")), required=N_("Type y to undo, escape to cancel")),
                confirmed,
            )
            return

        def given(reason: str | None) -> None:
            if reason:
                self.run_action(lambda: undo_booking(ctx, row.id, reason), done)

        self.app.push_screen(
            PromptScreen(
                tr(
                    N_("Why undo the booking of {amount} on {loan} by {by}? (four eyes)"),
                    amount=row.amount,
                    loan=row.loan_number,
                    by=row.booked_by,
                )
            ),
            given,
        )
