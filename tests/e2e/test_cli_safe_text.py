"""CLI print-outs and CSV exports keep hostile data text (issue 16): users list, users keys, audit show, selections,
the BKR export. The commands run in-process (``cli.main``) on a copy of the test book holding hostile strings."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from incasso_tui import cli
from incasso_tui.safetext import BIDI, C1
from incasso_tui.services import audit
from incasso_tui.store.db import Database
from incasso_tui.store.models import BkrMutation, Case, Loan

EVIL = "\x1b]52;c;Y3VybCBldmlsLnNo\x07\x1b]0;pwned\x07\u202eRTL exe.fdp\x9b2J\r\n"
DANGEROUS = {*range(0x20), 0x7F, *C1, *BIDI} - {0x0A}  # a print-out's own lines end in \n


def clean(out: str) -> bool:
    return not any(ord(ch) in DANGEROUS for ch in out)


@pytest.fixture
def book(sqlite_template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    path = tmp_path / "book.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("INCASSO_DB_URL", url)
    monkeypatch.setenv("INCASSO_EXPORT_DIR", str(tmp_path / "exports"))
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    db = Database(url)
    try:
        from incasso_tui.clock import FixedClock
        from incasso_tui.services.sshkeys import add_key

        add_key(db, FixedClock(datetime(2026, 11, 23, 9)), "test", "demo", key + " laptop")
        with db.transaction() as s:
            s.execute(text("UPDATE users SET full_name = :e WHERE name = 'demo'"), {"e": EVIL})
            s.execute(text("UPDATE ssh_keys SET comment = :e"), {"e": EVIL})
            s.execute(text("UPDATE clients SET name = :n"), {"n": '=HYPERLINK("http://evil.example","klik")' + EVIL})
            case = s.scalars(select(Case).order_by(Case.id).limit(1)).one()
            audit.record(
                s,
                at=datetime(2026, 11, 23, 9, 5),
                actor=EVIL,
                action="note.add",
                entity="note",
                entity_id=1,
                case_id=case.id,
                after={"text": EVIL},
            )
            loan = s.scalars(select(Loan).where(Loan.client_id == case.client_id).limit(1)).one()
            from decimal import Decimal

            s.add(
                BkrMutation(
                    loan_id=loan.id,
                    client_id=case.client_id,
                    code="A",
                    mutation_date=datetime(2026, 11, 23).date(),
                    amount=Decimal("120.00"),
                    created_by=EVIL,
                    created_at=datetime(2026, 11, 23, 9),
                )
            )
            case_id = case.id
    finally:
        db.dispose()
    return url, case_id


@pytest.mark.parametrize(
    "argv",
    [
        ["users", "list"],
        ["users", "list", "--json"],
        ["users", "keys"],
        ["users", "keys", "--json"],
        ["selections", "list"],
    ],
)
def test_print_outs_of_data_are_text(
    book: tuple[str, int], capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert clean(out), repr(out)


def test_audit_show_prints_the_event_visibly(book: tuple[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    _, case_id = book
    assert cli.main(["audit", "show", "--case", str(case_id)]) == 0
    out = capsys.readouterr().out
    assert clean(out) and "␛]52;c;" in out and "<U+202E>RTL exe.fdp" in out
    assert cli.main(["audit", "show", "--case", str(case_id), "--json"]) == 0
    out = capsys.readouterr().out
    assert clean(out)
    assert any(e["actor"] == EVIL for e in json.loads(out))  # the JSON keeps the data exactly, escaped


def test_users_list_shows_the_name_visibly(book: tuple[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "␛]0;pwned␇<U+202E>RTL exe.fdp<U+009B>2J␍␊" in out


def test_the_bkr_export_defuses_formulas(
    book: tuple[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["bkr", "export", "--date", "2026-11-23", "--out", "bkr.csv"]) == 0
    rows = list(csv.DictReader((tmp_path / "exports" / "bkr.csv").open(encoding="utf-8", newline="")))
    assert rows and all(r["name"].startswith("'=HYPERLINK(") for r in rows)
    for r in rows:
        assert all(clean(v) for v in r.values())


def test_the_selection_export_defuses_formulas(book: tuple[str, int], tmp_path: Path) -> None:
    assert cli.main(["--user", "demo", "selections", "save", "alles"]) == 0
    assert cli.main(["--user", "demo", "selections", "export", "alles", "--out", "sel.csv"]) == 0
    rows = list(csv.DictReader((tmp_path / "exports" / "sel.csv").open(encoding="utf-8", newline="")))
    assert rows and all(r["client_name"].startswith("'=HYPERLINK(") for r in rows)
