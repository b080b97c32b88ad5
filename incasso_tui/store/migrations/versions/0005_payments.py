"""payments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

import incasso_tui.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("account_iban", sa.String(length=34), nullable=False),
        sa.Column("statement_ids", sa.String(length=500), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bank_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_imports_file_hash"), ["file_hash"], unique=False)

    op.create_table(
        "bank_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=32), nullable=False),
        sa.Column("account_iban", sa.String(length=34), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("amount", incasso_tui.store.types.Money(), nullable=False),
        sa.Column("credit", sa.Boolean(), nullable=False),
        sa.Column("reversal", sa.Boolean(), nullable=False),
        sa.Column("return_reason", sa.String(length=8), nullable=True),
        sa.Column("counterparty_name", sa.String(length=200), nullable=True),
        sa.Column("counterparty_iban", sa.String(length=34), nullable=True),
        sa.Column("remittance", sa.Text(), nullable=False),
        sa.Column("creditor_reference", sa.String(length=64), nullable=True),
        sa.Column("end_to_end_id", sa.String(length=64), nullable=True),
        sa.Column("bank_reference", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("match_reason", sa.String(length=16), nullable=True),
        sa.Column("match_detail", sa.String(length=200), nullable=True),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("ledger_id", sa.Integer(), nullable=True),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("assigned_by", sa.String(length=64), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status in ('matched','unmatched','ambiguous','not_ours','reversed','reversal','not_payment')",
            name="ck_bank_entries_status",
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["bank_imports.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ledger_id"],
            ["ledger.id"],
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["bank_entries.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_entries_counterparty_iban"), ["counterparty_iban"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_entries_end_to_end_id"), ["end_to_end_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_entries_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_entries_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index("ix_bank_entries_status", ["status", "booking_date", "id"], unique=False)

    op.create_table(
        "ledger_links",
        sa.Column("ledger_id", sa.Integer(), nullable=False),
        sa.Column("recovery", sa.Boolean(), nullable=False),
        sa.Column("reverses_ledger_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ledger_id"],
            ["ledger.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reverses_ledger_id"],
            ["ledger.id"],
        ),
        sa.PrimaryKeyConstraint("ledger_id"),
    )
    with op.batch_alter_table("ledger_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_links_reverses_ledger_id"), ["reverses_ledger_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_links_reverses_ledger_id"))

    op.drop_table("ledger_links")
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_entries_status")
        batch_op.drop_index(batch_op.f("ix_bank_entries_loan_id"))
        batch_op.drop_index(batch_op.f("ix_bank_entries_import_id"))
        batch_op.drop_index(batch_op.f("ix_bank_entries_end_to_end_id"))
        batch_op.drop_index(batch_op.f("ix_bank_entries_counterparty_iban"))

    op.drop_table("bank_entries")
    with op.batch_alter_table("bank_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_imports_file_hash"))

    op.drop_table("bank_imports")
