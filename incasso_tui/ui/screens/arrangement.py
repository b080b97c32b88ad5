"""Payment arrangement: the employee types the terms, sees the plan live, and registers it.

The plan comes from ``services.arrangements.preview`` (pure: no database, so it runs on every key);
registering goes through ``create_arrangement`` in a worker. The rules are the domain's: this screen
only parses what was typed and shows each refusal at the field it is about.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from incasso_tui.domain.arrangement import Plan
from incasso_tui.domain.enums import Frequency
from incasso_tui.domain.money import ZERO, parse_amount
from incasso_tui.errors import N_, BadInput, IncassoError
from incasso_tui.services.arrangements import ArrangementInput, create_arrangement, limits, preview
from incasso_tui.services.cases import ClientDetail
from incasso_tui.ui.labels import FREQUENCY
from incasso_tui.ui.screens.detail import money_cell, right, text_cell
from incasso_tui.ui.text import lit, translate_bindings

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator

# the inputs, by the names the domain uses in RuleViolation.field
FIELDS = ("down_payment", "count", "installment", "first_date")
DAYS_TO_FIRST_DATE = 7  # the first date offered; the employee changes it to what was agreed


def parse_day(text: str, tr: Translator) -> date:
    """A date typed in the session's notation (dd-mm-yyyy for nl, dd/mm/yyyy for en) or ISO."""
    local = "%d-%m-%Y" if tr.lang == "nl" else "%d/%m/%Y"
    for pattern in (local, "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise BadInput(N_("Not a date: {text} (use {pattern})"), text=text, pattern=tr(N_("dd/mm/yyyy")))


class ArrangementScreen(Screen[int | None]):
    """Dismissed with the new arrangement's id, or None when cancelled."""

    CSS_PATH = "../styles/arrangement.tcss"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (120, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="save", priority=True),
        Binding("escape", "cancel", "Cancel", id="cancel"),
        Binding("down", "app.focus_next", "Next field", show=False),
        Binding("up", "app.focus_previous", "Previous field", show=False),
    ]

    def __init__(self, detail: ClientDetail) -> None:
        super().__init__()
        self.detail = detail
        self.saving = False

    @property
    def tr(self) -> Translator:
        return self.app.tr  # type: ignore[attr-defined, no-any-return]

    # ----- layout
    def compose(self) -> ComposeResult:
        tr, arrears = self.tr, self.detail.arrears
        first = self.app.ctx.clock.today() + timedelta(days=DAYS_TO_FIRST_DATE)  # type: ignore[attr-defined]
        yield Header()
        yield Static(lit(tr(N_("Payment arrangement for {name}"), name=self.detail.client.name), "bold"), id="title")
        yield Static(lit(tr(N_("Arrears to cover {total}"), total=arrears.total), "bold"), id="cover")
        split = tr(
            N_("costs {costs} · interest {interest} · principal {principal}"),
            costs=arrears.costs,
            interest=arrears.interest,
            principal=arrears.principal,
        )
        yield Static(
            Content("\n").join([split, tr(N_("The regular installments stay due on top of the arrangement."))]),
            id="note",
        )
        with Horizontal(id="body"):
            with Vertical(id="form"):
                yield from self._field("down_payment", N_("Down payment"), Input("0", id="down_payment", compact=True))
                yield from self._field(
                    "count", N_("Installments"), Input(id="count", restrict=r"[0-9]*", max_length=3, compact=True)
                )
                yield from self._field(
                    "installment", N_("or amount each"), Input(id="installment", placeholder="€", compact=True)
                )
                desk = limits(self.app.ctx)  # type: ignore[attr-defined]
                yield Static(
                    tr(
                        N_(
                            "Fill in one of the two, leave the other empty."
                            " At most {maximum} installments of at least {minimum}."
                        ),
                        maximum=desk.max_installments,
                        minimum=desk.min_installment,
                    ),
                    id="hint",
                )
                yield from self._field(
                    "first_date",
                    N_("First date"),
                    Input(tr.date(first), id="first_date", placeholder=tr(N_("dd/mm/yyyy")), compact=True),
                )
                with Horizontal(classes="field"):
                    yield Label(tr(N_("Frequency")), classes="caption")
                    yield Select(
                        [(tr(FREQUENCY[f.value]), f) for f in Frequency],
                        value=Frequency.MONTHLY,
                        allow_blank=False,
                        compact=True,
                        id="frequency",
                    )
                with Horizontal(id="buttons"):
                    yield Button(tr(N_("Save")), id="save", variant="primary", compact=True)
                    yield Button(tr(N_("Cancel")), id="cancel", compact=True)
                yield Label(id="message", classes="error")
            with Vertical(id="plan"):
                table: DataTable[Text] = DataTable(id="lines", cursor_type="none", zebra_stripes=True)
                table.add_column(Text("#", justify="right"), key="seq")
                table.add_column(tr(N_("Date")), key="date")
                table.add_column(Text(tr(N_("Amount")), justify="right"), key="amount")
                yield table
                yield Static(id="totals")
        yield Footer(compact=True)

    def _field(self, name: str, caption: str, widget: Input) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Label(self.tr(caption), classes="caption")
            yield widget
        yield Label(id=f"{name}-error", classes="error")

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        self.refresh_bindings()
        self.query_one("#count", Input).focus()
        self.update_plan()

    # ----- live preview
    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self.update_plan()

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()

    def read_input(self) -> ArrangementInput | None:
        """What was typed, parsed; None (and the reason at each field) when something cannot be read."""
        tr = self.tr
        parsers: dict[str, Callable[[str], object]] = {
            "down_payment": lambda text: parse_amount(text) if text else ZERO,
            "count": lambda text: int(text) if text else None,  # the field takes digits only
            "installment": lambda text: parse_amount(text) if text else None,
            "first_date": lambda text: parse_day(text, tr),
        }
        parsed: dict[str, object] = {}
        for name, parse in parsers.items():
            try:
                parsed[name] = parse(self.query_one(f"#{name}", Input).value.strip())
            except BadInput as err:
                self._error(name, tr.error(err))
        if len(parsed) < len(parsers):
            return None
        frequency = self.query_one("#frequency", Select).value
        assert isinstance(frequency, Frequency)
        return ArrangementInput(frequency=frequency, **parsed)  # type: ignore[arg-type]

    def update_plan(self, *, saving: bool = False) -> ArrangementInput | None:
        """Show the plan for what is typed now, or why there is none; returns the input when it gives a plan.

        While neither the number nor the amount is typed there is no plan yet, and no complaint either,
        until the employee tries to save.
        """
        self._clear_errors()
        given = self.read_input()
        plan: Plan | None = None
        if given is not None and (saving or given.count is not None or given.installment is not None):
            try:
                plan = preview(self.app.ctx, self.detail.arrears.total, given)  # type: ignore[attr-defined]
            except IncassoError as err:
                self._show_refusal(err)
        self._show_plan(plan)
        return given if plan is not None else None

    def _show_plan(self, plan: Plan | None) -> None:
        tr = self.tr
        table = self.query_one("#lines", DataTable)
        table.clear()
        totals = self.query_one("#totals", Static)
        if plan is None:
            totals.update(lit(tr(N_("No plan yet")), "$text-muted"))
            return
        for line in plan.lines:
            table.add_row(
                right(line.seq if line.seq else tr(N_("down"))),
                text_cell(tr.date(line.due_date)),
                money_cell(tr, line.amount),
            )
        totals.update(
            Content("\n").join(
                [
                    lit(tr(N_("{count} installments of {installment}"), count=plan.count, installment=plan.installment),
                        "bold"),
                    lit(tr(N_("total {total}, the last on {last}"), total=plan.total, last=plan.last_date)),
                ]
            )
        )

    # ----- messages at the fields
    def _clear_errors(self) -> None:
        for label in self.query(".error").results(Label):
            label.update("")
            label.display = False

    def _error(self, name: str | None, text: str) -> None:
        label = self.query_one(f"#{name}-error" if name in FIELDS else "#message", Label)
        label.update(lit(text))
        label.display = True

    def _show_refusal(self, err: IncassoError) -> None:
        self._error(err.field, self.tr.error(err))

    # ----- saving
    def action_save(self) -> None:
        if self.saving:
            return
        given = self.update_plan(saving=True)
        if given is None:
            self.app.bell()
            return
        self.saving = True
        self.query_one("#save", Button).disabled = True
        self._save(given)

    @work(thread=True, exclusive=True, group="arrangement-save")
    def _save(self, given: ArrangementInput) -> None:
        try:
            arrangement_id = create_arrangement(
                self.app.ctx,  # type: ignore[attr-defined]
                self.detail.case.id,
                self.detail.case.version,
                given,
            )
        except IncassoError as err:
            self.app.call_from_thread(self._save_refused, err)
        else:
            self.app.call_from_thread(self.dismiss, arrangement_id)

    def _save_refused(self, err: IncassoError) -> None:
        self.saving = False
        self.query_one("#save", Button).disabled = False
        self._show_refusal(err)
        self.app.bell()

    def action_cancel(self) -> None:
        if not self.saving:  # once sent, the answer decides how the screen closes
            self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
