"""The payment QR code of a loan: the lender's IBAN, the amount and the loan's RF reference, which the payment
import matches back to the loan."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from incasso_tui.bank import BankEntry
from incasso_tui.config import Settings
from incasso_tui.domain.epc import parse_payload
from incasso_tui.errors import BadInput, ConfigError
from incasso_tui.services.payment_qr import loan_payment_qr
from incasso_tui.services.payments.auto_match import candidates
from tests.qr_decode import decode_png

LENDER = {"lender_name": "Demo Kredietverlener B.V.", "lender_iban": "NL91 ABNA 0417 1643 00"}


def test_qr_pays_the_lender_the_amount_with_the_loans_reference() -> None:
    qr = loan_payment_qr(Settings(**LENDER, lender_bic="ABNANL2A"), loan_number="L00012345", amount=Decimal("250.10"))
    payment = parse_payload(qr.payload)
    assert (payment.name, payment.iban, payment.bic, payment.amount, payment.text) == (
        "Demo Kredietverlener B.V.", "NL91ABNA0417164300", "ABNANL2A", Decimal("250.10"), None)
    assert payment.reference == qr.reference and qr.reference.endswith("INC00012345")
    assert decode_png(qr.png) == [qr.payload]
    assert qr.svg.startswith("<svg") and "path" in qr.svg


def test_the_import_matches_the_reference_to_the_loan() -> None:
    qr = loan_payment_qr(Settings(**LENDER), loan_number="L00012345", amount=Decimal("1.00"))
    entry = BankEntry(account_iban="NL91ABNA0417164300", booking_date=date(2026, 12, 2), value_date=None,
                      amount=Decimal("1.00"), credit=True, currency="EUR", counterparty_name=None,
                      counterparty_iban=None, remittance="", creditor_reference=qr.reference, end_to_end_id=None,
                      bank_reference=None, reversal=False, return_reason=None, entry_index=1, tx_index=1, dedup_key="k")
    assert "L00012345" in candidates(entry, "INC").rf_loans


def test_unconfigured_lender_and_bad_amount_are_refused() -> None:
    with pytest.raises(ConfigError, match="lender_iban"):
        loan_payment_qr(Settings(lender_name="X"), loan_number="L00012345", amount=Decimal("1.00"))
    with pytest.raises(BadInput):
        loan_payment_qr(Settings(**LENDER), loan_number="L00012345", amount=Decimal("0.00"))
