"""Saved selections (issue 8): client groups by criteria, saved by name, counted, opened as the worklist, exported.

- A selection is a name and :class:`~incasso_tui.services.criteria.Criteria`. Saving, changing (new criteria or a
  new name) and deleting are one transaction each with an audit event (``selection.save``, ``selection.update``,
  ``selection.delete``). Names are unique in the book, whatever their capitals.
- Who: employees and supervisors save selections; a selection is changed or deleted by whoever saved it or by a
  supervisor. Every role may list, count, open and export them (the worklist is readable by all).
- "Open as worklist" is :func:`selection_filter`: a :class:`WorklistFilter` carrying the criteria, which the
  worklist's own count, order and keyset paging use (``services.worklist``); nothing here reads cases itself.
- :func:`export_csv` streams any worklist (the current filter and order, a selection or not) as CSV, one page at a
  time; :func:`export_to_file` writes it to a new file and records who exported what (``worklist.export``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_, BadInput, NotAllowed, NotFound, RuleViolation, StaleData
from incasso_tui.safetext import csv_cell
from incasso_tui.services import audit
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.services.criteria import Criteria, check_in_book, products
from incasso_tui.services.worklist import Worklist, WorklistFilter, WorklistRow, worklist
from incasso_tui.store.models import Campaign, Selection

__all__ = [
    "CSV_HEADER",
    "SelectionInfo",
    "book_products",
    "count_selection",
    "csv_lines",
    "delete_selection",
    "export_csv",
    "export_to_file",
    "get_selection",
    "list_selections",
    "save_selection",
    "selection_filter",
    "update_selection",
]

MAX_NAME = 100
EXPORT_PAGE = 500  # rows per page while exporting (one page is held at a time)
# The export's columns, in this order, under these names (stable for scripts; not translated).
CSV_HEADER = (
    "case_id",
    "client_number",
    "client_name",
    "loan_numbers",
    "days_past_due",
    "arrears",
    "stage",
    "status",
    "next_action_date",
    "assignee",
    "flag",
)


@dataclass(frozen=True)
class SelectionInfo:
    id: int
    name: str
    criteria: Criteria
    created_by: str
    created_at: datetime
    updated_by: str | None
    updated_at: datetime | None
    version: int
    count: int | None = None  # the desk's cases that match now (when asked for)


def _info(row: Selection) -> SelectionInfo:
    return SelectionInfo(
        row.id,
        row.name,
        Criteria.from_json(row.criteria),
        row.created_by,
        row.created_at,
        row.updated_by,
        row.updated_at,
        row.version,
    )


def selection_filter(info: SelectionInfo, base: WorklistFilter | None = None) -> WorklistFilter:
    """The worklist of a selection: ``base``'s order (the default order when none), its criteria and name."""
    return replace(base or WorklistFilter(), criteria=info.criteria, selection=info.name, queue="desk")


def book_products(ctx: Context) -> list[str]:
    """The products in the book (the choices of the product criterion)."""
    with ctx.db.reader() as s:
        return products(s)


def count_selection(ctx: Context, criteria: Criteria) -> int:
    """How many of the desk's cases match ``criteria`` now."""
    return worklist(ctx, WorklistFilter(criteria=criteria)).count()


def list_selections(ctx: Context, *, counts: bool = True) -> list[SelectionInfo]:
    """Every saved selection by name, with its count of cases now when ``counts``."""
    with ctx.db.reader() as s:
        infos = [_info(row) for row in s.scalars(select(Selection).order_by(func.lower(Selection.name), Selection.id))]
    if not counts:
        return infos
    return [replace(info, count=count_selection(ctx, info.criteria)) for info in infos]


def _by_name(s: Session, name: str) -> Selection | None:
    return s.scalar(select(Selection).where(func.lower(Selection.name) == name.strip().lower()))


def get_selection(ctx: Context, name: str, *, count: bool = False) -> SelectionInfo:
    """The selection called ``name`` (capitals do not matter)."""
    with ctx.db.reader() as s:
        row = _by_name(s, name)
        if row is None:
            raise NotFound(N_("There is no selection {name}"), name=name)
        info = _info(row)
    return replace(info, count=count_selection(ctx, info.criteria)) if count else info


def _check_name(name: str) -> str:
    clean = name.strip()
    if not clean:
        raise BadInput(N_("Give the selection a name"), field="name")
    if len(clean) > MAX_NAME:
        raise BadInput(
            N_("At most {maximum} characters, this is {length}"), field="name", maximum=MAX_NAME, length=len(clean)
        )
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in clean):
        raise BadInput(N_("A name cannot hold control characters"), field="name")
    return clean


def _name_taken(name: str) -> RuleViolation:
    return RuleViolation(N_("There is a selection named {name} already"), field="name", name=name)


def _may_change(ctx: Context, row: Selection) -> None:
    if ctx.actor.role != Role.SUPERVISOR and row.created_by != ctx.actor.name:
        raise NotAllowed(
            N_("Only {name} (who saved it) or a supervisor may change this selection"), name=row.created_by
        )


def save_selection(ctx: Context, name: str, criteria: Criteria) -> SelectionInfo:
    """Save a new selection; a name in use (whatever its capitals) is refused."""
    ctx.require(*DESK_WRITERS)
    clean = _check_name(name)
    now = ctx.clock.now()
    try:
        with ctx.db.transaction() as s:
            check_in_book(s, criteria)
            if _by_name(s, clean) is not None:
                raise _name_taken(clean)
            row = Selection(name=clean, criteria=criteria.to_json(), created_by=ctx.actor.name, created_at=now)
            s.add(row)
            s.flush()
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="selection.save",
                entity="selection",
                entity_id=row.id,
                after={"name": clean, "criteria": criteria.model_dump(exclude_defaults=True)},
            )
            return _info(row)
    except IntegrityError:  # a colleague saved the same name at the same moment
        raise _name_taken(clean) from None


