"""Monitoring of promises and arrangements against the payments booked (:func:`monitor`), and the recoveries after a
write-off (:func:`recoveries`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from incasso_tui.domain.enums import ArrangementStatus, CaseStatus, LedgerKind, NextAction, PromiseStatus, Role
from incasso_tui.domain.guards import check_bkr_cleared
from incasso_tui.domain.money import ZERO
from incasso_tui.errors import RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.access import move_case
from incasso_tui.services.context import Context
from incasso_tui.services.payments.common import chunks
from incasso_tui.services.positions import loan_positions
from incasso_tui.store.models import (
    Arrangement,
    ArrangementLine,
    BkrMutation,
    Case,
    Contact,
    LedgerEntry,
    LedgerLink,
    Loan,
    Promise,
)
from incasso_tui.store.types import money_sum

MONITOR_ROLES = (Role.EMPLOYEE, Role.SUPERVISOR, Role.ADMIN)


@dataclass
class MonitorReport:
    promises_kept: int = 0
    promises_broken: int = 0
    arrangements_kept: int = 0
    arrangements_broken: int = 0
    cases_closed: int = 0
    bkr_h: int = 0


@dataclass(frozen=True)
class Recovery:
    ledger_id: int
    loan_number: str
    booking_date: date
    amount: Decimal


def recoveries(ctx: Context, since: date | None = None) -> list[Recovery]:
    """Payments booked on loans after a write-off (net of nothing: a reversed recovery shows its reversal too)."""
    query = (
        select(LedgerEntry.id, Loan.number, LedgerEntry.booking_date, LedgerEntry.amount)
        .join(LedgerLink, LedgerLink.ledger_id == LedgerEntry.id)
        .join(Loan, Loan.id == LedgerEntry.loan_id)
        .where(LedgerLink.recovery.is_(True))
        .order_by(LedgerEntry.booking_date, LedgerEntry.id)
    )
    if since is not None:
        query = query.where(LedgerEntry.booking_date >= since)
    with ctx.db.reader() as s:
        return [Recovery(*r) for r in s.execute(query)]


class _NetPaid:
    """Payments on each client's loans less reversals, per booking day, read for all the clients in a few queries."""

    def __init__(self, s: Session, client_ids: Iterable[int], since: date, until: date) -> None:
        sign = {LedgerKind.PAYMENT.value: 1, LedgerKind.REVERSAL.value: -1}
        self.days: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
        for part in chunks(sorted(set(client_ids))):
            for client_id, day, kind, total in s.execute(
                select(Loan.client_id, LedgerEntry.booking_date, LedgerEntry.kind, money_sum(LedgerEntry.amount))
                .join(Loan, Loan.id == LedgerEntry.loan_id)
                .where(
                    Loan.client_id.in_(part),
                    LedgerEntry.kind.in_(tuple(sign)),
                    LedgerEntry.booking_date >= since,
                    LedgerEntry.booking_date <= until,
                )
                .group_by(Loan.client_id, LedgerEntry.booking_date, LedgerEntry.kind)
            ):
                self.days[client_id].append((day, sign[kind] * total))

    def between(self, client_id: int, start: date, end: date) -> Decimal:
        """Booked from ``start`` to ``end`` inclusive (within the range read)."""
        return sum((amount for day, amount in self.days.get(client_id, []) if start <= day <= end), ZERO)


def monitor(ctx: Context, day: date | None = None) -> MonitorReport:
    """Check every open promise and active arrangement against the payments allocated since it was made.

    - A promise (from the day of its contact) is kept once the payments reach its amount; it is broken when they
      do not by its due date plus ``payment_grace_days``: the case is flagged ``broken_promise`` and goes to the top
      of the worklist (next action today).
    - An arrangement's payments (from the day it was registered) fill its lines in order (``arrangement_lines.paid``).
      A line still short after its due date plus the grace days breaks the arrangement: it becomes ``broken``, the
      case ``active`` again with the flag ``broken_arrangement`` and next action today, so the procedure resumes.
      All lines paid: the arrangement is ``kept`` and the case closed; a loan with a BKR code A and no H after it
      gets an H.
    One transaction, one audit event per change. Overlapping promises of one case each count the same payments.
    The payments and the arrangement lines are read for all promises and arrangements at once, not one by one.
    """
    ctx.require(*MONITOR_ROLES)
    day = day or ctx.clock.today()
    grace = timedelta(days=ctx.settings.payment_grace_days)
    now = ctx.clock.now()
    report = MonitorReport()
    with ctx.db.transaction() as s:
        promises = [
            (promise, case, contact_at.date() if contact_at else case.opened_on)
            for promise, case, contact_at in s.execute(
                select(Promise, Case, Contact.at)
                .join(Case, Case.id == Promise.case_id)
                .outerjoin(Contact, Contact.id == Promise.contact_id)
                .where(Promise.status == PromiseStatus.OPEN, Case.status != CaseStatus.CLOSED.value)
                .order_by(Promise.id)
            )
        ]
        arrangements = s.execute(
            select(Arrangement, Case)
            .join(Case, Case.id == Arrangement.case_id)
            .where(Arrangement.status == ArrangementStatus.ACTIVE.value)
            .order_by(Arrangement.id)
        ).all()
        starts = [start for _p, _c, start in promises] + [a.created_at.date() for a, _c in arrangements]
        net_paid = _NetPaid(
            s,
            [c.client_id for _p, c, _s in promises] + [c.client_id for _a, c in arrangements],
            min(starts, default=day),
            day,
        )
        for promise, case, start in promises:
            paid = net_paid.between(case.client_id, start, min(day, promise.due_date + grace))
            if paid >= promise.amount:
                promise.status = "kept"
                report.promises_kept += 1
            elif day > promise.due_date + grace:
                promise.status = "broken"
                _flag(case, "broken_promise", day, ctx.actor.name, now)
                report.promises_broken += 1
            else:
                continue
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action=f"promise.{promise.status}",
                entity="promise",
                entity_id=promise.id,
                case_id=case.id,
                before={"status": "open"},
                after={"status": promise.status, "amount": promise.amount, "paid": paid, "due_date": promise.due_date},
            )
        lines: dict[int, list[ArrangementLine]] = defaultdict(list)
        for part in chunks([a.id for a, _c in arrangements]):
            for line in s.scalars(
                select(ArrangementLine)
                .where(ArrangementLine.arrangement_id.in_(part))
                .order_by(ArrangementLine.arrangement_id, ArrangementLine.seq)
            ):
                lines[line.arrangement_id].append(line)
        for arrangement, case in arrangements:
            paid = net_paid.between(case.client_id, arrangement.created_at.date(), day)
            _check_arrangement(ctx, s, arrangement, case, lines[arrangement.id], paid, day, grace, now, report)
    return report


