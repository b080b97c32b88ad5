"""The risk view's rules (issue 20): default / non-performing status, forbearance and its probation, IFRS 9 stages.

Pure code: the numbers come from ``data/risk.toml`` (:func:`load_risk_rules`, every value with its source and an
``unverified`` mark where it could not be checked). The service (``services.risk``) observes each loan once per
daily run and keeps the result as dated history rows; :func:`step` is the whole state machine, one observation
at a time, so the worked examples in ``tests/unit/test_risk.py`` are written by hand from the rules below.

Default (CRR art. 178; EBA/GL/2016/07):
- *past due on a material amount*: the past-due amount exceeds BOTH the absolute threshold (retail / other) and
  the relative one (a share of the exposure). The days are counted only while both are exceeded: the count starts
  again when one is not (EBA/GL/2016/07 par. 16-18). ``material_since`` is the day the current count started; the
  loan is in default when the count is more than ``days_past_due`` (90).
  On the first observation of a loan its history is unknown: the count is taken to start at the oldest unpaid
  due date (the longest it can have run). After that, a loan found material that was not at the previous
  observation counts from the previous observation's day (one day for a daily run).
- *unlikeliness to pay*: an insolvency track (WSNP, bankruptcy), the loan called in, a write-off, a forbearance
  that lowers the present value of what is owed by more than ``npv_loss_threshold`` (1 %), and a re-default in
  probation (below).
- *exit*: when no trigger holds and nothing material is past due, the cure period starts (``cure_months``; after
  a forbearance of a defaulted loan ``cure_months_forborne``, counted from the later of the cure start and the
  forbearance). A trigger during the cure period stops it. A written-off loan never exits.

Forbearance (EBA/GL/2018/06; ITS Annex V par. 256-260):
- set by a deferral, an arrangement after arrears, or a changed schedule granted to a client in difficulty;
- *probation* of ``probation_months`` (24) from the day the loan performs again: the forbearance day when it was
  performing, or the day it leaves default;
- during probation of a loan that was non-performing when forborne, a new forbearance or more than
  ``redefault_days_past_due`` (30) days past due makes it non-performing again (reason ``redefault``);
- at the end of probation with no more than 30 days past due the loan is no longer forborne (otherwise probation
  goes on until it is).

IFRS 9 stage: the first of the ``[[stage]]`` rules that holds (default, forborne, more than N days past due,
always).
"""

from __future__ import annotations

import calendar
import tomllib
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from incasso_tui.domain.procedure import STAGE_ORDER
from incasso_tui.errors import N_, ConfigError

__all__ = [
    "DEFAULT_RISK_PATH",
    "STAGE_CONDITIONS",
    "Cashflow",
    "DefaultRules",
    "ForbearanceEvent",
    "ForbearanceRules",
    "LoanRisk",
    "Observation",
    "Referral",
    "RiskRules",
    "SignalRules",
    "StageRule",
    "VulnerabilityRules",
    "add_months",
    "is_material",
    "load_risk_rules",
    "npv_loss",
    "parse_risk_rules",
    "stage_of",
    "step",
]

DEFAULT_RISK_PATH = Path(__file__).resolve().parents[2] / "data" / "risk.toml"
_MAX_FILE_BYTES = 256 * 1024
STAGE_CONDITIONS = ("default", "forborne", "dpd_over", "always")

# reasons a loan is in default (the first that applies is recorded)
DPD, INSOLVENCY, CALL_IN, WRITE_OFF, DISTRESSED, REDEFAULT = (
    "dpd",
    "insolvency",
    "call_in",
    "write_off",
    "distressed_forbearance",
    "redefault",
)


@dataclass(frozen=True)
class DefaultRules:
    days_past_due: int
    absolute_threshold_retail: Decimal
    absolute_threshold_other: Decimal
    relative_threshold: Decimal
    npv_loss_threshold: Decimal
    cure_months: int
    cure_months_forborne: int


@dataclass(frozen=True)
class ForbearanceRules:
    probation_months: int
    redefault_days_past_due: int


@dataclass(frozen=True)
class StageRule:
    stage: int
    when: str
    days: int | None
    source: str
    verified: bool


