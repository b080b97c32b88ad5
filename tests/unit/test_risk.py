"""The risk rules (domain.risk) against worked examples computed by hand from the rules in data/risk.toml:
materiality (EUR 100 retail AND 1 % of the exposure, days counted only while both are exceeded, default after more
than 90 such days), forbearance with its 2-year probation and the re-default rule, the cure period, the IFRS 9
stages, the NPV loss of a changed schedule, and the refusal of contradictory thresholds."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from decimal import Decimal

import pytest

from incasso_tui.domain.risk import (
    DEFAULT_RISK_PATH,
    Cashflow,
    ForbearanceEvent,
    LoanRisk,
    Observation,
    add_months,
    is_material,
    load_risk_rules,
    npv_loss,
    parse_risk_rules,
    stage_of,
    step,
)
from incasso_tui.errors import ConfigError

RULES = load_risk_rules()
D = Decimal


def _raw() -> dict:
    return tomllib.loads(DEFAULT_RISK_PATH.read_text(encoding="utf-8"))


def test_the_shipped_file_has_the_documented_numbers_and_marks_them_unverified() -> None:
    d = RULES.default
    assert (d.days_past_due, d.absolute_threshold_retail, d.absolute_threshold_other, d.relative_threshold) == (
        90,
        D("100.00"),
        D("500.00"),
        D("0.01"),
    )
    assert (d.npv_loss_threshold, d.cure_months, d.cure_months_forborne) == (D("0.01"), 3, 12)
    assert (RULES.forbearance.probation_months, RULES.forbearance.redefault_days_past_due) == (24, 30)
    assert "default.materiality" in RULES.unverified and "forbearance" in RULES.unverified


def test_material_only_when_both_thresholds_are_exceeded() -> None:
    d = RULES.default
    # 150 > 100 but 150 / 20,000 = 0.75 % is not above 1 %
    assert not is_material(D("150.00"), D("20000.00"), True, d)
    # 60 / 5,000 = 1.2 % is above 1 % but 60 is not above 100
    assert not is_material(D("60.00"), D("5000.00"), True, d)
    # 300 > 100 and 300 / 20,000 = 1.5 % > 1 %
    assert is_material(D("300.00"), D("20000.00"), True, d)
    # exactly on a threshold is not above it: 100.00 and 200 / 20,000 = 1 %
    assert not is_material(D("100.00"), D("5000.00"), True, d)
    assert not is_material(D("200.00"), D("20000.00"), True, d)
    # a business (non-retail) loan: EUR 500; 400 / 10,000 = 4 % but 400 is not above 500
    assert not is_material(D("400.00"), D("10000.00"), False, d)
    assert is_material(D("501.00"), D("10000.00"), False, d)


def _unpaid_monthly(day: date, installment: Decimal, first_due: date) -> tuple[Decimal, date | None]:
    """An installment due on the 1st of every month from ``first_due``, none of them paid: what is past due."""
    count = 0
    due = first_due
    while due < day:
        count += 1
        due = add_months(due, 1)
    return installment * count, first_due if count else None


def test_default_starts_only_when_both_thresholds_were_exceeded_for_more_than_90_days() -> None:
    """Hand computation. Retail loan, exposure EUR 20,000 (held constant), an installment of EUR 150 due on the 1st
    of every month from 1-1-2026, nothing paid, observed every day.
    - 2-1 .. 1-2: EUR 150 past due: above EUR 100, but 150/20,000 = 0.75 % is not above 1 %: not material.
    - 2-2: EUR 300 past due (the lines of 1-1 and 1-2): above EUR 100 and 1.5 % > 1 %: material. The previous
      observation (1-2) was not material, so the count starts at 1-2: on 2-2 it is 1 day.
    - Count > 90 first on 1-2 + 91 days: February 2026 has 28 days, so 1-3 is day 28, 1-4 day 59, 1-5 day 89,
      3-5 day 91: in default on 3-5-2026, not on 2-5 (day 90).
    - Days past due alone (from 1-1) pass 90 on 2-4-2026 (1-4 is day 90): without the materiality rule the loan
      would have defaulted a month earlier. IFRS 9: stage 2 from 1-2 (31 dpd > 30), stage 3 from 2-4 (91 dpd > 90).
    """
    exposure, installment, first = D("20000.00"), D("150.00"), date(2026, 1, 1)
    state: LoanRisk | None = None
    previous: date | None = None
    seen: dict[date, LoanRisk] = {}
    day = date(2026, 1, 1)
    while day <= date(2026, 5, 10):
        past_due, oldest = _unpaid_monthly(day, installment, first)
        state = step(state, Observation(day, past_due, exposure, oldest), RULES, previous)
        seen[day] = state
        previous = day
        day += timedelta(days=1)
    assert seen[date(2026, 2, 1)].material_since is None
    assert seen[date(2026, 2, 2)].material_since == date(2026, 2, 1)
    assert seen[date(2026, 1, 31)].stage == 1 and seen[date(2026, 2, 1)].stage == 2
    assert seen[date(2026, 4, 1)].stage == 2 and seen[date(2026, 4, 2)].stage == 3
    assert not seen[date(2026, 4, 2)].default  # 91 days past due, but material for only 60
    assert not seen[date(2026, 5, 2)].default
    assert seen[date(2026, 5, 3)].default
    assert seen[date(2026, 5, 3)].default_reason == "dpd" and seen[date(2026, 5, 3)].default_since == date(2026, 5, 3)


def test_the_count_starts_again_when_one_threshold_is_no_longer_exceeded() -> None:
    """Exposure 20,000; material from 1-2 (count as above). On 15-3 a payment leaves EUR 150 past due (0.75 %):
    the count stops. On 16-3 it is EUR 300 again (say the payment was reversed): the count restarts at 15-3, the
    previous observation; 90 days later (13-6, day 90) no default, 14-6 (day 91) default. 15-3 + 91: March has
    16 days left (day 16 = 31-3), April 30 (day 46 = 30-4), May 31 (day 77 = 31-5), 14-6 is day 91."""
    exposure = D("20000.00")
    state = step(None, Observation(date(2026, 3, 14), D("300.00"), exposure, date(2026, 1, 1)), RULES, None)
    state = step(
        state, Observation(date(2026, 3, 15), D("150.00"), exposure, date(2026, 3, 1)), RULES, date(2026, 3, 14)
    )
    assert state.material_since is None and not state.default
    state = step(
        state, Observation(date(2026, 3, 16), D("300.00"), exposure, date(2026, 2, 1)), RULES, date(2026, 3, 15)
    )
    assert state.material_since == date(2026, 3, 15)
    on_13_6 = step(
        state, Observation(date(2026, 6, 13), D("300.00"), exposure, date(2026, 2, 1)), RULES, date(2026, 6, 12)
    )
    assert not on_13_6.default
    on_14_6 = step(
        on_13_6, Observation(date(2026, 6, 14), D("300.00"), exposure, date(2026, 2, 1)), RULES, date(2026, 6, 13)
    )
    assert on_14_6.default


def test_forborne_performing_probation_and_redefault() -> None:
    """Hand computation of a loan through forborne -> performing -> probation -> re-default.
    1. 5-1-2025, first observation: EUR 600 past due since 1-10-2024 on an exposure of 10,000 (6 %, above EUR 100):
       material; first observation, so counted from the oldest due date: 1-10 -> 5-1 is 31+30+31+4 = 96 days > 90:
       in default (reason dpd), stage 3.
    2. 20-1-2025: a deferral is granted (NPV loss 0.4 %, not above 1 %) and the arrears is folded into the
       schedule: nothing past due. Forborne while non-performing: no probation yet; no trigger, so the cure period
       starts: after a forbearance 12 months, from 20-1-2025: still in default on 19-1-2026, out on 20-1-2026.
    3. 20-1-2026: performing again, still forborne: probation of 24 months, 20-1-2026 .. 20-1-2028; stage 2.
    4. 15-6-2026: the line of 1-5-2026 (EUR 200) is unpaid: 45 days past due (31 in May + 14), more than 30 during
       the probation of a loan that was non-performing: non-performing again (reason redefault), stage 3.
    """
    s1 = step(None, Observation(date(2025, 1, 5), D("600.00"), D("10000.00"), date(2024, 10, 1)), RULES, None)
    assert (s1.default, s1.default_reason, s1.stage, s1.dpd) == (True, "dpd", 3, 96)
    deferral = ForbearanceEvent(date(2025, 1, 20), "deferral", D("0.004"))
    s2 = step(
        s1,
        Observation(date(2025, 1, 20), D("0.00"), D("10000.00"), None, forbearances=(deferral,)),
        RULES,
        date(2025, 1, 5),
    )
    assert (s2.forborne, s2.forborne_np, s2.default, s2.probation_from) == (True, True, True, None)
    assert s2.cure_from == date(2025, 1, 20) and s2.stage == 3
    s3 = step(s2, Observation(date(2026, 1, 19), D("0.00"), D("9500.00"), None), RULES, date(2025, 1, 20))
    assert s3.default
    s4 = step(s3, Observation(date(2026, 1, 20), D("0.00"), D("9500.00"), None), RULES, date(2026, 1, 19))
    assert not s4.default and s4.forborne
    assert (s4.probation_from, s4.probation_until, s4.stage) == (date(2026, 1, 20), date(2028, 1, 20), 2)
    s5 = step(s4, Observation(date(2026, 6, 15), D("200.00"), D("9000.00"), date(2026, 5, 1)), RULES, date(2026, 6, 14))
    assert s5.dpd == 45
    assert (s5.default, s5.default_reason, s5.default_since, s5.stage) == (True, "redefault", date(2026, 6, 15), 3)
    assert s5.probation_from is None and s5.forborne


def test_a_loan_forborne_while_performing_is_not_redefaulted_by_30_days_past_due_and_ends_probation() -> None:
    """Forborne on 1-3-2025 while performing: probation 1-3-2025 .. 1-3-2027. 45 days past due on 15-6-2025 does
    not make it non-performing (it never was), stage 2. On 1-3-2027 with 31 days past due the probation goes on;
    on 2-3-2027 with nothing past due it ends: no longer forborne, stage 1."""
    fb = ForbearanceEvent(date(2025, 3, 1), "arrangement", D("0"))
    s1 = step(
        LoanRisk(),
        Observation(date(2025, 3, 1), D("0.00"), D("8000.00"), None, forbearances=(fb,)),
        RULES,
        date(2025, 2, 28),
    )
    assert (s1.forborne, s1.forborne_np, s1.probation_until, s1.stage) == (True, False, date(2027, 3, 1), 2)
    s2 = step(s1, Observation(date(2025, 6, 15), D("90.00"), D("8000.00"), date(2025, 5, 1)), RULES, date(2025, 6, 14))
    assert not s2.default and s2.stage == 2 and s2.forborne
    s3 = step(s2, Observation(date(2027, 3, 1), D("90.00"), D("6000.00"), date(2027, 1, 29)), RULES, date(2027, 2, 28))
    assert s3.forborne and s3.dpd == 31
    s4 = step(s3, Observation(date(2027, 3, 2), D("0.00"), D("6000.00"), None), RULES, date(2027, 3, 1))
    assert (s4.forborne, s4.probation_until, s4.stage) == (False, None, 1)


def test_a_forbearance_losing_more_than_1_percent_of_present_value_is_a_default() -> None:
    fb = ForbearanceEvent(date(2025, 3, 1), "deferral", D("0.0101"))
    s = step(
        LoanRisk(),
        Observation(date(2025, 3, 1), D("0.00"), D("8000.00"), None, forbearances=(fb,)),
        RULES,
        date(2025, 2, 28),
    )
    assert (s.default, s.default_reason, s.forborne_np, s.stage) == (True, "distressed_forbearance", True, 3)
    at_limit = ForbearanceEvent(date(2025, 3, 1), "deferral", D("0.0100"))
    s = step(
        LoanRisk(),
        Observation(date(2025, 3, 1), D("0.00"), D("8000.00"), None, forbearances=(at_limit,)),
        RULES,
        date(2025, 2, 28),
    )
    assert not s.default


def test_unlikeliness_to_pay_and_the_3_month_cure() -> None:
    """Insolvency track from 10-2-2026: default (reason insolvency) with nothing past due. The track ends on
    1-3-2026: the cure period of 3 months runs from 1-3-2026 to 1-6-2026; out of default on 1-6, not 31-5. A
    write-off never cures."""
    s = step(
        LoanRisk(), Observation(date(2026, 2, 10), D("0"), D("5000"), None, insolvency=True), RULES, date(2026, 2, 9)
    )
    assert (s.default, s.default_reason) == (True, "insolvency")
    s = step(s, Observation(date(2026, 3, 1), D("0"), D("5000"), None), RULES, date(2026, 2, 28))
    assert s.default and s.cure_from == date(2026, 3, 1)
    assert step(s, Observation(date(2026, 5, 31), D("0"), D("5000"), None), RULES, date(2026, 5, 30)).default
    assert not step(s, Observation(date(2026, 6, 1), D("0"), D("5000"), None), RULES, date(2026, 5, 31)).default
    w = step(LoanRisk(), Observation(date(2026, 2, 10), D("0"), D("0"), None, written_off=True), RULES, None)
    w = step(w, Observation(date(2027, 2, 10), D("0"), D("0"), None, written_off=True), RULES, date(2027, 2, 9))
    assert w.default and w.default_reason == "write_off"


def test_stage_rules() -> None:
    assert stage_of(False, False, 30, RULES.stages) == 1
    assert stage_of(False, False, 31, RULES.stages) == 2
    assert stage_of(False, True, 0, RULES.stages) == 2
    assert stage_of(False, False, 91, RULES.stages) == 3
    assert stage_of(True, False, 0, RULES.stages) == 3


def test_npv_loss_of_a_year_later() -> None:
    """1,000 due in 365 days moved to 730 days at 10 %: PV 1,000/1.1 = 909.0909 against 1,000/1.21 = 826.4463;
    loss (909.0909 - 826.4463) / 909.0909 = 1 - 1/1.1 = 0.090909."""
    on = date(2025, 1, 1)
    before = [Cashflow(on + timedelta(days=365), D("1000.00"))]
    after = [Cashflow(on + timedelta(days=730), D("1000.00"))]
    assert npv_loss(before, after, D("0.10"), on) == D("0.090909")
    assert npv_loss(after, before, D("0.10"), on) == D("0")


@pytest.mark.parametrize(
    ("section", "field", "value", "problem"),
    [
        ("default", "cure_months", -1, "between 0 and 120"),
        ("default", "relative_threshold", "1.5", "between 0 and 1"),
        ("default", "absolute_threshold_retail", "-5", "at least 0"),
        ("forbearance", "probation_months", 0, "between 1 and 120"),
        ("signals", "lookback_days", "x", "whole number"),
        ("default", "surprise", 1, "unknown field"),
    ],
)
def test_contradictory_thresholds_are_refused_naming_file_and_field(section, field, value, problem) -> None:
    raw = _raw()
    raw[section][field] = value
    with pytest.raises(ConfigError) as exc:
        parse_risk_rules(raw, "risk.toml")
    assert f"Risk file risk.toml, field {section}.{field}:" in str(exc.value)
    assert problem in str(exc.value)


def test_stage_rules_out_of_order_are_refused() -> None:
    raw = _raw()
    raw["stage"] = list(reversed(raw["stage"]))
    with pytest.raises(ConfigError, match="stage#2.stage"):
        parse_risk_rules(raw, "risk.toml")
    raw = _raw()
    raw["stage"] = raw["stage"][:-1]
    with pytest.raises(ConfigError, match="must be 'always'"):
        parse_risk_rules(raw, "risk.toml")
