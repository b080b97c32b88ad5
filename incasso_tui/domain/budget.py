"""A client's budget and repayment capacity (draagkracht): income − the protected part − fixed obligations.

Two ways to compute the protected part, chosen by the setting ``budget_norm``:

``beslagvrije_voet`` (the default) follows the statutory protected income, art. 475da-475db Rv as simplified by the
Wet vereenvoudiging beslagvrije voet (in force 1-1-2021). As implemented here (the simplifications are listed in
docs/decisions.md, "Budget and capacity"):

1. income = the net income of every source (salary, benefits, partner, business drawings); the housing and the
   health-care allowance are not income (they lower the costs they are for), child benefits are not counted;
2. the norm N = the social-assistance norm of the household type for the half year (art. 21 Participatiewet,
   incl. holiday allowance; ``data/budget_norms.toml``);
3. base = 95 % of N (art. 475da lid 1 Rv); when the income is below N, 95 % of the income instead;
4. housing correction = min(housing costs − housing allowance, housing_max) − housing_base, at least 0
   (art. 475db Rv, the correction for housing costs above what the norm covers, up to a limit);
5. health correction = the zorgtoeslag of the household at the norm when the client receives no health-care
   allowance, else 0 (art. 475db Rv, the correction for health costs);
6. protected = base + corrections, at most the income;

``desk`` is the desk's own minimum (NIBUD-like): living costs per household type + an amount per child, plus the
housing costs and the health insurance in full, each net of its allowance; at most the income.

Then: available = income − protected; obligations = fixed costs + payments on other debts; household capacity =
available − obligations (negative: a shortfall, nothing is available). A business debtor's figures give the
business remainder = revenue − costs − tax reservations − private drawings; the capacity for this lender is the
household capacity (natural persons and sole traders) plus the business remainder (business debtors), at least 0.

Every step is a :class:`Step` with its amount, in order, so the screen, the CLI and the tests show the same
computation. Every amount is rounded half-up to the cent at the end of its step.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from incasso_tui.domain.money import CENT, ZERO, ensure_money
from incasso_tui.domain.schedule import add_months
from incasso_tui.errors import N_, BadInput, ConfigError

DEFAULT_NORMS_PATH = Path(__file__).resolve().parents[2] / "data" / "budget_norms.toml"
PROTECTED_SHARE = Decimal("0.95")  # art. 475da lid 1 Rv: 95 % of the applicable norm
MAX_CHILDREN = 15
_MAX_FILE_BYTES = 200_000


class Household(StrEnum):
    SINGLE = "single"
    SINGLE_PARENT = "single_parent"
    COUPLE = "couple"
    COUPLE_CHILDREN = "couple_children"


class Checked(StrEnum):
    """What the employee saw of the figures."""

    BANK_STATEMENTS = "bank_statements"
    PAYSLIP = "payslip"
    SELF_DECLARED = "self_declared"


class NormKind(StrEnum):
    BESLAGVRIJE_VOET = "beslagvrije_voet"
    DESK = "desk"


WITH_CHILDREN = frozenset({Household.SINGLE_PARENT, Household.COUPLE_CHILDREN})
WITH_PARTNER = frozenset({Household.COUPLE, Household.COUPLE_CHILDREN})


@dataclass(frozen=True)
class Debt:
    creditor: str
    monthly: Decimal


@dataclass(frozen=True)
class HouseholdBudget:
    """A household's monthly figures (natural persons and sole traders); amounts in euros a month."""

    household: Household
    children: int = 0
    salary: Decimal = ZERO
    benefits: Decimal = ZERO
    partner: Decimal = ZERO
    drawings: Decimal = ZERO  # private drawings from the client's own business
    housing: Decimal = ZERO  # rent or mortgage costs
    housing_allowance: Decimal = ZERO  # huurtoeslag
    health: Decimal = ZERO  # health-insurance premiums
    health_allowance: Decimal = ZERO  # zorgtoeslag
    fixed: Decimal = ZERO  # fixed obligations the norm does not cover (alimony, childcare, ...)
    debts: tuple[Debt, ...] = ()

    @property
    def income(self) -> Decimal:
        return self.salary + self.benefits + self.partner + self.drawings

    @property
    def debt_payments(self) -> Decimal:
        return sum((d.monthly for d in self.debts), ZERO)


