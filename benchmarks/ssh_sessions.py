"""N concurrent SSH sessions against ``incasso serve ssh``: memory, idle CPU, time to the worklist, key latency.

    python -m benchmarks.ssh_sessions [--sessions 20] [--stagger 0] [--idle 30] [--keys 30] [--book FILE]

Everything happens in a temporary directory: a copy of ``--book`` (an SQLite file; without it a 2,400-loan
book is generated with seed 7, the demo's size), a client key registered for ``demo`` with the real
``incasso users add-key``, and ``incasso serve ssh --port 0`` as of 2026-11-23. The client is asyncssh with a
pseudo-terminal of 80x24 (``xterm-256color``), one connection per session, reading the screen bytes the app
sends. Measured:

- **connect to painted worklist**: the time from opening the TCP connection until the bytes of the status
  line "1 van N dossiers" arrived. By default all sessions connect at the same moment (everyone starts at
  nine: the worst case); ``--stagger S`` starts one every S seconds;
- **CPU to the last painted worklist**: CPU seconds (user + system) that the server, the session starter, all
  apps together and this client spent from the first connect until every worklist was painted. On a shared
  machine this moves less than the times do: the times are this CPU spread over the cores others leave free;
- **memory** once every worklist is painted: VmRSS of each app process and of the server, and the PSS
  (proportional set size: shared pages divided over the processes sharing them) from ``smaps_rollup``;
- **idle CPU**: CPU seconds (user + system) of the server and all apps while every session sits idle for
  ``--idle`` seconds (the worklists keep polling for changes by others);
- **keystroke to screen**: Down moves the worklist cursor, and the status line changes from "k van N" to
  "k+1 van N". From writing the key to the channel until (a) the first screen bytes arrive and (b) the bytes
  with the new status line arrive. Two rounds: one session typing while the others are idle, then all
  sessions typing at once (a key every 150-250 ms each, a fast typist).

At the end the clients disconnect and the server is stopped; the script checks that no app process is left.
The load average before and after is printed: on a shared machine, other work skews every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from tests.e2e.terminal import app_processes, children

INCASSO = str(Path(sys.executable).with_name("incasso"))
AS_OF = "2026-11-23"
STATUS = re.compile(rb"(\d+) van [\d.]+ dossiers")
DOWN = b"\x1b[B"


def _percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 4),
        "p95": round(_percentile(values, 95), 4),
        "max": round(max(values), 4),
    }


def _proc_kib(pid: int, path: str, key: str) -> int:
    for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise LookupError(f"{key} not in /proc/{pid}/{path}")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Screen(asyncssh.SSHClientSession[bytes]):
    """The bytes one session's app sent, with a way to wait for a pattern in what arrives after a mark."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.changed = asyncio.Event()
        self.arrivals: list[tuple[int, float]] = []  # (length of data after a chunk, when it arrived)

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.data += data
        self.arrivals.append((len(self.data), time.perf_counter()))
        self.changed.set()

    def first_arrival_after(self, mark: int) -> float:
        """When the first bytes past offset ``mark`` arrived (some must have)."""
        first = None
        for end, at in reversed(self.arrivals):
            if end <= mark:
                break
            first = at
        assert first is not None
        return first

    async def wait_for(self, pattern: re.Pattern[bytes], start: int, timeout: float = 60) -> re.Match[bytes]:
        deadline = time.perf_counter() + timeout
        while True:
            found = pattern.search(self.data, start)
            if found:
                return found
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.001, deadline - time.perf_counter()))


@dataclass
class Session:
    conn: asyncssh.SSHClientConnection
    chan: asyncssh.SSHClientChannel[bytes]
    screen: Screen
    position: int = 1  # the worklist row the cursor is on
    first_byte: list[float] = field(default_factory=list)
    painted: list[float] = field(default_factory=list)

    async def key_down(self) -> None:
        mark = len(self.screen.data)
        sent = time.perf_counter()
        self.chan.write(DOWN)
        self.position += 1
        wanted = re.compile(rb"(?<![\d.])%d van [\d.]+ dossiers" % self.position)
        await self.screen.wait_for(wanted, mark)
        self.painted.append(time.perf_counter() - sent)
        self.first_byte.append(self.screen.first_arrival_after(mark) - sent)


async def _connect(port: int, key: asyncssh.SSHKey, delay: float = 0.0) -> tuple[Session, float]:
    await asyncio.sleep(delay)
    started = time.perf_counter()
    conn = await asyncssh.connect("127.0.0.1", port, username="demo", client_keys=[key], known_hosts=None)
    chan, screen = await conn.create_session(Screen, term_type="xterm-256color", term_size=(80, 24), encoding=None)
    await screen.wait_for(STATUS, 0)
    return Session(conn, chan, screen), time.perf_counter() - started


async def _typing(session: Session, keys: int, gap: tuple[float, float] | None, rng: random.Random) -> None:
    for _ in range(keys):
        await session.key_down()
        if gap:
            await asyncio.sleep(rng.uniform(*gap))


