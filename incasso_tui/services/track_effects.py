"""What a debt track does to the money (issue 12, parts 4 and 7), inside the transaction of ``services.tracks``.

- :func:`cancel_interest_from`: registering a WSNP, bankruptcy or minnelijk track cancels the statutory interest
  already posted for the days on and after the ruling date, by an audited credit posting (an ``interest_credit``
  ledger row, the charge lowered by it). With the posting's basis the cancelled part is recomputed exactly
  (``domain.postings.interest_after``); a posting from before issue 12 (no basis) is cancelled pro rata of the days
  of its month on and after the ruling. What of the cancelled part had been paid already becomes credit on the loan.
- :func:`cancel_costs_from`: collection costs that fell due on or after the ruling date (a 14-day term that ran out
  after it, the track registered late) are cancelled the same way (``costs_credit``).
- :func:`post_interest_until`: the statutory interest from the end of the last posting up to the day before the ruling
  (the ruling month's first days, which the monthly posting has not reached yet), so that the claim statement holds
  the statutory interest *until* the ruling date.
- :func:`write_off_proposal`: a clean slate or a settlement proposes the write-off of what remains (four eyes, the
  supervisor approves it in the approval queue), with no BKR code.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, type_coerce
from sqlalchemy.orm import Session

from incasso_tui.domain.enums import LedgerKind, ProposalKind, ProposalStatus
from incasso_tui.domain.interest import load_rates
from incasso_tui.domain.money import CENT, ZERO
from incasso_tui.domain.postings import InterestBasis, interest_after, period_interest
from incasso_tui.errors import N_, RuleViolation
from incasso_tui.services import audit
from incasso_tui.store.models import Case, Charge, Installment, LedgerEntry, Loan, Proposal
from incasso_tui.store.types import Money

__all__ = ["cancel_costs_from", "cancel_interest_from", "charge_period", "post_interest_until", "write_off_proposal"]

_OPEN = Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest


def charge_period(charge: Charge) -> tuple[date, date] | None:
    """The days ``[start, end)`` a statutory-interest posting covers: from its basis, or its monthly period key."""
    if charge.basis:
        basis = InterestBasis.from_json(charge.basis)
        return basis.period_start, basis.period_end
    key = charge.period_key or ""
    if key.startswith("interest:") and len(key) == len("interest:YYYY-MM"):
        start = date.fromisoformat(key[len("interest:") :] + "-01")
        end = (start + timedelta(days=32)).replace(day=1)
        return start, end
    return None


def cancel_interest_from(s: Session, case: Case, ruling: date, today: date, now: datetime, actor: str) -> Decimal:
    """Cancel the posted statutory interest for the days on and after ``ruling`` on the client's loans; returns the
    total cancelled."""
    rates = load_rates()
    loan_ids = list(s.scalars(select(Loan.id).where(Loan.client_id == case.client_id)))
    total = ZERO
    for charge in s.scalars(
        select(Charge)
        .where(Charge.loan_id.in_(loan_ids), Charge.kind == "statutory_interest", Charge.amount > 0)
        .order_by(Charge.id)
    ):
        period = charge_period(charge)
        if period is None or ruling >= period[1]:
            continue
        if charge.basis:
            credit = interest_after(InterestBasis.from_json(charge.basis), ruling, rates)
        elif ruling <= period[0]:
            credit = charge.amount
        else:  # no basis (posted before issue 12): pro rata of the month's days on and after the ruling
            days = (period[1] - period[0]).days
            credit = (charge.amount * (period[1] - ruling).days / days).quantize(CENT, rounding=ROUND_HALF_UP)
        credit = min(credit, charge.amount)
        if credit <= 0:
            continue
        before = {"amount": charge.amount, "paid": charge.paid}
        charge.amount -= credit
        refund = max(charge.paid - charge.amount, ZERO)  # paid already: credit on the loan
        charge.paid -= refund
        entry = LedgerEntry(
            loan_id=charge.loan_id,
            booking_date=today,
            kind=LedgerKind.INTEREST_CREDIT.value,
            amount=credit,
            description=f"Creditering wettelijke rente vanaf {ruling.isoformat()} ({charge.period_key})"[:300],
            credit=refund,
            created_by=actor,
            created_at=now,
        )
        s.add(entry)
        s.flush()
        audit.record(
            s,
            at=now,
            actor=actor,
            action="charge.interest_cancelled",
            entity="charge",
            entity_id=charge.id,
            case_id=case.id,
            before=before,
            after={
                "amount": charge.amount,
                "paid": charge.paid,
                "cancelled": credit,
                "from": ruling,
                "ledger_id": entry.id,
                "credit_on_loan": refund,
            },
        )
        total += credit
    return total


def cancel_costs_from(s: Session, case: Case, ruling: date, today: date, now: datetime, actor: str) -> Decimal:
    """Cancel the collection costs that became due on or after ``ruling`` (a 14-day term that ran out after the
    ruling, registered late): from the ruling the claim is what it was on that day and no collection step follows.
    An audited ``costs_credit`` posting per charge; a part already paid becomes credit on the loan."""
    loan_ids = list(s.scalars(select(Loan.id).where(Loan.client_id == case.client_id)))
    total = ZERO
    for charge in s.scalars(
        select(Charge)
        .where(
            Charge.loan_id.in_(loan_ids),
            Charge.kind == "collection_costs",
            Charge.due_date >= ruling,
            Charge.amount > 0,
        )
        .order_by(Charge.id)
    ):
        before = {"amount": charge.amount, "paid": charge.paid}
        credit, refund = charge.amount, charge.paid
        charge.amount, charge.paid = ZERO, ZERO
        entry = LedgerEntry(
            loan_id=charge.loan_id,
            booking_date=today,
            kind=LedgerKind.COSTS_CREDIT.value,
            amount=credit,
            description=f"Creditering incassokosten vanaf {ruling.isoformat()} ({charge.period_key})"[:300],
            credit=refund,
            created_by=actor,
            created_at=now,
        )
        s.add(entry)
        s.flush()
        audit.record(
            s,
            at=now,
            actor=actor,
            action="charge.costs_cancelled",
            entity="charge",
            entity_id=charge.id,
            case_id=case.id,
            before=before,
            after={
                "amount": ZERO,
                "paid": ZERO,
                "cancelled": credit,
                "from": ruling,
                "ledger_id": entry.id,
                "credit_on_loan": refund,
            },
        )
        total += credit
    return total


def post_interest_until(
    s: Session, case: Case, ruling: date, kind_of: dict[int, str], resume: date | None, now: datetime, actor: str
) -> Decimal:
    """Post the statutory interest from the end of each loan's last posting up to (not including) ``ruling``, for the
    loans that carry postings (the case reached the interest stage). ``kind_of``: interest kind per loan id."""
    rates = load_rates()
    total = ZERO
    for loan_id, kind in sorted(kind_of.items()):
        ends = [
            min(period[1], ruling)
            for charge in s.scalars(
                select(Charge).where(Charge.loan_id == loan_id, Charge.kind == "statutory_interest")
            )
            if (period := charge_period(charge)) is not None
        ]
        if not ends or kind == "none":
            continue
        start = max(ends)
        if start >= ruling:
            continue
        from incasso_tui.services.procedure import interest_lines

        rows = s.execute(
            select(
                Installment.due_date,
                type_coerce(
                    Installment.principal
                    - Installment.principal_paid
                    + Installment.interest
                    - Installment.interest_paid,
                    Money,
                ),
            ).where(Installment.loan_id == loan_id, Installment.due_date < ruling, _OPEN)
        ).all()
        lines = interest_lines([(due, amount) for due, amount in rows], resume)
        amount, basis, _used = period_interest(lines, start, ruling, kind, rates)  # type: ignore[arg-type]
        if amount <= 0:
            continue
        charge = Charge(
            loan_id=loan_id,
            kind="statutory_interest",
            due_date=ruling - timedelta(days=1),
            amount=amount,
            paid=ZERO,
            description=f"Wettelijke rente tot {ruling.isoformat()}",
            period_key=f"interest:{start.isoformat()}:{ruling.isoformat()}",
            basis=basis.to_json(),
        )
        s.add(charge)
        s.flush()
        audit.record(
            s,
            at=now,
            actor=actor,
            action="charge.statutory_interest",
            entity="charge",
            entity_id=charge.id,
            case_id=case.id,
            after={"loan_id": loan_id, "amount": amount, "period_key": charge.period_key, "due_date": charge.due_date},
        )
        total += amount
    return total


def write_off_proposal(
    s: Session, case: Case, balances: dict[int, Decimal], reason: str, position: Decimal, now: datetime, actor: str
) -> int | None:
    """Propose writing off ``balances`` (per loan) in one proposal for a supervisor (four eyes), without BKR code."""
    loans = {loan.id: loan.number for loan in s.scalars(select(Loan).where(Loan.id.in_(list(balances))))}
    items = [
        {"loan_id": loan_id, "loan": loans[loan_id], "amount": str(amount), "balance": str(amount)}
        for loan_id, amount in sorted(balances.items())
        if amount > 0
    ]
    if not items:
        return None
    if (
        s.scalar(
            select(Proposal.id).where(
                Proposal.case_id == case.id,
                Proposal.kind == ProposalKind.WRITE_OFF,
                Proposal.status == ProposalStatus.SUBMITTED,
            )
        )
        is not None
    ):
        raise RuleViolation(N_("This case already has an open {kind} proposal"), kind="write_off")
    payload = {
        "loans": items,
        "reason": reason,
        "no_bkr": True,
        "amount": str(sum((Decimal(i["amount"]) for i in items), ZERO)),
    }
    row = Proposal(
        case_id=case.id,
        loan_id=items[0]["loan_id"],
        kind="write_off",
        status="submitted",
        position=position,
        payload=json.dumps(payload, ensure_ascii=False),
        proposed_by=actor,
        proposed_at=now,
    )
    s.add(row)
    s.flush()
    audit.record(
        s,
        at=now,
        actor=actor,
        action="proposal.write_off.submit",
        entity="proposal",
        entity_id=row.id,
        case_id=case.id,
        after={"position": position, **payload},
    )
    return row.id
