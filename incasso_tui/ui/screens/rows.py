"""A list screen: rows read by a service call in a worker, a panel about the highlighted row, a message line.

The approval queue, special management's list and the unmatched payments are this shape. A subclass names its
columns, how a row becomes cells and a panel, and the service call that reads the rows; actions on the
highlighted row (``current``) call their service in a worker of their own and end with ``load()``.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import DataTable, Header, Label, Static

from incasso_tui.errors import IncassoError
from incasso_tui.ui.desk import DeskScreen
from incasso_tui.ui.text import lit, translate_bindings
from incasso_tui.ui.widgets.footer import DeskFooter
from incasso_tui.ui.widgets.table import Table
from incasso_tui.ui.work import service_worker

RowT = TypeVar("RowT")


class RowsScreen(DeskScreen[None], Generic[RowT]):
    TABLE_ID = "queue"
    PANEL_ID = "details"

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[RowT] = []
        self._panel_of: RowT | None = None  # the row the panel was last made for
        self._first_rows = asyncio.Event()  # set when the first read of the rows is done (on_mount waits for it)

    # ----- what a subclass provides
    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        """(caption, key, width or None for the content's width) per column."""
        raise NotImplementedError

    def fetch(self) -> list[RowT]:
        """The rows (runs in a worker thread)."""
        raise NotImplementedError

    def cells(self, row: RowT) -> list[Text]:
        raise NotImplementedError

    def key(self, row: RowT) -> str:
        return str(row.id)  # type: ignore[attr-defined]

    def count_text(self, count: int) -> Content | str:
        """The line above the list (a ``str`` is our own text; data in it must come as ``Content``, see ``lit``)."""
        raise NotImplementedError

    def panel(self, row: RowT | None) -> Content | str:
        raise NotImplementedError

    def below(self) -> ComposeResult:
        """Widgets between the panel and the message line."""
        yield from ()

    # ----- layout and loading
    def compose(self) -> ComposeResult:
        translate_bindings(self, self.tr)  # before the footer composes its keys (DeskFooter composes them at once)
        yield Header()
        yield Static(id="count")
        table: Table[Text] = Table(id=self.TABLE_ID, cursor_type="row", zebra_stripes=True)
        for caption, key, width in self.columns():
            table.add_column(caption, key=key, width=width)
        yield table
        yield Static(id=self.PANEL_ID)
        yield from self.below()
        yield Label(id="message", classes="error")
        # the keys a highlighted row enables (check_action) are composed once, with the rows, for the first paint
        # (DeskScreen.paint_after); composed before the rows came, they were mounted again after it
        yield DeskFooter(compact=True, keys_later=True)

    @on(events.Mount)  # not on_mount: subclasses have their own (Textual runs each class's handler along the MRO)
    def _mounted(self) -> None:
        self._read_for_paint()

    def _read_for_paint(self) -> None:
        """Read the rows; the screen's next paint waits for them (``DeskScreen.paint_after``): the rows come in a few
        milliseconds, and the screen is painted once, with them, not once empty and once more when they come (each
        layout and paint of a screen is 30-50 ms, issue 18). A slower read shows it empty first, as before."""
        first = self._first_rows = asyncio.Event()
        self.load()
        self.paint_after(first)

    def reset(self) -> None:
        """The list as a new one shows itself (a kept screen, ``DeskScreen.open_kept``): no rows, no panel, no
        message; the rows read again, and the next paint waits for them as a new screen's first one does."""
        self.rows = []
        self._panel_of = None
        self._load_error = False
        self.query_one(f"#{self.TABLE_ID}", Table).clear()
        self.query_one("#count", Static).update("")
        self.query_one(f"#{self.PANEL_ID}", Static).update("")
        self.message("")
        self._read_for_paint()

    def load(self) -> None:
        service_worker(self, self.fetch, self._loaded, self._load_failed, group="rows")

    def _load_failed(self, err: IncassoError) -> None:
        self._load_error = True
        self._failed(err)
        self._first_rows.set()

    def _loaded(self, rows: list[RowT]) -> None:
        if getattr(self, "_load_error", False):  # the rows came after all: the old refusal is no longer true
            self._load_error = False
            self.message("")
        self._show(rows)
        self._first_rows.set()

    def _failed(self, err: IncassoError) -> None:
        self.message(self.tr.error(err))

    def _show(self, rows: list[RowT]) -> None:
        self.rows = rows
        table = self.query_one(f"#{self.TABLE_ID}", Table)
        table.clear()
        for row in rows:
            table.add_row(*self.cells(row), key=self.key(row))
        table.size_now()  # its scrollable size for the next paint, not a layout of its own after it
        self.query_one("#count", Static).update(self.count_text(len(rows)))
        self._highlighted()
        self.refresh_bindings()

    @property
    def current(self) -> RowT | None:
        table = self.query_one(f"#{self.TABLE_ID}", DataTable)
        if not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        row = self.current
        if row is not None and row is self._panel_of:
            return  # the message after rows were shown: their first row's panel is made already (by _show)
        self._panel_of = row
        self.query_one(f"#{self.PANEL_ID}", Static).update(self.panel(row))
        self.refresh_bindings()

    def message(self, text: str) -> None:
        self.query_one("#message", Label).update(lit(text))

    def run_action(self, call: object, done: str) -> None:
        """Run ``call()`` (a service call) in a worker; show ``done`` or the refusal, then read the rows again."""
        self._act(call, done)

    def _act(self, call: object, done: str) -> None:
        def succeeded(_: object) -> None:
            self.message(done)
            self.load()

        service_worker(self, call, succeeded, self._failed, group="row-action")  # type: ignore[arg-type]

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()