@dataclass(frozen=True)
class BusinessBudget:
    """A business debtor's monthly figures, as entered; ``trend`` is the revenue of the last months, oldest first."""

    revenue: Decimal = ZERO
    costs: Decimal = ZERO
    drawings: Decimal = ZERO
    tax_reservation: Decimal = ZERO
    trend: tuple[Decimal, ...] = ()

    @property
    def remainder(self) -> Decimal:
        return self.revenue - self.costs - self.tax_reservation - self.drawings


# ----- the norms (data)


@dataclass(frozen=True)
class BijstandRow:
    start: date
    norm: dict[str, Decimal]
    zorgtoeslag: dict[str, Decimal]
    housing_base: Decimal
    housing_max: Decimal
    verified: bool
    source: str


@dataclass(frozen=True)
class DeskRow:
    start: date
    living: dict[str, Decimal]
    per_child: Decimal
    verified: bool
    source: str


@dataclass(frozen=True)
class Norms:
    path: Path
    bijstand: tuple[BijstandRow, ...]
    desk: tuple[DeskRow, ...]


def half_year(day: date) -> date:
    """The first day of the half year ``day`` lies in (1 January or 1 July)."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def _error(path: Path, table: str, row: int, what: str) -> ConfigError:
    return ConfigError(
        N_("Norm table {file}, [[{table}]] row {row}: {what}"), file=str(path), table=table, row=row, what=what
    )


def _amount(value: object, path: Path, table: str, row: int, name: str) -> Decimal:
    if (
        isinstance(value, bool)
        or not isinstance(value, (Decimal, int))
        or not Decimal(value).is_finite()
        or not 0 <= value < 100_000
        or Decimal(value) != Decimal(value).quantize(CENT)
    ):
        raise _error(path, table, row, f"{name} must be an amount in euros and cents from 0 to 100000")
    return Decimal(value).quantize(CENT)


def _per_household(value: object, path: Path, table: str, row: int, name: str) -> dict[str, Decimal]:
    if not isinstance(value, dict) or set(value) != {h.value for h in Household}:
        raise _error(
            path, table, row, f"{name} needs exactly the household types {', '.join(h.value for h in Household)}"
        )
    return {key: _amount(v, path, table, row, f"{name}.{key}") for key, v in value.items()}


def _common_fields(raw: dict[str, Any], path: Path, table: str, row: int) -> tuple[date, bool, str]:
    start = raw["start"]
    if not isinstance(start, date) or isinstance(start, datetime):
        raise _error(path, table, row, "start must be a date (YYYY-MM-DD)")
    if not isinstance(raw["verified"], bool):
        raise _error(path, table, row, "verified must be true or false")
    source = raw["source"]
    if not isinstance(source, str) or not source.strip() or any(not c.isprintable() for c in source):
        raise _error(path, table, row, "the source must be non-empty printable text")
    return start, raw["verified"], source.strip()


_BIJSTAND_FIELDS = frozenset({"start", "norm", "zorgtoeslag", "housing_base", "housing_max", "verified", "source"})
_DESK_FIELDS = frozenset({"start", "living", "per_child", "verified", "source"})


def load_norms(path: Path | None = None) -> Norms:
    """Read and check the norm table; any problem is a ConfigError naming the file, the table and the row."""
    path = DEFAULT_NORMS_PATH if path is None else path
    try:
        with path.open("rb") as fh:
            content = fh.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            N_("Cannot read the norm table {file}: {reason}"), file=str(path), reason=exc.strerror
        ) from exc
    if len(content) > _MAX_FILE_BYTES:
        raise ConfigError(N_("The norm table {file} is too large"), file=str(path))
    try:
        document = tomllib.loads(content.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            N_("The norm table {file} is not valid TOML: {reason}"), file=str(path), reason=str(exc)
        ) from exc
    if not set(document) <= {"bijstand", "desk"}:
        raise ConfigError(N_("The norm table {file} holds only [[bijstand]] and [[desk]] rows"), file=str(path))
    bijstand: list[BijstandRow] = []
    for number, raw in enumerate(document.get("bijstand", []), start=1):
        if not isinstance(raw, dict) or set(raw) != _BIJSTAND_FIELDS:
            raise _error(path, "bijstand", number, f"the fields must be exactly {', '.join(sorted(_BIJSTAND_FIELDS))}")
        start, verified, source = _common_fields(raw, path, "bijstand", number)
        if start != half_year(start):
            raise _error(path, "bijstand", number, "start must be 1 January or 1 July (a half year)")
        housing_base = _amount(raw["housing_base"], path, "bijstand", number, "housing_base")
        housing_max = _amount(raw["housing_max"], path, "bijstand", number, "housing_max")
        if housing_max < housing_base:
            raise _error(path, "bijstand", number, "housing_max must not be below housing_base")
        bijstand.append(
            BijstandRow(
                start,
                _per_household(raw["norm"], path, "bijstand", number, "norm"),
                _per_household(raw["zorgtoeslag"], path, "bijstand", number, "zorgtoeslag"),
                housing_base,
                housing_max,
                verified,
                source,
            )
        )
    desk: list[DeskRow] = []
    for number, raw in enumerate(document.get("desk", []), start=1):
        if not isinstance(raw, dict) or set(raw) != _DESK_FIELDS:
            raise _error(path, "desk", number, f"the fields must be exactly {', '.join(sorted(_DESK_FIELDS))}")
        start, verified, source = _common_fields(raw, path, "desk", number)
        desk.append(
            DeskRow(
                start,
                _per_household(raw["living"], path, "desk", number, "living"),
                _amount(raw["per_child"], path, "desk", number, "per_child"),
                verified,
                source,
            )
        )
    for table, rows in (("bijstand", bijstand), ("desk", desk)):
        for number in range(1, len(rows)):
            if rows[number].start <= rows[number - 1].start:
                raise _error(path, table, number + 1, "the start dates must be unique and in ascending order")
    return Norms(path, tuple(bijstand), tuple(desk))


def bijstand_row(norms: Norms, day: date) -> BijstandRow:
    """The statutory figures of the half year ``day`` lies in; a missing half year is reported, never guessed."""
    period = half_year(day)
    for row in norms.bijstand:
        if row.start == period:
            return row
    raise ConfigError(
        N_("No norm for {period}: add it to {file}"), period=period.strftime("%Y-%m"), file=str(norms.path)
    )


def desk_row(norms: Norms, day: date) -> DeskRow:
    """The desk's minimum in force on ``day`` (a row applies from its start until the next one)."""
    rows = [row for row in norms.desk if row.start <= day]
    if not rows:
        raise ConfigError(
            N_("No desk norm for {period}: add it to {file}"), period=day.strftime("%Y-%m"), file=str(norms.path)
        )
    return rows[-1]


