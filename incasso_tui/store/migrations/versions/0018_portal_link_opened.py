"""portal links: the moment a link was first opened (issue 21: the campaign measurement counts link opens), and the
letter that prints a link (it works from that letter's dispatch)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 20:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("portal_links") as batch_op:
        batch_op.add_column(sa.Column("opened_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("letter_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_portal_links_letter_id"), ["letter_id"], unique=False)
        batch_op.create_foreign_key("fk_portal_links_letter_id", "letters", ["letter_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("portal_links") as batch_op:
        batch_op.drop_constraint("fk_portal_links_letter_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_portal_links_letter_id"))
        batch_op.drop_column("letter_id")
        batch_op.drop_column("opened_at")
