"""The human-readable output of ``incasso parties`` and ``incasso complaints`` (cli_outside) in the session's language;
the ``--json`` output is the same in both."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from incasso_tui.store.models import Case
from tests.conftest import AS_OF
from tests.e2e.test_cli import run


@pytest.fixture
def book(sqlite_template: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "book.db"
    shutil.copy(sqlite_template, path)
    return ["--db", f"sqlite:///{path}", "--date", AS_OF.isoformat()]


def _case(book: list[str]) -> str:
    engine = create_engine(book[1])
    with engine.connect() as conn:
        case_id = conn.execute(select(Case.id).order_by(Case.id).limit(1)).scalar_one()
    engine.dispose()
    return str(case_id)


def test_parties_and_complaints_speak_the_session_language(book: list[str]) -> None:
    added = run(
        "parties",
        "add",
        "Deurwaarders Noord",
        "--kind",
        "bailiff",
        "--street",
        "Dorpsstraat 1",
        "--postcode",
        "9711 AA",
        "--city",
        "Groningen",
        "--iban",
        "NL91ABNA0417164300",
        *book,
        "--user",
        "bakker",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("partij ")
    dutch = run("parties", "list", *book, "--user", "bakker").stdout
    assert "Deurwaarders Noord" in dutch and "deurwaarder" in dutch and "bij de partij 0" in dutch
    english = run("--lang", "en", "parties", "list", *book, "--user", "bakker").stdout
    assert "bailiff" in english and "at the party 0" in english
    assert "plaats" in run("parties", "show", "Deurwaarders Noord", *book, "--user", "bakker").stdout
    as_json = [
        run(*lang, "parties", "list", "--json", *book, "--user", "bakker").stdout for lang in ([], ["--lang", "en"])
    ]
    assert as_json[0] == as_json[1] and json.loads(as_json[0])[0]["kind"] == "bailiff"

    case = _case(book)
    complaint = run(
        "complaints",
        "add",
        case,
        "--received",
        "2026-11-20",
        "--channel",
        "email",
        "--about",
        "rente klopt niet",
        *book,
        "--user",
        "demo",
    )
    assert complaint.returncode == 0, complaint.stderr
    assert f"op dossier {case}: ontvangst bevestigen vóór" in complaint.stdout
    dutch = run("complaints", "list", "--case", case, *book, "--user", "demo").stdout
    assert "ontvangen 20-11-2026" in dutch and "antwoorden-vóór" in dutch
    english = run("--lang", "en", "complaints", "list", "--case", case, *book, "--user", "demo").stdout
    assert "received 20/11/2026" in english and "answer-by" in english
    assert "geen klachten" in run("complaints", "list", "--case", "999999", *book, "--user", "demo").stdout
    assert (
        "no complaints" in run("--lang", "en", "complaints", "list", "--case", "999999", *book, "--user", "demo").stdout
    )
    report = run("complaints", "report", "--from", "2026-11-01", "--to", "2026-11-30", *book, "--user", "demo").stdout
    assert "ontvangen in de periode en nog open: 1" in report
