"""Measure ``incasso procedure run`` on a big book: wall time, peak RSS, the time of the selection queries, and the
SQL floor the run is compared with.

    python -m benchmarks.procedure_run --db sqlite:////work/bench/run1m.db --date 2026-11-23 [--dry-run] [--floor 3]

Runs the real command under ``/usr/bin/time -v`` (a fresh process, so RSS is the run's own) and prints one
JSON line: wall seconds, peak RSS in MiB, the run's own ``seconds`` and ``selection_seconds`` (the summed time
of the SQL statements that select the acting cases, loans and letters: ``RunReport.selection_seconds``), the
seconds per step, the action counts, and the machine's load average at start and end (other work on the machine
skews the figures).

With ``--floor N`` (SQLite only) it first runs the floor N times with the ``sqlite3`` module, read-only: the plain
query that computes the days past due of every loan as of ``--date`` (``FLOOR_SQL``), the least any daily run
must read; the line then also holds each floor time and ``ratio`` = wall / median floor.
Never point it at a database you want to keep unchanged without ``--dry-run``: a real run writes.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from benchmarks import timed

FLOOR_SQL = (
    "SELECT loan_id, julianday(:day) - julianday(MIN(due_date)) FROM installments "
    "WHERE principal_paid + interest_paid < principal + interest AND due_date <= :day GROUP BY loan_id"
)


def floor_seconds(url: str, day: str, runs: int) -> list[float]:
    """The floor query ``runs`` times on the SQLite file of ``url`` (opened read-only)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise SystemExit("--floor measures a SQLite file only")
    times = []
    with sqlite3.connect(f"file:{parsed.database}?mode=ro", uri=True) as conn:
        for _ in range(runs):
            started = time.perf_counter()
            conn.execute(FLOOR_SQL, {"day": day}).fetchall()
            times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--date", required=True)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--floor", type=int, default=0, metavar="N", help="run the SQL floor N times first (SQLite)")
    args = parser.parse_args()
    floor = floor_seconds(args.db, args.date, args.floor) if args.floor else []
    incasso = str(Path(sys.executable).with_name("incasso"))
    cmd = [incasso, "procedure", "run", "--db", args.db, "--date", args.date, "--json"]
    if args.dry_run:
        cmd.append("--dry-run")
    load_before = os.getloadavg()
    wall, rss_mib, stdout = timed(cmd)
    report = json.loads(stdout.strip().splitlines()[-1])
    result = {
        "db": args.db,
        "date": args.date,
        "dry_run": args.dry_run,
        "wall_seconds": round(wall, 1),
        "peak_rss_mib": round(rss_mib, 1),
        "run_seconds": report["seconds"],
        "selection_seconds": report["selection_seconds"],
        "selection": report["selection"],
        "steps": report["steps"],
        "actions": report["actions"],
        "held": report["held"],
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    if floor:
        result["floor_seconds"] = [round(t, 3) for t in floor]
        result["ratio"] = round(wall / statistics.median(floor), 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
