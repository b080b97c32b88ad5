"""The client's capacity beside a plan (issue 15): one widget for the arrangement and the deferral screens, and the
lines the approval queue and the budget form show. It only lays out what ``services.budget`` computed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from incasso_tui.domain.budget import Capacity, Fit, trend
from incasso_tui.errors import N_
from incasso_tui.ui.text import lit

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator
    from incasso_tui.services.budget import BudgetStatus, DecisionContext

NORM = {"beslagvrije_voet": N_("beslagvrije voet"), "desk": N_("desk norm")}
CHECKED = {
    "bank_statements": N_("bank statements seen"),
    "payslip": N_("payslip seen"),
    "self_declared": N_("self-declared"),
}
CHECKED_SHORT = {
    "bank_statements": N_("bank statements"),
    "payslip": N_("payslip"),
    "self_declared": N_("self-declared"),
}
HOUSEHOLD = {
    "single": N_("single"),
    "single_parent": N_("single parent"),
    "couple": N_("couple"),
    "couple_children": N_("couple with children"),
}


def step_lines(tr: Translator, result: Capacity, width: int = 34) -> list[Content]:
    """Every step of the computation: label, amount right-aligned; then the norm used and the warnings."""
    lines = []
    for step in result.steps:
        label, amount = tr(step.label), tr.money(step.amount)
        style = "bold" if step.key == "capacity" else ""
        lines.append(lit(label[: width - len(amount) - 1].ljust(width - len(amount)) + amount, style))
    if result.norm_start is not None:
        lines.append(norm_line(tr, result))
    lines += [
        lit(tr(msgid, **params), "$text-warning")
        for msgid, params in result.warnings
        if not msgid.startswith("Unverified norm")
    ]
    return lines


TREND = {"falling": N_("falling"), "rising": N_("rising"), "stable": N_("stable")}


def trend_line(tr: Translator, values: tuple[Decimal, ...]) -> Content | None:
    """The revenue of the last months in one word (``domain.budget.trend``), None below two months."""
    direction = trend(values)
    if direction is None:
        return None
    return lit(
        tr(
            N_("Revenue trend: {direction} ({first} to {last})"),
            direction=tr(TREND[direction]),
            first=values[0],
            last=values[-1],
        ),
        "$text-warning" if direction == "falling" else "",
    )


def norm_line(tr: Translator, result: Capacity) -> Content:
    if result.norm_start is None:
        return Content("")
    text = tr(N_("{norm} from {start}"), norm=tr(NORM[result.norm_kind.value]), start=result.norm_start)
    if not result.norm_verified:
        return Content.assemble((text + " · ", "$text-muted"), (tr(N_("unverified norm")), "$text-warning"))
    return lit(text, "$text-muted")


def budget_line(tr: Translator, st: BudgetStatus) -> Content:
    """Where the budget came from, and the flag when it is too old."""
    if st.budget is None:
        return lit(tr(N_("No budget yet: enter it on the client detail (b)")), "$text-warning")
    b = st.budget
    text = tr(N_("Budget {day} · {checked}"), day=b.budget_date, checked=tr(CHECKED_SHORT[b.checked]))
    if st.stale:
        return Content.assemble(
            (text + " · ", ""), (tr(N_("older than {months} months"), months=st.age_months), "bold $text-warning")
        )
    return lit(text)


def available_line(tr: Translator, result: Capacity) -> Content:
    """The capacity, and (muted) the norm it rests on when that norm is unverified."""
    line = lit(tr(N_("Available {amount} a month"), amount=result.capacity), "bold")
    if result.norm_start is not None and not result.norm_verified:
        return Content.assemble(line, (" · " + tr(N_("unverified norm")), "$text-warning"))
    return line


def fit_lines(tr: Translator, fit: Fit | None, plan_caption: str) -> list[Content]:
    """``plan + regular installments = needed`` against what is available, and whether it fits."""
    if fit is None:
        return []
    lines = [
        lit(
            tr(
                N_("{caption} {plan} + regular {regular}"),
                caption=tr(plan_caption),
                plan=fit.plan_monthly,
                regular=fit.regular,
            )
        )
    ]
    if fit.fits:
        lines.append(
            lit(tr(N_("= {needed}: fits, {room} left"), needed=fit.needed, room=fit.room), "bold $text-success")
        )
    else:
        lines.append(lit(tr(N_("= {needed}: {over} above it"), needed=fit.needed, over=-fit.room), "bold $text-error"))
    return lines


def summary_lines(tr: Translator, st: BudgetStatus) -> list[Content]:
    """The budget in three lines (for the approval queue): source and age, capacity, installments it carries."""
    lines = [budget_line(tr, st)]
    if st.capacity is not None:
        lines.append(available_line(tr, st.capacity))
    elif st.error is not None:
        lines.append(lit(tr.error(st.error), "$text-error"))
    lines.append(
        lit(tr(N_("Regular {regular} · arrangement {arrangement}"), regular=st.regular, arrangement=st.arrangement))
    )
    return lines


class CapacityPanel(Static):
    """The capacity beside a plan: the budget it comes from, the capacity, and the fit of the plan."""

    DEFAULT_CSS = """
    CapacityPanel { height: auto; padding: 1 0 0 0; }
    """

    def show(
        self,
        tr: Translator,
        st: BudgetStatus | None,
        fit: Fit | None,
        plan_caption: str,
        extra: list[Content] | None = None,
    ) -> None:
        if st is None:
            self.update(lit(tr(N_("Reading the budget...")), "$text-muted"))
            return
        lines = [budget_line(tr, st)]
        if st.capacity is not None:
            lines.append(available_line(tr, st.capacity))
        elif st.error is not None:
            lines.append(lit(tr.error(st.error), "$text-error"))
        lines += fit_lines(tr, fit, plan_caption)
        lines += extra or []
        self.update(Content("\n").join([line for line in lines if line.plain]))


def decision_lines(tr: Translator, dc: DecisionContext) -> list[Content]:
    """What a supervisor sees beside a proposal: the budget and its capacity, the cause (and where it came from),
    the running arrangement and the open promises."""
    from incasso_tui.ui.labels import CAUSE, FREQUENCY

    lines = summary_lines(tr, dc.budget)
    if dc.cause:
        source = dc.causes[0] if dc.causes else None
        how = (
            tr(N_(" ({source} {day})"), source=tr(CAUSE_SOURCE[source.source]), day=source.set_at.date())
            if source is not None
            else ""
        )
        lines.append(lit(tr(N_("Cause: {cause}"), cause=tr(CAUSE.get(dc.cause, dc.cause))) + how))
    else:
        lines.append(lit(tr(N_("Cause: not known")), "$text-warning"))
    if dc.arrangements:
        parts = [
            tr(
                N_("Arrangement: {amount} in {count} x {frequency}"),
                amount=covered,
                count=count,
                frequency=tr(FREQUENCY.get(frequency, frequency)),
            )
            for _status, covered, count, frequency in dc.arrangements
        ]
    else:
        parts = [tr(N_("Arrangement: none"))]
    if dc.open_promises:
        parts.append(
            tr(
                N_("open promises: {list}"),
                list=", ".join(
                    tr(N_("{amount} on {day}"), amount=amount, day=due) for due, amount in dc.open_promises[:2]
                ),
            )
        )
    else:
        parts.append(tr(N_("open promises: none")))
    lines.append(lit(" · ".join(parts)))
    return lines


CAUSE_SOURCE = {"contact": N_("contact"), "deferral": N_("deferral"), "budget": N_("budget")}
