"""Proposals the desk writes and Risk decides, with four eyes: deferrals of repayment, call-ins and write-offs.

- An employee (or supervisor) *proposes*; the proposal stores what was typed and every computed figure the
  supervisor will see, and the client's total position at that moment.
- A supervisor *decides*: approve or reject (a rejection needs a reason). Nobody decides their own proposal,
  whatever their role (``FourEyesViolation``). An approval applies the proposal in the same transaction as
  the decision and its audit event: a deferral rewrites the loan's remaining schedule; a call-in makes the
  whole balance due; a write-off posts a ``write_off`` ledger row (see ``_apply_write_off``).
- Positions above the desk mandate (``settings.mandate_limit``, EUR 50,000) are refused at proposing and again
  at approving: they belong to special management.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from incasso_tui.domain.arrears import OpenItem, allocate, charge_component
from incasso_tui.domain.budget import Fit
from incasso_tui.domain.deferral import DeferralOption, DeferralProposal, propose_deferral
from incasso_tui.domain.enums import ArrangementStatus, ArrearsCause, CaseStatus, LedgerKind, LoanStatus, Role
from incasso_tui.domain.guards import WRITE_OFF_CODE_MINIMUM
from incasso_tui.domain.money import ZERO
from incasso_tui.domain.schedule import ScheduleLine, add_months
from incasso_tui.errors import N_, BadInput, FourEyesViolation, MandateExceeded, NotFound, RuleViolation, StaleData
from incasso_tui.services import audit, risk
from incasso_tui.services.access import CASE_WRITERS, check_write, held_by_special_management, move_case, next_status
from incasso_tui.services.budget import BudgetStatus
from incasso_tui.services.budget import status as budget_status
from incasso_tui.services.cases import changed_by, load_case
from incasso_tui.services.causes import record_cause
from incasso_tui.services.context import Context
from incasso_tui.services.locking import locked_loan
from incasso_tui.store.models import (
    Allocation,
    Arrangement,
    BkrMutation,
    Case,
    Charge,
    Deferral,
    Installment,
    LedgerEntry,
    Loan,
    Proposal,
)
from incasso_tui.store.types import money_sum

KINDS = ("deferral", "call_in", "write_off", "arrangement")  # arrangement: services.arrangement_changes
OPTIONS = ("extend_term", "raise_installments")
# the statuses of a case a proposal can be made on (a case of special management aside); public: benchmarks.keys_seed
# seeds its proposals on them
OPEN_TO_PROPOSALS = (
    CaseStatus.ACTIVE.value,
    CaseStatus.ARRANGEMENT.value,
    CaseStatus.PAUSED.value,
    CaseStatus.DEFERRAL.value,
)


@dataclass(frozen=True)
class DeferralInput:
    """What the employee typed on the deferral form (parsed)."""

    loan_id: int
    months: int
    option: str  # extend_term | raise_installments
    cause: ArrearsCause
    weighing: str  # the employee's weighing and assessment
    outlook: str


@dataclass(frozen=True)
class ProposalRow:
    id: int
    case_id: int
    client_name: str
    kind: str
    status: str
    position: Decimal
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    payload: dict[str, Any]
    version: int
    bkr_code: str | None = None  # the BKR code approving it registers (decision_bkr_code), said on the screen


def decision_bkr_code(kind: str, payload: dict[str, Any], client_kind: str) -> str | None:
    """The BKR code approving a proposal registers: a call-in code 2, a write-off of EUR 250 or more code 3 (not
    after a clean slate: ``no_bkr``); none for a legal person, whom the BKR does not register (data/bkr.toml), and
    none for a deferral. The one rule for the approval itself and for what the approval screen says before it."""
    from incasso_tui.domain.legal_data import load_bkr_rules

    if client_kind in load_bkr_rules().legal_person_kinds:
        return None
    if kind == "call_in":
        return "2"
    if (
        kind == "write_off"
        and Decimal(str(payload.get("amount", "0"))) >= WRITE_OFF_CODE_MINIMUM
        and not payload.get("no_bkr")
    ):
        return "3"
    return None


def _client_kind(s: Session, client_id: int) -> str:
    from incasso_tui.store.models import Client

    return s.scalar(select(Client.kind).where(Client.id == client_id)) or ""


# ----- the position and the mandate


def _outstanding(s: Session, loan_ids: Any, interest_due_before: date) -> tuple[Decimal, Decimal, Decimal]:
    """Over ``loan_ids`` (a list or a subquery): the principal not yet repaid, the interest of the installments due
    before ``interest_due_before`` still unpaid, and the open costs. Interest not yet due is not owed."""
    principal = s.scalar(
        select(money_sum(Installment.principal - Installment.principal_paid)).where(Installment.loan_id.in_(loan_ids))
    )
    interest = s.scalar(
        select(money_sum(Installment.interest - Installment.interest_paid)).where(
            Installment.loan_id.in_(loan_ids), Installment.due_date < interest_due_before
        )
    )
    costs = s.scalar(select(money_sum(Charge.amount - Charge.paid)).where(Charge.loan_id.in_(loan_ids)))
    return principal, interest, costs


def client_position(s: Session, client_id: int, today: date) -> Decimal:
    """The client's total outstanding over all loans (not repaid): principal, interest fallen due, open costs."""
    loans = select(Loan.id).where(Loan.client_id == client_id, Loan.status != LoanStatus.REPAID.value).scalar_subquery()
    return sum(_outstanding(s, loans, today), ZERO)


