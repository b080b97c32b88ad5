"""The benchmark suite: one command measures the desk on a 1,000,000-loan book and writes benchmarks/RESULTS.md.

    python -m benchmarks                        # SQLite; builds the book once in --dir, reuses it afterwards
    python -m benchmarks --postgresql           # the same on PostgreSQL (INCASSO_TEST_PG_URL names the server)
    python -m benchmarks --only startup,queries --runs 10
    python -m benchmarks --loans 100000 --no-write   # a quick look; RESULTS.md untouched

Steps (``--only`` picks some; every step runs the real ``incasso`` command or the service calls the screens make):

- ``generate``: ``incasso generate --loans N --seed 7`` under ``/usr/bin/time -v`` when the book in ``--dir`` is
  missing or has another number of loans (``--regenerate`` forces it); otherwise the figures of the run that built
  it are reported again, marked "reused";
- ``startup``: ``benchmarks.startup`` (the package compiled first): cold start to the painted worklist in tmux at
  80x24, the empty Textual app painting one line the same way, alternating; RSS at paint and after 50 PageDowns, the
  CPU each had used when painted; with ``--harlequin PATH`` also harlequin's first paint on the same SQLite book;
- ``keys``: ``benchmarks.keys`` on a copy of the book: every key of issue 18 (open a case, each detail tab, the
  arrangement / contact / deferral forms, approvals, dashboard, task inbox, and back from each) in tmux at 80x24 as
  user ``bakker``, ``--key-runs`` tries each (20 by default), p50 / p95 from the key to the settled screen; the
  copy is seeded first by ``benchmarks.keys_seed`` (40 submitted deferral proposals for bakker to decide, 200 open
  tasks of bakker), so the approvals and the task inbox do not time empty screens;
- ``queries``: ``benchmarks.queries``: worklist count + page per filter and sort, next page, jump to the end,
  searches, client detail (p50 / p95);
- ``search``: ``benchmarks.search``: p50 / p95 of each kind of search term (a word in the name, a 2-letter word
  start, client number, KvK, phone, street + house number) in the search screen (all clients, the desk) and the
  worklist's box, and the size of the search index;
- ``procedure``: on a copy of the book, the daily run for ``--date`` (the first run on a generated book catches up
  on everything: the worst case), the same date again, and the next day; the SQL floor (days past due of every
  loan) ``--runs`` times; the ratio run / floor;
- ``import``: ``benchmarks.payments_import``: a 100,000-entry CAMT.053 against a 20,000-loan book, against a bare
  lxml parse of the file (``--runs`` imports, each on a fresh book);
- ``ssh`` (SQLite only): ``benchmarks.ssh_sessions`` on a copy of the book, twice: ``--ssh-sessions`` sessions
  connecting one a second (login → painted worklist one at a time, RSS and PSS per session, key latency), then 20
  sessions connecting in the same second (when the last one painted, PSS per session).

Results: ``benchmarks/results/<backend>.json`` (every figure) and the block between the ``suite`` markers in
``benchmarks/RESULTS.md`` (the table with the machine, the date and min / median / max; the rest of that file is
written by hand: history, profiles, before / after). Timings are never asserted; targets are shown met or missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import timed

HERE = Path(__file__).resolve().parent
INCASSO = str(Path(sys.executable).with_name("incasso"))
STEPS = ("generate", "startup", "keys", "queries", "search", "procedure", "import", "ssh")
ENV = {**os.environ, "INCASSO_CONFIG": "/nonexistent/incasso.toml"}  # no personal config file skews a run


# ----- plumbing


def _run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, env=ENV, **kw)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return done


def _json_tail(out: str) -> Any:
    """The JSON a benchmark script prints: its whole output (indented) or its last line."""
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        return json.loads(out.strip().splitlines()[-1])


def _mmm(values: list[float], digits: int = 2) -> dict[str, float]:
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
        "runs": len(values),
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


class Backend:
    """Where the book lives: an SQLite file in --dir, or a database on the PostgreSQL server."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.pg = args.postgresql
        self.name = "postgresql" if self.pg else "sqlite"
        if self.pg:
            from sqlalchemy.engine import make_url

            server = os.environ.get("INCASSO_TEST_PG_URL")
            if not server:
                raise SystemExit(
                    "--postgresql needs INCASSO_TEST_PG_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
                )
            self.server = make_url(server)

    def url(self, name: str) -> str:
        if self.pg:
            return self.server.set(database=f"incasso_bench_{name}").render_as_string(hide_password=False)
        return f"sqlite:///{self.args.dir / f'{name}.db'}"

    def exists(self, name: str) -> bool:
        if self.pg:
            return bool(self._admin(f"SELECT 1 FROM pg_database WHERE datname = 'incasso_bench_{name}'", fetch=True))
        return (self.args.dir / f"{name}.db").exists()

    def drop(self, name: str) -> None:
        if self.pg:
            self._admin(f'DROP DATABASE IF EXISTS "incasso_bench_{name}" WITH (FORCE)')
        else:
            for suffix in ("", "-wal", "-shm"):
                (self.args.dir / f"{name}.db{suffix}").unlink(missing_ok=True)

    def create_empty(self, name: str) -> None:
        self.drop(name)
        if self.pg:
            self._admin(f'CREATE DATABASE "incasso_bench_{name}"')

    def copy(self, source: str, target: str) -> float:
        """Copy a book (seconds taken): a file copy, or CREATE DATABASE ... TEMPLATE on PostgreSQL."""
        started = time.perf_counter()
        self.drop(target)
        if self.pg:
            self._admin(f'CREATE DATABASE "incasso_bench_{target}" TEMPLATE "incasso_bench_{source}"')
        else:
            src = self.args.dir / f"{source}.db"
            # fold the WAL into the file so one file copy is the whole book; closed, not only committed: a
            # connection left open on a file that a later copy replaces confuses SQLite's locks
            with closing(sqlite3.connect(src)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copyfile(src, self.args.dir / f"{target}.db")
        return time.perf_counter() - started

    def _admin(self, sql: str, fetch: bool = False) -> Any:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.server, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                result = conn.execute(text(sql))
                return result.fetchall() if fetch else None
        finally:
            engine.dispose()

    def loans(self, name: str) -> int:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url(name))
        try:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT count(*) FROM loans")).scalar_one())
        finally:
            engine.dispose()


