"""Incoming payments (issue 4): statement import, matching, allocation (art. 6:44 BW), the unmatched queue,
monitoring of promises and arrangements, and recoveries after a write-off.

One module per use case; the package re-exports their public names (``from incasso_tui.services.payments import
import_statement`` is the way in):

- ``importing``: :func:`import_statement`, a statement file in one transaction (duplicates, reversals);
- ``auto_match``: the reference, loan number and IBAN matching the import applies to each payment;
- ``booking``: ``Book``, the one booking function (allocation per art. 6:44 BW, reversals, bulk writes), also used
  by ``unmatched`` and ``services.matching``;
- ``unmatched``: the queue of unmatched and ambiguous entries, :func:`assign` and :func:`mark_not_ours`;
- ``monitoring``: :func:`monitor` (promises and arrangements kept or broken) and :func:`recoveries`;
- ``common``: what they share (slice sizes, the position refresh, the bulk writers).

The import-linter contract "payment use cases are layered" (pyproject.toml) keeps the direction: the use cases
over ``booking`` and ``auto_match``, those over ``common``, never back.
"""

from incasso_tui.services.payments.importing import MAX_CENTS, ImportReport, import_statement
from incasso_tui.services.payments.monitoring import MONITOR_ROLES, MonitorReport, Recovery, monitor, recoveries
from incasso_tui.services.payments.unmatched import QUEUE_STATUSES, QueueRow, assign, mark_not_ours, queue

__all__ = [
    "MAX_CENTS",
    "MONITOR_ROLES",
    "QUEUE_STATUSES",
    "ImportReport",
    "MonitorReport",
    "QueueRow",
    "Recovery",
    "assign",
    "import_statement",
    "mark_not_ours",
    "monitor",
    "queue",
    "recoveries",
]
