"""The payment QR code on the letters that ask for payment: read back from the letter's PDF (pypdf takes the
image out, zxing-cpp decodes it), with the amount the letter asks for and the loan's RF reference."""

from __future__ import annotations

import io
from decimal import Decimal

import pypdf
import pytest

from incasso_tui.domain.epc import parse_payload
from incasso_tui.domain.references import loan_rf
from incasso_tui.i18n import Translator
from incasso_tui.letters.model import LETTER_KINDS, LetterData
from incasso_tui.letters.payment import PAYMENT_KINDS, letter_amount, letter_payment_qr
from incasso_tui.letters.render import render_pdf
from tests.letter_samples import LENDER, figures, letter_data
from tests.qr_decode import decode_gray

CAPTION = {"nl": "Scan met uw bankapp", "en": "Scan with your banking app"}
AMOUNT = {
    "reminder": "480.23",
    "demand": "480.23",
    "fourteen_day": "480.23",
    "bkr_warning": "480.23",
    "default_notice": "480.23",
    "call_in": "4731.34",
    "arrangement_confirmation": "80.23",
}


def _with_qr(data: LetterData) -> LetterData:
    qr = letter_payment_qr(data.kind, data.figures, data.lender, kenmerk=data.reference, rf_prefix="INC")
    return data.model_copy(update={"payment_qr": qr})


def _pdf_qr_codes(pdf: bytes) -> list[str]:
    """The QR codes in the images of every page of ``pdf``."""
    found: list[str] = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        resources = page.get("/Resources") or {}
        for image in (resources.get("/XObject") or {}).values():
            image = image.get_object()
            if image.get("/Subtype") != "/Image":
                continue
            assert image["/BitsPerComponent"] == 8
            found += decode_gray(image.get_data(), int(image["/Width"]), int(image["/Height"]))
    return found


def _text(pdf: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", PAYMENT_KINDS)
def test_letters_that_ask_for_payment_carry_a_code_that_pays_it(kind: str, language: str) -> None:
    data = _with_qr(letter_data(kind, language))
    pdf = render_pdf(data)
    codes = _pdf_qr_codes(pdf)
    assert len(codes) == 1
    payment = parse_payload(codes[0])
    assert payment.amount == Decimal(AMOUNT[kind]) == letter_amount(kind, data.figures)
    assert (payment.iban, payment.name, payment.text) == (LENDER.iban, LENDER.name, None)
    assert payment.reference == loan_rf("L10000001", "INC") == data.payment_qr.reference  # type: ignore[union-attr]
    # the caption with the amount under it, in the letter's language and locale ("€ 4.731,34", "€4,731.34")
    caption = f"{CAPTION[language]} {Translator(language).money(Decimal(AMOUNT[kind]))}"
    assert " ".join(caption.split()) in _text(pdf)


@pytest.mark.parametrize("kind", [k for k in LETTER_KINDS if k not in PAYMENT_KINDS])
def test_other_letters_carry_no_code(kind: str) -> None:
    data = letter_data(kind)
    assert letter_payment_qr(kind, data.figures, data.lender, kenmerk=data.reference, rf_prefix="INC") is None
    pdf = render_pdf(data)
    assert _pdf_qr_codes(pdf) == [] and "bankapp" not in _text(pdf)


def test_a_letter_about_several_loans_carries_the_kenmerk_and_the_loans_as_text() -> None:
    data = letter_data("reminder")
    several = data.model_copy(update={"figures": data.figures.model_copy(update={"loans": ("L10000001", "L10000002")})})
    qr = letter_payment_qr("reminder", several.figures, several.lender, kenmerk=several.reference, rf_prefix="INC")
    assert qr is not None
    payment = parse_payload(qr.payload)
    assert payment.reference is None and payment.text == f"{several.reference} L10000001 L10000002"
    many = tuple(f"L{n:08d}" for n in range(1, 30))
    qr = letter_payment_qr(
        "reminder",
        data.figures.model_copy(update={"loans": many}),
        data.lender,
        kenmerk=data.reference,
        rf_prefix="INC",
    )
    assert qr is not None and qr.text is not None and len(qr.text) <= 140 and qr.text.startswith(data.reference)


def test_a_letter_with_nothing_to_pay_carries_no_code() -> None:
    data = letter_data("contact_request")
    assert letter_amount("contact_request", data.figures) is None
    plan = figures("arrangement_confirmation").arrangement
    assert plan is not None
    no_down = figures("arrangement_confirmation").model_copy(
        update={"arrangement": plan.model_copy(update={"down_payment": Decimal("0.00"), "down_payment_date": None})}
    )
    assert letter_amount("arrangement_confirmation", no_down) == Decimal("200.00")  # then the first line
