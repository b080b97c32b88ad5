"""Deferral of repayment (``u`` on the client detail): the employee's proposal for Risk.

The form takes the loan, the months of principal deferral, how to repay afterwards, the cause and the employee's
weighing and outlook; the client's budget is the one on the client detail (``b``, issue 15), shown with whether the
installment after the deferral fits it. The current and the proposed schedule are shown side by side,
with both repayment options' installment, end date and extra interest, recomputed as the employee types
(``services.proposals.preview_deferral``, a read in a worker). Submitting goes through
``propose_deferral_of_repayment``: the mandate, the deferral limits and the version check are the service's.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import DataTable, Input, Label, Select, Static

from incasso_tui.domain.deferral import DeferralOption, DeferralProposal
from incasso_tui.domain.enums import ArrearsCause
from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.budget import BudgetStatus
from incasso_tui.services.cases import ClientDetail
from incasso_tui.services.proposals import (
    OPTIONS,
    DeferralInput,
    deferral_fit,
    preview_deferral,
    propose_deferral_of_repayment,
)
from incasso_tui.ui.labels import CAUSE, REPAY_OPTION
from incasso_tui.ui.screens.form import FormScreen
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, money_cell, right, text_cell
from incasso_tui.ui.widgets.capacity import CapacityPanel
from incasso_tui.ui.widgets.table import Table


class DeferralScreen(FormScreen[int]):
    """Dismissed with the new proposal's id, or None when cancelled."""

    AUTO_FOCUS = "#months"  # focused as the form is composed, so the first paint shows it (issue 18)
    KEPT_AS: ClassVar[str | None] = "deferral-form"  # the app keeps one and shows each next case on it (issue 18)

    CSS_PATH = [STYLES / "form.tcss", STYLES / "deferral.tcss"]
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (100, "-wide")]
    FIELDS: ClassVar[tuple[str, ...]] = ("loan", "months", "option", "cause", "weighing", "outlook")

    def __init__(self, detail: ClientDetail) -> None:
        super().__init__()
        self.detail = detail
        self.loans = [loan for loan in detail.loans if loan.status == "active"]
        self._previewed = asyncio.Event()  # set when the latest preview asked for is shown (or cannot be)

    def _title(self) -> Content:
        return lit(self.tr(N_("Deferral of repayment for {name}"), name=self.detail.client.name), "bold")

    def _loan_options(self) -> list[tuple[str, int]]:
        return [(f"{loan.number} · {self.tr.money(loan.outstanding_principal)}", loan.id) for loan in self.loans]

    def _cause(self) -> ArrearsCause:
        """The case's cause, as logged on a call or the budget (issue 15)."""
        return ArrearsCause(self.detail.case.cause) if self.detail.case.cause else ArrearsCause.OTHER

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Horizontal(classes="dialog", id="deferral"):
            with Vertical(id="deferral-form"):
                yield Label(self._title(), classes="title")
                yield from self.field(
                    "loan",
                    N_("Loan"),
                    Select(
                        self._loan_options(),
                        value=self.loans[0].id if self.loans else Select.BLANK,
                        allow_blank=not self.loans,
                        compact=True,
                        id="loan",
                    ),
                )
                yield from self.field(
                    "months", N_("Months"), Input("3", id="months", restrict=r"[0-9]*", max_length=2, compact=True)
                )
                yield from self.field(
                    "option",
                    N_("Afterwards"),
                    Select(
                        [(tr(REPAY_OPTION[o]), o) for o in OPTIONS],
                        value=OPTIONS[0],
                        allow_blank=False,
                        compact=True,
                        id="option",
                    ),
                )
                yield from self.field(
                    "cause",
                    N_("Cause"),
                    Select(
                        [(tr(CAUSE[c.value]), c) for c in ArrearsCause],
                        allow_blank=False,
                        value=self._cause(),
                        compact=True,
                        id="cause",
                    ),
                )
                yield CapacityPanel(id="capacity", classes="hint")  # the client's budget (issue 15): no second entry
                yield from self.field("weighing", N_("Weighing"), Input(id="weighing", compact=True))
                yield from self.field("outlook", N_("Outlook"), Input(id="outlook", compact=True))
                yield from self.buttons(N_("Submit to Risk"))
            with Vertical(id="deferral-preview"):
                yield Static(id="options")
                table: Table[Text] = Table(id="compare", cursor_type="none", zebra_stripes=True)
                table.add_column(tr(N_("Date")), key="date", width=10)
                table.add_column(Text(tr(N_("Now")), justify="right"), key="now", width=10)
                table.add_column(Text(tr(N_("Proposed")), justify="right"), key="proposed", width=10)
                yield table

    def on_mount(self) -> None:
        self.query_one("#months", Input).focus()
        self._preview()
        self.paint_after(self._previewed)  # painted once, with the preview (a read of 3-5 ms)

    def can_show(self, detail: ClientDetail) -> bool:
        """The loan field was made for a case with active loans or for one without (blank allowed)."""
        return any(loan.status == "active" for loan in detail.loans) == bool(self.loans)

    def reset(self, detail: ClientDetail) -> None:
        """The form as a new one shows it, for ``detail`` (the kept form, ``DeskScreen.open_kept``): its loans,
        every field as composed, no preview, no messages, not saving; the preview read again."""
        self.detail = detail
        self.loans = [loan for loan in detail.loans if loan.status == "active"]
        self.query_one(".title", Label).update(self._title())
        loan = self.query_one("#loan", Select)
        loan.set_options(self._loan_options())
        if self.loans:
            loan.value = self.loans[0].id
        self.query_one("#months", Input).value = "3"
        self.query_one("#option", Select).value = OPTIONS[0]
        self.query_one("#cause", Select).value = self._cause()
        for name in ("weighing", "outlook"):
            self.query_one(f"#{name}", Input).value = ""
        self.query_one("#options", Static).update("")
        self.query_one("#compare", DataTable).clear()
        self.query_one("#capacity", CapacityPanel).update("")
        self._as_new()
        self._preview()
        self.paint_after(self._previewed)

    # ----- live preview
    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self._preview()

    def _typed(self, *, quiet: bool) -> DeferralInput | None:
        """The form as a DeferralInput; with ``quiet`` no message is shown for what cannot be read yet."""
        loan = self.query_one("#loan", Select).value
        months_text = self.query_one("#months", Input).value.strip()
        if loan is Select.BLANK or not months_text:
            return None
        return DeferralInput(
            loan_id=int(loan),  # type: ignore[arg-type]
            months=int(months_text),
            option=str(self.query_one("#option", Select).value),
            cause=ArrearsCause(self.query_one("#cause", Select).value),
            weighing=self.query_one("#weighing", Input).value,
            outlook=self.query_one("#outlook", Input).value,
        )

    def _preview(self) -> None:
        self._previewed.clear()
        self._read_preview()

    @work(thread=True, exclusive=True, group="deferral-preview")
    def _read_preview(self) -> None:
        given, case_id = self.app.call_from_thread(lambda: (self._typed(quiet=True), self.detail.case.id))
        if given is None:
            self.app.call_from_thread(self._previewed.set)
            return
        try:
            result = preview_deferral(self.ctx, case_id, given)
        except IncassoError as err:
            self.app.call_from_thread(self._show_refusal, case_id, err)
            return
        self.app.call_from_thread(self._show, case_id, given, *result)

    def _show_refusal(self, case_id: int, err: IncassoError) -> None:
        if case_id != self.detail.case.id:  # a case this kept form showed before
            return
        self._previewed.set()
        self.query_one("#options", Static).update(lit(self.tr.error(err), "bold"))
        self.query_one("#compare", DataTable).clear()

    def _show(
        self, case_id: int, given: DeferralInput, proposal: DeferralProposal, position: Decimal, budget: BudgetStatus
    ) -> None:
        if case_id != self.detail.case.id:
            return
        self._previewed.set()
        tr = self.tr

        def describe(option: DeferralOption | None, name: str) -> str:
            if option is None:
                return tr(
                    N_("{option}: not possible (the loan ends inside the deferral)"), option=tr(REPAY_OPTION[name])
                )
            return tr(
                N_("{option}: {installment} a month until {end}, extra interest {extra}"),
                option=tr(REPAY_OPTION[name]),
                installment=tr.money(option.regular_installment),
                end=tr.date(option.end_date),
                extra=tr.money(proposal.extra_interest(option)),
            )

        lines = [
            tr(
                N_("Position {position} (mandate {limit})"),
                position=tr.money(position),
                limit=tr.money(self.ctx.settings.mandate_limit),
            ),
            tr(
                N_("Deferred principal {balance}; now {installment} a month until {end}"),
                balance=tr.money(proposal.balance),
                installment=tr.money(proposal.current[0].amount),
                end=tr.date(proposal.current[-1].due_date),
            ),
            describe(proposal.extend_term, "extend_term"),
            describe(proposal.raise_installments, "raise_installments"),
        ]
        self.query_one("#options", Static).update("\n".join(lines))
        chosen = proposal.extend_term if given.option == "extend_term" else proposal.raise_installments
        self.query_one("#capacity", CapacityPanel).show(
            tr, budget, deferral_fit(proposal, chosen, budget) if chosen is not None else None, N_("After")
        )
        table = self.query_one("#compare", DataTable)
        table.clear()
        if chosen is None:
            return
        current = {line.due_date: line.amount for line in proposal.current}
        for line in chosen.lines:
            now = current.get(line.due_date)
            table.add_row(
                text_cell(tr.date(line.due_date)),
                money_cell(tr, now) if now is not None else right(""),
                money_cell(tr, line.amount),
            )

    # ----- submitting
    def read(self) -> DeferralInput | None:
        given = self._typed(quiet=False)
        if given is None and not self.query_one("#months", Input).value.strip():
            self.error("months", self.tr(N_("How many months of deferral?")))
        return given

    def submit(self, given: Any) -> int:
        return propose_deferral_of_repayment(self.ctx, self.detail.case.id, self.detail.case.version, given)
