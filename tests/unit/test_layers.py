"""The layer rules (import-linter contracts, pyproject.toml): domain/ and services/ never import Textual; bank/,
letters/ and mail/ import neither services nor store; the use-case modules of services.payments and
services.procedure import each other in one direction only; the command groups of incasso_tui.cli import
neither each other nor come back from common."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 10 kept, 0 broken" in result.stdout


def _lint_a_copy_with(tmp_path: Path, module: str, source: str) -> subprocess.CompletedProcess[str]:
    """lint-imports on a copy of the package in which ``module`` (a path under incasso_tui/) ends with ``source``."""
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "incasso_tui", copy / "incasso_tui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / "incasso_tui" / module
    target.write_text((target.read_text() if target.exists() else "") + source)
    lint = Path(sys.executable).with_name("lint-imports")
    env = {"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(lint), "--no-cache"], cwd=copy, capture_output=True, text=True, env=env, timeout=120)


def test_the_contract_catches_a_textual_import(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The check can fail: a copy of the package whose domain imports textual breaks the contract."""
    result = _lint_a_copy_with(tmp_path, "domain/leak.py", "import textual\n")
    assert result.returncode != 0
    assert "incasso_tui.domain.leak -> textual" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        # the transport reaching back into the use cases (the outbox was such a circle before it moved to services/)
        ("mail/leak.py", "from incasso_tui.services import outbox\n", "incasso_tui.mail.leak -> incasso_tui.services"),
        ("bank/leak.py", "from incasso_tui.store import models\n", "incasso_tui.bank.leak -> incasso_tui.store.models"),
        ("letters/leak.py", "from incasso_tui.store import db\n", "incasso_tui.letters.leak -> incasso_tui.store.db"),
        # a lower layer importing a use case, and a module no layer names
        (
            "services/payments/common.py",
            "from incasso_tui.services.payments import importing\n",
            "incasso_tui.services.payments.common -> incasso_tui.services.payments.importing",
        ),
        (
            "services/procedure/batch.py",
            "from incasso_tui.services.procedure import stages\n",
            "incasso_tui.services.procedure.batch -> incasso_tui.services.procedure.stages",
        ),
        ("services/procedure/extra.py", "X = 1\n", "- incasso_tui.services.procedure.extra"),
        # a command reading a table itself, a screen talking to the database
        ("cli/calc.py", "from incasso_tui.store import models\n", "incasso_tui.cli.calc -> incasso_tui.store.models"),
        ("ui/leak.py", "import sqlalchemy\n", "incasso_tui.ui.leak -> sqlalchemy"),
        # the command line's circle coming back: a group using another group, common using a group, a module no
        # layer names
        (
            "cli/procedure.py",
            "from incasso_tui.cli import audit\n",
            "incasso_tui.cli.procedure -> incasso_tui.cli.audit",
        ),
        ("cli/common.py", "from incasso_tui.cli import calc\n", "incasso_tui.cli.common -> incasso_tui.cli.calc"),
        ("cli/extra.py", "X = 1\n", "- incasso_tui.cli.extra"),
    ],
    ids=[
        "mail-services",
        "bank-store",
        "letters-store",
        "payments-layers",
        "procedure-layers",
        "procedure-exhaustive",
        "cli-store-models",
        "ui-sqlalchemy",
        "cli-group-group",
        "cli-common-group",
        "cli-exhaustive",
    ],
)
def test_the_contracts_catch_a_wrong_import(tmp_path, module, source, broken) -> None:  # type: ignore[no-untyped-def]
    result = _lint_a_copy_with(tmp_path, module, source)
    assert result.returncode != 0
    assert broken in " ".join(result.stdout.split()), result.stdout  # the report wraps long lines
