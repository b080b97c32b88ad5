"""The desk's read-only tables: Textual's DataTable, with its columns as wide as their widest cell from the moment a
row is added.

Textual measures added rows only when the table is next idle, and lines it paints before that are drawn at the
columns' old widths (cells cut at the header's width). On a busy machine, or over a slow SSH link, that state was
seen to last: the client detail's Loans table showed "L11574" and "€ 12.836,1" in pictures taken after the screen
had stopped changing. Here an added row widens its columns at once, with the same measure Textual uses later, so
no line is ever painted at a width the table is about to give up.
"""

from __future__ import annotations

from typing import Any

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
