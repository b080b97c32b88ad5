"""The real ``incasso`` command in tmux, driven as a person would: worklist -> detail -> arrangement -> back."""

from __future__ import annotations

import re
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.e2e.terminal import Terminal

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

INCASSO = str(Path(sys.executable).with_name("incasso"))


@pytest.fixture
def book(sqlite_template: str, tmp_path: Path) -> Path:
    path = tmp_path / "book.db"
    shutil.copy(sqlite_template, path)
    return path


def _active_case_loan(db: Path) -> tuple[str, str]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select l.number, c.name from cases k join clients c on c.id = k.client_id join loans l on l.client_id = c.id "
            "where k.status = 'active' and k.pos_arrears > 30000 order by k.id limit 1"
        ).fetchone()


def test_walk_worklist_detail_arrangement_and_back(book: Path, tmp_path: Path) -> None:
    loan, name = _active_case_loan(book)
    env_cmd = [
        "env",
        f"INCASSO_CONFIG={tmp_path}/none.toml",
        INCASSO,
        "--db",
        f"sqlite:///{book}",
        "--user",
        "demo",
        "--date",
        "2026-11-23",
    ]
    term = Terminal(f"incasso-e2e-{tmp_path.name}", env_cmd)
    try:
        term.wait(r"1 van \d+ dossiers")
        term.keys("/")
        term.type(loan)
        term.keys("Enter")
        term.wait(r"1 van 1 dossier\b")
        term.keys("Enter")
        term.wait(r"Schema\s+Betalingen")
        term.wait(re.escape(name[:15]))  # the name is shown literally, markup characters and all
        term.keys("a")
        term.wait(r"Betalingsregeling")
        term.type("3")  # the number of installments has the focus when the screen opens
        term.wait(r"3 termijnen van")
        term.keys("C-s")
        term.wait(r"Status Regeling|Regeling vastgelegd")
        term.keys("Escape")
        term.wait(r"(?m)^R .*L\d{8}")  # back on the list, the case now marked R (arrangement)
    finally:
        term.close()
    with sqlite3.connect(book) as conn:
        # the generated book's history has demo's earlier arrangements too (issue 13): count today's
        (count,) = conn.execute(
            "select count(*) from audit_events where action = 'arrangement.create' and actor = 'demo'"
            " and at >= '2026-11-23'"
        ).fetchone()
    assert count == 1


def test_english_worklist_in_a_large_terminal(book: Path, tmp_path: Path) -> None:
    cmd = [
        "env",
        f"INCASSO_CONFIG={tmp_path}/none.toml",
        INCASSO,
        "--db",
        f"sqlite:///{book}",
        "--user",
        "demo",
        "--lang",
        "en",
        "--date",
        "2026-11-23",
    ]
    term = Terminal(f"incasso-e2e-en-{tmp_path.name}", cmd, size=(160, 48))
    try:
        screen = term.wait(r"1 of \d+ cases")
        assert "Arrears" in screen and "Demo Medewerker" in screen
        term.keys("C-q")
        screen = term.wait(r"exit=\d+", timeout=10)
        assert "exit=0" in screen and "1 of" not in screen
    finally:
        term.close()
