"""The payment QR code for a loan: the EPC "SCT" QR (``domain.epc``) that a banking app scans to pay the lender's
IBAN the amount with the loan's RF creditor reference (``domain.references.loan_rf``, the reference the payment
import matches back to the loan), as payload, SVG and PNG. The letters that ask for payment print it
(``services.letters``), the client's portal shows it, ``incasso calc epc`` writes it.

Nothing here reads the database: the caller gives the loan number and the amount it owes (a ``Decimal``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from incasso_tui.config import Settings
from incasso_tui.domain.epc import EpcPayment, build_payload
from incasso_tui.domain.references import loan_rf
from incasso_tui.errors import N_, ConfigError
from incasso_tui.letters.qrcode import qr_png, qr_svg

__all__ = ["PaymentQr", "loan_payment", "loan_payment_qr"]


@dataclass(frozen=True)
class PaymentQr:
    """A payment QR code: the EPC ``payload`` (text), the image as ``svg`` (str) and ``png`` (bytes), and what it
    asks to pay: ``amount`` to ``iban`` of ``name`` with the RF ``reference``."""

    payload: str
    svg: str
    png: bytes
    amount: Decimal
    reference: str
    iban: str
    name: str


def loan_payment(settings: Settings, *, loan_number: str, amount: Decimal) -> tuple[EpcPayment, str]:
    """The credit transfer that pays ``amount`` on ``loan_number`` and its EPC payload (no image)."""
    missing = [name for name in ("lender_name", "lender_iban") if not getattr(settings, name)]
    if missing:
        raise ConfigError(N_("The lender's details for payment QR codes are not set: {names}"), names=", ".join(missing))
    assert settings.lender_name and settings.lender_iban
    payment = EpcPayment(name=settings.lender_name, iban=settings.lender_iban, amount=amount, bic=settings.lender_bic,
                         reference=loan_rf(loan_number, settings.payment_rf_prefix))
    return payment, build_payload(payment)


def loan_payment_qr(settings: Settings, *, loan_number: str, amount: Decimal) -> PaymentQr:
    """The QR code that pays ``amount`` (0.01 to 999999999.99 euro) on ``loan_number``: payload, SVG and PNG.
    A lender without ``lender_name``/``lender_iban`` is a :class:`ConfigError`; a bad amount :class:`BadInput`."""
    payment, payload = loan_payment(settings, loan_number=loan_number, amount=amount)
    assert payment.reference is not None
    return PaymentQr(payload=payload, svg=qr_svg(payload), png=qr_png(payload), amount=amount,
                     reference=payment.reference, iban=settings.lender_iban or "", name=settings.lender_name or "")