def update_selection(
    ctx: Context, selection_id: int, expected_version: int, name: str, criteria: Criteria
) -> SelectionInfo:
    """Give a selection a new name and/or new criteria (its campaigns keep the criteria they ran with)."""
    ctx.require(*DESK_WRITERS)
    clean = _check_name(name)
    now = ctx.clock.now()
    try:
        with ctx.db.transaction() as s:
            row = _for_change(s, ctx, selection_id, expected_version)
            check_in_book(s, criteria)
            other = _by_name(s, clean)
            if other is not None and other.id != row.id:
                raise _name_taken(clean)
            before = {"name": row.name, "criteria": Criteria.from_json(row.criteria).model_dump(exclude_defaults=True)}
            row.name, row.criteria = clean, criteria.to_json()
            row.updated_by, row.updated_at = ctx.actor.name, now
            s.flush()
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="selection.update",
                entity="selection",
                entity_id=row.id,
                before=before,
                after={"name": clean, "criteria": criteria.model_dump(exclude_defaults=True)},
            )
            return _info(row)
    except IntegrityError:
        raise _name_taken(clean) from None
    except StaleDataError:
        raise StaleData(N_("Someone changed the selection at the same moment: open it again")) from None


def _for_change(s: Session, ctx: Context, selection_id: int, expected_version: int) -> Selection:
    """The selection to change or delete: it exists, this user may change it, and nobody changed it meanwhile."""
    row = s.get(Selection, selection_id)
    if row is None:
        raise NotFound(N_("There is no selection {name}"), name=str(selection_id))
    _may_change(ctx, row)
    if row.version != expected_version:
        raise _changed(row)
    return row


def _changed(row: Selection) -> StaleData:
    return StaleData(
        N_("The selection was changed by {name} at {time}: open it again"),
        name=row.updated_by or "?",
        time=row.updated_at.strftime("%H:%M") if row.updated_at else "?",
    )


def delete_selection(ctx: Context, selection_id: int, expected_version: int) -> None:
    """Delete a selection. Its campaigns stay, with the name and criteria they ran with."""
    ctx.require(*DESK_WRITERS)
    now = ctx.clock.now()
    try:
        with ctx.db.transaction() as s:
            row = _for_change(s, ctx, selection_id, expected_version)
            s.execute(update(Campaign).where(Campaign.selection_id == row.id).values(selection_id=None))
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="selection.delete",
                entity="selection",
                entity_id=row.id,
                before={
                    "name": row.name,
                    "criteria": Criteria.from_json(row.criteria).model_dump(exclude_defaults=True),
                },
            )
            s.delete(row)
            s.flush()
    except StaleDataError:
        raise StaleData(N_("Someone changed the selection at the same moment: open it again")) from None


# ----- CSV


def _csv_row(row: WorklistRow) -> list[str]:
    # text cells through the formula guard (safetext.csv_cell); numbers, dates and codes are ours
    return [
        str(row.case_id),
        csv_cell(row.client_number),
        csv_cell(row.client_name),
        csv_cell(row.loan_numbers),
        str(row.days_past_due),
        f"{row.arrears:.2f}",
        row.stage,
        row.status,
        row.next_action_date.isoformat(),
        csv_cell(row.assignee),
        row.flag or "",
    ]


class _Line:
    """A file-like sink for ``csv.writer`` that hands back the line it was given."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def csv_lines(wl: Worklist) -> Iterator[str]:
    """The worklist ``wl`` as CSV lines (header first; ``\\r\\n`` line ends as RFC 4180 has them), streamed a page
    at a time: amounts are plain decimals with a dot and two places, dates ISO, stage and status their codes."""
    sink = _Line()
    writer = csv.writer(sink)
    writer.writerow(CSV_HEADER)
    yield sink.text
    for row in wl.iter_rows(EXPORT_PAGE):
        writer.writerow(_csv_row(row))
        yield sink.text


def export_csv(ctx: Context, flt: WorklistFilter, out: TextIO) -> int:
    """Write the worklist of ``flt`` (its filters, selection and order) to ``out`` as CSV; returns the rows written.
    ``out`` should be opened with ``newline=""`` and UTF-8."""
    wl = worklist(ctx, flt)
    rows = -1  # the header is not a row
    for line in csv_lines(wl):
        out.write(line)
        rows += 1
    _record_export(ctx, flt, rows, "-")
    return rows


def export_to_file(ctx: Context, flt: WorklistFilter, name: str | Path) -> int:
    """Write the worklist of ``flt`` as the standard CSV to the file ``name`` in the export directory
    (``services.exports.export_worklist``: a plain file name, a new file, whole or not at all). Returns the rows."""
    from incasso_tui.services.exports import export_worklist

    return export_worklist(ctx, flt, name, "csv")


def _record_export(ctx: Context, flt: WorklistFilter, rows: int, file: str) -> None:
    """Who took which cases out of the system, and where to (accountability, like any other audit event)."""
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="worklist.export",
            entity="export",
            entity_id=None,
            after={
                "selection": flt.selection,
                "queue": flt.queue,
                "sort": flt.sort,
                "text": flt.text or None,
                "bucket": flt.bucket,
                "stage": flt.stage,
                "mine": flt.mine,
                "due_today": flt.due_today,
                "rows": rows,
                "file": file,
            },
        )
