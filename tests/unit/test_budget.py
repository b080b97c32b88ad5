"""The repayment capacity (draagkracht) against worked examples computed by hand.

Formula (domain/budget.py; art. 475da-475db Rv as simplified by the Wet vereenvoudiging beslagvrije voet, in force
1-1-2021; the simplifications are in docs/decisions.md, "Budget and capacity"):

    base       = 95 % x norm            (95 % x income when the income is below the norm; art. 475da Rv)
    housing    = max(min(housing - housing allowance, housing_max) - housing_base, 0)   (art. 475db Rv)
    health     = zorgtoeslag at the norm when no health-care allowance is received, else 0 (art. 475db Rv)
    protected  = min(base + housing + health, income)
    capacity   = income - protected - fixed - other debts (at least 0) [+ business remainder]

The figures are those of data/budget_norms.toml for the half year from 1-1-2025 (all marked unverified there):
norm single = single parent = 1.359,64; couple = couple with children = 1.942,34; zorgtoeslag single 131,00,
couple 250,00; housing_base 260,00; housing_max 900,07.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from incasso_tui.domain.budget import (
    BusinessBudget,
    Debt,
    Household,
    HouseholdBudget,
    Limits,
    NormKind,
    capacity,
    load_norms,
    monthly,
    months_between,
    propose_plan,
    trend,
)
from incasso_tui.errors import BadInput, ConfigError

DAY = date(2025, 3, 1)  # in the half year from 1-1-2025
LIMITS = Limits(D("50000.00"), D("500000.00"))
NORMS = load_norms()


def run(
    h: HouseholdBudget | None,
    b: BusinessBudget | None = None,
    kind: NormKind = NormKind.BESLAGVRIJE_VOET,
    day: date = DAY,
):  # type: ignore[no-untyped-def]
    return capacity(household=h, business=b, norms=NORMS, kind=kind, day=day, limits=LIMITS)


def amounts(result) -> dict[str, D]:  # type: ignore[no-untyped-def]
    return {s.key: s.amount for s in result.steps}


def test_the_norm_figures_used_by_the_examples_are_the_data_files() -> None:
    row = next(r for r in NORMS.bijstand if r.start == date(2025, 1, 1))
    assert row.norm == {
        "single": D("1359.64"),
        "single_parent": D("1359.64"),
        "couple": D("1942.34"),
        "couple_children": D("1942.34"),
    }
    assert (row.zorgtoeslag["single"], row.zorgtoeslag["couple"], row.housing_base, row.housing_max) == (
        D("131.00"),
        D("250.00"),
        D("260.00"),
        D("900.07"),
    )
    assert row.verified is False and "unverified" in row.source


def test_single() -> None:
    # income 2.600,00 (salary); base 0,95 x 1.359,64 = 1.291,658 -> 1.291,66
    # housing 750,00 (no allowance): min(750,00; 900,07) - 260,00 = 490,00
    # no zorgtoeslag received: + 131,00
    # protected 1.291,66 + 490,00 + 131,00 = 1.912,66; available 2.600,00 - 1.912,66 = 687,34
    # obligations 50,00 fixed + 100,00 DUO = 150,00; capacity 687,34 - 150,00 = 537,34
    r = run(
        HouseholdBudget(
            Household.SINGLE,
            salary=D("2600.00"),
            housing=D("750.00"),
            health=D("150.00"),
            fixed=D("50.00"),
            debts=(Debt("DUO", D("100.00")),),
        )
    )
    assert amounts(r) == {
        "income": D("2600.00"),
        "norm": D("1359.64"),
        "base": D("1291.66"),
        "housing_correction": D("490.00"),
        "health_correction": D("131.00"),
        "protected": D("1912.66"),
        "available": D("687.34"),
        "fixed": D("50.00"),
        "debts": D("100.00"),
        "household_capacity": D("537.34"),
        "capacity": D("537.34"),
    }
    assert r.capacity == D("537.34") and r.norm_start == date(2025, 1, 1) and not r.norm_verified


def test_single_parent() -> None:
    # income 1.900,00 + 200,00 = 2.100,00; norm single parent 1.359,64 -> base 1.291,66
    # housing 1.100,00 - 150,00 allowance = 950,00, capped at 900,07: 900,07 - 260,00 = 640,07
    # zorgtoeslag received: + 0
    # protected 1.291,66 + 640,07 = 1.931,73; capacity 2.100,00 - 1.931,73 = 168,27
    r = run(
        HouseholdBudget(
            Household.SINGLE_PARENT,
            children=2,
            salary=D("1900.00"),
            benefits=D("200.00"),
            housing=D("1100.00"),
            housing_allowance=D("150.00"),
            health=D("140.00"),
            health_allowance=D("131.00"),
        )
    )
    a = amounts(r)
    assert (a["base"], a["housing_correction"], a["health_correction"], a["protected"]) == (
        D("1291.66"),
        D("640.07"),
        D("0.00"),
        D("1931.73"),
    )
    assert r.capacity == D("168.27")


def test_couple() -> None:
    # income 2.200,00 + partner 1.000,00 = 3.200,00; base 0,95 x 1.942,34 = 1.845,223 -> 1.845,22
    # housing 900,00 (below 900,07): 900,00 - 260,00 = 640,00; no zorgtoeslag: + 250,00
    # protected 1.845,22 + 640,00 + 250,00 = 2.735,22; available 3.200,00 - 2.735,22 = 464,78
    # obligations 75,00 + 120,00 + 80,00 = 275,00; capacity 464,78 - 275,00 = 189,78
    r = run(
        HouseholdBudget(
            Household.COUPLE,
            salary=D("2200.00"),
            partner=D("1000.00"),
            housing=D("900.00"),
            health=D("300.00"),
            fixed=D("75.00"),
            debts=(Debt("Belastingdienst", D("120.00")), Debt("creditcard", D("80.00"))),
        )
    )
    a = amounts(r)
    assert (a["base"], a["housing_correction"], a["health_correction"], a["available"]) == (
        D("1845.22"),
        D("640.00"),
        D("250.00"),
        D("464.78"),
    )
    assert r.capacity == D("189.78")


def test_couple_with_children() -> None:
    # income 2.500,00 + 600,00 = 3.100,00; base 1.845,22; housing 700,00 - 260,00 = 440,00; zorgtoeslag received
    # protected 1.845,22 + 440,00 = 2.285,22; capacity 3.100,00 - 2.285,22 = 814,78
    r = run(
        HouseholdBudget(
            Household.COUPLE_CHILDREN,
            children=3,
            salary=D("2500.00"),
            partner=D("600.00"),
            housing=D("700.00"),
            health=D("280.00"),
            health_allowance=D("210.00"),
        )
    )
    assert amounts(r)["protected"] == D("2285.22") and r.capacity == D("814.78")


def test_income_below_the_norm() -> None:
    # income 1.200,00 < norm 1.359,64: base 0,95 x 1.200,00 = 1.140,00
    # housing 600,00 - 250,00 = 350,00 - 260,00 = 90,00; zorgtoeslag received
    # 1.140,00 + 90,00 = 1.230,00 > income: protected 1.200,00; capacity 0,00
    r = run(
        HouseholdBudget(
            Household.SINGLE,
            benefits=D("1200.00"),
            housing=D("600.00"),
            housing_allowance=D("250.00"),
            health=D("140.00"),
            health_allowance=D("131.00"),
        )
    )
    a = amounts(r)
    assert (a["base"], a["housing_correction"], a["protected"], r.capacity) == (
        D("1140.00"),
        D("90.00"),
        D("1200.00"),
        D("0.00"),
    )


def test_a_shortfall_is_zero_capacity_with_a_warning() -> None:
    # single 1.500,00; base 1.291,66; housing 400,00 - 260,00 = 140,00; zorgtoeslag received
    # protected 1.431,66; available 68,34; debts 300,00: household -231,66 -> capacity 0, shortfall 231,66
    r = run(
        HouseholdBudget(
            Household.SINGLE,
            salary=D("1500.00"),
            housing=D("400.00"),
            health=D("140.00"),
            health_allowance=D("131.00"),
            debts=(Debt("bank", D("300.00")),),
        )
    )
    assert amounts(r)["household_capacity"] == D("-231.66") and r.capacity == D("0.00")
    assert any("Shortfall" in msgid for msgid, _ in r.warnings)


def test_the_desk_norm() -> None:
    # desk row from 1-1-2024: couple with children 1.450,00 + 2 x 300,00 = 2.050,00 living costs
    # + housing 900,00 + health 300,00 (no allowances) = 3.250,00 protected; capacity 3.600,00 - 3.250,00 = 350,00
    r = run(
        HouseholdBudget(
            Household.COUPLE_CHILDREN, children=2, salary=D("3600.00"), housing=D("900.00"), health=D("300.00")
        ),
        kind=NormKind.DESK,
    )
    a = amounts(r)
    assert (a["living"], a["protected"], r.capacity) == (D("2050.00"), D("3250.00"), D("350.00"))
    assert "norm" not in a and r.norm_kind is NormKind.DESK


def test_a_business_and_a_sole_trader() -> None:
    # business: 20.000,00 - 15.000,00 costs - 1.500,00 tax - 2.500,00 drawings = 1.000,00
    business = BusinessBudget(
        revenue=D("20000.00"), costs=D("15000.00"), tax_reservation=D("1500.00"), drawings=D("2500.00")
    )
    assert run(None, business).capacity == D("1000.00")
    # sole trader: drawings 2.500,00 as income; base 1.291,66; housing 800,00 - 260,00 = 540,00; + 131,00
    # protected 1.962,66; household 537,34; + business 1.000,00 = 1.537,34
    r = run(HouseholdBudget(Household.SINGLE, drawings=D("2500.00"), housing=D("800.00"), health=D("150.00")), business)
    assert (amounts(r)["household_capacity"], r.capacity) == (D("537.34"), D("1537.34"))


def test_a_missing_half_year_names_the_file() -> None:
    with pytest.raises(ConfigError) as err:
        run(HouseholdBudget(Household.SINGLE, salary=D("2000.00")), day=date(2027, 1, 5))
    assert str(err.value).startswith("No norm for 2027-01: add it to ") and str(err.value).endswith("budget_norms.toml")


@pytest.mark.parametrize(
    ("budget", "field"),
    [
        (HouseholdBudget(Household.SINGLE, salary=D("-1.00")), "salary"),
        (HouseholdBudget(Household.SINGLE, salary=D("1000000.00")), "salary"),
        (HouseholdBudget(Household.SINGLE, children=1, salary=D("2000.00")), "household"),
        (HouseholdBudget(Household.COUPLE_CHILDREN, salary=D("2000.00")), "children"),
        (HouseholdBudget(Household.SINGLE, salary=D("2000.00"), partner=D("500.00")), "partner"),
        (
            HouseholdBudget(Household.SINGLE, salary=D("2000.00"), housing=D("100.00"), housing_allowance=D("200.00")),
            "housing_allowance",
        ),
        (HouseholdBudget(Household.SINGLE, salary=D("2000.00"), debts=(Debt(" ", D("10.00")),)), "debts"),
    ],
)
def test_bad_input_is_refused_at_its_field(budget: HouseholdBudget, field: str) -> None:
    with pytest.raises(BadInput) as err:
        run(budget)
    assert err.value.field == field


def test_costs_above_income_are_flagged() -> None:
    r = run(HouseholdBudget(Household.SINGLE, salary=D("1000.00"), housing=D("900.00"), health=D("150.00")))
    assert any(msgid.startswith("The costs") for msgid, _ in r.warnings)


def test_a_broken_norm_file_names_file_table_and_row(tmp_path: Path) -> None:
    path = tmp_path / "norms.toml"
    path.write_text(
        Path(NORMS.path).read_text(encoding="utf-8").replace("start = 2024-07-01", "start = 2024-08-01", 1),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_norms(path)
    assert "[[bijstand]] row 2" in str(err.value) and "half year" in str(err.value)


def test_propose_plan_fits_the_room_within_the_desk_limits() -> None:
    # 1.000,00 in a room of 300,00: ceil(1000/300) = 4 installments of 250,00
    p = propose_plan(D("1000.00"), D("300.00"), 12, D("25.00"))
    assert p is not None and (p.count, p.installment) == (4, D("250.00"))
    # 1.000,00 in 333,33: 4 x 250,00 (3 x 333,33 = 999,99 would not cover it)
    assert propose_plan(D("1000.00"), D("333.33"), 12, D("25.00")).count == 4  # type: ignore[union-attr]
    assert propose_plan(D("5000.00"), D("300.00"), 12, D("25.00")) is None  # 17 installments needed
    assert propose_plan(D("1000.00"), D("20.00"), 60, D("25.00")) is None  # the room is below the minimum


def test_monthly_trend_and_age() -> None:
    assert monthly(D("100.00"), "weekly") == D("433.33")  # 100 x 52 / 12 = 433,333
    assert monthly(D("100.00"), "fortnightly") == D("216.67")  # 100 x 26 / 12 = 216,667
    assert trend([D("1000.00"), D("950.00"), D("800.00")]) == "falling"
    assert trend([D("1000.00"), D("1050.00")]) == "stable"
    assert months_between(date(2026, 8, 24), date(2026, 11, 23)) == 2
    assert months_between(date(2026, 8, 23), date(2026, 11, 23)) == 3
