"""Exports of the worklist in three forms (issue 14):

- ``csv``: the standard form (``services.selections.csv_lines``: ``,``, decimal point, ISO dates, codes);
- ``csv-nl``: for a Dutch spreadsheet: ``;`` separated, decimal comma without thousands separator, dates
  ``dd-mm-jjjj``, the session's column names and labels, UTF-8 with a byte-order mark (so Excel reads the accents);
- ``xlsx``: an Excel workbook (openpyxl) with typed cells: amounts as numbers (``#,##0.00``), days and case numbers
  as integers, dates as dates; text cells are always text (a name starting with ``=`` is never a formula).

The caller gives the labels (``ExportLabels``, made from the session's translator in the UI and the CLI), so the
service does not depend on the UI. A file is written whole or not at all, never over an existing one, and the export
is audited like the CSV export.

Where exports may be written: only into the export directory (the ``export_dir`` setting), by a plain file name.

An export is written by the account incasso runs as, which over SSH is the server's: a path given by an employee
(``/etc/cron.d/x``, ``../../.ssh/authorized_keys``) would write wherever that account can. So an export takes a
plain file name (no folder, no ``..``, no leading dot, no control character) and lands in ``export_dir``, which is
made (mode 0700) when missing; a symbolic link there is never followed.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO

from incasso_tui.atomicfile import atomic_file
from incasso_tui.config import Settings
from incasso_tui.errors import N_, BadInput, RuleViolation
from incasso_tui.safetext import csv_cell, has_controls, safe, safe_or_empty
from incasso_tui.services.context import Context
from incasso_tui.services.worklist import WorklistFilter, WorklistRow, worklist

FORMATS = ("csv", "csv-nl", "xlsx")
MAX_NAME = 120


def export_path(settings: Settings, name: str | os.PathLike[str]) -> Path:
    """The file ``name`` in the export directory; anything but a plain file name is refused at the field ``path``."""
    text = os.fspath(name).strip()
    if (
        not text
        or "/" in text
        or "\\" in text
        or text.startswith(".")
        or has_controls(text)
        or len(text) > MAX_NAME
        or text in ("..", ".")
    ):
        raise BadInput(
            N_("An export takes a plain file name (no folder), written into {folder}: not {name}"),
            field="path",
            folder=str(settings.export_dir),
            name=safe(text),
        )
    folder = settings.export_dir.expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BadInput(
            N_("Cannot make the export folder {folder}: {error}"),
            field="path",
            folder=str(folder),
            error=exc.strerror or str(exc),
        ) from None
    target = folder / text
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise BadInput(N_("{path} is not a plain file: choose another name"), field="path", path=str(target))
    return target


@dataclass(frozen=True)
class ExportLabels:
    """The column names and how a code (stage, status, flag) is said, in the session's language."""

    header: tuple[str, ...]
    label: Callable[[str, str], str]  # (kind: "stage" | "status" | "flag", code) -> label


def form_for(path: Path, requested: str | None = None) -> str:
    """The form to write: the one asked for, else ``xlsx`` for a ``.xlsx`` file, else the standard CSV."""
    if requested is not None:
        if requested not in FORMATS:
            raise BadInput(N_("Unknown export form {form}: use csv, csv-nl or xlsx"), field="format", form=requested)
        if (requested == "xlsx") != (path.suffix.lower() == ".xlsx"):
            raise BadInput(N_("An .xlsx file is written as xlsx, and xlsx only to an .xlsx file"), field="path")
        return requested
    return "xlsx" if path.suffix.lower() == ".xlsx" else "csv"


def dutch_amount(amount: Decimal) -> str:
    """``-1234.5`` -> ``-1234,50``: a Dutch spreadsheet reads it as a number (no thousands separator to misread)."""
    return f"{amount:.2f}".replace(".", ",")


def _nl_row(row: WorklistRow, labels: ExportLabels) -> list[str]:
    return [
        str(row.case_id),
        csv_cell(row.client_number),
        csv_cell(row.client_name),
        csv_cell(row.loan_numbers),
        str(row.days_past_due),
        dutch_amount(row.arrears),
        labels.label("stage", row.stage),
        labels.label("status", row.status),
        row.next_action_date.strftime("%d-%m-%Y"),
        csv_cell(row.assignee),
        labels.label("flag", row.flag) if row.flag else "",
    ]


