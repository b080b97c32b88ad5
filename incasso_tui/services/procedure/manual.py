"""A supervisor's manual move of a case to a later stage, past the procedure."""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from incasso_tui.domain.enums import Role
from incasso_tui.domain.guards import check_manual_stage_move
from incasso_tui.domain.procedure import STAGE_ORDER
from incasso_tui.errors import N_, NotFound
from incasso_tui.services import audit
from incasso_tui.services.cases import changed_by, load_case
from incasso_tui.services.context import Context


def move_stage(ctx: Context, case_id: int, target: str, reason: str, expected_version: int | None = None) -> None:
    """A supervisor moves a case to a later stage, past the procedure, with a reason (audited). The stage's
    automatic actions are NOT performed: letters, costs and BKR codes keep their own guards."""
    if target not in STAGE_ORDER:
        raise NotFound(N_("Unknown stage {stage}"), stage=target)
    try:
        with ctx.db.transaction() as s:
            c = load_case(s, case_id)
            if expected_version is not None and c.version != expected_version:
                raise changed_by(c)
            check_manual_stage_move(c.stage, target, supervisor=ctx.actor.role == Role.SUPERVISOR, reason=reason)
            before = {"stage": c.stage, "stage_since": c.stage_since or c.opened_on}
            c.stage, c.stage_since = target, ctx.clock.today()
            c.updated_by, c.updated_at = ctx.actor.name, ctx.clock.now()
            audit.record(
                s,
                at=ctx.clock.now(),
                actor=ctx.actor.name,
                action="case.stage_skip",
                entity="case",
                entity_id=c.id,
                case_id=c.id,
                before=before,
                after={"stage": target, "stage_since": c.stage_since, "reason": reason.strip()},
            )
    except StaleDataError:  # another writer committed between our read and our flush (the version check)
        with ctx.db.reader() as s:
            raise changed_by(load_case(s, case_id)) from None
