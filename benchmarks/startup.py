"""Time from starting a TUI to a painted worklist, and its memory, measured in tmux as a person sees it.

    python -m benchmarks.startup --db sqlite:////tmp/bench1m.db [--runs 5] [--date 2026-11-23]

Starts ``incasso`` in a detached tmux session of 80x24 and polls the screen (every 10 ms) until the status
line "n van N dossiers" shows; reports min/median/max over the runs. The RSS (VmRSS of the app process, from
/proc) is read once the worklist is painted, and again after paging down 50 pages. The baseline is an
empty Textual app that paints one line, started the same way.
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


def time_to_paint(
    command: list[str], pattern: str, timeout: float = 120, page_downs: int = 0
) -> tuple[float, int, int]:
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
        rss = _rss_kib(pid)
        for _ in range(page_downs):
            subprocess.run([*TMUX, "send-keys", "-t", name, "PageDown"], check=True)
            time.sleep(0.05)
        time.sleep(1.0)
        rss_after = _rss_kib(pid)
        return elapsed, rss, rss_after
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", name], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--date", default="2026-11-23")
    parser.add_argument("--user", default="demo")
    args = parser.parse_args()
    incasso = str(Path(sys.executable).with_name("incasso"))
    app = [incasso, "--db", args.db, "--user", args.user, "--date", args.date]
    base = [sys.executable, "-c", BASELINE]
    results: dict[str, list[float]] = {"app_s": [], "baseline_s": [], "rss_mib": [], "rss_after_paging_mib": []}
    with tmux_server():
        for _ in range(args.runs):
            t, rss, rss_after = time_to_paint(app, r"\d van [\d.]+ dossiers", page_downs=50)
            results["app_s"].append(t)
            results["rss_mib"].append(rss / 1024)
            results["rss_after_paging_mib"].append(rss_after / 1024)
            results["baseline_s"].append(time_to_paint(base, r"painted")[0])
    summary = {
        k: {"min": round(min(v), 3), "median": round(statistics.median(v), 3), "max": round(max(v), 3)}
        for k, v in results.items()
    }
    summary["ratio_median"] = round(statistics.median(results["app_s"]) / statistics.median(results["baseline_s"]), 2)
    print(json.dumps({"db": args.db, "runs": args.runs, **summary}, indent=2))


if __name__ == "__main__":
    main()
