"""The team view (issue 8): the desk's KPIs with small bar charts; `k` on the worklist, `r` refresh, escape back.

The figures are the newest stored snapshot of today of ``services.kpi`` and the cause counts
(``services.kpi_snapshots.for_dashboard``: the daily run stores the whole desk's, otherwise the first opening of the
day computes and stores them; `r` computes and stores them now), shown with the moment they were computed ("as of
..."); figures of an earlier day (a screen left open past midnight) say so on a line of their own. The scope: supervisors, admins and auditors see the whole desk, everyone else their own cases.
The period is the 30 days up to the snapshot's day. Below the charts the roll rates since last week: per bucket then
that has cases, its number of cases and the share in each bucket now, cured (closed) or handed over. The complaints
and outside-parties lines are read live (a few milliseconds).
"""

from __future__ import annotations

import asyncio
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Header, Label, Static

from incasso_tui.domain.arrears import BUCKETS
from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.kpi import CLOSED, HANDED_OVER, ROLL_TARGETS, KpiReport, RollRates
from incasso_tui.services.kpi_snapshots import StoredKpi, for_dashboard, take
from incasso_tui.ui.desk import DeskScreen
from incasso_tui.ui.labels import BUCKET
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, safe, translate_bindings
from incasso_tui.ui.widgets.footer import DeskFooter
from incasso_tui.ui.work import service_worker

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator
    from incasso_tui.services.context import Context

BAR_WIDTH = 12
ROLL_CELL = 9  # a roll-rate column: 14 + 7 x 9 cells fit 80 columns with the padding
# column heads of the roll-rate matrix: at most 8 characters in both languages (the ageing buckets' own labels
# in labels.BUCKET are too long for a column); the numeric buckets read the same in both
_ROLL_LABEL = {"current": N_("none"), CLOSED: N_("cured"), HANDED_OVER: N_("handover")}
_EIGHTHS = " ▏▎▍▌▋▊▉"
# the causes of the arrears in one line (the labels of labels.CAUSE are too long for 80 columns)
_CAUSE_SHORT = {
    "loss_of_work": N_("work"),
    "illness": N_("illness"),
    "too_many_debts": N_("debts"),
    "seasonal_income": N_("season"),
    "business_downturn": N_("downturn"),
    "other": N_("other"),
    "unknown": N_("unknown"),
}


