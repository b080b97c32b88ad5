"""The built-in SSH server (``incasso serve ssh``) driven by the real OpenSSH client in tmux.

Each server runs on 127.0.0.1 with a port the kernel picks (``--port 0``; the port is read from the log), on a
copy of the test book, as of 2026-11-23. The client keys are made with ssh-keygen and registered with the real
``incasso users add-key`` command.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.terminal import Terminal, app_processes, children, command_line, environment, keygen, wait_for

pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("ssh", "ssh-keygen", "tmux")), reason="needs ssh, ssh-keygen and tmux"
)

INCASSO = str(Path(sys.executable).with_name("incasso"))
AS_OF = "2026-11-23"
WORKLIST = r"1 van \d+ dossiers"
# What the second of two writers of one case is told (Dutch), naming the first writer.
CONFLICT = r"Het dossier is om 09:00 gewijzigd door demo"
CONFLICT_TAIL = r"gewijzigd\s+door\s+demo"


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    log: Path
    port: int

    def log_text(self) -> str:
        return self.log.read_text()

    def ssh(self, key: Path, user: str = "demo") -> list[str]:
        return [
            "ssh",
            "-F",
            "/dev/null",
            "-i",
            str(key),
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
            "-tt",
            f"{user}@127.0.0.1",
        ]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


def _line_of(pattern: str, screen: str) -> int:
    """The number of the first screen line matching ``pattern``; -1 when none does."""
    return next((i for i, line in enumerate(screen.splitlines()) if re.search(pattern, line)), -1)


@pytest.fixture(scope="module")
def setup(sqlite_template: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A book with demo's key registered (by the real command); (book, demo's key, a key nobody registered)."""
    root = tmp_path_factory.mktemp("ssh")
    book = root / "book.db"
    shutil.copy(sqlite_template, book)
    demo_key, stranger_key = keygen(root / "demo_key"), keygen(root / "stranger_key")
    result = subprocess.run(
        [INCASSO, "users", "add-key", "demo", f"{demo_key}.pub", "--db", f"sqlite:///{book}"],
        capture_output=True,
        text=True,
        env={**os.environ, "INCASSO_CONFIG": str(root / "none.toml")},
    )
    assert result.returncode == 0, result.stderr
    return book, demo_key, stranger_key


def _poisoned_directory(root: Path) -> Path:
    """A working directory with a ``textual.py`` that must never be imported by a session's app."""
    where = root / "cwd"
    where.mkdir(exist_ok=True)
    (where / "textual.py").write_text('raise SystemExit("textual.py was imported from the working directory")\n')
    return where


def _ignore_hangup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as nohup does; the children inherit it


def _start(book: Path, root: Path, *options: str, ignore_hangup: bool = False) -> Server:
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                INCASSO,
                "serve",
                "ssh",
                "--db",
                f"sqlite:///{book}",
                "--port",
                "0",
                "--host-key",
                str(root / "host_key"),
                "--date",
                AS_OF,
                *options,
            ],
            stdout=out,
            stderr=out,
            env={**os.environ, "INCASSO_CONFIG": str(root / "none.toml")},
            cwd=_poisoned_directory(root),  # the apps run isolated: nothing in the server's directory reaches them
            preexec_fn=_ignore_hangup if ignore_hangup else None,
        )
    deadline = time.monotonic() + 120  # polled: a loaded machine takes long to import and make the host key
    while time.monotonic() < deadline:
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read_text())
        if found:
            return Server(proc, log, int(found.group(1)))
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"the server did not start:\n{log.read_text()}")