def _check_mandate(ctx: Context, position: Decimal) -> None:
    if position > ctx.settings.mandate_limit:
        raise MandateExceeded(
            N_(
                "The position of {position} is above the desk mandate of {limit}: hand the case over to special management"
            ),
            position=position,
            limit=ctx.settings.mandate_limit,
        )


# ----- deferral


def _remaining(s: Session, loan: Loan, today: date) -> list[ScheduleLine]:
    """The loan's installments not yet due (and so unpaid), as schedule lines."""
    rows = list(
        s.scalars(
            select(Installment)
            .where(Installment.loan_id == loan.id, Installment.due_date > today)
            .order_by(Installment.seq)
        )
    )
    if any(r.principal_paid or r.interest_paid for r in rows):
        raise RuleViolation(N_("Installments that are not due yet were paid in advance: book that first"))
    balance = sum((r.principal for r in rows), ZERO)
    lines = []
    for r in rows:
        balance -= r.principal
        lines.append(ScheduleLine(r.seq, r.due_date, r.principal, r.interest, balance))
    return lines


def _deferral_checks(ctx: Context, s: Session, case: Case, loan: Loan, today: date) -> None:
    if loan.client_id != case.client_id:
        raise BadInput(N_("Loan {loan} is not a loan of this client"), field="loan", loan=loan.number)
    if loan.status != LoanStatus.ACTIVE.value:
        raise RuleViolation(N_("Loan {loan} is {status}: no deferral"), loan=loan.number, status=loan.status)
    done = list(s.scalars(select(Deferral).where(Deferral.loan_id == loan.id).order_by(Deferral.ends_on)))
    if len(done) >= ctx.settings.deferral_max_per_loan:
        raise RuleViolation(
            N_("Loan {loan} had {count} deferrals already, the most the desk allows"), loan=loan.number, count=len(done)
        )
    if done:
        watch_end = add_months(done[-1].ends_on, ctx.settings.deferral_watch_months)
        if today <= watch_end:
            raise RuleViolation(
                N_("Loan {loan} is in the watch period of its last deferral until {day}"),
                loan=loan.number,
                day=watch_end,
            )


