"""A client's budget (income and expenditure) and the repayment capacity it gives (issue 15).

- :func:`set_budget` stores a budget as given on a day (one transaction, audited): the household's figures for
  natural persons and sole traders, the business's for every business debtor, what was checked, and who gave it
  (``source``: ``desk``, or ``client`` for figures the client declared himself, e.g. through a portal). A cause
  given with it becomes the open case's cause (``services.causes``). Budgets are never changed: a new one is made,
  the older ones stay as history.
- :func:`status` is the current budget with its capacity as of today (the norms of today's half year) and whether
  it is older than ``budget_max_age_months``: what the arrangement, the deferral and the approval screens show.
- :func:`check_plan` is the arrangement's capacity rule: the plan's monthly installment plus the regular
  installments of the client's loans against what is available; above it a plan needs a reason, or is refused,
  per ``arrangement_above_capacity``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from incasso_tui.domain.budget import (
    BusinessBudget,
    Capacity,
    Checked,
    Debt,
    Fit,
    Household,
    HouseholdBudget,
    Limits,
    NormKind,
    Norms,
    PlanProposal,
    capacity,
    load_norms,
    monthly,
    months_between,
    propose_plan,
    validate_business,
    validate_household,
)
from incasso_tui.domain.enums import (
    ArrangementStatus,
    ArrearsCause,
    ClientKind,
    LoanStatus,
    PromiseStatus,
    Role,
)
from incasso_tui.domain.money import ZERO
from incasso_tui.errors import N_, BadInput, IncassoError, NotFound, RuleViolation, StaleData
from incasso_tui.services import audit
from incasso_tui.services.cases import open_case
from incasso_tui.services.causes import CauseRow, cause_history, record_cause
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.store.models import Arrangement, ArrangementLine, Budget, Case, Client, Installment, Loan, Promise

SOURCES = ("desk", "client")
MAX_NOTE = 2000


@dataclass(frozen=True)
class BudgetInput:
    """A budget as given (parsed). ``household`` / ``business`` as the client's kind needs them (:func:`parts`)."""

    budget_date: date
    checked: Checked
    household: HouseholdBudget | None = None
    business: BusinessBudget | None = None
    source: str = "desk"
    note: str = ""
    cause: ArrearsCause | None = None


@dataclass(frozen=True)
class BudgetView:
    id: int
    client_id: int
    budget_date: date
    source: str
    checked: str
    household: HouseholdBudget | None
    business: BusinessBudget | None
    note: str
    created_by: str
    capacity: Capacity | None  # as of the budget's own date; None when it cannot be computed (``error``)
    error: IncassoError | None


@dataclass(frozen=True)
class BudgetStatus:
    """The current budget and its capacity as of today, for the screens that use it."""

    client_id: int
    household_needed: bool
    business_needed: bool
    budget: BudgetView | None
    capacity: Capacity | None  # as of today
    error: IncassoError | None  # why there is no capacity (no norm for today, ...)
    age_months: int | None
    stale: bool  # older than budget_max_age_months
    regular: Decimal  # the monthly regular installments of the client's active loans
    arrangement: Decimal  # the running arrangement's installment, monthly (0 without one)

    @property
    def available(self) -> Decimal | None:
        return self.capacity.capacity if self.capacity is not None else None


def parts(kind: str, consumer: bool) -> tuple[bool, bool]:
    """(household needed, business needed): a household for natural persons and sole traders, business figures for
    every business debtor."""
    return kind in (ClientKind.NATURAL.value, ClientKind.EENMANSZAAK.value), not consumer


def limits(ctx: Context) -> Limits:
    return Limits(ctx.settings.budget_household_max, ctx.settings.budget_business_max)


def norm_kind(ctx: Context) -> NormKind:
    return NormKind(ctx.settings.budget_norm)


def norms(ctx: Context) -> Norms:
    """The norm table of the settings (``data/budget_norms.toml`` by default), read and checked."""
    return load_norms(ctx.settings.budget_norms_file)


def compute(
    ctx: Context,
    household: HouseholdBudget | None,
    business: BusinessBudget | None,
    day: date,
    table: Norms | None = None,
) -> Capacity:
    """The capacity of these figures on ``day`` with the desk's norm setting (writes nothing; a form passes the
    ``table`` it read once, so typing does not read the file again)."""
    return capacity(
        household=household,
        business=business,
        norms=table if table is not None else norms(ctx),
        kind=norm_kind(ctx),
        day=day,
        limits=limits(ctx),
    )


# ----- JSON of the figures


