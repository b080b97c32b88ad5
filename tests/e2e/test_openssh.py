"""The OpenSSH route: the system's sshd runs ``incasso serve openssh`` as the forced command (docs/ssh.md).

Each test module starts its own sshd on a free port of 127.0.0.1 (``/usr/sbin/sshd -D -e -f <config> -p N``)
with its own host key and an AuthorizedKeysFile in the test's temporary directory, and logs in with the real
``ssh`` client in tmux. The OS account logged in to is the one running the tests (an unprivileged sshd can
only serve its own user). When that is root, the configuration allows root for forced commands only
(``PermitRootLogin forced-commands-only``; for the ``ForceCommand`` route ``prohibit-password`` inside the
``Match`` block, because sshd counts only authorized_keys ``command=`` as forced for that setting), and sshd
needs its privilege-separation directory ``/run/sshd``, which is made here as the ssh service would at boot.

Two routes, the same result:
- ``command="incasso serve openssh --user NAME",restrict,pty`` per key in authorized_keys (one shared OS
  account; the key decides the desk user);
- ``ForceCommand incasso serve openssh --user NAME`` in a ``Match User`` block (keys listed plainly).
"""

from __future__ import annotations

import getpass
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.terminal import Terminal, command_line, descendants, environment, keygen, wait_for

SSHD = Path("/usr/sbin/sshd")
INCASSO = str(Path(sys.executable).with_name("incasso"))
AS_OF = "2026-11-23"
WORKLIST = r"1 van \d+ dossiers"
CLIENT_TERM = "xterm-256color"

pytestmark = [
    pytest.mark.skipif(not SSHD.exists(), reason=f"{SSHD} is missing: apt-get install openssh-server"),
    pytest.mark.skipif(
        any(shutil.which(tool) is None for tool in ("ssh", "ssh-keygen", "tmux")),
        reason="needs ssh, ssh-keygen and tmux",
    ),
]


@dataclass
class Sshd:
    proc: subprocess.Popen[bytes]
    log: Path
    port: int
    keys: dict[str, Path]
    route: str

    def ssh(self, user: str, *options: str) -> list[str]:
        """The client command line, logging in with ``user``'s key; the client's TERM and COLORTERM are set
        and sent, and so is a locale that is not UTF-8 (the session must not use it)."""
        return [
            "env",
            f"TERM={CLIENT_TERM}",
            "COLORTERM=truecolor",
            "LC_ALL=POSIX",
            "ssh",
            "-F",
            "/dev/null",
            "-i",
            str(self.keys[user]),
            "-o",
            "IdentitiesOnly=yes",
            "-p",
            str(self.port),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "SendEnv=COLORTERM LC_ALL",
            *options,
            f"{getpass.getuser()}@127.0.0.1",
        ]

    def apps(self) -> list[int]:
        """The app processes (the TUI) below this sshd."""
        return [p for p in descendants(self.proc.pid) if _app_arguments(p)[:1] == ["tui"]]


def _app_arguments(pid: int) -> list[str]:
    """The ``incasso`` arguments of an app process (``python -I -c BOOTSTRAP ARGS...``); [] for other processes."""
    argv = command_line(pid)
    return argv[argv.index("-c") + 2 :] if argv[1:3] == ["-I", "-c"] else []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _forced(root: Path, book: Path, user: str) -> str:
    """The forced command: the real ``incasso serve openssh`` on the test book, with no config file of its own,
    started in a directory with a ``textual.py`` that the app must not import (it runs isolated)."""
    poisoned = root / "cwd"
    poisoned.mkdir(exist_ok=True)
    (poisoned / "textual.py").write_text('raise SystemExit("textual.py was imported from the working directory")\n')
    return f"cd {shlex.quote(str(poisoned))} && " + shlex.join(
        [
            "env",
            f"INCASSO_CONFIG={root / 'none.toml'}",
            f"XDG_DATA_HOME={root / 'data'}",
            INCASSO,
            "serve",
            "openssh",
            "--user",
            user,
            "--db",
            f"sqlite:///{book}",
            "--date",
            AS_OF,
        ]
    )


def _config(root: Path, route: str, book: Path) -> str:
    me = getpass.getuser()
    lines = [
        "ListenAddress 127.0.0.1",
        f"HostKey {keygen(root / 'host_key')}",
        "PidFile none",
        f"AuthorizedKeysFile {root / 'authorized_keys'}",
        "AuthenticationMethods publickey",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",  # the key file lives under /tmp, which is world-writable
        "PermitRootLogin forced-commands-only",
        "DisableForwarding yes",
        "PrintMotd no",
        "PrintLastLog no",
        "AcceptEnv COLORTERM LANG LC_*",
    ]
    if route == "ForceCommand":
        lines += [
            f"Match User {me}",
            "    PermitRootLogin prohibit-password",
            f"    ForceCommand {_forced(root, book, 'demo')}",
        ]
    return "\n".join(lines) + "\n"


