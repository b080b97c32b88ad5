"""The cause of the arrears on a case (issue 15): one value, ``cases.cause``, with its history in ``case_causes``.

The cause comes from the form where the desk learnt it: a contact, a deferral proposal or the client's budget.
:func:`record_cause` is called by those use cases inside their own transaction; a cause equal to the current one
adds nothing (the history lists changes). :func:`cause_counts` is the dashboard's count of the desk's cases per
cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from incasso_tui.domain.enums import ArrearsCause
from incasso_tui.errors import N_, BadInput
from incasso_tui.services import audit
from incasso_tui.services.context import Context
from incasso_tui.services.kpi import WHOLE_DESK_ROLES
from incasso_tui.store.models import DESK_WHERE, Case, CaseCause

SOURCES = ("contact", "deferral", "budget")


@dataclass(frozen=True)
class CauseRow:
    cause: str
    source: str
    set_by: str
    set_at: datetime


def record_cause(s: Session, case: Case, cause: ArrearsCause, source: str, actor: str, now: datetime) -> bool:
    """Make ``cause`` the case's cause (in the caller's transaction, with its audit event); False when it already was."""
    if not isinstance(cause, ArrearsCause):
        raise BadInput(N_("Unknown cause: {value}"), field="cause", value=cause)
    assert source in SOURCES
    if case.cause == cause.value:
        return False
    before = case.cause
    row = CaseCause(case_id=case.id, cause=cause.value, source=source, set_by=actor, set_at=now)
    s.add(row)
    case.cause = cause.value
    case.updated_by, case.updated_at = actor, now  # no flush here: the caller's one flush raises the version once
    audit.record(
        s,
        at=now,
        actor=actor,
        action="case.cause",
        entity="case",
        entity_id=case.id,
        case_id=case.id,
        before={"cause": before},
        after={"cause": cause.value, "source": source},
    )
    return True


def cause_history(s: Session, case_id: int) -> list[CauseRow]:
    """Newest first."""
    return [
        CauseRow(r.cause, r.source, r.set_by, r.set_at)
        for r in s.scalars(select(CaseCause).where(CaseCause.case_id == case_id).order_by(CaseCause.id.desc()))
    ]


def cause_counts(ctx: Context) -> dict[str, int]:
    """The desk's open cases per current cause (``unknown`` for none), in the dashboard's scope: the whole desk for
    supervisors, admins and auditors, one's own cases for everyone else."""
    with ctx.db.reader() as s:
        return cause_counts_in(s, None if ctx.actor.role in WHOLE_DESK_ROLES else ctx.actor.id)


def cause_counts_in(s: Session, user_id: int | None) -> dict[str, int]:
    """:func:`cause_counts` in the caller's session: the whole desk (``user_id`` None) or that user's cases."""
    mine = [] if user_id is None else [Case.assignee_id == user_id]
    rows = s.execute(select(Case.cause, func.count()).where(text(DESK_WHERE), *mine).group_by(Case.cause)).all()
    counts = {c.value: 0 for c in ArrearsCause}
    counts["unknown"] = 0
    for cause, count in rows:
        counts[cause or "unknown"] = counts.get(cause or "unknown", 0) + int(count)
    return counts


# the same statements as migration 0014 (for a generated book, whose contacts were written without the services)
BACKFILL = (
    """INSERT INTO case_causes (case_id, cause, source, set_by, set_at)
       SELECT c.case_id, c.cause, 'contact', c.user_name, c.at FROM contacts c
       WHERE c.cause IS NOT NULL AND c.id = (SELECT c2.id FROM contacts c2 WHERE c2.case_id = c.case_id
             AND c2.cause IS NOT NULL ORDER BY c2.at DESC, c2.id DESC LIMIT 1)""",
    """UPDATE cases SET cause = (SELECT cc.cause FROM case_causes cc WHERE cc.case_id = cases.id
                                 ORDER BY cc.id DESC LIMIT 1)
       WHERE cause IS NULL AND EXISTS (SELECT 1 FROM case_causes cc WHERE cc.case_id = cases.id)""",
)