def _household_json(h: HouseholdBudget) -> str:
    data: dict[str, Any] = {"household": h.household.value, "children": h.children}
    for name in (
        "salary",
        "benefits",
        "partner",
        "drawings",
        "housing",
        "housing_allowance",
        "health",
        "health_allowance",
        "fixed",
    ):
        data[name] = str(getattr(h, name))
    data["debts"] = [{"creditor": d.creditor, "monthly": str(d.monthly)} for d in h.debts]
    return json.dumps(data, ensure_ascii=False)


def _household(text: str | None) -> HouseholdBudget | None:
    if text is None:
        return None
    data = json.loads(text)
    amounts = {k: Decimal(v) for k, v in data.items() if k not in ("household", "children", "debts")}
    return HouseholdBudget(
        Household(data["household"]),
        int(data["children"]),
        debts=tuple(Debt(d["creditor"], Decimal(d["monthly"])) for d in data["debts"]),
        **amounts,
    )


def _business_json(b: BusinessBudget) -> str:
    return json.dumps(
        {
            "revenue": str(b.revenue),
            "costs": str(b.costs),
            "drawings": str(b.drawings),
            "tax_reservation": str(b.tax_reservation),
            "trend": [str(v) for v in b.trend],
        }
    )


def _business(text: str | None) -> BusinessBudget | None:
    if text is None:
        return None
    data = json.loads(text)
    return BusinessBudget(
        Decimal(data["revenue"]),
        Decimal(data["costs"]),
        Decimal(data["drawings"]),
        Decimal(data["tax_reservation"]),
        tuple(Decimal(v) for v in data["trend"]),
    )


def household_dict(h: HouseholdBudget) -> dict[str, Any]:
    return json.loads(_household_json(h))  # type: ignore[no-any-return]


def business_dict(b: BusinessBudget) -> dict[str, Any]:
    return json.loads(_business_json(b))  # type: ignore[no-any-return]


# ----- storing


def _client(s: Session, client_id: int) -> Client:
    client = s.get(Client, client_id)
    if client is None:
        raise NotFound(N_("There is no client {client}"), client=client_id)
    return client


def check_input(ctx: Context, kind: str, consumer: bool, given: BudgetInput) -> None:
    """Every refusal names its field; nothing is written."""
    if given.source not in SOURCES:
        raise BadInput(N_("Unknown source of a budget: {value}"), field="source", value=given.source)
    if not isinstance(given.checked, Checked):
        raise BadInput(
            N_("Say what was checked: bank statements, a payslip, or the client's own statement"), field="checked"
        )
    if given.source == "client" and given.checked is not Checked.SELF_DECLARED:
        raise BadInput(N_("Figures the client gave himself are self-declared"), field="checked")
    today = ctx.clock.today()
    if given.budget_date > today:
        raise BadInput(N_("The budget's date may not be in the future"), field="budget_date")
    household, business = parts(kind, consumer)
    if household and given.household is None:
        raise BadInput(N_("This client needs the household's figures"), field="household")
    if not household and given.household is not None:
        raise BadInput(N_("A legal person has no household: give the business's figures"), field="household")
    if business and given.business is None:
        raise BadInput(N_("This business debtor needs the business's figures"), field="revenue")
    if not business and given.business is not None:
        raise BadInput(N_("A consumer has no business figures"), field="revenue")
    if given.household is not None:
        validate_household(given.household, limits(ctx))
    if given.business is not None:
        validate_business(given.business, limits(ctx))
    if len(given.note) > MAX_NOTE:
        raise BadInput(
            N_("At most {maximum} characters, this is {length}"), field="note", maximum=MAX_NOTE, length=len(given.note)
        )


def set_budget(ctx: Context, client_id: int, given: BudgetInput) -> int:
    """Store a new budget for the client (the older ones stay); returns its id."""
    ctx.require(*DESK_WRITERS)
    now = ctx.clock.now()
    try:
        return _store(ctx, client_id, given, now)
    except StaleDataError:  # the cause changed the case while a colleague changed it too
        raise StaleData(N_("Someone changed the case at the same moment: reopen it; your input is kept")) from None


