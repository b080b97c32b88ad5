"""Selections (issue 8): saved client groups, bulk actions on them (campaigns) and their results, the CSV export.

- :class:`SelectionsScreen` (`l` on the worklist, "Selections" in the command palette): every saved selection with
  its count of cases now. `enter` opens it as the worklist (its name shows above the list), `n` new, `e` edit (name
  and criteria), `d` delete, `a` a bulk action, `c` its campaigns, `x` export its cases to a CSV file.
- :class:`SelectionForm`: the name and the criteria; a field of several choices (stages, ageing, products) opens a
  list to tick (`space`), `enter` takes the ticks.
- :class:`CampaignForm` → :class:`ConfirmCampaign` → :class:`CampaignScreen`: the action and its parameters (checked
  by the service before anything is asked), the question with the number of cases, then the run in a worker with
  its progress, and the result per client: done, or refused and why; with the payments since the campaign.
- :class:`CampaignsScreen`: the campaigns, newest first; `enter` shows one.
The services decide everything (``services.selections``, ``services.campaigns``); data is shown literally.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Label, Select, SelectionList, Static

from incasso_tui.domain.arrears import BUCKETS
from incasso_tui.domain.enums import Stage
from incasso_tui.errors import N_, BadInput, IncassoError
from incasso_tui.services.assignment import desk_employees
from incasso_tui.services.campaigns import (
    ACTIONS,
    CampaignAction,
    CampaignInfo,
    CampaignMeasure,
    MemberRow,
    campaign,
    campaigns,
    check_campaign,
    may_run,
    measure,
    members,
    process_campaign,
    render_campaign_letters,
    start_campaign,
)
from incasso_tui.services.context import DESK_WRITERS
from incasso_tui.services.criteria import Criteria, describe
from incasso_tui.services.letters import CAMPAIGN_KINDS
from incasso_tui.services.selections import (
    SelectionInfo,
    book_products,
    delete_selection,
    list_selections,
    save_selection,
    selection_filter,
    update_selection,
)
from incasso_tui.services.tasks import MAX_NOTE
from incasso_tui.services.worklist import WorklistFilter
from incasso_tui.ui.desk import DeskModal, desk_app
from incasso_tui.ui.labels import BUCKET, LETTER_KIND, STAGE
from incasso_tui.ui.screens.form import ConfirmScreen, FormScreen
from incasso_tui.ui.screens.prompt import PromptScreen
from incasso_tui.ui.screens.rows import RowsScreen
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, right, text_cell
from incasso_tui.ui.work import service_worker

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator
    from incasso_tui.services.context import Context

ACTION = {
    "letter": N_("Send a letter by post"),
    "email": N_("Send an e-mail"),
    "call_task": N_("Create call tasks"),
    "assign": N_("Assign to an employee"),
}
ACTION_SHORT = {"letter": N_("Letter"), "email": N_("E-mail"), "call_task": N_("Call tasks"), "assign": N_("Assign")}
OUTCOME = {"done": N_("done"), "refused": N_("refused"), "pending": N_("pending")}
DEBTOR = {"consumer": N_("consumer"), "business": N_("business")}
ANY = "any"  # the Select value for "no criterion"
UNASSIGNED = "-"  # the assignee Select's value for "assigned to nobody"
SHOWN_MEMBERS = 1000  # members of each outcome the result screen lists (the CLI lists all)
RENDER_BATCH = 25  # letters rendered per step, so the screen can show its progress


def criteria_lines(tr: Translator, criteria: Criteria) -> list[str]:
    """The criteria as translated lines (stage, bucket and debtor names in the session's language)."""

    def label(kind: str, value: str) -> str:
        table = {"stage": STAGE, "bucket": BUCKET, "debtor": DEBTOR}[kind]
        return tr(table[value]) if value in table else value

    return [tr(msgid, **params) for msgid, params in describe(criteria, label)]


def action_text(tr: Translator, given: CampaignAction) -> str:
    """What a campaign does, in a few words (the letter kind, the call's date, the employee)."""
    text = tr(ACTION.get(given.action, given.action))
    if given.kind:
        text += f": {tr(LETTER_KIND.get(given.kind, given.kind))}"
    elif given.due_date:
        text += f": {tr.date(given.due_date)}"
    elif given.employee:
        text += f": {given.employee}"
    return text


def ask_export(screen: Screen[Any], flt: WorklistFilter, show: Callable[[str], None]) -> None:
    """Ask for a file name (and, for a CSV file, its form) and write the worklist of ``flt`` to it in a worker;
    ``show`` gets the outcome. A ``.xlsx`` file is an Excel workbook with typed cells (services.exports)."""
    from incasso_tui.services.exports import export_worklist
    from incasso_tui.ui.export_labels import export_labels

    app = desk_app(screen.app)
    tr: Translator = app.tr
    ctx: Context = app.ctx
    stem = "".join(ch if ch.isalnum() else "-" for ch in (flt.selection or tr(N_("worklist")))).strip("-").lower()
    suggestion = f"{stem or 'export'}-{ctx.clock.today().isoformat()}.csv"
    folder = str(ctx.settings.export_dir.expanduser())

    def written(rows: int, name: str) -> None:
        show(tr(N_("{rows} cases written to {path}"), rows=rows, path=str(Path(folder) / name)))

    def start(name: str, form: str) -> None:
        show(tr(N_("Writing {path} ..."), path=name))
        service_worker(
            screen,
            lambda: export_worklist(ctx, flt, name, form, export_labels(tr)),
            lambda rows: written(rows, name),
            lambda err: show(tr.error(err)),
            group="export",
        )

    def chosen(name: str | None) -> None:
        if not name:
            return
        if Path(name).suffix.lower() == ".xlsx":
            start(name, "xlsx")
            return

        def form_given(answer: str | None) -> None:
            if answer is None:
                return
            form = {"nl": "csv-nl", "std": "csv", "csv": "csv", "csv-nl": "csv-nl"}.get(answer.strip().lower())
            if form is None:
                show(tr(N_("Unknown export form {form}: use csv, csv-nl or xlsx"), form=answer))
                return
            start(name, form)

        app.push_screen(
            PromptScreen(
                tr(
                    N_(
                        "Which form? nl: for a Dutch spreadsheet (; and decimal comma, the labels you see); std: standard "
                        "(, and decimal point, codes). For Excel with typed cells, end the file name in .xlsx"
                    )
                ),
                value="nl" if tr.lang == "nl" else "std",
                required=N_("Type nl or std"),
            ),
            form_given,
        )

    app.push_screen(
        PromptScreen(
            tr(
                N_(
                    "Export to a CSV file: its name (no folder); it is written into {folder} on the machine incasso runs on "
                    "(over SSH: the server, not your own computer). An existing file is not overwritten."
                ),
                folder=folder,
            ),
            value=suggestion,
            required=N_("Type the name of the file"),
        ),
        chosen,
    )


# ----- choosing several values in one line of a form


class ChoicesScreen(DeskModal[tuple[str, ...] | None]):
    """A list to tick: `space` ticks or unticks, `enter` takes the ticks, `esc` leaves them as they were."""

    DEFAULT_CSS = """
    ChoicesScreen { align: center middle; }
    ChoicesScreen #choices-box { width: 50; height: auto; max-height: 90%; padding: 0 1; border: round $primary;
                                 background: $surface; }
    ChoicesScreen SelectionList { height: auto; max-height: 14; }
    ChoicesScreen .hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "done", "Take", id="done", priority=True),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, title: str, options: list[tuple[Content, str]], chosen: tuple[str, ...]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.chosen = chosen

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(id="choices-box"):
            yield Label(lit(self.title_text))
            yield SelectionList[str](
                *((label, value, value in self.chosen) for label, value in self.options), id="choices", compact=True
            )
            yield Label(tr(N_("space: tick or untick · enter: take · esc: cancel")), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#choices", SelectionList).focus()

    def action_done(self) -> None:
        picked = set(self.query_one("#choices", SelectionList).selected)
        self.dismiss(tuple(value for _label, value in self.options if value in picked))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceButton(Button):
    """One line of a form that holds several choices; pressing it opens :class:`ChoicesScreen`."""

    def __init__(
        self, title: str, options: list[tuple[Content, str]], chosen: tuple[str, ...], *, none: str, id: str
    ) -> None:
        self.title_text, self.options, self.none = title, options, none
        self.chosen = tuple(value for _label, value in options if value in chosen)
        super().__init__(self._caption(), id=id, compact=True, classes="choice")

    def on_mount(self) -> None:
        self.styles.line_pad = 0  # its text starts where an input's does (CSS cannot set 0)

    def _caption(self) -> Content:
        if not self.chosen:
            return Content(self.none)
        names = {value: label for label, value in self.options}
        return Content(", ").join(names[value] for value in self.chosen)

    @on(Button.Pressed)
    def _open_choices(self, event: Button.Pressed) -> None:
        event.stop()

        def picked(values: tuple[str, ...] | None) -> None:
            if values is not None:
                self.chosen = values
                self.label = self._caption()

        self.app.push_screen(ChoicesScreen(self.title_text, self.options, self.chosen), picked)


# ----- the selection form


class SelectionForm(FormScreen[SelectionInfo]):
    """New (``existing`` None) or changed selection: a name and the criteria. Dismissed with the saved selection."""

    DEFAULT_CSS = """
    SelectionForm .field ChoiceButton { width: 1fr; text-align: left; content-align: left middle; }
    """

    FIELDS = (
        "name",
        "stages",
        "buckets",
        "min_arrears",
        "max_arrears",
        "products",
        "debtor",
        "languages",
        "arrangement_ends_within",
        "deferral_ends_within",
        "no_contact_days",
        "assignee",
    )

    def __init__(self, existing: SelectionInfo | None, products: list[str], employees: list[tuple[str, str]]) -> None:
        super().__init__()
        self.existing = existing
        self.products = products
        self.employees = employees

    def compose(self) -> ComposeResult:
        tr = self.tr
        c = self.existing.criteria if self.existing else Criteria()
        title = (
            tr(N_("New selection")) if self.existing is None else tr(N_("Selection {name}"), name=self.existing.name)
        )
        any_ = tr(N_("(any)"))
        with Vertical(classes="dialog"):
            yield Label(lit(title, "bold"), classes="title")
            yield from self.field(
                "name",
                N_("Name"),
                Input(self.existing.name if self.existing else "", id="name", max_length=100, compact=True),
            )
            yield from self.field(
                "stages",
                N_("Stage"),
                ChoiceButton(
                    tr(N_("Stages")),
                    [(Content(tr(STAGE[s.value])), s.value) for s in Stage],
                    c.stages,
                    none=any_,
                    id="stages",
                ),
            )
            yield from self.field(
                "buckets",
                N_("Ageing"),
                ChoiceButton(
                    tr(N_("Ageing buckets (days past due)")),
                    [(Content(tr(BUCKET[b])), b) for b in BUCKETS],
                    c.buckets,
                    none=any_,
                    id="buckets",
                ),
            )
            yield from self.field(
                "min_arrears",
                N_("Arrears from"),
                Input(
                    tr.money(c.min_arrears) if c.min_arrears is not None else "",
                    id="min_arrears",
                    placeholder="€",
                    compact=True,
                ),
            )
            yield from self.field(
                "max_arrears",
                N_("Arrears to"),
                Input(
                    tr.money(c.max_arrears) if c.max_arrears is not None else "",
                    id="max_arrears",
                    placeholder="€",
                    compact=True,
                ),
            )
            yield from self.field(
                "products",
                N_("Product"),
                ChoiceButton(
                    tr(N_("Products (the client has a loan of)")),
                    [(lit(p), p) for p in self.products],
                    c.products,
                    none=any_,
                    id="products",
                ),
            )
            yield from self.field(
                "debtor",
                N_("Debtor"),
                Select(
                    [(any_, ANY), (tr(DEBTOR["consumer"]), "consumer"), (tr(DEBTOR["business"]), "business")],
                    value=c.debtor or ANY,
                    allow_blank=False,
                    compact=True,
                    id="debtor",
                ),
            )
            language = c.languages[0] if len(c.languages) == 1 else ANY
            yield from self.field(
                "languages",
                N_("Language"),
                Select(
                    [(any_, ANY), ("Nederlands", "nl"), ("English", "en")],
                    value=language,
                    allow_blank=False,
                    compact=True,
                    id="languages",
                ),
            )
            for name, caption, value in (
                ("arrangement_ends_within", N_("Arrangement ends"), c.arrangement_ends_within),
                ("deferral_ends_within", N_("Deferral ends"), c.deferral_ends_within),
                ("no_contact_days", N_("No contact for"), c.no_contact_days),
            ):
                yield from self.field(
                    name,
                    caption,
                    Input("" if value is None else str(value), id=name, placeholder=tr(N_("days")), compact=True),
                )
            assignee = UNASSIGNED if c.unassigned else c.assignee or ANY
            choices = [
                (any_, ANY),
                (tr(N_("(unassigned)")), UNASSIGNED),
                *((lit(f"{full} ({name})"), name) for name, full in self.employees),
            ]
            if assignee not in {value for _l, value in choices}:  # a disabled user's selection: keep it as it is
                choices.append((lit(assignee), assignee))
            # one statement per line with its ignore, so that the formatter cannot move the comment off it
            pick = Select(choices, value=assignee, allow_blank=False, compact=True, id="assignee")  # type: ignore[arg-type]
            yield from self.field("assignee", N_("Assigned to"), pick)
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def _days(self, name: str) -> tuple[bool, int | None]:
        def parse(text: str) -> int | None:
            if not text:
                return None
            if not text.isdigit():
                raise BadInput(N_("Not a number of days: {text}"), text=text)
            return int(text)

        return self.parse(name, parse)

    def read(self) -> tuple[str, Criteria] | None:
        ok_low, low = self.parse("min_arrears", self.amount)
        ok_high, high = self.parse("max_arrears", self.amount)
        days = {
            name: self._days(name) for name in ("arrangement_ends_within", "deferral_ends_within", "no_contact_days")
        }
        if not (ok_low and ok_high and all(ok for ok, _v in days.values())):
            return None
        debtor = self.query_one("#debtor", Select).value
        language = self.query_one("#languages", Select).value
        assignee = self.query_one("#assignee", Select).value
        try:
            criteria = Criteria.parse(
                {
                    "stages": self.query_one("#stages", ChoiceButton).chosen,
                    "buckets": self.query_one("#buckets", ChoiceButton).chosen,
                    "products": self.query_one("#products", ChoiceButton).chosen,
                    "min_arrears": low,
                    "max_arrears": high,
                    "debtor": None if debtor == ANY else debtor,
                    "languages": () if language == ANY else (language,),
                    **{name: value for name, (_ok, value) in days.items()},
                    "assignee": None if assignee in (ANY, UNASSIGNED) else assignee,
                    "unassigned": assignee == UNASSIGNED,
                }
            )
        except BadInput as err:
            self.error(err.field, self.tr.error(err))
            return None
        return self.query_one("#name", Input).value, criteria

    def submit(self, given: Any) -> SelectionInfo:
        name, criteria = given
        if self.existing is None:
            return save_selection(self.ctx, name, criteria)
        return update_selection(self.ctx, self.existing.id, self.existing.version, name, criteria)


class ConfirmDelete(ConfirmScreen):
    def __init__(self, selection: SelectionInfo) -> None:
        super().__init__()
        self.selection = selection

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(lit(tr(N_("Delete the selection {name}? Its campaigns are kept."), name=self.selection.name)))
            yield from self.buttons(N_("Delete"))

    def submit(self, given: Any) -> bool:
        delete_selection(self.ctx, self.selection.id, self.selection.version)
        return True


# ----- the list of selections


class SelectionsScreen(RowsScreen[SelectionInfo]):
    CSS_PATH = STYLES / "selections.tcss"
    TABLE_ID = "selections"
    PANEL_ID = "selection"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open as worklist", id="open", show=False),
        Binding("n", "new", "New", id="new"),
        Binding("e", "edit", "Edit", id="edit"),
        Binding("a", "campaign", "Bulk action", id="campaign"),
        Binding("c", "campaigns", "Campaigns", id="campaigns", show=False),
        Binding("d", "delete", "Delete", id="delete", show=False),
        Binding("x", "export", "Export CSV", id="export", show=False),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, on_open: Callable[[SelectionInfo], None]) -> None:
        super().__init__()
        self.open_callback = on_open
        self.products: list[str] = []
        self.employees: list[tuple[str, str]] = []

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (tr(N_("Selection")), "name", 30),
            (Text(tr(N_("Cases")), justify="right"), "count", 8),
            (tr(N_("By")), "by", 10),
            (tr(N_("Changed")), "changed", None),
        ]

    def fetch(self) -> list[SelectionInfo]:
        ctx = self.ctx
        self.products, self.employees = book_products(ctx), desk_employees(ctx)
        return list_selections(ctx)

    def cells(self, row: SelectionInfo) -> list[Text]:
        tr = self.tr
        changed = row.updated_at or row.created_at
        return [
            text_cell(row.name),
            right(tr.integer(row.count or 0)),
            text_cell(row.updated_by or row.created_by),
            text_cell(tr.date(changed.date())),
        ]

    def count_text(self, count: int) -> str:
        return self.tr(N_("Selections: {count}"), count=count)

    def panel(self, row: SelectionInfo | None) -> Content | str:
        tr = self.tr
        if row is None:
            return tr(N_("No selections yet: n makes one."))
        lines = [lit(tr(N_("{name}: {count} cases now"), name=row.name, count=row.count or 0), "bold")]
        lines += [lit(f"· {line}") for line in criteria_lines(tr, row.criteria)]
        return Content("\n").join(lines)

    @on(DataTable.RowSelected, "#selections")
    def _selected(self) -> None:
        self.action_open()

    # ----- actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        role = self.ctx.actor.role
        if action == "new":
            return role in DESK_WRITERS
        if action in ("edit", "delete"):
            return role in DESK_WRITERS and self.current is not None
        if action == "campaign":
            return self.current is not None and any(may_run(self.ctx, a) for a in ACTIONS)
        if action in ("open", "export"):
            return self.current is not None
        return True

    def action_open(self) -> None:
        row = self.current
        if row is not None:
            self.dismiss()
            self.open_callback(row)

    def _saved(self, info: SelectionInfo | None) -> None:
        if info is not None:
            self.message(self.tr(N_("Saved: {name}"), name=info.name))
            self.load()

    def action_new(self) -> None:
        self.app.push_screen(SelectionForm(None, self.products, self.employees), self._saved)

    def action_edit(self) -> None:
        row = self.current
        if row is not None:
            self.app.push_screen(SelectionForm(row, self.products, self.employees), self._saved)

    def action_delete(self) -> None:
        row = self.current
        if row is None:
            return

        def deleted(done: bool | None) -> None:
            if done:
                self.message(self.tr(N_("Deleted: {name}"), name=row.name))
                self.load()

        self.app.push_screen(ConfirmDelete(row), deleted)

    def action_export(self) -> None:
        row = self.current
        if row is not None:
            ask_export(self, selection_filter(row), self.message)

    def action_campaigns(self) -> None:
        self.app.push_screen(CampaignsScreen(self.current))

    def action_campaign(self) -> None:
        row = self.current
        if row is None:
            return

        def confirmed(given: CampaignAction, ok: bool | None) -> None:
            if ok:
                self.app.push_screen(CampaignScreen(start=(row.name, given)))

        def chosen(given: CampaignAction | None) -> None:
            if given is not None:
                self.app.push_screen(ConfirmCampaign(row, given), lambda ok: confirmed(given, ok))

        self.app.push_screen(CampaignForm(row, self.employees), chosen)


# ----- a bulk action


class CampaignForm(FormScreen[CampaignAction]):
    """The action and its parameters; dismissed with them once the service found nothing wrong (nothing written)."""

    DEFAULT_CSS = """
    CampaignForm .group { height: auto; }
    CampaignForm .group > .error { padding-left: 18; }
    CampaignForm .explain { width: 100%; margin-top: 1; color: $text-muted; }
    """

    FIELDS = ("action", "kind", "due_date", "note", "employee")

    def __init__(self, selection: SelectionInfo, employees: list[tuple[str, str]]) -> None:
        super().__init__()
        self.selection = selection
        self.employees = employees

    def compose(self) -> ComposeResult:
        tr = self.tr
        allowed = [a for a in ACTIONS if may_run(self.ctx, a)]
        with Vertical(classes="dialog"):
            yield Label(
                lit(
                    tr.plural(
                        "Bulk action on {name} ({count} case now)",
                        "Bulk action on {name} ({count} cases now)",
                        self.selection.count or 0,
                        name=self.selection.name,
                        count=self.selection.count or 0,
                    ),
                    "bold",
                ),
                classes="title",
            )
            yield from self.field(
                "action",
                N_("Action"),
                Select(
                    [(tr(ACTION[a]), a) for a in allowed],
                    value=allowed[0],
                    allow_blank=False,
                    compact=True,
                    id="action",
                ),
            )
            with Vertical(id="letter-fields", classes="group"):
                yield from self.field(
                    "kind",
                    N_("Letter"),
                    Select(
                        [(tr(LETTER_KIND[k]), k) for k in CAMPAIGN_KINDS],
                        value=CAMPAIGN_KINDS[0],
                        allow_blank=False,
                        compact=True,
                        id="kind",
                    ),
                )
            with Vertical(id="call-fields", classes="group"):
                yield from self.field(
                    "due_date",
                    N_("Call on"),
                    Input(
                        tr.date(self.ctx.clock.today()), id="due_date", placeholder=tr(N_("dd/mm/yyyy")), compact=True
                    ),
                )
                yield from self.field("note", N_("Note"), Input(id="note", max_length=MAX_NOTE, compact=True))
            with Vertical(id="assign-fields", classes="group"):
                yield from self.field(
                    "employee",
                    N_("Employee"),
                    Select(
                        [(lit(f"{full} ({name})"), name) for name, full in self.employees],
                        prompt=tr(N_("(choose)")),
                        compact=True,
                        id="employee",
                    ),
                )
            yield Label(
                tr(
                    N_(
                        "Every case passes the same checks as the single action; the cases refused are "
                        "listed with the reason."
                    )
                ),
                classes="explain",
            )
            yield from self.buttons(N_("Next"))

    def on_mount(self) -> None:
        self._show_fields()
        self.query_one("#action", Select).focus()

    @on(Select.Changed, "#action")
    def _show_fields(self) -> None:
        action = self.query_one("#action", Select).value
        self.query_one("#letter-fields").display = action in ("letter", "email")
        self.query_one("#call-fields").display = action == "call_task"
        self.query_one("#assign-fields").display = action == "assign"

    def read(self) -> CampaignAction | None:
        action = str(self.query_one("#action", Select).value)
        if action in ("letter", "email"):
            return CampaignAction(action, kind=str(self.query_one("#kind", Select).value))
        if action == "call_task":
            ok, due = self.parse("due_date", self.day)
            return CampaignAction(action, due_date=due, note=self.query_one("#note", Input).value) if ok else None
        employee = self.query_one("#employee", Select).value
        return CampaignAction(action, employee=employee if isinstance(employee, str) else None)

    def submit(self, given: Any) -> CampaignAction:
        return check_campaign(self.ctx, given)


class ConfirmCampaign(ConfirmScreen):
    DEFAULT_CSS = """
    ConfirmCampaign .explain { width: 100%; margin-top: 1; color: $text-muted; }
    ConfirmCampaign .question { width: 100%; }
    """

    def __init__(self, selection: SelectionInfo, given: CampaignAction) -> None:
        super().__init__()
        self.selection = selection
        self.given = given

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(
                lit(
                    tr(
                        N_("{action} for the cases of {name} ({count} now)?"),
                        action=action_text(tr, self.given),
                        name=self.selection.name,
                        count=self.selection.count or 0,
                    )
                ),
                classes="question",
            )
            yield Label(tr(N_("This cannot be undone; each case is recorded as done or refused.")), classes="explain")
            yield from self.buttons(N_("Run"))

    def submit(self, given: Any) -> bool:
        return True


class CampaignScreen(RowsScreen[MemberRow]):
    """One campaign: its run (when ``start`` is given), then the result per client and the payments since."""

    CSS_PATH = STYLES / "selections.tcss"
    TABLE_ID = "members"
    PANEL_ID = "member"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "dossier", "Dossier", id="dossier", show=False),
        Binding("c", "resume", "Continue", id="resume"),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, campaign_id: int | None = None, *, start: tuple[str, CampaignAction] | None = None) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.start = start
        self.info: CampaignInfo | None = None
        self.measured: CampaignMeasure | None = None
        self.running = False

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (tr(N_("Client")), "client", 26),
            (tr(N_("Result")), "outcome", 10),
            (tr(N_("Why / what")), "why", None),
        ]

    def on_mount(self) -> None:  # RowsScreen.on_mount runs as well (handlers run along the MRO) and calls load()
        if self.start is not None:
            self.running = True
            self.refresh_bindings()
            self.query_one("#count", Static).update(self.tr(N_("Starting ...")))
            self._run_campaign(*self.start)

    def load(self) -> None:
        if not self.running and self.campaign_id is not None:  # while it runs, the run reports its progress
            super().load()

    @work(thread=True, exclusive=True, group="campaign-run")
    def _run_campaign(self, selection: str, given: CampaignAction) -> None:
        ctx, tr = self.ctx, self.tr
        count = self.query_one("#count", Static)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(
                count.update, tr(N_("Handled {done} of {total} cases ..."), done=done, total=total)
            )

        try:
            if self.campaign_id is None:
                self.campaign_id = start_campaign(ctx, selection, given)
            info = process_campaign(ctx, self.campaign_id, progress)
            if given.action in ("letter", "email") and info.done:
                self._render_letters(ctx, info)
        except IncassoError as err:
            self.app.call_from_thread(self.message, tr.error(err))
        finally:
            self.running = False
        self.app.call_from_thread(self.refresh_bindings)
        self.app.call_from_thread(self.load)

    def _render_letters(self, ctx: Context, info: CampaignInfo) -> None:
        """The campaign's letters, a batch at a time (one transaction each) so that the progress can be shown."""
        tr, count = self.tr, self.query_one("#count", Static)
        rendered = failed = 0
        while True:
            report = render_campaign_letters(ctx, info.id, RENDER_BATCH)
            rendered += report.rendered
            failed += len(report.failures)
            self.app.call_from_thread(
                count.update, tr(N_("Letters rendered: {done} of {total} ..."), done=rendered + failed, total=info.done)
            )
            if report.rendered + len(report.failures) == 0:
                break
        if failed:
            self.app.call_from_thread(
                self.message, tr(N_("{count} letters failed to render: see incasso letters render"), count=failed)
            )

    def fetch(self) -> list[MemberRow]:
        ctx = self.ctx
        assert self.campaign_id is not None
        self.info = campaign(ctx, self.campaign_id)
        self.measured = measure(ctx, self.campaign_id)
        rows = members(ctx, self.campaign_id, outcome="refused", limit=SHOWN_MEMBERS)
        rows += members(ctx, self.campaign_id, outcome="pending", limit=SHOWN_MEMBERS)
        return rows + members(ctx, self.campaign_id, outcome="done", limit=SHOWN_MEMBERS)

    def key(self, row: MemberRow) -> str:
        return str(row.case_id)

    def cells(self, row: MemberRow) -> list[Text]:
        tr = self.tr
        style = "bold red" if row.outcome == "refused" else "dim" if row.outcome == "pending" else ""
        return [text_cell(row.client_name), text_cell(tr(OUTCOME[row.outcome]), style), text_cell(self._why(row))]

    def _why(self, row: MemberRow) -> str:
        tr = self.tr
        if row.reason:
            return tr(row.reason, **row.params)
        if row.outcome == "pending":
            return tr(N_("not reached (the run was interrupted)"))
        assert self.info is not None
        action = self.info.action.action
        if action in ("letter", "email"):
            return tr(N_("letter {id}"), id=str(row.entity_id))
        if action == "call_task":
            return tr(N_("call task {id}"), id=str(row.entity_id))
        return tr(N_("assigned to {name}"), name=self.info.action.employee or "?")

    def count_text(self, count: int) -> Content:
        tr, info = self.tr, self.info
        assert info is not None
        text = tr(
            N_("Campaign {id} · {name} · {action} · {selected} cases: {done} done, {refused} refused"),
            id=str(info.id),
            name=info.selection_name,
            action=action_text(tr, info.action),
            selected=info.selected,
            done=info.done,
            refused=info.refused,
        )
        if not info.finished:
            text += " · " + tr(N_("{pending} not reached: c continues"), pending=info.pending)
        return lit(text)

    def panel(self, row: MemberRow | None) -> Content | str:
        tr, m = self.tr, self.measured
        lines: list[Content] = []
        if m is not None:
            for days in (14, 30):
                paid, amount = getattr(m.done, f"paid_{days}"), getattr(m.done, f"amount_{days}")
                text = tr(
                    N_("Paid within {days} days (to {until}): {paid} of {members}, {amount}"),
                    days=days,
                    until=m.window_end(days),
                    paid=paid,
                    members=m.done.members,
                    amount=amount,
                )
                if not m.complete(days):
                    text += " " + tr(N_("(so far)"))
                lines.append(lit(text))
                lines.append(
                    lit(
                        tr(
                            N_(
                                "Portal: {opened} opened their link, {visited} logged in, {arranged} made an "
                                "arrangement"
                            ),
                            opened=getattr(m.portal, f"opened_{days}"),
                            visited=getattr(m.portal, f"visited_{days}"),
                            arranged=getattr(m.portal, f"arranged_{days}"),
                        ),
                        "$text-muted",
                    )
                )
            if m.refused.members:
                lines.append(
                    lit(
                        tr(
                            N_("For comparison, the {members} refused: {paid} paid within 30 days, {amount}"),
                            members=m.refused.members,
                            paid=m.refused.paid_30,
                            amount=m.refused.amount_30,
                        ),
                        "dim",
                    )
                )
        if row is not None:
            lines.append(
                lit(
                    tr(
                        N_("Case {case} · {client} ({number})"),
                        case=str(row.case_id),
                        client=row.client_name,
                        number=row.client_number,
                    ),
                    "bold",
                )
            )
            lines.append(lit(f"{tr(OUTCOME[row.outcome])}: {self._why(row)}"))
        return Content("\n").join(lines)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":  # stay while it runs (ctrl+q still stops it: c continues it later)
            return not self.running
        if action == "resume":
            info = self.info
            return info is not None and not info.finished and not self.running and may_run(self.ctx, info.action.action)
        if action == "dossier":
            return self.current is not None
        return True

    def action_resume(self) -> None:
        info = self.info
        if info is not None and not info.finished and not self.running:
            self.running = True
            self.refresh_bindings()
            self._run_campaign(info.selection_name, info.action)

    @on(DataTable.RowSelected, "#members")
    def _selected(self) -> None:
        self.action_dossier()

    def action_dossier(self) -> None:
        from incasso_tui.ui.screens.detail import ClientDetailScreen

        row = self.current
        if row is not None:
            self.app.push_screen(ClientDetailScreen(row.case_id))


class CampaignsScreen(RowsScreen[CampaignInfo]):
    """The campaigns, newest first (of one selection when given); `enter` shows one."""

    CSS_PATH = STYLES / "selections.tcss"
    TABLE_ID = "campaigns"
    PANEL_ID = "campaign"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "show", "Show", id="show", show=False),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, selection: SelectionInfo | None = None) -> None:
        super().__init__()
        self.selection = selection

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (Text("#", justify="right"), "id", 4),
            (tr(N_("Date")), "date", 10),
            (tr(N_("Selection")), "name", 16),
            (tr(N_("Action")), "action", 10),
            (Text(tr(N_("Done")), justify="right"), "done", 6),
            (Text(tr(N_("Refused")), justify="right"), "refused", 6),
            (Text(tr(N_("Not reached")), justify="right"), "pending", 6),
            (tr(N_("By")), "by", None),
        ]

    def fetch(self) -> list[CampaignInfo]:
        ctx = self.ctx
        return campaigns(ctx, selection_id=self.selection.id if self.selection else None)

    def cells(self, row: CampaignInfo) -> list[Text]:
        tr = self.tr
        return [
            right(row.id),
            text_cell(tr.date(row.run_date)),
            text_cell(row.selection_name),
            text_cell(tr(ACTION_SHORT[row.action.action])),
            right(tr.integer(row.done)),
            right(tr.integer(row.refused), "bold red" if row.refused else ""),
            right(tr.integer(row.pending), "bold red" if row.pending else ""),
            text_cell(row.actor),
        ]

    def count_text(self, count: int) -> Content:
        if self.selection is None:
            return lit(self.tr(N_("Campaigns: {count}"), count=count))
        return lit(self.tr(N_("Campaigns on {name}: {count}"), name=self.selection.name, count=count))

    def panel(self, row: CampaignInfo | None) -> Content | str:
        tr = self.tr
        if row is None:
            return tr(N_("No campaigns yet: a on a selection runs one."))
        lines = [lit(action_text(tr, row.action), "bold")]
        if not row.finished:
            lines.append(lit(tr(N_("{pending} not reached: enter, then c continues"), pending=row.pending), "bold red"))
        lines += [lit(f"· {line}") for line in criteria_lines(tr, row.criteria)]
        return Content("\n").join(lines)

    @on(DataTable.RowSelected, "#campaigns")
    def _selected(self) -> None:
        self.action_show()

    def action_show(self) -> None:
        row = self.current
        if row is not None:
            self.app.push_screen(CampaignScreen(row.id))


__all__ = ["CampaignScreen", "CampaignsScreen", "SelectionsScreen", "ask_export", "criteria_lines"]
