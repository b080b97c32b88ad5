"""The BKR codes that follow from the state of the book, each day: H (an A stands, the loan's arrears is cleared),
1 (an arrangement made after an A), 2 (a loan called in), 3 (at least EUR 250 written off); never for a legal
person or after a clean slate (issue 12). Code A itself is a stage action (``procedure.stages``): it needs a
dispatched warning."""

from __future__ import annotations

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from incasso_tui.domain.enums import ArrangementStatus, CaseStatus, LedgerKind, LoanStatus
from incasso_tui.domain.guards import check_bkr_call_in, check_bkr_write_off
from incasso_tui.domain.money import ZERO
from incasso_tui.errors import RuleViolation
from incasso_tui.services.procedure.batch import Batch, mutation
from incasso_tui.services.procedure.common import OPEN_LINE, Run, chunks, clean_slate, selected
from incasso_tui.store.models import Arrangement, BkrMutation, Case, Charge, Client, Installment, LedgerEntry, Loan
from incasso_tui.store.types import money_sum


def _no_bkr(run: Run, client_id):  # type: ignore[no-untyped-def]
    """No BKR code for a legal person (the BKR registers natural persons) nor after a clean slate."""
    kinds = sorted(run.bkr_rules.legal_person_kinds)
    holder = aliased(Client)
    return and_(~exists().where(holder.id == client_id, holder.kind.in_(kinds)), ~clean_slate(client_id))


def bkr_from_state(run: Run) -> None:
    a = BkrMutation.__table__.alias("a")
    later = BkrMutation.__table__.alias("later")
    # the newest A of each loan that no H followed
    standing = (
        select(a.c.loan_id, a.c.client_id, func.max(a.c.id).label("a_id"), func.max(a.c.mutation_date).label("a_date"))
        .where(a.c.code == "A")
        .group_by(a.c.loan_id, a.c.client_id)
        .subquery()
    )
    no_h = ~exists().where(later.c.loan_id == standing.c.loan_id, later.c.code == "H", later.c.id > standing.c.a_id)
    past_due = exists().where(Installment.loan_id == standing.c.loan_id, Installment.due_date < run.day, OPEN_LINE)
    open_costs = exists().where(
        Charge.loan_id == standing.c.loan_id, Charge.due_date <= run.day, Charge.paid < Charge.amount
    )
    rows = selected(
        run, "bkr_H", select(standing).where(no_h, ~past_due, ~open_costs, ~clean_slate(standing.c.client_id))
    )
    cases = _cases_of(run, {row.client_id for row in rows})
    batch = Batch(run)
    # the selection is guards.check_bkr_cleared's rule in SQL (a standing A, no past-due line, no open charge);
    # a kept arrangement applies the same guard one loan at a time (payments.monitoring._bkr_h)
    for loan_id, client_id, _a_id, _a_date in rows:
        mutation(batch, cases.get(client_id), loan_id, client_id, "H", ZERO)
    batch.write()
    # 1: an arrangement agreed after the A
    no_1 = ~exists().where(later.c.loan_id == standing.c.loan_id, later.c.code == "1", later.c.id > standing.c.a_id)
    arranged = (
        select(standing.c.loan_id, standing.c.client_id)
        .join(Case, Case.client_id == standing.c.client_id)
        .join(Arrangement, Arrangement.case_id == Case.id)
        .where(
            no_h,
            no_1,
            Case.status != CaseStatus.CLOSED.value,
            Arrangement.status == ArrangementStatus.ACTIVE.value,
            func.date(Arrangement.created_at) >= standing.c.a_date,
            _no_bkr(run, standing.c.client_id),
        )
        .distinct()
    )
    rows = selected(run, "bkr_1", arranged)
    cases = _cases_of(run, {row.client_id for row in rows})
    batch = Batch(run)
    for loan_id, client_id in rows:
        mutation(batch, cases.get(client_id), loan_id, client_id, "1", ZERO)
    batch.write()
    # 2: a loan called in
    code = BkrMutation.__table__.alias("code")
    called = select(Loan.id, Loan.client_id, Loan.status).where(
        Loan.status == LoanStatus.CALLED,
        ~exists().where(code.c.loan_id == Loan.id, code.c.code == "2"),
        _no_bkr(run, Loan.client_id),
    )
    rows = selected(run, "bkr_2", called)
    cases = _cases_of(run, {row.client_id for row in rows})
    batch = Batch(run)
    for loan_id, client_id, status in rows:
        check_bkr_call_in(status)
        mutation(batch, cases.get(client_id), loan_id, client_id, "2", ZERO)
    batch.write()
    # 3: at least EUR 250 written off (the write-offs summed per loan first: one pass over the ledger, not a probe
    # for each of the book's loans)
    written = (
        select(LedgerEntry.loan_id, money_sum(LedgerEntry.amount).label("amount"))
        .where(LedgerEntry.kind == LedgerKind.WRITE_OFF)
        .group_by(LedgerEntry.loan_id)
        .subquery()
    )
    write_offs = (
        select(Loan.id, Loan.client_id, written.c.amount)
        .join(written, written.c.loan_id == Loan.id)
        .where(~exists().where(code.c.loan_id == Loan.id, code.c.code == "3"), _no_bkr(run, Loan.client_id))
        .order_by(Loan.id)
    )
    rows = selected(run, "bkr_3", write_offs)
    cases = _cases_of(run, {row.client_id for row in rows})
    batch = Batch(run)
    for loan_id, client_id, amount in rows:
        try:
            check_bkr_write_off(amount)
        except RuleViolation:
            continue
        mutation(batch, cases.get(client_id), loan_id, client_id, "3", amount)
    batch.write()


def _cases_of(run: Run, client_ids: set[int]) -> dict[int, int]:
    """Per client: the id of the case an event is filed under (the open case, else the newest closed one)."""
    found: dict[int, int] = {}
    for chunk in chunks(sorted(client_ids)):
        for case_id, client_id in run.s.execute(
            select(Case.id, Case.client_id)
            .where(Case.client_id.in_(chunk))
            .order_by(Case.status == CaseStatus.CLOSED.value, Case.id.desc())
        ):
            found.setdefault(client_id, case_id)
    return found
