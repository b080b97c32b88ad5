"""MT940: the ING, Rabobank, SNS and Mollie samples, and variants of them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from incasso_tui.bank import parse_mt940, parse_statement_file
from incasso_tui.errors import BadFile

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "bank"


def sample(name: str) -> bytes:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"bank sample {name} not found in {SAMPLES} (the shared test data is not mounted)")
    return path.read_bytes()


# -- ING ---------------------------------------------------------------------------------------------


def test_ing() -> None:
    [statement] = parse_mt940(sample("oca-test-ing.940"))
    assert statement.format == "mt940-ing"
    assert statement.statement_id == "P140220000000001/00000"  # ":28C:0000" wrapped before its last "0"
    assert statement.account_iban == "NL77INGB0574908765"
    entries = statement.entries
    assert len(entries) == 8
    assert [(e.amount, e.credit) for e in entries] == [
        (Decimal("1.56"), True),
        (Decimal("1.57"), False),
        (Decimal("1.57"), True),
        (Decimal("1.14"), False),
        (Decimal("1.45"), True),
        (Decimal("12.75"), False),
        (Decimal("32.00"), True),
        (Decimal("119.00"), False),
    ]
    assert all(e.booking_date == e.value_date == date(2014, 2, 20) for e in entries)
    # The bank reference, even where ING wrapped it ("00000000001" + "005").
    assert [e.bank_reference for e in entries] == [f"0000000000100{n}" for n in (5, 6, 7, 9, 8)] + [
        "00000000001010",
        "00000000001011",
        "00000000001012",
    ]
    first = entries[0]
    assert first.end_to_end_id == "EV12341REP1231456T1234"
    assert first.counterparty_iban == "NL32INGB0000012345"
    assert first.counterparty_name == "ING BANK NV INZAKE WEB"
    assert first.remittance == "EV10001REP1000000T1000"
    assert entries[1].remittance == "TOTAAL 1 VZ" and entries[1].counterparty_name is None
    # Returned (RTI) entries carry /RTRN/.
    assert (entries[2].return_reason, entries[2].end_to_end_id) == ("MS03", "20120123456789")
    assert entries[2].remittance == "Factuurnr 123456 Klantnr 00123"
    # Wrapped in the middle of words and codes: "/EREF/EV123R" + "EP123412T1234", "/REM" + "I/USTD//CO" ...
    assert entries[3].end_to_end_id == "EV123REP123412T1234"
    assert entries[3].counterparty_name == "ING Bank N.V. inzake WeB"
    assert entries[4].remittance == "TOTAAL 1 POSTEN"
    assert entries[5].remittance == "CONTRIBUTIE FEB 2014" and entries[5].return_reason == "MS03"
    # Structured reference /REMI/STRD/CUR/...
    assert (entries[6].creditor_reference, entries[6].remittance) == ("9001123412341234", "")
    assert entries[7].creditor_reference == "1070123412341234"
    assert entries[7].end_to_end_id == "15614016000384600"
    assert not any(e.reversal for e in entries)
    assert len({e.dedup_key for e in entries}) == 8


# -- Rabobank ----------------------------------------------------------------------------------------


def test_rabobank() -> None:
    statements = parse_mt940(sample("oca-test-rabo.swi"))
    assert [(s.statement_id, len(s.entries)) for s in statements] == [
        ("940S140102/0", 1),
        ("940S140103/0", 0),
        ("940S140106/0", 1),
        ("940S140107/0", 0),
    ]
    assert {s.format for s in statements} == {"mt940-rabo"}
    assert {s.account_iban for s in statements} == {"NL34RABO0142623393"}
    paid = statements[0].entries[0]
    assert (paid.amount, paid.credit, paid.booking_date) == (Decimal("400.00"), True, date(2014, 1, 2))
    assert paid.counterparty_iban == "NL66RABO0160878799"  # second line of :61:
    assert paid.counterparty_name == "R. SMITH"
    assert paid.remittance == "Test money paid by other partner:"
    assert paid.bank_reference is None and paid.end_to_end_id is None
    costs = statements[2].entries[0]
    assert (costs.amount, costs.credit, costs.booking_date) == (Decimal("34.61"), False, date(2014, 1, 1))
    assert costs.counterparty_name == "Kosten"
    assert costs.remittance == "Periode 01-10-2013 t/m 31-12-2013"
    assert (paid.entry_index, costs.entry_index) == (1, 2)


# -- SNS ---------------------------------------------------------------------------------------------


def test_sns() -> None:
    statements = parse_statement_file(sample("oca-test-sns.940"), "oca-test-sns.940")
    assert [(s.statement_id, len(s.entries)) for s in statements] == [
        ("0000000000/361/1", 4),
        ("0000000000/362/1", 2),
        ("0000000000/363/1", 2),  # the bank closed this one with "-}" and without :62F:
    ]
    assert {(s.format, s.account_iban) for s in statements} == {("mt940-sns", "NL05SNSB0908244436")}
    glas, jumbo, vitens, _ah = statements[0].entries
    assert (glas.amount, glas.credit) == (Decimal("713.13"), False)
    assert glas.counterparty_iban == "NL49RABO0166416932"
    assert glas.counterparty_name == "gerrits glas en schilderwerk"
    assert glas.remittance == "NL49RABO0166416932 gerrits glas en schilderwerk Factuur 17227/248/20"
    assert jumbo.bank_reference == "228ohu/972795"
    assert jumbo.remittance.startswith("Jumbo Wijchen B.V. >WIJCHEN 27.12.2017 13U38")
    assert "VNKlantnr 00000000000" in vitens.remittance  # padded lines joined
    notice = statements[1].entries[1]
    assert (notice.amount, notice.credit) == (Decimal("0.00"), True)
    assert (
        statements[2]
        .entries[1]
        .remittance.endswith(
            "Bekijk je rekening op thuismy.t-mobile.nl-Incassant ID: NL39ZZZ302317620000-Kenmerk Machtiging: bla"
        )
    )
    assert [e.entry_index for s in statements for e in s.entries] == list(range(1, 9))


# -- Mollie ------------------------------------------------------------------------------------------


def test_mollie() -> None:
    [statement] = parse_mt940(sample("oca-mollie-voorbeeld.mt940"))
    assert statement.statement_id == "940A160901/245/1"
    assert statement.account_iban == "NL30ABNA000000000000"  # a placeholder: no valid check digits
    assert statement.format == "mt940-abnamro"
    entries = statement.entries
    assert len(entries) == 21
    assert sum(e.amount for e in entries if e.credit) == Decimal("1056.64")
    assert sum(e.amount for e in entries if not e.credit) == Decimal("2406.90")
    assert entries[0].counterparty_iban == "NL30ABNA000000000000"
    assert entries[0].counterparty_name == "V. Oornaam"
    assert entries[0].remittance == "Order 123"
    assert entries[0].end_to_end_id == "tr_XXXXXXXXX"
    assert entries[19].remittance == "REF 0000000.1608.01 UITBETALINGEN"
    assert entries[20].counterparty_name == "Mollie B.V."  # "/NAME/M" + "ollie B.V."
    assert entries[20].end_to_end_id is None  # NOTPROVIDED
    # Four payments of 68,94 with the same end-to-end id still get four keys.
    assert len({e.dedup_key for e in entries}) == 21


# -- wrong file and variants -------------------------------------------------------------------------


def test_wrong_file_is_refused_at_line_1() -> None:
    with pytest.raises(BadFile) as err:
        parse_statement_file(sample("oca-test-wrong-file.940"), "oca-test-wrong-file.940")
    assert err.value.where == "line 1"
    assert "':9401:' is not part of an MT940 bank statement" in str(err.value)


RABO = (
    ":940:\n:20:940S140102\n:25:NL34RABO0142623393 EUR\n:28C:0\n:60F:C131231EUR000000004433,52\n"
    ":61:140102C000000000400,00N541NONREF\nNL66RABO0160878799\n"
    ":86:/ORDP//NAME/R. SMITH/REMI/L12345678/ISDT/2014-01-02\n:62F:C140102EUR000000004833,52\n"
)


def test_balance_must_add_up() -> None:
    with pytest.raises(BadFile) as err:
        parse_mt940(RABO.replace("4833,52", "4833,53").encode())
    assert err.value.where == "line 9 (:62F:)"
    assert "closing balance 4833.53 is not the opening balance 4433.52 plus the entries (400.00)" in str(err.value)


def test_missing_closing_balance_is_a_cut_file() -> None:
    cut = RABO.rpartition(":62F:")[0]
    with pytest.raises(BadFile, match="no closing balance"):
        parse_mt940(cut.encode())


def test_reversal_marks_as_swift_defines_them() -> None:
    # SWIFT MT940 field 61, subfield 3 (Debit/Credit Mark): RC = reversal of credit, a debit on the account;
    # RD = reversal of debit, a credit. RC: 4433.52 - 400.00 = 4033.52 closing; RD: 4433.52 + 400.00 = 4833.52.
    rc = RABO.replace("C000000000400,00N541", "RC000000000400,00N541").replace(
        "EUR000000004833,52", "EUR000000004033,52"
    )
    [entry] = parse_mt940(rc.encode())[0].entries  # was refused as unbalanced (RC counted as a credit)
    assert entry.reversal and not entry.credit
    rd = RABO.replace("C000000000400,00N541", "RD000000000400,00N541")  # closing 4833.52 as it stands
    [entry] = parse_mt940(rd.encode())[0].entries
    assert entry.reversal and entry.credit
    with pytest.raises(BadFile, match="closing balance"):  # RD booked as a debit would not add up either way
        parse_mt940(rd.replace("EUR000000004833,52", "EUR000000004033,52").encode())


def test_booking_date_across_new_year() -> None:
    text = RABO.replace(":61:140102C", ":61:1401021231C")
    [entry] = parse_mt940(text.encode())[0].entries
    assert (entry.value_date, entry.booking_date) == (date(2014, 1, 2), date(2013, 12, 31))


def test_crlf_and_windows_1252() -> None:
    text = RABO.replace("R. SMITH", "R. Smiț").replace("\n", "\r\n")
    [entry] = parse_mt940(text.encode("utf-8"))[0].entries
    assert entry.counterparty_name == "R. Smiț"
    latin = RABO.replace("R. SMITH", "Café Één").encode("cp1252")
    assert parse_mt940(latin)[0].entries[0].counterparty_name == "Café Één"


def test_swift_blocks_and_mt942_refused() -> None:
    block = "{1:F01INGBNL2ABXXX0000000000}{2:I942INGBNL2AXXXN}{4:\n" + RABO.replace(":940:\n", "") + "-}"
    with pytest.raises(BadFile, match="MT942 message, not an MT940"):
        parse_mt940(block.encode())
