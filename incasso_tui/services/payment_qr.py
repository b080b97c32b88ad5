"""The payment QR code for a loan: the EPC "SCT" QR (``domain.epc``) that a banking app scans to pay the lender's
IBAN the amount with the loan's RF creditor reference (``domain.references.loan_rf``, the reference the payment
import matches back to the loan), as payload, SVG and PNG. The letters that ask for payment print it
(``services.letters``), the client's portal shows it, ``incasso calc epc`` writes it.

:func:`loan_payment_qr` reads no database: the caller gives the loan number and the amount (a ``Decimal``).
:func:`loan_qr` is the same for a desk user, with the loan's arrears as of today when no amount is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from incasso_tui.config import Settings
from incasso_tui.domain.enums import Role
from incasso_tui.domain.epc import EpcPayment, build_payload
from incasso_tui.domain.references import loan_rf
from incasso_tui.errors import N_, ConfigError, NotFound, RuleViolation
from incasso_tui.letters.qrcode import qr_png, qr_svg

if TYPE_CHECKING:
    from incasso_tui.services.context import Context

__all__ = ["QR_READERS", "PaymentQr", "loan_payment", "loan_payment_qr", "loan_qr"]

# who may make a loan's payment QR code: the desk, special management, and the admin who sets the lender up
QR_READERS = (Role.EMPLOYEE, Role.SUPERVISOR, Role.SPECIAL_MANAGEMENT, Role.ADMIN)


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
        raise ConfigError(
            N_("The lender's details for payment QR codes are not set: {names}"), names=", ".join(missing)
        )
    assert settings.lender_name and settings.lender_iban
    payment = EpcPayment(
        name=settings.lender_name,
        iban=settings.lender_iban,
        amount=amount,
        bic=settings.lender_bic,
        reference=loan_rf(loan_number, settings.payment_rf_prefix),
    )
    return payment, build_payload(payment)


def loan_payment_qr(settings: Settings, *, loan_number: str, amount: Decimal) -> PaymentQr:
    """The QR code that pays ``amount`` (0.01 to 999999999.99 euro) on ``loan_number``: payload, SVG and PNG.
    A lender without ``lender_name``/``lender_iban`` is a :class:`ConfigError`; a bad amount :class:`BadInput`."""
    payment, payload = loan_payment(settings, loan_number=loan_number, amount=amount)
    assert payment.reference is not None
    return PaymentQr(
        payload=payload,
        svg=qr_svg(payload),
        png=qr_png(payload),
        amount=amount,
        reference=payment.reference,
        iban=settings.lender_iban or "",
        name=settings.lender_name or "",
    )


def loan_qr(ctx: Context, loan_number: str, amount: Decimal | None = None) -> PaymentQr:
    """The payment QR code of a loan that exists: for ``amount``, or (None) the loan's arrears as of today
    (costs, interest and principal past due); a loan with nothing past due and no amount given is refused."""
    from sqlalchemy import select

    from incasso_tui.services.positions import loan_positions
    from incasso_tui.store.models import Loan

    ctx.require(*QR_READERS)
    with ctx.db.reader() as s:
        loan_id = s.scalar(select(Loan.id).where(Loan.number == loan_number))
        if loan_id is None:
            raise NotFound(N_("No loan {loan}"), loan=loan_number)
        if amount is None:
            position = loan_positions(s, [loan_id], ctx.clock.today()).get(loan_id)
            amount = position.total if position is not None else Decimal("0.00")
            if amount <= 0:
                raise RuleViolation(
                    N_("Loan {loan} has nothing past due: give the amount to pay with --amount"), loan=loan_number
                )
    return loan_payment_qr(ctx.settings, loan_number=loan_number, amount=amount)
