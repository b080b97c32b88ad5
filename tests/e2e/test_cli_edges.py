"""No traceback, no hang (issue 16): the real ``incasso`` command at the edges, each ending in one clear line and a
non-zero exit; and the keyed audit trail through the real commands, tampered with on both databases."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from incasso_tui.store.db import Database
from incasso_tui.store.models import AuditEvent, AuditHead
from tests.e2e.test_cli import one_line_error, run, run_process

HUGE = str(10**30)


@pytest.fixture
def book(sqlite_template: str, tmp_path: Path) -> str:
    path = tmp_path / "b.db"
    shutil.copy(sqlite_template, path)
    return str(path)


@pytest.mark.parametrize(
    "args",
    [
        ("--date", "9999-12-31", "procedure", "run", "--dry-run"),
        ("--date", "0001-01-01", "payments", "monitor", "--user", "demo"),
        ("--date", "2200-01-01", "report", "kpi"),
        ("calc", "rente", "--amount", "1000", "--from", "2020-01-01", "--to", "9999-12-31"),
        ("calc", "rente", "--amount", "1000", "--from", "0001-01-01", "--to", "2020-01-01"),
        ("audit", "show", "--case", HUGE),
        ("audit", "show", "--case", "-1"),
        ("campaigns", "show", HUGE),
        ("campaigns", "resume", "99999999999"),
    ],
)
def test_edges_end_in_one_line(book: str, args: tuple[str, ...]) -> None:
    line = one_line_error(run("--db", book, "--lang", "en", *args))
    assert "outside the days this program works with" in line or "Not a record number" in line


def test_huge_amounts_over_long_periods_are_computed(book: str) -> None:
    # the largest amount the desk accepts (15 digits) over the longest period it works with
    result = run("calc", "rente", "--amount", "999999999999999", "--from", "2016-07-01", "--to", "2199-12-31", "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_at_a_newer_schema_is_refused_in_one_line(book: str, tmp_path: Path) -> None:
    with sqlite3.connect(book) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    for args in (("db", "upgrade"), ("users", "list"), ("demo",)):
        line = one_line_error(run(*args, "--db", book, "--lang", "en", "--date", "2026-11-23"))
        assert "The database schema is 0099, newer than this version of incasso knows" in line
    with sqlite3.connect(book) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0099",)


def test_an_unreadable_config_file_is_one_line(book: str) -> None:
    # /proc/self/mem is a regular file whose read fails (EIO): unreadable even for root, as a file without rights is
    line = one_line_error(run("users", "list", "--db", book, "--lang", "en", env={"INCASSO_CONFIG": "/proc/self/mem"}))
    assert "Cannot read the config file /proc/self/mem" in line


@pytest.mark.parametrize("args", [("tui",), ()])
def test_the_tui_without_a_terminal_says_so_and_does_not_wait(book: str, args: tuple[str, ...]) -> None:
    started = time.monotonic()
    line = one_line_error(run_process(*args, "--db", book, "--lang", "en", "--user", "demo", timeout=30))
    assert "The TUI needs a terminal" in line and time.monotonic() - started < 30


def test_importing_a_fifo_is_refused_at_once(book: str, tmp_path: Path) -> None:
    fifo = tmp_path / "statement.xml"
    os.mkfifo(fifo)
    line = one_line_error(
        run_process("payments", "import", str(fifo), "--db", book, "--user", "demo", "--lang", "en", timeout=30)
    )
    assert "is not a regular file" in line


# ----- the keyed audit trail through the real commands, on both databases


def _audit_env(tmp_path: Path) -> dict[str, str]:
    return {
        "INCASSO_AUDIT_KEY_FILE": str(tmp_path / "keys" / "audit.key"),
        "INCASSO_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
        "INCASSO_LANG": "en",
    }


def test_tampering_is_found_by_verify_on_both_databases(db: Database, tmp_path: Path) -> None:
    env = _audit_env(tmp_path)
    url = db.url
    before = run("audit", "verify", "--db", url, env=env)
    assert before.returncode == 0 and "not keyed" in before.stderr  # no key yet: said plainly
    init = run("audit", "init-key", "--db", url, env=env)
    assert init.returncode == 0, init.stderr
    assert (Path(env["INCASSO_AUDIT_KEY_FILE"]).stat().st_mode & 0o777) == 0o600
    daily = run("procedure", "run", "--db", url, "--date", "2026-11-23", env=env)  # keyed events and a checkpoint
    assert daily.returncode == 0, daily.stderr
    assert "audit checkpoint: event" in daily.stdout
    ok = run("audit", "verify", "--db", url, env=env)
    assert ok.returncode == 0 and ok.stdout.startswith("audit trail intact:") and "keyed" in ok.stdout, ok.stderr
    with db.reader() as s:
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    keep = events[-4]
    with db.transaction() as s:  # the newest three deleted and the head moved back
        s.execute(delete(AuditEvent).where(AuditEvent.id > keep.id))
        s.execute(update(AuditHead).values(last_hash=keep.hash, last_seq=keep.seq))
    broken = run("audit", "verify", "--db", url, env=env)
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    [line] = broken.stderr.strip().splitlines()
    assert line.startswith(f"audit trail BROKEN at event {keep.seq + 1}: the trail ends at event {keep.seq}")
    assert "Do not repair or change the database" in line


def test_a_key_file_others_can_read_is_refused_by_every_command(book: str, tmp_path: Path) -> None:
    env = _audit_env(tmp_path)
    assert run("audit", "init-key", "--db", book, env=env).returncode == 0
    os.chmod(env["INCASSO_AUDIT_KEY_FILE"], 0o644)
    line = one_line_error(run("users", "list", "--db", book, env=env))
    assert "can be read or written by others (mode 644)" in line
