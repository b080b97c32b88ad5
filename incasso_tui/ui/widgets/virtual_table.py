"""A table that shows a window onto a list too long to load: rows arrive page by page on demand.

The widget knows the total row count and holds the pages fetched so far. When a line to paint falls in a
page it does not have, it posts :class:`VirtualTable.PageNeeded` (once per page) and paints a placeholder;
the screen fetches the page in a worker and hands it over with :meth:`set_page`. Painting uses Textual's
Line API (``render_line``), so the cost is the visible lines only, whatever the total.

Cells are shown literally: every cell goes through ``ui.text.safe`` and becomes a plain Segment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from incasso_tui.ui.paging import PAGE_SIZE
from incasso_tui.ui.text import safe

R = TypeVar("R")
KEEP_PAGES = 50  # pages kept in memory; the farthest from the cursor are dropped first


@dataclass(frozen=True)
class Column:
    label: str
    width: int  # minimum width; the flexible column takes what is left
    align: str = "left"  # left | right
    flex: bool = False
    wants: int = 0  # the width it is given first from spare room (see VirtualTable._widths)


class VirtualTable(ScrollView, Generic[R], can_focus=True):
    DEFAULT_CSS = """
    VirtualTable { height: 1fr; scrollbar-gutter: stable; }
    VirtualTable > .virtual-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    VirtualTable > .virtual-table--placeholder { color: $text-muted; }
    VirtualTable > .virtual-table--flagged { color: $warning; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--cursor",
        "virtual-table--placeholder",
        "virtual-table--flagged",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open", id="open"),
    ]

    cursor: reactive[int] = reactive(0)

    class PageNeeded(Message):
        def __init__(self, table: VirtualTable[Any], page: int) -> None:
            super().__init__()
            self.table = table
            self.page = page

    class Selected(Message):
        def __init__(self, table: VirtualTable[Any], row: Any) -> None:
            super().__init__()
            self.table = table
            self.row = row

    class CursorMoved(Message):
        def __init__(self, table: VirtualTable[Any], index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

    def __init__(
        self,
        columns: Sequence[Column],
        cells: Callable[[R], Sequence[str]],
        *,
        flagged: Callable[[R], bool] = lambda _r: False,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.columns = list(columns)
        self._cells = cells
        self._flagged = flagged
        self.total = 0
        self._pages: dict[int, list[R]] = {}
        self._pending: set[int] = set()
        self._generation = 0  # bumped by reset(): late pages of an older filter are ignored
        self._select_when_loaded = False  # enter was pressed before the cursor's row arrived

    # ----- data
    @property
    def generation(self) -> int:
        return self._generation

    def reset(self, total: int, cursor: int = 0) -> None:
        """Forget every page and start over with ``total`` rows, the cursor at ``cursor``."""
        self._generation += 1
        self.total = total
        self._pages.clear()
        self._pending.clear()
        self._select_when_loaded = False
        self.virtual_size = Size(self._line_width(), total)
        self.set_reactive(VirtualTable.cursor, max(0, min(cursor, total - 1)) if total else 0)
        self._scroll_cursor_into_view(center=True)
        self.refresh()
        self.post_message(self.CursorMoved(self, self.cursor))

    def set_page(self, page: int, rows: Sequence[R], generation: int) -> None:
        if generation != self._generation:
            return
        self._pending.discard(page)
        self._pages[page] = list(rows)
        self._evict()
        self.refresh()
        if self._select_when_loaded and self.cursor_row is not None:
            self.action_select()

    def page_rows(self, page: int) -> list[R] | None:
        return self._pages.get(page)

    def row_at(self, index: int) -> R | None:
        rows = self._pages.get(index // PAGE_SIZE)
        if rows is None:
            return None
        offset = index % PAGE_SIZE
        return rows[offset] if offset < len(rows) else None

    @property
    def cursor_row(self) -> R | None:
        return self.row_at(self.cursor) if self.total else None

    def _evict(self) -> None:
        if len(self._pages) <= KEEP_PAGES:
            return
        here = self.cursor // PAGE_SIZE
        for page in sorted(self._pages, key=lambda p: abs(p - here), reverse=True)[: len(self._pages) - KEEP_PAGES]:
            del self._pages[page]

    def _need(self, page: int) -> None:
        if page not in self._pages and page not in self._pending and 0 <= page * PAGE_SIZE < self.total:
            self._pending.add(page)
            self.post_message(self.PageNeeded(self, page))

    # ----- layout
    def _widths(self, width: int) -> list[int]:
        """Each column its minimum; spare room first to the flexible column up to its ``wants``, then to the other
        columns up to theirs (a stage's full name), and what is left to the flexible column."""
        widths = [c.width for c in self.columns]
        spare = max(0, width - sum(widths) - len(self.columns) + 1)
        for first in (True, False):
            for i, c in enumerate(self.columns):
                if c.flex == first:
                    grow = min(spare, max(0, c.wants - widths[i]))
                    widths[i] += grow
                    spare -= grow
        return [w + (spare if c.flex else 0) for w, c in zip(widths, self.columns, strict=True)]

    def _line_width(self) -> int:
        return max(self.scrollable_content_region.width, sum(c.width for c in self.columns) + len(self.columns) - 1)

    def header_text(self, width: int) -> str:
        return self._join([c.label for c in self.columns], self._widths(width))

    def _join(self, values: Sequence[str], widths: list[int]) -> str:
        parts = []
        for value, width, column in zip(values, widths, self.columns, strict=True):
            text = safe(value)
            if cell_len(text) > width:
                text = set_cell_size(text, max(width - 1, 0)) + "…"
            pad = width - cell_len(text)
            parts.append(" " * pad + text if column.align == "right" else text + " " * pad)
        return " ".join(parts)

    def on_resize(self) -> None:
        self.virtual_size = Size(self._line_width(), self.total)
        self._scroll_cursor_into_view()

    # ----- painting
    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if index >= self.total:
            return Strip.blank(width, self.rich_style)
        row = self.row_at(index)
        if row is None:
            self._need(index // PAGE_SIZE)
            style = self.get_component_rich_style("virtual-table--placeholder")
            return Strip([Segment(set_cell_size("…", width), style)], width)
        text = self._join(self._cells(row), self._widths(width))
        style: Style = self.rich_style
        if self._flagged(row):
            style = style + self.get_component_rich_style("virtual-table--flagged")
        if index == self.cursor and self.has_focus:
            style = style + self.get_component_rich_style("virtual-table--cursor")
        elif index == self.cursor:
            style = style + Style(reverse=True)
        return Strip([Segment(set_cell_size(text, width), style)], width)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # ----- movement
    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.CursorMoved(self, new))

    def _scroll_cursor_into_view(self, center: bool = False) -> None:
        height = self.scrollable_content_region.height or 1
        top = self.scroll_offset.y
        if center:
            self.scroll_to(y=max(0, self.cursor - height // 2), animate=False, immediate=True)
        elif self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _move_to(self, index: int) -> None:
        if self.total:
            self.cursor = max(0, min(index, self.total - 1))

    def action_cursor(self, delta: int) -> None:
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, where: int) -> None:
        self._move_to(self.total - 1 if where < 0 else where)

    def action_select(self) -> None:
        row = self.cursor_row
        self._select_when_loaded = row is None and self.total > 0
        if row is not None:
            self.post_message(self.Selected(self, row))

    def on_click(self, event: Any) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < self.total:
            self._move_to(index)
