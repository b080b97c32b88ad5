"""The write floor of a batch run: the same rows written with plain ``executemany`` in one transaction.

    python -m benchmarks.write_floor BEFORE.db AFTER.db [--runs 3] [--json]

``BEFORE.db`` is an SQLite book as it was before a run (``incasso procedure run``, an import, ...) and
``AFTER.db`` the same book after it. The script finds every row the run inserted, changed or deleted, table
by table (``EXCEPT`` over all columns, keyed by the primary key), and then, on a fresh copy of ``BEFORE.db``,
writes exactly those rows with the ``sqlite3`` module: one ``BEGIN IMMEDIATE``, per table one
``executemany`` of DELETEs (children's tables first), UPDATEs (every column but the key, by primary key) and
INSERTs (parents' tables first), foreign keys checked at COMMIT,
with the app's pragmas (WAL, ``synchronous=NORMAL``, foreign keys on). The time from BEGIN to the end of
COMMIT is the least any code can take to leave the book in that state; a run's wall time divided by it is
how far the run is from its floor. Reading and deciding cost nothing here, so the floor is a lower bound,
not a target. SQLite only (a PostgreSQL book would need the two databases side by side on one server).

The copy checks itself: after writing, every table of the copy must equal ``AFTER.db``'s (the script fails
otherwise), so the floor wrote what the run wrote.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path


@dataclass
class TableChanges:
    name: str
    columns: list[str]
    key: list[str]
    inserts: list[tuple[object, ...]] = field(default_factory=list)
    updates: list[tuple[object, ...]] = field(default_factory=list)  # the non-key values, then the key values
    deletes: list[tuple[object, ...]] = field(default_factory=list)

    @property
    def values(self) -> list[str]:
        """The columns an UPDATE sets: all but the key. Setting a key to itself is no change, but SQLite checks
        every child table's foreign keys for a parent key in the SET list: one scan per updated row of a child
        table without an index on its column (``documents.loan_id`` for an updated loan)."""
        return [c for c in self.columns if c not in self.key]

    @property
    def count(self) -> int:
        return len(self.inserts) + len(self.updates) + len(self.deletes)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(conn: sqlite3.Connection) -> list[str]:
    """Ordinary tables, without SQLite's own and without the shadow tables of virtual (FTS) tables: those
    are written by SQLite itself when their virtual table is, and the virtual table's rows are not compared."""
    rows = conn.execute("PRAGMA main.table_list").fetchall()  # (schema, name, type, ncol, wr, strict)
    return sorted(r[1] for r in rows if r[0] == "main" and r[2] == "table" and not r[1].startswith("sqlite_"))


def changes(before: Path, after: Path) -> list[TableChanges]:
    conn = sqlite3.connect(f"file:{after}?mode=ro", uri=True)
    try:
        conn.execute("ATTACH ? AS b", (f"file:{before}?mode=ro",))
        found = []
        for table in _tables(conn):
            info = conn.execute(f"PRAGMA main.table_info({_q(table)})").fetchall()  # cid, name, type, notnull, dflt, pk
            columns = [r[1] for r in info]
            key = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]] or ["rowid"]
            cols = ", ".join(_q(c) for c in columns)
            keys = ", ".join(_q(k) if k != "rowid" else "rowid" for k in key)
            tc = TableChanges(table, columns, key)
            changed = conn.execute(
                f"SELECT {cols} FROM main.{_q(table)} EXCEPT SELECT {cols} FROM b.{_q(table)}"
            ).fetchall()
            index = [columns.index(k) for k in key] if key != ["rowid"] else []
            # which changed rows are updates: their keys looked up in the old table (not every old key read: a
            # 1,000,000-loan book has 45 million installments, and a run changes none of them)
            old_keys = _existing_keys(conn, table, key, [tuple(row[i] for i in index) for row in changed])
            for row in changed:
                k = tuple(row[i] for i in index)
                if k in old_keys:
                    tc.updates.append((*(v for i, v in enumerate(row) if i not in index), *k))
                else:
                    tc.inserts.append(tuple(row))
            tc.deletes = conn.execute(
                f"SELECT {keys} FROM b.{_q(table)} EXCEPT SELECT {keys} FROM main.{_q(table)}"
            ).fetchall()
            if tc.count:
                found.append(tc)
        return found
    finally:
        conn.close()


