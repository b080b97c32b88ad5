"""The parser of a command line (issue 18): ``incasso`` and ``incasso demo`` build the TUI group's commands only, a
line naming another command that command's alone, help and a line the probe cannot read the whole
tree; each parses its lines as the whole tree does."""

from __future__ import annotations

import argparse

import pytest

from incasso_tui.cli.common import leaf_parsers
from incasso_tui.cli.root import COMMANDS, GROUPS, TUI_COMMANDS, build_parser, parser_for

TUI_LINES = [
    [],
    ["demo"],
    ["demo", "--reset"],
    ["tui"],
    ["--user", "demo", "--date", "2026-11-23"],
    ["--db", "sqlite:///x.db", "--user", "bakker", "--lang", "en"],
    ["--db=demo", "tui", "--user", "bakker"],  # an option's value that is a command's name is no command
    ["--us", "bakker"],  # an abbreviation of --user, as argparse takes it
    ["--demo", "demo", "--lang", "en"],
    ["generate", "--loans", "10", "--seed", "3"],
]
COMMAND_LINES = [  # a command named: its own parser, and the top-level commands it then has
    (["users", "list"], {"users"}),
    (["--user", "tui", "users", "list"], {"users"}),
    (["calc", "incassokosten", "1000"], {"calc"}),
    (
        ["calc", "draagkracht", "--household", "single", "--income", "3000", "--housing", "900", "--fixed", "200"],
        {"calc"},
    ),  # a sub-command another group adds
    (["report", "risk", "--as-of", "2026-11-23"], {"report", "risk"}),  # risk's group adds both
    (["risk", "loan", "7"], {"report", "risk"}),  # a group that adds to another (report risk) needs that one built
    (["letters", "batches"], {"letters", "mail"}),
    (["mail", "send"], {"letters", "mail"}),
    (["serve", "portal", "--port", "8080"], {"serve", "portal"}),
    (["payments", "import", "a.xml", "--json"], {"payments"}),
]
OTHER_LINES = [
    ["--help"],
    ["demo", "--help"],
    ["-h"],
    ["--he"],
    ["--version"],
    ["--vers"],
    ["--lang", "xx"],  # the probe cannot read it: the whole parser says what is wrong
    ["--d", "x"],  # ambiguous: --db, --demo, --date
    ["nosuchcommand"],
]


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def _parsed(parser: argparse.ArgumentParser, argv: list[str]) -> dict[str, object]:
    args = vars(parser.parse_args(argv))
    func = args.pop("func")
    return {**args, "func": f"{func.__module__}.{func.__qualname__}"}


@pytest.mark.parametrize("argv", TUI_LINES, ids=" ".join)
def test_a_tui_line_gets_the_tui_parser_and_parses_as_with_the_whole_one(argv: list[str]) -> None:
    parser = parser_for(argv)
    assert _commands(parser) == set(TUI_COMMANDS)
    assert _parsed(parser, argv) == _parsed(build_parser(), argv)


@pytest.mark.parametrize(("argv", "built"), COMMAND_LINES, ids=lambda x: " ".join(x) if isinstance(x, list) else "")
def test_a_line_naming_a_command_gets_that_commands_parser_and_parses_as_with_the_whole_one(
    argv: list[str], built: set[str]
) -> None:
    parser = parser_for(argv)
    assert _commands(parser) == built
    assert _parsed(parser, argv) == _parsed(build_parser(), argv)


def _leaves(parser: argparse.ArgumentParser) -> dict[str, str]:
    return {leaf.prog: leaf.format_help() for leaf in leaf_parsers(parser)}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_commands_own_parser_builds_it_as_the_whole_one_does(command: str) -> None:
    """Every sub-command of ``command`` (also those another group adds), with the same options and help."""
    whole = {prog: text for prog, text in _leaves(build_parser()).items() if prog.split()[1:2] == [command]}
    own = {
        prog: text for prog, text in _leaves(build_parser(command=command)).items() if prog.split()[1:2] == [command]
    }
    assert whole and own == whole


