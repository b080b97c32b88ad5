"""kpi snapshots: the team view's figures stored with the moment they were computed (issue 18: the dashboard at a
million loans shows the newest snapshot with its time instead of a second of live queries per open)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 11:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope_user_id", sa.Integer(), nullable=True),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("taken_by", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["scope_user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kpi_snapshots_scope", "kpi_snapshots", ["scope_user_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_kpi_snapshots_scope", table_name="kpi_snapshots")
    op.drop_table("kpi_snapshots")
