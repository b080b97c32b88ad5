"""The EPC payment QR code ("SCT" QR, EPC069-12 version 2.1): the payload that banking apps scan to fill in a
SEPA credit transfer. Pure: building and reading the text only; the image is made by ``letters.qrcode``.

The payload is up to twelve lines separated by LF, the last populated line not followed by a separator:

====  =====================================  ==========================================================
line  element                                here
====  =====================================  ==========================================================
1     service tag                            ``BCD``
2     version                                ``002`` (the BIC is optional)
3     character set                          ``1`` (UTF-8)
4     identification                         ``SCT``
5     BIC of the beneficiary's bank          optional, 8 or 11 characters
6     beneficiary name                       1 to 70 characters
7     beneficiary IBAN                       a valid IBAN (python-stdnum: country, length, check digits)
8     amount                                 ``EUR123.45``: 0.01 to 999999999.99, at most two decimals
9     purpose code                           empty (this lender sends none)
10    structured remittance (creditor ref.)  an ISO 11649 RF reference, or empty
11    unstructured remittance                at most 140 characters, or empty; never together with 10
12    beneficiary to originator information  not used
====  =====================================  ==========================================================

The whole payload is at most 331 bytes (UTF-8). A payment without an amount is allowed by the standard (the
payer types it); the letters always give one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from incasso_tui.domain.references import is_valid_bic, is_valid_iban, is_valid_rf, normalize_reference
from incasso_tui.errors import N_, BadInput

__all__ = [
    "EPC_MAX_BYTES",
    "EPC_MAX_NAME",
    "EPC_MAX_TEXT",
    "EpcPayment",
    "build_payload",
    "format_amount",
    "parse_payload",
]

SERVICE_TAG = "BCD"
VERSION = "002"
CHARSET_UTF8 = "1"
IDENTIFICATION = "SCT"
EPC_MAX_BYTES = 331
EPC_MAX_NAME = 70
EPC_MAX_TEXT = 140
MIN_AMOUNT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")
_CENT = Decimal("0.01")
_LINES = 12


@dataclass(frozen=True)
class EpcPayment:
    """One credit transfer as an EPC QR code states it. ``reference`` (RF) and ``text`` exclude each other."""

    name: str
    iban: str
    amount: Decimal | None
    bic: str | None = None
    reference: str | None = None
    text: str | None = None


def _bad(message: str, **params: Any) -> BadInput:
    return BadInput(message, **params)


def _clean(value: str | None, too_long: str, limit: int) -> str | None:
    """``value`` with its runs of spaces made one; a line break or control character, or more than ``limit``
    characters (message ``too_long``), is refused."""
    if value is None:
        return None
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029" for ch in value):
        raise _bad(
            N_("Text in a payment QR code must not contain a line break or control character: {text!r}"), text=value
        )
    text = " ".join(value.split())
    if not text:
        return None
    if len(text) > limit:
        raise _bad(too_long, length=len(text), limit=limit)
    return text


def format_amount(amount: Decimal) -> str:
    """``EUR`` and the amount with two decimals: ``EUR123.45``; outside 0.01 to 999999999.99 it is refused."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise _bad(N_("The QR code's amount must be a decimal amount, not {amount!r}"), amount=amount)
    if amount != amount.quantize(_CENT):
        raise _bad(N_("The QR code's amount {amount} has more than two decimals"), amount=str(amount))
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise _bad(N_("The QR code's amount must be between 0.01 and 999999999.99, not {amount}"), amount=str(amount))
    return f"EUR{amount.quantize(_CENT)}"


