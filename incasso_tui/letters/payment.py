"""The payment QR code of a letter that asks for payment: which letters carry one, for what amount, with which
reference (pure; the payload is :mod:`incasso_tui.domain.epc`'s, the image is drawn by ``render`` with
:mod:`.qrcode`).

- The letters that ask for payment (:data:`PAYMENT_KINDS`): the reminder, the demand, the 14-day letter, the BKR
  warning and the notice of default ask for the arrears (``arrears.total``; the 14-day letter's collection costs are
  not owed when that is paid in time), the call-in for the whole balance (``call_in.total``), the arrangement
  confirmation for its first payment (the down payment, else the first line).
- The reference: for a letter about one loan the RF creditor reference of that loan (``payment_rf_prefix`` + the
  loan number's digits, :func:`~incasso_tui.domain.references.loan_rf`), which the payment import books on that
  loan. A letter about several loans states their combined arrears, which no single loan's reference may carry (it
  would all be booked on that loan): its code carries the letter's betalingskenmerk and the loan numbers as text
  instead, and the import leaves such a payment in the queue for the desk to divide.
"""

from __future__ import annotations

from decimal import Decimal

from incasso_tui.domain.epc import EPC_MAX_TEXT, EpcPayment, build_payload
from incasso_tui.domain.references import loan_rf
from incasso_tui.letters.model import Lender, LetterFigures, PaymentQr

__all__ = ["PAYMENT_KINDS", "letter_amount", "letter_payment_qr"]

PAYMENT_KINDS = (
    "reminder",
    "demand",
    "fourteen_day",
    "bkr_warning",
    "default_notice",
    "call_in",
    "arrangement_confirmation",
)


def letter_amount(kind: str, figures: LetterFigures) -> Decimal | None:
    """The amount a letter of ``kind`` asks to be paid now, or None (a letter that asks for no payment)."""
    if kind not in PAYMENT_KINDS:
        return None
    if kind == "call_in":
        return figures.call_in.total if figures.call_in else None
    if kind == "arrangement_confirmation":
        plan = figures.arrangement
        if plan is None:
            return None
        return plan.down_payment if plan.down_payment > 0 else plan.lines[0].amount
    return figures.arrears.total if figures.arrears else None


def _text(kenmerk: str, loans: tuple[str, ...]) -> str:
    """The betalingskenmerk and as many of the loan numbers as fit in the 140 characters."""
    text = kenmerk
    for number in loans:
        if len(text) + 1 + len(number) > EPC_MAX_TEXT:
            break
        text += f" {number}"
    return text


def letter_payment_qr(
    kind: str, figures: LetterFigures, lender: Lender, *, kenmerk: str, rf_prefix: str
) -> PaymentQr | None:
    """The payment QR code of a letter, or None for a letter that asks for no payment (or nothing above zero).
    ``kenmerk``: the letter's betalingskenmerk, ``rf_prefix`` the ``payment_rf_prefix`` setting."""
    amount = letter_amount(kind, figures)
    if amount is None or amount <= 0:
        return None
    if len(figures.loans) == 1:
        reference, text = loan_rf(figures.loans[0], rf_prefix), None
    else:
        reference, text = None, _text(kenmerk, figures.loans)
    payload = build_payload(
        EpcPayment(name=lender.name, iban=lender.iban, bic=lender.bic, amount=amount, reference=reference, text=text)
    )
    return PaymentQr(payload=payload, amount=amount, reference=reference, text=text)
