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
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import DataTable, Static

from incasso_tui.errors import N_
from incasso_tui.services.budget import DecisionContext, decision_context
from incasso_tui.services.proposals import ProposalRow, decide, proposals
from incasso_tui.ui.labels import CAUSE, PROPOSAL_KIND, REPAY_OPTION
from incasso_tui.ui.screens.prompt import PromptScreen
from incasso_tui.ui.screens.rows import RowsScreen
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, money_cell, right, text_cell
from incasso_tui.ui.widgets.capacity import decision_lines
from incasso_tui.ui.widgets.table import Table
from incasso_tui.ui.work import service_worker

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator


class ApprovalsScreen(RowsScreen[ProposalRow]):
    CSS_PATH = STYLES / "approvals.tcss"
    PANEL_ID = "proposal"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "approve", "Approve", id="approve"),
        Binding("x", "reject", "Reject", id="reject"),
        Binding("d", "dossier", "Dossier", id="dossier"),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    KEPT_AS: ClassVar[str | None] = "approvals"  # the worklist's `v` shows the one the app keeps (issue 18)

    def __init__(self) -> None:
        super().__init__()
        # per case, the budget, cause, arrangements and promises beside a proposal (issue 15): read for the
        # highlighted proposal only, the first with the rows, the others when highlighted (issue 18: ten queries a
        # case, 5-13 ms each on a million loans, were read for every waiting proposal before the queue showed)
        self.contexts: dict[int, DecisionContext] = {}

    def reset(self) -> None:
        self.contexts = {}  # read again with the rows
        self.query_one("#lines", DataTable).clear()
        self.query_one("#beside", Static).update("")
        super().reset()

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (tr(N_("Client")), "client", 18),  # so that the five columns fit 80 columns with the scrollbar
            (tr(N_("Proposal")), "kind", None),
            (Text(tr(N_("Position")), justify="right"), "position", None),
            (tr(N_("By")), "by", None),
            (tr(N_("On")), "on", None),
        ]

    def fetch(self) -> list[ProposalRow]:
        ctx = self.ctx
        rows = proposals(ctx)
        # the first row is highlighted when the queue shows: its context comes with the rows (read afresh)
        self.contexts = {rows[0].case_id: decision_context(ctx, rows[0].case_id)} if rows else {}
        return rows

    def _context_for(self, case_id: int) -> None:
        """Read the context of a newly highlighted proposal's case; shown when it is still the highlighted one."""
        ctx = self.ctx

        def got(context: DecisionContext) -> None:
            self.contexts[case_id] = context
            row = self.current
            if row is not None and row.case_id == case_id:
                self.query_one("#beside", Static).update(Content("\n").join(decision_lines(self.tr, context)))

        service_worker(self, lambda: decision_context(ctx, case_id), got, self._failed, group="context")

    def cells(self, row: ProposalRow) -> list[Text]:
        tr = self.tr
        return [
            text_cell(row.client_name),
            text_cell(tr(PROPOSAL_KIND.get(row.kind, row.kind))),
            money_cell(tr, row.position),
            text_cell(row.proposed_by),
            text_cell(tr.date(row.proposed_at.date())),
        ]

    def count_text(self, count: int) -> str:
        return self.tr.plural("Approvals: {n} proposal waiting", "Approvals: {n} proposals waiting", count)

    def below(self) -> ComposeResult:
        tr = self.tr
        lines: Table[Text] = Table(id="lines", cursor_type="none", zebra_stripes=True)
        lines.add_column(Text("#", justify="right"), key="seq")
        lines.add_column(tr(N_("Date")), key="date")
        lines.add_column(Text(tr(N_("Principal")), justify="right"), key="principal")
        lines.add_column(Text(tr(N_("Interest")), justify="right"), key="interest")
        with Horizontal(id="below"):
            yield lines
            yield Static(id="beside")

    @on(DataTable.RowSelected, "#queue")
    def _selected(self) -> None:  # enter on a row opens the dossier, like `d`
        self.action_dossier()

    def panel(self, row: ProposalRow | None) -> Content | str:
        """The highlighted proposal; a deferral's proposed schedule goes into the lines table below."""
        tr = self.tr
        lines = self.query_one("#lines", DataTable)
        lines.clear()
        context = self.contexts.get(row.case_id) if row is not None else None
        self.query_one("#beside", Static).update(Content("\n").join(decision_lines(tr, context)) if context else "")
        if row is not None and context is None:
            self._context_for(row.case_id)
        if row is None:
            return tr(N_("No proposals are waiting."))
        p = row.payload
        parts = [lit(tr(N_("Case {case} · {client}"), case=row.case_id, client=row.client_name), "bold")]
        if row.kind == "deferral":
            repay = p["option"]
            parts.append(
                Content(
                    tr(
                        N_(
                            "Deferral of {months} months · {option} · installment {old} → {new} · ends {end} · extra interest {extra}"
                        ),
                        months=p["months"],
                        option=tr(REPAY_OPTION[repay]),
                        old=_money(tr, p["current_installment"]),
                        new=_money(tr, p["new_installment"]),
                        end=tr.date(_day(p["end_date"])),
                        extra=_money(tr, p["extra_interest"]),
                    )
                )
            )
            parts.append(_fit_line(tr, p))
            parts.append(lit(tr(N_("Weighing: {text}"), text=p["weighing"])))
            if p.get("outlook"):
                parts.append(lit(tr(N_("Outlook: {text}"), text=p["outlook"])))
            for line in p["lines"]:
                lines.add_row(
                    right(line["seq"]),
                    text_cell(tr.date(_day(line["due_date"]))),
                    money_cell(tr, _dec(line["principal"])),
                    money_cell(tr, _dec(line["interest"])),
                )
        elif row.kind == "arrangement":  # a plan beyond the desk limits (services.arrangement_changes)
            parts.append(
                lit(
                    tr(
                        N_(
                            "Arrangement for {covered}: {count} installments of {installment}, the last on "
                            "{last} · beyond the desk: {refusal}"
                        ),
                        covered=_money(tr, p["covered"]),
                        count=p["installments"],
                        installment=_money(tr, p["installment"]),
                        last=tr.date(_day(p["last_date"])),
                        refusal=tr(p["desk_refusal"], **p.get("desk_refusal_params", {})),
                    )
                )
            )
            parts.append(lit(tr(N_("Reason: {text}"), text=p.get("reason", ""))))
        elif row.kind == "write_off":
            parts.append(
                lit(
                    tr(
                        N_("Write off {amount} of loan {loan} (balance {balance})"),
                        amount=_money(tr, p["amount"]),
                        loan=p["loan"],
                        balance=_money(tr, p["balance"]),
                    )
                )
            )
            parts.append(lit(tr(N_("Reason: {text}"), text=p.get("reason", ""))))
        else:
            parts.append(lit(tr(N_("Reason: {text}"), text=p.get("reason", ""))))
        if row.bkr_code is not None:  # said before it is approved (issue 13; services.proposals.decision_bkr_code)
            parts.append(
                lit(tr(N_("Approving this registers code {code} at the BKR"), code=row.bkr_code), "bold $text-warning")
            )
        return Content("\n").join(parts)

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

        self.app.push_screen(PromptScreen(self.tr(N_("Why is this proposal rejected?"))), rejected)

    def _decide(self, row: ProposalRow, approve: bool, reason: str) -> None:
        ctx = self.ctx
        done = N_("Approved: {client}") if approve else N_("Rejected: {client}")
        self.run_action(
            lambda: decide(ctx, row.id, row.version, approve=approve, reason=reason),
            self.tr(done, client=row.client_name),
        )

    def action_dossier(self) -> None:
        from incasso_tui.ui.screens.detail import ClientDetailScreen

        row = self.current
        if row is not None:
            self.app.push_screen(ClientDetailScreen(row.case_id))


def _fit_line(tr: Translator, p: dict[str, object]) -> Content:
    """The deferral against the capacity when it was proposed (issue 15)."""
    if p.get("capacity") is None:
        return lit(
            tr(
                N_("Cause {cause} · no capacity known when proposed"),
                cause=tr(CAUSE.get(str(p["cause"]), str(p["cause"]))),
            )
        )
    text = tr(
        N_("Cause {cause} · after it {needed} a month of {capacity} available"),
        cause=tr(CAUSE.get(str(p["cause"]), str(p["cause"]))),
        needed=_money(tr, str(p["needed"])),
        capacity=_money(tr, str(p["capacity"])),
    )
    fits = tr(N_("fits")) if p.get("fits") else tr(N_("does not fit"))
    return Content.assemble(lit(text + " · "), (fits, "bold $text-success" if p.get("fits") else "bold $text-error"))


def _dec(text: str) -> Decimal:
    return Decimal(text)


def _money(tr: Translator, text: str) -> str:
    return tr.money(Decimal(text))


def _day(text: str) -> date:
    return date.fromisoformat(text)