# ----- the steps


def step_generate(b: Backend, out: dict[str, Any]) -> None:
    book, loans = f"book{b.args.loans}", b.args.loans
    record = b.args.dir / f"generate-{b.name}-{loans}.json"
    if b.exists(book) and not b.args.regenerate and b.loans(book) == loans and record.exists():
        out["generate"] = {**json.loads(record.read_text()), "reused": True}
        _run([INCASSO, "db", "upgrade", "--db", b.url(book)])
        return
    b.create_empty(book)
    load = _load()
    wall, rss, stdout = timed(
        [INCASSO, "generate", "--loans", str(loans), "--seed", "7", "--date", b.args.date, "--db", b.url(book)], env=ENV
    )
    report = json.loads(stdout.strip().splitlines()[-1])
    size = (b.args.dir / f"{book}.db").stat().st_size if not b.pg else None
    figures = {
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(rss),
        "file_bytes": size,
        "counts": report["counts"],
        "built": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_before": load,
        "load_after": _load(),
        "reused": False,
    }
    record.write_text(json.dumps(figures, indent=2))
    out["generate"] = figures


def step_startup(b: Backend, out: dict[str, Any]) -> None:
    """benchmarks.startup: incasso, the empty Textual app (and harlequin with --harlequin), alternating. The package is
    compiled first: with PYTHONDONTWRITEBYTECODE set (as on some machines) every start would compile it again, which a
    person's second start does not."""
    import compileall

    compileall.compile_dir(str(HERE.parent / "incasso_tui"), quiet=1)
    cmd = [sys.executable, "-m", "benchmarks.startup", "--db", b.url(f"book{b.args.loans}"), "--runs", str(b.args.runs)]
    cmd += ["--user", "demo", "--date", b.args.date]
    if b.args.harlequin and not b.pg:
        cmd += ["--harlequin", b.args.harlequin]
    got = _json_tail(_run(cmd, cwd=HERE.parent).stdout)
    out["startup"] = {**got, "ratio": got["ratio_median"]}