def preview_deferral(
    ctx: Context, case_id: int, given: DeferralInput
) -> tuple[DeferralProposal, Decimal, BudgetStatus]:
    """The computed proposal, the client's position and the client's budget (``services.budget``; writes nothing)."""
    today = ctx.clock.today()
    with ctx.db.reader() as s:
        case = load_case(s, case_id)
        loan = s.get(Loan, given.loan_id)
        if loan is None:
            raise NotFound(N_("There is no loan {loan}"), loan=given.loan_id)
        _deferral_checks(ctx, s, case, loan, today)
        position = client_position(s, case.client_id, today)
        proposal = propose_deferral(
            repayment=loan.repayment,
            annual_rate=loan.annual_rate,
            remaining=_remaining(s, loan, today),
            months=given.months,
            max_months=ctx.settings.deferral_max_months,
        )
    return proposal, position, budget_status(ctx, case.client_id)


def deferral_fit(proposal: DeferralProposal, option: DeferralOption, st: BudgetStatus) -> Fit | None:
    """Whether the installment after the deferral fits: it replaces this loan's installment among the client's
    regular installments (and a running arrangement stays due on top); None without a usable budget."""
    if st.capacity is None:
        return None
    others = st.regular - proposal.current[0].amount + st.arrangement
    return Fit(option.regular_installment, others, st.capacity.capacity)


def _option(proposal: DeferralProposal, name: str) -> DeferralOption:
    if name not in OPTIONS:
        raise BadInput(
            N_("Choose how to repay after the deferral: extend the term or raise the installments"), field="option"
        )
    option = proposal.extend_term if name == "extend_term" else proposal.raise_installments
    if option is None:
        raise RuleViolation(N_("The loan ends inside the deferral: only extending the term is possible"))
    return option


def _lines_json(lines: tuple[ScheduleLine, ...]) -> list[dict[str, Any]]:
    return [
        {
            "seq": ln.seq,
            "due_date": ln.due_date.isoformat(),
            "principal": str(ln.principal),
            "interest": str(ln.interest),
        }
        for ln in lines
    ]


def propose_deferral_of_repayment(ctx: Context, case_id: int, expected_version: int, given: DeferralInput) -> int:
    """Submit a deferral proposal for a supervisor's decision; returns its id."""
    ctx.require(*CASE_WRITERS)
    if not given.weighing.strip():
        raise BadInput(N_("Write your weighing and assessment"), field="weighing")
    proposal, position, st = preview_deferral(ctx, case_id, given)
    option = _option(proposal, given.option)
    if st.budget is None:
        raise RuleViolation(
            N_("Enter the client's budget first (b on the client detail): Risk weighs the deferral against it")
        )
    fits = deferral_fit(proposal, option, st)
    now = ctx.clock.now()
    payload = {
        "loan_id": given.loan_id,
        "months": given.months,
        "option": given.option,
        "cause": given.cause.value,
        "budget_id": st.budget.id,
        "budget_date": st.budget.budget_date.isoformat(),
        "budget_stale": st.stale,
        "capacity": str(st.capacity.capacity) if st.capacity is not None else None,
        "needed": str(fits.needed) if fits is not None else None,
        "fits": fits.fits if fits is not None else None,
        "weighing": given.weighing,
        "outlook": given.outlook,
        "balance": str(proposal.balance),
        "current_installment": str(proposal.current[0].amount),
        "new_installment": str(option.regular_installment),
        "end_date": option.end_date.isoformat(),
        "extra_interest": str(proposal.extra_interest(option)),
        "lines": _lines_json(option.lines),
    }
    return _submit(ctx, case_id, expected_version, "deferral", given.loan_id, position, payload, now, cause=given.cause)


