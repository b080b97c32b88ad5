"""bucket snapshots: the daily run's ageing bucket and arrears of every desk case, for the roll rates (issue 8)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

import incasso_tui.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bucket_snapshots",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=8), nullable=False),
        sa.Column("arrears", incasso_tui.store.types.Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("day", "case_id"),
    )


def downgrade() -> None:
    op.drop_table("bucket_snapshots")
