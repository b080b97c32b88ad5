"""Parsed Textual CSS shared by every app in a process, and made before the SSH session starter forks (issue 18).

Textual parses an app's CSS per app: the app's and the screens' ``.tcss`` files and every widget class's
``DEFAULT_CSS``. Worse, every new source (a screen's file when the screen is first pushed) makes it parse all
sources again from scratch (``Stylesheet.reparse`` builds a fresh stylesheet with an empty cache). A forked SSH
session spent 12-20 ms of its ~100 ms of main-thread CPU to the first paint on this, the same for every session.

Here one process-wide cache holds the parsed rule sets, keyed by what the result depends on: the CSS text, where
it was read from, whether it is default CSS, its tie breaker, its scope, and the CSS variables (the theme). The
app's stylesheet (:class:`SharedStylesheet`) looks there first, also when it parses again. The session starter
(``ssh.zygote``) fills the cache before it forks (:func:`warm`), so a session parses nothing; the local TUI
fills it as it goes and no longer parses a source twice. The rule sets are never changed after parsing:
Textual itself hands the same ones to every parse of a stylesheet from its own per-stylesheet cache.

This is the one place that uses Textual's private stylesheet API, written against textual 8.2.8 (pinned):
``Stylesheet._parse_rules`` (overridden), ``Stylesheet.reparse`` (its body, with this class instead of
``Stylesheet``), ``Stylesheet._variables`` / ``_invalid_css`` / ``_rules`` / ``_rules_map`` /
``_require_parse``, ``DOMNode._get_default_css``, ``DOMNode._css_bases`` and ``textual._path._css_path_type_as_list``. tests/unit/test_css_cache.py fails
when any of them changes shape, and checks that a warmed cache leaves the worklist's first paint nothing to parse.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePath
from types import SimpleNamespace
from typing import Any

from textual._path import _css_path_type_as_list
from textual.app import App
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet
from textual.css.types import CSSLocation
from textual.dom import DOMNode
from textual.screen import Screen

log = logging.getLogger("incasso.ui")

# Entries: one per (source, variables). An app has about 90 sources; a theme change in the command palette adds
# another set. Least recently used out first.
MAX_ENTRIES = 4096

_Key = tuple[str, CSSLocation, bool, int, str, tuple[tuple[str, str], ...]]
_SHARED: OrderedDict[_Key, list[RuleSet]] = OrderedDict()


def shared_entries() -> int:
    """How many parsed sources the cache holds."""
    return len(_SHARED)


def clear() -> None:
    """Forget everything parsed (tests)."""
    _SHARED.clear()


class SharedStylesheet(Stylesheet):
    """A Textual stylesheet that takes parsed sources from the process-wide cache and puts new ones there."""

    def __init__(self, *, variables: dict[str, str] | None = None) -> None:
        super().__init__(variables=variables)
        self._variables_key: tuple[tuple[str, str], ...] | None = None
        self.misses = 0  # sources this stylesheet had to parse itself (tests, the profile)

    def _shared_variables(self) -> tuple[tuple[str, str], ...]:
        if self._variables_key is None:
            self._variables_key = tuple(sorted(self._variables.items()))
        return self._variables_key

    def set_variables(self, variables: dict[str, str]) -> None:
        super().set_variables(variables)
        self._variables_key = None

    def _parse_rules(
        self,
        css: str,
        read_from: CSSLocation,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        key: _Key = (css, read_from, is_default_rules, tie_breaker, scope, self._shared_variables())
        rules = _SHARED.get(key)
        if rules is not None:
            _SHARED.move_to_end(key)
            return rules
        rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
        self.misses += 1
        _SHARED[key] = rules
        while len(_SHARED) > MAX_ENTRIES:
            _SHARED.popitem(last=False)
        return rules

    def reparse(self) -> None:
        """Textual 8.2.8's ``Stylesheet.reparse``, parsing into a stylesheet of this class (which takes what it
        can from the cache) instead of a plain one (which would parse every source again)."""
        stylesheet = type(self)(variables=self._variables)
        for read_from, (css, is_defaults, tie_breaker, scope) in self.source.items():
            stylesheet.add_source(
                css, read_from=read_from, is_default_css=is_defaults, tie_breaker=tie_breaker, scope=scope
            )
        try:
            stylesheet.parse()
        except Exception:
            self._invalid_css.update(stylesheet._invalid_css)
            raise
        else:
            self.misses += stylesheet.misses
            self._rules = stylesheet.rules
            self._rules_map = None
            self.source = stylesheet.source
            self._require_parse = False

    def copy(self) -> SharedStylesheet:
        stylesheet = type(self)(variables=self._variables.copy())
        stylesheet.source = self.source.copy()
        return stylesheet


def install(app: App[Any]) -> None:
    """Give ``app`` (from its ``__init__``, before it runs) a shared stylesheet with the variables it has."""
    app.stylesheet = SharedStylesheet(variables=app.stylesheet._variables)


# ----- filling the cache before the sessions need it (the SSH session starter)


def _node_classes() -> Iterator[type[DOMNode]]:
    """Every DOMNode class imported so far (Textual's widgets and screens and the app's own)."""
    seen: set[type[DOMNode]] = set()
    todo: list[type[DOMNode]] = [DOMNode]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    yield from seen


def _file_of(cls: type) -> str:
    try:
        return inspect.getfile(cls)
    except (TypeError, OSError):
        return ""


def _css_file(cls: type, path: PurePath) -> str:
    """The name a stylesheet reads ``cls``'s ``CSS_PATH`` entry under: as textual's ``_make_path_object_relative``
    (relative to the class's file, resolved) and then ``Stylesheet.read`` (``os.path.abspath``)."""
    if not path.is_absolute():
        base = getattr(cls, "_BASE_PATH", None) or _file_of(cls)
        path = (Path(base).parent / path).resolve()
    return os.path.abspath(os.path.expanduser(path))


def _sources(classes: Iterable[type[DOMNode]]) -> Iterator[tuple[str, CSSLocation, bool, int, str]]:
    """The sources an app reads for these classes, as Textual reads them: the default CSS a node of each class
    adds when it is mounted (``DOMNode._get_default_css``, which reads only the class), the ``CSS_PATH`` files
    and the ``CSS`` of apps and screens."""
    for cls in classes:
        shim = SimpleNamespace(_node_bases=cls._css_bases(cls))  # what _get_default_css reads of an instance
        for read_from, css, tie_breaker, scope in DOMNode._get_default_css(shim):  # type: ignore[arg-type]
            yield css, read_from, True, tie_breaker, scope
        if not issubclass(cls, (App, Screen)):
            continue
        paths = cls.CSS_PATH
        if paths:
            for path in _css_path_type_as_list(paths):
                try:
                    css = Path(_css_file(cls, path)).read_text(encoding="utf-8")
                except OSError:
                    continue  # the app says so itself when it runs
                yield css, (_css_file(cls, path), ""), False, 0, ""
        inline = cls.CSS
        if inline:
            scope = cls._css_type_name if issubclass(cls, Screen) and cls.SCOPED_CSS else ""
            yield inline, (_file_of(cls), f"{cls.__name__}.CSS"), False, 0, scope


def theme_variables(theme: str) -> dict[str, str]:
    """The CSS variables an app with ``theme`` parses its CSS with (an app object that never runs)."""
    app: App[None] = App()
    app.theme = theme
    return app.get_css_variables()


def warm(themes: Iterable[str]) -> int:
    """Parse the CSS of every DOMNode class imported so far, for each theme; returns the number of sources
    parsed. A source Textual refuses is left out (the app reports it when it runs)."""
    classes = list(_node_classes())
    parsed = 0
    for theme in dict.fromkeys(themes):
        try:
            variables = theme_variables(theme)
        except Exception as exc:  # noqa: BLE001 - an unknown theme: the app says so when it runs
            log.warning("CSS for theme %r not parsed ahead: %s", theme, exc)
            continue
        stylesheet = SharedStylesheet(variables=variables)
        for css, read_from, is_default, tie_breaker, scope in _sources(classes):
            try:
                stylesheet._parse_rules(css, read_from, is_default, tie_breaker, scope)
            except Exception as exc:  # noqa: BLE001 - Textual's own errors; this is only a warm-up
                log.warning("CSS of %s not parsed ahead: %s", read_from, exc)
        parsed += stylesheet.misses
    return parsed


__all__ = ["MAX_ENTRIES", "SharedStylesheet", "clear", "install", "shared_entries", "theme_variables", "warm"]
