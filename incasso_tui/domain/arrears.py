"""Arrears (achterstand): allocating payments and measuring what is past due.

Payment allocation follows art. 6:44 lid 1 BW: a payment goes first to the costs, then to the
interest that has fallen due, and last to the principal. "Costs" are the collection costs
(incassokosten); "interest" is the contractual interest AND the charged statutory interest (issue 12:
statutory interest is interest, never costs). Within each component the oldest due date is paid first
(domain-rules.md, "Money").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, get_args

from incasso_tui.domain.money import ZERO, ensure_money
from incasso_tui.errors import N_, BadInput

__all__ = [
    "BUCKETS",
    "Allocation",
    "AllocationPart",
    "Arrears",
    "Component",
    "LineState",
    "OpenItem",
    "ageing_bucket",
    "allocate",
    "arrears_as_of",
    "bucket_bounds",
    "charge_component",
    "combined",
]

Component = Literal["costs", "interest", "principal"]
_COMPONENT_ORDER: dict[str, int] = {name: rank for rank, name in enumerate(get_args(Component))}


def charge_component(kind: str) -> Component:
    """The art. 6:44 BW component of a charge: statutory interest is interest; collection costs are costs."""
    return "interest" if kind == "statutory_interest" else "costs"


@dataclass(frozen=True)
class OpenItem:
    """An amount still open on one component of a loan (``amount`` > 0, whole cents)."""

    key: str
    component: Component
    due_date: date
    amount: Decimal

    def __post_init__(self) -> None:
        if self.component not in _COMPONENT_ORDER:
            raise ValueError(f"unknown component {self.component!r}")
        if ensure_money(self.amount) <= 0:
            raise ValueError(f"an open item must be more than zero, not {self.amount}")


@dataclass(frozen=True)
class AllocationPart:
    """The part of a payment that goes to one open item."""

    key: str
    component: str
    amount: Decimal


@dataclass(frozen=True)
class Allocation:
    """How a payment is divided; ``credit`` is what is left over and stays as credit on the loan."""

    parts: tuple[AllocationPart, ...]
    credit: Decimal


def allocate(amount: Decimal, items: Iterable[OpenItem]) -> Allocation:
    """Divide a payment over the open items by art. 6:44 lid 1 BW.

    Order: all costs, then all interest, then all principal; within a component the oldest due date
    first, ties broken by key. Each item receives at most its open amount, so only the last item
    touched can be paid in part. ``sum(parts) + credit == amount`` exactly.

    Raises :class:`BadInput` unless the amount is more than zero.
    """
    remaining = ensure_money(amount)
    if remaining <= 0:
        raise BadInput(N_("A payment must be more than zero"), field="amount")
    ordered = sorted(items, key=lambda i: (_COMPONENT_ORDER[i.component], i.due_date, i.key))
    seen = {(i.key, i.component) for i in ordered}
    if len(seen) != len(ordered):
        raise ValueError("open items must have unique (key, component) pairs")
    parts: list[AllocationPart] = []
    for item in ordered:
        if remaining == 0:
            break
        paid = min(item.amount, remaining)
        parts.append(AllocationPart(item.key, item.component, paid))
        remaining -= paid
    return Allocation(tuple(parts), remaining)


@dataclass(frozen=True)
class LineState:
    """One schedule line with what has been paid on it so far."""

    seq: int
    due_date: date
    principal_due: Decimal
    interest_due: Decimal
    principal_paid: Decimal
    interest_paid: Decimal

    def __post_init__(self) -> None:
        for due, paid in ((self.principal_due, self.principal_paid), (self.interest_due, self.interest_paid)):
            if not 0 <= ensure_money(paid) <= ensure_money(due):
                raise ValueError(f"line {self.seq}: paid {paid} must be between 0 and the amount due {due}")


@dataclass(frozen=True)
class Arrears:
    """What is past due on a loan as of a date."""

    costs: Decimal
    interest: Decimal
    principal: Decimal
    oldest_due_date: date | None
    days_past_due: int
    # charged statutory interest not yet paid (apart from the contractual ``interest``: letters show it on a line
    # of its own; art. 6:44 BW allocates it as interest)
    statutory_interest: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Costs plus interest (contractual and statutory) plus principal in arrears."""
        return self.costs + self.interest + self.statutory_interest + self.principal


def combined(parts: Iterable[Arrears]) -> Arrears:
    """The arrears of several loans together: the amounts summed, the oldest due date and the most days past due
    (none and 0 when no part has any)."""
    parts = list(parts)
    return Arrears(
        costs=sum((p.costs for p in parts), ZERO),
        interest=sum((p.interest for p in parts), ZERO),
        principal=sum((p.principal for p in parts), ZERO),
        oldest_due_date=min((p.oldest_due_date for p in parts if p.oldest_due_date is not None), default=None),
        days_past_due=max((p.days_past_due for p in parts), default=0),
        statutory_interest=sum((p.statutory_interest for p in parts), ZERO),
    )


def arrears_as_of(
    lines: Iterable[LineState], open_costs: Decimal, as_of: date, open_statutory_interest: Decimal = ZERO
) -> Arrears:
    """Return the arrears on ``as_of``.

    Convention: an installment is in arrears from the day AFTER its due date; one due on ``as_of``
    itself can still be paid that day and is not counted. ``open_costs`` (collection costs not yet
    paid) and ``open_statutory_interest`` (charged statutory interest not yet paid) always count in
    full; they carry no due date of their own, so they do not set ``oldest_due_date``. ``days_past_due`` counts from the due date of
    the oldest past-due line with anything unpaid (0 when there is none).
    """
    costs = ensure_money(open_costs)
    statutory = ensure_money(open_statutory_interest)
    if costs < 0 or statutory < 0:
        raise ValueError(f"open costs cannot be negative: {open_costs}, {open_statutory_interest}")
    interest = principal = ZERO
    oldest: date | None = None
    for line in lines:
        if line.due_date >= as_of:
            continue
        open_interest = line.interest_due - line.interest_paid
        open_principal = line.principal_due - line.principal_paid
        interest += open_interest
        principal += open_principal
        if (open_interest or open_principal) and (oldest is None or line.due_date < oldest):
            oldest = line.due_date
    days = (as_of - oldest).days if oldest is not None else 0
    return Arrears(costs, interest, principal, oldest, days, statutory)


BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "90+")
_BOUNDS: dict[str, tuple[int, int | None]] = {
    "current": (0, 0),
    "1-30": (1, 30),
    "31-60": (31, 60),
    "61-90": (61, 90),
    "90+": (91, None),
}


def ageing_bucket(days_past_due: int) -> str:
    """Return the ageing bucket (one of :data:`BUCKETS`) for a number of days past due."""
    if days_past_due < 0:
        raise ValueError(f"days past due cannot be negative: {days_past_due}")
    return next(b for b in BUCKETS if _in_bucket(days_past_due, b))


def _in_bucket(days: int, bucket: str) -> bool:
    low, high = _BOUNDS[bucket]
    return low <= days and (high is None or days <= high)


def bucket_bounds(bucket: str) -> tuple[int, int | None]:
    """Return (min days, max days or None) of a bucket, both inclusive, for filtering on dates.

    A loan is in the bucket when ``as_of - max <= oldest_due_date <= as_of - min``.
    """
    try:
        return _BOUNDS[bucket]
    except KeyError:
        raise BadInput(N_("Unknown ageing bucket: {bucket}"), field="bucket", bucket=bucket) from None
