"""The real ``incasso report risk`` and ``incasso risk ...`` commands (issue 20)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

from incasso_tui.domain.risk import DEFAULT_RISK_PATH
from tests.conftest import AS_OF
from tests.e2e.test_cli import one_line_error, run


def _book(sqlite_template: str, tmp_path: Path) -> str:
    shutil.copy(sqlite_template, tmp_path / "book.db")
    url = f"sqlite:///{tmp_path / 'book.db'}"
    result = run("procedure", "run", "--db", url, "--date", AS_OF.isoformat(), "--json")
    assert result.returncode in (0, 1), result.stderr  # 1: letters wait for the sender's details
    return url


def test_report_risk_json_csv_and_text_agree(sqlite_template: str, tmp_path: Path) -> None:
    url = _book(sqlite_template, tmp_path)
    day = AS_OF.isoformat()
    report = json.loads(run("report", "risk", "--db", url, "--date", day, "--json").stdout)
    portfolio = Decimal(report["portfolio"]["amount"])
    assert portfolio > 0 and report["as_of"] == day and report["recorded_until"] == day
    assert sum(Decimal(f["amount"]) for f in report["stages"].values()) == portfolio
    assert sum(Decimal(f["amount"]) for f in report["buckets"].values()) == portfolio
    past_30 = sum(Decimal(report["buckets"][b]["amount"]) for b in ("31-60", "61-90", "90+"))
    assert Decimal(report["par30"]["amount"]) == past_30 + Decimal(report["par30"]["restructured_added"]["amount"])
    assert 0 < report["par30"]["rate"] < 1 and "default.materiality" in report["unverified"]
    rows = list(csv.DictReader(io.StringIO(run("report", "risk", "--db", url, "--date", day, "--csv").stdout)))
    by = {(r["figure"], r["key"]): r for r in rows}
    assert Decimal(by[("portfolio", "")]["amount"]) == portfolio
    assert Decimal(by[("stage", "3")]["amount"]) == Decimal(report["stages"]["3"]["amount"])
    text = run("report", "risk", "--db", url, "--date", day, "--lang", "en").stdout
    assert "PAR30:" in text and "Stage 3:" in text
    assert "Portefeuille:" in run("report", "risk", "--db", url, "--date", day).stdout


def test_report_risk_refuses_a_day_before_the_book(sqlite_template: str) -> None:
    result = run("report", "risk", "--db", f"sqlite:///{sqlite_template}", "--as-of", "1990-01-01")
    line = one_line_error(result)
    assert "as_of" in line and "eerste dag" in line and result.returncode == 2


def test_a_contradictory_risk_file_stops_the_run_naming_file_and_field(sqlite_template: str, tmp_path: Path) -> None:
    shutil.copy(sqlite_template, tmp_path / "book.db")
    bad = tmp_path / "risk.toml"
    bad.write_text(
        DEFAULT_RISK_PATH.read_text(encoding="utf-8").replace(
            'relative_threshold = "0.01"', 'relative_threshold = "1.5"'
        )
    )
    result = run(
        "procedure",
        "run",
        "--db",
        f"sqlite:///{tmp_path / 'book.db'}",
        "--date",
        AS_OF.isoformat(),
        "--lang",
        "en",
        env={"INCASSO_RISK_FILE": str(bad)},
    )
    line = one_line_error(result)
    assert str(bad) in line and "default.relative_threshold" in line and "between 0 and 1" in line
    bad.write_text(DEFAULT_RISK_PATH.read_text(encoding="utf-8").replace("cure_months = 3", "cure_months = -1"))
    line = one_line_error(
        run(
            "report",
            "risk",
            "--db",
            f"sqlite:///{tmp_path / 'book.db'}",
            "--lang",
            "en",
            env={"INCASSO_RISK_FILE": str(bad)},
        )
    )
    assert "default.cure_months" in line


def test_risk_loan_signals_and_vulnerability(sqlite_template: str, tmp_path: Path) -> None:
    import sqlite3

    url = _book(sqlite_template, tmp_path)
    con = sqlite3.connect(tmp_path / "book.db")
    loan = con.execute(
        "SELECT l.number FROM loan_risk r JOIN loans l ON l.id = r.loan_id WHERE r.non_performing ORDER BY r.id LIMIT 1"
    ).fetchone()[0]
    client = con.execute("SELECT number FROM clients ORDER BY id LIMIT 1").fetchone()[0]
    con.close()
    history = json.loads(run("risk", "loan", loan, "--db", url, "--json").stdout)
    assert history[-1]["non_performing"] and history[-1]["stage"] == 3 and history[-1]["valid_to"] is None
    signals = json.loads(run("risk", "signals", "--db", url, "--date", AS_OF.isoformat(), "--json").stdout)
    assert signals and all(s["day"] == AS_OF.isoformat() for s in signals)
    result = run("risk", "vulnerability", "set", client, "--kind", "divorce", "--db", url, "--user", "demo")
    assert result.returncode == 0, result.stderr
    flags = json.loads(run("risk", "vulnerability", "list", client, "--db", url, "--json").stdout)
    assert [(f["kind"], f["set_by"]) for f in flags] == [("divorce", "demo")]
    assert "kind" in one_line_error(run("risk", "vulnerability", "set", client, "--db", url, "--user", "demo"))
