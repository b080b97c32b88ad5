"""The layer rules: domain/ and services/ never import Textual (import-linter contracts, pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken" in result.stdout


def test_the_contract_catches_a_textual_import(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The check can fail: a copy of the package whose domain imports textual breaks the contract."""
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "incasso_tui", copy / "incasso_tui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "incasso_tui" / "domain" / "leak.py").write_text("import textual\n")
    lint = Path(sys.executable).with_name("lint-imports")
    env = {"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([str(lint), "--no-cache"], cwd=copy, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode != 0
    assert "incasso_tui.domain.leak -> textual" in result.stdout
