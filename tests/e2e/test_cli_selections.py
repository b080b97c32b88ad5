"""The real ``incasso selections`` and ``incasso campaigns`` commands."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import AS_OF
from tests.e2e.test_cli import one_line_error, run


@pytest.fixture
def book(sqlite_template: str, tmp_path: Path) -> list[str]:
    """The common options for a writable copy of the test book, as of the test day."""
    path = tmp_path / "book.db"
    shutil.copy(sqlite_template, path)
    return ["--db", f"sqlite:///{path}", "--date", AS_OF.isoformat()]


def test_save_list_show_rename_and_delete(book: list[str]) -> None:
    saved = run(
        "selections",
        "save",
        "Aanmaningen",
        "--stage",
        "demand",
        "--min-arrears",
        "100,00",
        "--debtor",
        "business",
        *book,
        "--user",
        "demo",
    )
    assert saved.returncode == 0, saved.stderr
    name, count = saved.stdout.strip().split("\t")
    assert name == "Aanmaningen" and int(count) > 0
    listed = json.loads(run("selections", "list", "--json", *book).stdout)
    assert [(s["name"], s["count"], s["criteria"]) for s in listed] == [
        ("Aanmaningen", int(count), {"stages": ["demand"], "min_arrears": "100.00", "debtor": "business"})
    ]
    shown = run("--lang", "en", "selections", "show", "aanmaningen", *book)
    assert shown.returncode == 0 and "stage: demand" in shown.stdout and "arrears at least €100.00" in shown.stdout
    assert run("selections", "rename", "Aanmaningen", "Zakelijke aanmaningen", *book, "--user", "demo").returncode == 0
    replaced = run(
        "selections", "save", "Zakelijke aanmaningen", "--replace", "--stage", "reminder", *book, "--user", "demo"
    )
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads(run("selections", "show", "Zakelijke aanmaningen", "--json", *book).stdout)["criteria"] == {
        "stages": ["reminder"]
    }
    assert run("selections", "delete", "Zakelijke aanmaningen", *book, "--user", "demo").returncode == 0
    assert json.loads(run("selections", "list", "--json", *book).stdout) == []


def test_bad_criteria_and_refusals_are_one_line_with_a_non_zero_exit(book: list[str]) -> None:
    assert "hoogstens 2 decimalen" in one_line_error(
        run("selections", "save", "X", "--min-arrears", "1,005", *book, "--user", "demo")
    )
    assert "is higher" not in (
        line := one_line_error(
            run(
                "--lang",
                "en",
                "selections",
                "save",
                "X",
                "--min-arrears",
                "500",
                "--max-arrears",
                "5",
                *book,
                "--user",
                "demo",
            )
        )
    )
    assert "above the arrears to" in line
    assert "Microkrediet" in one_line_error(
        run("selections", "save", "X", "--product", "Hypotheek", *book, "--user", "demo")
    )
    assert "rol (auditor)" in one_line_error(run("selections", "save", "X", *book, "--user", "audit"))
    assert "Er is geen selectie" in one_line_error(run("selections", "export", "Niets", *book))
    run("selections", "save", "Alles", *book, "--user", "demo")
    refused = run("campaigns", "run", "Alles", "--action", "letter", "--kind", "reminder", *book, "--user", "demo")
    assert refused.returncode == 2 and "supervisor" in one_line_error(refused)


def test_export_streams_csv_to_stdout_or_a_new_file(book: list[str], tmp_path: Path) -> None:
    count = int(
        run("selections", "save", "Consumenten", "--debtor", "consumer", *book, "--user", "demo").stdout.split("\t")[1]
    )
    out = run("selections", "export", "Consumenten", "--sort", "amount", *book)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout, newline="")))
    assert len(rows) == count > 0
    amounts = [float(r["arrears"]) for r in rows]  # only to check the order; the text is a plain decimal
    assert amounts == sorted(amounts, reverse=True) and all("." in r["arrears"] for r in rows)
    target = tmp_path / "exports" / "consumenten.csv"  # a plain file name, in the export directory
    exports = {"INCASSO_EXPORT_DIR": str(tmp_path / "exports")}
    written = run(
        "selections", "export", "Consumenten", "--sort", "amount", "--out", "consumenten.csv", *book, env=exports
    )
    assert written.returncode == 0 and written.stdout.strip() == f"{count}\t{target}"
    raw = target.read_bytes()
    assert raw.count(b"\r\n") == count + 1  # RFC 4180 line ends
    assert list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))) == rows
    assert "bestaat al" in one_line_error(
        run("selections", "export", "Consumenten", "--out", "consumenten.csv", *book, env=exports)
    )
    # a path, even into the export directory itself, is refused: over SSH it would be the server's file system
    for path in (str(target), "/etc/cron.d/x", "../x.csv", ".bashrc"):
        assert "bestandsnaam" in one_line_error(
            run("selections", "export", "Consumenten", "--out", path, *book, env=exports)
        )


def test_a_campaign_runs_lists_and_shows_its_refusals_and_payments(book: list[str]) -> None:
    run("selections", "save", "Herinneringen", "--stage", "reminder", *book, "--user", "bakker")
    ran = run(
        "campaigns",
        "run",
        "Herinneringen",
        "--action",
        "call_task",
        "--due",
        AS_OF.isoformat(),
        "--note",
        "Bellen",
        "--json",
        *book,
        "--user",
        "demo",
    )
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert report["finished"] and report["done"] + report["refused"] == report["selected"] > 0
    assert sum(report["refused_by_reason"].values()) == report["refused"]
    again = json.loads(
        run(
            "campaigns",
            "run",
            "Herinneringen",
            "--action",
            "call_task",
            "--due",
            AS_OF.isoformat(),
            "--note",
            "Nog eens",
            "--json",
            *book,
            "--user",
            "demo",
        ).stdout
    )
    assert again["done"] == 0
    assert again["refused_by_reason"]["The case has an open call task due {due} already"] >= report["done"]
    listed = json.loads(run("campaigns", "list", "--json", *book).stdout)
    assert [c["id"] for c in listed] == [again["id"], report["id"]]
    shown = json.loads(run("campaigns", "show", str(report["id"]), "--members", "--json", *book).stdout)
    assert len(shown["members"]) == report["selected"]
    assert {m["outcome"] for m in shown["members"]} <= {"done", "refused"}
    window = shown["payments"]["within_14_days"]
    assert (
        window["until"] == "2026-12-07" and window["complete"] is False and window["done"]["members"] == report["done"]
    )
    text = run("campaigns", "show", str(report["id"]), *book)
    assert text.returncode == 0 and "betaald binnen 14 dagen" in text.stdout
    assert "Er is geen campagne 99" in one_line_error(run("campaigns", "show", "99", *book))