# ----- validation


@dataclass(frozen=True)
class Limits:
    """The largest monthly amount a figure may have (settings): above it, it is a typing error."""

    household_max: Decimal
    business_max: Decimal


HOUSEHOLD_AMOUNTS = (
    "salary",
    "benefits",
    "partner",
    "drawings",
    "housing",
    "housing_allowance",
    "health",
    "health_allowance",
    "fixed",
)
BUSINESS_AMOUNTS = ("revenue", "costs", "drawings", "tax_reservation")


def _check_amount(value: Decimal, name: str, maximum: Decimal) -> None:
    amount = ensure_money(value)
    if amount < ZERO:
        raise BadInput(N_("The amount may not be negative: {text}"), field=name, text=amount)
    if amount > maximum:
        raise BadInput(
            N_("{amount} a month is not a plausible figure (at most {maximum}): check the amount"),
            field=name,
            amount=amount,
            maximum=maximum,
        )


def validate_household(h: HouseholdBudget, limits: Limits) -> None:
    """Refusals name their field: negative or absurd amounts, a household type that does not match the persons."""
    if not isinstance(h.household, Household):
        raise BadInput(N_("Unknown household type: {value}"), field="household", value=h.household)
    for name in HOUSEHOLD_AMOUNTS:
        _check_amount(getattr(h, name), name, limits.household_max)
    if not 0 <= h.children <= MAX_CHILDREN:
        raise BadInput(N_("The number of children is 0 to {maximum}"), field="children", maximum=MAX_CHILDREN)
    if h.household in WITH_CHILDREN and h.children == 0:
        raise BadInput(N_("A household with children needs the number of children (at least 1)"), field="children")
    if h.household not in WITH_CHILDREN and h.children:
        raise BadInput(
            N_("This household type has no children: choose single parent or couple with children"), field="household"
        )
    if h.household not in WITH_PARTNER and h.partner:
        raise BadInput(N_("A household without a partner has no partner's income"), field="partner")
    if h.housing_allowance > h.housing:
        raise BadInput(N_("The housing allowance is more than the housing costs"), field="housing_allowance")
    if h.health_allowance > h.health and h.health:
        raise BadInput(N_("The health-care allowance is more than the premium"), field="health_allowance")
    for debt in h.debts:
        _check_amount(debt.monthly, "debts", limits.household_max)
        if not debt.creditor.strip():
            raise BadInput(N_("Name the creditor of every other debt"), field="debts")


