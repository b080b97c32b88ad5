"""The ``incasso`` command: the TUI and the operator commands.

Every sub-command honours ``--db URL`` / ``INCASSO_DB_URL`` and ``--lang`` / ``INCASSO_LANG``. Errors a
person can fix are printed as one line (in the chosen language) with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import decimal
import json
import re
import sys
import time
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
from incasso_tui.safetext import SafeStream, safe, safe_json

if TYPE_CHECKING:
    from incasso_tui.domain.enums import Role
    from incasso_tui.services.context import Actor, Context
    from incasso_tui.store.db import Database

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DEMO_USER = "demo"
DEMO_LOANS = 2400  # about 2,000 clients
# The sender printed on demo letters: plainly a demo (example.nl, the IBAN of the Dutch IBAN example). A real
# desk sets its own lender_* settings; outside the demo, letters are refused until it has.
DEMO_LENDER = {
    "lender_name": "Demo Kredietverlener B.V.",
    "lender_street": "Voorbeeldstraat 1",
    "lender_postcode": "1234 AB",
    "lender_city": "Voorbeeldstad",
    "lender_iban": "NL91ABNA0417164300",
    "lender_phone": "010 000 00 00",
    "lender_email": "incasso@example.nl",
}


def _common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # sub-parsers use SUPPRESS so that an option given before the sub-command is not reset by it
    default = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--db", metavar="URL", default=default, help="database URL, or the path of an SQLite file (env INCASSO_DB_URL)"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        default=default,
        help="use the demo book that 'incasso demo' made (instead of --db)",
    )
    parser.add_argument("--lang", choices=("nl", "en"), default=default, help="language (env INCASSO_LANG; nl)")
    parser.add_argument("--user", metavar="NAME", default=default, help="act as this user (default: OS user)")
    parser.add_argument("--date", metavar="YYYY-MM-DD", default=default, help="work as of this day (default: today)")


# The days the desk works with (issue 16): a loan book, a statement, a calculation. Beyond them date arithmetic (a
# term of 14 days, a year of interest) leaves what Python and the databases hold (9999-12-31 + 1 day is an error).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
# ids are INTEGER columns: beyond this the database refuses the number itself (PostgreSQL: "out of range")
MAX_ID = 2**31 - 1


def parse_date(text: str, field: str | None = None) -> date:
    """A date as YYYY-MM-DD between FIRST_DAY and LAST_DAY; anything else is refused in one line."""
    try:
        day = date.fromisoformat(text) if _ISO_DATE.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise BadInput(N_("Not a date (YYYY-MM-DD): {text}"), field=field, text=text)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadInput(
            N_("The date {text} is outside the days this program works with ({first} to {last})"),
            field=field,
            text=text,
            first=FIRST_DAY.isoformat(),
            last=LAST_DAY.isoformat(),
        )
    return day


def parse_id(text: str) -> int:
    """A record number (case, campaign, ...): a whole number from 1 to MAX_ID (argparse ``type=``)."""
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 12:
        number = None
    else:
        number = int(cleaned)
    if number is None or not 1 <= number <= MAX_ID:
        raise BadInput(N_("Not a record number (1 to {max}): {text}"), text=text[:40], max=MAX_ID)
    return number


def build_parser() -> argparse.ArgumentParser:
    from incasso_tui import (
        cli_audit,
        cli_budget,
        cli_calc,
        cli_dispatch,
        cli_letters,
        cli_outside,
        cli_payments,
        cli_portal,
        cli_procedure,
        cli_report,
        cli_risk,
        cli_search,
        cli_selections,
        cli_ssh,
        cli_tasks,
    )

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
    up.set_defaults(func=cmd_db_upgrade)

    users = add("users", "users and roles", lambda a: _usage(users))
    users_sub = users.add_subparsers(title="users commands", metavar="COMMAND")
    u_add = users_sub.add_parser("add", help="add a user")
    u_add.add_argument("name")
    u_add.add_argument(
        "--role", required=True, help="employee, supervisor, special_management, admin, auditor, adviser"
    )
    u_add.add_argument("--full-name", default=None)
    u_add.add_argument("--language", choices=("nl", "en"), default="nl")
    u_add.add_argument(
        "--os-user",
        metavar="LOGIN",
        default=None,
        help="the OS account this user works as locally (default: the account of the same name)",
    )
    u_add.set_defaults(func=cmd_users_add)
    u_bind = users_sub.add_parser("bind", help="bind a user to the OS account they work as locally")
    u_bind.add_argument("name")
    u_bind.add_argument("os_user", metavar="LOGIN", nargs="?", default=None, help="the OS account (none: unbind)")
    u_bind.set_defaults(func=cmd_users_bind)
    u_list = users_sub.add_parser("list", help="list users")
    u_list.add_argument("--json", action="store_true")
    u_list.set_defaults(func=cmd_users_list)
    u_dis = users_sub.add_parser("disable", help="disable a user (history is kept)")
    u_dis.add_argument("name")
    u_dis.set_defaults(func=cmd_users_disable)

    cli_ssh.add_key_parsers(users_sub)
    cli_ssh.add_serve_parser(sub)
    cli_letters.add_letters_parser(sub)
    cli_letters.add_mail_parser(sub)
    cli_procedure.add_parsers(sub)
    cli_calc.add_parser(sub)
    from incasso_tui import cli_epc  # issue 21: calc epc

    cli_epc.add_parsers(sub)
    cli_audit.add_parser(sub)
    cli_payments.add_parser(sub)
    cli_report.add_parser(sub)
    cli_selections.add_parsers(sub)
    cli_tasks.add_parsers(sub)
    cli_dispatch.add_parsers(sub)
    cli_budget.add_parsers(sub)
    cli_risk.add_parsers(sub)  # after cli_report: `report risk` is one of its reports
    cli_search.add_parser(sub)
    cli_outside.add_parsers(sub)
    cli_portal.add_parsers(sub)  # after cli_ssh: `serve portal`
    from incasso_tui import cli_documents  # issues 12 and 19: a dossier document seen whole, copied to print

    cli_documents.add_parsers(sub)
    config = sub.add_parser("config", help="the settings: where the file is, and what is in force")
    config_sub = config.add_subparsers(dest="config_cmd", required=True)
    c_path = config_sub.add_parser("path", help="print the path of the config file (INCASSO_CONFIG or the default)")
    c_path.add_argument("--json", action="store_true", help="print JSON")
    c_path.set_defaults(func=cmd_config_path)
    c_show = config_sub.add_parser(
        "show", help="print every setting in force (file, INCASSO_* environment, options); passwords masked"
    )
    c_show.add_argument("--json", action="store_true", help="print JSON")
    c_show.set_defaults(func=cmd_config_show)
    _common_everywhere(parser)
    return parser


def cmd_config_path(args: argparse.Namespace) -> int:
    from incasso_tui.config import config_path

    path = config_path()
    print(safe_json({"path": str(path), "exists": path.is_file()}) if args.json else str(path))
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    """Every setting in force; a secret is shown as ``********`` (set) or null (not set), never its value."""
    from pydantic import SecretStr
    from sqlalchemy.engine import make_url

    settings = _settings(args)
    shown: dict[str, object] = settings.model_dump(mode="json")  # paths, amounts and lists as JSON gives them
    for name in shown:
        if isinstance(getattr(settings, name), SecretStr):
            shown[name] = "********"
    shown["db_url"] = make_url(settings.db_url).render_as_string(hide_password=True)  # a PostgreSQL password: ***
    if args.json:
        print(safe_json(shown))
    else:
        for name, value in shown.items():
            print(f"{name} = {safe(str(value)) if value is not None else '-'}")
    return 0


def leaf_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every parser of a command that runs (the ones without sub-commands of their own)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield parser
    for action in subs:
        for child in dict.fromkeys(action.choices.values()):  # an alias names the same parser twice
            yield from leaf_parsers(child)


def _common_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    _common(parent, top=False)
    return parent


# the options every command takes (its `--help` lists them last)
COMMON = tuple(option for action in _common_parent()._actions for option in action.option_strings)


def _common_everywhere(parser: argparse.ArgumentParser) -> None:
    """The common options on every command, from one parent, added once the tree of commands is built: no module
    adds them itself, so none can forget them (``incasso calc incassokosten 1000 --lang en`` was refused as an
    unrecognized argument). A command with an option of its own by one of these names keeps its own."""
    parent = _common_parent()
    for leaf in leaf_parsers(parser):
        if leaf is parser:
            continue
        known = set(leaf._option_string_actions)
        for action in parent._actions:
            if not known.intersection(action.option_strings):
                leaf._add_action(action)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# ----- shared set-up


def _settings(args: argparse.Namespace) -> Settings:
    db = getattr(args, "db", None)
    if getattr(args, "demo", False):
        if db:
            raise BadInput(N_("Give --db or --demo, not both"), field="db")
        db = demo_db_url()
    return load_settings(db_url=db, lang=getattr(args, "lang", None))


def _clock(args: argparse.Namespace) -> Clock:
    given = getattr(args, "date", None)
    if given:
        return FixedClock(datetime.combine(parse_date(given), dtime(9, 0)))
    return SystemClock()


def _login() -> str:
    from incasso_tui.services.identity import os_login

    return os_login()  # the real OS account, not $USER (which anyone can set)


def _operator() -> str:
    return f"cli:{_login()}"


def _identify(db: Database, user: str | None) -> Actor:
    """The desk user for ``--user`` (None: the OS account's own), bound to the OS account (services.identity)."""
    import os

    from incasso_tui.services.identity import VIA_ENV, identify

    return identify(db, user, _login(), via=os.environ.get(VIA_ENV))


def _context(args: argparse.Namespace, db: Database, *, operator_role: Role | None = None) -> Context:
    """The service context of a command: the ``--user`` given; otherwise, with ``operator_role``, the operator
    ``cli:<os user>`` in that role (a batch job whoever runs it), or else the OS user looked up in the users table."""
    from incasso_tui.services.context import Actor, Context

    settings = _settings(args)
    user = getattr(args, "user", None)
    if user is None and operator_role is not None:
        actor = Actor(0, _operator(), _operator(), operator_role, settings.lang, identified_by=_operator())
    else:
        actor = _identify(db, user)
    return Context(db=db, actor=actor, clock=_clock(args), settings=settings)


def audit_key(settings: Settings) -> bytes | None:
    """The audit key of these settings (None: the trail is not keyed); a key file others can read is refused."""
    from incasso_tui.services.audit_seal import load_key

    return load_key(settings)


@contextmanager
def _database(settings: Settings, *, create: bool = False, check: bool = True) -> Iterator[Database]:
    from incasso_tui.store.db import Database

    db = Database(settings.db_url, create=create, audit_key=audit_key(settings))
    try:
        if check:
            db.check_schema()
        yield db
    finally:
        db.dispose()


# ----- commands


def _run_tui(settings: Settings, user: str | None, clock: Clock, db_url: str, *, demo: bool = False) -> int:
    """The TUI as ``user`` (None: the OS account's own desk user), bound to the OS account; on the demo book
    (``demo``) as whichever demo user is asked for."""
    from dataclasses import replace

    from incasso_tui.services.context import Context
    from incasso_tui.services.users import resolve_actor
    from incasso_tui.store.db import Database

    db = Database(db_url, audit_key=audit_key(settings))
    try:
        db.check_schema()
        if demo:
            actor = replace(resolve_actor(db, user or DEMO_USER), identified_by="demo")
        else:
            actor = _identify(db, user)
        require_terminal()  # after the database and the user: a mistake there is said first
        from incasso_tui.ui.app import IncassoApp

        lang = settings.lang
        app = IncassoApp(Context(db=db, actor=actor, clock=clock, settings=settings), Translator(lang))
        app.run()
    finally:
        db.dispose()
    return app.return_code or 0  # 1 when the app ended on an unhandled error: a crash is never a success


def require_terminal() -> None:
    """The TUI draws on a terminal and reads keys from it: without one (a pipe, cron, ssh without -t) it would wait
    forever, so it refuses at once."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BadInput(
            N_(
                "The TUI needs a terminal (standard input and output are not one); the other commands "
                "work without: see 'incasso --help'"
            )
        )


def cmd_tui(args: argparse.Namespace) -> int:
    settings = _settings(args)
    return _run_tui(settings, getattr(args, "user", None), _clock(args), settings.db_url)


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
        _generate(url, DEMO_LOANS, 1, clock.today(), audit_key(settings))
    else:
        _upgrade_demo(url)
    # the demo book is the app's own playground (its default file): any demo user; another database: bound as always
    own_book = getattr(args, "db", None) is None
    return _run_tui(
        settings, getattr(args, "user", None) or (DEMO_USER if own_book else None), _clock(args), url, demo=own_book
    )


def _upgrade_demo(url: str) -> None:
    """The demo book is the app's own: a newer version of the app migrates it rather than refusing it."""
    from incasso_tui.store.db import Database

    db = Database(url)
    try:
        db.upgrade()
    finally:
        db.dispose()


def _generate(url: str, loans: int, seed: int, as_of: date, key: bytes | None = None) -> dict[str, object]:
    from incasso_tui.demo.generate import generate
    from incasso_tui.store.db import Database

    if loans < 1:
        raise BadInput(N_("The number of loans must be at least 1"))
    db = Database(url, create=True, audit_key=key)
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
    with Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        transient=False,
    ) as bar:

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


