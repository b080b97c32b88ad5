"""The desk's read-only tables: Textual's DataTable, with its columns as wide as their widest cell from the moment a
row is added.

Textual measures added rows only when the table is next idle, and lines it paints before that are drawn at the
columns' old widths (cells cut at the header's width). On a busy machine, or over a slow SSH link, that state was
seen to last: the client detail's Loans table showed "L11574" and "€ 12.836,1" in pictures taken after the screen
had stopped changing. Here an added row widens its columns at once, with the same measure Textual uses later, so
no line is ever painted at a width the table is about to give up.

Since the added rows are measured here, the idle pass (``DataTable._update_dimensions``) has nothing left to measure
for rows of one line without a label (all of the desk's): it would measure every cell of every new row once more, the
fixed-width columns' too, whose measure is never used (200 tasks in the inbox: 60 ms, issue 18). It then only sets the
table's virtual size, as Textual does. Rows with a label or an automatic height go through Textual's own pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.geometry import Size
from textual.render import measure
from textual.widgets import DataTable
from textual.widgets._data_table import default_cell_formatter
from textual.widgets.data_table import CellType, RowKey


class Table(DataTable[CellType]):
    def add_row(
        self,
        *cells: CellType,
        height: int | None = 1,
        key: str | None = None,
        label: Any = None,
    ) -> RowKey:
        row_key = super().add_row(*cells, height=height, key=key, label=label)
        console = self.app.console
        for column, cell in zip(self.ordered_columns, cells, strict=False):
            if cell is None or not column.auto_width:
                continue
            # as DataTable._update_dimensions measures it when idle (the same formatter, the same measure)
            width = measure(console, default_cell_formatter(cell, wrap=height != 1, height=height or 0), 1)
            column.content_width = max(column.content_width, width)
        return row_key

    def size_now(self) -> None:
        """What DataTable does for the added rows when it is next idle (``_on_idle``), now: the table's virtual size
        is then right in the next paint (a scrollbar shown at once, not in a layout and paint of their own)."""
        if self._require_update_dimensions:
            self._require_update_dimensions = False
            new_rows = self._new_rows.copy()
            self._new_rows.clear()
            self._update_dimensions(new_rows)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        rows = self.rows
        new = list(new_rows)
        if any((row := rows.get(key)) is not None and (row.label is not None or row.auto_height) for key in new):
            super()._update_dimensions(new)
            return
        # the end of DataTable._update_dimensions (Textual 8.2.8): the columns' widths are known already
        data_cells_width = sum(column.get_render_width(self) for column in self.columns.values())
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            data_cells_width + self._row_label_column_width, self._total_row_height + header_height
        )
