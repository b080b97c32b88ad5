"""Untrusted statement files: every bad file is refused with a BadFile that names the line or element,
nothing is expanded or fetched, and no other exception escapes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incasso_tui.bank import parse_camt, parse_mt940, parse_statement_file
from incasso_tui.errors import BadFile

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "bank"
CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def sample(name: str) -> bytes:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"bank sample {name} not found in {SAMPLES} (the shared test data is not mounted)")
    return path.read_bytes()


def camt_with_entry(amount: str = "10.00", ccy: str = "EUR") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="{CAMT_NS}">\n'
        "<BkToCstmrStmt>\n"
        "<Stmt><Id>S1</Id><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>\n"
        '<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "<BookgDt><Dt>2026-01-02</Dt></BookgDt></Ntry>\n"
        f'<Ntry><Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "<BookgDt><Dt>2026-01-02</Dt></BookgDt></Ntry>\n"
        "</Stmt>\n</BkToCstmrStmt>\n</Document>\n"
    ).encode()


def refused(data: bytes, name: str = "upload.bin") -> BadFile:
    with pytest.raises(BadFile) as err:
        parse_statement_file(data, name)
    return err.value


# -- XML attacks ---------------------------------------------------------------------------------------

BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE Document [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="{CAMT_NS}"><BkToCstmrStmt><Stmt><Id>&lol9;</Id></Stmt></BkToCstmrStmt></Document>
""".encode()


def test_billion_laughs_is_refused() -> None:
    err = refused(BILLION_LAUGHS)
    assert err.where == "line 2"
    assert "DOCTYPE or entity declaration" in str(err)


def test_external_entity_is_never_read() -> None:
    data = (
        '<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        f'<Document xmlns="{CAMT_NS}"><BkToCstmrStmt><Stmt><Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>'
    ).encode()
    err = refused(data)
    assert err.where == "line 2"
    assert "root:" not in str(err) and "root:" not in repr(err.params)


def test_doctype_alone_is_refused() -> None:
    data = camt_with_entry().replace(b"<Document", b"<!DOCTYPE Document>\n<Document", 1)
    assert refused(data).where == "line 2"


def test_doctype_in_utf16_is_refused_after_the_parse() -> None:
    text = camt_with_entry().decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    text = text.replace("<Document", '<!DOCTYPE Document [<!ENTITY e "x">]>\n<Document', 1)
    with pytest.raises(BadFile, match="DOCTYPE") as err:
        parse_camt(text.encode("utf-16"))
    assert err.value.where is not None and err.value.where.startswith("element Document (line 3)")


# -- not a (supported) statement -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "namespace",
    [
        "urn:iso:std:iso:20022:tech:xsd:camt.052.001.02",  # intraday report
        "urn:iso:std:iso:20022:tech:xsd:camt.053.001.01",  # before 001.02
        "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03",
    ],
)
def test_wrong_namespace(namespace: str) -> None:
    data = camt_with_entry().replace(CAMT_NS.encode(), namespace.encode())
    with pytest.raises(BadFile) as err:
        parse_camt(data)
    assert err.value.where == "element Document (line 2)"
    assert namespace in str(err.value)


def test_unbound_namespace_prefix() -> None:
    """lxml keeps a name with an undeclared prefix as it is ("c:Document"): refused like any other root."""
    data = (
        camt_with_entry()
        .replace(b'<Document xmlns="', b'<c:Document xmns:c="')
        .replace(b"</Document>", b"</c:Document>")
    )
    err = refused(data)
    assert err.where == "element c:Document (line 2)"
    assert "not a bank statement (namespace none)" in str(err)


def test_camt_without_statement_body() -> None:
    data = f'<Document xmlns="{CAMT_NS}"><GrpHdr/></Document>'.encode()
    with pytest.raises(BadFile, match="holds no BkToCstmrStmt"):
        parse_camt(data)