def cmd_generate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    started = time.perf_counter()
    report = _generate(settings.db_url, args.loans, args.seed, _clock(args).today(), audit_key(settings))
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
        info = add_user(
            db, _clock(args), _operator(), args.name, args.role, args.full_name, args.language, args.os_user
        )
    print(f"{safe(info.name)}\t{info.role}")
    return 0


def cmd_users_bind(args: argparse.Namespace) -> int:
    from incasso_tui.services.users import bind_user

    settings = _settings(args)
    with _database(settings) as db:
        info = bind_user(db, _clock(args), _operator(), args.name, args.os_user)
    print(f"{safe(info.name)}\t{safe(info.os_user or '-')}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.users import list_users

    settings = _settings(args)
    with _database(settings) as db:
        users = list_users(db)
    if args.json:
        print(safe_json([vars(u) for u in users]))
    else:
        for u in users:
            print(
                f"{safe(u.name):<16} {u.role:<20} {u.language}  {safe(u.os_user or '-'):<12} "
                f"{'' if u.active else 'disabled'}  {safe(u.full_name)}"
            )
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    from incasso_tui.services.users import disable_user

    settings = _settings(args)
    with _database(settings) as db:
        info = disable_user(db, _clock(args), _operator(), args.name)
    print(f"{safe(info.name)}\tdisabled")
    return 0


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
    sys.stdout = SafeStream(stdout)  # type: ignore[assignment]  # no control character of data reaches a terminal
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


if __name__ == "__main__":
    sys.exit(main())