def propose_call_in(ctx: Context, case_id: int, expected_version: int, loan_id: int, reason: str) -> int:
    """Propose calling in a loan (opeising): the whole balance becomes due. Decided by a supervisor."""
    ctx.require(*CASE_WRITERS)
    if not reason.strip():
        raise BadInput(N_("Give the reason for calling in the loan"), field="reason")
    with ctx.db.reader() as s:
        case = load_case(s, case_id)
        loan = s.get(Loan, loan_id)
        if loan is None or loan.client_id != case.client_id:
            raise BadInput(N_("Loan {loan} is not a loan of this client"), field="loan", loan=loan_id)
        if loan.status != LoanStatus.ACTIVE.value:
            raise RuleViolation(
                N_("Loan {loan} is {status}: it cannot be called in"), loan=loan.number, status=loan.status
            )
        position = client_position(s, case.client_id, ctx.clock.today())
    return _submit(
        ctx,
        case_id,
        expected_version,
        "call_in",
        loan_id,
        position,
        {"loan_id": loan_id, "reason": reason},
        ctx.clock.now(),
    )


def write_off_balance(s: Session, loan: Loan, today: date) -> Decimal:
    """What can be written off on a loan: open costs, interest fallen due and unpaid, and all unpaid principal."""
    return sum(_outstanding(s, [loan.id], today), ZERO)


def _write_off_items(s: Session, loan_id: int, today: date) -> list[OpenItem]:
    # art. 6:44 BW order for a write-off too: collection costs, then interest (contractual and statutory), principal
    items = [
        OpenItem(f"c{c.id}", charge_component(c.kind), c.due_date, c.amount - c.paid)
        for c in s.scalars(select(Charge).where(Charge.loan_id == loan_id, Charge.paid < Charge.amount))
    ]
    for line in s.scalars(select(Installment).where(Installment.loan_id == loan_id)):
        if line.due_date < today and line.interest_paid < line.interest:
            items.append(OpenItem(f"{line.seq:06d}", "interest", line.due_date, line.interest - line.interest_paid))
        if line.principal_paid < line.principal:
            items.append(OpenItem(f"{line.seq:06d}", "principal", line.due_date, line.principal - line.principal_paid))
    return items


def propose_write_off(
    ctx: Context, case_id: int, expected_version: int, loan_id: int, amount: Decimal, reason: str
) -> int:
    """Propose writing off ``amount`` of a loan (at most its balance, see :func:`write_off_balance`) with a reason.
    Decided by a supervisor who is not the proposer; applied by ``_apply_write_off``."""
    ctx.require(*CASE_WRITERS)
    if not reason.strip():
        raise BadInput(N_("Give the reason for the write-off"), field="reason")
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise BadInput(
            N_("A write-off is an amount in euros and cents above zero, not {amount}"), field="amount", amount=amount
        )
    today = ctx.clock.today()
    with ctx.db.reader() as s:
        case = load_case(s, case_id)
        loan = s.get(Loan, loan_id)
        if loan is None or loan.client_id != case.client_id:
            raise BadInput(N_("Loan {loan} is not a loan of this client"), field="loan", loan=loan_id)
        if loan.status not in (LoanStatus.ACTIVE.value, LoanStatus.CALLED.value):
            raise RuleViolation(
                N_("Loan {loan} is {status}: nothing to write off"), loan=loan.number, status=loan.status
            )
        balance = write_off_balance(s, loan, today)
        if amount > balance:
            raise RuleViolation(
                N_("The write-off of {amount} is more than the balance of loan {loan}: {balance}"),
                amount=amount,
                loan=loan.number,
                balance=balance,
            )
        position = client_position(s, case.client_id, today)
    payload = {
        "loan_id": loan_id,
        "loan": loan.number,
        "amount": str(amount),
        "balance": str(balance),
        "reason": reason.strip(),
    }
    return _submit(ctx, case_id, expected_version, "write_off", loan_id, position, payload, ctx.clock.now())