@dataclass(frozen=True)
class SignalRules:
    short_payment_share: Decimal
    late_days: int
    late_trend_days: int
    late_history: int
    split_payments: int
    lookback_days: int
    followed_by_arrears_days: int


@dataclass(frozen=True)
class VulnerabilityRules:
    kinds: tuple[str, ...]
    max_automatic_stage: str


@dataclass(frozen=True)
class Referral:
    code: str
    name: str
    contact: str
    source: str
    verified: bool


@dataclass(frozen=True)
class RiskRules:
    default: DefaultRules
    forbearance: ForbearanceRules
    stages: tuple[StageRule, ...]
    signals: SignalRules
    vulnerability: VulnerabilityRules
    referrals: tuple[Referral, ...]
    source: str
    unverified: tuple[str, ...]  # the fields whose value could not be verified

    def referral(self, code: str) -> Referral | None:
        return next((r for r in self.referrals if r.code == code), None)


# ---------------------------------------------------------------------------------------------- the rules file


def _refuse(path: str, field: str, problem: str) -> ConfigError:
    return ConfigError(
        N_("Risk file {file}, field {field_name}: {problem}"), file=path, field_name=field, problem=problem
    )


class _Reader:
    """Typed access to one table of the file, naming ``section.field`` in every refusal."""

    def __init__(self, path: str, section: str, raw: Any, allowed: set[str]) -> None:
        if not isinstance(raw, dict):
            raise _refuse(path, section, "must be a table")
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise _refuse(path, f"{section}.{unknown[0]}", "unknown field")
        self.path, self.section, self.raw = path, section, raw

    def _get(self, name: str) -> Any:
        if name not in self.raw:
            raise _refuse(self.path, f"{self.section}.{name}", "missing")
        return self.raw[name]

    def where(self, name: str) -> str:
        return f"{self.section}.{name}"

    def int(self, name: str, low: int = 0, high: int = 10_000) -> int:
        value = self._get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _refuse(self.path, self.where(name), "must be a whole number")
        if not low <= value <= high:
            raise _refuse(self.path, self.where(name), f"must be between {low} and {high}, not {value}")
        return value

    def decimal(self, name: str, low: Decimal, high: Decimal | None = None) -> Decimal:
        value = self._get(name)
        if not isinstance(value, str):
            raise _refuse(self.path, self.where(name), 'must be a quoted decimal, e.g. "0.01"')
        try:
            number = Decimal(value)
        except ArithmeticError:
            raise _refuse(self.path, self.where(name), f"is not a number: {value!r}") from None
        if not number.is_finite() or number < low or (high is not None and number > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise _refuse(self.path, self.where(name), f"must be {bound}, not {value}")
        return number

    def str(self, name: str) -> str:
        value = self._get(name)
        if not isinstance(value, str) or not value.strip():
            raise _refuse(self.path, self.where(name), "must be a non-empty text")
        return value

    def bool(self, name: str) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise _refuse(self.path, self.where(name), "must be true or false")
        return value


_ONE = Decimal(1)


def parse_risk_rules(raw: dict[str, Any], path: str) -> RiskRules:
    """Validate an already parsed risk document; any problem is a :class:`ConfigError` naming file and field."""
    top = _Reader(path, "risk", raw, {"default", "forbearance", "stage", "signals", "vulnerability", "referral"})
    unverified: list[str] = []

    d = _Reader(
        path,
        "default",
        top._get("default"),
        {
            "days_past_due",
            "source_days",
            "verified_days",
            "absolute_threshold_retail",
            "absolute_threshold_other",
            "relative_threshold",
            "source_materiality",
            "verified_materiality",
            "npv_loss_threshold",
            "source_npv",
            "verified_npv",
            "cure_months",
            "cure_months_forborne",
            "source_cure",
            "verified_cure",
        },
    )
    for key in ("days", "materiality", "npv", "cure"):
        d.str(f"source_{key}")
        if not d.bool(f"verified_{key}"):
            unverified.append(f"default.{key}")
    default = DefaultRules(
        days_past_due=d.int("days_past_due", 1, 3650),
        absolute_threshold_retail=d.decimal("absolute_threshold_retail", Decimal(0)),
        absolute_threshold_other=d.decimal("absolute_threshold_other", Decimal(0)),
        relative_threshold=d.decimal("relative_threshold", Decimal(0), _ONE),
        npv_loss_threshold=d.decimal("npv_loss_threshold", Decimal(0), _ONE),
        cure_months=d.int("cure_months", 0, 120),
        cure_months_forborne=d.int("cure_months_forborne", 0, 120),
    )

    f = _Reader(
        path,
        "forbearance",
        top._get("forbearance"),
        {"probation_months", "redefault_days_past_due", "source", "verified"},
    )
    f.str("source")
    if not f.bool("verified"):
        unverified.append("forbearance")
    forbearance = ForbearanceRules(f.int("probation_months", 1, 120), f.int("redefault_days_past_due", 0, 3650))

    raw_stages = top._get("stage")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise _refuse(path, "stage", "needs at least one [[stage]] rule")
    stages = []
    for number, item in enumerate(raw_stages, start=1):
        r = _Reader(path, f"stage#{number}", item, {"stage", "when", "days", "source", "verified"})
        when = r.str("when")
        if when not in STAGE_CONDITIONS:
            raise _refuse(path, r.where("when"), f"must be one of {', '.join(STAGE_CONDITIONS)}, not {when!r}")
        days = r.int("days", 0, 3650) if when == "dpd_over" else None
        if when != "dpd_over" and "days" in item:
            raise _refuse(path, r.where("days"), "only a dpd_over rule has days")
        rule = StageRule(r.int("stage", 1, 3), when, days, r.str("source"), r.bool("verified"))
        if stages and rule.stage > stages[-1].stage:
            raise _refuse(
                path, r.where("stage"), "rules must go from the highest stage down (the first that holds wins)"
            )
        if not rule.verified:
            unverified.append(f"stage#{number}")
        stages.append(rule)
    if stages[-1].when != "always":
        raise _refuse(path, f"stage#{len(stages)}.when", "the last rule must be 'always' (every loan has a stage)")

    s = _Reader(
        path,
        "signals",
        top._get("signals"),
        {
            "short_payment_share",
            "late_days",
            "late_trend_days",
            "late_history",
            "split_payments",
            "lookback_days",
            "followed_by_arrears_days",
            "source",
        },
    )
    s.str("source")
    signals = SignalRules(
        short_payment_share=s.decimal("short_payment_share", Decimal(0), _ONE),
        late_days=s.int("late_days", 1, 365),
        late_trend_days=s.int("late_trend_days", 0, 365),
        late_history=s.int("late_history", 1, 60),
        split_payments=s.int("split_payments", 2, 100),
        lookback_days=s.int("lookback_days", 1, 366),
        followed_by_arrears_days=s.int("followed_by_arrears_days", 1, 366),
    )

    v = _Reader(path, "vulnerability", top._get("vulnerability"), {"kinds", "max_automatic_stage"})
    kinds = v._get("kinds")
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) and k for k in kinds):
        raise _refuse(path, "vulnerability.kinds", "must be a list of names")
    if len(set(kinds)) != len(kinds):
        raise _refuse(path, "vulnerability.kinds", "a kind is listed twice")
    max_stage = v.str("max_automatic_stage")
    if max_stage not in STAGE_ORDER:
        raise _refuse(path, "vulnerability.max_automatic_stage", f"must be a stage of the procedure, not {max_stage!r}")
    vulnerability = VulnerabilityRules(tuple(kinds), max_stage)

    referrals = []
    for number, item in enumerate(top.raw.get("referral", []), start=1):
        r = _Reader(path, f"referral#{number}", item, {"code", "name", "contact", "source", "verified"})
        referral = Referral(r.str("code"), r.str("name"), r.str("contact"), r.str("source"), r.bool("verified"))
        if any(x.code == referral.code for x in referrals):
            raise _refuse(path, r.where("code"), f"{referral.code!r} is used twice")
        referrals.append(referral)

    return RiskRules(
        default, forbearance, tuple(stages), signals, vulnerability, tuple(referrals), path, tuple(unverified)
    )


