"""The legal guards of the arrears procedure. Code, not configuration: no setting or file switches them off.

Each guard returns nothing when the step is allowed and raises :class:`RuleViolation` (or
:class:`NotAllowed` for a role) with a message a collections employee understands when it is not. The
services call them for every automatic and every manual step; the daily run catches a refusal, holds the
case and reports why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from incasso_tui.domain.costs import consumer_costs_for_claims, wik_costs
from incasso_tui.domain.enums import CaseStatus
from incasso_tui.domain.money import ZERO
from incasso_tui.domain.procedure import STAGE_ORDER
from incasso_tui.domain.schedule import add_months
from incasso_tui.errors import N_, NotAllowed, RuleViolation

__all__ = [
    "BKR_A_MONTHS",
    "BkrArrearsRule",
    "BkrRefused",
    "BkrWarningFact",
    "BkrWindow",
    "ClaimPrincipal",
    "check_automatic_step",
    "check_bkr_call_in",
    "check_bkr_cleared",
    "check_bkr_registration",
    "check_bkr_write_off",
    "check_consumer_costs_date",
    "check_costs_within_wik",
    "check_letter_has_all_claims",
    "check_manual_stage_move",
    "check_vulnerable_escalation",
    "consumer_letter_costs",
    "WRITE_OFF_CODE_MINIMUM",
]

BKR_A_MONTHS = 2  # code A: an arrears that has existed for 2 months after the due date
WRITE_OFF_CODE_MINIMUM = Decimal("250.00")  # code 3: at least EUR 250 written off


# ----- no automatic step on a case that is stopped


def check_automatic_step(status: str, open_debt_track: bool, pause_until: date | None, day: date) -> None:
    """The procedure acts automatically only on an active case outside any debt-relief or insolvency track."""
    if open_debt_track or status == CaseStatus.INSOLVENCY:
        raise RuleViolation(N_("The client is in a debt-relief or insolvency track: the procedure is stopped"))
    if status == CaseStatus.PAUSED:
        raise RuleViolation(N_("The case is paused until {until}: no automatic step"), until=pause_until or day)
    if status == CaseStatus.ARRANGEMENT:
        raise RuleViolation(N_("The case has an active payment arrangement: no automatic step"))
    if status == CaseStatus.DEFERRAL:
        raise RuleViolation(N_("The case has a deferral of repayment: no automatic step"))
    if status == CaseStatus.HANDED_OVER:
        raise RuleViolation(N_("The case is handed over to special management: no automatic step"))
    if status == CaseStatus.CLOSED:
        raise RuleViolation(N_("The case is closed"))


def check_vulnerable_escalation(flagged: bool, target: str, max_automatic_stage: str) -> None:
    """A client with a vulnerability flag is not escalated automatically beyond ``max_automatic_stage`` (the
    reminder, data/risk.toml): a person decides (issue 20; directive (EU) 2023/2225 art. 35)."""
    if flagged and STAGE_ORDER[target] > STAGE_ORDER[max_automatic_stage]:
        raise RuleViolation(
            N_("The client is flagged as vulnerable: no automatic step beyond {stage}; a person decides"),
            stage=max_automatic_stage,
        )


# ----- stages by hand


def check_manual_stage_move(current: str, target: str, *, supervisor: bool, reason: str) -> None:
    """Stages cannot be skipped by hand, except by a supervisor with a reason (the service audits it)."""
    if not supervisor:
        raise NotAllowed(N_("Only a supervisor may move a case to a later stage by hand"))
    if STAGE_ORDER[target] <= STAGE_ORDER[current]:
        raise RuleViolation(
            N_("A case can only be moved forward: {target} is not after {current}"), target=target, current=current
        )
    if not reason.strip():
        raise RuleViolation(N_("Moving a case past the procedure needs a reason"))


# ----- collection costs


def check_consumer_costs_date(costs_from: date | None, day: date) -> None:
    """No collection costs for a consumer before the term of a valid 14-day letter has passed (art. 6:96 lid 6 BW)."""
    if costs_from is None:
        raise RuleViolation(N_("No collection costs for a consumer without a 14-day letter"))
    if day < costs_from:
        raise RuleViolation(
            N_("No collection costs before {costs_from}: the term of the 14-day letter has not passed"),
            costs_from=costs_from,
        )


def check_costs_within_wik(amount: Decimal, principal: Decimal) -> None:
    """Collection costs are never above the WIK scale on the principal (Besluit BIK art. 2)."""
    cap = wik_costs(principal)
    if amount > cap:
        raise RuleViolation(
            N_("Collection costs of {amount} are above the WIK scale ({cap} on a principal of {principal})"),
            amount=amount,
            cap=cap,
            principal=principal,
        )


@dataclass(frozen=True)
class ClaimPrincipal:
    loan_id: int
    principal: Decimal


def check_letter_has_all_claims(in_letter: Iterable[int], in_arrears: Iterable[int]) -> None:
    """All claims against one consumer go into one 14-day letter (art. 6:96 lid 7 BW)."""
    missing = sorted(set(in_arrears) - set(in_letter))
    if missing:
        raise RuleViolation(
            N_("The 14-day letter must hold every claim against the consumer; missing: {loans}"),
            loans=", ".join(str(m) for m in missing),
        )


def consumer_letter_costs(claims: Iterable[ClaimPrincipal], in_arrears: Iterable[int]) -> tuple[Decimal, Decimal]:
    """(summed principal, costs) for a consumer's 14-day letter: every claim in it, WIK on the sum."""
    claims = list(claims)
    check_letter_has_all_claims((c.loan_id for c in claims), in_arrears)
    total = sum((c.principal for c in claims), ZERO)
    return total, consumer_costs_for_claims(c.principal for c in claims)