def _submit(
    ctx: Context,
    case_id: int,
    expected_version: int,
    kind: str,
    loan_id: int,
    position: Decimal,
    payload: dict[str, Any],
    now: datetime,
    cause: ArrearsCause | None = None,
) -> int:
    # every kind above the mandate is refused when proposed, not left waiting for an approval that would refuse it
    _check_mandate(ctx, position)
    try:
        with ctx.db.transaction() as s:
            case = load_case(s, case_id)
            check_write(ctx, s, case)
            if case.status not in OPEN_TO_PROPOSALS and not held_by_special_management(case):
                raise RuleViolation(N_("The case is {status}: the desk makes no proposals on it"), status=case.status)
            if case.version != expected_version:
                raise changed_by(case)
            row = Proposal(
                case_id=case_id,
                loan_id=loan_id,
                kind=kind,
                status="submitted",
                position=position,
                payload=json.dumps(payload, ensure_ascii=False),
                proposed_by=ctx.actor.name,
                proposed_at=now,
            )
            s.add(row)
            case.updated_by, case.updated_at = ctx.actor.name, now  # bumps the version: the case changed
            s.flush()
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action=f"proposal.{kind}.submit",
                entity="proposal",
                entity_id=row.id,
                case_id=case_id,
                after={"position": position, "identified_by": ctx.actor.identified_by, **_brief(payload)},
            )
            if cause is not None:  # the case keeps the cause (issue 15: services.causes)
                record_cause(s, case, cause, "deferral", ctx.actor.name, now)
            return row.id
    except IntegrityError:
        raise RuleViolation(N_("This case already has an open {kind} proposal"), kind=kind) from None
    except StaleDataError:
        raise StaleData(N_("Someone changed the case at the same moment: reopen it; your input is kept")) from None


def _brief(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "lines"}


# ----- the supervisor's queue and decisions


def _row(p: Proposal, client_name: str, client_kind: str) -> ProposalRow:
    payload = json.loads(p.payload)
    return ProposalRow(
        p.id,
        p.case_id,
        client_name,
        p.kind,
        p.status,
        p.position,
        p.proposed_by,
        p.proposed_at,
        p.decided_by,
        p.decided_at,
        p.decision_reason,
        payload,
        p.version,
        decision_bkr_code(p.kind, payload, client_kind),
    )


def proposals(ctx: Context, *, status: str | None = "submitted", case_id: int | None = None) -> list[ProposalRow]:
    """The approval queue (submitted, oldest first: supervisors, who decide it, and auditors), or the proposals of
    one case (all, newest first: whoever may read the case)."""
    from incasso_tui.store.models import Client

    if case_id is None:
        ctx.require(Role.SUPERVISOR, Role.AUDITOR)

    query = (
        select(Proposal, Client.name, Client.kind)
        .join(Case, Case.id == Proposal.case_id)
        .join(Client, Client.id == Case.client_id)
    )
    if status is not None:
        query = query.where(Proposal.status == status)
    if case_id is not None:
        query = query.where(Proposal.case_id == case_id).order_by(Proposal.id.desc())
    else:
        query = query.order_by(Proposal.proposed_at, Proposal.id)
    with ctx.db.reader() as s:
        return [_row(p, name, kind) for p, name, kind in s.execute(query)]


