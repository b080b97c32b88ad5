"""The client's budget (``b`` on the client detail): income and expenditure, entered on a call, kept as history.

On the left the figures (the household's for natural persons and sole traders, the business's for every business
debtor), what was checked, the cause of the arrears and the budget's date; on the right the capacity with every
step, recomputed as the employee types (``services.budget.compute``, with the norm table read once), and the
earlier budgets. ``ctrl+s`` stores a new budget through ``services.budget.set_budget``; a refusal shows at its
field and everything typed stays. The screen opens with the current budget's figures filled in, so a new budget on
a call is a change of what moved.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Select, Static

from incasso_tui.domain.budget import BusinessBudget, Checked, Debt, Household, HouseholdBudget, Norms
from incasso_tui.domain.enums import ArrearsCause
from incasso_tui.domain.money import ZERO, parse_amount
from incasso_tui.errors import N_, BadInput, IncassoError
from incasso_tui.services.budget import BudgetInput, BudgetView, budgets, compute, norms, parts, set_budget
from incasso_tui.services.cases import ClientDetail
from incasso_tui.ui.labels import CAUSE
from incasso_tui.ui.screens.form import FormScreen
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit
from incasso_tui.ui.widgets.capacity import CHECKED, HOUSEHOLD, step_lines, trend_line

HOUSEHOLD_FIELDS = (
    ("salary", N_("Salary")),
    ("benefits", N_("Benefits")),
    ("partner", N_("Partner")),
    ("drawings", N_("Drawings")),
    ("housing", N_("Housing costs")),
    ("housing_allowance", N_("Housing allow.")),
    ("health", N_("Health premium")),
    ("health_allowance", N_("Health allow.")),
    ("fixed", N_("Fixed costs")),
)
BUSINESS_FIELDS = (
    ("revenue", N_("Revenue")),
    ("costs", N_("Costs")),
    ("business_drawings", N_("Drawings")),
    ("tax_reservation", N_("Tax reserved")),
)
DEBT_LINES = 2


class BudgetScreen(FormScreen[int]):
    """Dismissed with the new budget's id, or None when cancelled."""

    CSS_PATH = [STYLES / "form.tcss", STYLES / "budget.tcss"]
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (110, "-wide")]
    FIELDS: ClassVar[tuple[str, ...]] = (
        "household",
        "children",
        *(n for n, _ in HOUSEHOLD_FIELDS),
        "debts",
        *(n for n, _ in BUSINESS_FIELDS),
        "trend",
        "checked",
        "budget_date",
        "cause",
        "note",
    )

    def __init__(self, detail: ClientDetail) -> None:
        super().__init__()
        self.detail = detail
        self.household_needed, self.business_needed = parts(detail.client.kind, detail.client.consumer)
        self.table: Norms | None = None
        self.history: list[BudgetView] = []

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Horizontal(classes="dialog", id="budget"):
            with VerticalScroll(id="budget-form"):
                yield Label(lit(tr(N_("Budget of {name}"), name=self.detail.client.name), "bold"), classes="title")
                if self.household_needed:
                    yield Label(tr(N_("Household, net a month")), classes="subhead")
                    yield from self.field(
                        "household",
                        N_("Household"),
                        Select(
                            [(tr(HOUSEHOLD[h.value]), h) for h in Household],
                            value=Household.SINGLE,
                            allow_blank=False,
                            compact=True,
                            id="household",
                        ),
                    )
                    yield from self.field(
                        "children",
                        N_("Children"),
                        Input("0", id="children", restrict=r"[0-9]*", max_length=2, compact=True),
                    )
                    for name, caption in HOUSEHOLD_FIELDS:
                        yield from self.field(name, caption, Input(id=name, placeholder="€", compact=True))
                    for i in range(DEBT_LINES):
                        with Horizontal(classes="field"):
                            yield Label(tr(N_("Other debt")), classes="caption")
                            yield Input(id=f"creditor{i}", placeholder=tr(N_("creditor")), compact=True)
                            yield Input(id=f"debt{i}", placeholder="€", compact=True, classes="debt-amount")
                    yield Label(id="debts-error", classes="error")
                if self.business_needed:
                    yield Label(tr(N_("Business, a month")), classes="subhead")
                    for name, caption in BUSINESS_FIELDS:
                        yield from self.field(name, caption, Input(id=name, placeholder="€", compact=True))
                    yield from self.field(
                        "trend", N_("Revenue trend"), Input(id="trend", placeholder=tr(N_("900; 1.100")), compact=True)
                    )
                yield Label(tr(N_("Checked and cause")), classes="subhead")
                yield from self.field(
                    "checked",
                    N_("Checked"),
                    Select(
                        [(tr(CHECKED[c.value]), c) for c in Checked],
                        value=Checked.BANK_STATEMENTS,
                        allow_blank=False,
                        compact=True,
                        id="checked",
                    ),
                )
                yield from self.field(
                    "budget_date",
                    N_("Figures of"),
                    Input(
                        tr.date(self.ctx.clock.today()),
                        id="budget_date",
                        placeholder=tr(N_("dd/mm/yyyy")),
                        compact=True,
                    ),
                )
                yield from self.field(
                    "cause",
                    N_("Cause"),
                    Select(
                        [(tr(CAUSE[c.value]), c) for c in ArrearsCause],
                        prompt=tr(N_("(unchanged)")),
                        compact=True,
                        id="cause",
                    ),
                )
                yield from self.field("note", N_("Note"), Input(id="note", max_length=2000, compact=True))
                yield from self.buttons()
            with Vertical(id="budget-preview"):
                yield Static(id="steps")
                yield Static(id="history")

    def on_mount(self) -> None:
        first = "#household" if self.household_needed else "#revenue"
        self.query_one(first).focus()
        self._load()

    @work(thread=True, exclusive=True, group="budget-load")
    def _load(self) -> None:
        try:
            table = norms(self.ctx)
            history = budgets(self.ctx, self.detail.client.id)
        except IncassoError as err:
            self.app.call_from_thread(self.error, None, self.tr.error(err))
            return
        self.app.call_from_thread(self._loaded, table, history)

    def _loaded(self, table: Norms, history: list[BudgetView]) -> None:
        self.table, self.history = table, history
        if history:
            self._fill(history[0])
        self._show_history()
        self._preview()

    def _fill(self, view: BudgetView) -> None:
        """The current budget's figures, as a start for the new one."""
        tr = self.tr
        if view.household is not None and self.household_needed:
            h = view.household
            self.query_one("#household", Select).value = h.household
            self.query_one("#children", Input).value = str(h.children)
            for name, _ in HOUSEHOLD_FIELDS:
                amount = getattr(h, name)
                self.query_one(f"#{name}", Input).value = tr.money(amount).replace("€", "").strip() if amount else ""
            for i, debt in enumerate(h.debts[:DEBT_LINES]):
                self.query_one(f"#creditor{i}", Input).value = debt.creditor
                self.query_one(f"#debt{i}", Input).value = tr.money(debt.monthly).replace("€", "").strip()
        if view.business is not None and self.business_needed:
            b = view.business
            for name, attr in (
                ("revenue", "revenue"),
                ("costs", "costs"),
                ("business_drawings", "drawings"),
                ("tax_reservation", "tax_reservation"),
            ):
                amount = getattr(b, attr)
                self.query_one(f"#{name}", Input).value = tr.money(amount).replace("€", "").strip() if amount else ""
            self.query_one("#trend", Input).value = "; ".join(tr.money(v).replace("€", "").strip() for v in b.trend)
        self.query_one("#checked", Select).value = Checked(view.checked)

    def _show_history(self) -> None:
        tr = self.tr
        if not self.history:
            self.query_one("#history", Static).update(lit(tr(N_("No earlier budgets")), "$text-muted"))
            return
        lines = [lit(tr(N_("Budgets ({count})"), count=len(self.history)), "bold")]
        for view in self.history[:5]:
            then = tr.money(view.capacity.capacity) if view.capacity is not None else "–"
            lines.append(lit(f"{tr.date(view.budget_date)} {then:>12} {view.created_by}"[:40]))
        self.query_one("#history", Static).update(Content("\n").join(lines))

    # ----- live preview
    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self._preview()

    def _preview(self) -> None:
        if self.table is None:
            return
        tr = self.tr
        steps = self.query_one("#steps", Static)
        try:
            household, business = self._figures()
            result = compute(self.ctx, household, business, self.ctx.clock.today(), self.table)
        except IncassoError as err:
            steps.update(lit(tr.error(err), "$text-warning"))
            return
        width = min(max(steps.content_size.width, 24), 44) if steps.content_size.width else 32
        lines = [lit(tr(N_("Capacity as of today")), "bold"), *step_lines(tr, result, width)]
        direction = trend_line(tr, business.trend) if business is not None else None
        if direction is not None:
            lines.append(direction)
        steps.update(Content("\n").join(lines))

    # ----- reading the form
    def _amount(self, name: str) -> Decimal:
        text = self.query_one(f"#{name}", Input).value.strip()
        if not text:
            return ZERO
        try:
            return parse_amount(text)
        except BadInput as err:
            raise BadInput(err.msgid, field=name, **err.params) from None

    def _figures(self) -> tuple[HouseholdBudget | None, BusinessBudget | None]:
        household = business = None
        if self.household_needed:
            kind = self.query_one("#household", Select).value
            assert isinstance(kind, Household)
            debts = []
            for i in range(DEBT_LINES):
                creditor = self.query_one(f"#creditor{i}", Input).value.strip()
                amount = self._amount(f"debt{i}")
                if creditor or amount:
                    debts.append(Debt(creditor, amount))
            children = self.query_one("#children", Input).value.strip()
            household = HouseholdBudget(
                kind,
                int(children or "0"),
                debts=tuple(debts),
                **{name: self._amount(name) for name, _ in HOUSEHOLD_FIELDS},
            )
        if self.business_needed:
            trend = []
            for part in self.query_one("#trend", Input).value.replace(";", " ").split():
                try:
                    trend.append(parse_amount(part))
                except BadInput as err:
                    raise BadInput(err.msgid, field="trend", **err.params) from None
            business = BusinessBudget(
                self._amount("revenue"),
                self._amount("costs"),
                self._amount("business_drawings"),
                self._amount("tax_reservation"),
                tuple(trend),
            )
        return household, business

    def read(self) -> BudgetInput | None:
        try:
            household, business = self._figures()
        except BadInput as err:
            self.error(self._field(err.field), self.tr.error(err))
            return None
        ok, day = self.parse("budget_date", self.day)
        if not ok:
            return None
        if day is None:
            self.error("budget_date", self.tr(N_("Please fill this in")))
            return None
        checked = self.query_one("#checked", Select).value
        cause = self.query_one("#cause", Select).value
        assert isinstance(checked, Checked)
        return BudgetInput(
            day,
            checked,
            household,
            business,
            note=self.query_one("#note", Input).value,
            cause=cause if isinstance(cause, ArrearsCause) else None,
        )

    @staticmethod
    def _field(name: str | None) -> str | None:
        if name is not None and name.startswith(("debt", "creditor")):
            return "debts"
        return name

    def error(self, name: str | None, text: str) -> None:
        super().error(self._field(name), text)

    def submit(self, given: Any) -> int:
        return set_budget(self.ctx, self.detail.client.id, given)