def _flag(case: Case, flag: str, day: date, actor: str, now: datetime) -> None:
    case.flag = flag
    case.next_action_date = day
    case.next_action = NextAction.ARRANGEMENT_BROKEN if flag == "broken_arrangement" else NextAction.PROMISE_BROKEN
    case.next_action_params = None
    case.updated_by, case.updated_at = actor, now


def _check_arrangement(
    ctx: Context,
    s: Session,
    arrangement: Arrangement,
    case: Case,
    lines: list[ArrangementLine],
    left: Decimal,
    day: date,
    grace: timedelta,
    now: datetime,
    report: MonitorReport,
) -> None:
    """Fill the lines in order with ``left`` (the net payments since the arrangement was made); kept or broken."""
    for line in lines:
        line.paid = min(line.amount, max(left, ZERO))
        left -= line.paid
    short = [ln for ln in lines if ln.paid < ln.amount]
    deferral = case.status == CaseStatus.DEFERRAL.value  # an approved deferral: no monitor step overrides it
    if not short:
        arrangement.status = ArrangementStatus.KEPT.value
        before = {"status": case.status}
        if deferral:
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="arrangement.kept",
                entity="arrangement",
                entity_id=arrangement.id,
                case_id=case.id,
                before=before,
                after={"status": case.status, "arrangement": "kept"},
            )
            report.arrangements_kept += 1
            return
        move_case(case, CaseStatus.CLOSED)
        case.closed_on, case.flag = day, None
        case.updated_by, case.updated_at = ctx.actor.name, now
        report.arrangements_kept += 1
        report.cases_closed += 1
        codes = _bkr_h(ctx, s, case, day, now)
        report.bkr_h += len(codes)
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="arrangement.kept",
            entity="arrangement",
            entity_id=arrangement.id,
            case_id=case.id,
            before=before,
            after={"status": "closed", "arrangement": "kept", "bkr_h_loans": codes},
        )
        return
    late = [ln for ln in short if day > ln.due_date + grace]
    if not late:
        return
    arrangement.status = ArrangementStatus.BROKEN.value
    before = {"status": case.status, "flag": case.flag}
    if case.status != CaseStatus.HANDED_OVER.value and not deferral:  # a case special management holds stays
        # theirs; during an approved deferral the case stays in it (no demand letter, no costs)
        move_case(case, CaseStatus.ACTIVE)
    _flag(case, "broken_arrangement", day, ctx.actor.name, now)
    report.arrangements_broken += 1
    audit.record(
        s,
        at=now,
        actor=ctx.actor.name,
        action="arrangement.broken",
        entity="arrangement",
        entity_id=arrangement.id,
        case_id=case.id,
        before=before,
        after={
            "status": case.status,
            "flag": case.flag,
            "line": late[0].seq,
            "due_date": late[0].due_date,
            "amount": late[0].amount,
            "paid": late[0].paid,
        },
    )


def _bkr_h(ctx: Context, s: Session, case: Case, day: date, now: datetime) -> list[int]:
    """Code H for each loan of the client whose newest A has no H after it and whose arrears is cleared (the same
    guard as the daily run's H: a line that fell due during the arrangement and is still open keeps the A; the daily
    run writes the H once it is paid)."""
    made = []
    # loan id -> its newest code A or H: read in id order, the last one of each loan wins
    newest: dict[int, str] = dict(
        s.execute(
            select(BkrMutation.loan_id, BkrMutation.code)
            .join(Loan, Loan.id == BkrMutation.loan_id)
            .where(Loan.client_id == case.client_id, BkrMutation.code.in_(("A", "H")))
            .order_by(BkrMutation.id)
        ).all()
    )
    standing = sorted(loan_id for loan_id, code in newest.items() if code == "A")
    arrears = loan_positions(s, standing, day)
    for loan_id in standing:
        try:
            check_bkr_cleared(True, arrears[loan_id].total)
        except RuleViolation:
            continue
        m = BkrMutation(
            loan_id=loan_id,
            client_id=case.client_id,
            code="H",
            mutation_date=day,
            amount=ZERO,
            created_by=ctx.actor.name,
            created_at=now,
        )
        s.add(m)
        s.flush()
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="bkr.H",
            entity="bkr_mutation",
            entity_id=m.id,
            case_id=case.id,
            after={"loan_id": loan_id, "code": "H", "mutation_date": day},
        )
        made.append(loan_id)
    return made
