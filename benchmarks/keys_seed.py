"""Work for the approvals and task-inbox screens of ``benchmarks.keys``: a generated book has neither.

    python -m benchmarks.keys_seed --db sqlite:////path/keys.db [--proposals 40] [--tasks 200]
                                   [--user bakker] [--date 2026-11-23]

``incasso generate`` writes no proposal and no task, so the keys "approvals" (``v``) and "task inbox" (``a``)
would time empty screens. This fills them through the services the screens themselves call (audit events, case
versions and every check as on the desk), never with SQL inserts. Run it on a copy of a book, never on one you
keep: it writes budgets, proposals, tasks and their audit events.

- ``proposals`` submitted deferrals of repayment (``services.proposals.propose_deferral_of_repayment``), each on
  its own desk case (not one of the tasks' cases) with an active loan, proposed by a desk user other than ``user``
  (the case's assignee when that is one, else the employees in turn), so that ``user``, a supervisor, may decide
  every one (four eyes). A deferral needs the client's budget: the proposer enters one first
  (``services.budget.set_budget``, the figures of a modest household or business), as on the desk (``b`` on the
  client detail). The case's cause is kept (a case without one gets one). Cases the service refuses (no
  installment left to defer, a deferral's watch period, paid in advance, a position above the mandate, ...) are
  counted by reason and the next one is taken, at most ``attempts`` cases in all; the refusals a read can tell
  are found before the budget is entered. Proposed on ``as_of`` between 08:30 and 09:00.
- ``tasks`` open call tasks (``services.tasks.create_call_task``, the UI's "call" task; the inbox lists every
  open task, ``services.inbox``), each on its own case (a case has one open call task at most), taken by ``user``
  (``services.inbox.assign_task``: a call task goes to the case's assignee). Due dates cycle over the two weeks
  before ``as_of`` (overdue), ``as_of`` itself (today) and the three weeks after. A call task cannot be made
  due in the past, so an overdue one is made (and taken) on its due day, at 08:00: the clock of that day, as a
  task that was planned then and not done. As on the desk, a call due before the case's next action becomes its
  next action (``services.tasks``).

Deterministic for a given book: cases in the order of their ids. Prints the counts as JSON (``seed``'s value).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select

from incasso_tui.clock import FixedClock
from incasso_tui.config import Settings
from incasso_tui.domain.budget import BusinessBudget, Checked, Household, HouseholdBudget
from incasso_tui.domain.enums import ArrearsCause, CaseStatus, LoanStatus, Role, TaskStatus
from incasso_tui.errors import IncassoError
from incasso_tui.services.audit_seal import load_key
from incasso_tui.services.budget import BudgetInput, parts, set_budget
from incasso_tui.services.context import DESK_WRITERS, Actor, Context
from incasso_tui.services.inbox import assign_task
from incasso_tui.services.proposals import (
    OPEN_TO_PROPOSALS,
    DeferralInput,
    preview_deferral,
    propose_deferral_of_repayment,
)
from incasso_tui.services.tasks import CallTaskInput, create_call_task
from incasso_tui.services.users import resolve_actor
from incasso_tui.store.db import Database
from incasso_tui.store.models import Case, Client, Loan, Proposal, Task, User

# days from as_of of the tasks' due dates, in turn: 14 overdue, 3 today, 21 ahead (this week and later)
DUE_OFFSETS = (*range(-14, 0), 0, 0, 0, *range(1, 22))
# cases that may get a call task (not paused, closed, handed over or in a debt-relief / insolvency track)
_CALLABLE = (CaseStatus.ACTIVE.value, CaseStatus.ARRANGEMENT.value, CaseStatus.DEFERRAL.value)
_CAUSES = (
    ArrearsCause.LOSS_OF_WORK,
    ArrearsCause.ILLNESS,
    ArrearsCause.TOO_MANY_DEBTS,
    ArrearsCause.SEASONAL_INCOME,
    ArrearsCause.BUSINESS_DOWNTURN,
)
_WEIGHING = (
    "Inkomen tijdelijk lager; budget met de klant doorgenomen en de bankafschriften gezien. "
    "Na de uitstelperiode is de termijn weer op te brengen."
)
_OUTLOOK = "Werkhervatting of herstel van de omzet verwacht binnen enkele maanden."
_CALL_NOTE = "Klant bellen over de achterstand en de afspraak"


def _ctx(db: Database, settings: Settings, actor: Actor, at: datetime) -> Context:
    return Context(db=db, actor=actor, clock=FixedClock(at), settings=settings)


def _why(err: IncassoError) -> str:
    return f"{type(err).__name__}: {err.msgid}"


def _budget(i: int, kind: str, consumer: bool, day: date) -> BudgetInput:
    """A modest household (and business, for a business debtor): figures the desk would type in."""
    household, business = parts(kind, consumer)
    return BudgetInput(
        budget_date=day,
        checked=Checked.BANK_STATEMENTS,
        household=HouseholdBudget(
            Household.SINGLE if i % 2 else Household.COUPLE,
            salary=Decimal(2400 + 150 * (i % 7)),
            partner=Decimal(0 if i % 2 else 1100),
            housing=Decimal(850 + 25 * (i % 5)),
            health=Decimal(150 if i % 2 else 300),
        )
        if household
        else None,
        business=BusinessBudget(
            revenue=Decimal(9000 + 250 * (i % 5)),
            costs=Decimal(6500),
            drawings=Decimal(1800 if household else 0),
            tax_reservation=Decimal(900),
        )
        if business
        else None,
    )


def _proposal_cases(db: Database) -> Iterator[tuple[int, int | None, str | None, int, str, bool, int]]:
    """(case, assignee, cause, client, client kind, consumer, loan): desk cases open to proposals with an active
    loan and no submitted deferral, by case id; the client's first active loan."""
    with db.reader() as s:
        open_deferral = exists().where(
            Proposal.case_id == Case.id, Proposal.kind == "deferral", Proposal.status == "submitted"
        )
        rows = s.execute(
            select(Case.id, Case.assignee_id, Case.cause, Client.id, Client.kind, Client.consumer, func.min(Loan.id))
            .join(Client, Client.id == Case.client_id)
            .join(Loan, Loan.client_id == Case.client_id)
            .where(Case.status.in_(OPEN_TO_PROPOSALS), Loan.status == LoanStatus.ACTIVE.value, ~open_deferral)
            .group_by(Case.id, Case.assignee_id, Case.cause, Client.id, Client.kind, Client.consumer)
            .order_by(Case.id)
        ).all()
    for case_id, assignee, cause, client_id, kind, consumer, loan_id in rows:
        yield case_id, assignee, cause, client_id, kind, bool(consumer), loan_id


