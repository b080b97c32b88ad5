"""client search: the words every client is found by, and their index (FTS5 on SQLite, GIN full-text on
PostgreSQL) (issue 14)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from incasso_tui.store import search_index

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_search",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.PrimaryKeyConstraint("client_id"),
    )
    conn = op.get_bind()
    search_index.create_index(conn)
    # a book made before this version: index its clients (the triggers fill FTS5)
    ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM clients ORDER BY id")]
    for start in range(0, len(ids), 20_000):
        search_index.reindex(conn, ids[start : start + 20_000])


def downgrade() -> None:
    search_index.drop_index(op.get_bind())
    op.drop_table("client_search")
