"""The real ``incasso budget`` and ``incasso calc draagkracht`` commands (issue 15)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from incasso_tui.store.models import Client
from tests.conftest import AS_OF
from tests.e2e.test_cli import one_line_error, run


@pytest.fixture
def book(sqlite_template: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "book.db"
    shutil.copy(sqlite_template, path)
    return ["--db", f"sqlite:///{path}", "--date", AS_OF.isoformat()]


def _client(book: list[str], kind: str, consumer: bool) -> str:
    engine = create_engine(book[1])
    with engine.connect() as conn:
        number = conn.execute(
            select(Client.number).where(Client.kind == kind, Client.consumer.is_(consumer)).order_by(Client.id).limit(1)
        ).scalar_one()
    engine.dispose()
    return str(number)


def test_calc_draagkracht_shows_every_step_in_both_languages() -> None:
    # the worked example of tests/unit/test_budget.py::test_single (half year from 1-1-2025): capacity 537,34
    args = [
        "calc",
        "draagkracht",
        "--household",
        "single",
        "--income",
        "2600",
        "--housing",
        "750",
        "--fixed",
        "50",
        "--debts",
        "100",
        "--date",
        "2025-03-01",
    ]
    out = json.loads(run(*args, "--json").stdout)
    assert out["capacity"] == "537.34" and out["norm_period"] == "2025-01-01" and out["norm_verified"] is False
    assert [s["key"] for s in out["steps"]] == [
        "income",
        "norm",
        "base",
        "housing_correction",
        "health_correction",
        "protected",
        "available",
        "fixed",
        "debts",
        "household_capacity",
        "capacity",
    ]
    dutch = run(*args).stdout
    assert (
        "Bijstandsnorm" in dutch
        and "€\xa01.291,66" in dutch
        and "€\xa0537,34" in dutch
        and "NIET GEVERIFIEERD" in dutch
    )
    english = run("--lang", "en", *args).stdout
    assert "Assistance norm" in english and "€537.34" in english


def test_calc_draagkracht_refuses_bad_figures_in_one_line() -> None:
    absurd = run(
        "--lang",
        "en",
        "calc",
        "draagkracht",
        "--household",
        "single",
        "--income",
        "1000000",
        "--housing",
        "700",
        "--fixed",
        "0",
    )
    assert absurd.returncode == 2 and "not a plausible figure" in one_line_error(absurd)
    children = run(
        "calc",
        "draagkracht",
        "--household",
        "couple",
        "--children",
        "2",
        "--income",
        "3000",
        "--housing",
        "700",
        "--fixed",
        "0",
    )
    assert children.returncode == 2 and "geen kinderen" in one_line_error(children)
    missing = run(
        "calc",
        "draagkracht",
        "--household",
        "single",
        "--income",
        "3000",
        "--housing",
        "700",
        "--fixed",
        "0",
        "--date",
        "2027-01-04",
    )
    assert missing.returncode == 2 and "Geen norm voor 2027-01: voeg die toe aan" in one_line_error(missing)
    assert one_line_error(missing).endswith("budget_norms.toml")


def test_budget_set_and_show(book: list[str]) -> None:
    number = _client(book, "natural", True)
    saved = run(
        "budget",
        "set",
        number,
        "--checked",
        "payslip",
        "--household",
        "single_parent",
        "--children",
        "1",
        "--salary",
        "2.400,00",
        "--housing",
        "900",
        "--health",
        "150",
        "--debt",
        "DUO=75",
        "--cause",
        "illness",
        *book,
        "--user",
        "demo",
    )
    assert saved.returncode == 0, saved.stderr
    shown = json.loads(run("budget", "show", number, "--json", *book).stdout)
    assert shown["current"]["household"]["household"] == "single_parent"
    assert shown["current"]["household"]["debts"] == [{"creditor": "DUO", "monthly": "75.00"}]
    assert shown["capacity"]["steps"][0] == {"key": "income", "label": "Net income", "amount": "2400.00"}
    assert shown["stale"] is False and len(shown["history"]) == 1
    text = run("--lang", "en", "budget", "show", number, *book).stdout
    assert "payslip seen" in text and "For this lender" in text
    causes = json.loads(run("budget", "causes", "--json", *book).stdout)
    assert causes["illness"] >= 1


def test_budget_set_refuses_a_business_budget_for_a_consumer(book: list[str]) -> None:
    number = _client(book, "natural", True)
    refused = run(
        "--lang",
        "en",
        "budget",
        "set",
        number,
        "--checked",
        "payslip",
        "--household",
        "single",
        "--salary",
        "2000",
        "--revenue",
        "5000",
        *book,
        "--user",
        "demo",
    )
    assert refused.returncode == 2 and "A consumer has no business figures" in one_line_error(refused)
    assert json.loads(run("budget", "show", number, "--json", *book).stdout)["current"] is None
