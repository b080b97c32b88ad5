"""The BKR status of a client's loans, for the client detail's panel (issue 13), and the BKR mutation a decision
would cause, for the approval screen.

:func:`bkr_panel` is the one read of it: per loan the registered code and its date, the warning letter (its
date and state as the letters table has it today: pending, rendered, sent; the dispatch records of the letter
life cycle are to be read here when they exist), the mutations not yet exported, and what the daily procedure
will do next and when (from ``data/procedure.toml``, the case's stage and the day it entered it). Nothing is
written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from incasso_tui.domain.enums import CaseStatus
from incasso_tui.domain.guards import WRITE_OFF_CODE_MINIMUM
from incasso_tui.domain.procedure import LETTER_KIND, Action, load_procedure
from incasso_tui.services.cases import load_case
from incasso_tui.services.context import Context
from incasso_tui.store.models import BkrMutation, Client, Letter, Loan

__all__ = ["BkrPanel", "LoanBkr", "NextStep", "bkr_panel", "decision_mutation"]

# codes that end a registration (the loan is in order again / the registration is removed)
_CLEARING = {"H", "SH"}


@dataclass(frozen=True)
class LoanBkr:
    loan_number: str
    code: str | None  # the registration standing now (None: nothing registered)
    since: date | None
    pending: tuple[tuple[str, date], ...]  # mutations not yet exported: (code, date)


@dataclass(frozen=True)
class NextStep:
    """What the daily procedure does next on the case: ``what`` is a stage (domain.enums.Stage) or a reason it
    does nothing (paused, handed_over, arrangement, deferral, insolvency, closed, last_stage)."""

    what: str
    on: date | None
    registers_code_a: bool  # that stage registers BKR code A


@dataclass(frozen=True)
class BkrPanel:
    loans: tuple[LoanBkr, ...]
    warning_date: date | None  # the newest BKR warning letter
    warning_state: str | None  # pending | rendered | sent | failed
    warning_sent_at: date | None
    next_step: NextStep


def _standing(mutations: list[BkrMutation]) -> tuple[str | None, date | None]:
    code: str | None = None
    since: date | None = None
    for m in mutations:  # oldest first
        if m.code in _CLEARING:
            code, since = None, None
        else:
            code, since = m.code, m.mutation_date
    return code, since


def bkr_panel(ctx: Context, case_id: int) -> BkrPanel:
    with ctx.db.reader() as s:
        case = load_case(s, case_id)
        client = s.get(Client, case.client_id)
        assert client is not None
        loans = list(s.scalars(select(Loan).where(Loan.client_id == client.id).order_by(Loan.number)))
        mutations: dict[int, list[BkrMutation]] = {loan.id: [] for loan in loans}
        for m in s.scalars(select(BkrMutation).where(BkrMutation.client_id == client.id)
                           .order_by(BkrMutation.mutation_date, BkrMutation.id)):
            mutations.setdefault(m.loan_id, []).append(m)
        rows = []
        for loan in loans:
            code, since = _standing(mutations[loan.id])
            pending = tuple((m.code, m.mutation_date) for m in mutations[loan.id] if m.exported_on is None)
            rows.append(LoanBkr(loan.number, code, since, pending))
        warning = s.scalar(select(Letter).where(Letter.case_id == case.id,
                                                Letter.kind == LETTER_KIND[Action.BKR_WARNING_LETTER])
                           .order_by(Letter.letter_date.desc(), Letter.id.desc()).limit(1))
        return BkrPanel(
            loans=tuple(rows),
            warning_date=warning.letter_date if warning else None,
            warning_state=warning.status if warning else None,
            warning_sent_at=warning.sent_at.date() if warning and warning.sent_at else None,
            next_step=_next_step(ctx, case.status, case.stage, case.stage_since or case.opened_on, client.consumer),
        )


def _next_step(ctx: Context, status: str, stage: str, since: date, consumer: bool) -> NextStep:
    if status != CaseStatus.ACTIVE.value:
        return NextStep(status, None, False)
    procedure = load_procedure(ctx.settings.procedure_file).for_debtor(consumer)
    target = procedure.next_after(stage)
    if target is None:
        return NextStep("last_stage", None, False)
    on = max(since + timedelta(days=target.after_days), ctx.clock.today())
    return NextStep(target.stage.value, on, Action.BKR_REGISTER in target.actions)


def decision_mutation(kind: str, payload: dict[str, object]) -> str | None:
    """The BKR code approving a proposal registers (the rules of services.proposals): a call-in code 2, a
    write-off of EUR 250 or more code 3; a deferral none."""
    if kind == "call_in":
        return "2"
    if kind == "write_off" and Decimal(str(payload.get("amount", "0"))) >= WRITE_OFF_CODE_MINIMUM:
        return "3"
    return None