def step_keys(b: Backend, out: dict[str, Any]) -> None:
    """benchmarks.keys on a copy of the book (the TUI writes locks and audit rows): p50 / p95 per key. The copy is
    seeded first (``benchmarks.keys_seed``, through the services: 40 submitted deferral proposals by the employees
    and 200 open call tasks of bakker, overdue, today and ahead), since a generated book has neither and the
    approvals and the task inbox would show empty screens; the seed's counts go in ``keys.seed``."""
    b.copy(f"book{b.args.loans}", "keys")
    try:
        seed = [sys.executable, "-m", "benchmarks.keys_seed", "--db", b.url("keys")]
        seeded = _json_tail(_run([*seed, "--user", "bakker", "--date", b.args.date], cwd=HERE.parent).stdout)
        cmd = [sys.executable, "-m", "benchmarks.keys", "--db", b.url("keys"), "--runs", str(b.args.key_runs)]
        cmd += ["--user", "bakker", "--date", b.args.date]
        out["keys"] = {**_json_tail(_run(cmd, cwd=HERE.parent).stdout), "seed": seeded}
    finally:
        b.drop("keys")


def _worst_key(r: dict[str, Any]) -> tuple[str, float]:
    worst = ("", 0.0)
    for name, row in r["keys"]["steps"]["after"].items():
        for what, label in (("forward_s", name), ("back_s", f"back from {name}")):
            if row[what]["p95"] * 1000 > worst[1]:
                worst = (label, round(row[what]["p95"] * 1000))
    return worst


def step_queries(b: Backend, out: dict[str, Any]) -> None:
    from benchmarks.queries import measure

    load = _load()
    out["queries"] = measure(
        b.url(f"book{b.args.loans}"), "demo", date.fromisoformat(b.args.date), max(b.args.runs, 20)
    )
    out["queries"]["load"] = [load, _load()]


FLOOR_SQL = (
    "SELECT loan_id, {days} FROM installments "
    "WHERE principal_paid + interest_paid < principal + interest AND due_date <= :day GROUP BY loan_id"
)


def _floor(b: Backend, name: str, day: str, runs: int) -> tuple[list[float], int]:
    """The plain SQL that computes the days past due of every loan: the least any daily run must read."""
    from sqlalchemy import create_engine, text

    days = (
        "(CAST(:day AS date) - MIN(due_date))"
        if b.pg
        else "CAST(julianday(:day) - julianday(MIN(due_date)) AS INTEGER)"
    )
    engine = create_engine(b.url(name))
    times, rows = [], 0
    try:
        with engine.connect() as conn:
            for _ in range(runs):
                started = time.perf_counter()
                rows = len(conn.execute(text(FLOOR_SQL.format(days=days)), {"day": day}).fetchall())
                times.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return times, rows


def _procedure(b: Backend, name: str, day: str) -> dict[str, Any]:
    load = _load()
    wall, rss, stdout = timed([INCASSO, "procedure", "run", "--db", b.url(name), "--date", day, "--json"], env=ENV)
    report = json.loads(stdout.strip().splitlines()[-1])
    acted = {k: v for k, v in report.get("actions", {}).items() if v}
    return {
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(rss),
        "selection_s": report.get("selection_seconds"),
        "actions": acted,
        "load": [load, _load()],
    }


def _write_floor(b: Backend, before: str, after: str) -> dict[str, Any]:
    from benchmarks.write_floor import measure

    for name in (before, after):
        with closing(sqlite3.connect(b.args.dir / f"{name}.db")) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return measure(b.args.dir / f"{before}.db", b.args.dir / f"{after}.db", runs=b.args.runs)


def step_search(b: Backend, out: dict[str, Any]) -> None:
    from benchmarks.search import measure

    load = _load()
    out["search"] = measure(b.url(f"book{b.args.loans}"), "demo", date.fromisoformat(b.args.date), b.args.runs, 10)
    out["search"]["load"] = [load, _load()]


