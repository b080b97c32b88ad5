"""Snapshots of every screen and modal of the desk (issue 17): 80x24 in Dutch and English, the wide layouts at 120x40.

The data is the test book (a fixed seed) and the clock is frozen (``tests/conftest.py``), so a picture changes only
when a screen does. A screen is reached as a person reaches it: keys from the worklist, or from a client's case.
After a deliberate change of a screen, update the pictures with ``pytest tests/ui/test_snapshots.py
--snapshot-update`` and look at the changed SVG files (a browser shows them) before committing them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_textual_snapshot import SVGImageExtension
from sqlalchemy import text
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from incasso_tui.ui.screens.detail import ClientDetailScreen
from tests.ui.pictures import settle

ACTIVE_CASE = "status = 'active' AND pos_arrears > 0"
ARRANGEMENT_CASE = "status = 'arrangement'"
# The export prompt shows the export folder: one that is the same on every run (the test's own temporary folder is
# not). Nothing is written there: the prompt is only shown.
EXPORT_DIR = Path("/srv/incasso/exports")
# where the pictures that differ are written when a comparison fails, to look at beside the stored ones
DIFF_DIR = Path(os.environ.get("INCASSO_SNAPSHOT_DIFF_DIR", "/tmp/incasso-snapshot-diff"))


@dataclass(frozen=True)
class Shot:
    name: str
    keys: tuple[str, ...] = ()
    user: str = "demo"  # an employee; "bakker" is a supervisor, "visser" special management
    case: str | None = None  # open the first case matching this SQL condition before the keys
    stays: bool = False  # the last key changes the screen it is on instead of opening another


WORKLIST = [
    Shot("worklist"),
    Shot("help", ("question_mark",), stays=True),
    Shot("agenda", ("a",)),
    Shot("dashboard", ("k",)),
    Shot("risk", ("k", "v"), user="bakker"),
    Shot("selections", ("l",)),
    Shot("post", ("p",)),
    Shot("import", ("i",)),
    Shot("unmatched", ("u",)),
    Shot("find", ("f",)),
    Shot("team-meeting", ("d",)),
    Shot("export-prompt", ("e",)),
    Shot("approvals", ("v",), user="bakker"),
    Shot("special", user="visser"),  # special management start on their workbench
]
DETAIL = [
    Shot("detail", case=ACTIVE_CASE),
    *(Shot(f"detail-tab{n}", (str(n),), case=ACTIVE_CASE, stays=True) for n in range(2, 10)),
    Shot("timeline-details", ("7", "x"), case=ACTIVE_CASE, stays=True),
    Shot("contact", ("c",), case=ACTIVE_CASE),
    Shot("note", ("n",), case=ACTIVE_CASE),
    Shot("arrangement", ("a",), case=ACTIVE_CASE),
    Shot("deferral", ("u",), case=ACTIVE_CASE),
    Shot("letter", ("l",), case=ACTIVE_CASE),
    Shot("track", ("i",), case=ACTIVE_CASE),
    Shot("pause", ("p",), case=ACTIVE_CASE),
    Shot("handover", ("h",), case=ACTIVE_CASE),
    Shot("write-off", ("w",), user="bakker", case=ACTIVE_CASE),
    Shot("call-in", ("o",), user="bakker", case=ACTIVE_CASE),
    Shot("budget", ("b",), case=ACTIVE_CASE),
    Shot("consult", ("k",), case=ACTIVE_CASE),
    Shot("complaints", ("d",), case=ACTIVE_CASE),
    Shot("external", ("e",), case=ACTIVE_CASE),
    Shot("vulnerability", ("v",), case=ACTIVE_CASE),
    Shot("change-arrangement", ("g",), case=ARRANGEMENT_CASE),
]
WIDE = {"worklist", "detail", "agenda", "dashboard", "approvals", "arrangement", "budget", "special"}
SHOTS = WORKLIST + DETAIL
USERS = sorted({shot.user for shot in SHOTS})


async def _settle(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass
        await pilot.pause()


def _case(app: Any, where: str) -> int:
    with app.ctx.db.reader() as s:
        return int(s.execute(text(f"SELECT id FROM cases WHERE {where} ORDER BY id LIMIT 1")).scalar_one())


async def _pictures(app: Any, shots: list[Shot], size: tuple[int, int]) -> dict[str, str]:
    """One run of the app, every shot in turn from the start screen; the SVG of each, as pytest-textual-snapshot
    takes it (one run per user and language instead of one per picture: the suite stays short)."""
    pictures: dict[str, str] = {}
    async with app.run_test(size=size) as pilot:
        await _settle(pilot)
        start = len(app.screen_stack)
        for shot in shots:
            if shot.case is not None:
                await app.push_screen(ClientDetailScreen(_case(app, shot.case)))
                await _settle(pilot)
            for key in shot.keys:
                shown = app.screen
                await pilot.press(key)
                await _settle(pilot)
                # every key of the table opens something: a key that does nothing is a defect here or in the screen
                assert app.screen is not shown or shot.stays, (shot.name, key)
            await pilot.wait_for_scheduled_animations()
            pictures[shot.name] = await settle(pilot)  # tables sized, nothing moving (tests/ui/pictures.py)
            app.clear_notifications()  # a toast of this picture must not show in the next
            if shot.name == "help":
                await pilot.press("question_mark")  # the help panel toggles
            while len(app.screen_stack) > start:
                app.pop_screen()
                await _settle(pilot)
    return pictures


def _compare(pictures: dict[str, str], snapshot: Any) -> None:
    svg = snapshot.use_extension(SVGImageExtension)
    differ = [name for name, picture in pictures.items() if not picture == svg(name=name)]  # every one compared
    if differ:  # the pictures taken, to hold beside the stored ones (tests/ui/__snapshots__/test_snapshots/)
        DIFF_DIR.mkdir(parents=True, exist_ok=True)
        for name in differ:
            (DIFF_DIR / f"{name}.svg").write_text(pictures[name], encoding="utf-8")
    assert not differ, f"these screens changed: {differ}; the pictures taken are in {DIFF_DIR}"


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_every_screen_80x24(lang: str, app_for: Callable[..., Any], snapshot: Any) -> None:
    pictures: dict[str, str] = {}
    for user in USERS:
        app = app_for(user, lang=lang, export_dir=EXPORT_DIR)
        pictures |= await _pictures(app, [s for s in SHOTS if s.user == user], (80, 24))
    _compare(pictures, snapshot)


async def test_wide_screens_120x40(app_for: Callable[..., Any], snapshot: Any) -> None:
    pictures: dict[str, str] = {}
    for user in USERS:
        wide = [s for s in SHOTS if s.user == user and s.name in WIDE]
        if wide:
            pictures |= await _pictures(app_for(user, lang="nl", export_dir=EXPORT_DIR), wide, (120, 40))
    _compare(pictures, snapshot)