@pytest.fixture
def start(setup: tuple[Path, Path, Path], tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """``start(*options, book=None)`` runs a server (on the module's book unless another is given); at the end it is stopped and must leave no process behind."""
    servers: list[Server] = []

    def run(*options: str, book: Path | None = None, ignore_hangup: bool = False) -> Server:
        servers.append(_start(book or setup[0], tmp_path, *options, ignore_hangup=ignore_hangup))
        return servers[-1]

    yield run
    for server in servers:
        pid = server.proc.pid
        server.stop()
        assert server.proc.returncode == 0, server.log_text()
        assert children(pid) == []
        assert "Traceback" not in server.log_text()


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    opened: list[Terminal] = []

    def open_(command: list[str], size: tuple[int, int] = (80, 24)) -> Terminal:
        opened.append(Terminal(f"incasso-ssh-{tmp_path.name}-{len(opened)}", command, size))
        return opened[-1]

    yield open_
    for term in opened:
        term.close()


def test_login_shows_the_worklist_and_a_resize_repaints_it_wider(setup, start, terminals) -> None:  # type: ignore[no-untyped-def]
    _book, key, _stranger = setup
    server = start()
    term = terminals(server.ssh(key))
    screen = term.wait(WORKLIST)
    assert "Demo Medewerker (demo)" in screen
    rows_before = len(re.findall(r"L\d{8}", screen))
    assert re.search(r"login demo \(employee\) from 127\.0\.0\.1:\d+ with key SHA256:", server.log_text())

    term.resize(120, 40)
    # the status line moves down to the new last rows and more cases fit on the screen
    wait_for(lambda: _line_of(WORKLIST, term.screen()) >= 30, 20, "the status line on the resized screen")
    screen = term.screen()
    assert len(re.findall(r"L\d{8}", screen)) > rows_before + 10
    assert max(len(line.rstrip()) for line in screen.splitlines()) > 80


def test_unknown_key_and_wrong_login_name_are_refused_and_logged(setup, start) -> None:  # type: ignore[no-untyped-def]
    _book, key, stranger = setup
    server = start()
    for command in (server.ssh(stranger), server.ssh(key, user="jansen")):
        result = subprocess.run(
            [*command, "true"], capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL
        )
        assert result.returncode == 255 and "Permission denied (publickey)" in result.stderr
    fingerprint = subprocess.run(
        ["ssh-keygen", "-lf", f"{stranger}.pub"], capture_output=True, text=True
    ).stdout.split()[1]
    log = server.log_text()
    assert re.search(rf"refused key {re.escape(fingerprint)} for user 'demo' from 127\.0\.0\.1:\d+", log)
    assert re.search(r"refused key SHA256:\S+ for user 'jansen'", log)
    assert "login " not in log
    secret = Path(key).read_text().splitlines()[1]
    assert secret not in log and Path(f"{stranger}.pub").read_text().split()[1] not in log


def test_a_killed_client_leaves_no_app_process(setup, start, terminals) -> None:  # type: ignore[no-untyped-def]
    _book, key, _stranger = setup
    server = start()
    term = terminals(server.ssh(key))
    term.wait(WORKLIST)
    (app,) = app_processes(server.proc.pid)
    os.kill(term.pid_of("ssh"), signal.SIGKILL)
    wait_for(lambda: app_processes(server.proc.pid) == [], 30, "the app process to go away")
    assert not Path(f"/proc/{app}").exists()
    wait_for(lambda: "client disconnected" in server.log_text(), 30, "the disconnect in the log")


def test_a_server_started_under_nohup_still_hangs_up_its_apps(setup, start, terminals) -> None:  # type: ignore[no-untyped-def]
    """SIGHUP ignored by the server (nohup) is inherited by its children: the app must still end at the hang-up,
    not only at the SIGKILL two seconds later, which a server stopping meanwhile never sent (orphans that spun)."""
    _book, key, _stranger = setup
    server = start(ignore_hangup=True)
    term = terminals(server.ssh(key))
    term.wait(WORKLIST)
    (app,) = app_processes(server.proc.pid)
    os.kill(term.pid_of("ssh"), signal.SIGKILL)
    wait_for(lambda: app_processes(server.proc.pid) == [], 30, "the app process to go away")
    wait_for(lambda: "client disconnected" in server.log_text(), 30, "the disconnect in the log")
    assert "ignored SIGHUP" not in server.log_text()


def test_idle_sessions_are_closed_with_a_message(setup, start, terminals) -> None:  # type: ignore[no-untyped-def]
    _book, key, _stranger = setup
    server = start("--idle-timeout", "3")
    term = terminals(server.ssh(key))
    term.wait(WORKLIST)
    screen = term.wait(r"exit=\d+", timeout=10)
    assert "Sessie gesloten: 3 seconden geen invoer." in screen and "exit=1" in screen
    assert "idle timeout" in server.log_text()
    assert app_processes(server.proc.pid) == []


def test_a_login_past_the_session_limit_is_told_and_closed(setup, start, terminals) -> None:  # type: ignore[no-untyped-def]
    _book, key, _stranger = setup
    server = start("--max-sessions", "1")
    first = terminals(server.ssh(key))
    first.wait(WORKLIST)
    second = terminals(server.ssh(key))
    screen = second.wait(r"exit=\d+")
    assert "Alle 1 sessies zijn in gebruik; probeer het later opnieuw." in screen and "exit=1" in screen
    assert "1 sessions open, the limit" in server.log_text()
    assert re.search(WORKLIST, first.screen())  # the first session is untouched


def _register_key(book: Path, user: str, key: Path, root: Path) -> None:
    result = subprocess.run(
        [INCASSO, "users", "add-key", user, f"{key}.pub", "--db", f"sqlite:///{book}"],
        capture_output=True,
        text=True,
        env={**os.environ, "INCASSO_CONFIG": str(root / "none.toml")},
    )
    assert result.returncode == 0, result.stderr


def _a_case_open_to_arrangements(book: Path) -> tuple[int, str, str]:
    """(case id, loan number, client name) of an active case of a one-loan client without an arrangement."""
    with sqlite3.connect(book) as conn:
        row = conn.execute(
            "SELECT c.id, min(l.number), cl.name FROM cases c JOIN clients cl ON cl.id = c.client_id"
            " JOIN loans l ON l.client_id = c.client_id"
            " WHERE c.status = 'active' AND c.pos_arrears BETWEEN 30000 AND 300000"
            " AND NOT EXISTS (SELECT 1 FROM arrangements a WHERE a.case_id = c.id AND a.status = 'active')"
            " GROUP BY c.id HAVING count(l.id) = 1 ORDER BY c.id LIMIT 1"
        ).fetchone()
    assert row is not None
    return row


def _open_arrangement_form(term: Terminal, loan: str, client: str, expect: str = r"") -> str:
    """Search the case by its loan number, open it (waiting until ``expect`` shows on the case too, when given),
    and open the payment-arrangement form; returns the screen of the case as it was shown before the form opened."""
    term.wait(WORKLIST)
    term.keys("/")
    term.type(loan)
    term.keys("Enter")
    term.wait(r"1 van 1 dossier\b")
    term.keys("Enter")
    detail = term.wait(r"Status Actief(?s:.*)a Regeling")  # the case is read: its status, and its keys in the footer
    if expect:
        detail = term.wait(expect)
    term.keys("a")
    term.wait(r"Betalingsregeling voor " + re.escape(client[:20]))
    return detail


def test_two_sessions_on_one_case_give_one_conflict_message_and_lose_nothing(setup, start, terminals, tmp_path) -> None:  # type: ignore[no-untyped-def]
    book = tmp_path / "book.db"
    shutil.copy(setup[0], book)  # this test writes: a book of its own
    jansen_key = keygen(tmp_path / "jansen_key")
    _register_key(book, "jansen", jansen_key, tmp_path)
    case_id, loan, client = _a_case_open_to_arrangements(book)
    server = start(book=book)
    demo = terminals(server.ssh(setup[1]), size=(100, 30))
    jansen = terminals(server.ssh(jansen_key, user="jansen"), size=(100, 30))
    assert "In behandeling bij" not in _open_arrangement_form(demo, loan, client)
    # the mark may wrap in the case's column, and it is read in the same worker as the case: wait for it
    _open_arrangement_form(jansen, loan, client, expect=r"In\s+behandeling\s+bij\s+demo\s+\(tot\s+\d\d:\d\d\)")

    for term, count in ((demo, "3"), (jansen, "4")):
        term.type(count)
        term.wait(rf"{count} termijnen van")
    demo.keys("C-s")
    demo.wait("Betalingsregeling vastgelegd")
    jansen.keys("C-s")
    screen = " ".join(jansen.wait(CONFLICT_TAIL).split())  # the message wraps: compare with single spaces
    assert len(re.findall(CONFLICT, screen)) == 1, screen
    assert "Betalingsregeling voor" in screen and "4 termijnen van" in screen  # jansen's form, as typed
    demo_screen = " ".join(demo.screen().split())
    assert not re.search(CONFLICT, demo_screen)

    with sqlite3.connect(book) as conn:
        arrangements = conn.execute(
            "SELECT created_by, installment_count FROM arrangements WHERE case_id = ? AND status = 'active'", (case_id,)
        ).fetchall()
        creates = conn.execute(
            "SELECT actor FROM audit_events WHERE action = 'arrangement.create' AND case_id = ?", (case_id,)
        ).fetchall()
    assert arrangements == [("demo", 3)]
    assert creates == [("demo",)]


def _zygote(server: Server) -> int:
    (starter,) = [p for p in children(server.proc.pid) if any("incasso_tui.ssh.zygote" in a for a in command_line(p))]
    return starter


def test_sessions_are_forked_from_the_warm_starter_each_with_its_own_process_and_environment(
    setup, start, terminals
) -> None:  # type: ignore[no-untyped-def]
    """A login forks the pre-imported session starter instead of starting an interpreter: the app is the
    starter's child, in a session (and process group) of its own. The starter has no database URL in its
    environment, so a worklist on screen shows that each app runs with the environment built for its login."""
    _book, key, _stranger = setup
    server = start()
    first = terminals(server.ssh(key))
    first.wait(WORKLIST)
    second = terminals(server.ssh(key), size=(100, 30))
    second.wait(WORKLIST)
    starter = _zygote(server)
    assert "INCASSO_DB_URL" not in environment(starter)
    assert environment(starter)["TEXTUAL_ANIMATIONS"] == "none"  # read by Textual at import: set before it
    # what it warmed (imports, mappers, catalogs, the CSS parsed for the themes) left no thread and no open book
    assert [task.name for task in Path(f"/proc/{starter}/task").iterdir()] == [str(starter)]
    open_files = [os.readlink(fd) for fd in Path(f"/proc/{starter}/fd").iterdir()]
    assert not [name for name in open_files if ".db" in name], open_files
    apps = sorted(app_processes(server.proc.pid))
    assert len(apps) == 2 and sorted(children(starter)) == apps
    for app in apps:
        assert os.getsid(app) == app and os.getpgid(app) == app  # its own session: a hang-up reaches it alone


def test_a_crashed_session_or_starter_leaves_the_other_sessions_working_and_new_logins_start(
    setup, start, terminals
) -> None:  # type: ignore[no-untyped-def]
    _book, key, _stranger = setup
    server = start()
    first = terminals(server.ssh(key))
    first.wait(WORKLIST)
    second = terminals(server.ssh(key))
    second.wait(WORKLIST)
    app_one, app_two = sorted(app_processes(server.proc.pid))
    os.kill(app_one, signal.SIGKILL)  # one session's app crashes: only its own login ends
    wait_for(
        lambda: not Path(f"/proc/{app_one}").exists() or app_one not in app_processes(server.proc.pid),
        30,
        "the crashed app to be reaped",
    )
    second.keys("Down")
    assert Path(f"/proc/{app_two}").exists()

    os.kill(_zygote(server), signal.SIGKILL)  # the starter itself dies: running sessions go on ...
    second.keys("Down")
    time.sleep(0.5)
    assert Path(f"/proc/{app_two}").exists()
    third = terminals(server.ssh(key))  # ... and the next login gets a new starter
    third.wait(WORKLIST)
    assert "starting a new one" in server.log_text()
