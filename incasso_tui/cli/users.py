"""``incasso users ...``: the desk's users, their roles and OS accounts, and their SSH keys.

- ``incasso users add NAME --role ROLE [--full-name N] [--language nl|en] [--os-user LOGIN]``, ``users bind NAME
  [LOGIN]``, ``users list [--json]``, ``users disable NAME``: audited as the operator ``cli:<os user>``.
- ``incasso users add-key NAME PUBKEYFILE`` (``-`` reads standard input), ``incasso users keys [NAME] [--json]``,
  ``incasso users remove-key FINGERPRINT``: the keys that log in to ``incasso serve ssh``, audited the same way.
"""

from __future__ import annotations

import argparse
import json
import sys

from incasso_tui.cli import common
from incasso_tui.errors import N_, BadInput
from incasso_tui.safetext import safe

__all__ = ["register"]


def register(sub: common.Subparsers) -> None:
    help_ = "users and roles"
    users = sub.add_parser("users", help=help_, description=help_)
    users.set_defaults(func=lambda _a: common.usage(users))
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
    _add_key_parsers(users_sub)


def cmd_users_add(args: argparse.Namespace) -> int:
    from incasso_tui.services.users import add_user

    settings = common.settings(args)
    with common.database(settings) as db:
        info = add_user(
            db, common.clock(args), common.operator(), args.name, args.role, args.full_name, args.language, args.os_user
        )
    print(f"{safe(info.name)}\t{info.role}")
    return 0


def cmd_users_bind(args: argparse.Namespace) -> int:
    from incasso_tui.services.users import bind_user

    settings = common.settings(args)
    with common.database(settings) as db:
        info = bind_user(db, common.clock(args), common.operator(), args.name, args.os_user)
    print(f"{safe(info.name)}\t{safe(info.os_user or '-')}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from incasso_tui.services.users import list_users

    settings = common.settings(args)
    with common.database(settings) as db:
        users = list_users(db)
    if args.json:
        common.print_json([vars(u) for u in users])
    else:
        for u in users:
            print(
                f"{safe(u.name):<16} {u.role:<20} {u.language}  {safe(u.os_user or '-'):<12} "
                f"{'' if u.active else 'disabled'}  {safe(u.full_name)}"
            )
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    from incasso_tui.services.users import disable_user

    settings = common.settings(args)
    with common.database(settings) as db:
        info = disable_user(db, common.clock(args), common.operator(), args.name)
    print(f"{safe(info.name)}\tdisabled")
    return 0


# ----- SSH keys (incasso serve ssh)


def _add_key_parsers(users_sub: common.Subparsers) -> None:
    add = users_sub.add_parser("add-key", help="let a user log in to 'incasso serve ssh' with a public key")
    add.add_argument("name")
    add.add_argument("pubkeyfile", metavar="PUBKEYFILE", help="the public key (.pub file); - reads standard input")
    add.set_defaults(func=cmd_users_add_key)
    keys = users_sub.add_parser("keys", help="list the SSH keys (of one user)")
    keys.add_argument("name", nargs="?", default=None)
    keys.add_argument("--json", action="store_true")
    keys.set_defaults(func=cmd_users_keys)
    remove = users_sub.add_parser("remove-key", help="remove an SSH key by its fingerprint (SHA256:...)")
    remove.add_argument("fingerprint")
    remove.set_defaults(func=cmd_users_remove_key)


def _read_key_file(name: str) -> str:
    if name == "-":
        return sys.stdin.read(65536)
    try:
        with open(name, encoding="utf-8", errors="replace") as fh:
            return fh.read(65536)
    except OSError as exc:
        raise BadInput(N_("Cannot read {path}: {error}"), path=name, error=exc.strerror or str(exc)) from None


def cmd_users_add_key(args: argparse.Namespace) -> int:
    from incasso_tui.services.sshkeys import add_key

    text = _read_key_file(args.pubkeyfile)
    with common.database(common.settings(args)) as db:
        info = add_key(db, common.clock(args), common.operator(), args.name, text)
    print(f"{safe(info.user)}\t{info.fingerprint}\t{safe(info.algorithm)}\t{safe(info.comment)}")
    return 0


def cmd_users_keys(args: argparse.Namespace) -> int:
    from incasso_tui.services.sshkeys import list_keys

    with common.database(common.settings(args)) as db:
        keys = list_keys(db, args.name)
    if args.json:
        print(json.dumps([{**vars(k), "added_at": k.added_at.isoformat()} for k in keys]))
    else:
        for k in keys:
            print(
                f"{safe(k.user):<16} {k.fingerprint:<51} {safe(k.algorithm):<20} {k.added_at:%Y-%m-%d}  {safe(k.comment)}"
            )
    return 0


def cmd_users_remove_key(args: argparse.Namespace) -> int:
    from incasso_tui.services.sshkeys import remove_key

    with common.database(common.settings(args)) as db:
        info = remove_key(db, common.clock(args), common.operator(), args.fingerprint)
    print(f"{safe(info.user)}\t{info.fingerprint}\tremoved")
    return 0