def bar(value: int | Decimal, largest: int | Decimal, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of ``width`` cells for ``value`` against ``largest``, in eighths of a cell."""
    if largest <= 0 or value <= 0:
        return " " * width
    eighths = max(1, round(Decimal(value) / Decimal(largest) * width * 8))
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)


def _lines(lines: list[str]) -> Content:
    """Lines shown literally (each made safe), one below the other."""
    return Content("\n").join(lit(line) for line in lines)


def _outside_lines(ctx: Context, tr: Translator) -> list[str]:
    """Issue 19: the complaints figure (open, past a term) and what is at outside parties (services.complaints and
    services.external); read in the dashboard's worker."""
    from incasso_tui.services.complaints import overdue
    from incasso_tui.services.external import kpis

    o, k = overdue(ctx), kpis(ctx)
    return [
        tr(
            N_("Complaints: {open} open, {ack} acknowledgements and {answer} answers past their term"),
            open=o.open,
            ack=o.acknowledgements_overdue,
            answer=o.answers_overdue,
        ),
        tr.plural(
            "External: {count} claim ({amount}); collected {collected}, back {back}, costs {costs}",
            "External: {count} claims ({amount}); collected {collected}, back {back}, costs {costs}",
            k.at_party,
            count=k.at_party,
            amount=tr.money(k.at_party_amount),
            collected=tr.money(k.collected),
            back=sum(k.ended.values()),
            costs=tr.money(k.costs),
        ),
    ]


class DashboardScreen(DeskScreen[None]):
    CSS_PATH = STYLES / "dashboard.tcss"
    # the worklist's `k` shows the one the app keeps (issue 18): composing, mounting and styling its nodes was most of
    # the key (its three reads take a few milliseconds); shown again it reads the figures again (reset)
    KEPT_AS: ClassVar[str | None] = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Refresh", id="reload"),
        Binding("v", "risk", "Risk", id="risk"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def compose(self) -> ComposeResult:
        translate_bindings(self, self.tr)  # before the footer composes its keys (DeskFooter composes them at once)
        yield Header()
        yield Static(id="period")
        yield Static(id="rates")
        yield Static(id="causes")  # issue 15: the open cases per cause of the arrears
        with Horizontal(id="charts"):
            yield Static(id="buckets")
            yield Static(id="workload")
        yield Static(id="roll")
        yield Label(id="message", classes="error")
        yield DeskFooter(compact=True)

    def __init__(self) -> None:
        super().__init__()
        self._first = asyncio.Event()  # set when the first figures (or their refusal) are shown

    def on_mount(self) -> None:
        self._read_for_paint()

    def reset(self) -> None:
        """Shown again (``DeskScreen.open_kept``): as a new one shows itself, nothing of the figures shown before."""
        for name in ("rates", "causes", "buckets", "workload", "roll"):
            self.query_one(f"#{name}", Static).update("")
        self.query_one("#message", Label).update("")
        self._read_for_paint()

    def _read_for_paint(self) -> None:
        self.query_one("#period", Static).update(self.tr(N_("Loading the figures...")))
        first = self._first = asyncio.Event()
        self.load()
        self.paint_after(first)  # one layout and paint with the figures, not one empty and one when they come

    def load(self, *, now: bool = False) -> None:
        """The stored figures (``now``: computed and stored now, the refresh) and the live outside lines."""
        ctx, tr = self.ctx, self.tr

        def read() -> tuple[StoredKpi, list[str]]:
            return (take(ctx) if now else for_dashboard(ctx)), _outside_lines(ctx, tr)

        service_worker(self, read, self._loaded, self._failed, group="kpi")

    def _loaded(self, got: tuple[StoredKpi, list[str]]) -> None:
        stored, outside = got
        self.query_one("#message", Label).update("")
        self.show(stored.report, outside, stored)
        self.show_causes(stored.causes)
        self._first.set()

    def _failed(self, exc: IncassoError) -> None:
        self.query_one("#message", Label).update(lit(self.tr.error(exc)))
        self._first.set()

    def show_causes(self, counts: dict[str, int]) -> None:
        tr = self.tr
        parts = [
            f"{tr(_CAUSE_SHORT[c])} {tr.integer(n)}" for c, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n
        ]
        self.query_one("#causes", Static).update(lit(tr(N_("Causes: {list}"), list=" · ".join(parts) or "–")))

    def _rate(self, value: Decimal | None) -> str:
        return "–" if value is None else self.tr.percent(value)

    def show(self, r: KpiReport, outside: list[str] | None = None, stored: StoredKpi | None = None) -> None:
        tr = self.tr
        scope = tr(N_("whole desk")) if r.scope is None else tr(N_("cases of {user}"), user=r.scope)
        period = tr(
            N_("Team view · {scope} · {date_from} to {date_to}"),
            scope=scope,
            date_from=tr.date(r.date_from),
            date_to=tr.date(r.date_to),
        )
        head = [lit(period)]
        if stored is not None:  # the moment they were computed, on a line of its own
            moment = tr.datetime(stored.taken_at)
            if r.as_of == self.ctx.clock.today():
                head.append(lit(tr(N_("As of {moment} (r computes them now)"), moment=moment), "not bold"))
            else:  # never shown as today's: the day is said, and how to refresh
                head.append(
                    lit(
                        tr(N_("As of {moment}: not today's figures; r computes them now"), moment=moment),
                        "$text-warning",
                    )
                )
        self.query_one("#period", Static).update(Content("\n").join(head))
        lines = [
            tr(N_("Open cases: {count}, arrears {amount}"), count=tr.integer(r.open_cases), amount=tr.money(r.arrears)),
            tr(
                N_("Follow-up on time: {rate} ({on_time} on time, {late} late)"),
                rate=self._rate(r.followup_timeliness_rate),
                on_time=r.followups_on_time,
                late=r.followups_late,
            ),
            tr(
                N_("Promises kept: {rate} ({kept} kept, {broken} broken)"),
                rate=self._rate(r.promises_kept_rate),
                kept=r.promises_kept,
                broken=r.promises_broken,
            ),
            tr(
                N_("Arrangements: {kept} kept, {broken} broken"), kept=r.arrangements_kept, broken=r.arrangements_broken
            ),
            tr(
                N_("Cure rate: {rate} ({cured} of {base} open at the start)"),
                rate=self._rate(r.cure_rate),
                cured=r.cured,
                base=r.cure_base,
            ),
        ]
        self.query_one("#rates", Static).update(_lines(lines + (outside or [])))
        largest = max((b.count for b in r.buckets.values()), default=0)
        rows = [tr(N_("Ageing (cases)"))]
        for name in BUCKETS:
            fig = r.buckets[name]
            rows.append(f"{tr(BUCKET[name])[:17]:<17} {bar(fig.count, largest, 10)} {tr.integer(fig.count):>6}")
        self.query_one("#buckets", Static).update(_lines(rows))
        most = max((w.open_cases for w in r.workload), default=0)
        rows = [tr(N_("Workload (open cases, overdue tasks)"))]
        for w in r.workload[:6]:
            name = safe(w.user) if w.user else tr(N_("(unassigned)"))
            late = tr(N_("{count} late"), count=tr.integer(w.overdue_tasks)) if w.overdue_tasks else ""
            rows.append(f"{name[:17]:<17} {bar(w.open_cases, most, 10)} {tr.integer(w.open_cases):>6} {late}")
        if len(r.workload) > 6:
            rows.append(tr(N_("... and {count} more"), count=len(r.workload) - 6))
        self.query_one("#workload", Static).update(_lines(rows))
        self.query_one("#roll", Static).update(_lines(self._roll(r.roll_rates)))

    def _roll(self, rr: RollRates) -> list[str]:
        """The roll-rate matrix: a title, a header of the buckets now and one line per bucket then with cases."""
        tr = self.tr
        if rr.since is None:
            if rr.available_from is None:
                return [tr(N_("Roll rates: not yet available (the daily run has written no bucket snapshot yet)"))]
            return [
                tr(
                    N_("Roll rates: available from {date} (a week after the first bucket snapshot)"),
                    date=tr.date(rr.available_from),
                )
            ]
        if rr.until is None:
            return [
                tr(
                    N_("Roll rates: no bucket snapshot after {date}: the daily run has not run since"),
                    date=tr.date(rr.since),
                )
            ]
        lines = [
            tr(
                N_("Roll rates {since} to {until}: cases then, share now"),
                since=tr.date(rr.since),
                until=tr.date(rr.until),
            )
        ]
        head = "".join(
            f"{tr(_ROLL_LABEL[t]) if t in _ROLL_LABEL else t:>{ROLL_CELL}.{ROLL_CELL - 1}}" for t in ROLL_TARGETS
        )
        lines.append(" " * 14 + head)
        for bucket in rr.rows:
            cells = "".join(f"{self._share(rr.rate(bucket, t)):>{ROLL_CELL}}" for t in ROLL_TARGETS)
            name = tr(_ROLL_LABEL[bucket]) if bucket in _ROLL_LABEL else bucket
            lines.append(f"{name:<8}{tr.integer(rr.cases(bucket)):>6}{cells}")
        return lines

    def _share(self, value: Decimal | None) -> str:
        """A share as a whole percentage, "·" for none (the matrix must stay narrow)."""
        if not value:
            return "·"
        return f"{(value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"

    def action_reload(self) -> None:
        self.query_one("#period", Static).update(self.tr(N_("Computing the figures...")))
        self.load(now=True)

    def action_risk(self) -> None:
        from incasso_tui.ui.screens.risk import RiskScreen

        self.app.push_screen(RiskScreen())

    def action_back(self) -> None:
        self.app.pop_screen()
