"""The daily arrears procedure run, and a supervisor's manual move of a case to a later stage.

``run_procedure(ctx, day)`` does, in ONE transaction (all of it or nothing):

1. refresh the ``cases.pos_*`` cache of every open case as of ``day`` (set-based, ``services.positions``:
   computed for all, written only where it changed);
2. end the pauses whose end date has passed (the case becomes active again);
3. close the active cases whose arrears is cleared;
4. open a case for every client newly in arrears (oldest unpaid due date at least the first stage's
   ``after_days`` ago) and perform the first stage's actions;
5. move every active case whose next stage is due (``stage_since`` + the next stage's ``after_days``) and
   perform that stage's actions, through the legal guards (``domain.guards``): a refused step holds the case
   and is reported under ``held``;
6. post collection costs (consumers: after the term of a DISPATCHED 14-day letter, counted from its dispatch, on the
   unpaid remainder of the installments it covers, within the stacking limit; business: from the costs stage, on
   commercial agreements only) and statutory interest per calendar month, compounded yearly, of the kind the loan
   carries (``charges.period_key`` makes a second posting impossible);
7. BKR codes that follow from the state of the book: H (an A stands, the loan's arrears is cleared), 1 (an
   arrangement made after an A), 2 (a loan called in), 3 (at least EUR 250 written off); never for a legal person
   or after a clean slate (issue 12). Code A itself needs a dispatched warning (step 5);
8. write the day's bucket snapshot (``bucket_snapshots``: the ageing bucket and arrears of every desk case, for
   the roll rates of ``services.kpi``), replacing one of the same day and pruning those older than
   ``SNAPSHOT_DAYS``, and the team view's figures (``services.kpi_snapshots``: the dashboard opens with them);
   not on a dry run;
9. write a ``ProcedureRun`` row and an audit event per state change.

Every selection is a SQL query over the whole book (no Python loop over loans); Python loops only over the
cases that act, in groups of ``common.CHUNK``. Per group the run reads row tuples (cases, clients, the loans'
positions, the BKR warnings) with a few set-based queries, calls the legal guards per case on those values, and
writes what it decided as a ``Batch``: one ``UPDATE ... WHERE id IN`` per distinct set of new case values, one
multi-row ``INSERT ... RETURNING id`` per table (letters, tasks, BKR mutations, charges) and every audit event
through ``audit.record_many``, in decision order: one event per state change with the same content, and in the
same order, as when the run wrote one case at a time. On PostgreSQL the group's cases are read ``FOR UPDATE``
(SQLite: the run holds the write lock from its start).

A second run for the same day finds nothing to do: every step is keyed on the state it leaves behind
(stage_since, letters, mutations, period keys), not on a "ran today" flag. ``dry_run`` runs the same code in a
transaction that is rolled back, so it reports exactly the counts a real run would.

Role: the run is an operator action: a supervisor or an admin (employees work cases; the run decides for the
whole book). The CLI without ``--user`` acts as the operator ``cli:<os user>`` (see incasso_tui.cli.procedure).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from sqlalchemy import Date, delete, func, insert, literal, or_, select, text

from incasso_tui.domain.enums import Role
from incasso_tui.domain.guards import BkrWindow
from incasso_tui.domain.procedure import Action, Procedure, load_procedure
from incasso_tui.errors import N_, ConfigError
from incasso_tui.services import audit, risk
from incasso_tui.services.context import Context
from incasso_tui.services.positions import bucket_of, refresh_changed_positions
from incasso_tui.services.procedure.bkr_codes import bkr_from_state
from incasso_tui.services.procedure.charges import post_costs, post_interest
from incasso_tui.services.procedure.common import Run, RunReport
from incasso_tui.services.procedure.stages import close_cleared, end_pauses, move_cases, open_cases
from incasso_tui.store.db import refresh_statistics
from incasso_tui.store.models import DESK_WHERE, BucketSnapshot, Case, ProcedureRun

RUN_ROLES = (Role.SUPERVISOR, Role.ADMIN)
SNAPSHOT_DAYS = 35  # the bucket snapshots kept: last week's and a month's margin


Progress = Callable[[str, int, int], None]


def procedure_for(ctx: Context) -> Procedure:
    """The procedure file of the settings, validated, and checked against the BKR warning window."""
    procedure = load_procedure(ctx.settings.procedure_file)
    lo, hi = ctx.settings.bkr_warning_min_days, ctx.settings.bkr_warning_max_days
    for debtor in (procedure.consumer, procedure.business):
        holder = debtor.first_with(Action.BKR_REGISTER)
        if holder is not None and not lo <= holder.after_days <= hi:
            raise ConfigError(
                N_("Procedure file {file}, stage {stage}, field {field_name}: {problem}"),
                file=procedure.source,
                stage=f"{debtor.debtor}.{holder.stage.value}",
                field_name="after_days",
                problem=f"must lie inside the BKR warning window {lo}..{hi} days",
            )
    return procedure


def run_procedure(ctx: Context, day: date, dry_run: bool = False, progress: Progress | None = None) -> RunReport:
    """Run the procedure as of ``day`` (see the module docstring). Supervisor or admin only."""
    ctx.require(*RUN_ROLES)
    procedure = procedure_for(ctx)
    started = time.perf_counter()
    report = RunReport(day=day, dry_run=dry_run)
    window = BkrWindow(ctx.settings.bkr_warning_min_days, ctx.settings.bkr_warning_max_days, ctx.settings.bkr_threshold)
    with ctx.db.sessions() as s:
        s.begin()
        s.connection(execution_options={"writer": True})
        try:
            run = Run(s, ctx, day, procedure, report, ctx.actor.name, ctx.clock.now(), window)
            run_row = None if dry_run else ProcedureRun(run_date=day, started_at=run.now, actor=run.actor, counts="{}")
            if run_row is not None:
                s.add(run_row)
            steps: Sequence[tuple[str, Callable[[Run], None]]] = (
                ("positions", lambda r: refresh_changed_positions(r.s, r.day)),
                ("pauses", end_pauses),
                ("close", close_cleared),
                ("open", open_cases),
                ("move", move_cases),
                ("costs", post_costs),
                ("interest", post_interest),
                ("bkr", bkr_from_state),
                ("positions_touched", _refresh_touched),
                # the risk view's history and early-warning signals (issue 20)
                ("risk", lambda r: risk.daily_step(r.s, r.ctx, r.day, r.actor, r.now)),
                # the roll rates' history; not on a dry run (it rolls back anyway)
                *(() if dry_run else (("snapshot", _snapshot_buckets),)),
                # the team view's figures as the run leaves the book (services.kpi_snapshots); not on a dry run
                *(() if dry_run else (("kpi", _snapshot_kpi),)),
                # the worklist's query plans follow the stages and positions just changed (0.1-0.3 s on 1M loans)
                ("statistics", lambda r: refresh_statistics(r.s.connection(), ("cases",))),
            )
            for number, (name, step) in enumerate(steps, start=1):
                if progress:
                    progress(name, number - 1, len(steps))
                step_started = time.perf_counter()
                step(run)
                report.steps[name] = time.perf_counter() - step_started
            if progress:
                progress("done", len(steps), len(steps))
            report.seconds = time.perf_counter() - started
            if run_row is not None:
                run_row.finished_at = ctx.clock.now()
                run_row.counts = json.dumps({**report.actions, "held": dict(report.held)}, sort_keys=True)
                s.flush()
                report.run_id = run_row.id
                audit.record(
                    s,
                    at=run.now,
                    actor=run.actor,
                    action="procedure.run",
                    entity="procedure_run",
                    entity_id=run_row.id,
                    after={"date": day, "actions": report.actions},
                )
                s.commit()
            else:
                s.rollback()
        except BaseException:
            s.rollback()
            raise
    return report


def _snapshot_buckets(run: Run) -> None:
    """The bucket and arrears of every desk case as of the run day, in one ``INSERT ... SELECT``; a re-run the same
    day replaces the day's snapshot, snapshots older than ``SNAPSHOT_DAYS`` go. Bulk data, not a change of any case:
    one ``procedure.snapshot`` event with the count (docs/decisions.md)."""
    run.s.execute(
        delete(BucketSnapshot).where(
            or_(BucketSnapshot.day == run.day, BucketSnapshot.day < run.day - timedelta(days=SNAPSHOT_DAYS))
        )
    )
    run.s.execute(
        insert(BucketSnapshot).from_select(
            ["day", "case_id", "bucket", "arrears"],
            select(literal(run.day, Date), Case.id, bucket_of(run.day), Case.pos_arrears).where(text(DESK_WHERE)),
        )
    )
    # counted, not the INSERT's rowcount: psycopg reports -1 for INSERT ... SELECT through SQLAlchemy
    written = run.s.scalar(select(func.count()).select_from(BucketSnapshot).where(BucketSnapshot.day == run.day))
    audit.record(
        run.s,
        at=run.now,
        actor=run.actor,
        action="procedure.snapshot",
        entity="bucket_snapshot",
        entity_id=None,
        after={"date": run.day, "cases": written},
    )


def _snapshot_kpi(run: Run) -> None:
    """The dashboard's figures of the run day for the whole desk (``services.kpi_snapshots``), with its
    ``kpi.snapshot`` event."""
    from incasso_tui.services.kpi_snapshots import write_daily

    write_daily(run.s, run.ctx.db.backend, run.day, run.actor, run.now)


def _refresh_touched(run: Run) -> None:
    """The position cache of the cases this run opened, moved, resumed or charged."""
    refresh_changed_positions(run.s, run.day, run.touched)
