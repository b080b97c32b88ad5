"""The ``incasso`` command: the parser built from the command groups, and the run of one command.

Every group module (``incasso_tui.cli.<group>``) has ``register(subparsers)``; this module calls them in the order
``incasso --help`` lists the commands, then gives every command the common options (``common.common_everywhere``:
``--db`` / ``INCASSO_DB_URL``, ``--demo``, ``--lang`` / ``INCASSO_LANG``, ``--user``, ``--date``). Errors a person can
fix are printed as one line (in the chosen language) with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import decimal
import gc
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from incasso_tui import __version__
from incasso_tui.cli import common
from incasso_tui.config import load_settings
from incasso_tui.errors import N_, ConfigError, IncassoError
from incasso_tui.i18n import Translator
from incasso_tui.safetext import SafeStream, safe

__all__ = ["COMMANDS", "GROUPS", "TUI_COMMANDS", "build_parser", "main", "parser_for"]


# The commands of the ``tui`` group (``register`` below): the only ones ``incasso`` and ``incasso demo`` need
TUI_COMMANDS = ("tui", "demo", "generate")

# Every group's register function, in the order ``incasso --help`` lists the commands: its module (``cli.<group>``),
# its name, the top-level commands it adds and those of another group it adds sub-commands to (calc draagkracht,
# calc epc, letters batch, report risk, serve portal: it comes after that group). ``parser_for`` builds a command
# line's own command from these alone; tests/e2e/test_cli_startup.py holds them to what the functions do.
GROUPS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("tui", "register", TUI_COMMANDS, ()),
    ("db", "register", ("db",), ()),
    ("users", "register", ("users",), ()),  # users and their SSH keys
    ("serve", "register", ("serve",), ()),  # serve ssh, serve openssh
    ("letters", "register", ("letters", "mail"), ()),
    ("dispatch", "register_letters", (), ("letters",)),  # letters batch, posted, undo-batch, batches, waiting
    ("procedure", "register", ("procedure",), ()),
    ("bkr", "register", ("bkr",), ()),
    ("calc", "register", ("calc",), ()),
    ("budget", "register_calc", (), ("calc",)),  # calc draagkracht (issue 15)
    ("epc", "register", (), ("calc",)),  # calc epc (issue 21)
    ("audit", "register", ("audit",), ()),
    ("payments", "register", ("payments",), ()),
    ("report", "register", ("report",), ()),
    ("selections", "register", ("selections", "campaigns"), ()),
    ("tasks", "register", ("tasks", "consult", "discuss"), ()),
    ("proposals", "register", ("proposals",), ()),  # the approvals queue and its four-eyes decisions
    ("dispatch", "register", ("clients", "track"), ()),
    ("budget", "register", ("budget",), ()),
    ("risk", "register", ("risk",), ("report",)),  # risk, report risk
    ("search", "register", ("search",), ()),
    ("outside", "register", ("parties", "external", "complaints", "offers"), ()),
    ("portal", "register", ("portal",), ("serve",)),  # portal, serve portal
    ("documents", "register", ("documents",), ()),
    ("config", "register", ("config",), ()),
)
COMMANDS = frozenset(name for _module, _func, adds, _extends in GROUPS for name in adds)


def build_parser(*, command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; ``command``: of that top-level command only (one of :data:`COMMANDS`; ``tui``
    builds the TUI group's three, also for a line with no command), for a command line that names it
    (``parser_for``): it imports only the modules of the groups that make it (and the services and domain modules
    they use) and builds its own sub-parsers, not the about 120 of every command (0.14-0.56 s of a command's start on
    the slower 2-core benchmark machine, benchmarks/RESULTS.md "Issue 18: session 11")."""
    from incasso_tui.cli import tui

    parser = argparse.ArgumentParser(
        prog="incasso",
        description="Collections desk (Incasso & Beheer). Without a sub-command: open the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"incasso-tui {__version__}")
    common.add_common(parser, top=True)
    parser.set_defaults(func=tui.cmd_tui)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in _registers(command):
        register(sub)
    common.common_everywhere(parser)
    return parser


def _registers(command: str | None) -> list[Callable[[common.Subparsers], None]]:
    """The register functions that make ``command`` (None: every command), in :data:`GROUPS`' order: those that add
    it or add to it, and those that add what these add to."""
    if command is None:
        chosen = list(GROUPS)
    else:
        wanted = {command}
        chosen = []
        for group in reversed(GROUPS):  # an extending group comes after the one it extends: seen first here
            _module, _func, adds, extends = group
            if wanted & (set(adds) | set(extends)):
                chosen.insert(0, group)
                wanted |= set(extends)
    return [getattr(importlib.import_module(f"incasso_tui.cli.{module}"), func) for module, func, _a, _e in chosen]


def parser_for(argv: Sequence[str] | None) -> argparse.ArgumentParser:
    """The parser for this command line: the TUI's alone when it names no command or one of ``TUI_COMMANDS``, the
    named command's (its groups') when it names another, and asks for no help or version (``incasso --help``
    lists every command); every command's for help, for a command that does not exist and for a line the probe
    cannot read (the full parser then says what is wrong). Each parses its lines as the full one does
    (tests/e2e/test_cli_startup.py)."""
    words = list(sys.argv[1:] if argv is None else argv)
    if any(_asks_help(word) for word in words):
        return build_parser()
    probe = _Probe(add_help=False)
    common.add_common(probe, top=True)
    probe.add_argument("command", nargs="?")
    try:
        known, _rest = probe.parse_known_args(words)
    except argparse.ArgumentError:
        return build_parser()
    if known.command is None or known.command in TUI_COMMANDS:
        return build_parser(command="tui")
    return build_parser(command=known.command if known.command in COMMANDS else None)


class _Probe(argparse.ArgumentParser):
    """The top-level options and the first word that is none of them; a line it cannot read raises, silently."""

    def error(self, message: str) -> NoReturn:
        raise argparse.ArgumentError(None, message)


def _asks_help(word: str) -> bool:
    """``-h``, ``--help``, ``--version`` or an abbreviation of them (argparse takes ``--he``, ``--vers``)."""
    if word.startswith("-h") and not word.startswith("--"):
        return True
    return len(word) > 2 and ("--help".startswith(word) or "--version".startswith(word))


def _early_language(argv: Sequence[str] | None) -> str:
    """The language before the arguments are parsed (for an error in them): --lang, INCASSO_LANG, else Dutch."""
    given = list(sys.argv[1:] if argv is None else argv)
    for i, word in enumerate(given):
        if word == "--lang" and i + 1 < len(given) and given[i + 1] in ("nl", "en"):
            return given[i + 1]
        if word in ("--lang=nl", "--lang=en"):
            return word.partition("=")[2]
    import os

    return os.environ.get("INCASSO_LANG", "nl") if os.environ.get("INCASSO_LANG") in ("nl", "en") else "nl"


def opens_tui(args: argparse.Namespace) -> bool:
    """Whether the parsed command line opens the TUI (``incasso``, ``incasso tui``, ``incasso demo``)."""
    from incasso_tui.cli import tui

    return getattr(args, "func", None) in (tui.cmd_tui, tui.cmd_demo)


def main(argv: Sequence[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """Run one command. Every error a person can fix ends in one line and a non-zero exit (never a traceback): the
    typed errors (``IncassoError``), database errors, files that cannot be read or written, numbers and dates out of
    range, a schema the migrations do not know. ``parser``: one built before (the SSH session starter builds it once
    for every login; parsing does not change it)."""
    parser = parser or parser_for(argv)
    try:
        args = parser.parse_args(argv)
    except IncassoError as err:  # a type= parser (parse_id) refused an argument
        print(f"incasso: {Translator(_early_language(argv)).error(err)}", file=sys.stderr)
        return err.exit_code
    if not opens_tui(args):
        gc.enable()  # off while starting (incasso_tui.entry); the TUI's own collector takes over after its first paint
    lang = getattr(args, "lang", None)
    try:
        lang = lang or load_settings().lang
    except ConfigError:
        lang = lang or "nl"
    args.lang = lang  # sub-commands (calc) read it; the settings are loaded again with it per command
    tr = Translator(lang)
    stdout = sys.stdout
    sys.stdout = SafeStream(stdout)  # no control character of data reaches a terminal
    try:
        return int(args.func(args) or 0)
    except IncassoError as err:
        print(f"incasso: {safe(tr.error(err))}", file=sys.stderr)
        return err.exit_code
    except OSError as err:  # a file or a device: the name and the system's reason
        where = f"{err.filename}: " if getattr(err, "filename", None) else ""
        print(
            f"incasso: {safe(tr(N_('Cannot read or write {where}{error}'), where=where, error=err.strerror or str(err)))}",
            file=sys.stderr,
        )  # a file name is data: its controls made visible (stderr is no SafeStream: rich's bar)
        return 2
    except (OverflowError, decimal.InvalidOperation) as err:
        print(
            f"incasso: {safe(tr(N_('A date or an amount is out of the range this program can compute with: {error}'), error=str(err) or type(err).__name__))}",
            file=sys.stderr,
        )
        return 2
    except OperationalError as err:
        first = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
        print(f"incasso: {safe(tr(N_('The database refused: {error}'), error=first))}", file=sys.stderr)
        return 3
    except SQLAlchemyError as err:
        print(f"incasso: {safe(tr(N_('Database error: {error}'), error=str(err).splitlines()[0]))}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
    finally:
        sys.stdout = stdout
