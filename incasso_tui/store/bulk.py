"""Bulk inserts for the batch work (a bank file, the daily run): rows as tuples, ``COPY`` on PostgreSQL, the driver's
``executemany`` in slices on SQLite, in the session's transaction; every value through its column's SQLAlchemy type,
so the stored values are those a Core insert stores."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

WRITE_CHUNK = 5000  # rows per executemany
# SQLite's page cache while a bulk write runs (KiB; SQLite's default is 2,000): a bank file of 100,000 entries adds
# them to seven indexes of bank_entries, among them the random dedup key, and with the default cache the same index
# pages are spilled and read back again and again
BULK_CACHE_KIB = 16384
_T = TypeVar("_T")


def batches(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """``items`` in lists of ``size`` (the last may be shorter), without holding more than one list."""
    it = iter(items)
    while part := list(itertools.islice(it, size)):
        yield part


@contextmanager
def bulk_page_cache(s: Session, kib: int = BULK_CACHE_KIB) -> Iterator[None]:
    """SQLite: a page cache of ``kib`` KiB on the session's connection while the block runs, the one it had after
    (the setting belongs to the connection, which goes back to the pool). Nothing on PostgreSQL. The cache only
    grows as pages are read, so a small write costs no memory."""
    connection = s.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size={-int(kib)}")
    try:
        yield
    finally:
        # dirty pages stay until the commit writes them (a smaller cache frees clean pages only); a failure here
        # must not hide the block's own error: the larger cache is only memory
        with suppress(DBAPIError):
            connection.exec_driver_sql(f"PRAGMA cache_size={int(before or -2000)}")


def insert_rows(s: Session, model: type[Any], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` (values in the order of ``columns``): ``COPY`` on PostgreSQL, the driver's ``executemany`` in
    slices on SQLite, in this session's transaction.

    Each value goes through its column's SQLAlchemy type for the dialect (Money to cents, dates as SQLite stores
    them), as in a Core insert, but without Core's passes over every row's parameters (about a second for 100,000
    bank entries). Not the ORM's bulk insert either: that leaves out each row's None values and so splits the rows
    into a statement per run of rows with the same non-None columns.
    """
    connection = s.connection()
    dialect = connection.dialect
    table = model.__table__
    left_out = [c.name for c in table.columns if c.default is not None and c.name not in columns]
    if left_out:  # a Python-side default would not be applied here
        raise ValueError(f"insert into {table.name} must give {', '.join(left_out)}")
    convert = [
        (i, processor)
        for i, name in enumerate(columns)
        if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    if dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        assert raw is not None  # a live connection: the session's transaction holds it
        with raw.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for part in batches(rows, WRITE_CHUNK):
                for row in _converted(part, convert):
                    copy.write_row(row)
        return
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join(['?'] * len(columns))})"
    for part in batches(rows, WRITE_CHUNK):
        connection.exec_driver_sql(sql, _converted(part, convert))


# values of these types repeat across rows (dates, flags, statuses) and convert the same each time: converted once
_REPEATING = frozenset({date, datetime, bool, str})


def _converted(rows: list[Sequence[Any]], convert: list[tuple[int, Any]]) -> list[tuple[Any, ...]]:
    """``rows`` with the values at the ``convert`` positions put through their bind processors (None stays None).

    Column by column (the rows turned into columns and back, all rows of the same length or ``ValueError``): a date,
    a flag or a status is converted once per distinct value (keyed by its type too, so ``True`` and ``1`` or a date
    and a datetime never share a result); amounts are converted each time."""
    if not convert:
        return [tuple(row) for row in rows]
    if not rows:
        return []
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for i, processor in convert:
        columns[i] = _converted_column(columns[i], processor)
    return list(zip(*columns, strict=True))


def _converted_column(values: Sequence[Any], processor: Any) -> list[Any]:
    memo: dict[tuple[type, Any], Any] = {}
    out: list[Any] = []
    append = out.append
    for value in values:
        if value is None:
            append(None)
            continue
        kind = type(value)
        if kind in _REPEATING:
            key = (kind, value)
            done = memo.get(key, _MISSING)
            if done is _MISSING:
                done = memo[key] = processor(value)
            append(done)
        else:
            append(processor(value))
    return out


_MISSING = object()


def insert_returning_ids(s: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in this session's transaction; return the new rows'
    ids in the order of ``rows``.

    PostgreSQL: one ``INSERT ... RETURNING id`` with the ids sorted by parameter order. SQLite: SQLAlchemy cannot
    match RETURNING rows to parameters there and writes one statement per row, so the rows go in one driver
    ``executemany`` instead and the ids are read back: a new row's id is above every id the table held before (the
    largest plus one, or AUTOINCREMENT's sequence plus one) and rises in insertion order, and no other writer can
    insert meanwhile (the transaction holds SQLite's one write lock), so the ids above the largest one before the
    insert, ascending, are the rows' ids in order. The count is checked: a mismatch raises, nothing is guessed.
    """
    if not rows:
        return []
    id_column = table.c.id
    if s.connection().dialect.name != "sqlite":
        return list(s.scalars(insert(table).returning(id_column, sort_by_parameter_order=True), rows))
    before = s.scalar(select(func.max(id_column))) or 0
    s.execute(insert(table), rows)
    ids = list(s.scalars(select(id_column).where(id_column > before).order_by(id_column)))
    if len(ids) != len(rows):
        raise RuntimeError(f"insert into {table.name}: {len(rows)} rows written, {len(ids)} new ids found")
    return ids
