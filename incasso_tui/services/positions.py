"""Arrears positions: derived from the schedule and the charges, never entered by hand.

Two forms of one rule (domain.arrears.arrears_as_of):
- :func:`loan_positions` reads a few loans' lines and applies the domain function (client detail);
- :func:`refresh_case_positions` computes the same sums set-based in SQL, for any number of cases, and
  stores them in the cases' ``pos_*`` cache that the worklist sorts on; :func:`refresh_changed_positions` (the
  daily run's) computes them the same way and writes only the cases whose values changed.
:func:`verify_positions` checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from incasso_tui.domain.arrears import BUCKETS, Arrears, LineState, arrears_as_of, bucket_bounds
from incasso_tui.domain.enums import CaseStatus
from incasso_tui.domain.money import ZERO
from incasso_tui.store.models import NO_ARREARS, Case, Charge, Installment, Loan
from incasso_tui.store.types import Money


def _open_costs(s: Session, loan_ids: list[int], as_of: date) -> dict[tuple[int, bool], Decimal]:
    """Open charges per (loan, is statutory interest): collection costs and statutory interest apart."""
    statutory = Charge.kind == "statutory_interest"
    rows = s.execute(
        # arithmetic on Money columns yields plain integers (cents): coerce the sum back to Money
        select(Charge.loan_id, statutory, type_coerce(func.sum(Charge.amount - Charge.paid), Money))
        .where(Charge.loan_id.in_(loan_ids), Charge.due_date <= as_of, Charge.paid < Charge.amount)
        .group_by(Charge.loan_id, statutory)
    ).all()
    return {(loan_id, bool(kind)): amount for loan_id, kind, amount in rows}


def loan_positions(s: Session, loan_ids: Iterable[int], as_of: date) -> dict[int, Arrears]:
    """The arrears of each loan as of ``as_of`` (lines due before that day; charges due on or before)."""
    ids = list(loan_ids)
    lines: dict[int, list[LineState]] = {i: [] for i in ids}
    # columns, not ORM objects: the daily run reads the lines of thousands of loans at once
    query = select(
        Installment.loan_id,
        Installment.seq,
        Installment.due_date,
        Installment.principal,
        Installment.interest,
        Installment.principal_paid,
        Installment.interest_paid,
    ).where(
        Installment.loan_id.in_(ids),
        Installment.due_date < as_of,
        Installment.principal_paid + Installment.interest_paid < Installment.principal + Installment.interest,
    )
    for loan_id, seq, due_date, principal, interest, principal_paid, interest_paid in s.execute(query):
        lines[loan_id].append(
            LineState(
                seq=seq,
                due_date=due_date,
                principal_due=principal,
                interest_due=interest,
                principal_paid=principal_paid,
                interest_paid=interest_paid,
            )
        )
    costs = _open_costs(s, ids, as_of)
    return {i: arrears_as_of(lines[i], costs.get((i, False), ZERO), as_of, costs.get((i, True), ZERO)) for i in ids}


_ID_CHUNK = 500  # case ids per statement: bounded parameter lists


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
            func.sum(
                Installment.principal - Installment.principal_paid + Installment.interest - Installment.interest_paid
            ),
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
        .where(Case.status != CaseStatus.CLOSED)
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


def refresh_changed_positions(s: Session, as_of: date, case_ids: Iterable[int] | None = None) -> int:
    """The same refresh as :func:`refresh_case_positions` (all open cases, or ``case_ids``), for a big book: the
    new values are computed by a SELECT and written only to the cases where they differ from the cache, because
    writing ``pos_arrears`` / ``pos_oldest_due`` moves each row in every worklist index (on a million loans that
    write costs several times the computation). ``pos_as_of`` of the others is set in one statement (no index
    holds it). Returns the number of cases whose arrears or oldest due date changed."""
    open_lines, oldest, costs = _sql_positions(as_of)
    chunks: list[list[int] | None] = [None]
    if case_ids is not None:
        ids = sorted(case_ids)
        chunks = [ids[i : i + _ID_CHUNK] for i in range(0, len(ids), _ID_CHUNK)]
    table = Case.__table__
    changed = 0
    for chunk in chunks:
        computed = select(
            Case.id.label("id"),
            type_coerce(open_lines.scalar_subquery() + costs.scalar_subquery(), Money).label("arrears"),
            func.coalesce(oldest.scalar_subquery(), NO_ARREARS).label("oldest"),
            Case.pos_arrears.label("cached_arrears"),
            Case.pos_oldest_due.label("cached_oldest"),
        ).where(Case.status != CaseStatus.CLOSED)
        stamp = update(Case).where(Case.status != CaseStatus.CLOSED, Case.pos_as_of.is_distinct_from(as_of))
        if chunk is not None:
            computed = computed.where(Case.id.in_(chunk))
            stamp = stamp.where(Case.id.in_(chunk))
        sub = computed.subquery()
        # per case only the columns whose value changed: SQLite rewrites the entry of every index holding a column
        # that an UPDATE sets, to the same value or not (a charge moves the arrears, rarely the oldest due date)
        by_columns: dict[tuple[bool, bool], list[dict[str, object]]] = {}
        for case_id, arrears, oldest_due, cached_arrears, cached_oldest in s.execute(
            select(sub.c.id, sub.c.arrears, sub.c.oldest, sub.c.cached_arrears, sub.c.cached_oldest).where(
                or_(sub.c.arrears != sub.c.cached_arrears, sub.c.oldest != sub.c.cached_oldest)
            )
        ):
            key = (arrears != cached_arrears, oldest_due != cached_oldest)
            row: dict[str, object] = {"case_id": case_id}
            if key[0]:
                row["arrears"] = arrears
            if key[1]:
                row["oldest"] = oldest_due
            by_columns.setdefault(key, []).append(row)
        for (new_arrears, new_oldest), rows in by_columns.items():
            values: dict[str, object] = {"pos_as_of": as_of}
            if new_arrears:
                values["pos_arrears"] = bindparam("arrears")
            if new_oldest:
                values["pos_oldest_due"] = bindparam("oldest")
            s.execute(update(table).where(table.c.id == bindparam("case_id")).values(**values), rows)
            changed += len(rows)
        s.execute(stamp.values(pos_as_of=as_of).execution_options(synchronize_session=False))
    return changed


def verify_positions(s: Session, as_of: date, limit: int | None = None) -> list[str]:
    """Compare the cache with the domain derivation; returns one line per case that disagrees."""
    query = select(Case.id, Case.client_id, Case.pos_arrears, Case.pos_oldest_due, Case.pos_as_of).where(
        Case.status != CaseStatus.CLOSED
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


def bucket_of(day: date) -> ColumnElement[str]:
    """The ageing bucket of a case's cached oldest unpaid due date as of ``day``, in SQL (see ``ageing_bucket``;
    the same bounds as the worklist's bucket filter). Used by the KPIs and the daily run's bucket snapshots.

    The buckets are consecutive ranges of days past due, so the first bucket whose upper bound the case does not
    pass is its bucket; the last one has no upper bound.
    """
    whens = []
    for name in BUCKETS[:-1]:
        _low, high = bucket_bounds(name)
        assert high is not None  # only the last bucket is open-ended
        whens.append((Case.pos_oldest_due >= day - timedelta(days=high), name))
    return case(*whens, else_=BUCKETS[-1])
