"""The migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from incasso_tui.store.db import Database, current_revision, head_revision
from incasso_tui.store.models import Base

HAND_WRITTEN = {"ix_cases_desk_prio", "ix_cases_desk_amount", "ix_cases_desk_assignee"}


def test_migrated_schema_matches_the_models(db: Database) -> None:
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": lambda o, name, type_, r, c: not (type_ == "index" and name in HAND_WRITTEN)}
        )
        assert compare_metadata(ctx, Base.metadata) == []
        names = {ix["name"] for ix in db.engine.dialect.get_indexes(conn, "cases")}
    assert HAND_WRITTEN <= names
