"""the risk view (issue 20): loan risk history, forbearances, early-warning signals, vulnerability flags, debt-help referrals

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 23:38:37.475454
"""

import sqlalchemy as sa
from alembic import op

import incasso_tui.store.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vulnerability_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.Column("removed_by", sa.String(length=64), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vulnerability_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vulnerability_flags_client_id"), ["client_id"], unique=False)

    op.create_table(
        "forbearances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("npv_loss", incasso_tui.store.types.Rate(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("forbearances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forbearances_granted_on"), ["granted_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_forbearances_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "loan_risk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=8), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("outstanding", incasso_tui.store.types.Money(), nullable=False),
        sa.Column("past_due", incasso_tui.store.types.Money(), nullable=False),
        sa.Column("non_performing", sa.Boolean(), nullable=False),
        sa.Column("default_reason", sa.String(length=32), nullable=True),
        sa.Column("default_since", sa.Date(), nullable=True),
        sa.Column("cure_from", sa.Date(), nullable=True),
        sa.Column("material_since", sa.Date(), nullable=True),
        sa.Column("forborne", sa.Boolean(), nullable=False),
        sa.Column("forborne_since", sa.Date(), nullable=True),
        sa.Column("forborne_np", sa.Boolean(), nullable=False),
        sa.Column("probation_from", sa.Date(), nullable=True),
        sa.Column("probation_until", sa.Date(), nullable=True),
        sa.Column("written_off", sa.Boolean(), nullable=False),
        sa.CheckConstraint("stage in (1, 2, 3)", name="ck_loan_risk_stage"),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("loan_risk", schema=None) as batch_op:
        batch_op.create_index("ix_loan_risk_loan", ["loan_id", "valid_from"], unique=False)
        batch_op.create_index(
            "ux_loan_risk_current",
            ["loan_id"],
            unique=True,
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )

    op.create_table(
        "debt_help_referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=300), nullable=False),
        sa.Column("referred_by", sa.String(length=64), nullable=False),
        sa.Column("referred_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("debt_help_referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_debt_help_referrals_client_id"), ["client_id"], unique=False)

    op.create_table(
        "risk_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("arrears_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("risk_signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_signals_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_risk_signals_day"), ["day"], unique=False)
        batch_op.create_index("ux_risk_signals_rule", ["loan_id", "rule", "day"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("risk_signals", schema=None) as batch_op:
        batch_op.drop_index("ux_risk_signals_rule")
        batch_op.drop_index(batch_op.f("ix_risk_signals_day"))
        batch_op.drop_index(batch_op.f("ix_risk_signals_client_id"))

    op.drop_table("risk_signals")
    with op.batch_alter_table("debt_help_referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_debt_help_referrals_client_id"))

    op.drop_table("debt_help_referrals")
    with op.batch_alter_table("loan_risk", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_loan_risk_current",
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )
        batch_op.drop_index("ix_loan_risk_loan")

    op.drop_table("loan_risk")
    with op.batch_alter_table("forbearances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forbearances_loan_id"))
        batch_op.drop_index(batch_op.f("ix_forbearances_granted_on"))

    op.drop_table("forbearances")
    with op.batch_alter_table("vulnerability_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vulnerability_flags_client_id"))

    op.drop_table("vulnerability_flags")