def step_procedure(b: Backend, out: dict[str, Any]) -> None:
    book, day = f"book{b.args.loans}", b.args.date
    nxt = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    result: dict[str, Any] = {"copy_s": round(b.copy(book, "run"), 1)}
    floor, rows = _floor(b, "run", day, b.args.runs)
    result["floor"] = {**_mmm(floor), "loans": rows}
    if not b.pg:
        b.copy("run", "run_before")
    result["first"] = _procedure(b, "run", day)
    if not b.pg:  # the write floor: the rows the first run wrote, with plain executemany (benchmarks/write_floor.py)
        result["write_floor_first"] = _write_floor(b, "run_before", "run")
    result["same_day_again"] = _procedure(b, "run", day)
    next_runs = []
    b.copy("run", "run_after")
    for i in range(b.args.procedure_runs):
        if i:
            b.copy("run_after", "run")
        next_runs.append(_procedure(b, "run", nxt))
        if not b.pg and i == 0:
            result["write_floor_next_day"] = _write_floor(b, "run_after", "run")
    result["next_day"] = next_runs
    result["next_day_wall"] = _mmm([r["wall_s"] for r in next_runs], 1)
    median_floor = statistics.median(floor)
    result["ratio_first"] = round(result["first"]["wall_s"] / median_floor, 1)
    result["ratio_next_day"] = round(result["next_day_wall"]["median"] / median_floor, 1)
    if not b.pg:
        result["ratio_first_write"] = round(result["first"]["wall_s"] / result["write_floor_first"]["median_s"], 1)
        result["ratio_next_day_write"] = round(
            result["next_day"][0]["wall_s"] / result["write_floor_next_day"]["median_s"], 1
        )
    for name in ("run", "run_after", "run_before"):
        b.drop(name)
    out["procedure"] = result


def step_import(b: Backend, out: dict[str, Any]) -> None:
    runs = []
    xml = b.args.dir / "camt053-100k.xml"
    for _ in range(b.args.import_runs):
        b.create_empty("pay")
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.payments_import",
            "--db",
            b.url("pay"),
            "--entries",
            "100000",
            "--loans",
            "20000",
            "--out",
            str(xml),
        ]
        runs.append(_json_tail(_run(cmd, cwd=HERE.parent).stdout))
    b.drop("pay")
    out["import"] = {
        "import_s": _mmm([r["import_s"] for r in runs]),
        "bare_lxml_s": _mmm([r["bare_lxml_s"] for r in runs]),
        "import_rss_mb": _mmm([r["import_rss_mb"] for r in runs], 0),
        "ratio": round(
            statistics.median([r["import_s"] for r in runs]) / statistics.median([r["bare_lxml_s"] for r in runs]), 1
        ),
        "reimport_s": _mmm([r["reimport_s"] for r in runs]),
        "file_mb": runs[0]["file_mb"],
        "counts": runs[0]["counts"],
        "load": [runs[0]["load_before"], runs[-1]["load_after"]],
    }


def step_ssh(b: Backend, out: dict[str, Any]) -> None:
    if b.pg:
        out["ssh"] = {"skipped": "the SSH benchmark copies an SQLite book; run it without --postgresql"}
        return
    book = b.args.dir / f"book{b.args.loans}.db"

    def sessions(count: int, stagger: float) -> dict[str, Any]:
        cmd = [sys.executable, "-m", "benchmarks.ssh_sessions", "--sessions", str(count), "--idle", "10"]
        cmd += ["--keys", "20", "--stagger", str(stagger), "--book", str(book)]
        return dict(_json_tail(_run(cmd, cwd=HERE.parent).stdout))

    out["ssh"] = sessions(b.args.ssh_sessions, 1)  # one login a second: each login on its own
    out["ssh_burst"] = sessions(20, 0)  # 20 logins in the same second


# ----- the report