def _validated(p: EpcPayment) -> EpcPayment:
    name = _clean(
        p.name,
        N_("The beneficiary's name in a payment QR code is {length} characters; at most {limit} fit"),
        EPC_MAX_NAME,
    )
    if not name:
        raise _bad(N_("The QR code needs the beneficiary's name"))
    iban = normalize_reference(p.iban or "")
    if not is_valid_iban(iban):
        raise _bad(N_("The QR code's IBAN {iban} is not a valid IBAN"), iban=p.iban)
    bic = normalize_reference(p.bic) if p.bic else None
    if bic is not None and not is_valid_bic(bic):
        raise _bad(N_("The QR code's BIC {bic} is not a valid BIC"), bic=p.bic)
    reference = normalize_reference(p.reference) if p.reference else None
    if reference is not None and not is_valid_rf(reference):
        raise _bad(
            N_("The QR code's reference {reference} is not an RF creditor reference (ISO 11649)"), reference=p.reference
        )
    text = _clean(
        p.text, N_("The description in a payment QR code is {length} characters; at most {limit} fit"), EPC_MAX_TEXT
    )
    if reference and text:
        raise _bad(N_("The QR code takes a creditor reference or a payment description, never both"))
    if p.amount is not None:
        format_amount(p.amount)
    return EpcPayment(name=name, iban=iban, amount=p.amount, bic=bic, reference=reference, text=text)


def build_payload(payment: EpcPayment) -> str:
    """The EPC QR payload of ``payment``, validated; :class:`BadInput` names what is wrong."""
    p = _validated(payment)
    lines = [
        SERVICE_TAG,
        VERSION,
        CHARSET_UTF8,
        IDENTIFICATION,
        p.bic or "",
        p.name,
        p.iban,
        format_amount(p.amount) if p.amount is not None else "",
        "",
        p.reference or "",
        p.text or "",
    ]
    payload = "\n".join(lines).rstrip("\n")
    size = len(payload.encode("utf-8"))
    if size > EPC_MAX_BYTES:
        raise _bad(N_("The QR code's payload is {size} bytes; at most {limit} fit"), size=size, limit=EPC_MAX_BYTES)
    return payload


def _parse_amount(text: str) -> Decimal | None:
    if not text:
        return None
    if not text.startswith("EUR"):
        raise _bad(N_("The QR code's amount {amount} is not in euro"), amount=text)
    digits = text[3:]
    if not digits or digits.strip() != digits or not all(ch.isdigit() or ch == "." for ch in digits):
        raise _bad(N_("The QR code's amount {amount} is not an amount"), amount=text)
    try:
        amount = Decimal(digits)
    except InvalidOperation:
        raise _bad(N_("The QR code's amount {amount} is not an amount"), amount=text) from None
    format_amount(amount.quantize(_CENT) if amount == amount.quantize(_CENT) else amount)
    return amount.quantize(_CENT)


def parse_payload(payload: str) -> EpcPayment:
    """Read an EPC QR payload (version 001 or 002, UTF-8, LF or CR LF) back into an :class:`EpcPayment`,
    checking it as :func:`build_payload` does (a purpose code or originator information is refused: this
    lender never writes them)."""
    if len(payload.encode("utf-8")) > EPC_MAX_BYTES:
        raise _bad(
            N_("The QR code's payload is {size} bytes; at most {limit} fit"),
            size=len(payload.encode("utf-8")),
            limit=EPC_MAX_BYTES,
        )
    lines = payload.replace("\r\n", "\n").split("\n")
    if len(lines) > _LINES or payload.endswith("\n"):
        raise _bad(N_("The QR code's payload has {count} lines or ends with a line break"), count=len(lines))
    lines += [""] * (_LINES - len(lines))
    tag, version, charset, ident, bic, name, iban, amount, purpose, reference, text, info = lines
    if (tag, charset, ident) != (SERVICE_TAG, CHARSET_UTF8, IDENTIFICATION) or version not in ("001", VERSION):
        raise _bad(N_("Not an EPC payment QR code (BCD, version 001/002, UTF-8, SCT)"))
    if version == "001" and not bic:
        raise _bad(N_("An EPC QR code of version 001 needs a BIC"))
    if purpose or info:
        raise _bad(N_("The QR code has a purpose code or originator information, which this lender never writes"))
    parsed = EpcPayment(
        name=name,
        iban=iban,
        amount=_parse_amount(amount),
        bic=bic or None,
        reference=reference or None,
        text=text or None,
    )
    checked = _validated(parsed)
    if checked.name != name or checked.text != (text or None):
        raise _bad(N_("The QR code's name or description has surrounding or repeated spaces"))
    return checked
