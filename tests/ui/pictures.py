"""Pictures of a screen that do not depend on how busy the machine is.

A DataTable sizes its columns on a later refresh, and on a loaded machine later still: a picture taken too soon
shows the table unsized (CI saw the client detail's Loans table and the campaign's tables cut). ``settle`` waits
until two pictures 0.2 s apart are the same; every snapshot test ends its preparation with it.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot


async def settle(pilot: Pilot[Any], tries: int = 20) -> str:
    """The screen's picture once it has stopped changing (at most ``tries`` waits of 0.2 s)."""
    app = pilot.app
    picture, previous = app.export_screenshot(title=app.title), None
    for _ in range(tries):
        if picture == previous:
            break
        await pilot.pause(0.2)
        previous, picture = picture, app.export_screenshot(title=app.title)
    return picture