def load_risk_rules(path: Path | None = None) -> RiskRules:
    """Read and validate ``data/risk.toml`` (or ``path``)."""
    path = DEFAULT_RISK_PATH if path is None else path
    try:
        with path.open("rb") as fh:
            content = fh.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            N_("Cannot read the risk file {file}: {reason}"), file=str(path), reason=exc.strerror
        ) from exc
    if len(content) > _MAX_FILE_BYTES:
        raise ConfigError(N_("The risk file {file} is too large"), file=str(path))
    try:
        raw = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            N_("The risk file {file} is not valid TOML: {reason}"), file=str(path), reason=str(exc)
        ) from exc
    return parse_risk_rules(raw, str(path))


# ---------------------------------------------------------------------------------------------- the state machine


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months; the 31st becomes the month's last day where the month is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ForbearanceEvent:
    """A forbearance granted on ``day``; ``npv_loss`` the share of present value it gives up (0.004 = 0.4 %)."""

    day: date
    kind: str  # deferral | arrangement | schedule_change
    npv_loss: Decimal


@dataclass(frozen=True)
class Observation:
    """One loan on one day, as the daily run measures it."""

    day: date
    past_due: Decimal  # principal, interest and costs past due
    exposure: Decimal  # on-balance: outstanding principal + past-due interest + open costs
    oldest_due: date | None  # oldest unpaid due date before ``day``; None: nothing past due
    retail: bool = True
    forbearances: tuple[ForbearanceEvent, ...] = ()  # granted since the previous observation
    insolvency: bool = False  # an open WSNP or bankruptcy track
    called: bool = False
    written_off: bool = False

    @property
    def dpd(self) -> int:
        return 0 if self.oldest_due is None else max((self.day - self.oldest_due).days, 0)


