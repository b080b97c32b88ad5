"""store.bulk: rows written with insert_rows read back as the ORM wrote them; the page cache of a bulk write."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from incasso_tui.store.bulk import _converted, bulk_page_cache, insert_rows
from incasso_tui.store.db import Database
from incasso_tui.store.models import BankEntryRow, BankImport

_COLUMNS = (
    "id",
    "import_id",
    "dedup_key",
    "account_iban",
    "booking_date",
    "value_date",
    "amount",
    "credit",
    "reversal",
    "remittance",
    "status",
    "assigned_at",
)


def _import(s) -> int:  # type: ignore[no-untyped-def]
    row = BankImport(
        file_name="f.xml",
        file_hash="0" * 64,
        format="camt.053.001.02",
        account_iban="NL91ABNA0417164300",
        statement_ids="S",
        imported_at=datetime(2026, 11, 23, 9, 0),
        imported_by="demo",
        entries=0,
        new=0,
        duplicates=0,
        matched=0,
        unmatched=0,
    )
    s.add(row)
    s.flush()
    return row.id


def test_rows_read_back_with_their_types(db: Database) -> None:
    day, other = date(2026, 11, 20), date(2026, 11, 21)
    with db.transaction() as s:
        import_id = _import(s)
        first = (s.scalar(select(BankEntryRow.id).order_by(BankEntryRow.id.desc()).limit(1)) or 0) + 1
        rows = [
            (first, import_id, "k1", "NL91ABNA0417164300", day, None, Decimal("12.30"), True, False, "a", "matched", None),
            (first + 1, import_id, "k2", "NL91ABNA0417164300", day, other, Decimal("0.05"), False, True, "", "reversal",
             datetime(2026, 11, 23, 10, 30)),
            (first + 2, import_id, "k3", "NL91ABNA0417164300", other, day, Decimal(7), True, True, "b", "not_payment",
             None),
        ]  # fmt: skip
        insert_rows(s, BankEntryRow, _COLUMNS, rows)
    with db.reader() as s:
        got = s.execute(
            select(*(getattr(BankEntryRow, c) for c in _COLUMNS))
            .where(BankEntryRow.id >= first)
            .order_by(BankEntryRow.id)
        ).all()
    assert [tuple(r) for r in got] == [r[:6] + (Decimal(r[6]).quantize(Decimal("0.01")),) + r[7:] for r in rows]


def test_rows_of_different_lengths_are_refused() -> None:
    double = [(0, lambda v: v * 2)]
    assert _converted([(1, "a"), (2, "b")], double) == [(2, "a"), (4, "b")]
    assert _converted([], double) == []
    with pytest.raises(ValueError):
        _converted([(1, "a"), (2, "b", "extra")], double)
    with pytest.raises(ValueError):
        _converted([(1, "a", "extra"), (2, "b")], double)


def test_a_bulk_write_has_a_larger_page_cache_and_gives_it_back(db: Database) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's page cache")
    with db.transaction() as s:
        connection = s.connection()
        before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
        with bulk_page_cache(s, 4096):
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -4096
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == before
        with pytest.raises(RuntimeError), bulk_page_cache(s, 4096):
            raise RuntimeError("the block's own error comes through")
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == before
