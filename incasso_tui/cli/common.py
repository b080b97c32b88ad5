"""What every command of ``incasso`` shares (issue 17): the common options, the settings, the database, the service
context, the progress bar, and the parsing of dates and record numbers.

This module is public (no leading underscores) and imports no command group: each group module
(``incasso_tui.cli.<group>``) imports it, and the root (``incasso_tui.cli.root``) builds the parser from the
groups' ``register(subparsers)``. The import-linter contract "the command groups are independent" keeps it so.
Output is sanitised by :mod:`incasso_tui.safetext` (``safe``, ``safe_json``; standard output is a ``SafeStream``
while a command runs).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from datetime import time as dtime
from typing import TYPE_CHECKING, Any

from incasso_tui.clock import Clock, FixedClock, SystemClock
from incasso_tui.config import Settings, demo_db_url, load_settings
from incasso_tui.errors import N_, BadInput, ConfigError, IncassoError
from incasso_tui.i18n import Translator
from incasso_tui.safetext import safe_json

if TYPE_CHECKING:
    from typing import TypeAlias

    from incasso_tui.domain.enums import Role
    from incasso_tui.services.context import Actor, Context
    from incasso_tui.store.db import Database

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]  # a group's register() gets one

__all__ = [
    "COMMON",
    "FIRST_DAY",
    "LAST_DAY",
    "MAX_ID",
    "Update",
    "add_common",
    "add_group",
    "audit_key",
    "checkpoint_after_run",
    "clock",
    "common_everywhere",
    "commands_of",
    "common_parent",
    "context",
    "database",
    "identify",
    "leaf_parsers",
    "login",
    "operator",
    "parse_date",
    "parse_id",
    "print_json",
    "seal_checkpoint",
    "progress",
    "settings",
    "usage",
]


# ----- the common options


def add_common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """--db, --demo, --lang, --user and --date on ``parser`` (``top``: the program's own parser)."""
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


def common_parent() -> argparse.ArgumentParser:
    """The one argparse parent of the common options (for a command's parser)."""
    parent = argparse.ArgumentParser(add_help=False)
    add_common(parent, top=False)
    return parent


# the options every command takes (its `--help` lists them last)
COMMON = tuple(option for action in common_parent()._actions for option in action.option_strings)


def leaf_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every parser of a command that runs (the ones without sub-commands of their own)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield parser
    for action in subs:
        for child in dict.fromkeys(action.choices.values()):  # an alias names the same parser twice
            yield from leaf_parsers(child)


def common_everywhere(parser: argparse.ArgumentParser) -> None:
    """The common options on every command, from one parent, added once the tree of commands is built: no module
    adds them itself, so none can forget them (``incasso calc incassokosten 1000 --lang en`` was refused as an
    unrecognized argument). A command with an option of its own by one of these names keeps its own."""
    parent = common_parent()
    for leaf in leaf_parsers(parser):
        if leaf is parser:
            continue
        known = set(leaf._option_string_actions)
        for action in parent._actions:
            if not known.intersection(action.option_strings):
                leaf._add_action(action)


def usage(parser: argparse.ArgumentParser) -> int:
    """A command group run without its sub-command: its help on standard error, exit 2."""
    parser.print_help(sys.stderr)
    return 2


def add_group(sub: Subparsers, name: str, help_: str) -> Subparsers:
    """A command group ``name`` (run alone: its help) and the sub-parsers of its commands."""
    parent = sub.add_parser(name, help=help_, description=help_)
    parent.set_defaults(func=lambda _a: usage(parent))
    return parent.add_subparsers(title=f"{name} commands", metavar="COMMAND")


def commands_of(sub: Subparsers, name: str) -> Subparsers:
    """The sub-parsers of the command group ``name`` registered before (``calc``, ``report``, ``letters``, ``serve``):
    a group module adds its commands to another group's without importing that module."""
    group = sub.choices[name]
    return next(a for a in group._actions if isinstance(a, argparse._SubParsersAction))


# ----- dates and record numbers

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
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


# ----- settings, database, context


def settings(args: argparse.Namespace) -> Settings:
    """The settings in force for this command: the file, INCASSO_*, and --db / --demo / --lang."""
    db = getattr(args, "db", None)
    if getattr(args, "demo", False):
        if db:
            raise BadInput(N_("Give --db or --demo, not both"), field="db")
        db = demo_db_url()
    return load_settings(db_url=db, lang=getattr(args, "lang", None))


def clock(args: argparse.Namespace) -> Clock:
    """The day of --date (at 09:00), else the system clock."""
    given = getattr(args, "date", None)
    if given:
        return FixedClock(datetime.combine(parse_date(given), dtime(9, 0)))
    return SystemClock()


def login() -> str:
    """The real OS account, not $USER (which anyone can set)."""
    from incasso_tui.services.identity import os_login

    return os_login()


def operator() -> str:
    """The operator a batch command acts as: ``cli:<os user>``."""
    return f"cli:{login()}"


def identify(db: Database, user: str | None) -> Actor:
    """The desk user for ``--user`` (None: the OS account's own), bound to the OS account (services.identity)."""
    import os

    from incasso_tui.services.identity import VIA_ENV
    from incasso_tui.services.identity import identify as identify_user

    return identify_user(db, user, login(), via=os.environ.get(VIA_ENV))


def context(args: argparse.Namespace, db: Database, *, operator_role: Role | None = None) -> Context:
    """The service context of a command: the ``--user`` given; otherwise, with ``operator_role``, the operator
    ``cli:<os user>`` in that role (a batch job whoever runs it), or else the OS user looked up in the users table."""
    from incasso_tui.services.context import Actor, Context

    in_force = settings(args)
    user = getattr(args, "user", None)
    if user is None and operator_role is not None:
        actor = Actor(0, operator(), operator(), operator_role, in_force.lang, identified_by=operator())
    else:
        actor = identify(db, user)
    return Context(db=db, actor=actor, clock=clock(args), settings=in_force)


def audit_key(in_force: Settings) -> bytes | None:
    """The audit key of these settings (None: the trail is not keyed); a key file others can read is refused."""
    from incasso_tui.services.audit_seal import load_key

    return load_key(in_force)


@contextmanager
def database(in_force: Settings, *, create: bool = False, check: bool = True) -> Iterator[Database]:
    """The database of these settings, its schema checked (``check``), disposed of at the end."""
    from incasso_tui.store.db import Database

    db = Database(in_force.db_url, create=create, audit_key=audit_key(in_force))
    try:
        if check:
            db.check_schema()
        yield db
    finally:
        db.dispose()


# ----- the audit checkpoint (incasso audit checkpoint, and after the daily run)


def seal_checkpoint(args: argparse.Namespace, *, mail: bool) -> tuple[Any, dict[str, Any]]:
    """Write a checkpoint of the database of ``args``; mail it when configured. Returns it and what happened."""
    from incasso_tui.services.audit_seal import write_checkpoint

    in_force = settings(args)
    key = audit_key(in_force)
    if key is None:
        raise ConfigError(
            N_("There is no audit key at {path}: make one with 'incasso audit init-key'"),
            path=str(in_force.audit_key_file),
        )
    with database(in_force) as db:
        signed = write_checkpoint(db, in_force, key, datetime.now().astimezone())
    return signed, {
        "seq": signed.seq,
        "head": signed.head,
        "at": signed.at,
        "file": str(in_force.audit_checkpoint_file),
        "mailed_to": _mail_checkpoint(in_force, signed) if mail else None,
    }


def _mail_checkpoint(in_force: Settings, signed: Any) -> str | None:
    """Mail a checkpoint to the auditor; a failure is said on stderr (the checkpoint is in the file regardless)."""
    from incasso_tui.mail.smtp import MailFailure
    from incasso_tui.services.audit_seal import mail_checkpoint

    if not in_force.audit_checkpoint_email:
        return None
    tr = Translator(in_force.lang)
    try:
        mail_checkpoint(in_force, signed)
    except IncassoError as err:
        print(
            f"incasso: {tr(N_('The checkpoint was not mailed to {to}: {error}'), to=in_force.audit_checkpoint_email, error=tr.error(err))}",
            file=sys.stderr,
        )
        return None
    except MailFailure as err:
        print(
            f"incasso: {tr(N_('The checkpoint was not mailed to {to}: {error}'), to=in_force.audit_checkpoint_email, error=str(err))}",
            file=sys.stderr,
        )
        return None
    return str(in_force.audit_checkpoint_email)


def checkpoint_after_run(args: argparse.Namespace) -> dict[str, Any] | None:
    """The daily run's checkpoint (after its transaction): None, said on stderr, when there is no audit key."""
    in_force = settings(args)
    if audit_key(in_force) is None:
        tr = Translator(in_force.lang)
        print(
            f"incasso: {tr(N_('No audit key: no checkpoint was written (make a key with incasso audit init-key)'))}",
            file=sys.stderr,
        )
        return None
    return seal_checkpoint(args, mail=True)[1]


# ----- output


def print_json(value: Any) -> None:
    """``value`` as one line of JSON on standard output, its texts made safe (safetext.safe_json)."""
    print(safe_json(value))


Update = Callable[[str, int, int], None]  # (phase or step, done, total)


@contextmanager
def progress(*, steps: bool = False) -> Iterator[Update | None]:
    """The one progress bar of the command line (rich's), on standard error when it is a terminal; nothing when it
    is not (CI, pipes, cron). It yields ``update(phase, done, total)``: a bar per phase (the generator's phases), or
    with ``steps`` one bar whose label is the step in progress (the daily run's steps, a campaign's members)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),  # standard output is the command's result (JSON, a CSV); a bar never mixes in
        transient=False,
    ) as bar:

        def update(phase: str, done: int, total: int) -> None:
            key = "" if steps else phase
            if key not in tasks:
                tasks[key] = bar.add_task(phase, total=total)
            bar.update(tasks[key], completed=done, total=total, description=phase)

        yield update