def decide(ctx: Context, proposal_id: int, expected_version: int, *, approve: bool, reason: str = "") -> None:
    """Approve (and apply) or reject a proposal. Supervisors only; never one's own proposal."""
    ctx.require(Role.SUPERVISOR)
    if not approve and not reason.strip():
        raise BadInput(N_("Give the reason for the rejection"), field="reason")
    now, today = ctx.clock.now(), ctx.clock.today()
    try:
        with ctx.db.transaction() as s:
            p = s.get(Proposal, proposal_id)
            if p is None:
                raise NotFound(N_("There is no proposal {id}"), id=proposal_id)
            if p.proposed_by == ctx.actor.name:
                raise FourEyesViolation(N_("You proposed this yourself: another supervisor must decide it (four eyes)"))
            if p.status != "submitted":
                raise RuleViolation(
                    N_("This proposal was {status} by {name} already"), status=p.status, name=p.decided_by or "?"
                )
            if p.version != expected_version:
                raise StaleData(N_("The proposal was changed meanwhile: reopen it"))
            case = load_case(s, p.case_id)
            payload = json.loads(p.payload)
            applied: dict[str, Any] = {}
            if approve:
                position = client_position(s, case.client_id, today)
                _check_mandate(ctx, position)
                applied = _APPLY[p.kind](ctx, s, p, case, payload, today)
            p.status = "approved" if approve else "rejected"
            p.decided_by, p.decided_at, p.decision_reason = ctx.actor.name, now, reason.strip() or None
            case.updated_by, case.updated_at = ctx.actor.name, now
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action=f"proposal.{p.kind}.{p.status}",
                entity="proposal",
                entity_id=p.id,
                case_id=case.id,
                before={"status": "submitted"},
                after={
                    "status": p.status,
                    "reason": p.decision_reason,
                    "proposed_by": p.proposed_by,
                    "identified_by": ctx.actor.identified_by,
                    **applied,
                },
            )  # four eyes: how, not only who
    except StaleDataError:
        raise StaleData(N_("The proposal was changed meanwhile: reopen it")) from None


def _apply_deferral(
    ctx: Context, s: Session, p: Proposal, case: Case, payload: dict[str, Any], today: date
) -> dict[str, Any]:
    """Rewrite the loan's remaining schedule as proposed; the case gets status deferral."""
    loan = locked_loan(s, payload["loan_id"])
    assert loan is not None
    _deferral_checks(ctx, s, case, loan, today)
    remaining = _remaining(s, loan, today)
    if not remaining or remaining[0].seq != payload["lines"][0]["seq"]:
        raise RuleViolation(N_("The schedule moved on since the proposal (an installment fell due): propose again"))
    lines = payload["lines"]
    s.execute(delete(Installment).where(Installment.loan_id == loan.id, Installment.seq >= remaining[0].seq))
    s.add_all(
        Installment(
            loan_id=loan.id,
            seq=ln["seq"],
            due_date=date.fromisoformat(ln["due_date"]),
            principal=Decimal(ln["principal"]),
            interest=Decimal(ln["interest"]),
        )
        for ln in lines
    )
    months = int(payload["months"])
    loan.term_months = loan.term_months - len(remaining) + len(lines)
    starts = date.fromisoformat(lines[0]["due_date"])
    s.add(
        Deferral(
            loan_id=loan.id,
            proposal_id=p.id,
            months=months,
            option=payload["option"],
            first_seq=remaining[0].seq,
            starts_on=starts,
            ends_on=date.fromisoformat(lines[months - 1]["due_date"]),
            applied_at=ctx.clock.now(),
        )
    )
    risk.record_deferral_forbearance(
        ctx,
        s,
        loan,
        case.id,
        today,
        [(r.due_date, r.principal + r.interest) for r in remaining],
        [(date.fromisoformat(ln["due_date"]), Decimal(ln["principal"]) + Decimal(ln["interest"])) for ln in lines],
        p.id,
    )
    move_case(case, next_status(case, CaseStatus.DEFERRAL))
    # A running arrangement ends with the approval: its lines would fall due during the deferral and, missed, would
    # break it and set the case back to active (and the daily run would send a demand letter with costs)
    ended = list(
        s.scalars(
            select(Arrangement).where(
                Arrangement.case_id == case.id, Arrangement.status == ArrangementStatus.ACTIVE.value
            )
        )
    )
    for arrangement in ended:
        arrangement.status = ArrangementStatus.CANCELLED.value
        audit.record(
            s,
            at=ctx.clock.now(),
            actor=ctx.actor.name,
            action="arrangement.cancelled",
            entity="arrangement",
            entity_id=arrangement.id,
            case_id=case.id,
            before={"status": ArrangementStatus.ACTIVE.value},
            after={"status": arrangement.status, "reason": "deferral approved", "proposal": p.id},
        )
    return {
        "loan": loan.number,
        "months": months,
        "option": payload["option"],
        "term_months": loan.term_months,
        "arrangements_ended": [a.id for a in ended],
    }


