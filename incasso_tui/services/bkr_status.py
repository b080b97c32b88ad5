"""The BKR status of a client's loans, for the client detail's panel (issue 13).

:func:`bkr_panel` is the one read of it: per loan the registered code and its date, the warning letter (its date,
its state in the letter life cycle of issue 12 — made, waiting for a print batch, dispatched, failed — the day it
was dispatched and the day it is assumed received, from which the BKR window counts), the mutations not yet
exported, and what the daily procedure will do next and when (from ``data/procedure.toml``, the case's stage and
the day it entered it). Nothing is written. What a decision registers is ``services.proposals.decision_bkr_code``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from incasso_tui.domain.enums import CaseStatus
from incasso_tui.domain.legal_data import load_bkr_rules
from incasso_tui.domain.procedure import LETTER_KIND, Action, load_procedure
from incasso_tui.services.cases import load_case
from incasso_tui.services.context import Context
from incasso_tui.store.models import BkrMutation, Client, Letter, Loan

__all__ = ["BkrPanel", "LoanBkr", "NextStep", "bkr_panel"]

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
    warning_state: str | None  # pending | rendered | sent | failed | cancelled (issue 12's life cycle)
    warning_sent_at: date | None  # the day it was dispatched (posted in a batch, or accepted by the mail server)
    warning_received_on: date | None  # assumed received: the BKR window counts from here
    next_step: NextStep
    legal_person: bool = False  # the client is a legal person (data/bkr.toml): the BKR registers none of its loans


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
        for m in s.scalars(
            select(BkrMutation)
            .where(BkrMutation.client_id == client.id)
            .order_by(BkrMutation.mutation_date, BkrMutation.id)
        ):
            mutations.setdefault(m.loan_id, []).append(m)
        rows = []
        for loan in loans:
            code, since = _standing(mutations[loan.id])
            pending = tuple((m.code, m.mutation_date) for m in mutations[loan.id] if m.exported_on is None)
            rows.append(LoanBkr(loan.number, code, since, pending))
        warning = s.scalar(
            select(Letter)
            .where(Letter.case_id == case.id, Letter.kind == LETTER_KIND[Action.BKR_WARNING_LETTER])
            .order_by(Letter.letter_date.desc(), Letter.id.desc())
            .limit(1)
        )
        return BkrPanel(
            loans=tuple(rows),
            warning_date=warning.letter_date if warning else None,
            warning_state=warning.status if warning else None,
            warning_sent_at=warning.dispatched_on if warning else None,
            warning_received_on=warning.received_on if warning else None,
            next_step=_next_step(ctx, case.status, case.stage, case.stage_since or case.opened_on, client.consumer),
            legal_person=client.kind in load_bkr_rules().legal_person_kinds,
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
