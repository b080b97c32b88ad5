"""``incasso db upgrade``: create the schema, or migrate it to this version of the program."""

from __future__ import annotations

import argparse

from incasso_tui.cli import common

__all__ = ["register"]


def register(sub: common.Subparsers) -> None:
    help_ = "database schema"
    db = sub.add_parser("db", help=help_, description=help_)
    db.set_defaults(func=lambda _a: common.usage(db))
    db_sub = db.add_subparsers(title="db commands", metavar="COMMAND")
    up = db_sub.add_parser("upgrade", help="create or migrate the schema to this version")
    up.set_defaults(func=cmd_db_upgrade)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = common.settings(args)
    with common.database(settings, create=True, check=False) as db:
        db.upgrade()
        print(f"incasso: {db.display_url} is at the newest schema")
    return 0