BUSINESS_FIELDS = {
    "revenue": "revenue",
    "costs": "costs",
    "drawings": "business_drawings",
    "tax_reservation": "tax_reservation",
}  # attribute -> the field a refusal names


def validate_business(b: BusinessBudget, limits: Limits) -> None:
    for name in BUSINESS_AMOUNTS:
        _check_amount(getattr(b, name), BUSINESS_FIELDS[name], limits.business_max)
    if len(b.trend) > 12:
        raise BadInput(N_("At most 12 months of revenue in the trend"), field="trend")
    for value in b.trend:
        _check_amount(value, "trend", limits.business_max)


# ----- the computation


@dataclass(frozen=True)
class Step:
    """One line of the computation: ``key`` is stable (JSON, tests), ``label`` an English msgid."""

    key: str
    label: str
    amount: Decimal


@dataclass(frozen=True)
class Capacity:
    """The capacity for this lender, every step, and what the user should be warned of."""

    capacity: Decimal
    steps: tuple[Step, ...]
    norm_kind: NormKind
    norm_start: date | None  # the half year (bijstand) or the desk row used
    norm_source: str
    norm_verified: bool
    warnings: tuple[tuple[str, dict[str, Any]], ...]  # (msgid, params)

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)

    def to_json(self) -> dict[str, Any]:
        return {
            "capacity": str(self.capacity),
            "norm": self.norm_kind.value,
            "norm_period": self.norm_start.isoformat() if self.norm_start else None,
            "norm_verified": self.norm_verified,
            "norm_source": self.norm_source,
            "steps": [{"key": s.key, "label": s.label, "amount": str(s.amount)} for s in self.steps],
            "warnings": [msgid.format(**params) for msgid, params in self.warnings],
        }


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _household_steps(h: HouseholdBudget, norms: Norms, kind: NormKind, day: date) -> tuple[list[Step], date, str, bool]:
    income = h.income
    steps = [Step("income", N_("Net income"), income)]
    net_housing = h.housing - h.housing_allowance
    if kind is NormKind.BESLAGVRIJE_VOET:
        row = bijstand_row(norms, day)
        norm = row.norm[h.household.value]
        steps.append(Step("norm", N_("Assistance norm"), norm))
        if income < norm:
            base = _round(income * PROTECTED_SHARE)
            steps.append(Step("base", N_("95 % of the income"), base))
        else:
            base = _round(norm * PROTECTED_SHARE)
            steps.append(Step("base", N_("95 % of the norm"), base))
        housing = max(min(max(net_housing, ZERO), row.housing_max) - row.housing_base, ZERO)
        steps.append(Step("housing_correction", N_("Housing correction"), housing))
        health = row.zorgtoeslag[h.household.value] if h.health_allowance == ZERO else ZERO
        steps.append(Step("health_correction", N_("Health correction"), health))
        protected = base + housing + health
        start, source, verified = row.start, row.source, row.verified
    else:
        desk = desk_row(norms, day)
        living = desk.living[h.household.value] + desk.per_child * h.children
        steps.append(Step("living", N_("Living costs (desk)"), living))
        steps.append(Step("housing_net", N_("Housing (net)"), net_housing))
        health_net = max(h.health - h.health_allowance, ZERO)
        steps.append(Step("health_net", N_("Health insurance (net)"), health_net))
        protected = living + net_housing + health_net
        start, source, verified = desk.start, desk.source, desk.verified
    protected = min(protected, income)
    steps.append(Step("protected", N_("Protected part"), protected))
    steps.append(Step("available", N_("Available"), income - protected))
    steps.append(Step("fixed", N_("Fixed obligations"), h.fixed))
    steps.append(Step("debts", N_("Other debts"), h.debt_payments))
    steps.append(Step("household_capacity", N_("Household capacity"), income - protected - h.fixed - h.debt_payments))
    return steps, start, source, verified