TARGETS: list[tuple[str, str, Callable[[dict[str, Any]], float | None], float, str]] = [
    # issue 18
    ("first paint / empty Textual app", "startup", lambda r: r["startup"]["ratio"], 2.0, "×"),
    (
        "key → screen settled p95, worst key (see the keys table)",
        "keys",
        lambda r: _worst_key(r)[1],
        100.0,
        "ms",
    ),
    (
        "SSH login → painted worklist p50, one a second",
        "ssh",
        lambda r: round(r["ssh"]["connect_to_painted_s"]["p50"], 2),
        0.4,
        "s",
    ),
    (
        "20 SSH logins in the same second: the last painted",
        "ssh_burst",
        lambda r: round(r["ssh_burst"]["connect_to_painted_s"]["max"], 2),
        3.0,
        "s",
    ),
    (
        "PSS per SSH session (20 at once)",
        "ssh_burst",
        lambda r: r["ssh_burst"]["app_pss_mib"]["per_session"],
        40.0,
        "MiB",
    ),
    ("daily run (next day) / write floor", "procedure", lambda r: r["procedure"].get("ratio_next_day_write"), 3.0, "×"),
    (
        "daily run (first, catch-up) / write floor",
        "procedure",
        lambda r: r["procedure"].get("ratio_first_write"),
        3.0,
        "×",
    ),
    ("payment import / bare lxml parse", "import", lambda r: r["import"]["ratio"], 3.0, "×"),
    # earlier issues
    (
        "worklist fetch p95, worst filter or sort (searches: own table)",
        "queries",
        lambda r: _worst_fetch(r)[1],
        50.0,
        "ms",
    ),
    ("client detail p95", "queries", lambda r: r["queries"]["client detail"]["p95_ms"], 150.0, "ms"),
    ("TUI RSS after paging (max)", "startup", lambda r: r["startup"]["rss_after_paging_mib"]["max"], 150.0, "MiB"),
]


def _worst_fetch(r: dict[str, Any]) -> tuple[str, float]:
    worst = ("", 0.0)
    for name, row in r["queries"]["worklist"].items():
        for what in ("count+first page", "next page", "jump to end"):
            if what in row and row[what]["p95_ms"] > worst[1]:
                worst = (f"{name}: {what}", row[what]["p95_ms"])
    return worst


