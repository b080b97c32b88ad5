"""budgets and the cause of the arrears on the case, with its history (issue 15)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

A book from before this revision gets each open case's cause from its newest contact that named one (the cause
logged on a call), with that contact as the first line of the history.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("budget_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("checked", sa.String(length=16), nullable=False),
        sa.Column("household", sa.Text(), nullable=True),
        sa.Column("business", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("source in ('desk','client')", name="ck_budgets_source"),
        sa.CheckConstraint("checked in ('bank_statements','payslip','self_declared')", name="ck_budgets_checked"),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_budgets_client", "budgets", ["client_id", "budget_date", "id"], unique=False)
    op.create_table(
        "case_causes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_case_causes_case_id"), "case_causes", ["case_id"], unique=False)
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("cause", sa.String(length=32), nullable=True))
    for statement in BACKFILL:
        op.execute(statement)


# the same statements as services.causes.BACKFILL (a migration does not import the code it migrates for)
BACKFILL = (
    """INSERT INTO case_causes (case_id, cause, source, set_by, set_at)
       SELECT c.case_id, c.cause, 'contact', c.user_name, c.at FROM contacts c
       WHERE c.cause IS NOT NULL AND c.id = (SELECT c2.id FROM contacts c2 WHERE c2.case_id = c.case_id
             AND c2.cause IS NOT NULL ORDER BY c2.at DESC, c2.id DESC LIMIT 1)""",
    """UPDATE cases SET cause = (SELECT cc.cause FROM case_causes cc WHERE cc.case_id = cases.id
                                 ORDER BY cc.id DESC LIMIT 1)
       WHERE cause IS NULL AND EXISTS (SELECT 1 FROM case_causes cc WHERE cc.case_id = cases.id)""",
)


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("cause")
    op.drop_index(op.f("ix_case_causes_case_id"), table_name="case_causes")
    op.drop_table("case_causes")
    op.drop_index("ix_budgets_client", table_name="budgets")
    op.drop_table("budgets")
