"""Pictures of a screen that do not depend on how busy the machine is.

A DataTable sizes its columns on a later refresh, and on a loaded machine later still: a picture taken too soon
shows the table unsized (CI saw the client detail's Loans table and the campaign's tables cut). ``settle`` waits
until every table of the screen is as wide as its widest cell in each column (DataTable sizes on its next idle
message) and two pictures 0.2 s apart are the same; every snapshot test ends its preparation with it. Two equal pictures alone were not
enough: a run on 2026-12-03 took two equal pictures of the unsized Loans table.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual.pilot import Pilot
from textual.widgets import DataTable


def _unsized(pilot: Pilot[Any]) -> bool:
    """A table of the screen has a column narrower than its widest cell: it has not yet been sized to its rows
    (Textual's DataTable measures new rows when it is next idle)."""
    for table in pilot.app.screen.query(DataTable):
        if table._updated_cells or table._require_update_dimensions or table._new_rows:
            return True
        for column in table.ordered_columns:
            if not column.auto_width:
                continue
            widest = max((cell_len(str(row)) for row in table.get_column(column.key)), default=0)
            if column.content_width < widest:
                return True
    return False


async def settle(pilot: Pilot[Any], tries: int = 20) -> str:
    """The screen's picture once no table waits to be sized and it has stopped changing (at most ``tries`` waits of
    0.2 s); fails when it never settles, rather than comparing a picture taken half-way."""
    app = pilot.app
    picture, previous = app.export_screenshot(title=app.title), None
    for _ in range(tries):
        if picture == previous and not _unsized(pilot):
            return picture
        await pilot.pause(0.2)
        previous, picture = picture, app.export_screenshot(title=app.title)
    raise AssertionError(f"the screen {app.screen!r} did not settle in {tries * 0.2:.0f} s")
