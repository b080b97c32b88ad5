"""The CSS parsed once per process (ui.css_cache, issue 18): what it takes from Textual's private API is still
there, a warmed cache leaves an app's first paint nothing to parse, and what the cache hands out is what Textual
would have parsed."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode

from incasso_tui.ui import css_cache
from incasso_tui.ui.css_cache import SharedStylesheet
from incasso_tui.ui.screens.worklist import WorklistScreen

# The sources of Textual 8.2.8's methods that SharedStylesheet repeats with its own class (reparse, copy). When
# Textual changes them, compare the new bodies with SharedStylesheet's, adapt it, and put the new digests here.
TEXTUAL_REPARSE = "dd193eb05f8baeb5f73d962b99719f6b55391333c06064c1a10cf0de4d8e30a4"
TEXTUAL_COPY = "5364e49bbbdce0cadad052445afb1bc61af6ad6780d3ca53bea2a5760eea064a"


def _digest(method: object) -> str:
    return hashlib.sha256(inspect.getsource(method).encode()).hexdigest()  # type: ignore[arg-type]


@pytest.fixture
def cold() -> Iterator[None]:
    css_cache.clear()
    yield
    css_cache.clear()


async def _settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def test_the_private_textual_api_it_relies_on_is_unchanged() -> None:
    assert _digest(Stylesheet.reparse) == TEXTUAL_REPARSE, "Textual's Stylesheet.reparse changed: see ui.css_cache"
    assert _digest(Stylesheet.copy) == TEXTUAL_COPY, "Textual's Stylesheet.copy changed: see ui.css_cache"
    parameters = list(inspect.signature(Stylesheet._parse_rules).parameters)
    assert parameters == ["self", "css", "read_from", "is_default_rules", "tie_breaker", "scope"]
    sheet = Stylesheet(variables={"a": "red"})
    for name in ("_variables", "_invalid_css", "_rules", "_rules_map", "_require_parse", "_parse_cache"):
        assert hasattr(sheet, name), f"Textual's Stylesheet has no {name} any more: see ui.css_cache"
    assert list(inspect.signature(DOMNode._get_default_css).parameters) == ["self"]
    assert callable(DOMNode._css_bases)


async def test_a_warmed_cache_leaves_the_worklist_first_paint_nothing_to_parse(
    app_for: Callable[..., Any], cold: None
) -> None:
    css_cache.warm(["textual-dark", "nord"])
    for theme in ("textual-dark", "nord"):
        app = app_for(theme=theme)
        assert isinstance(app.stylesheet, SharedStylesheet)
        async with app.run_test(size=(80, 24)) as pilot:
            await _settle(pilot)
            assert isinstance(app.screen, WorklistScreen)
            assert app.stylesheet.rules  # the app's CSS is there, from the cache
            assert app.stylesheet.misses == 0, f"{theme}: the first paint parsed CSS the warm-up had not"


async def test_a_cold_cache_parses_each_source_once_and_a_second_app_parses_nothing(
    app_for: Callable[..., Any], cold: None
) -> None:
    first = app_for()
    async with first.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
    parsed = first.stylesheet.misses
    assert parsed > 0
    assert css_cache.shared_entries() == parsed  # every source parsed once, though Textual parsed again per screen
    second = app_for()
    async with second.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert second.stylesheet.misses == 0


def test_what_the_cache_gives_is_what_textual_parses_and_the_variables_are_part_of_the_key(cold: None) -> None:
    css = "Static { color: $background; } #x { background: $primary 50%; }"
    location = ("test", "x")
    dark, light = css_cache.theme_variables("textual-dark"), css_cache.theme_variables("textual-light")
    assert dark["background"] != light["background"]
    for variables in (dark, light):
        shared = SharedStylesheet(variables=variables)
        got = shared._parse_rules(css, location)
        again = SharedStylesheet(variables=variables)._parse_rules(css, location)
        plain = Stylesheet(variables=variables)._parse_rules(css, location)
        assert again is got  # from the cache
        assert [r.css for r in got] == [r.css for r in plain]
    assert css_cache.shared_entries() == 2


def test_the_cache_keeps_at_most_max_entries(monkeypatch: pytest.MonkeyPatch, cold: None) -> None:
    monkeypatch.setattr(css_cache, "MAX_ENTRIES", 3)
    sheet = SharedStylesheet(variables={})
    for n in range(5):
        sheet._parse_rules(f"#w{n} {{ width: {n}; }}", ("test", str(n)))
    assert css_cache.shared_entries() == 3
    sheet._parse_rules("#w4 { width: 4; }", ("test", "4"))
    assert sheet.misses == 5  # the newest was kept


def test_css_textual_refuses_is_still_refused_and_not_kept_from_being_reported(cold: None) -> None:
    from textual.css.stylesheet import StylesheetParseError

    sheet = SharedStylesheet(variables={})
    sheet.add_source("#a { colour: red; }", read_from=("test", "bad"))
    with pytest.raises(StylesheetParseError):
        sheet.parse()
    again = SharedStylesheet(variables={})
    again.add_source("#a { colour: red; }", read_from=("test", "bad"))
    with pytest.raises(StylesheetParseError):  # a cached result with errors is still an error
        again.parse()


async def test_the_session_starter_warms_the_default_and_the_configured_theme(
    app_for: Callable[..., Any], cold: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from incasso_tui.ssh import zygote

    monkeypatch.setenv("INCASSO_THEME", "nord")  # as the desk's config file would say it
    zygote._warm_css()
    for theme in ("textual-dark", "nord"):
        app = app_for(theme=theme)
        async with app.run_test(size=(80, 24)) as pilot:
            await _settle(pilot)
            assert app.stylesheet.misses == 0, theme
