"""The claim in a debt-relief or insolvency track: what is owed on the ruling date.

A claim filed with a curator (faillissement), a bewindvoerder (WSNP) or a debt-help agency (minnelijk
traject) states, per loan:

- **principal**: the whole outstanding principal (a claim not yet due is admitted at its value on the
  bankruptcy date, art. 130 Fw), i.e. the loan's principal less every principal part paid;
- **interest up to the ruling date**: the unpaid contractual interest of the installments due on or before
  the ruling date, the part of the running installment's interest that accrued up to the ruling date
  (pro rata by days of its period, half-up to the cent), and the unpaid charged statutory interest posted
  before the ruling date. Interest after the ruling date is not claimed: in WSNP none accrues (art. 303 Fw),
  in faillissement it is not admitted unless secured (art. 128 Fw). In a minnelijk traject the law does not
  stop it, but the debt-help agency asks for the position on its start date, so the same cut is used;
- **costs**: the unpaid charges other than statutory interest (collection costs) due on or before the
  ruling date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from incasso_tui.domain.money import CENT, ZERO

__all__ = ["ClaimCharge", "ClaimInstallment", "LoanClaim", "loan_claim"]

STATUTORY_INTEREST = "statutory_interest"  # the charge kind counted as interest; every other kind is a cost


@dataclass(frozen=True)
class ClaimInstallment:
    due_date: date
    principal: Decimal
    interest: Decimal
    principal_paid: Decimal
    interest_paid: Decimal


@dataclass(frozen=True)
class ClaimCharge:
    kind: str
    due_date: date
    amount: Decimal
    paid: Decimal
    # statutory interest: the first day the posting covers (its period start); a posting belongs to the claim when
    # it covers days before the ruling (after the cancellation of the days from the ruling on, only those)
    covers_from: date | None = None


@dataclass(frozen=True)
class LoanClaim:
    number: str
    principal: Decimal
    interest: Decimal
    costs: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.costs


def loan_claim(
    number: str,
    principal: Decimal,
    start_date: date,
    installments: Iterable[ClaimInstallment],
    charges: Iterable[ClaimCharge],
    ruling_date: date,
) -> LoanClaim:
    """The claim on one loan as of ``ruling_date`` (see the module docstring for the rules)."""
    lines = sorted(installments, key=lambda i: i.due_date)
    outstanding = principal - sum((i.principal_paid for i in lines), ZERO)
    interest = ZERO
    period_start = start_date
    for line in lines:
        if line.due_date <= ruling_date:
            interest += line.interest - line.interest_paid
        else:  # the running period: only the interest that accrued up to the ruling date
            days, period = (ruling_date - period_start).days, (line.due_date - period_start).days
            if days > 0 and period > 0:
                accrued = (line.interest * days / period).quantize(CENT, rounding=ROUND_HALF_UP)
                interest += max(accrued - line.interest_paid, ZERO)
            break
        period_start = line.due_date
    costs = ZERO
    for charge in charges:
        open_amount = charge.amount - charge.paid
        if charge.kind == STATUTORY_INTEREST:
            if (charge.covers_from or charge.due_date) < ruling_date:
                interest += open_amount
        elif charge.due_date <= ruling_date:
            costs += open_amount
    return LoanClaim(number, outstanding, interest, costs)
