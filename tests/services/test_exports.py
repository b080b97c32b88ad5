"""Exports in the Dutch CSV form and as .xlsx with typed cells (services.exports, issue 14)."""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal

import pytest

from incasso_tui.errors import BadInput, RuleViolation
from incasso_tui.i18n import Translator
from incasso_tui.services.exports import dutch_amount, export_worklist, form_for
from incasso_tui.services.worklist import WorklistFilter, worklist
from incasso_tui.ui.export_labels import export_labels


def test_dutch_amounts() -> None:
    assert dutch_amount(Decimal("-1234.5")) == "-1234,50"
    assert dutch_amount(Decimal("0")) == "0,00"
    assert dutch_amount(Decimal("564.05")) == "564,05"


def test_the_dutch_csv_form(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for(export_dir=tmp_path)  # exports go into the export folder, by a plain name (issue 16)
    flt = WorklistFilter(mine=True)
    wl = worklist(ctx, flt)
    first = wl.page(0, 1, wl.count()).rows[0]
    target = tmp_path / "nl.csv"
    rows = export_worklist(ctx, flt, target.name, "csv-nl", export_labels(Translator("nl")))
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    with target.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh, delimiter=";"))
    assert rows == wl.count() == len(lines) - 1
    assert lines[0][:3] == ["Dossier", "Klantnummer", "Klant"]
    row = lines[1]
    assert row[0] == str(first.case_id)
    assert row[5] == f"{first.arrears:.2f}".replace(".", ",") and "." not in row[5]
    assert row[8] == first.next_action_date.strftime("%d-%m-%Y")
    assert row[6] != first.stage  # the label, not the code


def test_xlsx_has_typed_cells(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    ctx = ctx_for(export_dir=tmp_path)  # exports go into the export folder, by a plain name (issue 16)
    flt = WorklistFilter(mine=True)
    wl = worklist(ctx, flt)
    first = wl.page(0, 1, wl.count()).rows[0]
    target = tmp_path / "werk.xlsx"
    assert export_worklist(ctx, flt, target.name, "xlsx", export_labels(Translator("en"))) == wl.count()
    sheet = load_workbook(target).active
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["Case", "Client number"]
    case, _num, name, _loans, dpd, arrears, _stage, _status, next_day = [c.value for c in sheet[2]][:9]
    assert case == first.case_id and isinstance(case, int)
    assert dpd == first.days_past_due and isinstance(dpd, int)
    assert isinstance(arrears, (int, float)) and Decimal(str(arrears)).quantize(Decimal("0.01")) == first.arrears
    assert isinstance(next_day, datetime) and next_day.date() == first.next_action_date
    assert sheet.cell(2, 6).number_format == "#,##0.00" and sheet.cell(2, 9).number_format == "DD-MM-YYYY"
    assert name == first.client_name


def test_a_name_like_a_formula_stays_text_in_xlsx(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook
    from sqlalchemy import update

    from incasso_tui.store.models import Client

    ctx = ctx_for(export_dir=tmp_path)  # exports go into the export folder, by a plain name (issue 16)
    flt = WorklistFilter(mine=True)
    wl = worklist(ctx, flt)
    first = wl.page(0, 1, wl.count()).rows[0]
    with ctx.db.transaction() as s:
        s.execute(update(Client).where(Client.id == first.client_id).values(name='=HYPERLINK("http://x","y")'))
    target = tmp_path / "f.xlsx"
    export_worklist(ctx, flt, target.name, "xlsx", export_labels(Translator("nl")))
    cell = load_workbook(target).active.cell(2, 3)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_forms_and_refusals(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    assert form_for(Path("a.xlsx")) == "xlsx" and form_for(Path("a.csv")) == "csv"
    with pytest.raises(BadInput):
        form_for(Path("a.csv"), "xlsx")
    with pytest.raises(BadInput):
        form_for(Path("a.csv"), "ods")
    ctx = ctx_for(export_dir=tmp_path)  # exports go into the export folder, by a plain name (issue 16)
    target = tmp_path / "x.csv"
    target.write_text("mine")
    with pytest.raises(RuleViolation):
        export_worklist(ctx, WorklistFilter(), target.name, "csv-nl", export_labels(Translator("nl")))
    assert target.read_text() == "mine"


def test_cli_selection_export_in_the_dutch_form_and_xlsx(db, tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui import cli
    from incasso_tui.clock import FixedClock
    from incasso_tui.config import Settings
    from incasso_tui.services.context import Context
    from incasso_tui.services.criteria import Criteria
    from incasso_tui.services.selections import save_selection
    from incasso_tui.services.users import resolve_actor
    from tests.conftest import NOW

    ctx = Context(db=db, actor=resolve_actor(db, "bakker"), clock=FixedClock(NOW), settings=Settings())
    save_selection(ctx, "Aanmaning", Criteria(stages=("demand",)))
    base = ["--db", db.url, "--user", "demo", "--date", "2026-11-23"]
    assert cli.main(["selections", "export", "Aanmaning", "--format", "csv-nl", *base]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Dossier;Klantnummer;Klant") and ";Aanmaning;" in out[1]
    target = tmp_path / "a.xlsx"
    monkeypatch.setenv("INCASSO_EXPORT_DIR", str(tmp_path))
    assert cli.main(["selections", "export", "Aanmaning", "--out", target.name, *base]) == 0
    assert target.exists() and target.read_bytes()[:2] == b"PK"
    assert cli.main(["selections", "export", "Aanmaning", "--format", "xlsx", *base]) == 2