def _authorized_keys(root: Path, route: str, book: Path, keys: dict[str, Path]) -> str:
    if route == "ForceCommand":
        return "".join(f"{k.with_suffix('.pub').read_text().strip()}\n" for k in keys.values())
    return "".join(
        f'command="{_forced(root, book, user)}",restrict,pty {key.with_suffix(".pub").read_text().strip()}\n'
        for user, key in keys.items()
    )


@pytest.fixture(scope="module", params=["authorized_keys", "ForceCommand"])
def sshd(
    request: pytest.FixtureRequest, sqlite_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sshd]:
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
    route = request.param
    root = tmp_path_factory.mktemp(f"openssh-{route}")
    book = root / "book.db"
    shutil.copy(sqlite_template, book)
    keys = {user: keygen(root / f"{user}_key") for user in ("demo", "jansen")}
    (root / "authorized_keys").write_text(_authorized_keys(root, route, book, keys))
    (root / "sshd_config").write_text(_config(root, route, book))
    log = root / "sshd.log"
    port = _free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(root / "sshd_config"), "-p", str(port)],
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_for(lambda: "Server listening" in log.read_text() or proc.poll() is not None, 10, "sshd to listen")
        assert proc.poll() is None, log.read_text()
        yield Sshd(proc, log, port, keys, route)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture
def terminals(tmp_path: Path, sshd: Sshd) -> Iterator:  # type: ignore[type-arg]
    """``open(command)``: a tmux terminal; at the end the clients go and no app may be left behind."""
    opened: list[Terminal] = []

    def open_(command: list[str], size: tuple[int, int] = (100, 30)) -> Terminal:
        opened.append(Terminal(f"incasso-openssh-{tmp_path.name}-{len(opened)}", command, size))
        return opened[-1]

    yield open_
    for term in opened:
        term.close()
    wait_for(lambda: sshd.apps() == [], 10, "the app processes to end with their clients")


def test_login_opens_the_worklist_as_the_keys_user_with_the_session_environment(sshd: Sshd, terminals) -> None:  # type: ignore[no-untyped-def]
    # authorized_keys: jansen's key opens the desk as jansen; ForceCommand: every key opens it as demo
    user, shown = ("demo", "Demo Medewerker (demo)") if sshd.route == "ForceCommand" else ("jansen", "(jansen)")
    term = terminals(sshd.ssh("jansen", "-tt"))
    screen = term.wait(WORKLIST)
    assert shown in screen
    (app,) = sshd.apps()
    assert _app_arguments(app) == ["tui", "--user", user, "--lang", "nl", "--date", AS_OF]
    env = environment(app)
    assert {k: env.get(k) for k in ("TERM", "COLORTERM", "TEXTUAL_ANIMATIONS", "ESCDELAY", "LANG", "LC_ALL")} == {
        "TERM": CLIENT_TERM,
        "COLORTERM": "truecolor",
        "TEXTUAL_ANIMATIONS": "none",
        "ESCDELAY": "25",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    assert env["INCASSO_DB_URL"].startswith("sqlite:///") and "--db" not in command_line(app)
    assert re.search(rf"Accepted publickey for {re.escape(getpass.getuser())} from 127\.0\.0\.1", sshd.log.read_text())

    term.keys("C-q")
    assert "exit=0" in term.wait(r"exit=\d+")
    wait_for(lambda: sshd.apps() == [], 10, "the app to end")


def test_without_a_terminal_the_login_is_refused_with_a_reason(sshd: Sshd) -> None:
    result = subprocess.run(
        [*sshd.ssh("demo", "-T"), "ls", "/"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 2, result
    assert "Deze dienst heeft een terminal nodig: verbind met 'ssh -t'." in result.stderr
    assert "bin" not in result.stdout.split()  # the command the client asked for never ran


def test_a_killed_client_leaves_no_app_process(sshd: Sshd, terminals) -> None:  # type: ignore[no-untyped-def]
    term = terminals(sshd.ssh("demo", "-tt"))
    term.wait(WORKLIST)
    (app,) = sshd.apps()
    os.kill(term.pid_of("ssh"), signal.SIGKILL)  # `env` replaced itself by ssh
    wait_for(lambda: not Path(f"/proc/{app}").exists(), 10, "the app to go away")
    assert sshd.apps() == []
