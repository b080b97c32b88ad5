"""``incasso serve ssh`` and the SSH key commands ``incasso users add-key / keys / remove-key``.

- ``incasso serve ssh [--host H] [--port P] [--host-key FILE] [--idle-timeout S] [--max-sessions N]``:
  the built-in SSH server; every login runs the TUI as its own process (docs/ssh.md).
- ``incasso serve openssh [--user NAME]``: the forced command for OpenSSH's sshd (``command="..."`` in
  authorized_keys or ``ForceCommand``): sets the session environment and opens the TUI as NAME (docs/ssh.md).
- ``incasso users add-key NAME PUBKEYFILE`` (``-`` reads standard input), ``incasso users keys [NAME] [--json]``,
  ``incasso users remove-key FINGERPRINT``: operator commands, audited as ``cli:<os user>``.

asyncssh is imported only when one of these commands runs, so the rest of the CLI starts without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from incasso_tui import cli
from incasso_tui.config import data_dir
from incasso_tui.errors import N_, BadInput, ConfigError
from incasso_tui.safetext import safe

__all__ = ["add_key_parsers", "add_serve_parser", "default_host_key_path"]

HOST_KEY_NAME = "ssh_host_ed25519_key"


def default_host_key_path() -> Path:
    return data_dir() / HOST_KEY_NAME


def add_serve_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="serve the TUI to remote users", description="serve the TUI to remote users")
    serve.set_defaults(func=lambda _a: cli._usage(serve))
    serve_sub = serve.add_subparsers(title="serve commands", metavar="COMMAND")
    ssh = serve_sub.add_parser(
        "ssh",
        help="built-in SSH server: one app process per login, public keys from 'incasso users add-key'",
        description="Built-in SSH server: one app process per login; public-key logins only "
        "(register keys with 'incasso users add-key'). Logs to standard error.",
    )
    ssh.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ssh.add_argument("--port", type=int, default=2222, help="port (default 2222; 0 picks a free one, see the log)")
    ssh.add_argument(
        "--host-key",
        metavar="FILE",
        type=Path,
        default=None,
        help=f"ed25519 host key, made if missing (default: {default_host_key_path()})",
    )
    ssh.add_argument(
        "--idle-timeout",
        metavar="SECONDS",
        type=float,
        default=1800.0,
        help="close a session after this long without input (default 1800)",
    )
    ssh.add_argument("--max-sessions", metavar="N", type=int, default=40, help="sessions at the same time (default 40)")
    ssh.set_defaults(func=cmd_serve_ssh)
    openssh = serve_sub.add_parser(
        "openssh",
        help="the forced command for OpenSSH's sshd: open the TUI as --user NAME for one login",
        description='The command for sshd\'s ForceCommand or command="..." in authorized_keys: sets TERM, '
        "colour, no animations, a short escape delay and UTF-8, then opens the TUI as --user NAME "
        "(default: the OS login name) in that user's language. Needs a terminal (ssh -t). See docs/ssh.md.",
    )
    openssh.set_defaults(func=cmd_serve_openssh)


def add_key_parsers(users_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    with cli._database(cli._settings(args)) as db:
        info = add_key(db, cli._clock(args), cli._operator(), args.name, text)
    print(f"{safe(info.user)}\t{info.fingerprint}\t{safe(info.algorithm)}\t{safe(info.comment)}")
    return 0


def cmd_users_keys(args: argparse.Namespace) -> int:
    from incasso_tui.services.sshkeys import list_keys

    with cli._database(cli._settings(args)) as db:
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

    with cli._database(cli._settings(args)) as db:
        info = remove_key(db, cli._clock(args), cli._operator(), args.fingerprint)
    print(f"{safe(info.user)}\t{info.fingerprint}\tremoved")
    return 0


def _log_to_stderr() -> None:
    """The server's own events at INFO (logins, refusals, sessions); other libraries only from WARNING."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("incasso.ssh").setLevel(logging.INFO)


def cmd_serve_ssh(args: argparse.Namespace) -> int:
    from incasso_tui.ssh.server import ServerConfig, load_or_create_host_key, serve

    if not 0 <= args.port <= 65535:
        raise BadInput(N_("Not a port number: {port}"), port=str(args.port))
    if not args.idle_timeout > 0:
        raise BadInput(N_("The idle timeout must be more than 0 seconds"))
    if args.max_sessions < 1:
        raise BadInput(N_("The number of sessions must be at least 1"))
    date = getattr(args, "date", None)
    if date:
        cli.parse_date(date)
    _log_to_stderr()
    settings = cli._settings(args)
    key_path = args.host_key or default_host_key_path()
    with cli._database(settings) as db:
        from incasso_tui.services.identity import is_operator

        login = cli._login()
        if not is_operator(db, login):  # it starts each session as the key's owner: that is an operator's right
            raise ConfigError(
                N_(
                    "The SSH server runs as the OS account {login}, which is not an operator: bind it to "
                    "an admin ('incasso users add NAME --role admin --os-user {login}')"
                ),
                login=login,
            )
        host_key = load_or_create_host_key(key_path)
        config = ServerConfig(
            host=args.host,
            port=args.port,
            host_key=key_path,
            db_url=settings.db_url,
            idle_timeout=args.idle_timeout,
            max_sessions=args.max_sessions,
            date=date,
        )
        asyncio.run(serve(config, db, host_key))
    return 0


# The TUI in a fresh interpreter, so that the locale and Textual's settings (read at import) are the session's;
# isolated (python -I), so that nothing in the login's working directory (sshd: the home directory) or a
# PYTHON* variable can put other modules in its way.
TUI_BOOTSTRAP = "import sys\nfrom incasso_tui.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def cmd_serve_openssh(args: argparse.Namespace) -> int:
    """One OpenSSH login: check it, set the session environment, and replace this process by the TUI."""
    from incasso_tui.services.identity import VIA_ENV, identify
    from incasso_tui.ssh.session_env import apply_session_environment

    # one OS account per employee (ForceCommand): no --user; one shared operator account: --user per key line
    user = getattr(args, "user", None)
    login = cli._login()
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BadInput(N_("This service needs a terminal: connect with 'ssh -t'."))
    date = getattr(args, "date", None)
    if date:
        cli.parse_date(date)
    settings = cli._settings(args)
    with cli._database(settings) as db:
        # unknown, disabled or not this account's user: one line, and the login ends here
        actor = identify(db, user, login, via=f"sshd:{login}")
    env = apply_session_environment(os.environ)
    env[VIA_ENV] = actor.identified_by
    env["INCASSO_DB_URL"] = settings.db_url  # not on the command line, where `ps` would show a password
    argv = ["tui", "--user", actor.name, "--lang", actor.language if actor.language in ("nl", "en") else "nl"]
    if date:
        argv += ["--date", date]
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-I", "-c", TUI_BOOTSTRAP, *argv], env)