@dataclass(frozen=True)
class LoanRisk:
    """What the history keeps per loan (one dated row per change)."""

    material_since: date | None = None
    default: bool = False
    default_reason: str | None = None
    default_since: date | None = None
    cure_from: date | None = None
    forborne: bool = False
    forborne_since: date | None = None
    forborne_np: bool = False  # forborne while non-performing: the probation's re-default rule applies
    probation_from: date | None = None
    probation_until: date | None = None
    stage: int = 1
    dpd: int = 0

    @property
    def in_probation(self) -> bool:
        return self.probation_from is not None


def is_material(past_due: Decimal, exposure: Decimal, retail: bool, rules: DefaultRules) -> bool:
    """Both thresholds exceeded: more than the absolute amount AND more than the relative share of the exposure."""
    absolute = rules.absolute_threshold_retail if retail else rules.absolute_threshold_other
    if past_due <= absolute:
        return False
    if exposure <= 0:
        return True  # nothing else is owed: the whole exposure is past due
    return past_due > rules.relative_threshold * exposure


def stage_of(default: bool, forborne: bool, dpd: int, stages: tuple[StageRule, ...]) -> int:
    """The IFRS 9 stage: the first rule that holds."""
    for rule in stages:
        if (
            rule.when == "always"
            or (rule.when == "default" and default)
            or (rule.when == "forborne" and forborne)
            or (rule.when == "dpd_over" and rule.days is not None and dpd > rule.days)
        ):
            return rule.stage
    raise AssertionError("the last stage rule is 'always' (parse_risk_rules checks it)")


