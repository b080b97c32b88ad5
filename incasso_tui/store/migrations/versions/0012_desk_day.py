"""the desk's day (issue 13): task outcomes and references, advisers on clients, consultations, the team
meeting's discussion list, the adviser role

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_OLD_ROLES = "role in ('employee','supervisor','special_management','admin','auditor')"
_NEW_ROLES = "role in ('employee','supervisor','special_management','admin','auditor','adviser')"


def _roles_check(old: str, new: str) -> None:
    """Widen (or narrow back) the users' role CHECK. SQLite changes a constraint by copying the table, which the
    rows referring to users refuse; a CHECK that every row already meets is edited in the schema text instead, as
    https://www.sqlite.org/lang_altertable.html ("Making Other Kinds Of Table Schema Changes") describes."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint("ck_users_role", "users", type_="check")
        op.create_check_constraint("ck_users_role", "users", new)
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'users'", (old, new)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def upgrade() -> None:
    _roles_check(_OLD_ROLES, _NEW_ROLES)
    op.create_table(
        "client_advisers",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("adviser_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["adviser_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
        ),
        sa.PrimaryKeyConstraint("client_id"),
    )
    with op.batch_alter_table("client_advisers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_advisers_adviser_id"), ["adviser_id"], unique=False)
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("ref", sa.String(length=48), nullable=True))
        batch_op.create_index(
            "ix_tasks_assignee_open",
            ["assignee_id", "due_date"],
            unique=False,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
    op.create_table(
        "consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=False),
        sa.Column("asked_of_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status in ('open','answered')", name="ck_consultations_status"),
        sa.ForeignKeyConstraint(
            ["asked_by_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["asked_of_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consultations_asked_of_id"), ["asked_of_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consultations_case_id"), ["case_id"], unique=False)
    op.create_table(
        "discussion_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("raised_by", sa.String(length=64), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status in ('open','decided')", name="ck_discussion_items_status"),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("discussion_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_discussion_items_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_table("discussion_items")
    op.drop_table("consultations")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_tasks_assignee_open",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_column("ref")
        batch_op.drop_column("outcome")
    op.drop_table("client_advisers")
    op.execute("DELETE FROM users WHERE role = 'adviser'")
    _roles_check(_NEW_ROLES, _OLD_ROLES)
