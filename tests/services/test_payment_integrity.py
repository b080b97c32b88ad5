"""Hostile and careless statement files (issue 16): duplicates inside a file, a statement twice, an account that is
not ours, MT940 reversal marks, dates far from today, sums the database cannot hold, huge files, FIFOs and devices.
On both backends (the ``db`` fixture); every refusal books nothing."""

from __future__ import annotations

import os
import threading
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import func, select

from incasso_tui.errors import BadFile
from incasso_tui.services import payments
from incasso_tui.store.models import BankEntryRow, BankImport, LedgerEntry, Loan
from tests.payment_files import Tx, camt053


def _loan_number(ctx) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return s.scalar(select(Loan.number).where(Loan.status == "active").order_by(Loan.id))


def _counts(ctx) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (BankEntryRow, LedgerEntry, BankImport))


def test_the_same_bank_reference_twice_in_one_file_is_booked_once(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    number = _loan_number(ctx)
    data = camt053(
        [
            Tx("10.00", text=number, bank_ref="DUP-1"),
            Tx("10.00", text=number, bank_ref="DUP-1"),
            Tx("10.00", text=number, bank_ref="DUP-2"),
        ]
    )
    report = payments.import_statement(ctx, data)
    assert report.counts() == {"entries": 3, "new": 2, "duplicates": 1, "matched": 2, "unmatched": 0}
    # and found the same way across files
    assert payments.import_statement(ctx, data).counts()["duplicates"] == 3


def _twice(data: bytes) -> bytes:
    """The file's statement (``<Stmt>..</Stmt>``) repeated: one file holding the same statement twice."""
    text = data.decode()
    start, end = text.index("<Stmt>"), text.index("</Stmt>") + len("</Stmt>")
    return (text[:end] + text[start:end] + text[end:]).encode()


def test_the_same_camt_statement_twice_in_one_file_is_booked_once(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    number = _loan_number(ctx)
    # without bank references the key counts identical entries: the repeated statement counts them again from 1
    one = camt053([Tx("5.00", text=number), Tx("5.00", text=number), Tx("6.00", text=number, bank_ref="S-3")])
    report = payments.import_statement(ctx, _twice(one))
    assert report.counts() == {"entries": 6, "new": 3, "duplicates": 3, "matched": 3, "unmatched": 0}
    assert payments.import_statement(ctx, one).counts()["new"] == 0


def _mt940(entries: list[str], closing: str, statement: str = "940S261120") -> str:
    body = "".join(entries)
    return (
        f":940:\n:20:{statement}\n:25:NL34RABO0142623393 EUR\n:28C:1\n:60F:C261119EUR000000001000,00\n"
        f"{body}:62F:C261120EUR{closing}\n"
    )


def _mt940_entry(mark: str, amount: str, remi: str) -> str:
    return f":61:261120{mark}{amount}N541NONREF\nNL66RABO0160878799\n:86:/ORDP//NAME/R. SMITH/REMI/{remi}\n"


def test_the_same_mt940_statement_twice_in_one_file_is_booked_once(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    number = _loan_number(ctx)
    statement = _mt940([_mt940_entry("C", "000000000020,00", number)] * 2, "000000001040,00")
    report = payments.import_statement(ctx, (statement + statement).encode(), "twice.940")
    assert report.counts() == {"entries": 4, "new": 2, "duplicates": 2, "matched": 2, "unmatched": 0}


def test_mt940_rc_undoes_a_payment_and_rd_is_no_payment(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    number = _loan_number(ctx)
    # 1000.00 + 30.00 (C) - 30.00 (RC: the credit reversed, a debit) + 7.00 (RD: a debit of ours reversed) = 1007.00
    text = _mt940(
        [
            _mt940_entry("C", "000000000030,00", number),
            _mt940_entry("RC", "000000000030,00", number),
            _mt940_entry("RD", "000000000007,00", "terug"),
        ],
        "000000001007,00",
    )
    report = payments.import_statement(ctx, text.encode(), "rc.940")
    assert (report.matched, report.reversals, report.unmatched) == (1, 1, 0)
    with ctx.db.reader() as s:
        statuses = s.execute(select(BankEntryRow.credit, BankEntryRow.status).order_by(BankEntryRow.id)).all()
    assert statuses == [(True, "reversed"), (False, "reversal"), (True, "not_payment")]


def test_a_statement_of_an_account_that_is_not_ours_is_refused_whole(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo", lender_accounts=["NL02ABNA0123456789"])
    before = _counts(ctx)
    with pytest.raises(BadFile, match="account NL91ABNA0417164300, which is not one of our accounts"):
        payments.import_statement(ctx, camt053([Tx("10.00", text=_loan_number(ctx), bank_ref="X1")]))
    with pytest.raises(BadFile, match="No own accounts are set"):
        payments.import_statement(ctx_for("demo", lender_accounts=[]), camt053([Tx("1.00", bank_ref="X2")]))
    assert _counts(ctx) == before
    # the IBAN printed on our letters is one of ours
    ok = ctx_for("demo", lender_accounts=[], lender_iban="NL91 ABNA 0417 1643 00")
    assert payments.import_statement(ok, camt053([Tx("1.00", bank_ref="X3")])).new == 1


@pytest.mark.parametrize("day", ["9999-12-31", "2099-01-01", "2027-11-25", "2016-11-21", "0001-01-01"])
def test_booking_dates_far_from_today_are_refused(ctx_for, day: str) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    ctx = ctx_for("demo")  # today 2026-11-23; 366 days ahead and 3653 back by default
    before = _counts(ctx)
    data = camt053([Tx("10.00", bank_ref="D1"), Tx("10.00", bank_ref="D2", day=date.fromisoformat(day))])
    with pytest.raises(BadFile, match=f"Entry 2: the date {day} is more than the settings allow") as err:
        payments.import_statement(ctx, data)
    assert err.value.where == "entry 2"
    assert _counts(ctx) == before


def test_dates_within_the_settings_are_booked(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    ctx = ctx_for("demo", statement_max_days_ahead=400)
    data = camt053(
        [Tx("10.00", bank_ref="W1", day=date(2027, 11, 25)), Tx("1.00", bank_ref="W2", day=date(2016, 11, 24))]
    )
    assert payments.import_statement(ctx, data).new == 2


def test_amounts_the_database_cannot_hold_are_refused_before_writing(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    before = _counts(ctx)
    # an amount has at most 15 digits before the point (CAMT, MT940), so it takes many: 93 entries of
    # 999,999,999,999,999.99 are 9,299,999,999,999,999,907 cents, above the BIGINT's 9,223,372,036,854,775,807
    biggest = "999999999999999.99"
    with pytest.raises(BadFile, match="add up to more than the database can hold"):
        payments.import_statement(ctx, camt053([Tx(biggest, bank_ref=f"B{n}") for n in range(93)]))
    assert _counts(ctx) == before
    # 92 of them fit (9,199,999,999,999,999,908 cents): the check is at the database's limit, not below it
    assert payments.import_statement(ctx, camt053([Tx(biggest, bank_ref=f"B{n}") for n in range(92)])).new == 92


def test_a_file_over_the_limit_is_refused_before_it_is_read(ctx_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    huge = tmp_path / "huge.xml"
    with huge.open("wb") as f:  # a sparse file of 1 GiB: costs no disk, but reading it would cost 1 GiB of memory
        f.truncate(1024**3)
    tracemalloc.start()
    try:
        with pytest.raises(BadFile, match="1073741824 bytes, more than the 209715200 bytes"):
            payments.import_statement(ctx, huge)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024
    small = ctx_for("demo", statement_max_bytes=2048)
    with pytest.raises(BadFile, match="more than the 2048 bytes"):
        payments.import_statement(small, camt053([Tx("1.00", bank_ref=f"M{n}") for n in range(20)]))


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_a_fifo_a_device_or_a_directory_is_refused_without_waiting(ctx_for, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    if kind == "fifo":
        path = tmp_path / "pipe.xml"
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    else:
        path = tmp_path
    outcome: list[BaseException] = []
    worker = threading.Thread(target=lambda: _catch(outcome, ctx, path), daemon=True)
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # the import hung: open the FIFO's other end so that the thread can finish
        if kind == "fifo":
            with open(path, "wb"):
                pass
        pytest.fail(f"importing a {kind} did not return")
    assert len(outcome) == 1 and isinstance(outcome[0], BadFile), outcome
    assert "is not a regular file" in str(outcome[0])


def _catch(outcome: list[BaseException], ctx, path: Path) -> None:  # type: ignore[no-untyped-def]
    try:
        payments.import_statement(ctx, path)
    except BaseException as err:  # noqa: BLE001 - the test looks at what came out
        outcome.append(err)
