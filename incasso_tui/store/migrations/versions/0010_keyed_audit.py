"""keyed audit trail: sequence numbers without gaps, a keyed mark per event, the head's sequence (issue 16)

The existing events get their sequence numbers in id order (the chain's order); they stay unkeyed (plain SHA-256):
the first checkpoint written with the new key (``incasso audit init-key``) seals them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_events", sa.Column("keyed", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("audit_head", sa.Column("last_seq", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("audit_head", sa.Column("keyed", sa.Boolean(), server_default=sa.false(), nullable=False))
    # one pass (a window function; UPDATE ... FROM on both PostgreSQL and SQLite 3.33+)
    op.execute(
        "UPDATE audit_events SET seq = numbered.n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n "
        "FROM audit_events) AS numbered WHERE audit_events.id = numbered.id"
    )
    op.execute("UPDATE audit_head SET last_seq = (SELECT count(*) FROM audit_events)")
    op.create_index("ix_audit_events_seq", "audit_events", ["seq"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_audit_events_seq", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("keyed")
        batch.drop_column("seq")
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("keyed")
        batch.drop_column("last_seq")
