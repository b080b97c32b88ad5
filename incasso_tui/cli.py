"""The ``incasso`` command: the TUI and the operator commands.

Every sub-command honours ``--db URL`` / ``INCASSO_DB_URL`` and ``--lang`` / ``INCASSO_LANG``. Errors a
person can fix are printed as one line (in the chosen language) with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from datetime import time as dtime
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from incasso_tui import __version__
from incasso_tui.clock import Clock, FixedClock, SystemClock
from incasso_tui.config import Settings, database_url, demo_db_url, load_settings
from incasso_tui.errors import N_, BadInput, ConfigError, IncassoError
from incasso_tui.i18n import Translator

if TYPE_CHECKING:
    from incasso_tui.domain.enums import Role
    from incasso_tui.services.context import Context
    from incasso_tui.store.db import Database

DEMO_USER = "demo"
DEMO_LOANS = 2400  # about 2,000 clients
# The sender printed on demo letters: plainly a demo (example.nl, the IBAN of the Dutch IBAN example). A real
# desk sets its own lender_* settings; outside the demo, letters are refused until it has.
DEMO_LENDER = {
    "lender_name": "Demo Kredietverlener B.V.", "lender_street": "Voorbeeldstraat 1", "lender_postcode": "1234 AB",
    "lender_city": "Voorbeeldstad", "lender_iban": "NL91ABNA0417164300", "lender_phone": "010 000 00 00",
    "lender_email": "incasso@example.nl",
}


def _common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # sub-parsers use SUPPRESS so that an option given before the sub-command is not reset by it
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--db", metavar="URL", default=default, help="database URL, or the path of an SQLite file (env INCASSO_DB_URL)")
    parser.add_argument("--lang", choices=("nl", "en"), default=default, help="language (env INCASSO_LANG; nl)")
    parser.add_argument("--user", metavar="NAME", default=default, help="act as this user (default: OS user)")
    parser.add_argument("--date", metavar="YYYY-MM-DD", default=default, help="work as of this day (default: today)")


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(N_("Not a date (YYYY-MM-DD): {text}"), text=text) from None


def build_parser() -> argparse.ArgumentParser:
    from incasso_tui import (cli_audit, cli_calc, cli_letters, cli_outside, cli_payments, cli_procedure, cli_report,
                             cli_selections, cli_ssh)

    parser = argparse.ArgumentParser(
        prog="incasso",
        description="Collections desk (Incasso & Beheer). Without a sub-command: open the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"incasso-tui {__version__}")
    _common(parser, top=True)
    parser.set_defaults(func=cmd_tui)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def add(name: str, help_: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        _common(p, top=False)
        p.set_defaults(func=func)
        return p

    add("tui", "open the TUI (the default)", cmd_tui)
    demo = add("demo", "open the TUI as the demo employee on the demo database (made if missing)", cmd_demo)
    demo.add_argument("--reset", action="store_true", help="throw the demo database away and make it anew")

    gen = add("generate", "create a deterministic loan book (demo and benchmark data)", cmd_generate)
    gen.add_argument("--loans", type=int, required=True, help="number of loans")
    gen.add_argument("--seed", type=int, default=1)

    db = add("db", "database schema", lambda a: _usage(db))
    db_sub = db.add_subparsers(title="db commands", metavar="COMMAND")
    up = db_sub.add_parser("upgrade", help="create or migrate the schema to this version")
    _common(up, top=False)
    up.set_defaults(func=cmd_db_upgrade)

    users = add("users", "users and roles", lambda a: _usage(users))
    users_sub = users.add_subparsers(title="users commands", metavar="COMMAND")
    u_add = users_sub.add_parser("add", help="add a user")
    _common(u_add, top=False)
    u_add.add_argument("name")
    u_add.add_argument("--role", required=True, help="employee, supervisor, special_management, admin, auditor")
    u_add.add_argument("--full-name", default=None)
    u_add.add_argument("--language", choices=("nl", "en"), default="nl")
    u_add.set_defaults(func=cmd_users_add)
    u_list = users_sub.add_parser("list", help="list users")
    _common(u_list, top=False)
    u_list.add_argument("--json", action="store_true")
    u_list.set_defaults(func=cmd_users_list)
    u_dis = users_sub.add_parser("disable", help="disable a user (history is kept)")
    _common(u_dis, top=False)
    u_dis.add_argument("name")
    u_dis.set_defaults(func=cmd_users_disable)

    cli_ssh.add_key_parsers(users_sub)
    cli_ssh.add_serve_parser(sub)
    cli_letters.add_letters_parser(sub)
    cli_letters.add_mail_parser(sub)
    cli_procedure.add_parsers(sub)
    cli_calc.add_parser(sub)
    cli_audit.add_parser(sub)
    cli_payments.add_parser(sub)
    cli_report.add_parser(sub)
    cli_selections.add_parsers(sub)
    cli_outside.add_parsers(sub)
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# ----- shared set-up


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(db_url=getattr(args, "db", None), lang=getattr(args, "lang", None))


def _clock(args: argparse.Namespace) -> Clock:
    given = getattr(args, "date", None)
    if given:
        return FixedClock(datetime.combine(parse_date(given), dtime(9, 0)))
    return SystemClock()


def _operator() -> str:
    return f"cli:{getpass.getuser()}"


def _context(args: argparse.Namespace, db: Database, *, operator_role: Role | None = None) -> Context:
    """The service context of a command: the ``--user`` given; otherwise, with ``operator_role``, the operator
    ``cli:<os user>`` in that role (a batch job whoever runs it), or else the OS user looked up in the users table."""
    from incasso_tui.services.context import Actor, Context
    from incasso_tui.services.users import resolve_actor

    settings = _settings(args)
    user = getattr(args, "user", None)
    if user is None and operator_role is not None:
        actor = Actor(0, _operator(), _operator(), operator_role, settings.lang)
    else:
        actor = resolve_actor(db, user or getpass.getuser())
    return Context(db=db, actor=actor, clock=_clock(args), settings=settings)


@contextmanager
def _database(settings: Settings, *, create: bool = False, check: bool = True) -> Iterator["Database"]:
    from incasso_tui.store.db import Database

    db = Database(settings.db_url, create=create)
    try:
        if check:
            db.check_schema()
        yield db
    finally:
        db.dispose()


# ----- commands


def _run_tui(settings: Settings, user: str, clock: Clock, db_url: str) -> int:
    from incasso_tui.services.context import Context
    from incasso_tui.services.users import resolve_actor
    from incasso_tui.store.db import Database

    db = Database(db_url)
    try:
        db.check_schema()
        actor = resolve_actor(db, user)
        from incasso_tui.ui.app import IncassoApp

        lang = settings.lang
        IncassoApp(Context(db=db, actor=actor, clock=clock, settings=settings), Translator(lang)).run()
    finally:
        db.dispose()
    return 0


def cmd_tui(args: argparse.Namespace) -> int:
    settings = _settings(args)
    return _run_tui(settings, getattr(args, "user", None) or getpass.getuser(), _clock(args), settings.db_url)


def cmd_demo(args: argparse.Namespace) -> int:
    from incasso_tui.store.db import sqlite_path

    settings = _settings(args)
    if settings.lender_name is None:
        settings = settings.model_copy(update=DEMO_LENDER)
    url = database_url(getattr(args, "db", None) or demo_db_url())
    path = sqlite_path(url)
    if path is not None and args.reset and path.exists():
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    if path is None or not path.exists():
        clock = _clock(args)
        print(f"incasso: demo database {url} ...", file=sys.stderr)
        _generate(url, DEMO_LOANS, 1, clock.today())
    else:
        _upgrade_demo(url)
    return _run_tui(settings, getattr(args, "user", None) or DEMO_USER, _clock(args), url)


def _upgrade_demo(url: str) -> None:
    """The demo book is the app's own: a newer version of the app migrates it rather than refusing it."""
    from incasso_tui.store.db import Database

    db = Database(url)
    try:
        db.upgrade()
    finally:
        db.dispose()


