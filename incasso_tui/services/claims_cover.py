"""Which claims a 14-day letter covers, and the costs it may state and charge (issue 12, part 2).

A consumer's collection costs follow per claim: each overdue installment is covered by at most one live 14-day
letter (pending, rendered or sent; a failed or cancelled one covers nothing). A new 14-day letter covers only the
installments not yet covered; all of them together, over all the client's loans in arrears, as art. 6:96 lid 7 BW
requires. Its costs are :func:`domain.postings.stacked_costs` on their summed open amount, with the earlier
letters of the stacking period (``data/costs.toml``) on the same loans as the prior letters.

A letter from before issue 12 has no ``claims`` in its figures: it counts as covering every installment of its
loans that fell due before its letter date (so nothing is ever charged twice), and takes no part in the stacking
limit (its base is not known).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select, type_coerce
from sqlalchemy.orm import Session

from incasso_tui.domain.legal_data import load_costs_rules
from incasso_tui.domain.money import ZERO
from incasso_tui.domain.postings import PriorCosts, stacked_costs
from incasso_tui.domain.schedule import add_months
from incasso_tui.letters import model as lm
from incasso_tui.store.models import Charge, Installment, Letter, Loan
from incasso_tui.store.types import Money

__all__ = ["LIVE", "Cover", "cover_for_letter", "prior_costs"]

LIVE = ("pending", "rendered", "sent")
_OPEN = Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest


@dataclass(frozen=True)
class Cover:
    claims: tuple[lm.ClaimLine, ...]  # the installments the new letter covers
    base: Decimal  # their summed open amount
    costs: Decimal  # what the letter may state
    prior: tuple[PriorCosts, ...]


def _letters(s: Session, client_id: int, before_id: int | None = None) -> list[tuple[int, str, date, str]]:
    query = (
        select(Letter.id, Letter.figures, Letter.letter_date, Letter.status)
        .where(Letter.client_id == client_id, Letter.kind == "fourteen_day", Letter.status.in_(LIVE))
        .order_by(Letter.id)
    )
    if before_id is not None:
        query = query.where(Letter.id < before_id)
    return list(s.execute(query))


def covered(s: Session, client_id: int, numbers: dict[int, str], before_id: int | None = None) -> set[tuple[str, int]]:
    """(loan number, installment seq) already covered by a live 14-day letter of the client."""
    found: set[tuple[str, int]] = set()
    for _id, raw, letter_date, _status in _letters(s, client_id, before_id):
        figures = lm.LetterFigures.from_json(raw)
        if figures.claims is not None:
            found.update((c.loan, c.seq) for c in figures.claims)
            continue
        ids = [loan_id for loan_id, number in numbers.items() if number in figures.loans]
        for loan_id, seq in s.execute(
            select(Installment.loan_id, Installment.seq).where(
                Installment.loan_id.in_(ids), Installment.due_date < letter_date
            )
        ):
            found.add((numbers[loan_id], seq))
    return found


def prior_costs(
    s: Session, client_id: int, loans: Iterable[str], day: date, before_id: int | None = None
) -> tuple[PriorCosts, ...]:
    """The earlier 14-day letters of the stacking period on any of ``loans``: what each covered and charged, or, not
    charged (yet), what it announced."""
    since = add_months(day, -load_costs_rules().stacking_months)
    wanted = set(loans)
    prior = []
    for letter_id, raw, letter_date, _status in _letters(s, client_id, before_id):
        if letter_date < since:
            continue
        figures = lm.LetterFigures.from_json(raw)
        if figures.claims is None or not wanted & {c.loan for c in figures.claims}:
            continue
        charges = list(
            s.execute(
                select(type_coerce(Charge.amount, Money), Charge.basis).where(
                    Charge.kind == "collection_costs", Charge.period_key == f"wik:letter:{letter_id}"
                )
            )
        )
        if charges and all(basis for _a, basis in charges):
            # charged: on the base it was charged on (the unpaid remainder), what it charged
            prior.append(
                PriorCosts(
                    base=Decimal(json.loads(charges[0][1])["base"]), costs=sum((amount for amount, _b in charges), ZERO)
                )
            )
        else:
            # not charged (yet): counted as if it will charge what it announced, which can only lower the new costs
            prior.append(
                PriorCosts(
                    base=sum((c.amount for c in figures.claims), ZERO),
                    costs=figures.collection_costs.amount if figures.collection_costs else ZERO,
                )
            )
    return tuple(prior)


def cover_for_letter(s: Session, client_id: int, loan_ids: Iterable[int], day: date) -> Cover:
    """The claims a new 14-day letter of ``day`` covers on these loans (open installments due before ``day`` not
    covered yet), their base and the costs it may state."""
    ids = list(loan_ids)
    numbers: dict[int, str] = {
        loan_id: number for loan_id, number in s.execute(select(Loan.id, Loan.number).where(Loan.id.in_(ids)))
    }
    done = covered(s, client_id, numbers)
    claims = []
    for loan_id, seq, due, amount in s.execute(
        select(
            Installment.loan_id,
            Installment.seq,
            Installment.due_date,
            type_coerce(
                Installment.principal - Installment.principal_paid + Installment.interest - Installment.interest_paid,
                Money,
            ),
        )
        .where(Installment.loan_id.in_(ids), Installment.due_date < day, _OPEN)
        .order_by(Installment.loan_id, Installment.due_date)
    ):
        if (numbers[loan_id], seq) not in done:
            claims.append(lm.ClaimLine(loan=numbers[loan_id], seq=seq, due_date=due, amount=amount))
    claims.sort(key=lambda c: (c.loan, c.seq))
    base = sum((c.amount for c in claims), ZERO)
    prior = prior_costs(s, client_id, {c.loan for c in claims}, day)
    return Cover(tuple(claims), base, stacked_costs(base, prior) if claims else ZERO, prior)
