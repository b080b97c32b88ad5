"""Arrears positions: derived from the schedule and the charges, never entered by hand.

Two forms of one rule (domain.arrears.arrears_as_of):
- :func:`loan_positions` reads a few loans' lines and applies the domain function (client detail);
- :func:`refresh_case_positions` computes the same sums set-based in SQL, for any number of cases, and
  stores them in the cases' ``pos_*`` cache that the worklist sorts on.
:func:`verify_positions` checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, and_, func, select, type_coerce, update
from sqlalchemy.orm import Session

from incasso_tui.domain.arrears import Arrears, LineState, arrears_as_of
from incasso_tui.domain.money import ZERO
from incasso_tui.store.models import NO_ARREARS, Case, Charge, Installment, Loan
from incasso_tui.store.types import Money


def _open_costs(s: Session, loan_ids: list[int], as_of: date) -> dict[int, Decimal]:
    rows = s.execute(
        # arithmetic on Money columns yields plain integers (cents): coerce the sum back to Money
        select(Charge.loan_id, type_coerce(func.sum(Charge.amount - Charge.paid), Money))
        .where(Charge.loan_id.in_(loan_ids), Charge.due_date <= as_of, Charge.paid < Charge.amount)
        .group_by(Charge.loan_id)
    ).all()
    return {loan_id: amount for loan_id, amount in rows}


def loan_positions(s: Session, loan_ids: Iterable[int], as_of: date) -> dict[int, Arrears]:
    """The arrears of each loan as of ``as_of`` (lines due before that day; charges due on or before)."""
    ids = list(loan_ids)
    lines: dict[int, list[LineState]] = {i: [] for i in ids}
    query = select(Installment).where(
        Installment.loan_id.in_(ids),
        Installment.due_date < as_of,
        Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest,
    )
    for inst in s.scalars(query):
        lines[inst.loan_id].append(
            LineState(
                seq=inst.seq,
                due_date=inst.due_date,
                principal_due=inst.principal,
                interest_due=inst.interest,
                principal_paid=inst.principal_paid,
                interest_paid=inst.interest_paid,
            )
        )
    costs = _open_costs(s, ids, as_of)
    return {i: arrears_as_of(lines[i], costs.get(i, ZERO), as_of) for i in ids}


@dataclass(frozen=True)
class CasePosition:
    arrears: Decimal
    oldest_due: date


def _sql_positions(as_of: date) -> tuple[Select[tuple[Decimal]], Select[tuple[date]], Select[tuple[Decimal]]]:
    """Correlated sub-queries (per case) for: open past-due schedule amount, oldest open due date, open costs."""
    past_due_open = and_(
        Installment.loan_id == Loan.id,
        Loan.client_id == Case.client_id,
        Installment.due_date < as_of,
        Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest,
    )
    open_lines = select(
        func.coalesce(
            func.sum(Installment.principal - Installment.principal_paid + Installment.interest - Installment.interest_paid),
            0,
        )
    ).where(past_due_open)
    oldest = select(func.min(Installment.due_date)).where(past_due_open)
    costs = select(func.coalesce(func.sum(Charge.amount - Charge.paid), 0)).where(
        Charge.loan_id == Loan.id, Loan.client_id == Case.client_id, Charge.due_date <= as_of
    )
    return open_lines, oldest, costs


def refresh_case_positions(s: Session, as_of: date, case_ids: Iterable[int] | None = None) -> None:
    """Recompute the position cache of open cases (all, or ``case_ids``) in one UPDATE statement."""
    open_lines, oldest, costs = _sql_positions(as_of)
    stmt = (
        update(Case)
        .where(Case.status != "closed")
        .values(
            pos_arrears=open_lines.scalar_subquery() + costs.scalar_subquery(),
            pos_oldest_due=func.coalesce(oldest.scalar_subquery(), NO_ARREARS),
            pos_as_of=as_of,
        )
        .execution_options(synchronize_session=False)
    )
    if case_ids is not None:
        stmt = stmt.where(Case.id.in_(list(case_ids)))
    s.execute(stmt)


def verify_positions(s: Session, as_of: date, limit: int | None = None) -> list[str]:
    """Compare the cache with the domain derivation; returns one line per case that disagrees."""
    query = select(Case.id, Case.client_id, Case.pos_arrears, Case.pos_oldest_due, Case.pos_as_of).where(
        Case.status != "closed"
    )
    if limit:
        query = query.limit(limit)
    problems = []
    for case_id, client_id, cached, cached_oldest, cached_as_of in s.execute(query):
        loan_ids = list(s.scalars(select(Loan.id).where(Loan.client_id == client_id)))
        derived = loan_positions(s, loan_ids, as_of).values()
        total = sum((a.total for a in derived), ZERO)
        oldest = min((a.oldest_due_date for a in derived if a.oldest_due_date), default=NO_ARREARS)
        if cached_as_of != as_of or cached != total or cached_oldest != oldest:
            problems.append(
                f"case {case_id}: cache {cached} / {cached_oldest} as of {cached_as_of}, derived {total} / {oldest}"
            )
    return problems
