"""The daily arrears procedure run (``run_procedure``) and a supervisor's manual move of a case to a later stage
(``move_stage``).

One module per use case; the package re-exports their public names (``from incasso_tui.services.procedure import
run_procedure`` is the way in):

- ``run``: :func:`run_procedure`, the run in one transaction, its steps in order (see its module docstring), the
  bucket snapshot; :func:`procedure_for`;
- ``stages``: pauses ended, cases closed, opened and moved, with each stage's actions (letters and their figures,
  tasks, the BKR code A after a dispatched warning); :func:`business_figures`;
- ``charges``: collection costs and statutory interest, and the interest helpers the debt tracks share;
- ``bkr_codes``: the BKR codes H, 1, 2 and 3 that follow from the state of the book;
- ``manual``: :func:`move_stage`;
- ``batch``: the batch writer every step writes through;
- ``common``: the run's state and report, the group size and the selections the steps share.

The import-linter contract "procedure use cases are layered" (pyproject.toml) keeps the direction: ``run`` over
the steps, the steps over ``batch``, ``batch`` over ``common``, never back.
"""

from incasso_tui.services.procedure.charges import interest_kind, interest_lines, resume_dates
from incasso_tui.services.procedure.common import ACTION_KINDS, RunReport
from incasso_tui.services.procedure.manual import move_stage
from incasso_tui.services.procedure.run import RUN_ROLES, SNAPSHOT_DAYS, procedure_for, run_procedure
from incasso_tui.services.procedure.stages import PAY_DAYS, business_figures

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
