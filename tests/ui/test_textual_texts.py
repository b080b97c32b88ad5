"""Textual's own texts in the session's language (issue 17): the keys of its widgets in the ? panel, the footer's
palette key, the command palette's placeholder and its system commands."""

from __future__ import annotations

import html

import pytest
from textual.command import CommandPalette
from textual.widgets import Input

from tests.ui.test_approvals import _settle

TEXTUAL_ENGLISH = ("Scroll Left", "Scroll Right", "Focus Next", "Focus Previous", "Copy selected text", "Page Left")


@pytest.mark.parametrize(
    ("lang", "shown", "absent"),
    [
        ("nl", ("Naar links schuiven", "Volgend veld", "Selectie kopiëren"), TEXTUAL_ENGLISH),
        ("en", ("Scroll Left", "Focus Next"), ("Naar links schuiven", "Volgend veld")),
    ],
)
async def test_the_key_panel_and_the_footer_speak_the_session_language(  # type: ignore[no-untyped-def]
    app_for, lang: str, shown: tuple[str, ...], absent: tuple[str, ...]
) -> None:
    app = app_for("demo", lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        footer = app.export_screenshot().replace("&#160;", " ")
        assert (" menu<" in footer and "palette" not in footer) if lang == "nl" else " palette<" in footer
        await pilot.press("question_mark")
        await _settle(pilot)
        picture = app.export_screenshot().replace("&#160;", " ")
        for text in shown:
            assert text in picture, text
        for text in absent:
            assert text not in picture, text


async def test_the_command_palette_speaks_dutch(app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for("demo", lang="nl")
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        await pilot.press("ctrl+p")
        await _settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        assert app.screen.query_one(Input).placeholder == "Zoek een opdracht…"
        titles = [str(c.title) for c in app.get_system_commands(app.screen)]
        assert "Thema" in titles and "Schermafbeelding" in titles and "Theme" not in titles


@pytest.mark.parametrize(
    ("lang", "ours"),
    [("nl", ("Agenda: mijn taken", "Klachtenregister")), ("en", ("Agenda: my tasks", "Complaints register"))],
)
async def test_the_palette_lists_the_desks_screens_before_anything_is_typed(  # type: ignore[no-untyped-def]
    app_for, lang: str, ours: tuple[str, str]
) -> None:
    """An empty palette shows our screens first, not only Textual's own commands (theme, screenshot, quit)."""
    app = app_for("demo", lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        await pilot.press("ctrl+p")
        await _settle(pilot)
        await pilot.pause(0.3)  # the palette gathers its hits in a worker
        await _settle(pilot)
        picture = html.unescape(app.export_screenshot()).replace("\xa0", " ")
        for title in ours:
            assert title in picture, title
