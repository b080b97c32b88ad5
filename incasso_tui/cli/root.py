"""The ``incasso`` command: the parser built from the command groups, and the run of one command.

Every group module (``incasso_tui.cli.<group>``) has ``register(subparsers)``; this module calls them in the order
``incasso --help`` lists the commands, then gives every command the common options (``common.common_everywhere``:
``--db`` / ``INCASSO_DB_URL``, ``--demo``, ``--lang`` / ``INCASSO_LANG``, ``--user``, ``--date``). Errors a person can
fix are printed as one line (in the chosen language) with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import decimal
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from incasso_tui import __version__
from incasso_tui.cli import common
from incasso_tui.config import load_settings
from incasso_tui.errors import N_, ConfigError, IncassoError
from incasso_tui.i18n import Translator
from incasso_tui.safetext import SafeStream, safe

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
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
        report,
        risk,
        search,
        selections,
        serve,
        tasks,
        tui,
        users,
    )

    parser = argparse.ArgumentParser(
        prog="incasso",
        description="Collections desk (Incasso & Beheer). Without a sub-command: open the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"incasso-tui {__version__}")
    common.add_common(parser, top=True)
    parser.set_defaults(func=tui.cmd_tui)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    # a group that adds commands to another's (calc draagkracht, calc epc, letters batch, report risk, serve portal)
    # comes after it
    for register in (
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
        dispatch.register,
        budget.register,
        risk.register,  # report risk, risk
        search.register,
        outside.register,
        portal.register,  # portal, serve portal
        documents.register,
        config.register,
    ):
        register(sub)
    common.common_everywhere(parser)
    return parser


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


def main(argv: Sequence[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """Run one command. Every error a person can fix ends in one line and a non-zero exit (never a traceback): the
    typed errors (``IncassoError``), database errors, files that cannot be read or written, numbers and dates out of
    range, a schema the migrations do not know. ``parser``: one built before (the SSH session starter builds it once
    for every login; parsing does not change it)."""
    parser = parser or build_parser()
    try:
        args = parser.parse_args(argv)
    except IncassoError as err:  # a type= parser (parse_id) refused an argument
        print(f"incasso: {Translator(_early_language(argv)).error(err)}", file=sys.stderr)
        return err.exit_code
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
