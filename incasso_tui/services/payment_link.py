"""A payment link through a payment provider (iDEAL and the like): an adapter behind one Protocol, and **not
configured** in this installation.

:func:`payment_link` gives a typed result, never a made-up link: a :class:`PaymentLink` made by the configured
provider's adapter, or a :class:`LinkNotConfigured` saying why there is none (no ``payment_link_provider`` set, or
no adapter of that name in this version). No provider adapter ships yet, so today every call answers
``LinkNotConfigured`` and the client pays by the QR code (``services.payment_qr``) or by transfer; a provider's
adapter (its HTTP API, its webhook that reports the payment to the import) would register itself in
:data:`ADAPTERS` and implement :meth:`LinkAdapter.create`. A link is not a payment: the payment is booked only when
the bank statement brings it in (``services.payments``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

from incasso_tui.config import Settings
from incasso_tui.domain.epc import format_amount
from incasso_tui.domain.references import loan_rf
from incasso_tui.errors import N_

__all__ = ["ADAPTERS", "LinkAdapter", "LinkNotConfigured", "PaymentLink", "PaymentLinkResult", "payment_link"]


@dataclass(frozen=True)
class PaymentLink:
    """A link the client opens to pay ``amount`` with ``reference`` at ``provider``; not a payment itself."""

    provider: str
    url: str
    amount: Decimal
    reference: str


@dataclass(frozen=True)
class LinkNotConfigured:
    """There is no payment link: ``reason`` ``no_provider`` (none set) or ``unknown_provider`` (no adapter of that
    name); ``message`` is the English message id with ``params``, translated where it is shown."""

    reason: Literal["no_provider", "unknown_provider"]
    message: str
    params: dict[str, str]

    @property
    def configured(self) -> bool:
        return False


PaymentLinkResult = PaymentLink | LinkNotConfigured


class LinkAdapter(Protocol):
    """A payment provider: makes a link that pays ``amount`` with ``reference`` (the loan's RF reference)."""

    name: str

    def create(self, *, amount: Decimal, reference: str, description: str) -> PaymentLink: ...


# provider name -> the adapter made from the settings; none ships in this version
ADAPTERS: dict[str, Callable[[Settings], LinkAdapter]] = {}


def payment_link(settings: Settings, *, loan_number: str, amount: Decimal) -> PaymentLinkResult:
    """The payment link for ``amount`` on ``loan_number``, or why there is none. The amount is checked as for the
    QR code (0.01 to 999999999.99 euro, whole cents) before any provider is asked."""
    format_amount(amount)
    reference = loan_rf(loan_number, settings.payment_rf_prefix)
    provider = settings.payment_link_provider
    if provider is None:
        return LinkNotConfigured(
            "no_provider", N_("Payment by link is not configured (setting payment_link_provider)"), {}
        )
    make = ADAPTERS.get(provider)
    if make is None:
        return LinkNotConfigured(
            "unknown_provider",
            N_("There is no payment link adapter for the provider {provider} in this version"),
            {"provider": provider},
        )
    return make(settings).create(amount=amount, reference=reference, description=f"{loan_number} {reference}")
