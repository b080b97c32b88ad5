"""a million loans: worklist indexes (stage; next_action_date in status/assignee), the run's BKR look-ups, statistics

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

Measured on a 1,000,000-loan book (benchmarks/RESULTS.md): without statistics SQLite answered every filtered
worklist count through ``ix_cases_status`` and read ~100,000 case rows (110-230 ms); with them and these two
indexes the counts and first pages are index range scans.
"""

import sqlalchemy as sa
from alembic import op

from incasso_tui.store.db import refresh_statistics

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DESK_WHERE = "status IN ('active','arrangement','deferral','paused','insolvency')"
ASSIGNEE = ["assignee_id", "pos_oldest_due", sa.text("pos_arrears DESC"), "id"]


def _desk_index(name: str, columns: list) -> None:  # type: ignore[type-arg]
    op.create_index(
        name, "cases", columns, unique=False, sqlite_where=sa.text(DESK_WHERE), postgresql_where=sa.text(DESK_WHERE)
    )


def upgrade() -> None:
    op.drop_index("ix_cases_status", table_name="cases")
    op.create_index("ix_cases_status", "cases", ["status", "pos_oldest_due", "id", "next_action_date"], unique=False)
    op.drop_index("ix_cases_desk_assignee", table_name="cases")
    _desk_index("ix_cases_desk_assignee", [*ASSIGNEE, "next_action_date"])
    _desk_index(
        "ix_cases_desk_stage", ["stage", "pos_oldest_due", sa.text("pos_arrears DESC"), "id", "next_action_date"]
    )
    # the daily run's BKR code 2 and 3 look-ups: 0.09 s and 0.14 s each on a million loans without them, < 1 ms with
    op.create_index(
        "ix_loans_called",
        "loans",
        ["id"],
        unique=False,
        sqlite_where=sa.text("status = 'called'"),
        postgresql_where=sa.text("status = 'called'"),
    )
    op.create_index(
        "ix_ledger_write_off",
        "ledger",
        ["loan_id"],
        unique=False,
        sqlite_where=sa.text("kind = 'write_off'"),
        postgresql_where=sa.text("kind = 'write_off'"),
    )
    # bank_entries refers to itself (a reversal names its payment): without an index every delete scans the table
    op.create_index(op.f("ix_bank_entries_reverses_id"), "bank_entries", ["reverses_id"], unique=False)
    refresh_statistics(op.get_bind())


def downgrade() -> None:
    op.drop_index(op.f("ix_bank_entries_reverses_id"), table_name="bank_entries")
    op.drop_index("ix_ledger_write_off", table_name="ledger")
    op.drop_index("ix_loans_called", table_name="loans")
    op.drop_index("ix_cases_desk_stage", table_name="cases")
    op.drop_index("ix_cases_status", table_name="cases")
    op.create_index("ix_cases_status", "cases", ["status", "pos_oldest_due", "id", "next_action_date"], unique=False)
    op.drop_index("ix_cases_desk_assignee", table_name="cases")
    _desk_index("ix_cases_desk_assignee", ASSIGNEE)
    op.drop_index("ix_cases_status", table_name="cases")
    op.create_index("ix_cases_status", "cases", ["status", "pos_oldest_due", "id"], unique=False)
