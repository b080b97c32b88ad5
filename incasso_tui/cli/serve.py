"""``incasso serve ssh`` and ``incasso serve openssh``: the TUI for remote users (the keys: ``incasso users``).

- ``incasso serve ssh [--host H] [--port P] [--host-key FILE] [--idle-timeout S] [--max-sessions N]``:
  the built-in SSH server; every login runs the TUI as its own process (docs/ssh.md).
- ``incasso serve openssh [--user NAME]``: the forced command for OpenSSH's sshd (``command="..."`` in
  authorized_keys or ``ForceCommand``): sets the session environment and opens the TUI as NAME (docs/ssh.md).

asyncssh is imported only when one of these commands runs, so the rest of the CLI starts without it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from incasso_tui.cli import common
from incasso_tui.config import data_dir
from incasso_tui.errors import N_, BadInput, ConfigError

__all__ = ["default_host_key_path", "register"]

HOST_KEY_NAME = "ssh_host_ed25519_key"


def default_host_key_path() -> Path:
    return data_dir() / HOST_KEY_NAME


def register(sub: common.Subparsers) -> None:
    serve = sub.add_parser("serve", help="serve the TUI to remote users", description="serve the TUI to remote users")
    serve.set_defaults(func=lambda _a: common.usage(serve))
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
        common.parse_date(date)
    _log_to_stderr()
    settings = common.settings(args)
    key_path = args.host_key or default_host_key_path()
    with common.database(settings) as db:
        from incasso_tui.services.identity import is_operator

        login = common.login()
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
TUI_BOOTSTRAP = "import sys\nfrom incasso_tui.entry import main\nsys.exit(main())\n"  # as the incasso command


def cmd_serve_openssh(args: argparse.Namespace) -> int:
    """One OpenSSH login: check it, set the session environment, and replace this process by the TUI."""
    from incasso_tui.services.identity import VIA_ENV, identify
    from incasso_tui.ssh.session_env import apply_session_environment

    # one OS account per employee (ForceCommand): no --user; one shared operator account: --user per key line
    user = getattr(args, "user", None)
    login = common.login()
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BadInput(N_("This service needs a terminal: connect with 'ssh -t'."))
    date = getattr(args, "date", None)
    if date:
        common.parse_date(date)
    settings = common.settings(args)
    with common.database(settings) as db:
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
