"""The risk panel (issue 20): `v` on the dashboard. PAR30 / PAR90 (restructured included), default and forborne,
IFRS 9 stages beside the ageing buckets of the loans they reconcile with, write-offs and recoveries in the period,
the early-warning signals and how many were followed by arrears.

The figures come from ``services.risk.risk_report`` (in a worker thread; supervisors, admins and auditors: anyone
else sees the service's refusal). ``p`` / ``n`` move the day the status is asked for by a month (the period is the
30 days up to it), ``t`` back to today; a day before the book's first day is refused by the service and shown.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Label, Static

from incasso_tui.domain.arrears import BUCKETS
from incasso_tui.domain.risk import add_months
from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.risk import RiskReport, risk_report
from incasso_tui.ui.desk import DeskScreen
from incasso_tui.ui.labels import BUCKET
from incasso_tui.ui.screens.dashboard import _lines, bar
from incasso_tui.ui.text import lit, translate_bindings
from incasso_tui.ui.widgets.footer import DeskFooter


class RiskScreen(DeskScreen[None]):
    DEFAULT_CSS = """
    RiskScreen #risk-title { padding: 0 1; text-style: bold; }
    RiskScreen #risk-figures { padding: 0 1; }
    RiskScreen #risk-table { padding: 0 1; margin-top: 1; }
    RiskScreen #risk-flows { padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "month(-1)", "Earlier", id="earlier", tooltip="The status a month earlier"),
        Binding("n", "month(1)", "Later", id="later", tooltip="The status a month later"),
        Binding("t", "today", "Today", id="today"),
        Binding("r", "reload", "Refresh", id="reload", show=False),  # the footer is full at 80 columns: see `?`
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.as_of: date | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="risk-title")
        yield Static(id="risk-figures")
        yield Static(id="risk-table")
        yield Static(id="risk-flows")
        yield Label(id="message", classes="error")
        yield DeskFooter(compact=True)

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        self.as_of = self.ctx.clock.today()
        self.query_one("#risk-title", Static).update(self.tr(N_("Loading the figures...")))
        self.load()

    @work(thread=True, exclusive=True, group="risk")
    def load(self) -> None:
        try:
            report = risk_report(self.ctx, self.as_of)
        except IncassoError as exc:
            self.app.call_from_thread(self._refused, self.tr.error(exc))
            return
        self.app.call_from_thread(self.show, report)

    def _refused(self, text: str) -> None:
        self.query_one("#message", Label).update(lit(text))

    def _rate(self, value: Decimal | None) -> str:
        return "–" if value is None else self.tr.percent(value)

    def show(self, r: RiskReport) -> None:
        tr = self.tr
        self.query_one("#message", Label).update("")
        title = tr(
            N_("Risk · status as of {as_of} · period {date_from} to {date_to}"),
            as_of=tr.date(r.as_of),
            date_from=tr.date(r.date_from),
            date_to=tr.date(r.date_to),
        )
        self.query_one("#risk-title", Static).update(lit(title))
        lines = [
            tr.plural(
                "Portfolio: {count} loan, outstanding principal {amount}",
                "Portfolio: {count} loans, outstanding principal {amount}",
                r.portfolio.count,
                count=tr.integer(r.portfolio.count),
                amount=tr.money(r.portfolio.amount),
            )
        ]
        if r.recorded_until is None:
            lines.append(tr(N_("No risk status recorded yet: the daily run writes it (incasso procedure run)")))
        elif r.recorded_from is not None and r.as_of < r.recorded_from:
            lines.append(
                tr(
                    N_("No risk status recorded on this day: the history starts on {date}"),
                    date=tr.date(r.recorded_from),
                )
            )
        lines += [
            tr(
                N_("PAR30 {rate} · PAR90 {rate90} (restructured included)"),
                rate=self._rate(r.par30),
                rate90=self._rate(r.par90),
            ),
            tr.plural(
                "In default: {count} loan, {amount}",
                "In default: {count} loans, {amount}",
                r.default.count,
                count=tr.integer(r.default.count),
                amount=tr.money(r.default.amount),
            ),
            tr.plural(
                "Forborne: {count} loan, {amount}",
                "Forborne: {count} loans, {amount}",
                r.forborne.count,
                count=tr.integer(r.forborne.count),
                amount=tr.money(r.forborne.amount),
            ),
        ]
        self.query_one("#risk-figures", Static).update(_lines(lines))
        self.query_one("#risk-table", Static).update(_lines(self._table(r)))
        flows = [
            tr(
                N_("Written off {amount}, recovered {recovered} (recovery rate {rate})"),
                amount=tr.money(r.write_offs),
                recovered=tr.money(r.recoveries),
                rate=self._rate(r.recovery_rate),
            ),
            tr(
                N_("Signals: {count}, followed by arrears within the window: {followed}"),
                count=tr.integer(r.signals),
                followed=tr.integer(r.signals_followed),
            ),
        ]
        self.query_one("#risk-flows", Static).update(_lines(flows))

    def _table(self, r: RiskReport) -> list[str]:
        """IFRS 9 stages and the ageing buckets of the loans, each with loans, principal and a bar of the
        principal: two splits of the same portfolio (both add up to it)."""
        tr = self.tr
        largest = max([f.amount for f in r.stages.values()] + [r.buckets[b].amount for b in BUCKETS])
        rows = [f"{'':<20}{tr(N_('loans')):>8} {tr(N_('principal')):>20}"]

        def row(label: str, count: int, amount: Decimal) -> str:
            return f"  {label[:18]:<18}{tr.integer(count):>8} {tr.money(amount):>20}  {bar(amount, largest, 14)}"

        rows.append(tr(N_("IFRS 9 stage")))
        rows += [row(tr(N_("Stage {stage}"), stage=str(n)), f.count, f.amount) for n, f in r.stages.items()]
        rows.append(tr(N_("Ageing (loans)")))
        rows += [row(tr(BUCKET[b]), r.buckets[b].count, r.buckets[b].amount) for b in BUCKETS]
        return rows

    def action_month(self, step: int) -> None:
        today = self.ctx.clock.today()
        current = self.as_of or today
        self.as_of = min(add_months(current, step), today)
        self.load()

    def action_today(self) -> None:
        self.as_of = self.ctx.clock.today()
        self.load()

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()
