"""Extrajudicial collection costs (buitengerechtelijke incassokosten).

The amount follows the scale of art. 2 Besluit vergoeding voor buitengerechtelijke incassokosten
(Besluit BIK, the "WIK scale"), on the principal sum only, never on accrued interest:

======================  =======
part of the principal   rate
======================  =======
first € 2.500           15 %
next € 2.500            10 %
next € 5.000            5 %
next € 190.000          1 %
above € 200.000         0,5 %
======================  =======

with a minimum of € 40 and a maximum of € 6.775. For consumers the scale is mandatory
(art. 6:96 lid 5 BW) and the principals of all claims against one consumer are added before
the scale is applied (art. 6:96 lid 7 BW).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from incasso_tui.domain.money import CENT, ZERO, ensure_money
from incasso_tui.errors import N_, BadInput

__all__ = [
    "DEFAULT_VAT_RATE",
    "MAXIMUM_COSTS",
    "MINIMUM_COSTS",
    "CostsQuote",
    "consumer_costs_for_claims",
    "quote_costs",
    "wik_costs",
]

MINIMUM_COSTS = Decimal("40.00")
MAXIMUM_COSTS = Decimal("6775.00")
DEFAULT_VAT_RATE = Decimal("0.21")

# (width of the band in euros or None for "the rest", rate), art. 2 lid 1 Besluit BIK.
_SCALE: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("2500"), Decimal("0.15")),
    (Decimal("2500"), Decimal("0.10")),
    (Decimal("5000"), Decimal("0.05")),
    (Decimal("190000"), Decimal("0.01")),
    (None, Decimal("0.005")),
)


def wik_costs(principal: Decimal) -> Decimal:
    """Return the collection costs on ``principal`` by the WIK scale (art. 2 Besluit BIK).

    Each band's rate applies to the part of the principal inside it; the sum is rounded half-up to
    the cent and then held within [€ 40, € 6.775]. A principal of 0.00 gives 0.00: without a claim
    there is nothing to collect and so no costs (the € 40 minimum applies to a claim that exists).
    Raises :class:`BadInput` for a negative principal.
    """
    rest = ensure_money(principal)
    if rest < 0:
        raise BadInput(N_("The principal may not be negative"), field="principal")
    if rest == 0:
        return ZERO
    total = Decimal(0)
    for width, rate in _SCALE:
        band = rest if width is None else min(rest, width)
        total += band * rate
        rest -= band
    costs = total.quantize(CENT, rounding=ROUND_HALF_UP)
    return min(max(costs, MINIMUM_COSTS), MAXIMUM_COSTS)


@dataclass(frozen=True)
class CostsQuote:
    """Collection costs on a principal; ``total`` is costs plus VAT (the principal is not in it)."""

    principal: Decimal
    costs: Decimal
    vat: Decimal

    @property
    def total(self) -> Decimal:
        """The costs including VAT."""
        return self.costs + self.vat


def quote_costs(principal: Decimal, *, with_vat: bool = False, vat_rate: Decimal = DEFAULT_VAT_RATE) -> CostsQuote:
    """Quote the collection costs on ``principal``, with VAT only when ``with_vat``.

    VAT may be added only when an outside collector charges VAT that the lender cannot deduct, and
    the 14-day letter says so (domain-rules.md). A lender collecting itself charges no VAT on its own
    costs, so ``with_vat`` is off by default and the VAT is 0.00.
    """
    if isinstance(vat_rate, (float, bool)) or not isinstance(vat_rate, Decimal):
        raise TypeError(f"vat_rate must be a Decimal, not {type(vat_rate).__name__}")
    if not 0 <= vat_rate < 1:
        raise ValueError(f"vat_rate must be a fraction in [0, 1), not {vat_rate}")
    costs = wik_costs(principal)
    vat = (costs * vat_rate).quantize(CENT, rounding=ROUND_HALF_UP) if with_vat else ZERO
    return CostsQuote(ensure_money(principal), costs, vat)


def consumer_costs_for_claims(principals: Iterable[Decimal]) -> Decimal:
    """Return the collection costs for all claims against one consumer together.

    Art. 6:96 lid 7 BW: when a creditor has several claims against the same consumer, the principals
    are added up and the scale is applied once to the sum. Raises :class:`BadInput` if any principal
    is negative.
    """
    total = ZERO
    for principal in principals:
        if ensure_money(principal) < 0:
            raise BadInput(N_("The principal may not be negative"), field="principal")
        total += principal
    return wik_costs(total)
