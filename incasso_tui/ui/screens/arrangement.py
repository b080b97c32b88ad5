"""Payment arrangement: the employee types the terms, sees the plan live, and registers it.

The plan comes from ``services.arrangements.preview`` (pure: no database, so it runs on every key);
registering goes through ``create_arrangement`` in a worker. The rules are the domain's: this screen
only parses what was typed and shows each refusal at the field it is about.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, DataTable, Header, Input, Label, Select, Static

from incasso_tui.domain.arrangement import Plan
from incasso_tui.domain.enums import Frequency
from incasso_tui.domain.money import ZERO, parse_amount
from incasso_tui.errors import N_, BadInput, IncassoError
from incasso_tui.services.arrangements import ArrangementInput, create_arrangement, limits, preview
from incasso_tui.services.cases import ClientDetail
from incasso_tui.ui.labels import FREQUENCY
from incasso_tui.ui.parse import parse_day
from incasso_tui.ui.screens.arrangement_capacity import CapacityMixin
from incasso_tui.ui.screens.form import SavingScreen
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, money_cell, right, text_cell, translate_bindings
from incasso_tui.ui.widgets.capacity import CapacityPanel
from incasso_tui.ui.widgets.footer import DeskFooter
from incasso_tui.ui.widgets.table import Table
from incasso_tui.ui.work import closing_worker

DAYS_TO_FIRST_DATE = 7  # the first date offered; the employee changes it to what was agreed


class ArrangementScreen(CapacityMixin, SavingScreen[int]):
    """Dismissed with the new arrangement's id, or None when cancelled (saving: ``form.SavingScreen``)."""

    CSS_PATH = STYLES / "arrangement.tcss"
    KEPT_AS: ClassVar[str | None] = "arrangement-form"  # the app keeps one and shows each next case on it (issue 18)
    AUTO_FOCUS = "#count"  # focused as the form is composed, so the first paint shows it (issue 18)
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (120, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [  # ctrl+s and escape: SavingScreen's
        Binding("down", "app.focus_next", "Next field", show=False),
        Binding("up", "app.focus_previous", "Previous field", show=False),
        Binding("ctrl+o", "propose", "Propose plan", id="propose", priority=True),  # CapacityMixin (issue 15)
        # a plan the desk limits refuse goes to a supervisor instead (services.arrangement_changes, issue 14)
        Binding(
            "ctrl+r",
            "to_supervisor",
            "To supervisor",
            id="to_supervisor",
            priority=True,
            tooltip="Send a plan beyond the desk limits to a supervisor (four eyes)",
        ),
    ]
    FIELDS = ("down_payment", "count", "installment", "first_date", "capacity_reason")  # as in RuleViolation.field

    def __init__(self, detail: ClientDetail) -> None:
        super().__init__()
        self.detail = detail

    # ----- layout
    def _title(self) -> Content:
        return lit(self.tr(N_("Payment arrangement for {name}"), name=self.detail.client.name), "bold")

    def _note(self, *, code_a: bool = False) -> Content:
        """The arrears' split and that the installments stay due; with ``code_a`` what paying it registers."""
        tr, arrears = self.tr, self.detail.arrears
        split = tr(
            N_("costs {costs} · interest {interest} · principal {principal}"),
            costs=arrears.costs,
            interest=arrears.interest,
            principal=arrears.principal,
        )
        lines = [lit(split), lit(tr(N_("The regular installments stay due on top of the arrangement.")))]
        if code_a:
            lines[0:1] = []  # the split gives way to the BKR line in the two lines the note has
            lines.append(
                lit(
                    tr(N_("BKR code A stands: paid in full, this arrangement registers code H at the BKR")),
                    "bold $text-warning",
                )
            )
        return Content("\n").join(lines)

    def _first_date(self) -> str:
        return self.tr.date(self.ctx.clock.today() + timedelta(days=DAYS_TO_FIRST_DATE))

    def compose(self) -> ComposeResult:
        tr = self.tr
        yield Header()
        yield Static(self._title(), id="title")
        yield Static(lit(self.cover_text(), "bold"), id="cover")
        yield Static(self._note(), id="note")
        with Horizontal(id="body"):
            with Vertical(id="form"):
                yield from self.field("down_payment", N_("Down payment"), Input("0", id="down_payment", compact=True))
                yield from self.field(
                    "count", N_("Installments"), Input(id="count", restrict=r"[0-9]*", max_length=3, compact=True)
                )
                yield from self.field(
                    "installment", N_("or amount each"), Input(id="installment", placeholder="€", compact=True)
                )
                desk = limits(self.ctx)
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
                yield from self.field(
                    "first_date",
                    N_("First date"),
                    Input(self._first_date(), id="first_date", placeholder=tr(N_("dd/mm/yyyy")), compact=True),
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
                yield from self.field(
                    "capacity_reason",
                    N_("Reason"),
                    Input(id="capacity_reason", placeholder=tr(N_("only above the capacity")), compact=True),
                )
                with Horizontal(id="buttons"):
                    yield Button(tr(N_("Save")), id="save", variant="primary", compact=True)
                    yield Button(tr(N_("Cancel")), id="cancel", compact=True)
                yield Label(id="message", classes="error")
            with Vertical(id="plan"):
                table: Table[Text] = Table(id="lines", cursor_type="none", zebra_stripes=True)
                table.add_column(Text("#", justify="right"), key="seq")
                table.add_column(tr(N_("Date")), key="date")
                table.add_column(Text(tr(N_("Amount")), justify="right"), key="amount")
                yield table
                yield Static(id="totals")
                yield CapacityPanel(id="capacity")
        yield DeskFooter(compact=True)

    def on_mount(self) -> None:
        # SavingScreen.on_mount runs after this one (Textual calls handlers from the subclass up the MRO), too
        # late for this screen's footer, which shows the keys: translate them here first
        translate_bindings(self, self.tr)
        self.refresh_bindings()
        self.query_one("#count", Input).focus()
        self._read_case()

    def _read_case(self) -> None:
        """The plan of what is typed, and, in workers, the client's budget and where BKR code A stands: the form's
        next paint waits for both (``DeskScreen.paint_after``), so it is painted once, with them."""
        self.update_plan()
        budget_read, bkr_read = asyncio.Event(), asyncio.Event()
        self.load_budget(budget_read)
        case_id = self.detail.case.id

        def read_bkr() -> None:
            try:
                self._read_bkr(case_id)
            finally:
                self.app.call_from_thread(bkr_read.set)

        self.run_worker(read_bkr, thread=True, exclusive=True, group="bkr")
        self.paint_after(budget_read, bkr_read)

    def reset(self, detail: ClientDetail) -> None:
        """The form as a new one shows it, for ``detail`` (the kept form, ``DeskScreen.open_kept``): every field
        as composed, no plan, no budget, no messages, not saving; the budget and the BKR standing read again."""
        self.detail, self.budget, self.shown_plan = detail, None, None
        self.query_one("#title", Static).update(self._title())
        self.query_one("#cover", Static).update(lit(self.cover_text(), "bold"))
        self.query_one("#note", Static).update(self._note())
        for name, value in (
            ("down_payment", "0"),
            ("count", ""),
            ("installment", ""),
            ("first_date", self._first_date()),
            ("capacity_reason", ""),
        ):
            self.query_one(f"#{name}", Input).value = value
        self.query_one("#frequency", Select).value = Frequency.MONTHLY
        self._as_new()
        self._read_case()

    def _read_bkr(self, case_id: int) -> None:
        """Where BKR code A stands, the arrangement says which mutation it leads to (issue 13)."""
        from incasso_tui.services.bkr_status import bkr_panel

        try:
            panel = bkr_panel(self.ctx, case_id)
        except IncassoError:
            return  # the arrangement itself does not depend on it; saving reports any real refusal
        if any(loan.code == "A" for loan in panel.loans):
            self.app.call_from_thread(self._bkr_note, case_id)

    def _bkr_note(self, case_id: int) -> None:
        if case_id == self.detail.case.id:  # not a case this kept form showed before
            self.query_one("#note", Static).update(self._note(code_a=True))

    # ----- live preview
    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self.update_plan()

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
                self.error(name, tr.error(err))
        if len(parsed) < len(parsers):
            return None
        frequency = self.query_one("#frequency", Select).value
        assert isinstance(frequency, Frequency)
        reason = self.query_one("#capacity_reason", Input).value
        return ArrangementInput(frequency=frequency, capacity_reason=reason, **parsed)  # type: ignore[arg-type]

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
                plan = self.plan_for(given)
            except IncassoError as err:
                self.error(err.field, self.tr.error(err))
        self._show_plan(plan)
        self.show_capacity(plan)
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
                    lit(
                        tr.plural(
                            "{count} installment of {installment}",
                            "{count} installments of {installment}",
                            plan.count,
                            count=plan.count,
                            installment=plan.installment,
                        ),
                        "bold",
                    ),
                    lit(tr(N_("total {total}, the last on {last}"), total=plan.total, last=plan.last_date)),
                ]
            )
        )

    def cover_text(self) -> str:
        return self.tr(N_("Arrears to cover {total}"), total=self.detail.arrears.total)

    def plan_for(self, given: ArrangementInput) -> Plan:
        return preview(self.ctx, self.detail.arrears.total, given)

    # ----- to a supervisor (issue 14): the plan as typed, beyond the desk limits
    replaces: int | None = None  # the running arrangement a change would replace

    def action_to_supervisor(self) -> None:
        if self.saving:
            return
        self._clear_errors()
        given = self.read_input()
        if given is None:
            self.app.bell()
            return
        from incasso_tui.ui.screens.prompt import PromptScreen

        def reason_given(reason: str | None) -> None:
            if reason:
                self._propose(given, reason)

        self.app.push_screen(
            PromptScreen(self.tr(N_("Why should a supervisor allow this plan beyond the desk limits?"))), reason_given
        )

    def _propose(self, given: ArrangementInput, reason: str) -> None:
        from incasso_tui.services.arrangement_changes import propose_arrangement

        def call() -> int:
            return propose_arrangement(
                self.ctx, self.detail.case.id, self.detail.case.version, given, reason, replaces=self.replaces
            )

        closing_worker(self, call, self._proposed, self._refused, group="form-save")

    def _proposed(self, proposal: int) -> None:
        self.notify(self.tr(N_("Sent to a supervisor as proposal {id}"), id=proposal))
        self.dismiss(None)

    # ----- saving (the rest is SavingScreen's)
    def read(self) -> ArrangementInput | None:
        return self.update_plan(saving=True)

    def submit(self, given: ArrangementInput) -> int:
        return create_arrangement(self.ctx, self.detail.case.id, self.detail.case.version, given)
