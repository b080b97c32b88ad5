"""The EPC payment QR payload (EPC069-12): what is built, what is refused, and that it reads back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incasso_tui.domain.epc import EPC_MAX_BYTES, EpcPayment, build_payload, format_amount, parse_payload
from incasso_tui.domain.references import loan_rf, make_rf
from incasso_tui.errors import BadInput
from tests.qr_decode import decode_png

IBAN = "NL91ABNA0417164300"
NAME = "Demo Kredietverlener B.V."


def _payment(**changes: object) -> EpcPayment:
    values: dict[str, object] = {
        "name": NAME,
        "iban": IBAN,
        "amount": Decimal("123.45"),
        "reference": make_rf("INC12345"),
    }
    values.update(changes)
    return EpcPayment(**values)  # type: ignore[arg-type]


def test_payload_lines_follow_the_standard() -> None:
    payload = build_payload(_payment(bic="abnanl2a", iban="nl91 abna 0417 1643 00"))
    assert payload.split("\n") == [
        "BCD",
        "002",
        "1",
        "SCT",
        "ABNANL2A",
        NAME,
        IBAN,
        "EUR123.45",
        "",
        make_rf("INC12345"),
    ]
    assert not payload.endswith("\n")  # the last populated element is not followed by a separator


def test_without_bic_and_with_text_instead_of_reference() -> None:
    payload = build_payload(_payment(reference=None, text="Lening L00012345  termijn maart"))
    assert payload.split("\n") == [
        "BCD",
        "002",
        "1",
        "SCT",
        "",
        NAME,
        IBAN,
        "EUR123.45",
        "",
        "",
        "Lening L00012345 termijn maart",
    ]


@pytest.mark.parametrize(
    ("amount", "text"),
    [("0.01", "EUR0.01"), ("999999999.99", "EUR999999999.99"), ("12.3", "EUR12.30"), ("7", "EUR7.00")],
)
def test_amount_format(amount: str, text: str) -> None:
    assert format_amount(Decimal(amount)) == text


@pytest.mark.parametrize(
    "amount", [Decimal("0"), Decimal("-1.00"), Decimal("1000000000.00"), Decimal("1.005"), Decimal("NaN"), 12.5, 10]
)
def test_bad_amounts_are_refused(amount: object) -> None:
    with pytest.raises(BadInput):
        build_payload(_payment(amount=amount))


@pytest.mark.parametrize(
    "iban", ["NL06ABNA04171643001", "XX62ABNA0417164300", "DE08ABNA0417164300", "NL91ABNA0417164301", ""]
)
def test_bad_ibans_are_refused(iban: str) -> None:
    with pytest.raises(BadInput, match="IBAN"):
        build_payload(_payment(iban=iban))


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"reference": "RF00INC12345"}, "RF creditor reference"),
        ({"reference": "5000056789012345"}, "RF creditor reference"),  # a betalingskenmerk is not ISO 11649
        ({"text": "also text"}, "never both"),
        ({"name": ""}, "name"),
        ({"name": "x" * 71}, "71 characters"),
        ({"name": "Line\nbreak"}, "line break"),
        ({"reference": None, "text": "y" * 141}, "141 characters"),
        ({"bic": "ABNA"}, "BIC"),
    ],
)
def test_bad_fields_are_refused(changes: dict[str, object], match: str) -> None:
    with pytest.raises(BadInput, match=match):
        build_payload(_payment(**changes))


def test_name_of_70_and_text_of_140_fit() -> None:
    assert build_payload(_payment(name="n" * 70)).split("\n")[5] == "n" * 70
    assert build_payload(_payment(reference=None, text="t" * 140)).endswith("t" * 140)


def test_payload_above_331_bytes_is_refused() -> None:
    # 70 + 140 characters of three bytes each in UTF-8 make more than 331 bytes
    with pytest.raises(BadInput, match="bytes"):
        build_payload(_payment(name="€" * 70, reference=None, text="€" * 140))


def test_payload_without_amount_leaves_the_line_empty() -> None:
    assert build_payload(_payment(amount=None)).split("\n")[7] == ""


@pytest.mark.parametrize(
    "payload",
    [
        "BCD\n003\n1\nSCT\n\nN\nNL91ABNA0417164300\nEUR1.00",  # unknown version
        "BCD\n002\n2\nSCT\n\nN\nNL91ABNA0417164300\nEUR1.00",  # not UTF-8
        "BCD\n002\n1\nINST\n\nN\nNL91ABNA0417164300\nEUR1.00",
        "BCD\n001\n1\nSCT\n\nN\nNL91ABNA0417164300\nEUR1.00",  # version 001 needs a BIC
        "BCD\n002\n1\nSCT\n\nN\nNL91ABNA0417164300\nUSD1.00",
        "BCD\n002\n1\nSCT\n\nN\nNL91ABNA0417164300\nEUR1,00",
        "BCD\n002\n1\nSCT\n\nN\nNL91ABNA0417164300\nEUR1.00\n",  # trailing separator
        "BCD\n002\n1\nSCT\n\nN\nNL91ABNA0417164300\nEUR1.00\nCHAR",  # a purpose code
        "BCD\n002\n1\nSCT\n\nN\nNL91ABNA0417164300\nEUR1.00\n\n\n\n\nextra",  # 13 lines
    ],
)
def test_parser_refuses_what_is_not_ours(payload: str) -> None:
    with pytest.raises(BadInput):
        parse_payload(payload)


def test_parser_reads_version_001_with_bic_and_crlf() -> None:
    p = parse_payload("BCD\r\n001\r\n1\r\nSCT\r\nABNANL2A\r\nN\r\nNL91ABNA0417164300\r\nEUR1.5")
    assert (p.bic, p.amount, p.reference, p.text) == ("ABNANL2A", Decimal("1.50"), None, None)


@given(
    cents=st.integers(min_value=1, max_value=99_999_999_999),
    digits=st.text("0123456789", min_size=1, max_size=8),
    bic=st.sampled_from([None, "ABNANL2A", "INGBNL2AXXX"]),
)
def test_build_then_parse_is_the_same_payment(cents: int, digits: str, bic: str | None) -> None:
    payment = _payment(amount=Decimal(cents) / 100, reference=loan_rf("L" + digits, "INC"), bic=bic)
    parsed = parse_payload(build_payload(payment))
    assert parsed == EpcPayment(
        name=NAME, iban=IBAN, amount=Decimal(cents) / 100, bic=bic, reference=loan_rf("L" + digits, "INC")
    )
    assert len(build_payload(payment).encode()) <= EPC_MAX_BYTES


def test_largest_payload_makes_a_readable_code() -> None:
    from incasso_tui.letters.qrcode import qr_png, qr_svg

    rest = EPC_MAX_BYTES - len(build_payload(_payment(name="Ä" * 70, reference=None)).encode()) - 3  # 3 separators
    wide = rest - 140  # two-byte characters, so that the text is 140 characters and fills the 331 bytes
    payload = build_payload(_payment(name="Ä" * 70, reference=None, text="é" * wide + "x" * (140 - wide)))
    assert len(payload.encode()) == EPC_MAX_BYTES
    assert decode_png(qr_png(payload)) == [payload]
    assert qr_svg(payload).startswith("<svg")