def test_truncated_camt() -> None:
    data = sample("oca-test-camt053.xml")
    err = refused(data[: len(data) // 2])
    assert "damaged or incomplete" in str(err)
    assert err.where is not None and err.where.startswith("line ")


def test_malformed_xml_names_the_line() -> None:
    data = camt_with_entry().replace(b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>CRDT</Cdt>", 1)
    assert refused(data).where == "line 5"


# -- values ----------------------------------------------------------------------------------------------


def test_usd_amount() -> None:
    err = refused(camt_with_entry("10.00", "USD"))
    assert err.where == "element Ntry[2]/Amt (line 6)"
    assert str(err) == "element Ntry[2]/Amt (line 6): currency USD, only EUR is accepted"


def test_three_decimals() -> None:
    err = refused(camt_with_entry("10.005"))
    assert err.where == "element Ntry[2]/Amt (line 6)"
    assert "amount 10.005 has more than 2 decimals" in str(err)


@pytest.mark.parametrize("amount", ["-5.00", "1e3", "", "12,50"])
def test_not_an_amount(amount: str) -> None:
    assert refused(camt_with_entry(amount)).where == "element Ntry[2]/Amt (line 6)"


def test_bad_date_and_direction() -> None:
    data = camt_with_entry()
    last_date = data.rindex(b"2026-01-02")
    bad_date = data[:last_date] + b"2026-13-02" + data[last_date + 10 :]
    assert refused(bad_date).where == "element Ntry[2]/BookgDt (line 6)"
    bad_direction = data.replace(b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>CRED</CdtDbtInd>", 1)
    assert refused(bad_direction).where == "element Ntry[1]/CdtDbtInd (line 5)"


MT940 = (
    ":20:940S140102\n:25:NL34RABO0142623393 EUR\n:28C:0\n:60F:C131231EUR4433,52\n"
    ":61:140102C400,00N541NONREF\n:86:/NAME/R. SMITH/REMI/L12345678\n:62F:C140102EUR4833,52\n"
)


def test_mt940_three_decimals() -> None:
    err = refused(MT940.replace("C400,00N", "C400,005N").encode())
    assert err.where == "line 5 (:61:)" and "more than 2 decimals" in str(err)


def test_mt940_usd() -> None:
    err = refused(MT940.replace("C131231EUR", "C131231USD").encode())
    assert str(err) == "line 4 (:60F:): currency USD, only EUR is accepted"


def test_mt940_garbled_entry() -> None:
    assert refused(MT940.replace("140102C400,00N541", "14-01-02 400").encode()).where == "line 5 (:61:)"


def test_mt940_without_account() -> None:
    assert "no account" in str(refused(MT940.replace(":25:NL34RABO0142623393 EUR\n", "").encode()))


# -- not a bank statement at all --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n\n",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        bytes(range(256)) * 4,
        b'<?xml version="1.0"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>',
        b"Datum,Naam,Rekening,Bedrag\n2026-01-02,Jansen,NL91ABNA0417164300,12.50\n",
    ],
    ids=["empty", "blank", "pdf", "binary", "other-xml", "csv"],
)
def test_not_a_bank_statement(data: bytes) -> None:
    err = refused(data, "afschrift.pdf")
    assert str(err) == "Not a bank statement: afschrift.pdf"
    assert err.where == "line 1"


def test_random_bytes_from_os() -> None:
    assert "Not a bank statement" in str(refused(os.urandom(4096)))


def test_size_bound() -> None:
    with pytest.raises(BadFile, match="more than the 100 bytes"):
        parse_statement_file(camt_with_entry(), "big.xml", max_bytes=100)
    with pytest.raises(BadFile, match="more than the 100 bytes"):
        parse_mt940(MT940.encode(), max_bytes=100)


# -- fuzz: nothing but BadFile ever escapes -------------------------------------------------------------


def _only_bad_file(data: bytes) -> None:
    try:
        parse_statement_file(data, "fuzz")
    except BadFile:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes(data: bytes) -> None:
    _only_bad_file(data)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["oca-test-camt053.xml", "oca-test-ing.940", "oca-test-sns.940", "oca-test-rabo.swi"]),
    st.data(),
)
def test_fuzz_cut_and_flipped_samples(name: str, data: st.DataObject) -> None:
    content = sample(name)
    cut = data.draw(st.integers(min_value=0, max_value=len(content)))
    position = data.draw(st.integers(min_value=0, max_value=max(cut - 1, 0)))
    byte = data.draw(st.integers(min_value=0, max_value=255))
    mutated = content[:cut]
    if mutated:
        mutated = mutated[:position] + bytes([byte]) + mutated[position + 1 :]
    _only_bad_file(mutated)