def _store(ctx: Context, client_id: int, given: BudgetInput, now: datetime) -> int:
    with ctx.db.transaction() as s:
        client = _client(s, client_id)
        check_input(ctx, client.kind, client.consumer, given)
        row = Budget(
            client_id=client.id,
            budget_date=given.budget_date,
            source=given.source,
            checked=given.checked.value,
            household=_household_json(given.household) if given.household is not None else None,
            business=_business_json(given.business) if given.business is not None else None,
            note=given.note.strip(),
            created_by=ctx.actor.name,
            created_at=now,
        )
        s.add(row)
        s.flush()
        case = open_case(s, client.id)
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="budget.set",
            entity="budget",
            entity_id=row.id,
            case_id=case.id if case is not None else None,
            after={
                "client": client.number,
                "date": given.budget_date,
                "source": given.source,
                "checked": given.checked.value,
                "household": household_dict(given.household) if given.household else None,
                "business": business_dict(given.business) if given.business else None,
            },
        )
        if given.cause is not None and case is not None:
            record_cause(s, case, given.cause, "budget", ctx.actor.name, now)
        return row.id


# ----- reading


def _view(ctx: Context, row: Budget) -> BudgetView:
    household, business = _household(row.household), _business(row.business)
    try:
        result: Capacity | None = compute(ctx, household, business, row.budget_date)
        error: IncassoError | None = None
    except IncassoError as err:
        result, error = None, err
    return BudgetView(
        row.id,
        row.client_id,
        row.budget_date,
        row.source,
        row.checked,
        household,
        business,
        row.note,
        row.created_by,
        result,
        error,
    )


def budgets(ctx: Context, client_id: int) -> list[BudgetView]:
    """The client's budgets, newest first, each with its capacity as of its own date."""
    with ctx.db.reader() as s:
        _client(s, client_id)
        rows = list(
            s.scalars(
                select(Budget)
                .where(Budget.client_id == client_id)
                .order_by(Budget.budget_date.desc(), Budget.id.desc())
            )
        )
    return [_view(ctx, row) for row in rows]


def regular_installments(s: Session, client_id: int, today: date) -> Decimal:
    """The client's regular monthly installments: per active loan, its next installment not yet due."""
    total = ZERO
    loans = s.scalars(select(Loan.id).where(Loan.client_id == client_id, Loan.status == LoanStatus.ACTIVE.value))
    for loan_id in loans:
        line = s.scalars(
            select(Installment)
            .where(Installment.loan_id == loan_id, Installment.due_date > today)
            .order_by(Installment.seq)
            .limit(1)
        ).first()
        if line is not None:
            total += line.principal + line.interest
    return total


def _running_arrangement(s: Session, client_id: int) -> Decimal:
    arrangement = s.scalar(
        select(Arrangement)
        .join(Case, Case.id == Arrangement.case_id)
        .where(Case.client_id == client_id, Arrangement.status == ArrangementStatus.ACTIVE.value)
    )
    if arrangement is None:
        return ZERO
    line = s.scalars(
        select(ArrangementLine)
        .where(ArrangementLine.arrangement_id == arrangement.id, ArrangementLine.seq > 0)
        .order_by(ArrangementLine.seq)
    ).first()
    return monthly(line.amount, arrangement.frequency) if line is not None else ZERO


def _status(ctx: Context, s: Session, client: Client) -> BudgetStatus:
    today = ctx.clock.today()
    household, business = parts(client.kind, client.consumer)
    row = s.scalars(
        select(Budget)
        .where(Budget.client_id == client.id)
        .order_by(Budget.budget_date.desc(), Budget.id.desc())
        .limit(1)
    ).first()
    regular, arrangement = regular_installments(s, client.id, today), _running_arrangement(s, client.id)
    if row is None:
        return BudgetStatus(client.id, household, business, None, None, None, None, False, regular, arrangement)
    view = _view(ctx, row)
    try:
        now: Capacity | None = compute(ctx, view.household, view.business, today)
        error: IncassoError | None = None
    except IncassoError as err:
        now, error = None, err
    age = months_between(row.budget_date, today)
    return BudgetStatus(
        client.id,
        household,
        business,
        view,
        now,
        error,
        age,
        age >= ctx.settings.budget_max_age_months,
        regular,
        arrangement,
    )


def status(ctx: Context, client_id: int) -> BudgetStatus:
    with ctx.db.reader() as s:
        return _status(ctx, s, _client(s, client_id))


def stale_warning(ctx: Context, st: BudgetStatus) -> tuple[str, dict[str, Any]] | None:
    """The flag for a budget older than the setting, as (msgid, params)."""
    if st.budget is None or not st.stale:
        return None
    return (
        N_("The budget of {day} is older than {months} months: ask for current figures"),
        {"day": st.budget.budget_date, "months": ctx.settings.budget_max_age_months},
    )


# ----- using it