def _existing_keys(
    conn: sqlite3.Connection, table: str, key: list[str], wanted: list[tuple[object, ...]]
) -> set[tuple[object, ...]]:
    """The keys among ``wanted`` that the old table ``b.table`` holds, looked up in slices."""
    if not wanted:
        return set()
    if key == ["rowid"]:  # no primary key: the old behaviour, every old rowid
        return {tuple(r) for r in conn.execute(f"SELECT rowid FROM b.{_q(table)}")}
    found: set[tuple[object, ...]] = set()
    cols = ", ".join(_q(k) for k in key)
    one = "(" + ", ".join("?" for _ in key) + ")"
    size = max(1, 900 // len(key))  # under SQLite's 999 parameters
    for start in range(0, len(wanted), size):
        part = wanted[start : start + size]
        marks = ", ".join(one for _ in part)
        params = [v for k in part for v in k]
        if len(key) == 1:
            sql = f"SELECT {cols} FROM b.{_q(table)} WHERE {cols} IN ({', '.join('?' for _ in part)})"
        else:
            sql = f"SELECT {cols} FROM b.{_q(table)} WHERE ({cols}) IN (VALUES {marks})"
        found.update(tuple(r) for r in conn.execute(sql, params))
    return found


def _parents_first(conn: sqlite3.Connection, tables: list[str]) -> list[str]:
    """``tables`` in an order in which every table comes after the tables its foreign keys refer to (a reference of
    a table to itself does not count; a cycle keeps the given order). Written in that order, no deferred foreign
    key is ever outstanding: while one is, SQLite looks for the children of every parent row inserted, a scan per
    row of a child table without an index on its column (``bank_entries.ledger_id`` for every new ledger row)."""
    wanted = set(tables)
    graph = {
        t: {r[2] for r in conn.execute(f"PRAGMA foreign_key_list({_q(t)})") if r[2] in wanted and r[2] != t}
        for t in tables
    }
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError:
        return tables


def write_once(before: Path, found: list[TableChanges], target: Path) -> float:
    shutil.copyfile(before, target)
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        by_name = {tc.name: tc for tc in found}
        order = [by_name[t] for t in _parents_first(conn, list(by_name))]
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("PRAGMA defer_foreign_keys=ON")  # checked at COMMIT (a table's references to itself)
        for tc in reversed(order):  # children's rows go before their parents'
            if tc.deletes:
                where = " AND ".join(f"{_q(k)} = ?" for k in tc.key)
                conn.executemany(f"DELETE FROM {_q(tc.name)} WHERE {where}", tc.deletes)
        for tc in order:  # parents' rows come before their children's
            if tc.updates:
                where = " AND ".join(f"{_q(k)} = ?" for k in tc.key)
                sets = ", ".join(f"{_q(c)} = ?" for c in tc.values)
                conn.executemany(f"UPDATE {_q(tc.name)} SET {sets} WHERE {where}", tc.updates)
            if tc.inserts:
                marks = ", ".join("?" for _ in tc.columns)
                cols = ", ".join(_q(c) for c in tc.columns)
                conn.executemany(f"INSERT INTO {_q(tc.name)} ({cols}) VALUES ({marks})", tc.inserts)
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


def _same(a: Path, b: Path, tables: list[str]) -> list[str]:
    conn = sqlite3.connect(f"file:{a}?mode=ro", uri=True)
    try:
        conn.execute("ATTACH ? AS o", (f"file:{b}?mode=ro",))
        differ = []
        for t in tables:
            n = conn.execute(
                f"SELECT count(*) FROM (SELECT * FROM main.{_q(t)} EXCEPT SELECT * FROM o.{_q(t)})"
            ).fetchone()[0]
            m = conn.execute(
                f"SELECT count(*) FROM (SELECT * FROM o.{_q(t)} EXCEPT SELECT * FROM main.{_q(t)})"
            ).fetchone()[0]
            if n or m:
                differ.append(t)
        return differ
    finally:
        conn.close()


def measure(before: Path, after: Path, runs: int = 3) -> dict[str, object]:
    found = changes(before, after)
    times = []
    with tempfile.TemporaryDirectory(prefix="incasso-floor-") as tmp:
        target = Path(tmp) / "floor.db"
        for _ in range(runs):
            times.append(write_once(before, found, target))
        differ = _same(target, after, [tc.name for tc in found])
        if differ:
            raise SystemExit(f"the floor's copy differs from {after} in: {', '.join(differ)}")
    return {
        "rows": {
            tc.name: {"inserted": len(tc.inserts), "updated": len(tc.updates), "deleted": len(tc.deletes)}
            for tc in found
        },
        "rows_total": sum(tc.count for tc in found),
        "seconds": [round(t, 3) for t in times],
        "median_s": round(statistics.median(times), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.before, args.after, args.runs), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