def _apply_call_in(
    ctx: Context, s: Session, p: Proposal, case: Case, payload: dict[str, Any], today: date
) -> dict[str, Any]:
    """The whole balance falls due today: the open future installments are brought forward; BKR code 2."""
    from sqlalchemy import update

    loan = locked_loan(s, payload["loan_id"])
    assert loan is not None
    if loan.status != LoanStatus.ACTIVE.value:
        raise RuleViolation(N_("Loan {loan} is {status}: it cannot be called in"), loan=loan.number, status=loan.status)
    future = select(Installment.seq).where(Installment.loan_id == loan.id, Installment.due_date > today)
    brought = len(list(s.scalars(future)))
    # principal of the future lines falls due today; interest not yet accrued is not owed and is dropped
    s.execute(
        update(Installment)
        .where(Installment.loan_id == loan.id, Installment.due_date > today)
        .values(due_date=today, interest=Installment.interest_paid)
    )
    loan.status = LoanStatus.CALLED.value
    balance = client_position(s, case.client_id, today)
    bkr = decision_bkr_code("call_in", payload, _client_kind(s, case.client_id))  # none for a legal person
    if bkr is not None:
        s.add(
            BkrMutation(
                loan_id=loan.id,
                client_id=case.client_id,
                code=bkr,
                mutation_date=today,
                amount=balance,
                created_by=ctx.actor.name,
                created_at=ctx.clock.now(),
            )
        )
    letter_id = _call_in_letter(ctx, s, case, loan, today)
    return {"loan": loan.number, "installments_brought_forward": brought, "bkr": bkr, "letter": letter_id}


CALL_IN_PAY_DAYS = 14  # the called-in balance is to be paid within 14 days of the letter


def _call_in_letter(ctx: Context, s: Session, case: Case, loan: Loan, today: date) -> int:
    """The call-in letter (pending: rendered with the others): the loan's whole balance and the day to pay it by."""
    from datetime import timedelta

    from incasso_tui.letters.model import CallIn, LetterFigures
    from incasso_tui.store.models import Client, Letter

    # everything fell due today (the call-in brought it forward)
    principal, interest, costs = _outstanding(s, [loan.id], today + timedelta(days=1))
    figures = LetterFigures(
        loans=(loan.number,),
        call_in=CallIn(
            principal=principal,
            interest=interest,
            costs=costs,
            total=principal + interest + costs,
            pay_by=today + timedelta(days=CALL_IN_PAY_DAYS),
        ),
    )
    client = s.get(Client, case.client_id)
    assert client is not None
    letter = Letter(
        case_id=case.id,
        client_id=client.id,
        kind="call_in",
        channel="letter",
        language=client.language,
        letter_date=today,
        figures=figures.to_json(),
        status="pending",
        created_by=ctx.actor.name,
        created_at=ctx.clock.now(),
    )
    s.add(letter)
    s.flush()
    return letter.id


def _apply_write_off(
    ctx: Context, s: Session, p: Proposal, case: Case, payload: dict[str, Any], today: date
) -> dict[str, Any]:
    """A write-off of one loan, or (a track's outcome, services.tracks) of each loan in ``payload["loans"]``."""
    if "loans" not in payload:
        return _write_off_loan(ctx, s, case, payload, today)
    done = [
        _write_off_loan(
            ctx, s, case, {**item, "reason": payload["reason"], "no_bkr": payload.get("no_bkr", False)}, today
        )
        for item in payload["loans"]
    ]
    return {"loans": done}