def fit(st: BudgetStatus, plan_monthly: Decimal) -> Fit | None:
    """A new arrangement's plan against the capacity; None without a usable budget. The regular installments stay
    due on top of it (a case has no other running arrangement when a new one is made)."""
    if st.capacity is None:
        return None
    return Fit(plan_monthly, st.regular, st.capacity.capacity)


def check_plan(
    ctx: Context, s: Session, case: Case, plan_installment: Decimal, frequency: str, reason: str
) -> dict[str, Any]:
    """The arrangement's capacity rule, inside its transaction; returns what the audit event records.

    Without a budget there is nothing to check (the screen says so). A plan above the capacity needs a reason, or is
    refused when ``arrangement_above_capacity = "refuse"``."""
    client = _client(s, case.client_id)
    st = _status(ctx, s, client)
    result = fit(st, monthly(plan_installment, frequency))
    if result is None:
        return {"capacity": None}
    record: dict[str, Any] = {
        "capacity": st.capacity.capacity if st.capacity else None,
        "needed": result.needed,
        "budget_id": st.budget.id if st.budget else None,
        "budget_stale": st.stale,
    }
    if not result.fits:
        if ctx.settings.arrangement_above_capacity == "refuse":
            raise RuleViolation(
                N_("Above the capacity of {available} a month: the desk allows no plan above it"),
                field="capacity_reason",
                needed=result.needed,
                available=result.capacity,
            )
        if not reason.strip():
            raise BadInput(
                N_("Above the capacity of {available} a month: give the reason"),
                field="capacity_reason",
                needed=result.needed,
                available=result.capacity,
            )
        record["above_capacity_reason"] = reason.strip()
    return record


@dataclass(frozen=True)
class DecisionContext:
    """What a supervisor sees beside a proposal: the budget, its capacity, the cause, arrangements, open promises."""

    budget: BudgetStatus
    cause: str | None
    causes: tuple[CauseRow, ...]
    arrangements: tuple[tuple[str, Decimal, int, str], ...]  # status, arrears covered, installments, frequency
    open_promises: tuple[tuple[date, Decimal], ...]


def decision_context(ctx: Context, case_id: int) -> DecisionContext:
    ctx.require(Role.SUPERVISOR, Role.EMPLOYEE, Role.AUDITOR, Role.ADMIN)
    with ctx.db.reader() as s:
        case = s.get(Case, case_id)
        if case is None:
            raise NotFound(N_("Case {case_id} does not exist"), case_id=case_id)
        st = _status(ctx, s, _client(s, case.client_id))
        arrangements = tuple(
            (a.status, a.arrears_covered, a.installment_count, a.frequency)
            for a in s.scalars(
                select(Arrangement).where(
                    Arrangement.case_id == case.id, Arrangement.status == ArrangementStatus.ACTIVE.value
                )
            )
        )
        promises = tuple(
            (p.due_date, p.amount)
            for p in s.scalars(
                select(Promise)
                .where(Promise.case_id == case.id, Promise.status == PromiseStatus.OPEN)
                .order_by(Promise.due_date)
            )
        )
        return DecisionContext(st, case.cause, tuple(cause_history(s, case.id)), arrangements, promises)


def with_source(given: BudgetInput, source: str) -> BudgetInput:
    """The same figures from another source (the client portal passes ``client``)."""
    return replace(given, source=source, checked=Checked.SELF_DECLARED if source == "client" else given.checked)


def propose(ctx: Context, st: BudgetStatus, arrears: Decimal, down_payment: Decimal) -> PlanProposal:
    """The monthly plan that fits the capacity within the desk limits (``domain.budget.propose_plan``), or the
    refusal saying why there is none (no budget, no room, or more installments needed than the desk allows)."""
    if st.capacity is None:
        raise RuleViolation(N_("Enter the client's budget first (b on the client detail)"))
    rest = arrears - down_payment
    room = st.capacity.capacity - st.regular
    maximum, minimum = ctx.settings.arrangement_max_installments, ctx.settings.arrangement_min_installment
    proposal = propose_plan(rest, room, maximum, minimum)
    if proposal is None:
        if room < minimum:
            raise RuleViolation(
                N_(
                    "No room for a plan: {room} a month is left after the regular installments "
                    "(the desk's minimum installment is {minimum})"
                ),
                room=room,
                minimum=minimum,
            )
        raise RuleViolation(
            N_(
                "No plan fits: {maximum} installments would be {needed} a month, {room} is left after "
                "the regular installments"
            ),
            maximum=maximum,
            needed=(rest / maximum).quantize(Decimal("0.01"), rounding=ROUND_CEILING),
            room=room,
        )
    return proposal