def _task_cases(db: Database, opened_by: date) -> Iterator[int]:
    """Cases that may get a call task, opened by ``opened_by`` and without an open call task, by case id."""
    with db.reader() as s:
        open_call = exists().where(Task.case_id == Case.id, Task.kind == "call", Task.status == TaskStatus.OPEN)
        ids = s.scalars(
            select(Case.id).where(Case.status.in_(_CALLABLE), Case.opened_on <= opened_by, ~open_call).order_by(Case.id)
        ).all()
    return iter(ids)


def _proposers(db: Database, user: str) -> dict[int, Actor]:
    """The desk users other than ``user`` who may propose (employees and supervisors), by id."""
    with db.reader() as s:
        names = s.scalars(
            select(User.name)
            .where(User.active.is_(True), User.role.in_([r.value for r in DESK_WRITERS]), User.name != user)
            .order_by(User.name)
        ).all()
    actors = [resolve_actor(db, name) for name in names]
    return {a.id: a for a in actors}


def seed_proposals(
    db: Database, settings: Settings, user: str, as_of: date, count: int, attempts: int, skip: set[int]
) -> dict[str, Any]:
    """``count`` submitted deferral proposals by desk users other than ``user`` (see the module docstring)."""
    proposers = _proposers(db, user)
    if not proposers:
        raise SystemExit(f"no desk user other than {user} to propose deferrals (four eyes)")
    employees = [a for a in proposers.values() if a.role == Role.EMPLOYEE] or list(proposers.values())
    refused: Counter[str] = Counter()
    by: Counter[str] = Counter()
    made = budgets = tried = 0
    start = datetime.combine(as_of, dtime(8, 30))
    for case_id, assignee, cause, client_id, kind, consumer, loan_id in _proposal_cases(db):
        if made >= count or tried >= attempts:
            break
        if case_id in skip:
            continue
        tried += 1
        actor = proposers.get(assignee or 0) or employees[tried % len(employees)]
        ctx = _ctx(db, settings, actor, start + timedelta(seconds=made * 1800 // max(count, 1)))
        given = DeferralInput(
            loan_id=loan_id,
            months=2 + made % 3,
            option="extend_term",
            cause=ArrearsCause(cause) if cause else _CAUSES[made % len(_CAUSES)],  # the case's own cause kept
            weighing=_WEIGHING,
            outlook=_OUTLOOK,
        )
        try:
            proposal, position, st = preview_deferral(ctx, case_id, given)  # reads only: refuse before a budget
            if position > settings.mandate_limit:
                refused["MandateExceeded: above the desk mandate (checked before the budget)"] += 1
                continue
            if made % 2 and proposal.raise_installments is not None:
                given = DeferralInput(
                    given.loan_id, given.months, "raise_installments", given.cause, given.weighing, given.outlook
                )
            if st.budget is None:
                set_budget(ctx, client_id, _budget(made, kind, consumer, as_of))
                budgets += 1
            with db.reader() as s:
                version = s.scalar(select(Case.version).where(Case.id == case_id))
            assert version is not None
            propose_deferral_of_repayment(ctx, case_id, version, given)
        except IncassoError as err:
            refused[_why(err)] += 1
            continue
        made += 1
        by[actor.name] += 1
    return {
        "proposals": made,
        "proposal_attempts": tried,
        "proposal_refusals": dict(refused.most_common()),
        "proposers": dict(sorted(by.items())),
        "budgets_set": budgets,
    }


def seed_tasks(
    db: Database, settings: Settings, user: str, as_of: date, count: int, attempts: int
) -> tuple[dict[str, Any], set[int]]:
    """``count`` open call tasks taken by ``user``, due over the past two and the next three weeks; the counts and
    the cases that got one."""
    owner = resolve_actor(db, user)
    dues = sorted(as_of + timedelta(days=DUE_OFFSETS[i % len(DUE_OFFSETS)]) for i in range(count))
    cases = _task_cases(db, dues[0] if dues else as_of)
    used: set[int] = set()
    week = as_of + timedelta(days=7)  # the inbox's groups (services.inbox.TaskRow.bucket)
    refused: Counter[str] = Counter()
    buckets: Counter[str] = Counter()
    made = tried = 0
    for due in dues:  # oldest first, so the audit trail runs forward in time
        made_day = min(due, as_of)
        while tried < attempts:
            case_id = next(cases, None)
            if case_id is None:
                break
            tried += 1
            ctx = _ctx(db, settings, owner, datetime.combine(made_day, dtime(8, 0)) + timedelta(seconds=made))
            try:
                task_id = create_call_task(ctx, case_id, CallTaskInput(due, _CALL_NOTE))
                assign_task(ctx, task_id, user)
            except IncassoError as err:
                refused[_why(err)] += 1
                continue
            made += 1
            used.add(case_id)
            buckets["overdue" if due < as_of else "today" if due == as_of else "week" if due < week else "later"] += 1
            break
    counts = {
        "tasks": made,
        "task_attempts": tried,
        "task_refusals": dict(refused.most_common()),
        "tasks_due": dict(sorted(buckets.items())),
    }
    return counts, used


def seed(
    url: str,
    *,
    user: str = "bakker",
    as_of: date = date(2026, 11, 23),
    proposals: int = 40,
    tasks: int = 200,
    attempts: int | None = None,
) -> dict[str, Any]:
    """Submitted deferral proposals for ``user`` to decide and open tasks of ``user`` in the book at ``url`` (see
    the module docstring); the counts of what was made and refused. ``attempts``: the most cases tried for each
    (default five times the number asked, plus 50)."""
    started = time.perf_counter()
    settings = Settings(db_url=url)
    db = Database(url, audit_key=load_key(settings))
    try:
        db.check_schema()
        # the tasks first: the overdue ones are made on their (earlier) days, so the audit trail runs forward in time
        got, used = seed_tasks(db, settings, user, as_of, tasks, attempts or 5 * tasks + 50)
        got |= seed_proposals(db, settings, user, as_of, proposals, attempts or 5 * proposals + 50, used)
    finally:
        db.dispose()
    return {"user": user, "as_of": as_of.isoformat(), **got, "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", required=True, metavar="URL")
    parser.add_argument("--proposals", type=int, default=40)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--user", default="bakker", help="the supervisor who decides the proposals and owns the tasks")
    parser.add_argument("--date", default="2026-11-23")
    args = parser.parse_args(argv)
    got = seed(args.db, user=args.user, as_of=date.fromisoformat(args.date), proposals=args.proposals, tasks=args.tasks)
    print(json.dumps(got, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
