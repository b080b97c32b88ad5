"""No key of a screen does two things: a second binding of one key silently shadows the first (two features merged
on the client detail both took `x`, and `b`, and `k`, before this test)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import Counter

from textual.binding import Binding
from textual.screen import Screen

from incasso_tui.ui import screens


def _screen_classes() -> list[type[Screen]]:  # type: ignore[type-arg]
    found = []
    for info in pkgutil.iter_modules(screens.__path__, screens.__name__ + "."):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def _own_keys(cls: type) -> list[str]:
    """The keys of the bindings the class itself declares (a subclass may rebind a base's key on purpose)."""
    keys: list[str] = []
    for binding in cls.__dict__.get("BINDINGS", []):
        key = binding.key if isinstance(binding, Binding) else binding[0]
        keys += [k.strip() for k in key.split(",")]
    return keys


def test_the_screens_are_found() -> None:
    names = {cls.__name__ for cls in _screen_classes()}
    assert {"ClientDetailScreen", "WorklistScreen", "ArrangementScreen"} <= names


def test_no_key_is_bound_twice_on_a_screen() -> None:
    doubled = {
        cls.__name__: sorted(k for k, n in Counter(_own_keys(cls)).items() if n > 1) for cls in _screen_classes()
    }
    assert {name: keys for name, keys in doubled.items() if keys} == {}
