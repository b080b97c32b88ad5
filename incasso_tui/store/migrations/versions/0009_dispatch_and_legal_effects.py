"""letters dispatched in print batches, e-mail consent, charge bases, track outcomes (issue 12); one waiting letter
of a kind per case enforced by a unique partial index (issue 16)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WAITING = "status IN ('pending','rendered')"


def upgrade() -> None:
    op.create_table(
        "print_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("file_path", sa.String(length=500), nullable=False),
        sa.Column("letters", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=True),
        sa.Column("posted_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint("status in ('open','posted','undone')", name="ck_print_batches_status"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("email_consent_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("email_consent_source", sa.String(length=200), nullable=True))
    with op.batch_alter_table("charges") as batch:
        batch.add_column(sa.Column("basis", sa.Text(), nullable=True))
    with op.batch_alter_table("debt_tracks") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
    with op.batch_alter_table("letters") as batch:
        batch.add_column(sa.Column("dispatched_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_letters_batch_id", "print_batches", ["batch_id"], ["id"])
        batch.create_index("ix_letters_batch_id", ["batch_id"], unique=False)
    # A book from before this revision may hold two waiting letters of a kind for one case: the oldest stays, the
    # later ones are cancelled (with the reason) so that the unique index can be made.
    op.execute(
        "UPDATE letters SET status = 'cancelled', error = 'cancelled by migration 0009: a second waiting letter of "
        "this kind' WHERE status IN ('pending','rendered') AND EXISTS (SELECT 1 FROM letters AS older WHERE "
        "older.case_id = letters.case_id AND older.kind = letters.kind AND older.status IN ('pending','rendered') "
        "AND older.id < letters.id)"
    )
    op.create_index(
        "ux_letters_waiting",
        "letters",
        ["case_id", "kind"],
        unique=True,
        sqlite_where=sa.text(WAITING),
        postgresql_where=sa.text(WAITING),
    )


def downgrade() -> None:
    op.drop_index("ux_letters_waiting", table_name="letters")
    with op.batch_alter_table("letters") as batch:
        batch.drop_index("ix_letters_batch_id")
        batch.drop_constraint("fk_letters_batch_id", type_="foreignkey")
        batch.drop_column("batch_id")
        batch.drop_column("dispatched_on")
    with op.batch_alter_table("debt_tracks") as batch:
        batch.drop_column("outcome")
    with op.batch_alter_table("charges") as batch:
        batch.drop_column("basis")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("email_consent_source")
        batch.drop_column("email_consent_on")
    op.drop_table("print_batches")