def step(prev: LoanRisk | None, obs: Observation, rules: RiskRules, previous_day: date | None) -> LoanRisk:
    """The loan's status after observation ``obs``; ``prev`` the status after the previous observation (None: the
    first), ``previous_day`` that observation's day."""
    d, fb = rules.default, rules.forbearance
    state = prev or LoanRisk()
    day = obs.day

    # the materiality count
    material = is_material(obs.past_due, obs.exposure, obs.retail, d) and obs.oldest_due is not None
    if not material:
        material_since = None
    elif state.material_since is not None:
        material_since = state.material_since
    elif prev is None or previous_day is None:
        material_since = obs.oldest_due
    else:
        assert obs.oldest_due is not None
        material_since = max(obs.oldest_due, previous_day)
    material_days = 0 if material_since is None else (day - material_since).days

    # forbearance granted since the previous observation
    forborne, forborne_since, forborne_np = state.forborne, state.forborne_since, state.forborne_np
    probation_from, probation_until = state.probation_from, state.probation_until
    redefault = False
    distressed = False
    for event in sorted(obs.forbearances, key=lambda e: e.day):
        if forborne and forborne_np and probation_from is not None:
            redefault = True
        if event.npv_loss > d.npv_loss_threshold:
            distressed = True
        forborne, forborne_since = True, event.day
        if state.default or distressed or redefault:
            forborne_np = True
            probation_from = probation_until = None  # probation starts when the loan leaves default
        elif not forborne_np:
            probation_from, probation_until = event.day, add_months(event.day, fb.probation_months)
    if forborne and forborne_np and probation_from is not None and obs.dpd > fb.redefault_days_past_due:
        redefault = True

    # default triggers, in the order of the reasons
    triggers = [
        (DPD, material_days > d.days_past_due),
        (INSOLVENCY, obs.insolvency),
        (CALL_IN, obs.called),
        (WRITE_OFF, obs.written_off),
        (DISTRESSED, distressed),
        (REDEFAULT, redefault),
    ]
    reason = next((name for name, holds in triggers if holds), None)

    default, default_reason, default_since, cure_from = (
        state.default,
        state.default_reason,
        state.default_since,
        state.cure_from,
    )
    if reason is not None:
        if not default or redefault:
            default, default_reason, default_since = True, reason, day
        cure_from = None
        if redefault:
            probation_from = probation_until = None
            forborne_np = True
    elif default:
        if material:
            cure_from = None  # something material is still past due: no cure yet
        else:
            cure_from = cure_from or day
            months = d.cure_months_forborne if forborne_np else d.cure_months
            start = max(cure_from, forborne_since) if forborne_np and forborne_since else cure_from
            if day >= add_months(start, months):
                default, default_reason, default_since, cure_from = False, None, None, None
                if forborne:  # performs again: the probation starts
                    probation_from, probation_until = day, add_months(day, fb.probation_months)

    # the end of probation
    if (
        forborne
        and not default
        and probation_until is not None
        and day >= probation_until
        and obs.dpd <= fb.redefault_days_past_due
    ):
        forborne, forborne_since, forborne_np, probation_from, probation_until = False, None, False, None, None

    return replace(
        state,
        material_since=material_since,
        default=default,
        default_reason=default_reason,
        default_since=default_since,
        cure_from=cure_from,
        forborne=forborne,
        forborne_since=forborne_since,
        forborne_np=forborne_np,
        probation_from=probation_from,
        probation_until=probation_until,
        stage=stage_of(default, forborne, obs.dpd, rules.stages),
        dpd=obs.dpd,
    )


# ---------------------------------------------------------------------------------------------- present value


@dataclass(frozen=True)
class Cashflow:
    day: date
    amount: Decimal


def _present_value(flows: list[Cashflow], annual_rate: Decimal, on: date) -> Decimal:
    """Discounted at the loan's own rate (EBA/GL/2016/07 par. 51: the original effective interest rate), actual
    days / 365, flows before ``on`` counted at face value."""
    total = Decimal(0)
    for f in flows:
        days = max((f.day - on).days, 0)
        total += f.amount / (Decimal(1) + annual_rate) ** (Decimal(days) / Decimal(365))
    return total


def npv_loss(before: list[Cashflow], after: list[Cashflow], annual_rate: Decimal, on: date) -> Decimal:
    """The share of present value a changed schedule gives up: (NPV before - NPV after) / NPV before, never below 0,
    six places (a share, not money)."""
    pv_before = _present_value(before, annual_rate, on)
    if pv_before <= 0:
        return Decimal("0.000000")
    loss = (pv_before - _present_value(after, annual_rate, on)) / pv_before
    return max(loss, Decimal(0)).quantize(Decimal("0.000001"))
