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
        "Demo Kredietverlener B.V.",
        "NL91ABNA0417164300",
        "ABNANL2A",
        Decimal("250.10"),
        None,
    )
    assert payment.reference == qr.reference and qr.reference.endswith("INC00012345")
    assert decode_png(qr.png) == [qr.payload]
    assert qr.svg.startswith("<svg") and "path" in qr.svg


def test_the_import_matches_the_reference_to_the_loan() -> None:
    qr = loan_payment_qr(Settings(**LENDER), loan_number="L00012345", amount=Decimal("1.00"))
    entry = BankEntry(
        account_iban="NL91ABNA0417164300",
        booking_date=date(2026, 12, 2),
        value_date=None,
        amount=Decimal("1.00"),
        credit=True,
        currency="EUR",
        counterparty_name=None,
        counterparty_iban=None,
        remittance="",
        creditor_reference=qr.reference,
        end_to_end_id=None,
        bank_reference=None,
        reversal=False,
        return_reason=None,
        entry_index=1,
        tx_index=1,
        dedup_key="k",
    )
    assert "L00012345" in candidates(entry, "INC").rf_loans


def test_unconfigured_lender_and_bad_amount_are_refused() -> None:
    with pytest.raises(ConfigError, match="lender_iban"):
        loan_payment_qr(Settings(lender_name="X"), loan_number="L00012345", amount=Decimal("1.00"))
    with pytest.raises(BadInput):
        loan_payment_qr(Settings(**LENDER), loan_number="L00012345", amount=Decimal("0.00"))


def test_a_rendered_reminder_pays_the_arrears_on_its_loan(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Through the service: a pending reminder becomes a PDF whose QR code pays its arrears with its loan's RF,
    and an import of that payment matches it to that loan."""
    from pathlib import Path

    from sqlalchemy import select

    from incasso_tui.services.letters import render_pending
    from incasso_tui.store.models import Case, Client, Letter, Loan
    from tests.conftest import AS_OF, NOW
    from tests.letter_samples import LENDER as SAMPLE_LENDER
    from tests.letter_samples import figures
    from tests.unit.test_letter_qr import _pdf_qr_codes

    lender = {f"lender_{k}": v for k, v in SAMPLE_LENDER.model_dump(exclude={"display_name"}).items()}
    ctx = ctx_for("demo", letters_dir=tmp_path / "outbox", **{**lender, "lender_bic": "ABNANL2A"})
    with ctx.db.transaction() as s:
        case, client = s.execute(
            select(Case, Client)
            .join(Client, Client.id == Case.client_id)
            .where(Case.status == "active")
            .order_by(Case.id)
        ).first()  # type: ignore[misc]
        loan = s.scalars(select(Loan.number).where(Loan.client_id == client.id).order_by(Loan.number)).first()
        sample = figures("reminder").model_copy(update={"loans": (loan,)})
        letter = Letter(
            case_id=case.id,
            client_id=client.id,
            kind="reminder",
            channel="letter",
            language="nl",
            letter_date=AS_OF,
            figures=sample.to_json(),
            status="pending",
            created_by="demo",
            created_at=NOW,
        )
        s.add(letter)
        s.flush()
        letter_id = letter.id
    report = render_pending(ctx, only=select(Letter.id).where(Letter.id == letter_id))
    assert report.failures == () and report.rendered == 1
    with ctx.db.reader() as s:
        path = Path(s.get(Letter, letter_id).file_path)  # type: ignore[union-attr, arg-type]
    (code,) = _pdf_qr_codes(path.read_bytes())
    payment = parse_payload(code)
    assert payment.amount == sample.arrears.total  # type: ignore[union-attr]
    assert (payment.iban, payment.bic) == (SAMPLE_LENDER.iban, "ABNANL2A")
    assert payment.reference == loan_payment_qr(ctx.settings, loan_number=loan, amount=Decimal("1.00")).reference
    entry = BankEntry(
        account_iban=SAMPLE_LENDER.iban,
        booking_date=date(2026, 12, 2),
        value_date=None,
        amount=payment.amount,
        credit=True,
        currency="EUR",
        counterparty_name=None,  # type: ignore[arg-type]
        counterparty_iban=None,
        remittance="",
        creditor_reference=payment.reference,
        end_to_end_id=None,
        bank_reference=None,
        reversal=False,
        return_reason=None,
        entry_index=1,
        tx_index=1,
        dedup_key="k",
    )
    assert loan in candidates(entry, ctx.settings.payment_rf_prefix).rf_loans
