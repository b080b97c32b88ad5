"""Find a client (`f` on the worklist): one box, the desk's cases or all clients, and a client without a case
opened read-only with their loans (issue 14).

The search runs in ``services.search`` (the index); the screen lays out the hits and says what each was found by.
Names, addresses and numbers are data: shown literally.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, Static

from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.search import ClientOverview, Scope, SearchHit, SearchResult, client_overview, search
from incasso_tui.ui.desk import DeskScreen
from incasso_tui.ui.labels import LOAN_STATUS, STAGE, STATUS
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, money_cell, text_cell, translate_bindings
from incasso_tui.ui.widgets.footer import DeskFooter
from incasso_tui.ui.widgets.table import Table

SEARCH_DELAY = 0.3  # seconds of quiet typing before the search runs
FOUND_BY = {
    "name": N_("name"),
    "contact": N_("contact person"),
    "number": N_("client or loan number"),
    "kvk": N_("KvK"),
    "iban": N_("IBAN"),
    "phone": N_("phone"),
    "email": N_("e-mail"),
    "address": N_("address"),
}
SCOPE = {
    "desk": N_("Searching the desk's cases · ctrl+t: all clients"),
    "all": N_("Searching all clients (also handed over, closed, no case) · ctrl+t: desk"),
}


class SearchScreen(DeskScreen[None]):
    CSS_PATH = STYLES / "search.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back"),
        Binding(
            "ctrl+t", "scope", "Desk / all", id="scope", priority=True, tooltip="Search the desk's cases or all clients"
        ),
        Binding("down", "to_list", "List", show=False),
    ]

    def __init__(self, term: str = "", scope: Scope = "all") -> None:
        super().__init__()
        self.term = term
        self.scope: Scope = scope
        self.hits: tuple[SearchHit, ...] = ()
        self._timer: Timer | None = None
        self._width = 0  # the terminal width the columns were made for

    def compose(self) -> ComposeResult:
        tr = self.tr
        yield Header()
        yield Input(
            value=self.term,
            placeholder=tr(N_("name, client or loan no., KvK, IBAN, phone, e-mail, address")),
            id="term",
        )
        yield Static(id="scope-line")
        yield Table(id="hits", cursor_type="row", zebra_stripes=True)
        yield Static(id="hit")
        yield Static(id="message")
        yield DeskFooter(compact=True)

    def _columns(self, width: int) -> None:
        """The hit columns for a terminal ``width`` wide: the name takes what the others leave (24 at 80 columns:
        9 + 24 + 12 + 11 + 12, two of padding per column and the scroll bar)."""
        if width == self._width:
            return
        self._width = width
        tr, table = self.tr, self.query_one("#hits", DataTable)
        table.clear(columns=True)
        name = max(24, width - 80 + 24)
        for caption, size in (
            (N_("Client"), 9),
            (N_("Name"), name),
            (N_("Case"), 12),
            (N_("Arrears"), 11),
            (N_("Found by"), 12 + max(0, min(width - 80, 40) // 4)),
        ):
            table.add_column(
                Text(tr(caption), justify="right" if caption == N_("Arrears") else "left"), key=caption, width=size
            )
        self._fill()

    def on_resize(self) -> None:
        self._columns(self.size.width)

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        self._columns(self.size.width)
        self._show_scope()
        self.query_one("#term", Input).focus()
        if self.term.strip():
            self.run_search(self.term)

    def _show_scope(self) -> None:
        self.query_one("#scope-line", Static).update(lit(self.tr(SCOPE[self.scope]), "$text-muted"))

    # ----- searching
    @on(Input.Changed, "#term")
    def _changed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        value = event.value
        self._timer = self.set_timer(SEARCH_DELAY, lambda: self.run_search(value))

    @on(Input.Submitted, "#term")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.run_search(event.value)
        self.query_one("#hits", DataTable).focus()

    @work(thread=True, exclusive=True, group="search")
    def run_search(self, term: str) -> None:
        self.term = term
        if not term.strip():
            self.app.call_from_thread(self._show, None, "")
            return
        try:
            result = search(self.ctx, term, self.scope)
        except IncassoError as err:
            self.app.call_from_thread(self._show, None, self.tr.error(err))
            return
        self.app.call_from_thread(self._show, result, "")

    def _show(self, result: SearchResult | None, error: str) -> None:
        self.hits = result.hits if result else ()
        self._fill()
        self._say(result, error)

    def _fill(self) -> None:
        tr = self.tr
        table = self.query_one("#hits", DataTable)
        table.clear()
        for hit in self.hits:
            case = tr(N_("no case")) if hit.case_status is None else tr(STATUS.get(hit.case_status, hit.case_status))
            table.add_row(
                text_cell(hit.client_number),
                text_cell(hit.name),
                text_cell(case),
                money_cell(tr, hit.arrears) if hit.arrears is not None else text_cell(""),
                text_cell(", ".join(tr(FOUND_BY[f]) for f in hit.matched)),
                key=str(hit.client_id),
            )

    def _say(self, result: SearchResult | None, error: str) -> None:
        tr = self.tr
        if error:
            self.query_one("#message", Static).update(lit(error, "bold $error"))
        elif result is None:
            self.query_one("#message", Static).update("")
        elif result.total == 0:
            self.query_one("#message", Static).update(lit(tr(N_("Nothing found"))))
        elif result.more:
            self.query_one("#message", Static).update(
                lit(tr(N_("{shown} of {total} found: type more to narrow"), shown=len(result.hits), total=result.total))
            )
        else:
            self.query_one("#message", Static).update(
                lit(tr(N_("{shown} of {total} found"), shown=len(result.hits), total=result.total))
            )
        self._highlighted()

    @property
    def current(self) -> SearchHit | None:
        table = self.query_one("#hits", DataTable)
        return self.hits[table.cursor_row] if 0 <= table.cursor_row < len(self.hits) else None

    @on(DataTable.RowHighlighted, "#hits")
    def _highlighted(self) -> None:
        hit, tr = self.current, self.tr
        if hit is None:
            self.query_one("#hit", Static).update("")
            return
        line = f"{hit.name} · {hit.city} · {hit.loan_numbers}"
        if hit.stage:
            line += " · " + tr(STAGE.get(hit.stage, hit.stage))
        self.query_one("#hit", Static).update(lit(line))

    @on(DataTable.RowSelected, "#hits")
    def _open(self) -> None:
        hit = self.current
        if hit is None:
            return
        if hit.case_id is not None:
            from incasso_tui.ui.screens.detail import ClientDetailScreen

            self.app.push_screen(ClientDetailScreen(hit.case_id))
        else:
            self.app.push_screen(ClientOverviewScreen(hit.client_id))

    # ----- keys
    def action_scope(self) -> None:
        self.scope = "all" if self.scope == "desk" else "desk"
        self._show_scope()
        self.run_search(self.query_one("#term", Input).value)

    def action_to_list(self) -> None:
        if self.hits:
            self.query_one("#hits", DataTable).focus()

    def action_back(self) -> None:
        self.dismiss()


class ClientOverviewScreen(DeskScreen[None]):
    """A client without a case (never in arrears), read-only: who they are and their loans."""

    CSS_PATH = STYLES / "search.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back", id="back")]

    def __init__(self, client_id: int) -> None:
        super().__init__()
        self.client_id = client_id

    def compose(self) -> ComposeResult:
        tr = self.tr
        yield Header()
        yield Static(id="overview-client")
        table: Table[Text] = Table(id="overview-loans", cursor_type="row", zebra_stripes=True)
        for caption in (N_("Loan"), N_("Product"), N_("Arrears"), N_("Outstanding"), N_("Status")):
            right = caption in (N_("Arrears"), N_("Outstanding"))
            table.add_column(Text(tr(caption), justify="right" if right else "left"), key=caption)
        yield table
        yield Static(id="overview-cases")
        yield DeskFooter(compact=True)

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        self.load()

    @work(thread=True, exclusive=True, group="overview")
    def load(self) -> None:
        try:
            overview = client_overview(self.ctx, self.client_id)
        except IncassoError as err:
            self.app.call_from_thread(
                self.query_one("#overview-client", Static).update, lit(self.tr.error(err), "bold $error")
            )
            return
        self.app.call_from_thread(self._show, overview)

    def _show(self, o: ClientOverview) -> None:
        tr, c = self.tr, o.client
        self.sub_title = tr(N_("read only: no case"))
        lines = [
            lit(c.name, "bold"),
            lit(f"{c.number} · {c.street}, {c.postcode} {c.city}"),
            lit(
                " · ".join(
                    v
                    for v in (
                        c.phone,
                        c.email,
                        f"IBAN {c.iban}" if c.iban else None,
                        tr(N_("KvK {kvk}"), kvk=c.kvk) if c.kvk else None,
                    )
                    if v
                )
            ),
        ]
        self.query_one("#overview-client", Static).update(Content("\n").join(lines))
        table = self.query_one("#overview-loans", DataTable)
        table.clear()
        for loan in o.loans:
            table.add_row(
                text_cell(loan.number),
                text_cell(loan.product),
                money_cell(tr, loan.arrears.total),
                money_cell(tr, loan.outstanding_principal),
                text_cell(tr(LOAN_STATUS.get(loan.status, loan.status))),
            )
        if o.cases:
            text = tr(
                N_("Earlier cases: {cases}"),
                cases=", ".join(f"{case.id} ({tr(STATUS.get(case.status, case.status))})" for case in o.cases),
            )
        else:
            text = tr(N_("Never in arrears: no case, nothing to do on the desk."))
        self.query_one("#overview-cases", Static).update(lit(text, "$text-muted"))
        table.focus()

    def action_back(self) -> None:
        self.dismiss()
