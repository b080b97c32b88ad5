"""CAMT.053 / CAMT.054: the shared sample files and generated variants."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from incasso_tui.bank import BankEntry, parse_camt, parse_camt_statements, parse_statement_file
from incasso_tui.bank.model import EntryDraft
from incasso_tui.errors import BadFile

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "bank"


def sample(name: str) -> bytes:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"bank sample {name} not found in {SAMPLES} (the shared test data is not mounted)")
    return path.read_bytes()


def as_euro(data: bytes) -> bytes:
    """The Swiss samples with their currency changed to EUR, to read their structure."""
    return data.replace(b'Ccy="CHF"', b'Ccy="EUR"')


def test_draft_has_the_fields_of_an_entry_in_order() -> None:
    assert list(EntryDraft._fields) + ["dedup_key"] == list(BankEntry._fields)


# -- oca-test-camt053.xml ----------------------------------------------------------------------------


def test_camt053_dutch_bank_layout() -> None:
    statement = parse_camt(sample("oca-test-camt053.xml"))
    assert statement.format == "camt.053.001.02"
    assert statement.statement_id == "1234Test/1"
    assert statement.account_iban == "NL77ABNA0574908765"
    assert statement.currency == "EUR"
    assert [e.amount for e in statement.entries] == [
        Decimal("754.25"),
        Decimal("564.05"),
        Decimal("100.00"),
        Decimal("1405.31"),
    ]
    assert [(e.entry_index, e.tx_index) for e in statement.entries] == [(1, 1), (2, 1), (2, 2), (3, 1)]
    assert all(e.booking_date == date(2014, 1, 5) == e.value_date for e in statement.entries)

    debit, returned_1, returned_2, credit = statement.entries
    assert not debit.credit and not debit.reversal
    assert debit.counterparty_name == "INSURANCE COMPANY TESTX"
    assert debit.counterparty_iban == "NL46ABNA0499998748"
    assert debit.remittance == "Insurance policy 857239PERIOD 01.01.2014 - 31.12.2014"
    assert debit.end_to_end_id == "435005714488-ABNO33052620"
    assert debit.bank_reference is None and debit.creditor_reference is None

    # The reversed batch of two direct debits, with return reason AC06, split per transaction.
    for entry, e2e in (
        (returned_1, "TESTBANK/NL/20141229/01206408"),
        (returned_2, "TESTBANK/NL/20141229/01206407"),
    ):
        assert entry.reversal and not entry.credit
        assert entry.return_reason == "AC06"
        assert entry.end_to_end_id == e2e
        assert entry.counterparty_name == "Test Customer"
        assert entry.counterparty_iban == "NL46ABNA0499998748"
        assert entry.remittance == "Direct Debit S14 0410"

    assert credit.credit and not credit.reversal
    assert credit.counterparty_name == "3rd party Media"
    assert credit.counterparty_iban == "NL69ABNA0522123643"
    assert credit.end_to_end_id == "115"
    assert credit.remittance == "#RD PARTY MEDIA CUSNO 90782 4210773"  # AddtlTxInf, there is no RmtInf
    assert len({e.dedup_key for e in statement.entries}) == 4


def test_same_file_twice_gives_the_same_keys() -> None:
    first = parse_camt(sample("oca-test-camt053.xml"))
    again = parse_camt(sample("oca-test-camt053.xml"))
    assert [e.dedup_key for e in first.entries] == [e.dedup_key for e in again.entries]


# -- oca-test-camt053-txdtls.xml, oca-test-camt053-no-ntry.xml (Swiss francs) ------------------------


def test_camt053_in_swiss_francs_is_refused() -> None:
    with pytest.raises(BadFile) as err:
        parse_camt(sample("oca-test-camt053-txdtls.xml"))
    assert err.value.where == "element Stmt[1]/Bal[1]/Amt (line 35)"
    assert "currency CHF, only EUR is accepted" in str(err.value)


def test_camt053_batch_of_two_txdtls_is_split() -> None:
    statement = parse_camt(as_euro(sample("oca-test-camt053-txdtls.xml")))
    assert statement.format == "camt.053.001.04"
    assert statement.statement_id == "20170323123456789012345"
    assert statement.account_iban == "CH1111000000123456789"
    first, second = statement.entries
    assert (first.amount, second.amount) == (Decimal("2187.00"), Decimal("1296.00"))
    assert first.credit and second.credit
    assert (first.entry_index, first.tx_index, second.entry_index, second.tx_index) == (1, 1, 1, 2)
    assert first.booking_date == date(2017, 3, 22) and first.value_date == date(2017, 3, 23)
    assert first.creditor_reference == "302388292000011111111111111"
    assert second.creditor_reference == "302388292000022222222222222"
    assert first.counterparty_iban == "CH2222000000123456789"
    assert second.counterparty_iban == "CH3333000000123456789"
    assert first.counterparty_name == "Banque Cantonale Vaudoise"
    assert first.bank_reference == second.bank_reference == "123456CHCAFEBABE"
    assert first.remittance == "?REJECT?0"
    assert first.dedup_key != second.dedup_key


def test_camt053_without_entries() -> None:
    with pytest.raises(BadFile, match="currency CHF"):
        parse_camt(sample("oca-test-camt053-no-ntry.xml"))
    statement = parse_camt(as_euro(sample("oca-test-camt053-no-ntry.xml")))
    assert statement.format == "camt.053.001.04"
    assert statement.account_iban == "NL77ABNA0574908765"
    assert statement.entries == ()


# -- oca-test-camt054.xml ----------------------------------------------------------------------------


def test_camt054_notification() -> None:
    [statement] = parse_statement_file(sample("oca-test-camt054.xml"), "oca-test-camt054.xml")
    assert statement.format == "camt.054.001.04"
    assert statement.statement_id == "20220120000000000000000"
    assert statement.account_iban == "NL77ABNA0574908765"
    [entry] = statement.entries
    assert entry.amount == Decimal("5.00") and entry.credit and not entry.reversal
    assert entry.booking_date == date(2022, 1, 26)
    assert entry.counterparty_name == "Test Customer"
    assert entry.counterparty_iban == "NL46ABNA0499998748"
    assert entry.end_to_end_id == "ENDTOENDID-01"
    assert entry.bank_reference == "15180015077602405"  # the transaction's own AcctSvcrRef
    assert entry.creditor_reference == "000000000000000000000000003"
    assert entry.remittance == "Additional entry info"  # no Ustrd: AddtlNtryInf


# -- generated variants ------------------------------------------------------------------------------


def camt(entries: str, *, version: str = "053.001.02", extra_stmt: str = "") -> bytes:
    kind = version[:3]
    body, stmt = ("BkToCstmrStmt", "Stmt") if kind == "053" else ("BkToCstmrDbtCdtNtfctn", "Ntfctn")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{version}">\n<{body}>\n'
        f"<GrpHdr><MsgId>M1</MsgId></GrpHdr>\n"
        f"<{stmt}><Id>S1</Id><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>\n"
        f"{entries}</{stmt}>\n{extra_stmt}</{body}>\n</Document>\n"
    ).encode()


def ntry(
    amount: str = "10.00",
    *,
    ccy: str = "EUR",
    ind: str = "CRDT",
    sts: str = "<Sts>BOOK</Sts>",
    details: str = "",
    ref: str = "",
) -> str:
    return (
        f'<Ntry><Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>{sts}'
        f"<BookgDt><Dt>2026-03-02</Dt></BookgDt><ValDt><DtTm>2026-03-03T10:00:00</DtTm></ValDt>"
        f"{ref}<NtryDtls>{details}</NtryDtls></Ntry>\n"
    )


def test_version_08_layout() -> None:
    tx = (
        "<TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
        "<RltdPties><Dbtr><Pty><Nm>Bakkerij  De Vries</Nm></Pty></Dbtr>"
        "<DbtrAcct><Id><IBAN>NL02ABNA0123456789</IBAN></Id></DbtrAcct></RltdPties>"
        "<RmtInf><Ustrd>Aflossing L12345678</Ustrd><Ustrd>termijn 3</Ustrd>"
        "<Strd><CdtrRefInf><Ref>rf18 5390 0754 7034</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>"
    )
    data = camt(ntry(sts="<Sts><Cd>BOOK</Cd></Sts>", details=tx), version="053.001.08")
    [entry] = parse_camt(data).entries
    assert entry.counterparty_name == "Bakkerij De Vries"
    assert entry.counterparty_iban == "NL02ABNA0123456789"
    assert entry.remittance == "Aflossing L12345678 termijn 3"
    assert entry.creditor_reference == "RF18539007547034"
    assert entry.end_to_end_id is None
    assert entry.value_date == date(2026, 3, 3)


def test_pending_entries_are_left_out() -> None:
    data = camt(ntry("1.00", sts="<Sts>PDNG</Sts>") + ntry("2.00"))
    [entry] = parse_camt(data).entries
    assert entry.amount == Decimal("2.00") and entry.entry_index == 2


def test_batch_without_amounts_is_one_entry_for_the_total() -> None:
    txs = "<TxDtls><Refs><EndToEndId>A</EndToEndId></Refs></TxDtls>" * 3
    [entry] = parse_camt(camt(ntry("30.00", details=f"<Btch><NbOfTxs>3</NbOfTxs></Btch>{txs}"))).entries
    assert entry.amount == Decimal("30.00") and entry.end_to_end_id is None


def test_batch_whose_amounts_do_not_add_up_is_one_entry() -> None:
    tx = '<TxDtls><Amt Ccy="EUR">10.00</Amt></TxDtls>'
    [entry] = parse_camt(camt(ntry("30.00", details=tx * 2, ref="<AcctSvcrRef>B1</AcctSvcrRef>"))).entries
    assert entry.amount == Decimal("30.00") and entry.bank_reference == "B1"


def test_identical_entries_get_different_keys_stable_across_files() -> None:
    same = ntry("12.50", details="<TxDtls><RmtInf><Ustrd>L00000001</Ustrd></RmtInf></TxDtls>")
    one = parse_camt(camt(same * 2)).entries
    assert one[0].dedup_key != one[1].dedup_key
    # An overlapping statement that holds an extra entry after them: the two keys come back.
    other = parse_camt(camt(same * 2 + ntry("99.00"))).entries
    assert [e.dedup_key for e in other[:2]] == [e.dedup_key for e in one]


def test_key_uses_the_bank_reference_first() -> None:
    with_ref = ntry(ref="<AcctSvcrRef>X1</AcctSvcrRef>", details="<TxDtls><RmtInf><Ustrd>a</Ustrd></RmtInf></TxDtls>")
    changed_text = with_ref.replace("<Ustrd>a</Ustrd>", "<Ustrd>b</Ustrd>")
    [first] = parse_camt(camt(with_ref)).entries
    [second] = parse_camt(camt(changed_text)).entries
    assert first.dedup_key == second.dedup_key


def test_two_statements_in_one_file() -> None:
    account = "<Acct><Id><IBAN>NL02ABNA0123456789</IBAN></Id></Acct>"
    second = f"<Stmt><Id>S2</Id>{account}{ntry('5.00')}</Stmt>\n"
    data = camt(ntry("1.00"), extra_stmt=second)
    statements = parse_camt_statements(data)
    assert [(s.statement_id, s.account_iban, len(s.entries)) for s in statements] == [
        ("S1", "NL91ABNA0417164300", 1),
        ("S2", "NL02ABNA0123456789", 1),
    ]
    assert statements[1].entries[0].entry_index == 2
    with pytest.raises(BadFile, match="holds 2 statements"):
        parse_camt(data)


def test_a_namespace_prefix_reads_the_same() -> None:
    """A prefix for the CAMT namespace, or another namespace beside it, changes nothing; elements of another
    namespace are not read as entries."""
    tx = "<TxDtls><Refs><EndToEndId>E1</EndToEndId></Refs><RmtInf><Ustrd>L00000001</Ustrd></RmtInf></TxDtls>"
    plain = camt(ntry("10.00", details=tx) + ntry("20.00"))
    prefixed = re.sub(rb"<(/?)(?=[A-Za-z])", rb"<\1c:", plain).replace(b"<c:Document xmlns=", b"<c:Document xmlns:c=")
    foreign = plain.replace(b"<Document xmlns=", b'<Document xmlns:o="urn:other" xmlns=').replace(
        b"</Stmt>", b'<o:Ntry><o:Amt Ccy="EUR">99.00</o:Amt></o:Ntry></Stmt>'
    )
    expected = parse_camt(plain)
    assert [e.amount for e in expected.entries] == [Decimal("10.00"), Decimal("20.00")]
    for variant in (prefixed, foreign):
        assert parse_camt(variant) == expected


def test_camt053_version_13_namespace_is_accepted() -> None:
    assert parse_camt(camt(ntry(), version="053.001.13")).format == "camt.053.001.13"
