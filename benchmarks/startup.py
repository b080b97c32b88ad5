"""Time from starting a TUI to a painted worklist, and its memory, measured in tmux as a person sees it.

    python -m benchmarks.startup --db sqlite:////tmp/bench1m.db [--runs 5] [--date 2026-11-23]
        [--before DIR] [--harlequin PATH]

Starts ``incasso`` in a detached tmux session of 80x24 and polls the screen (every 10 ms) until the status
line "n van N dossiers" shows; reports min/median/max over the runs. The RSS (VmRSS of the app process, from
/proc) is read once the worklist is painted, and again after paging down 50 pages. The baseline is an
empty Textual app that paints one line, started the same way.

- ``--before DIR``: also the package copied into DIR (``git archive main incasso_tui data | tar -x -C DIR``),
  run by this interpreter with DIR first on ``sys.path``; the runs alternate (after, before, baseline, ...), so a
  busy machine weighs on both alike, and ``ratio_before_median`` is before / empty app of the same run.
- ``--harlequin PATH``: a side figure, harlequin's first paint on the same SQLite file (PATH: its ``harlequin``
  command, installed in a venv of its own, never in this project's dependencies), started the same way and
  timed until its data catalog lists the file's database ("main db"); ``ratio_harlequin_median`` is harlequin / empty app.

Python must be able to read compiled bytecode for every module, as an installed package does: with
``PYTHONDONTWRITEBYTECODE`` set and no ``__pycache__`` (a fresh work tree), each start compiles the package again
(``python -m compileall incasso_tui DIR`` first). The load average at the start and the end is printed, and beside
each time the CPU seconds (user and system) the process had used when it had painted (``*_cpu_s``, 10 ms ticks):
on a busy machine they move less than the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# A tmux server of its own: tests and other tools that use the default server cannot disturb a run.
# the benchmarks' own tmux server; INCASSO_BENCH_TMUX names another, so that runs at the same time (several people
# on one machine) do not share one: the end of a run kills its server
TMUX = ["tmux", "-L", os.environ.get("INCASSO_BENCH_TMUX", "incasso-bench")]

BASELINE = """
from textual.app import App
from textual.widgets import Static
class One(App):
    def compose(self):
        yield Static("painted")
