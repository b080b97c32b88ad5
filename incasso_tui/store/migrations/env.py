"""Alembic environment: the engine comes from incasso_tui.store.db (no alembic.ini needed)."""

from alembic import context

from incasso_tui.store.models import Base

engine = context.config.attributes["engine"]

# Indexes with DESC expressions cannot be reflected for comparison: autogenerate leaves them alone
# (they are written by hand in the migrations).
HAND_WRITTEN = {"ix_cases_desk_prio", "ix_cases_desk_amount", "ix_cases_desk_assignee"}


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    return not (type_ == "index" and name in HAND_WRITTEN)


with engine.begin() as connection:
    context.configure(
        connection=connection, target_metadata=Base.metadata, render_as_batch=True, include_object=include_object
    )
    context.run_migrations()
