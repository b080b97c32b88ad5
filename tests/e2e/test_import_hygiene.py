"""What each path imports (issue 17, as harlequin's test_import_hygiene): a command that only reads the database
never imports Textual (nor the portal's web stack); the TUI's start on a current schema never imports Alembic, nor
SQLAlchemy's PostgreSQL dialect on SQLite (store.models.postgresql_partial_indexes), nor the command groups other than
``tui`` (issue 18: their modules and the services they import cost about 0.1 s of the
first paint). Each case runs in a fresh interpreter, so nothing imported by the test session counts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROBE_CLI = """
import sys
from incasso_tui.cli import main
rc = main(["users", "list", "--db", sys.argv[1]])
print("RESULT", rc, *sorted(m for m in ("textual", "starlette", "uvicorn", "alembic") if m in sys.modules))
"""

PROBE_TUI = """
import sys
import incasso_tui.cli as cli
import incasso_tui.cli.tui as tui
import incasso_tui.ui.app as app_module

OWN = ("incasso_tui.cli", "incasso_tui.cli.root", "incasso_tui.cli.common", "incasso_tui.cli.tui")

def run(self, *args, **kwargs):  # the app is built as for a person, not drawn
    groups = [m for m in sys.modules if m.startswith("incasso_tui.cli.") and m not in OWN]
    late = ("alembic", "starlette", "uvicorn", "sqlalchemy.dialects.postgresql")
    print("RESULT", *sorted(m for m in late if m in sys.modules), *sorted(groups))

app_module.IncassoApp.run = run
tui.require_terminal = lambda: None
cli.main(["tui", "--db", sys.argv[1], "--user", "demo"])
"""


@pytest.fixture
def book(sqlite_template: str, tmp_path: Path) -> str:
    path = tmp_path / "book.db"
    shutil.copy(sqlite_template, path)
    return str(path)


def _probe(code: str, book: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", code, book], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT")]
    assert lines, out.stdout + out.stderr
    return lines[-1].split()[1:]


def test_a_reading_command_imports_no_textual_and_no_web_stack(book: str) -> None:
    assert _probe(PROBE_CLI, book) == ["0"]


def test_the_tui_start_on_sqlite_imports_no_alembic_no_postgresql_and_no_other_command_group(book: str) -> None:
    assert _probe(PROBE_TUI, book) == []
    # the same with a command group imported first reports it: the check can fail
    assert _probe("import incasso_tui.cli.calc\n" + PROBE_TUI, book) == ["incasso_tui.cli.calc"]


def test_the_probe_sees_a_planted_import(book: str) -> None:
    # the check can fail: the same probe with Textual imported first reports it
    assert _probe("import textual\n" + PROBE_CLI, book) == ["0", "textual"]
