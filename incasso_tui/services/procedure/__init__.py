"""The daily arrears procedure run and a supervisor's manual move. Being split by use case; for now everything is
in ``stages``."""

from incasso_tui.services.procedure.stages import (
    ACTION_KINDS,
    PAY_DAYS,
    RUN_ROLES,
    SNAPSHOT_DAYS,
    RunReport,
    business_figures,
    interest_kind,
    interest_lines,
    move_stage,
    procedure_for,
    resume_dates,
    run_procedure,
)

__all__ = [
    "ACTION_KINDS",
    "PAY_DAYS",
    "RUN_ROLES",
    "SNAPSHOT_DAYS",
    "RunReport",
    "business_figures",
    "interest_kind",
    "interest_lines",
    "move_stage",
    "procedure_for",
    "resume_dates",
    "run_procedure",
]
