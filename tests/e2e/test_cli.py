"""The real ``incasso`` command: help, version, and bad input reported in one line without a traceback."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

INCASSO = [sys.executable, "-m", "incasso_tui.cli"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``incasso ARGS`` in this process: ``cli.main`` with the environment and ``env`` over it, an empty standard
    input, and the exit code and output as the process would give them (a traceback on stderr and 1 for an uncaught
    error). A second of imports fewer per command; the tests of the process itself (the entry point, a command that
    must not wait on its standard input or a lock) use ``run_process``."""
    from incasso_tui.cli import main

    saved = (dict(os.environ), sys.stdin, sys.stdout, sys.stderr)
    out, err = io.BytesIO(), io.BytesIO()
    stdout, stderr = (io.TextIOWrapper(b, encoding="utf-8", write_through=True) for b in (out, err))
    os.environ.update(env or {})
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(""), stdout, stderr
    try:
        code: object = main(list(args))
    except SystemExit as stop:  # argparse: --help, a usage error
        code = stop.code
    except Exception:  # noqa: BLE001  # as the interpreter would: the traceback, exit 1
        traceback.print_exc()
        code = 1
    finally:
        stdout.flush()
        stderr.flush()
        os.environ.clear()
        os.environ.update(saved[0])
        sys.stdin, sys.stdout, sys.stderr = saved[1:]
    if isinstance(code, str):
        err.write(f"{code}\n".encode())
        code = 1
    text = [b.getvalue().decode().replace("\r\n", "\n") for b in (out, err)]  # read before the wrappers go
    return subprocess.CompletedProcess(["incasso", *args], int(code or 0), text[0], text[1])


def run_process(*args: str, env: dict[str, str] | None = None, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    """``incasso ARGS`` as a process of its own (``python -m incasso_tui.cli``), standard input /dev/null."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*INCASSO, *args], capture_output=True, text=True, env=full_env, timeout=timeout, stdin=subprocess.DEVNULL
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("incasso: ")
    return lines[0]


def test_help_and_version() -> None:
    result = run_process("--help")
    assert result.returncode == 0 and "generate" in result.stdout and "demo" in result.stdout
    version = run_process("--version")
    assert version.returncode == 0 and version.stdout.startswith("incasso-tui ")


def test_unknown_database_scheme() -> None:
    assert "mysql" in one_line_error(run("users", "list", "--db", "mysql://x/y"))


def test_missing_database(tmp_path: Path) -> None:
    line = one_line_error(run("users", "list", "--db", f"sqlite:///{tmp_path}/nope.db"))
    assert "bestaat niet" in line and "incasso db upgrade" in line


def test_missing_database_in_english(tmp_path: Path) -> None:
    line = one_line_error(run("--lang", "en", "users", "list", "--db", f"sqlite:///{tmp_path}/nope.db"))
    assert "does not exist" in line


def test_unknown_user_is_told_how_to_add_one(sqlite_template: str, tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    shutil.copy(sqlite_template, db)
    line = one_line_error(run("--db", f"sqlite:///{db}", "--user", "nobody"))
    assert "incasso users add nobody --role employee" in line


def test_outdated_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    import sqlite3

    sqlite3.connect(db).execute("create table t(x)").connection.close()
    line = one_line_error(run("users", "list", "--db", f"sqlite:///{db}"))
    assert "incasso db upgrade" in line


def test_corrupt_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("db_url = [unclosed\n")
    line = one_line_error(run("users", "list", env={"INCASSO_CONFIG": str(config)}))
    assert str(config) in line


def test_wrong_setting_value(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("arrangement_max_installments = 0\n")
    line = one_line_error(run("users", "list", env={"INCASSO_CONFIG": str(config)}))
    assert "arrangement_max_installments" in line


def test_locked_database_is_reported(sqlite_template: str, tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "b.db"
    shutil.copy(sqlite_template, db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        line = one_line_error(
            run_process("users", "add", "piet", "--role", "employee", "--db", f"sqlite:///{db}", timeout=90)
        )
        assert "locked" in line
    finally:
        holder.rollback()
        holder.close()


def test_users_add_list_disable(sqlite_template: str, tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    shutil.copy(sqlite_template, db)
    url = f"sqlite:///{db}"
    assert run("users", "add", "piet", "--role", "supervisor", "--full-name", "Piet Pol", "--db", url).returncode == 0
    listed = json.loads(run("users", "list", "--json", "--db", url).stdout)
    assert {"name": "piet", "role": "supervisor"}.items() <= next(u for u in listed if u["name"] == "piet").items()
    assert "rol" in one_line_error(run("users", "add", "kees", "--role", "boss", "--db", url)).lower()
    assert run("users", "disable", "piet", "--db", url).returncode == 0
    assert "uitgeschakeld" in one_line_error(run("--db", url, "--user", "piet"))


@pytest.mark.parametrize("loans", ["0", "-3"])
def test_generate_refuses_a_nonsense_count(tmp_path: Path, loans: str) -> None:
    assert "1" in one_line_error(run("generate", "--loans", loans, "--db", f"sqlite:///{tmp_path}/g.db"))
