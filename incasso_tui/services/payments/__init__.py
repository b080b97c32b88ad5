"""Incoming payments (issue 4). Being split by use case; for now everything is in ``importing``."""

from incasso_tui.services.payments.importing import (
    QUEUE_STATUSES,
    ImportReport,
    MonitorReport,
    QueueRow,
    Recovery,
    _Book,
    _description,
    _refresh_cases,
    assign,
    import_statement,
    mark_not_ours,
    monitor,
    queue,
    recoveries,
)

__all__ = [
    "ImportReport",
    "MonitorReport",
    "QueueRow",
    "assign",
    "import_statement",
    "mark_not_ours",
    "monitor",
    "queue",
    "recoveries",
]
