"""The command line's one progress bar (cli.common.progress, rich's): on standard error when it is a terminal, never on
standard output (a command's result), and nothing at all when standard error is no terminal."""

from __future__ import annotations

import io

import pytest

from incasso_tui.cli import common


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_terminal_no_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", io.StringIO())
    with common.progress() as update:
        assert update is None


@pytest.mark.parametrize("steps", [False, True], ids=["a bar per phase", "one bar for the steps"])
def test_the_bar_goes_to_standard_error(monkeypatch: pytest.MonkeyPatch, steps: bool) -> None:
    err, out = _Terminal(), io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.setattr("sys.stdout", out)
    with common.progress(steps=steps) as update:
        assert update is not None
        update("prepare", 1, 1)
        update("book", 7, 10)
    shown = err.getvalue()
    assert "7/10" in shown and "book" in shown
    assert out.getvalue() == ""