def _machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    )
    return (
        f"{os.cpu_count()} vCPU {cpu}, {mem / 1024 / 1024:.0f} GiB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def _ms(row: dict[str, Any] | None) -> str:
    return "" if not row else f"{row['p50_ms']:.1f} / {row['p95_ms']:.1f}"


def render(b: Backend, r: dict[str, Any]) -> str:
    lines = [
        f"### {b.name}: {b.args.loans:,} loans, {r['date']}",
        "",
        f"Machine: {r['machine']}. Load average (1/5/15 min) at the start of the last run {r['load_start']}, at its "
        f"end {r['load_end']}; each step's own load is in results/{b.name}.json.",
        "",
        "Measured: "
        + "; ".join(f"{step} {m['at']} (`{m['command']}`)" for step, m in r.get("measured", {}).items())
        + ".",
        "",
    ]
    lines += ["| target | measured | target | met |", "|---|---|---|---|"]
    for label, step, get, limit, unit in TARGETS:
        if step not in r:
            continue
        try:
            value = get(r)
        except KeyError:
            continue
        if value is None:
            continue
        lines.append(f"| {label} | {value:g} {unit} | ≤ {limit:g} {unit} | {'yes' if value <= limit else '**no**'} |")
    if "generate" in r:
        g = r["generate"]
        size = f", {g['file_bytes'] / 1e9:.1f} GB" if g.get("file_bytes") else ""
        lines += [
            "",
            f"**Generate** (`incasso generate --loans {b.args.loans} --seed 7`): {g['wall_s']} s, peak RSS "
            f"{g['peak_rss_mib']} MiB{size}; {g['counts']['cases']:,} cases, {g['counts']['installments']:,} "
            f"installments" + (f" (book reused: built {g['built']})" if g.get("reused") else "") + ".",
        ]
    if "startup" in r:
        s = r["startup"]
        lines += [
            "",
            "**Start-up** (tmux 80x24, to the painted worklist; min / median / max):",
            "",
            "| figure | min | median | max |",
            "|---|---|---|---|",
        ]
        for key, label in (
            ("app_s", "incasso → painted worklist (s)"),
            ("baseline_s", "empty Textual app (s)"),
            ("rss_mib", "RSS at paint (MiB)"),
            ("rss_after_paging_mib", "RSS after 50 PageDowns (MiB)"),
            ("app_cpu_s", "incasso: CPU used when painted (s)"),
            ("baseline_cpu_s", "empty Textual app: CPU used when painted (s)"),
            ("harlequin_s", "harlequin on the same file → its catalog painted (s)"),
            ("harlequin_cpu_s", "harlequin: CPU used when painted (s)"),
        ):
            if key in s:
                lines.append(f"| {label} | {s[key]['min']:g} | {s[key]['median']:g} | {s[key]['max']:g} |")
        lines += [
            "",
            f"Ratios of the medians to the empty app: incasso {s['ratio']}× (CPU {s.get('cpu_ratio_median')}×)"
            + (
                f", harlequin {s['ratio_harlequin_median']}× (CPU {s['cpu_ratio_harlequin_median']}×)"
                if "ratio_harlequin_median" in s
                else ""
            )
            + f"; load {s.get('load')}.",
        ]
    if "keys" in r:
        k = r["keys"]
        seeded = k.get("seed")
        shown = (
            f"; the approvals screen shows {seeded['proposals']} submitted proposals and the task inbox "
            f"{seeded['tasks']} open tasks (`benchmarks.keys_seed`)"
            if seeded
            else "; no proposals or tasks seeded: the approvals and the task inbox show empty screens"
        )
        lines += [
            "",
            f"**Keys** (`benchmarks.keys`, tmux 80x24, user bakker, a copy of the book{shown}; {k['runs']} tries per "
            f"key, key → screen settled (settle {k['settle_s']} s, not counted); load {k['load_before']} → "
            f"{k['load_after']}; p50 / p95 / max ms; target p95 ≤ 100 ms):",
            "",
            "| key | forward | back | met |",
            "|---|---|---|---|",
        ]
        for name, row in k["steps"]["after"].items():
            f, bk = row["forward_s"], row["back_s"]
            met = "yes" if max(f["p95"], bk["p95"]) <= 0.1 else "**no**"
            lines.append(
                f"| {name} | {f['p50'] * 1000:.0f} / {f['p95'] * 1000:.0f} / {f['max'] * 1000:.0f} | "
                f"{bk['p50'] * 1000:.0f} / {bk['p95'] * 1000:.0f} / {bk['max'] * 1000:.0f} | {met} |"
            )
    if "queries" in r:
        q = r["queries"]
        lines += [
            "",
            f"**Worklist** (service calls the screen makes; p50 / p95 ms over {q['client detail']['runs']} runs "
            "after one warm-up):",
            "",
            "| filter or sort | cases | count + first page | next page | jump to end |",
            "|---|---|---|---|---|",
        ]
        for name, row in q["worklist"].items():
            lines.append(
                f"| {name} | {row['cases']:,} | {_ms(row['count+first page'])} | {_ms(row.get('next page'))} | "
                f"{_ms(row.get('jump to end'))} |"
            )
        lines += ["", "| search | term | cases | count + first page |", "|---|---|---|---|"]
        for kind, row in q["search"].items():
            lines.append(f"| {kind} | `{row['term']}` | {row['cases']:,} | {_ms(row['count+first page'])} |")
        d = q["client detail"]
        lines += [
            "",
            f"Client detail (client_detail + case_tracks + open_case): p50 {d['p50_ms']} ms, p95 {d['p95_ms']} ms, "
            f"max {d['max_ms']} ms ({d['runs']} cases across the book).",
        ]
    if "search" in r:
        sr = r["search"]
        lines += [
            "",
            "**Search** (`benchmarks.search`: per kind up to 10 terms taken from clients across the book, each "
            "timed `--runs` times after a warm-up; p50 / p95 ms over all the timings of the kind; hits: the median "
            "count):",
            "",
            "| kind | e.g. | timings | hits (all / desk) | search screen, all clients | search screen, desk | "
            "worklist box |",
            "|---|---|---|---|---|---|---|",
        ]
        for kind, row in sr["kinds"].items():
            lines.append(
                f"| {kind} | `{row['terms'][0]}` | {row['all']['runs']} | {row['found_all_median']:,} / "
                f"{row['found_desk_median']:,} | {_ms(row['all'])} | {_ms(row['desk'])} | "
                f"{_ms(row['worklist box'])} |"
            )
        sizes = {k: v for k, v in sr["index"].items() if k != "clients"}
        total = sum(sizes.values())
        lines += [
            "",
            f"Search index: {total / 2**20:,.1f} MiB for {sr['index']['clients']:,} clients ("
            + ", ".join(f"{k} {v / 2**20:,.1f} MiB" for k, v in sizes.items())
            + ").",
        ]
    if "procedure" in r:
        p = r["procedure"]
        lines += [
            "",
            "**Daily procedure run** (`incasso procedure run --date D --json` on a copy of the book):",
            "",
            "| run | wall | peak RSS | selection SQL | acted |",
            "|---|---|---|---|---|",
        ]
        runs = [("first (catch-up on the generated book)", p["first"]), ("same day again", p["same_day_again"])]
        runs += [(f"next day ({i + 1})", x) for i, x in enumerate(p["next_day"])]
        for label, x in runs:
            acted = ", ".join(f"{k} {v:,}" for k, v in x["actions"].items()) or "nothing"
            lines.append(f"| {label} | {x['wall_s']} s | {x['peak_rss_mib']} MiB | {x['selection_s']} s | {acted} |")
        f = p["floor"]
        lines += [
            "",
            f"SQL floor (days past due of {f['loans']:,} loans): {f['min']} / {f['median']} / {f['max']} s. "
            f"Ratios to the median floor (the second figure; the target is against the write floor): first run "
            f"{p['ratio_first']}×, next day {p['ratio_next_day']}×.",
        ]
        if "ratio_first_write" in p:
            wf, wn = p["write_floor_first"], p["write_floor_next_day"]
            lines += [
                "",
                f"Write floor (the same rows with plain executemany in one transaction, "
                f"benchmarks/write_floor.py): first run {wf['rows_total']:,} rows in {wf['median_s']} s, "
                f"next day {wn['rows_total']:,} rows in {wn['median_s']} s. Ratios: first run "
                f"{p['ratio_first_write']}×, next day {p['ratio_next_day_write']}× (target ≤ 3×).",
            ]
    if "import" in r:
        i = r["import"]
        lines += [
            "",
            f"**Payment import** ({i['file_mb']} MB CAMT.053, 100,000 entries, 20,000-loan book; min / median / max):",
            "",
            "| figure | min | median | max |",
            "|---|---|---|---|",
        ]
        for key, label in (
            ("import_s", "`incasso payments import` (s)"),
            ("bare_lxml_s", "bare lxml parse (s)"),
            ("reimport_s", "the same file again, all duplicates (s)"),
            ("import_rss_mb", "import peak RSS (MB)"),
        ):
            lines.append(f"| {label} | {i[key]['min']:g} | {i[key]['median']:g} | {i[key]['max']:g} |")
    if "ssh" in r and "skipped" not in r["ssh"]:
        s = r["ssh"]
        one, all_ = s["keys_one_typing"], s["keys_all_typing"]
        lines += [
            "",
            f"**SSH** (`benchmarks.ssh_sessions`: {s['sessions']} sessions, one connect a second, on a copy of the "
            "book, asyncssh client with an 80x24 pty):",
            "",
            "| figure | value |",
            "|---|---|",
            f"| connect → painted worklist p50 / p95 | {s['connect_to_painted_s']['p50']:.2f} / "
            f"{s['connect_to_painted_s']['p95']:.2f} s |",
            f"| app RSS / PSS per session | {s['app_rss_mib']['per_session']} / {s['app_pss_mib']['per_session']} MiB |",
            f"| server RSS / PSS | {s['server_rss_mib']} / {s['server_pss_mib']} MiB |",
            f"| key → new status line, one typing: p50 / p95 | {one['status_line_s']['p50'] * 1000:.0f} / "
            f"{one['status_line_s']['p95'] * 1000:.0f} ms |",
            f"| key → new status line, all typing: p50 / p95 | {all_['status_line_s']['p50'] * 1000:.0f} / "
            f"{all_['status_line_s']['p95'] * 1000:.0f} ms |",
            f"| CPU of all apps idle for {s['idle_seconds']:g} s | {s['idle_cpu_s']['apps']} s |",
            f"| app processes left after disconnect | {s['apps_left_after_disconnect']} |",
        ]
    if "ssh_burst" in r:
        s = r["ssh_burst"]
        c = s["connect_to_painted_s"]
        lines += [
            "",
            f"**SSH, {s['sessions']} logins in the same second**: painted p50 {c['p50']:.2f} s, the last "
            f"{c['max']:.2f} s; app PSS {s['app_pss_mib']['per_session']} MiB per session (RSS "
            f"{s['app_rss_mib']['per_session']}); keys while all type p50 / p95 "
            f"{s['keys_all_typing']['status_line_s']['p50'] * 1000:.0f} / "
            f"{s['keys_all_typing']['status_line_s']['p95'] * 1000:.0f} ms; app processes left after disconnect: "
            f"{s['apps_left_after_disconnect']}.",
        ]
    return "\n".join(lines) + "\n"


def write_results(b: Backend, r: dict[str, Any]) -> None:
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"{b.name}.json").write_text(json.dumps(r, indent=2) + "\n")
    path = HERE / "RESULTS.md"
    text = path.read_text()
    start, end = f"<!-- suite:{b.name}:start -->", f"<!-- suite:{b.name}:end -->"
    block = f"{start}\n{render(b, r)}{end}"
    if start in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        marker = "<!-- suite:end-of-generated -->"
        text = text.replace(marker, f"{block}\n\n{marker}") if marker in text else text + "\n" + block + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(os.environ.get("INCASSO_BENCH_DIR", Path.home() / ".cache" / "incasso-bench")),
        help="where the books live (several GB; env INCASSO_BENCH_DIR)",
    )
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="runs per timed figure (queries: at least 20)")
    parser.add_argument("--procedure-runs", type=int, default=1, help="next-day runs, each on a fresh copy")
    parser.add_argument("--import-runs", type=int, default=3)
    parser.add_argument("--ssh-sessions", type=int, default=10, help="sessions of the one-a-second SSH run")
    parser.add_argument(
        "--harlequin",
        metavar="PATH",
        help="startup: also harlequin's first paint on the same SQLite book (a side figure)",
    )
    parser.add_argument("--key-runs", type=int, default=20, help="tries per key in the keys step")
    parser.add_argument("--date", default="2026-11-23")
    parser.add_argument("--only", default=",".join(STEPS), help=f"comma-separated steps of: {', '.join(STEPS)}")
    parser.add_argument("--postgresql", action="store_true", help="run on INCASSO_TEST_PG_URL's server")
    parser.add_argument("--regenerate", action="store_true", help="build the book even if one exists")
    parser.add_argument("--no-write", action="store_true", help="print the results; leave RESULTS.md alone")
    parser.add_argument(
        "--rewrite",
        action="store_true",
        help="measure nothing: write RESULTS.md from the figures of the last run (in --dir)",
    )
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    steps = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        parser.error(f"unknown step(s): {', '.join(unknown)}")
    b = Backend(args)
    last = args.dir / f"last-{b.name}-{args.loans}.json"
    if args.rewrite:
        write_results(b, json.loads(last.read_text()))
        return 0
    # a run of some steps keeps the other steps' figures of the last run (each step says when it was measured)
    results: dict[str, Any] = json.loads(last.read_text()) if last.exists() and set(steps) != set(STEPS) else {}
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    results.update(
        {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": _machine(), "load_start": _load()}
    )
    results.setdefault("measured", {})
    if "generate" in steps or not b.exists(f"book{args.loans}"):
        step_generate(b, results)
        results["measured"]["generate"] = {
            "at": results["generate"].get("built", ""),
            "command": "reused: built earlier" if results["generate"].get("reused") else command,
        }
    for name in steps:
        if name == "generate":
            continue
        print(f"benchmarks: {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        globals()[f"step_{name}"](b, results)
        results["measured"][name] = {"at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "command": command}
        print(f"benchmarks: {name} took {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        last.write_text(json.dumps(results, indent=2) + "\n")  # a later step's failure keeps what was measured
    results["load_end"] = _load()
    last.write_text(json.dumps(results, indent=2) + "\n")
    print(render(b, results))
    if not args.no_write:
        write_results(b, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
