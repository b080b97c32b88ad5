"""Each legal guard of the procedure refuses the step with a message an employee understands."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from incasso_tui.domain.guards import (
    BkrArrearsRule,
    BkrRefused,
    BkrWarningFact,
    BkrWindow,
    ClaimPrincipal,
    check_automatic_step,
    check_bkr_call_in,
    check_bkr_cleared,
    check_bkr_registration,
    check_bkr_write_off,
    check_consumer_costs_date,
    check_costs_within_wik,
    check_letter_has_all_claims,
    check_manual_stage_move,
    consumer_letter_costs,
)
from incasso_tui.errors import NotAllowed, RuleViolation

D = date(2026, 11, 23)
WINDOW = BkrWindow(5, 14, Decimal("50.00"))


def test_no_consumer_costs_before_the_term_of_the_fourteen_day_letter() -> None:
    with pytest.raises(
        RuleViolation, match="No collection costs before 2026-12-10: the term of the 14-day letter has not passed"
    ):
        check_consumer_costs_date(date(2026, 12, 10), date(2026, 12, 9))
    with pytest.raises(RuleViolation, match="without a 14-day letter"):
        check_consumer_costs_date(None, D)
    check_consumer_costs_date(date(2026, 12, 10), date(2026, 12, 10))  # the first allowed day


def test_costs_never_above_the_wik_scale() -> None:
    with pytest.raises(
        RuleViolation, match=r"Collection costs of 150.01 are above the WIK scale \(150.00 on a principal of 1000.00\)"
    ):
        check_costs_within_wik(Decimal("150.01"), Decimal("1000.00"))
    check_costs_within_wik(Decimal("150.00"), Decimal("1000.00"))


def test_all_claims_of_a_consumer_in_one_letter_with_wik_on_the_sum() -> None:
    with pytest.raises(RuleViolation, match="must hold every claim against the consumer; missing: 7"):
        check_letter_has_all_claims([3], [3, 7])
    principal, costs = consumer_letter_costs(
        [ClaimPrincipal(3, Decimal("2500.00")), ClaimPrincipal(7, Decimal("2500.00"))], [3, 7]
    )
    # WIK on 5,000 (625.00), not twice WIK on 2,500 (750.00): art. 6:96 lid 7 BW
    assert (principal, costs) == (Decimal("5000.00"), Decimal("625.00"))


RULE = BkrArrearsRule(min_installments=2, min_days_past_due=60, months_after_due=2)


def _warned(received: date, report_from: date | None = None) -> BkrWarningFact:
    return BkrWarningFact(received=received, report_from=report_from or received)


@pytest.mark.parametrize(
    ("warning", "why", "message"),
    [
        (None, "no_warning", "without a dispatched warning letter received 5 to 14 days before"),
        (
            _warned(date(2026, 11, 20)),
            "warning_too_young",
            "No BKR registration before 2026-11-25: the warning received on 2026-11-20 needs 5 days",
        ),
        (_warned(date(2026, 11, 8)), "warning_too_old", "the warning received on 2026-11-08 is more than 14 days old"),
        # received 10 days before, but the letter said "on or after 2026-11-26": not before that date
        (_warned(date(2026, 11, 13), date(2026, 11, 26)), "warning_too_young", "No BKR registration before 2026-11-26"),
    ],
)
def test_no_bkr_registration_without_a_dispatched_warning_inside_the_window(
    warning: BkrWarningFact | None, why: str, message: str
) -> None:
    with pytest.raises(BkrRefused, match=message) as err:
        check_bkr_registration(
            day=D,
            warning=warning,
            window=WINDOW,
            arrears=Decimal("300.00"),
            oldest_due=date(2026, 9, 1),
            installments_in_arrears=3,
            rule=RULE,
        )
    assert err.value.why == why


def test_bkr_registration_window_edges_are_inclusive_counted_from_receipt() -> None:
    for received in (date(2026, 11, 18), date(2026, 11, 9)):  # received 5 and 14 days before
        check_bkr_registration(
            day=D,
            warning=_warned(received),
            window=WINDOW,
            arrears=Decimal("300.00"),
            oldest_due=date(2026, 9, 1),
            installments_in_arrears=3,
            rule=RULE,
        )


def test_code_a_needs_arrears_in_the_sense_of_the_rule() -> None:
    """One installment behind for 61 days passes by the days; one installment 59 days... is too early anyway; two
    installments always count (2 months after the oldest due date having passed)."""
    common = {
        "day": D,
        "warning": _warned(date(2026, 11, 15)),
        "window": WINDOW,
        "arrears": Decimal("300.00"),
        "rule": RULE,
    }
    # one installment, due 2026-09-22: 2 months passed on 2026-11-22, but only 61 days past due... 61 >= 60 passes
    check_bkr_registration(**common, oldest_due=date(2026, 9, 22), installments_in_arrears=1)
    # a rule asking 75 days: one installment of 61 days is not enough, two are
    strict = BkrArrearsRule(min_installments=2, min_days_past_due=75, months_after_due=2)
    with pytest.raises(BkrRefused, match="1 installment\\(s\\) in arrears, the rule asks 2 or 75 days") as err:
        check_bkr_registration(**{**common, "rule": strict}, oldest_due=date(2026, 9, 22), installments_in_arrears=1)
    assert err.value.why == "too_few_installments"
    check_bkr_registration(**{**common, "rule": strict}, oldest_due=date(2026, 9, 22), installments_in_arrears=2)


def test_no_bkr_registration_below_the_threshold_when_cleared_or_before_two_months() -> None:
    common = {
        "day": D,
        "warning": _warned(date(2026, 11, 15)),
        "window": WINDOW,
        "installments_in_arrears": 3,
        "rule": RULE,
    }
    with pytest.raises(BkrRefused, match="below the threshold") as err:
        check_bkr_registration(**common, arrears=Decimal("49.99"), oldest_due=date(2026, 9, 1))
    assert err.value.why == "threshold"
    with pytest.raises(BkrRefused, match="the arrears is cleared"):
        check_bkr_registration(**common, arrears=Decimal("0.00"), oldest_due=None)
    with pytest.raises(
        BkrRefused, match="No BKR registration before 2026-11-24: the arrears must have existed for 2 months"
    ):
        check_bkr_registration(**common, arrears=Decimal("300.00"), oldest_due=date(2026, 9, 24))


def test_bkr_follow_up_codes() -> None:
    with pytest.raises(RuleViolation, match="No BKR code H: the arrears of 10.00 is not cleared"):
        check_bkr_cleared(True, Decimal("10.00"))
    with pytest.raises(RuleViolation, match="no code A to clear"):
        check_bkr_cleared(False, Decimal("0.00"))
    with pytest.raises(RuleViolation, match="has not been called in"):
        check_bkr_call_in("active")
    with pytest.raises(RuleViolation, match="No BKR code 3: 249.99 written off is below 250.00"):
        check_bkr_write_off(Decimal("249.99"))
    check_bkr_cleared(True, Decimal("0.00"))
    check_bkr_call_in("called")
    check_bkr_write_off(Decimal("250.00"))


@pytest.mark.parametrize(
    ("status", "track", "message"),
    [
        ("paused", False, "paused until 2026-12-01"),
        ("arrangement", False, "active payment arrangement"),
        ("handed_over", False, "handed over to special management"),
        ("insolvency", False, "debt-relief or insolvency track"),
        ("active", True, "debt-relief or insolvency track"),
        ("deferral", False, "deferral of repayment"),
    ],
)
def test_no_automatic_step_on_a_stopped_case(status: str, track: bool, message: str) -> None:
    with pytest.raises(RuleViolation, match=message):
        check_automatic_step(status, track, date(2026, 12, 1), D)


def test_an_active_case_may_step() -> None:
    check_automatic_step("active", False, None, D)


def test_stages_cannot_be_skipped_by_hand_except_by_a_supervisor_with_a_reason() -> None:
    with pytest.raises(NotAllowed, match="Only a supervisor"):
        check_manual_stage_move("reminder", "call_in", supervisor=False, reason="fraude")
    with pytest.raises(RuleViolation, match="needs a reason"):
        check_manual_stage_move("reminder", "call_in", supervisor=True, reason=" ")
    with pytest.raises(RuleViolation, match="only be moved forward"):
        check_manual_stage_move("call_in", "demand", supervisor=True, reason="fraude")
    check_manual_stage_move("reminder", "call_in", supervisor=True, reason="fraude")
