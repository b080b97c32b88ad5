"""The real ``incasso payments import`` and ``incasso payments monitor`` commands, on the shared bank samples, and
a kill -9 in the middle of an import."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from incasso_tui.store.db import Database
from incasso_tui.store.models import BankEntryRow, Case, Client, LedgerEntry, Loan
from tests.conftest import AS_OF
from tests.e2e.test_cli import INCASSO, one_line_error, run

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "bank"


def _sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"bank sample {name} not found in {SAMPLES} (the shared test data is not mounted)")
    return path


def _book(sqlite_template: str, tmp_path: Path) -> tuple[str, Database]:
    path = tmp_path / "b.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    return url, Database(url)


def _count(db: Database, model) -> int:  # type: ignore[no-untyped-def]
    with db.reader() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_import_a_real_camt054_twice_and_refuse_a_bad_file(sqlite_template: str, tmp_path: Path) -> None:
    url, db = _book(sqlite_template, tmp_path)
    camt054 = _sample("oca-test-camt054.xml")
    with db.transaction() as s:  # the sample's debtor IBAN becomes the known IBAN of a one-loan client in arrears
        one_loan = select(Loan.client_id).group_by(Loan.client_id).having(func.count() == 1).scalar_subquery()
        client_id = s.scalars(
            select(Case.client_id)
            .where(Case.status == "active", Case.pos_arrears > 0, Case.client_id.in_(one_loan))
            .order_by(Case.id)
        ).first()
        s.execute(update(Client).where(Client.id == client_id).values(iban="NL46ABNA0499998748"))
    ledger = _count(db, LedgerEntry)
    day = ["--db", url, "--date", AS_OF.isoformat(), "--user", "demo"]
    first = run("payments", "import", str(camt054), *day, "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"entries": 1, "new": 1, "duplicates": 0, "matched": 1, "unmatched": 0}
    again = run("payments", "import", str(camt054), *day, "--json")
    assert json.loads(again.stdout) == {"entries": 1, "new": 0, "duplicates": 1, "matched": 0, "unmatched": 0}
    assert _count(db, LedgerEntry) == ledger + 1
    with db.reader() as s:
        assert s.scalar(select(BankEntryRow.match_reason)) == "iban"

    bad = run("payments", "import", str(_sample("oca-test-wrong-file.940")), *day)
    assert "line 1" in one_line_error(bad)
    assert _count(db, BankEntryRow) == 1

    old = {"INCASSO_STATEMENT_MAX_DAYS_BACK": "36500"}  # the sample's entries are of 2014, the book's day is 2026
    camt053 = run("payments", "import", str(_sample("oca-test-camt053.xml")), *day, env=old)
    assert camt053.returncode == 0, camt053.stderr
    # a debit, two returned direct debits we never booked (to the queue) and a credit from an unknown IBAN
    assert "entries 4, new 4, duplicates 0, matched 0, unmatched 3" in camt053.stdout

    monitor = run("payments", "monitor", *day, "--json")
    assert monitor.returncode == 0, monitor.stderr
    assert set(json.loads(monitor.stdout)) >= {"promises_kept", "promises_broken", "arrangements_broken"}
    db.dispose()


def _locked(path: Path) -> bool:
    """True if another connection holds the database's write lock."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:  # "database is locked"
        return True
    finally:
        probe.close()


def _holds_write_lock_soon(path: Path, proc: subprocess.Popen[bytes], timeout: float = 120) -> bool:
    """Wait until another process holds the database's write lock (True), or ``proc`` ends first (False)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if _locked(path):
            return True
        time.sleep(0.005)
    return False


def test_kill_9_halfway_an_import_leaves_nothing_and_the_rerun_books_each_entry_once(
    sqlite_template: str, tmp_path: Path
) -> None:
    from benchmarks.gen_camt053 import generate

    url, db = _book(sqlite_template, tmp_path)
    statement = tmp_path / "big.xml"
    generate(statement, 20_000, seed=3)
    args = [
        *INCASSO,
        "payments",
        "import",
        str(statement),
        "--db",
        url,
        "--date",
        AS_OF.isoformat(),
        "--user",
        "demo",
        "--json",
    ]
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=os.environ.copy()
    )
    # Kill it while it holds SQLite's write lock, i.e. inside its one transaction (the file is parsed before it
    # begins), a moment after it took the lock so that rows are being written. A fixed sleep from the start is no
    # good: the kill can land after the commit, or before the transaction began.
    path = Path(url.removeprefix("sqlite:///"))
    if not _holds_write_lock_soon(path, proc):
        pytest.skip("the import ended before its transaction was seen: nothing to show")
    time.sleep(0.3)
    if not _locked(path):
        pytest.skip("the import committed within 0.3 s of taking the lock (a very fast machine): nothing to show")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _count(db, BankEntryRow) == 0  # all or nothing: nothing
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert counts["new"] == counts["entries"] > 20_000  # batches add transactions
    assert _count(db, BankEntryRow) == counts["entries"]
    db.dispose()