One().run()
"""


@contextmanager
def tmux_server() -> Iterator[None]:
    """Keep the benchmark's tmux server up between runs with an idle session: when the last session of a server
    is killed the server exits, and a session started at that moment fails with "server exited unexpectedly"."""
    subprocess.run([*TMUX, "new-session", "-d", "-s", "keeper", "sleep 86400"], check=True)
    try:
        yield
    finally:
        subprocess.run([*TMUX, "kill-server"], capture_output=True)


def _screen(name: str) -> str:
    return subprocess.run([*TMUX, "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout


def _pid(name: str) -> int:
    out = subprocess.run([*TMUX, "list-panes", "-t", name, "-F", "#{pane_pid}"], capture_output=True, text=True)
    return int(out.stdout.split()[0])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _cpu_s(pid: int) -> float:
    """The CPU time (user and system, every thread) the process has used so far, from /proc (10 ms ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_to_paint(
    command: list[str], pattern: str, timeout: float = 120, page_downs: int = 0
) -> tuple[float, int, int]:
    """Seconds from the start to the painted ``pattern``, the RSS (KiB) then and after ``page_downs``."""
    elapsed, rss, rss_after, _cpu = paint(command, pattern, timeout, page_downs)
    return elapsed, rss, rss_after


def paint(command: list[str], pattern: str, timeout: float = 120, page_downs: int = 0) -> tuple[float, int, int, float]:
    """``time_to_paint`` and the CPU seconds the process had used when ``pattern`` showed (less sensitive to the
    other loads on a busy machine than the wall time)."""
    name = f"bench-{time.monotonic_ns()}"
    started = time.perf_counter()
    subprocess.run(
        [*TMUX, "new-session", "-d", "-s", name, "-x", "80", "-y", "24", "exec " + subprocess.list2cmdline(command)],
        check=True,
    )
    try:
        while not re.search(pattern, _screen(name)):
            if time.perf_counter() - started > timeout:
                raise TimeoutError(_screen(name))
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        pid = _pid(name)
        cpu = _cpu_s(pid)
        rss = _rss_kib(pid)
        for _ in range(page_downs):
            subprocess.run([*TMUX, "send-keys", "-t", name, "PageDown"], check=True)
            time.sleep(0.05)
        time.sleep(1.0)
        rss_after = _rss_kib(pid)
        return elapsed, rss, rss_after, cpu
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", name], capture_output=True)


WORKLIST_PAINTED = r"\d van [\d.]+ dossiers"
# harlequin's data catalog once its worker has read the database's catalog: the SQLite file's "main" database
HARLEQUIN_PAINTED = r"main db"


def _load() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--date", default="2026-11-23")
    parser.add_argument("--user", default="demo")
    parser.add_argument("--before", metavar="DIR", help="also the package copied into DIR, alternating")
    parser.add_argument("--harlequin", metavar="PATH", help="also harlequin's first paint on the same SQLite file")
    args = parser.parse_args()
    incasso = str(Path(sys.executable).with_name("incasso"))
    cli = ["--db", args.db, "--user", args.user, "--date", args.date]
    app = [incasso, *cli]
    base = [sys.executable, "-c", BASELINE]
    results: dict[str, list[float]] = {
        "app_s": [],
        "baseline_s": [],
        "app_cpu_s": [],
        "baseline_cpu_s": [],
        "rss_mib": [],
        "rss_after_paging_mib": [],
    }
    before: list[str] | None = None
    if args.before:
        code = (  # as its incasso command starts: through incasso_tui.entry where it has one
            f"import sys, importlib, importlib.util; sys.path.insert(0, {args.before!r}); "
            "entry = 'incasso_tui.entry' if importlib.util.find_spec('incasso_tui.entry') else 'incasso_tui.cli'; "
            "sys.exit(importlib.import_module(entry).main())"
        )
        before = [sys.executable, "-c", code, *cli]
        results["before_s"], results["before_cpu_s"] = [], []
    harlequin: list[str] | None = None
    if args.harlequin:
        from sqlalchemy.engine import make_url

        path = make_url(args.db).database
        if not path or make_url(args.db).get_backend_name() != "sqlite":
            parser.error("--harlequin needs a SQLite --db (sqlite:///PATH)")
        harlequin = [args.harlequin, "-a", "sqlite", path]
        results["harlequin_s"], results["harlequin_cpu_s"] = [], []
    load_start = _load()
    with tmux_server():
        for _ in range(args.runs):
            t, rss, rss_after, cpu = paint(app, WORKLIST_PAINTED, page_downs=50)
            results["app_s"].append(t)
            results["app_cpu_s"].append(cpu)
            results["rss_mib"].append(rss / 1024)
            results["rss_after_paging_mib"].append(rss_after / 1024)
            if before is not None:
                t, _rss, _after, cpu = paint(before, WORKLIST_PAINTED)
                results["before_s"].append(t)
                results["before_cpu_s"].append(cpu)
            t, _rss, _after, cpu = paint(base, r"painted")
            results["baseline_s"].append(t)
            results["baseline_cpu_s"].append(cpu)
            if harlequin is not None:
                t, _rss, _after, cpu = paint(harlequin, HARLEQUIN_PAINTED)
                results["harlequin_s"].append(t)
                results["harlequin_cpu_s"].append(cpu)
    summary: dict[str, object] = {
        k: {"min": round(min(v), 3), "median": round(statistics.median(v), 3), "max": round(max(v), 3)}
        for k, v in results.items()
    }
    baseline = statistics.median(results["baseline_s"])
    summary["ratio_median"] = round(statistics.median(results["app_s"]) / baseline, 2)
    base_cpu = statistics.median(results["baseline_cpu_s"])
    summary["cpu_ratio_median"] = round(statistics.median(results["app_cpu_s"]) / base_cpu, 2)
    for name in ("before", "harlequin"):
        if f"{name}_s" in results:
            summary[f"ratio_{name}_median"] = round(statistics.median(results[f"{name}_s"]) / baseline, 2)
            summary[f"cpu_ratio_{name}_median"] = round(statistics.median(results[f"{name}_cpu_s"]) / base_cpu, 2)
    summary["load"] = [load_start, _load()]
    print(json.dumps({"db": args.db, "runs": args.runs, **summary}, indent=2))


if __name__ == "__main__":
    main()
