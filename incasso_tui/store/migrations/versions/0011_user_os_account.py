"""users.os_user: the OS account a desk user is bound to locally (issue 16, four eyes bound to identity)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("os_user", sa.String(length=64), nullable=True))
    op.create_index("ix_users_os_user", "users", ["os_user"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_users_os_user", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("os_user")
