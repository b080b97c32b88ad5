"""The client's capacity on the arrangement screen (issue 15), kept apart from the screen's own code.

:class:`CapacityMixin` reads the client's budget in a worker when the screen opens, shows the capacity beside the
plan in a :class:`~incasso_tui.ui.widgets.capacity.CapacityPanel` (the plan's monthly installment plus the regular
installments against what is available) and fills in a plan that fits (``ctrl+o``, ``services.budget.propose``).
The rule itself (a reason above the capacity, or a refusal) is the service's: ``services.budget.check_plan`` runs
when the arrangement is saved.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Input, Select

from incasso_tui.domain.budget import monthly
from incasso_tui.domain.enums import Frequency
from incasso_tui.domain.money import ZERO, parse_amount
from incasso_tui.errors import N_, BadInput, IncassoError
from incasso_tui.services.budget import BudgetStatus, fit, propose, status
from incasso_tui.ui.text import lit
from incasso_tui.ui.widgets.capacity import CapacityPanel

if TYPE_CHECKING:
    from incasso_tui.domain.arrangement import Plan
    from incasso_tui.services.cases import ClientDetail
    from incasso_tui.ui.screens.form import SavingScreen

    _Screen = SavingScreen[int]  # what the mixin is mixed into: its ctx, tr, query_one ... typed
else:
    _Screen = object


class CapacityMixin(_Screen):
    """For ``ArrangementScreen``: needs ``self.detail``, ``self.ctx``, ``self.tr`` and a ``CapacityPanel#capacity``."""

    detail: ClientDetail
    budget: BudgetStatus | None = None
    shown_plan: Plan | None = None

    @work(thread=True, exclusive=True, group="arrangement-budget")
    def load_budget(self, done: asyncio.Event | None = None) -> None:
        """Read the client's budget and show the capacity; then set ``done`` (on the UI thread)."""
        client_id = self.detail.client.id
        try:
            try:
                st = status(self.ctx, client_id)
            except IncassoError as err:
                self.app.call_from_thread(self._budget_failed, client_id, err)
                return
            self.app.call_from_thread(self._budget_read, client_id, st)
        finally:
            if done is not None:
                self.app.call_from_thread(done.set)

    def _budget_failed(self, client_id: int, err: IncassoError) -> None:
        if client_id == self.detail.client.id:  # not a client the kept form showed before
            self.notify(self.tr.error(err), severity="error")

    def _budget_read(self, client_id: int, st: BudgetStatus) -> None:
        if client_id != self.detail.client.id:  # a client the kept form showed before (DeskScreen.open_kept)
            return
        self.budget = st
        self.show_capacity(self.shown_plan)

    def show_capacity(self, plan: Plan | None) -> None:
        self.shown_plan = plan
        tr = self.tr
        panel = self.query_one("#capacity", CapacityPanel)
        st = self.budget
        result = None
        if st is not None and plan is not None:
            frequency = self.query_one("#frequency", Select).value
            result = fit(st, monthly(plan.installment, str(frequency)))
        extra = []  # a budget older than the setting is flagged in the panel's first line (budget_line)
        if result is not None and not result.fits:
            rule = self.ctx.settings.arrangement_above_capacity
            extra.append(
                lit(
                    tr(N_("Not allowed: ctrl+o proposes one that fits"))
                    if rule == "refuse"
                    else tr(N_("Above it: give the reason")),
                    "$text-warning",
                )
            )
        panel.show(tr, st, result, N_("Plan"), extra)

    def action_propose(self) -> None:
        """Fill in the number of monthly installments that fits the capacity within the desk limits."""
        tr = self.tr
        if self.budget is None:
            return
        text = self.query_one("#down_payment", Input).value.strip()
        try:
            down = parse_amount(text) if text else ZERO
            proposal = propose(self.ctx, self.budget, self.detail.arrears.total, down)
        except (BadInput, IncassoError) as err:
            self.error("message", tr.error(err))
            self.app.bell()
            return
        self.query_one("#frequency", Select).value = Frequency.MONTHLY
        self.query_one("#installment", Input).value = ""
        self.query_one("#count", Input).value = str(proposal.count)