def _generate(url: str, loans: int, seed: int, as_of: date) -> dict[str, object]:
    from incasso_tui.generate import generate
    from incasso_tui.store.db import Database

    if loans < 1:
        raise BadInput(N_("The number of loans must be at least 1"))
    db = Database(url, create=True)
    try:
        db.upgrade()
        with _progress() as progress:
            report = generate(db, loans=loans, seed=seed, as_of=as_of, progress=progress)
    finally:
        db.dispose()
    return dataclasses.asdict(report)


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on a terminal; nothing when the output is not a terminal (CI, pipes)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, int] = {}
    with Progress(TextColumn("{task.description:<14}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), transient=False) as bar:

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


def cmd_generate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    started = time.perf_counter()
    report = _generate(settings.db_url, args.loans, args.seed, _clock(args).today())
    print(json.dumps({**report, "seconds": round(time.perf_counter() - started, 1)}, default=str))
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _database(settings, create=True, check=False) as db:
        db.upgrade()
        print(f"incasso: {db.display_url} is at the newest schema")
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from incasso_tui.services.users import add_user

    settings = _settings(args)
    with _database(settings) as db:
        info = add_user(db, _clock(args), _operator(), args.name, args.role, args.full_name, args.language)
    print(f"{info.name}\t{info.role}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.users import list_users

    settings = _settings(args)
    with _database(settings) as db:
        users = list_users(db)
    if args.json:
        print(json.dumps([vars(u) for u in users]))
    else:
        for u in users:
            print(f"{u.name:<16} {u.role:<20} {u.language}  {'' if u.active else 'disabled'}  {u.full_name}")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    from incasso_tui.services.users import disable_user

    settings = _settings(args)
    with _database(settings) as db:
        info = disable_user(db, _clock(args), _operator(), args.name)
    print(f"{info.name}\tdisabled")
    return 0


def main(argv: Sequence[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """The command line. ``parser``: one built before (the SSH session starter builds it once for every login;
    parsing does not change it)."""
    args = (parser or build_parser()).parse_args(argv)
    lang = getattr(args, "lang", None)
    try:
        lang = lang or load_settings().lang
    except ConfigError:
        lang = lang or "nl"
    args.lang = lang  # sub-commands (calc) read it; the settings are loaded again with it per command
    tr = Translator(lang)
    try:
        return int(args.func(args) or 0)
    except IncassoError as err:
        print(f"incasso: {tr.error(err)}", file=sys.stderr)
        return err.exit_code
    except OperationalError as err:
        first = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
        print(f"incasso: {tr(N_('The database refused: {error}'), error=first)}", file=sys.stderr)
        return 3
    except SQLAlchemyError as err:
        print(f"incasso: {tr(N_('Database error: {error}'), error=str(err).splitlines()[0])}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
