"""The local TUI's terminal defaults (issue 18): no animations and a short escape delay, unless the person set them."""

from __future__ import annotations

from incasso_tui.cli.tui import terminal_defaults


def test_the_defaults_are_set_when_missing() -> None:
    environ: dict[str, str] = {}
    terminal_defaults(environ)
    assert environ == {"TEXTUAL_ANIMATIONS": "none", "ESCDELAY": "25"}


def test_what_the_person_set_is_kept() -> None:
    environ = {"TEXTUAL_ANIMATIONS": "full", "ESCDELAY": "200"}
    terminal_defaults(environ)
    assert environ == {"TEXTUAL_ANIMATIONS": "full", "ESCDELAY": "200"}
