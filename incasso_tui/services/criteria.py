"""The criteria of a client group (issue 8, "Selections"), validated, and what they mean in SQL.

A :class:`Criteria` is what a saved selection holds (``selections.criteria``, its JSON). Every criterion is optional
and they are combined with AND; within one criterion of several values (stages, ageing buckets, products,
languages) any value matches. Empty criteria are the whole desk.

``criteria_where`` turns them into conditions on ``cases`` for the worklist query (``services.worklist``), so a
selection is paged, sorted and exported by the worklist's own code. The conditions are written so that the desk's
partial indexes still drive the order: the case's own columns are plain comparisons, and everything about the
client, its loans, contacts, arrangements and deferrals is a correlated ``EXISTS`` on an indexed key
(``clients.id``, ``loans.client_id``, ``contacts.case_id``, ``arrangements.case_id``): the index walk in the
worklist's order checks a case at a time and stops when the page is full.

Definitions (docs/decisions.md, "Selections"):
- ageing bucket: as the worklist's (days past due of the oldest unpaid due date, as of today);
- arrears from/to: ``cases.pos_arrears`` (costs, interest and principal past due), both inclusive;
- product: the client has a loan of that product;
- consumer or business: ``clients.consumer``;
- arrangement ending within N days: the case's active arrangement has its last line due from today up to and
  including today + N;
- deferral ending within N days: a deferral on one of the client's loans ends (its last deferred month) from today
  up to and including today + N;
- no contact for N days: no contact logged on the case since the start of the day N days ago (never contacted
  counts as no contact);
- employee / unassigned: the case's assignee.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from sqlalchemy import ColumnElement, and_, exists, func, or_, select, text
from sqlalchemy.orm import Session

from incasso_tui.domain.arrears import BUCKETS, bucket_bounds
from incasso_tui.domain.enums import ArrangementStatus, CaseStatus, Stage
from incasso_tui.domain.money import ensure_money
from incasso_tui.errors import N_, BadInput
from incasso_tui.store.models import Arrangement, ArrangementLine, Case, Client, Contact, Deferral, Loan, User

__all__ = ["MAX_DAYS", "Criteria", "check_in_book", "criteria_where", "describe", "products"]

MAX_DAYS = 3660  # the largest number of days a criterion takes (ten years)
Debtor = Literal["consumer", "business"]
LANGUAGES = ("nl", "en")


class Criteria(BaseModel):
    """What a client group is made of. Built from typed values (the CLI and the TUI parse amounts and numbers
    first); a value that breaks a rule raises :class:`BadInput` naming the criterion in ``field``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stages: tuple[str, ...] = ()
    buckets: tuple[str, ...] = ()
    min_arrears: Decimal | None = None
    max_arrears: Decimal | None = None
    products: tuple[str, ...] = ()
    debtor: Debtor | None = None
    languages: tuple[str, ...] = ()
    arrangement_ends_within: int | None = None  # days
    deferral_ends_within: int | None = None  # days
    no_contact_days: int | None = None
    assignee: str | None = None  # a user name
    unassigned: bool = False

    @field_validator("stages", "buckets", "products", "languages", mode="after")
    @classmethod
    def _unique_sorted(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        """Order does not matter: the same group is stored the same way."""
        return tuple(sorted({v.strip() for v in values if v.strip()}))

    @model_validator(mode="after")
    def _rules(self) -> Criteria:
        # BadInput is not a ValueError: pydantic lets it through unchanged, msgid, field and all
        known_stages = {s.value for s in Stage}
        for stage in self.stages:
            if stage not in known_stages:
                raise BadInput(N_("Unknown stage: {stage}"), field="stages", stage=stage)
        for bucket in self.buckets:
            if bucket not in BUCKETS:
                raise BadInput(N_("Unknown ageing bucket: {bucket}"), field="buckets", bucket=bucket)
        for language in self.languages:
            if language not in LANGUAGES:
                raise BadInput(N_("Unknown language {language}: use nl or en"), field="languages", language=language)
        for name in ("min_arrears", "max_arrears"):
            amount = getattr(self, name)
            if amount is None:
                continue
            try:
                ensure_money(amount)
            except ValueError:
                raise BadInput(N_("An amount has at most 2 decimals: {text}"), field=name, text=str(amount)) from None
            if amount < 0:
                raise BadInput(N_("The amount may not be negative: {text}"), field=name, text=str(amount))
        if self.min_arrears is not None and self.max_arrears is not None and self.min_arrears > self.max_arrears:
            raise BadInput(
                N_("The arrears from {low} is above the arrears to {high}"),
                field="max_arrears",
                low=self.min_arrears,
                high=self.max_arrears,
            )
        for name, lowest in (("arrangement_ends_within", 0), ("deferral_ends_within", 0), ("no_contact_days", 1)):
            days = getattr(self, name)
            if days is not None and not lowest <= days <= MAX_DAYS:
                raise BadInput(N_("Give a number of days from {low} to {high}"), field=name, low=lowest, high=MAX_DAYS)
        if self.assignee is not None and not self.assignee.strip():
            raise BadInput(N_("Please fill this in"), field="assignee")
        if self.assignee is not None and self.unassigned:
            raise BadInput(N_("Choose an employee or the unassigned cases, not both"), field="assignee")
        return self

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Criteria:
        """Criteria from a dict (stored JSON, CLI options): a wrong type or an unknown criterion is BadInput."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(str(p) for p in first["loc"]) or "criteria"
            raise BadInput(
                N_("The criterion {name} is not valid: {error}"), field=name, name=name, error=first["msg"]
            ) from None

    @classmethod
    def from_json(cls, raw: str) -> Criteria:
        import json

        try:
            data = json.loads(raw)
        except ValueError:
            raise BadInput(N_("The criteria are not valid JSON")) from None
        if not isinstance(data, dict):
            raise BadInput(N_("The criteria are not valid JSON"))
        return cls.parse(data)

    def to_json(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @property
    def empty(self) -> bool:
        return self == Criteria()


def check_in_book(s: Session, criteria: Criteria) -> None:
    """The products and the employee a criterion names must exist (a typing error would select nobody)."""
    for product in criteria.products:
        if s.scalar(select(Loan.id).where(Loan.product == product).limit(1)) is None:
            raise BadInput(
                N_("There is no product {product}; the book has: {products}"),
                field="products",
                product=product,
                products=", ".join(products(s)),
            )
    if criteria.assignee is not None and s.scalar(select(User.id).where(User.name == criteria.assignee)) is None:
        raise BadInput(N_("Unknown user {name}"), field="assignee", name=criteria.assignee)


def products(s: Session) -> list[str]:
    """The products in the book, in name order: a walk over ``ix_loans_product`` that visits each product once
    (a recursive "loose index scan") instead of reading every loan."""
    query = text(
        "WITH RECURSIVE p(product) AS ("
        " SELECT min(product) FROM loans"
        " UNION ALL"
        " SELECT (SELECT min(l.product) FROM loans l WHERE l.product > p.product) FROM p WHERE p.product IS NOT NULL)"
        " SELECT product FROM p WHERE product IS NOT NULL"
    )
    return [str(row[0]) for row in s.execute(query)]


def _bucket_ranges(buckets: Iterable[str], today: date) -> list[ColumnElement[bool]]:
    """The chosen buckets as ranges of ``pos_oldest_due``, neighbouring buckets merged into one range."""
    chosen = sorted(BUCKETS.index(b) for b in buckets)
    runs: list[list[int]] = []
    for index in chosen:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    ranges: list[ColumnElement[bool]] = []
    for run in runs:
        first, last = BUCKETS[run[0]], BUCKETS[run[-1]]
        parts: list[ColumnElement[bool]] = []
        if first != BUCKETS[0]:  # days past due >= low  <=>  oldest <= today - low
            low, _high = bucket_bounds(first)
            parts.append(Case.pos_oldest_due <= today - timedelta(days=low))
        _low, high = bucket_bounds(last)
        if high is not None:  # days past due <= high  <=>  oldest >= today - high
            parts.append(Case.pos_oldest_due >= today - timedelta(days=high))
        assert parts, "every bucket chosen is no condition: the caller leaves it out"
        ranges.append(and_(*parts))
    return ranges


def criteria_where(criteria: Criteria, today: date) -> list[ColumnElement[bool]]:
    """Conditions on ``cases`` for the criteria (the caller adds the desk's own, ``DESK_WHERE``)."""
    where: list[ColumnElement[bool]] = []
    if criteria.stages:
        where.append(Case.stage.in_(criteria.stages))
    if criteria.buckets and len(criteria.buckets) < len(BUCKETS):
        ranges = _bucket_ranges(criteria.buckets, today)
        where.append(ranges[0] if len(ranges) == 1 else or_(*ranges))
    if criteria.min_arrears is not None:
        where.append(Case.pos_arrears >= criteria.min_arrears)
    if criteria.max_arrears is not None:
        where.append(Case.pos_arrears <= criteria.max_arrears)
    if criteria.unassigned:
        where.append(Case.assignee_id.is_(None))
    elif criteria.assignee is not None:
        where.append(Case.assignee_id == select(User.id).where(User.name == criteria.assignee).scalar_subquery())
    client: list[ColumnElement[bool]] = []
    if criteria.debtor is not None:
        client.append(Client.consumer.is_(criteria.debtor == "consumer"))
    if criteria.languages:
        client.append(Client.language.in_(criteria.languages))
    if client:
        where.append(exists().where(Client.id == Case.client_id, *client))
    if criteria.products:
        where.append(exists().where(Loan.client_id == Case.client_id, Loan.product.in_(criteria.products)))
    if criteria.arrangement_ends_within is not None:
        last_line = (
            select(func.max(ArrangementLine.due_date))
            .join(Arrangement, Arrangement.id == ArrangementLine.arrangement_id)
            .where(Arrangement.case_id == Case.id, Arrangement.status == ArrangementStatus.ACTIVE)
            .scalar_subquery()
        )
        until = today + timedelta(days=criteria.arrangement_ends_within)
        where.append(and_(Case.status == CaseStatus.ARRANGEMENT, last_line >= today, last_line <= until))
    if criteria.deferral_ends_within is not None:
        until = today + timedelta(days=criteria.deferral_ends_within)
        where.append(
            exists().where(
                Loan.client_id == Case.client_id,
                Deferral.loan_id == Loan.id,
                Deferral.ends_on >= today,
                Deferral.ends_on <= until,
            )
        )
    if criteria.no_contact_days is not None:
        since = datetime.combine(today - timedelta(days=criteria.no_contact_days), time.min)
        where.append(~exists().where(Contact.case_id == Case.id, Contact.at >= since))
    return where


def describe(
    criteria: Criteria, label: Callable[[str, str], str] = lambda _kind, value: value
) -> list[tuple[str, dict[str, object]]]:
    """The criteria as (msgid, parameters) lines for people; ``label(kind, value)`` names a stage, an ageing bucket
    or a debtor kind (``kind``: stage | bucket | debtor) in the reader's language."""
    lines: list[tuple[str, dict[str, object]]] = []
    if criteria.empty:
        return [(N_("every case on the desk"), {})]
    if criteria.stages:
        lines.append((N_("stage: {stages}"), {"stages": ", ".join(label("stage", s) for s in criteria.stages)}))
    if criteria.buckets:
        ordered = sorted(criteria.buckets, key=BUCKETS.index)
        lines.append((N_("ageing: {buckets}"), {"buckets": ", ".join(label("bucket", b) for b in ordered)}))
    if criteria.min_arrears is not None and criteria.max_arrears is not None:
        lines.append((N_("arrears from {low} to {high}"), {"low": criteria.min_arrears, "high": criteria.max_arrears}))
    elif criteria.min_arrears is not None:
        lines.append((N_("arrears at least {low}"), {"low": criteria.min_arrears}))
    elif criteria.max_arrears is not None:
        lines.append((N_("arrears at most {high}"), {"high": criteria.max_arrears}))
    if criteria.products:
        lines.append((N_("product: {products}"), {"products": ", ".join(criteria.products)}))
    if criteria.debtor is not None:
        lines.append((N_("debtor: {debtor}"), {"debtor": label("debtor", criteria.debtor)}))
    if criteria.languages:
        lines.append((N_("language: {languages}"), {"languages": ", ".join(criteria.languages)}))
    if criteria.arrangement_ends_within is not None:
        lines.append((N_("arrangement ends within {days} days"), {"days": criteria.arrangement_ends_within}))
    if criteria.deferral_ends_within is not None:
        lines.append((N_("deferral ends within {days} days"), {"days": criteria.deferral_ends_within}))
    if criteria.no_contact_days is not None:
        lines.append((N_("no contact for {days} days"), {"days": criteria.no_contact_days}))
    if criteria.unassigned:
        lines.append((N_("not assigned to anyone"), {}))
    elif criteria.assignee is not None:
        lines.append((N_("assigned to {name}"), {"name": criteria.assignee}))
    return lines
