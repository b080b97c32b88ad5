"""Proposals for Risk from the client detail: a write-off (``w``) and a call-in (``o``, opeising).

Both are modal forms (``form.FormScreen``) whose save submits a proposal through ``services.proposals``; a
supervisor other than the proposer decides it in the approval queue. Refusals (role, balance, an open proposal
of the same kind, a changed case) appear at their field and nothing typed is lost.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Select, Static

from incasso_tui.errors import N_
from incasso_tui.services.cases import ClientDetail
from incasso_tui.services.proposals import propose_call_in, propose_write_off
from incasso_tui.ui.screens.form import FormScreen
from incasso_tui.ui.text import lit

MAX_REASON = 1000


class _ProposalForm(FormScreen[int]):
    """A loan of the client, the proposal's own fields, and a reason; dismissed with the proposal's id."""

    TITLE = ""
    LOAN_STATUSES: ClassVar[tuple[str, ...]] = ("active",)

    def __init__(self, detail: ClientDetail) -> None:
        super().__init__()
        self.detail = detail
        self.loans = [loan for loan in detail.loans if loan.status in self.LOAN_STATUSES]

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(lit(tr(self.TITLE, name=self.detail.client.name), "bold"), classes="title")
            yield from self.field(
                "loan",
                N_("Loan"),
                Select(
                    [(f"{loan.number} · {tr.money(loan.outstanding_principal)}", loan.id) for loan in self.loans],
                    value=self.loans[0].id if self.loans else Select.BLANK,
                    allow_blank=not self.loans,
                    compact=True,
                    id="loan",
                ),
            )
            yield from self.extra_fields()
            yield from self.field("reason", N_("Reason"), Input(id="reason", max_length=MAX_REASON, compact=True))
            yield Static(tr(N_("A supervisor who is not you decides this proposal (four eyes).")), classes="hint")
            yield from self.buttons(N_("Submit to Risk"))

    def extra_fields(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def _loan(self) -> int | None:
        value = self.query_one("#loan", Select).value
        if value is Select.BLANK:
            self.error("loan", self.tr(N_("The client has no loan this can be proposed for")))
            return None
        return int(value)  # type: ignore[arg-type]


class WriteOffScreen(_ProposalForm):
    TITLE = N_("Write-off for {name}")
    FIELDS = ("loan", "amount", "reason")
    LOAN_STATUSES = ("active", "called")

    def extra_fields(self) -> ComposeResult:
        yield from self.field("amount", N_("Amount"), Input(id="amount", placeholder="€", compact=True))

    def read(self) -> dict[str, Any] | None:
        loan = self._loan()
        ok, amount = self.parse("amount", self.amount)
        if amount is None and ok:
            self.error("amount", self.tr(N_("How much is written off?")))
            return None
        if loan is None or not ok:
            return None
        return {"loan": loan, "amount": amount, "reason": self.query_one("#reason", Input).value}

    def submit(self, given: Any) -> int:
        case = self.detail.case
        return propose_write_off(self.ctx, case.id, case.version, given["loan"], given["amount"], given["reason"])


class CallInScreen(_ProposalForm):
    TITLE = N_("Call in a loan of {name}")
    FIELDS = ("loan", "reason")

    def read(self) -> dict[str, Any] | None:
        loan = self._loan()
        return None if loan is None else {"loan": loan, "reason": self.query_one("#reason", Input).value}

    def submit(self, given: Any) -> int:
        case = self.detail.case
        return propose_call_in(self.ctx, case.id, case.version, given["loan"], given["reason"])