def capacity(
    *,
    household: HouseholdBudget | None,
    business: BusinessBudget | None,
    norms: Norms,
    kind: NormKind,
    day: date,
    limits: Limits,
) -> Capacity:
    """The capacity for this lender on ``day`` (the norms of that day), with every step."""
    if household is None and business is None:
        raise BadInput(N_("A budget needs the household's or the business's figures"))
    steps: list[Step] = []
    warnings: list[tuple[str, dict[str, Any]]] = []
    start: date | None = None
    source, verified = "", True
    total = ZERO
    if household is not None:
        validate_household(household, limits)
        h_steps, start, source, verified = _household_steps(household, norms, kind, day)
        steps += h_steps
        total += h_steps[-1].amount
        costs = (
            household.housing
            + household.health
            + household.fixed
            + household.debt_payments
            - household.housing_allowance
            - household.health_allowance
        )
        if costs > household.income:
            warnings.append(
                (
                    N_("The costs ({costs}) are above the income ({income})"),
                    {"costs": costs, "income": household.income},
                )
            )
        if not verified:
            warnings.append(
                (N_("Unverified norm used ({start}): check {file}"), {"start": start, "file": norms.path.name})
            )
    if business is not None:
        validate_business(business, limits)
        steps += [
            Step("revenue", N_("Revenue"), business.revenue),
            Step("business_costs", N_("Business costs"), business.costs),
            Step("tax_reservation", N_("Tax reservations"), business.tax_reservation),
            Step("business_drawings", N_("Private drawings"), business.drawings),
            Step("business_remainder", N_("Business remainder"), business.remainder),
        ]
        total += business.remainder
        if business.costs + business.tax_reservation + business.drawings > business.revenue:
            warnings.append(
                (
                    N_("The business spends more ({out}) than its revenue ({revenue})"),
                    {"out": business.costs + business.tax_reservation + business.drawings, "revenue": business.revenue},
                )
            )
        if household is not None and household.drawings != business.drawings:
            warnings.append(
                (
                    N_("Drawings differ: {household} in the household, {business} from the business"),
                    {"household": household.drawings, "business": business.drawings},
                )
            )
    result = max(total, ZERO)
    if total < ZERO:
        warnings.append((N_("Shortfall of {amount} a month: nothing is available"), {"amount": -total}))
    steps.append(Step("capacity", N_("For this lender"), result))
    return Capacity(result, tuple(steps), kind, start, source, verified, tuple(warnings))


def trend(values: Sequence[Decimal]) -> str | None:
    """``falling``, ``rising`` or ``stable`` (within 10 %) from the first to the last month; None below 2 months."""
    if len(values) < 2 or values[0] == ZERO:
        return None if len(values) < 2 else ("rising" if values[-1] > ZERO else "stable")
    change = (values[-1] - values[0]) / values[0]
    if change <= Decimal("-0.10"):
        return "falling"
    if change >= Decimal("0.10"):
        return "rising"
    return "stable"


# ----- fitting a plan to the capacity

WEEKS_PER_MONTH = Decimal(52) / Decimal(12)


def monthly(amount: Decimal, frequency: str) -> Decimal:
    """An installment as a monthly amount (weekly x 52/12, fortnightly x 26/12)."""
    if frequency == "weekly":
        return _round(amount * WEEKS_PER_MONTH)
    if frequency == "fortnightly":
        return _round(amount * WEEKS_PER_MONTH / 2)
    return amount


@dataclass(frozen=True)
class Fit:
    """A plan against the capacity: the plan's monthly installment + the regular installments vs available."""

    plan_monthly: Decimal
    regular: Decimal
    capacity: Decimal

    @property
    def needed(self) -> Decimal:
        return self.plan_monthly + self.regular

    @property
    def room(self) -> Decimal:
        return self.capacity - self.needed

    @property
    def fits(self) -> bool:
        return self.needed <= self.capacity


@dataclass(frozen=True)
class PlanProposal:
    installment: Decimal
    count: int


def propose_plan(rest: Decimal, room: Decimal, max_installments: int, min_installment: Decimal) -> PlanProposal | None:
    """The fewest monthly installments (within the desk's maximum) whose amount fits in ``room`` and reaches the
    desk's minimum; None when there is none. The installment is ``rest / count`` rounded half-up to the cent, as
    the arrangement plan computes it from a number of installments (the last one takes the rest)."""
    if rest <= ZERO or room < min_installment or room <= ZERO:
        return None
    count = max(int((rest / room).to_integral_value(rounding=ROUND_CEILING)), 1)
    if count > max_installments:
        return None
    installment = _round(rest / count)  # <= room: rest / count <= room and room is whole cents
    if count > 1 and installment < min_installment:
        return None
    return PlanProposal(installment, count)


def months_between(earlier: date, later: date) -> int:
    """Whole months from ``earlier`` to ``later`` (a budget's age)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if add_months(earlier, months, day=earlier.day) > later:
        months -= 1
    return months