def test_the_groups_table_says_what_each_register_function_adds() -> None:
    """``GROUPS`` names, per register function, the commands it adds and the ones it adds to: checked by running
    each after the ones before it."""
    import importlib

    parser = argparse.ArgumentParser(prog="incasso")
    sub = parser.add_subparsers()

    def shape() -> dict[str, tuple[str, ...]]:
        return {name: tuple(sorted(_commands(p))) if _has_commands(p) else () for name, p in sub.choices.items()}

    for module, func, adds, extends in GROUPS:
        before = shape()
        getattr(importlib.import_module(f"incasso_tui.cli.{module}"), func)(sub)
        after = shape()
        assert [name for name in after if name not in before] == list(adds), (module, func)
        assert [name for name in before if after[name] != before[name]] == list(extends), (module, func)
    assert set(sub.choices) == COMMANDS == _commands(build_parser())


def _has_commands(parser: argparse.ArgumentParser) -> bool:
    return any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)


@pytest.mark.parametrize("argv", OTHER_LINES, ids=" ".join)
def test_help_and_a_line_the_probe_cannot_read_get_every_command(argv: list[str]) -> None:
    everything = _commands(build_parser())
    assert len(everything) > 25 and set(TUI_COMMANDS) < everything
    assert _commands(parser_for(argv)) == everything


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser_for(["--help"]).parse_args(["--help"])
    listed = capsys.readouterr().out
    assert all(f"    {name} " in listed or f"    {name}\n" in listed for name in _commands(build_parser()))
    assert "users" in listed and "payments" in listed and "demo" in listed


def test_the_tui_parsers_errors_are_the_whole_ones(capsys: pytest.CaptureFixture[str]) -> None:
    said = []
    for parser in (parser_for(["demo", "--bogus"]), build_parser()):
        with pytest.raises(SystemExit) as stop:
            parser.parse_args(["demo", "--bogus"])
        said.append((stop.value.code, capsys.readouterr().err.strip().splitlines()[-1]))
    assert said[0] == said[1] and "--bogus" in said[0][1]


def test_the_tui_start_fetches_the_worklists_first_page_for_the_app(
    sqlite_template: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``incasso`` begins the worklist's first load before the app runs (it runs while Textual is imported) and hands
    it to the app, whose worklist screen shows it (tests/ui/test_worklist.py)."""
    import shutil

    from incasso_tui.cli import main, tui
    from incasso_tui.services.worklist import WorklistFilter
    from incasso_tui.ui import app as app_module
    from incasso_tui.ui.paging import PAGE_SIZE

    book = tmp_path / "book.db"
    shutil.copy(sqlite_template, book)
    handed: list[object] = []

    def run(self: app_module.IncassoApp, *args: object, **kwargs: object) -> None:
        opened = self._opening.result(timeout=30) if self._opening is not None else None
        handed.append(opened)

    monkeypatch.setattr(app_module.IncassoApp, "run", run)
    monkeypatch.setattr(tui, "require_terminal", lambda: None)
    assert main(["--db", f"sqlite:///{book}", "--user", "demo", "--date", "2026-11-23"]) == 0
    (opened,) = handed
    assert opened is not None and opened.worklist.flt == WorklistFilter()  # type: ignore[attr-defined]
    assert opened.total > 20 and len(opened.first.rows) == min(PAGE_SIZE, opened.total)  # type: ignore[attr-defined]


def test_the_collector_is_off_while_incasso_starts_and_on_again_for_a_command_that_is_not_the_tui(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``incasso_tui.entry`` switches the cyclic collector off before anything is imported (issue 18); every command
    but the TUI runs with it on again. The TUI's own collector (ui.heap) takes over after its first paint."""
    import gc
    import sys

    from incasso_tui import entry
    from incasso_tui.cli import root

    real = root.main
    seen: list[bool] = []

    def spy(*args: object, **kwargs: object) -> int:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(root, "main", spy)
    monkeypatch.setattr(sys, "argv", ["incasso", "calc", "incassokosten", "1000"])
    try:
        assert entry.main() == 0
        assert seen == [False] and gc.isenabled()
        assert "incassokosten €\xa0150,00" in capsys.readouterr().out  # 15 % of the first 2,500 (WIK)
    finally:
        gc.enable()


@pytest.mark.parametrize("line", TUI_LINES, ids=" ".join)
def test_only_the_tui_and_the_demo_keep_the_collector_off(line: list[str]) -> None:
    from incasso_tui.cli.root import opens_tui

    assert opens_tui(parser_for(line).parse_args(line)) is (line[:1] != ["generate"])


@pytest.mark.parametrize("line", [line for line, _built in COMMAND_LINES], ids=" ".join)
def test_every_other_command_runs_with_the_collector_on(line: list[str]) -> None:
    from incasso_tui.cli.root import opens_tui

    assert not opens_tui(parser_for(line).parse_args(line))
