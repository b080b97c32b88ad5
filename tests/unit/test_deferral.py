"""Deferral of repayment: interest-only months, then the term extended or the installments raised."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incasso_tui.domain.deferral import propose_deferral
from incasso_tui.domain.schedule import add_months, build_schedule
from incasso_tui.errors import BadInput, RuleViolation

RATE = Decimal("0.0795")


def _remaining(kind: str = "annuity", principal: str = "24000.00", term: int = 36, paid: int = 12) -> list:  # type: ignore[type-arg]
    return build_schedule(kind, Decimal(principal), RATE, term, date(2025, 12, 1))[paid:]


def test_deferred_months_pay_interest_only_on_the_unchanged_balance() -> None:
    remaining = _remaining()
    proposal = propose_deferral(repayment="annuity", annual_rate=RATE, remaining=remaining, months=3, max_months=6)
    balance = remaining[0].principal + remaining[0].balance_after
    assert proposal.balance == balance
    for line in proposal.extend_term.lines[:3]:
        assert line.principal == 0 and line.balance_after == balance
        assert line.interest == (balance * RATE / 12).quantize(Decimal("0.01"))
    assert [ln.due_date for ln in proposal.extend_term.lines[:4]] == [
        add_months(remaining[0].due_date, i) for i in range(4)
    ]


def test_extending_the_term_ends_later_and_keeps_the_installment_raising_keeps_the_end() -> None:
    remaining = _remaining()
    proposal = propose_deferral(repayment="annuity", annual_rate=RATE, remaining=remaining, months=3, max_months=6)
    extend, raise_ = proposal.extend_term, proposal.raise_installments
    assert raise_ is not None
    assert extend.end_date == add_months(remaining[-1].due_date, 3)
    assert raise_.end_date == remaining[-1].due_date
    assert abs(extend.regular_installment - remaining[0].amount) <= Decimal("0.01")
    assert raise_.regular_installment > remaining[0].amount
    # paying principal later costs interest: more when it is spread over a longer term
    assert proposal.extra_interest(extend) > proposal.extra_interest(raise_) > 0


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["annuity", "linear"]),
    principal=st.decimals(min_value=Decimal("500"), max_value=Decimal("50000"), places=2),
    term=st.integers(min_value=2, max_value=120),
    months=st.integers(min_value=1, max_value=6),
    data=st.data(),
)
def test_every_option_repays_exactly_the_deferred_balance(kind, principal, term, months, data) -> None:  # type: ignore[no-untyped-def]
    paid = data.draw(st.integers(min_value=0, max_value=term - 1))
    remaining = build_schedule(kind, principal, RATE, term, date(2025, 1, 31))[paid:]
    proposal = propose_deferral(repayment=kind, annual_rate=RATE, remaining=remaining, months=months, max_months=6)
    options = [proposal.extend_term] + ([proposal.raise_installments] if proposal.raise_installments else [])
    assert (proposal.raise_installments is None) == (len(remaining) <= months)
    for option in options:
        assert sum(ln.principal for ln in option.lines) == proposal.balance
        assert option.lines[-1].balance_after == 0
        assert [ln.seq for ln in option.lines] == list(range(remaining[0].seq, remaining[0].seq + len(option.lines)))


@pytest.mark.parametrize("months", [0, 7, -1])
def test_months_outside_the_setting_are_refused(months: int) -> None:
    with pytest.raises(BadInput) as caught:
        propose_deferral(repayment="annuity", annual_rate=RATE, remaining=_remaining(), months=months, max_months=6)
    assert caught.value.field == "months" and "1 to 6 months" in str(caught.value)


def test_a_loan_with_nothing_left_cannot_be_deferred() -> None:
    with pytest.raises(RuleViolation):
        propose_deferral(repayment="annuity", annual_rate=RATE, remaining=[], months=2, max_months=6)