class _Line:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def nl_csv_lines(ctx: Context, flt: WorklistFilter, labels: ExportLabels) -> Iterator[str]:
    """The Dutch CSV form, line by line, streamed a page at a time."""
    from incasso_tui.services.selections import EXPORT_PAGE

    sink = _Line()
    writer = csv.writer(sink, delimiter=";")
    writer.writerow([csv_cell(h) for h in labels.header])
    yield sink.text
    for row in worklist(ctx, flt).iter_rows(EXPORT_PAGE):
        writer.writerow(_nl_row(row, labels))
        yield sink.text


def _xlsx(ctx: Context, flt: WorklistFilter, labels: ExportLabels, out: IO[bytes]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from incasso_tui.services.selections import EXPORT_PAGE

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=(flt.selection or "worklist")[:31].translate({ord(c): "-" for c in "[]:*?/\\"}))

    def text(value: str | None) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=safe_or_empty(value))
        cell.data_type = "s"  # never a formula, whatever the name starts with
        return cell

    def number(value: int | Decimal, fmt: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = fmt
        return cell

    def day(value: date) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "DD-MM-YYYY"
        return cell

    sheet.append([text(h) for h in labels.header])
    rows = 0
    for row in worklist(ctx, flt).iter_rows(EXPORT_PAGE):
        sheet.append(
            [
                number(row.case_id, "0"),
                text(row.client_number),
                text(row.client_name),
                text(row.loan_numbers),
                number(row.days_past_due, "0"),
                number(row.arrears, "#,##0.00"),
                text(labels.label("stage", row.stage)),
                text(labels.label("status", row.status)),
                day(row.next_action_date),
                text(row.assignee),
                text(labels.label("flag", row.flag) if row.flag else ""),
            ]
        )
        rows += 1
    book.save(out)
    return rows


@contextmanager
def new_export_file(target: Path) -> Iterator[None]:
    """Around the writing of the new export file ``target`` (``export_path``; written with ``atomicfile``'s
    ``exclusive``): a file that is there already, before or made while we wrote, and a file that cannot be written
    are refused at the field ``path``."""
    if target.exists():
        raise RuleViolation(N_("The file {path} exists already: choose another name"), field="path", path=str(target))
    if not target.parent.is_dir():
        raise BadInput(N_("The folder {path} does not exist"), field="path", path=str(target.parent))
    try:
        yield
    except FileExistsError:  # made while we wrote
        raise RuleViolation(
            N_("The file {path} exists already: choose another name"), field="path", path=str(target)
        ) from None
    except OSError as exc:
        raise BadInput(
            N_("Cannot write {path}: {error}"), field="path", path=str(target), error=exc.strerror or str(exc)
        ) from None


def export_worklist(
    ctx: Context, flt: WorklistFilter, name: str | Path, form: str | None, labels: ExportLabels | None = None
) -> int:
    """Write the worklist of ``flt`` to a new file ``name`` in the export directory (``export_path``: a plain file
    name) in ``form`` (``FORMATS``; ``None``: by the file's extension); returns the rows written. The file appears
    whole or not at all, never over an existing one. ``labels``: for the Dutch CSV and xlsx (the standard CSV has
    codes)."""
    from incasso_tui.services.selections import _record_export, csv_lines

    target = export_path(ctx.settings, name)
    form = form_for(target, form)
    if form != "csv" and labels is None:
        raise ValueError(f"the {form} export needs the session's labels")
    rows = -1
    with new_export_file(target):  # whole or not at all, mode 0600, never over a file made while we wrote
        if form == "xlsx":
            assert labels is not None
            with atomic_file(target, binary=True, exclusive=True) as out:
                rows = _xlsx(ctx, flt, labels, out)
        else:
            lines = (
                nl_csv_lines(ctx, flt, labels)
                if form == "csv-nl" and labels is not None
                else csv_lines(worklist(ctx, flt))
            )
            with atomic_file(
                target, encoding="utf-8-sig" if form == "csv-nl" else "utf-8", newline="", exclusive=True
            ) as fh:
                for line in lines:
                    fh.write(line)
                    rows += 1
    _record_export(ctx, flt, rows, f"{target} ({form})")
    return rows


__all__ = ["FORMATS", "ExportLabels", "dutch_amount", "export_path", "export_worklist", "form_for", "nl_csv_lines"]
