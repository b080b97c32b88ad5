"""Measure ``incasso procedure run`` on a big book: wall time, peak RSS and the time of the selection queries.

    python benchmarks/procedure_run.py --db sqlite:////work/bench/run1m.db --date 2026-11-23 [--dry-run]

Runs the real command under ``/usr/bin/time -v`` (a fresh process, so RSS is the run's own) and prints one
JSON line: wall seconds, peak RSS in MiB, the run's own ``seconds`` and ``selection_seconds`` (the summed time
of the SQL statements that select the acting cases, loans and letters: ``RunReport.selection_seconds``), the
action counts, and the machine's load average at start and end (other work on the machine skews the figures).
Never point it at a database you want to keep unchanged without ``--dry-run``: a real run writes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--date", required=True)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    incasso = str(Path(sys.executable).with_name("incasso"))
    cmd = ["/usr/bin/time", "-v", incasso, "procedure", "run", "--db", args.db, "--date", args.date, "--json"]
    if args.dry_run:
        cmd.append("--dry-run")
    load_before = os.getloadavg()
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return done.returncode
    report = json.loads(done.stdout.strip().splitlines()[-1])
    rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))  # type: ignore[union-attr]
    print(json.dumps({
        "db": args.db, "date": args.date, "dry_run": args.dry_run, "wall_seconds": round(wall, 1),
        "peak_rss_mib": round(rss_kib / 1024, 1), "run_seconds": report["seconds"],
        "selection_seconds": report["selection_seconds"], "selection": report["selection"],
        "steps": report["steps"], "actions": report["actions"], "held": report["held"],
        "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