def _write_off_loan(ctx: Context, s: Session, case: Case, payload: dict[str, Any], today: date) -> dict[str, Any]:
    """Post the write-off: a ``write_off`` ledger row whose allocations reduce the open items in the order of
    art. 6:44 BW (costs, interest fallen due, principal; oldest first), as a payment would. Written off in full: the
    interest of the installments not yet due is dropped (not owed) and the loan becomes ``written_off``. BKR code 3
    when EUR 250 or more is written off; the case's position is refreshed."""
    from incasso_tui.services.positions import refresh_case_positions

    loan = locked_loan(s, payload["loan_id"])
    assert loan is not None
    if loan.status not in (LoanStatus.ACTIVE.value, LoanStatus.CALLED.value):
        raise RuleViolation(N_("Loan {loan} is {status}: nothing to write off"), loan=loan.number, status=loan.status)
    amount = Decimal(payload["amount"])
    items = _write_off_items(s, loan.id, today)
    balance = sum((i.amount for i in items), ZERO)
    if amount > balance:
        raise RuleViolation(
            N_("The write-off of {amount} is more than the balance of loan {loan}: {balance}"),
            amount=amount,
            loan=loan.number,
            balance=balance,
        )
    now = ctx.clock.now()
    entry = LedgerEntry(
        loan_id=loan.id,
        booking_date=today,
        kind=LedgerKind.WRITE_OFF.value,
        amount=amount,
        description=f"Afboeking: {payload['reason']}"[:300],
        credit=ZERO,
        created_by=ctx.actor.name,
        created_at=now,
    )
    s.add(entry)
    s.flush()
    result = allocate(amount, items)
    for part in result.parts:
        if part.key.startswith("c"):
            charge = s.get(Charge, int(part.key[1:]))
            assert charge is not None
            charge.paid += part.amount
            s.add(
                Allocation(
                    ledger_id=entry.id,
                    loan_id=loan.id,
                    component=part.component,
                    charge_id=charge.id,
                    amount=part.amount,
                )
            )
        else:
            line = s.get(Installment, (loan.id, int(part.key)))
            assert line is not None
            if part.component == "interest":
                line.interest_paid += part.amount
            else:
                line.principal_paid += part.amount
            s.add(
                Allocation(
                    ledger_id=entry.id,
                    loan_id=loan.id,
                    component=part.component,
                    installment_seq=line.seq,
                    amount=part.amount,
                )
            )
    full = amount == balance
    if full:
        s.flush()
        s.execute(
            update(Installment)
            .where(Installment.loan_id == loan.id, Installment.due_date >= today)
            .values(interest=Installment.interest_paid)
        )
        loan.status = LoanStatus.WRITTEN_OFF.value
    # no BKR code after a clean slate, nor for a legal person (the BKR registers natural persons; data/bkr.toml)
    bkr = decision_bkr_code("write_off", {**payload, "amount": str(amount)}, _client_kind(s, case.client_id))
    if bkr is not None:
        s.add(
            BkrMutation(
                loan_id=loan.id,
                client_id=case.client_id,
                code=bkr,
                mutation_date=today,
                amount=amount,
                created_by=ctx.actor.name,
                created_at=now,
            )
        )
    s.flush()
    refresh_case_positions(s, today, [case.id])
    return {"loan": loan.number, "written_off": amount, "ledger_id": entry.id, "loan_status": loan.status, "bkr": bkr}


def _apply_arrangement(
    ctx: Context, s: Session, p: Proposal, case: Case, payload: dict[str, Any], today: date
) -> dict[str, Any]:
    from incasso_tui.services.arrangement_changes import apply_arrangement_proposal  # a plan beyond the desk limits

    return apply_arrangement_proposal(ctx, s, p, case, payload, today)


_APPLY = {
    "deferral": _apply_deferral,
    "call_in": _apply_call_in,
    "write_off": _apply_write_off,
    "arrangement": _apply_arrangement,
}
