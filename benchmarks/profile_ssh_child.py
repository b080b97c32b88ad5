"""Where a forked SSH session's time goes: the session starter's warm-up in this process, then children forked
from it as ``incasso serve ssh`` forks them, each on its own pseudo-terminal (80x24), profiled from the fork to
the painted worklist.

    python -m benchmarks.profile_ssh_child --book FILE [--runs 5] [--profile pyinstrument|cprofile|none] [--out DIR]

The book is used as it is (a session may write audit and lock rows: give it a copy). This process does what the
zygote does (``ssh.zygote._warm_up``, ``gc.freeze``), then per run forks a child through ``ssh.zygote._child``
with ``incasso --user demo --lang nl --date 2026-11-23`` and the session environment; the child's command line
runs under the profiler. This side reads the terminal until the status line "1 van N dossiers" arrived (the
painted worklist), then types ctrl+q; the child writes its profile when it stops, at the painted worklist (a
SIGUSR1 from this side). Printed: per run the time from the fork to the painted worklist, and the child's CPU
seconds until then; the profiles go to ``--out``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import select
import signal
import socket
import statistics
import sys
import time
from pathlib import Path

from incasso_tui.ssh.session_env import session_environment

STATUS = re.compile(rb"1 van [\d.]+ dossiers")
AS_OF = "2026-11-23"


def _thread_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of the main thread (the scheduler's nanosecond account, ``schedstat``) and of every other
    thread, ended ones included: the process's total (``stat``, in 10 ms ticks) less the main thread's."""
    main = int(Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[0]) / 1e9
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, all threads
    return main, max(0.0, total - main)


def _install_profiler(kind: str, out: Path) -> None:
    """Wrap ``incasso_tui.cli.main`` (what ``ssh.zygote._child`` calls) so that the child profiles its session
    and writes the profile on SIGUSR1 (the worklist is painted)."""
    import incasso_tui.cli

    real_main = incasso_tui.cli.main

    def profiled(argv: list[str], parser: object = None) -> int:
        path = out / f"child-{os.getpid()}"
        warm = set(sys.modules)

        def imported() -> None:  # modules the session imported that the starter had not: candidates to warm
            path.with_suffix(".modules").write_text("".join(f"{m}\n" for m in sorted(set(sys.modules) - warm)))

        if kind == "pyinstrument":
            from pyinstrument import Profiler

            prof = Profiler(interval=0.0005)

            def stop(*_: object) -> None:
                imported()
                if prof.is_running:
                    prof.stop()
                    path.with_suffix(".txt").write_text(prof.output_text(unicode=True, color=False, show_all=False))
                    path.with_suffix(".html").write_text(prof.output_html())

            prof.start()
        elif kind == "cprofile":
            import cProfile

            cprof = cProfile.Profile()

            def stop(*_: object) -> None:
                cprof.disable()
                imported()
                cprof.dump_stats(str(path.with_suffix(".prof")))

            cprof.enable()
        else:

            def stop(*_: object) -> None:
                imported()

        signal.signal(signal.SIGUSR1, stop)
        return real_main(argv, parser)  # type: ignore[arg-type]

    incasso_tui.cli.main = profiled  # type: ignore[assignment]


def _one(book: Path, own: tuple[int, int]) -> tuple[float, tuple[float, float]]:
    import fcntl
    import struct
    import termios

    from incasso_tui.ssh import zygote

    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": os.environ.get("HOME", "/"),
        "INCASSO_CONFIG": "/nonexistent/incasso.toml",
        "INCASSO_DB_URL": f"sqlite:///{book}",
        "INCASSO_IDENTIFIED_BY": "ssh-key:SHA256:profile",
        **session_environment("xterm-256color", None),
    }
    for name in ("XDG_CACHE_HOME", "XDG_DATA_HOME"):
        if name in os.environ:
            env[name] = os.environ[name]
    argv = ["--user", "demo", "--lang", "nl", "--date", AS_OF]
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    dummy, _peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        zygote._child(dummy, slave, argv, env, own)  # never returns
    os.close(slave)
    dummy.close()
    data = bytearray()
    painted = None
    cpu = (0.0, 0.0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        if painted is None and STATUS.search(data):
            painted = time.perf_counter() - started
            cpu = _thread_cpu(pid)
            os.kill(pid, signal.SIGUSR1)
            time.sleep(0.3)
            os.write(master, b"\x11")  # ctrl+q
    os.close(master)
    _, status = os.waitpid(pid, 0)
    if painted is None:
        raise SystemExit(f"no worklist painted; exit {os.waitstatus_to_exitcode(status)}:\n{data[-2000:]!r}")
    return painted, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", choices=("pyinstrument", "cprofile", "none"), default="pyinstrument")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/ssh-child"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.update({k: v for k, v in session_environment("xterm-256color", None).items()})
    from incasso_tui.ssh import zygote

    zygote._warm_up()
    _install_profiler(args.profile, args.out.resolve())
    gc.collect()
    gc.freeze()
    own = os.pipe()
    times = [_one(args.book.resolve(), own) for _ in range(args.runs)]
    print(
        json.dumps(
            {
                "runs": args.runs,
                "profile": args.profile,
                "fork_to_painted_s": [round(t, 3) for t, _ in times],
                "p50_s": round(statistics.median(t for t, _ in times), 3),
                "child_cpu_s": [round(sum(c), 3) for _, c in times],
                "main_thread_cpu_s": [round(c[0], 3) for _, c in times],
                "other_threads_cpu_s": [round(c[1], 3) for _, c in times],
                "main_thread_cpu_p50_s": round(statistics.median(c[0] for _, c in times), 3),
                "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