# ----- BKR


class BkrRefused(RuleViolation):
    """A refused code A; ``why`` tells the run whether to wait, warn again or pass the registration by:
    cleared | threshold | too_early | no_warning | warning_too_young | warning_too_old."""

    def __init__(self, msgid: str, *, why: str, **params: object) -> None:
        super().__init__(msgid, **params)
        self.why = why


@dataclass(frozen=True)
class BkrWindow:
    """The BKR warning must be sent at least ``min_days`` and at most ``max_days`` before the report."""

    min_days: int
    max_days: int
    threshold: Decimal

    def __post_init__(self) -> None:
        if not 0 <= self.min_days <= self.max_days:
            raise ValueError(f"bad BKR warning window {self.min_days}..{self.max_days}")


@dataclass(frozen=True)
class BkrWarningFact:
    """A dispatched BKR warning: the day it is assumed received (from its dispatch) and the registration date the
    letter stated ("on or after")."""

    received: date
    report_from: date


@dataclass(frozen=True)
class BkrArrearsRule:
    """Code A needs arrears in the sense of the rulebook as far as it could be verified (data/bkr.toml): at least
    ``min_installments`` installments in arrears or ``min_days_past_due`` days past due, and an arrears that has
    existed ``months_after_due`` months after its due date."""

    min_installments: int = 2
    min_days_past_due: int = 60
    months_after_due: int = BKR_A_MONTHS


def check_bkr_registration(
    *,
    day: date,
    warning: BkrWarningFact | None,
    window: BkrWindow,
    arrears: Decimal,
    oldest_due: date | None,
    installments_in_arrears: int,
    rule: BkrArrearsRule,
) -> None:
    """Code A: only after a DISPATCHED warning, ``min..max`` days after its assumed receipt and not before the date
    the warning stated; with an arrears at or above the threshold that is an arrears in the sense of ``rule``."""
    if oldest_due is None or arrears <= 0:
        raise BkrRefused(N_("No BKR registration: the arrears is cleared"), why="cleared")
    if arrears < window.threshold:
        raise BkrRefused(
            N_("No BKR registration: the arrears {arrears} is below the threshold {threshold}"),
            why="threshold",
            arrears=arrears,
            threshold=window.threshold,
        )
    registrable = add_months(oldest_due, rule.months_after_due)
    if day < registrable:
        raise BkrRefused(
            N_("No BKR registration before {day}: the arrears must have existed for {months} months"),
            why="too_early",
            day=registrable,
            months=rule.months_after_due,
        )
    if installments_in_arrears < rule.min_installments and (day - oldest_due).days < rule.min_days_past_due:
        raise BkrRefused(
            N_("No BKR registration: {count} installment(s) in arrears, the rule asks {min} or {days} days past due"),
            why="too_few_installments",
            count=installments_in_arrears,
            min=rule.min_installments,
            days=rule.min_days_past_due,
        )
    if warning is None:
        raise BkrRefused(
            N_("No BKR registration without a dispatched warning letter received {min} to {max} days before"),
            why="no_warning",
            min=window.min_days,
            max=window.max_days,
        )
    earliest = max(warning.received + timedelta(days=window.min_days), warning.report_from)
    if day < earliest:
        raise BkrRefused(
            N_("No BKR registration before {day}: the warning received on {received} needs {min} days"),
            why="warning_too_young",
            day=earliest,
            received=warning.received,
            min=window.min_days,
        )
    if (day - warning.received).days > window.max_days:
        raise BkrRefused(
            N_(
                "No BKR registration: the warning received on {received} is more than {max} days old; send a new warning"
            ),
            why="warning_too_old",
            received=warning.received,
            max=window.max_days,
        )


def check_bkr_cleared(open_a: bool, arrears: Decimal) -> None:
    """Code H: only where an A stands and the arrears is cleared."""
    if not open_a:
        raise RuleViolation(N_("No BKR code H: there is no code A to clear"))
    if arrears > 0:
        raise RuleViolation(N_("No BKR code H: the arrears of {arrears} is not cleared"), arrears=arrears)


def check_bkr_call_in(loan_status: str) -> None:
    """Code 2: the loan has been called in full (opeising)."""
    if loan_status != "called":
        raise RuleViolation(N_("No BKR code 2: the loan has not been called in"))


def check_bkr_write_off(written_off: Decimal) -> None:
    """Code 3: at least EUR 250 written off."""
    if written_off < WRITE_OFF_CODE_MINIMUM:
        raise RuleViolation(
            N_("No BKR code 3: {amount} written off is below {minimum}"),
            amount=written_off,
            minimum=WRITE_OFF_CODE_MINIMUM,
        )
