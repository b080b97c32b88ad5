"""Run the procedure with two versions of the code on copies of one book and compare every table row by row.

    git archive <old commit> incasso_tui data | tar -x -C /tmp/run-before
    python -m benchmarks.compare_runs BOOK.db /tmp/run-before . --days 2026-11-23,2026-11-23,2026-11-24 \
        [--no-id loan_risk] [--work /tmp/compare]

Each code directory is put first on ``PYTHONPATH`` of an ``incasso procedure run --date D --json`` per day (``--date``
fixes the clock, so timestamps and with them the audit hashes are the same). Afterwards every table of the two
copies (not the FTS shadow tables) is compared with ``EXCEPT`` both ways over all its columns, ``id`` left out for
the tables named with ``--no-id``; exit 1 when any table differs. SQLite only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

INCASSO = str(Path(sys.executable).with_name("incasso"))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def run_days(book: Path, code: Path, target: Path, days: list[str]) -> list[dict[str, object]]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(book, target)
    env = {**os.environ, "INCASSO_CONFIG": "/nonexistent/incasso.toml", "PYTHONPATH": str(code.resolve())}
    reports = []
    for day in days:
        cmd = [INCASSO, "procedure", "run", "--db", f"sqlite:///{target}", "--date", day, "--json"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        report = json.loads(done.stdout.strip().splitlines()[-1])
        reports.append({"day": day, "actions": {k: v for k, v in report["actions"].items() if v}})
    return reports


def differences(a: Path, b: Path, no_id: set[str]) -> dict[str, tuple[int, int]]:
    conn = sqlite3.connect(f"file:{a}?mode=ro", uri=True)
    try:
        conn.execute("ATTACH ? AS other", (f"file:{b}?mode=ro",))
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND sql NOT LIKE 'CREATE VIRTUAL%'"
            )
        ]
        found = {}
        for table in sorted(tables):
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({_q(table)})")]
            cols = ", ".join(_q(c) for c in columns if not (table in no_id and c == "id"))
            only_a, only_b = (
                conn.execute(
                    f"SELECT count(*) FROM (SELECT {cols} FROM {x}.{_q(table)} EXCEPT SELECT {cols} FROM {y}.{_q(table)})"
                ).fetchone()[0]
                for x, y in (("main", "other"), ("other", "main"))
            )
            if only_a or only_b:
                found[table] = (only_a, only_b)
        return found
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("book", type=Path)
    parser.add_argument("old", type=Path, help="the old code: a directory holding incasso_tui and data")
    parser.add_argument("new", type=Path, help="the new code: a directory holding incasso_tui and data")
    parser.add_argument("--days", required=True, help="run days, comma-separated, in order")
    parser.add_argument("--no-id", default="", help="tables compared without their id column, comma-separated")
    parser.add_argument("--work", type=Path, default=Path("/tmp/incasso-compare"))
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    days = args.days.split(",")
    reports = {
        name: run_days(args.book, code, args.work / f"{name}.db", days)
        for name, code in (("old", args.old), ("new", args.new))
    }
    found = differences(args.work / "old.db", args.work / "new.db", {t for t in args.no_id.split(",") if t})
    print(json.dumps({"runs": reports, "same_reports": reports["old"] == reports["new"], "differing_tables": found}))
    return 1 if found or reports["old"] != reports["new"] else 0


if __name__ == "__main__":
    sys.exit(main())
