"""Key to screen settled: what a person feels, per screen, measured on the real ``incasso`` in tmux.

    python -m benchmarks.keys --db sqlite:////path/book.db [--runs 20] [--user bakker] [--date 2026-11-23]
                              [--only NAME,...] [--before DIR [--before-db URL]]

The TUI runs in a detached tmux session of 80x24 on its own tmux server. For every step below the script sends
the key with ``tmux send-keys`` and polls the screen (``capture-pane``, a few milliseconds a poll) until it
matches the step's pattern and has not changed for ``--settle`` seconds (default 0.3: workers that load
data after the first frame are waited for). The figure is the time from sending the key to the first poll
that showed the final screen, so the settle wait itself is not counted. With ``--before DIR`` a second session
runs the package copied into DIR and the tries alternate between the two, so a ratio before / after is measured
under the same load. Each step is undone (``escape``) and
the undo is measured too ("back"). p50/p95/max over ``--runs``; the machine's load average before and after.

The approvals (``v``) and the task inbox (``a``) time screens with rows only when the book has work for the user: a
generated book has no proposal and no task, so seed the copy first with ``python -m benchmarks.keys_seed --db URL``
(through the services: submitted deferral proposals of the employees for bakker to decide, open call tasks of
bakker overdue, today and ahead); ``python -m benchmarks`` does, and records the seed's counts in ``keys.seed``.

The polling costs a little CPU itself (one tmux client a poll); a step that settles in 40 ms is shown as
40-50 ms. Every step needs its pattern to show: a step that never reaches it fails the run with the screen.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.startup import TMUX, tmux_server

WORKLIST = r"\d+ van [\d.]+ dossiers"
DETAIL = r"Status\s"


@dataclass(frozen=True)
class Step:
    name: str
    keys: tuple[str, ...]  # sent one after another; only the last one is timed
    pattern: str  # the screen must match this when settled
    back: tuple[str, ...] = ("Escape",)
    back_pattern: str = WORKLIST
    setup: tuple[str, ...] = ()  # sent (untimed) before the step, e.g. open the case first


# From the worklist (as a supervisor, who sees every screen). The detail's tabs are timed from the detail.
STEPS: tuple[Step, ...] = (
    Step("open a case", ("Enter",), DETAIL),
    *(
        Step(f"detail tab {n}", (str(n),), DETAIL, back=("1",), back_pattern=DETAIL, setup=("Enter",))
        for n in range(2, 10)
    ),
    Step(
        "arrangement form", ("a",), r"Betalingsregeling voor", back=("Escape",), back_pattern=DETAIL, setup=("Enter",)
    ),
    Step("contact form", ("c",), r"Contact met ", back=("Escape",), back_pattern=DETAIL, setup=("Enter",)),
    Step(
        "deferral form", ("u",), r"Uitstel van aflossing voor ", back=("Escape",), back_pattern=DETAIL, setup=("Enter",)
    ),
    Step("approvals", ("v",), r"Goedkeuringen: "),
    Step("dashboard", ("k",), r"Ouderdom \(dossiers\)"),
    Step("task inbox", ("a",), r"\d+ te laat, \d+ vandaag"),
)


def _screen(name: str) -> str:
    return subprocess.run([*TMUX, "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout


def _send(name: str, key: str) -> None:
    subprocess.run([*TMUX, "send-keys", "-t", name, key], check=True)


def settle(name: str, pattern: str, settle_s: float, timeout: float = 30.0) -> tuple[float, str]:
    """Seconds from now until the screen first showed what it shows once it matches ``pattern`` and has not
    changed for ``settle_s``."""
    started = time.perf_counter()
    last, last_at = _screen(name), started
    while True:
        now = time.perf_counter()
        screen = _screen(name)
        if screen != last:
            last, last_at = screen, now
        elif re.search(pattern, screen) and now - last_at >= settle_s:
            return last_at - started, screen
        if now - started > timeout:
            raise TimeoutError(f"/{pattern}/ never settled; the screen shows:\n{screen}")


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 4),
        "p95": round(p95, 4),
        "max": round(max(values), 4),
    }


def _start(command: list[str], settle_s: float) -> str:
    name = f"keys-{time.monotonic_ns()}"
    subprocess.run(
        [*TMUX, "new-session", "-d", "-s", name, "-x", "80", "-y", "24", "exec " + subprocess.list2cmdline(command)],
        check=True,
    )
    settle(name, WORKLIST, settle_s, timeout=120)
    return name


def _try(name: str, step: Step, settle_s: float) -> tuple[float, float]:
    """One try of ``step`` in session ``name``: seconds key → settled forward, and back."""
    for key in step.setup:
        _send(name, key)
        settle(name, DETAIL, settle_s)
    for key in step.keys[:-1]:
        _send(name, key)
    t0 = time.perf_counter()
    _send(name, step.keys[-1])
    sent = time.perf_counter() - t0
    elapsed, _ = settle(name, step.pattern, settle_s)
    forward = elapsed + sent
    back = 0.0
    for key in step.back:
        t0 = time.perf_counter()
        _send(name, key)
        sent = time.perf_counter() - t0
        elapsed, _ = settle(name, step.back_pattern, settle_s)
        back += elapsed + sent
    if step.setup:  # back to the worklist for the next try
        _send(name, "Escape")
        settle(name, WORKLIST, settle_s)
    return forward, back


def measure(
    commands: dict[str, list[str]], steps: tuple[Step, ...], runs: int, settle_s: float
) -> dict[str, dict[str, dict[str, object]]]:
    """Every step ``runs`` times in one session per command; with two commands (before / after) the tries
    alternate between them, so both see the same machine load."""
    names = {label: _start(command, settle_s) for label, command in commands.items()}
    results: dict[str, dict[str, dict[str, object]]] = {label: {} for label in commands}
    try:
        for step in steps:
            forward: dict[str, list[float]] = {label: [] for label in commands}
            back: dict[str, list[float]] = {label: [] for label in commands}
            for _ in range(runs):
                for label, name in names.items():
                    f, b = _try(name, step, settle_s)
                    forward[label].append(f)
                    back[label].append(b)
            for label in commands:
                got = results[label][step.name] = {
                    "forward_s": _summary(forward[label]),
                    "back_s": _summary(back[label]),
                }
                print(
                    f"{label}: {step.name}: p50 {got['forward_s']['p50'] * 1000:.0f} ms, "
                    f"p95 {got['forward_s']['p95'] * 1000:.0f} ms; back p95 "
                    f"{got['back_s']['p95'] * 1000:.0f} ms",
                    file=sys.stderr,
                )
    finally:
        for name in names.values():
            subprocess.run([*TMUX, "kill-session", "-t", name], capture_output=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--user", default="bakker")
    parser.add_argument("--date", default="2026-11-23")
    parser.add_argument("--settle", type=float, default=0.3)
    parser.add_argument("--only", default="", help="comma-separated step names")
    parser.add_argument(
        "--before-db",
        default="",
        metavar="URL",
        help="the book the --before package opens (default: --db), e.g. a copy at the older schema when this "
        "branch migrates it",
    )
    parser.add_argument(
        "--before",
        default="",
        metavar="DIR",
        help="also time the package in DIR (e.g. `git archive main incasso_tui | tar -x -C DIR`), "
        "alternating with this one, try by try",
    )
    args = parser.parse_args(argv)
    incasso = str(Path(sys.executable).with_name("incasso"))
    steps = tuple(s for s in STEPS if not args.only or s.name in args.only.split(","))
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    cli = ["--db", args.db, "--user", args.user, "--date", args.date, "--lang", "nl"]
    commands = {"after": [incasso, *cli]}
    if args.before:
        code = f"import sys; sys.path.insert(0, {args.before!r}); from incasso_tui.cli import main; sys.exit(main())"
        before_cli = ["--db", args.before_db, *cli[2:]] if args.before_db else cli
        commands = {"before": [sys.executable, "-c", code, *before_cli], **commands}
    with tmux_server():
        results = measure(commands, steps, args.runs, args.settle)
    out = {
        "db": args.db,
        "before_db": args.before_db or None,
        "runs": args.runs,
        "settle_s": args.settle,
        "before": args.before or None,
        "load_before": load_before,
        "load_after": Path("/proc/loadavg").read_text().split()[:3],
        "steps": results,
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
