"""The payment link adapter: "not configured" as a typed result, never a made-up link or payment."""

from __future__ import annotations

from decimal import Decimal

import pytest

from incasso_tui.config import Settings
from incasso_tui.domain.references import loan_rf
from incasso_tui.errors import BadInput
from incasso_tui.services import payment_link as pl


def test_without_a_provider_there_is_no_link() -> None:
    result = pl.payment_link(Settings(), loan_number="L00012345", amount=Decimal("10.00"))
    assert isinstance(result, pl.LinkNotConfigured) and result.reason == "no_provider" and not result.configured
    assert "payment_link_provider" in result.message


def test_a_provider_without_an_adapter_is_not_configured_either() -> None:
    result = pl.payment_link(Settings(payment_link_provider="mollie"), loan_number="L00012345", amount=Decimal("10.00"))
    assert isinstance(result, pl.LinkNotConfigured) and result.reason == "unknown_provider"
    assert result.params == {"provider": "mollie"}


def test_a_registered_adapter_makes_the_link_with_the_loans_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[Decimal, str]] = []

    class Fake:
        name = "fake"

        def create(self, *, amount: Decimal, reference: str, description: str) -> pl.PaymentLink:
            asked.append((amount, reference))
            return pl.PaymentLink("fake", f"https://pay.example/{reference}", amount, reference)

    monkeypatch.setitem(pl.ADAPTERS, "fake", lambda _settings: Fake())
    result = pl.payment_link(Settings(payment_link_provider="fake"), loan_number="L00012345", amount=Decimal("10.00"))
    assert isinstance(result, pl.PaymentLink) and result.reference == loan_rf("L00012345", "INC")
    assert asked == [(Decimal("10.00"), result.reference)]


def test_a_bad_amount_is_refused_before_any_provider_is_asked() -> None:
    with pytest.raises(BadInput):
        pl.payment_link(Settings(), loan_number="L00012345", amount=Decimal("0.00"))


def test_the_provider_setting_is_checked_at_start() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Settings(payment_link_provider="Not A Name")
