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

__all__ = ["TUI_COMMANDS", "build_parser", "main", "parser_for"]


# The commands of the ``tui`` group (``register`` below): the only ones ``incasso`` and ``incasso demo`` need
TUI_COMMANDS = ("tui", "demo", "generate")


def build_parser(*, tui_only: bool = False) -> argparse.ArgumentParser:
    """The parser of every command; ``tui_only``: of the TUI's commands only (``TUI_COMMANDS``, and no command at
    all), for a command line that names no other (``parser_for``): it imports none of the other groups' modules
    (and the services and the domain modules they use) and builds 3 sub-parsers instead of about 120."""
    from incasso_tui.cli import tui

    parser = argparse.ArgumentParser(
        prog="incasso",
        description="Collections desk (Incasso & Beheer). Without a sub-command: open the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"incasso-tui {__version__}")
    common.add_common(parser, top=True)
    parser.set_defaults(func=tui.cmd_tui)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in (tui.register,) if tui_only else _registers():
        register(sub)
    common.common_everywhere(parser)
    return parser


def _registers() -> tuple[Callable[[common.Subparsers], None], ...]:
    """Every group's ``register``, in the order ``incasso --help`` lists the commands."""
    from incasso_tui.cli import (
        audit,
        bkr,
        budget,
        calc,
        config,
        db,
        dispatch,
        documents,
        epc,
        letters,
        outside,
        payments,
        portal,
        procedure,
        proposals,
        report,
        risk,
        search,
        selections,
        serve,
        tasks,
        tui,
        users,
    )

    # a group that adds commands to another's (calc draagkracht, calc epc, letters batch, report risk, serve portal)
    # comes after it
    return (
        tui.register,  # tui, demo, generate
        db.register,
        users.register,  # users and their SSH keys
        serve.register,  # serve ssh, serve openssh
        letters.register,  # letters, mail
        dispatch.register_letters,  # letters batch, posted, undo-batch, batches, waiting
        procedure.register,
        bkr.register,
        calc.register,
        budget.register_calc,  # calc draagkracht (issue 15)
        epc.register,  # calc epc (issue 21)
        audit.register,
        payments.register,
        report.register,
        selections.register,  # selections, campaigns
        tasks.register,
        proposals.register,  # the approvals queue and its four-eyes decisions
        dispatch.register,
        budget.register,
        risk.register,  # report risk, risk
        search.register,
        outside.register,
        portal.register,  # portal, serve portal
        documents.register,
        config.register,
    )


def parser_for(argv: Sequence[str] | None) -> argparse.ArgumentParser:
    """The parser for this command line: the TUI's alone (``build_parser(tui_only=True)``) when it names no
    command or one of ``TUI_COMMANDS`` and asks for no help or version (``incasso --help`` lists every command);
    every command's otherwise, also for a line the probe cannot read (the full parser then says what is wrong).
    Both parse such a line alike (tests/e2e/test_cli_startup.py)."""
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
    return build_parser(tui_only=known.command is None or known.command in TUI_COMMANDS)


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