async def _measure(
    port: int, key: asyncssh.SSHKey, server: subprocess.Popen[bytes], args: argparse.Namespace
) -> dict[str, object]:
    rng = random.Random(7)
    starters = children(server.pid)  # the session starter (the server's one child before any login)
    cpu_before = {p: _cpu_seconds(p) for p in [server.pid, *starters]}
    client_before = sum(os.times()[:2])
    results = await asyncio.gather(*(_connect(port, key, i * args.stagger) for i in range(args.sessions)))
    apps = app_processes(server.pid)
    cpu_to_painted = {
        "server": round(_cpu_seconds(server.pid) - cpu_before[server.pid], 2),
        "starter": round(sum(_cpu_seconds(p) - cpu_before[p] for p in starters), 2),
        "apps": round(sum(_cpu_seconds(p) for p in apps), 2),
        "apps_per_session": round(sum(_cpu_seconds(p) for p in apps) / len(apps), 3),
        "client": round(sum(os.times()[:2]) - client_before, 2),
    }
    sessions = [s for s, _ in results]
    connect = [t for _, t in results]
    await asyncio.sleep(2)  # let the apps settle after the first paint (the second page, the first poll)
    apps = app_processes(server.pid)
    assert len(apps) == args.sessions, f"{len(apps)} app processes for {args.sessions} sessions"
    memory = {
        "app_rss_mib": [round(_proc_kib(p, "status", "VmRSS") / 1024, 1) for p in apps],
        "app_pss_mib": [round(_proc_kib(p, "smaps_rollup", "Pss") / 1024, 1) for p in apps],
        "server_rss_mib": round(_proc_kib(server.pid, "status", "VmRSS") / 1024, 1),
        "server_pss_mib": round(_proc_kib(server.pid, "smaps_rollup", "Pss") / 1024, 1),
    }
    before = {p: _cpu_seconds(p) for p in [server.pid, *apps]}
    await asyncio.sleep(args.idle)
    idle_cpu = {p: _cpu_seconds(p) - t for p, t in before.items()}

    await _typing(sessions[0], args.keys, (0.15, 0.25), rng)
    one = (list(sessions[0].first_byte), list(sessions[0].painted))
    for s in sessions:
        s.first_byte.clear()
        s.painted.clear()
    await asyncio.gather(*(_typing(s, args.keys, (0.15, 0.25), rng) for s in sessions))
    everyone = ([t for s in sessions for t in s.first_byte], [t for s in sessions for t in s.painted])

    for s in sessions:
        s.conn.close()
    await asyncio.gather(*(s.conn.wait_closed() for s in sessions))
    return {
        "sessions": args.sessions,
        "stagger_s": args.stagger,
        "connect_to_painted_s": _summary(connect),
        "cpu_to_painted_s": cpu_to_painted,
        "app_rss_mib": {
            "sum": round(sum(memory["app_rss_mib"]), 1),
            "per_session": round(sum(memory["app_rss_mib"]) / args.sessions, 1),  # type: ignore[arg-type]
            "min": min(memory["app_rss_mib"]),
            "max": max(memory["app_rss_mib"]),
        },  # type: ignore[type-var]
        "app_pss_mib": {
            "sum": round(sum(memory["app_pss_mib"]), 1),
            "per_session": round(sum(memory["app_pss_mib"]) / args.sessions, 1),
        },  # type: ignore[arg-type]
        "server_rss_mib": memory["server_rss_mib"],
        "server_pss_mib": memory["server_pss_mib"],
        "idle_seconds": args.idle,
        "idle_cpu_s": {
            "server": round(idle_cpu[server.pid], 2),
            "apps": round(sum(v for p, v in idle_cpu.items() if p != server.pid), 2),
            "apps_per_session": round(sum(v for p, v in idle_cpu.items() if p != server.pid) / args.sessions, 3),
        },
        "keys_one_typing": {"first_byte_s": _summary(one[0]), "status_line_s": _summary(one[1])},
        "keys_all_typing": {"first_byte_s": _summary(everyone[0]), "status_line_s": _summary(everyone[1])},
    }


def _start_server(root: Path, book: Path, sessions: int) -> tuple[subprocess.Popen[bytes], int, Path]:
    log = root / "server.log"
    env = {**os.environ, "INCASSO_CONFIG": str(root / "none.toml"), "XDG_DATA_HOME": str(root / "data")}
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
                "--max-sessions",
                str(sessions + 5),
            ],
            stdout=out,
            stderr=out,
            env=env,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read_text())
        if found:
            return proc, int(found.group(1)), log
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the server did not start:\n{log.read_text()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument(
        "--stagger",
        type=float,
        default=0.0,
        help="seconds between the sessions' connects (default 0: all at the same moment)",
    )
    parser.add_argument("--idle", type=float, default=30.0, help="seconds all sessions sit idle (CPU measured)")
    parser.add_argument("--keys", type=int, default=30, help="Down keys per session and round")
    parser.add_argument(
        "--book", type=Path, default=None, help="an SQLite book to copy (default: generate 2,400 loans)"
    )
    args = parser.parse_args(argv)
    env = {**os.environ, "INCASSO_CONFIG": "/nonexistent/incasso.toml"}
    with tempfile.TemporaryDirectory(prefix="incasso-ssh-bench-") as tmp:
        root = Path(tmp)
        book = root / "book.db"
        if args.book:
            shutil.copy(args.book, book)
        else:
            subprocess.run(
                [INCASSO, "generate", "--loans", "2400", "--seed", "7", "--date", AS_OF, "--db", f"sqlite:///{book}"],
                check=True,
                capture_output=True,
                env=env,
            )
        key = asyncssh.generate_private_key("ssh-ed25519", comment="bench")
        (root / "bench.pub").write_bytes(key.export_public_key())
        subprocess.run(
            [INCASSO, "users", "add-key", "demo", str(root / "bench.pub"), "--db", f"sqlite:///{book}"],
            check=True,
            capture_output=True,
            env=env,
        )
        load_before = _load()
        server, port, log = _start_server(root, book, args.sessions)
        try:
            figures = asyncio.run(_measure(port, key, server, args))
            time.sleep(1)
            left = app_processes(server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
        figures["apps_left_after_disconnect"] = len(left)
        figures["load_before"] = load_before
        figures["load_after"] = _load()
        figures["server_log_tracebacks"] = log.read_text().count("Traceback")
    print(json.dumps(figures, indent=2))
    return 0 if not left else 1


if __name__ == "__main__":
    sys.exit(main())
