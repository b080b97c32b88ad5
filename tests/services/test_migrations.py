"""The migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from incasso_tui.store.db import Database, current_revision, head_revision
from incasso_tui.store.models import Base

HAND_WRITTEN = {"ix_cases_desk_prio", "ix_cases_desk_amount", "ix_cases_desk_assignee", "ix_cases_desk_stage"}
# the client search index (store.search_index): FTS5 tables on SQLite, a GIN expression index on PostgreSQL
SEARCH_INDEX = {"ix_client_search_words"}


def _hand_written(name: str, type_: str) -> bool:
    if type_ == "index":
        return name in HAND_WRITTEN or name in SEARCH_INDEX
    return type_ == "table" and name.startswith("client_search_fts")


def test_migrated_schema_matches_the_models(db: Database) -> None:
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": lambda o, name, type_, r, c: not _hand_written(name, type_)}
        )
        assert compare_metadata(ctx, Base.metadata) == []
        names = {ix["name"] for ix in db.engine.dialect.get_indexes(conn, "cases")}
    assert HAND_WRITTEN <= names


def test_demo_migrates_its_own_older_book(sqlite_template: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`incasso demo` on a demo book from an older version migrates it instead of refusing it."""
    import shutil

    from alembic import command
    from sqlalchemy import create_engine

    from incasso_tui import cli
    from incasso_tui.cli import tui
    from incasso_tui.store.db import alembic_config

    book = tmp_path / "demo.db"
    shutil.copy(sqlite_template, book)
    url = f"sqlite:///{book}"
    engine = create_engine(url)
    command.downgrade(alembic_config(engine), "0002")
    assert current_revision(engine) == "0002"
    opened: list[tuple[str, str | None]] = []
    monkeypatch.setattr(
        tui,
        "run_tui",
        lambda settings, user, clock, db_url, demo=False: opened.append((db_url, settings.lender_name)) or 0,
    )
    assert cli.main(["demo", "--db", url, "--date", "2026-11-23"]) == 0
    # the demo can print letters: it brings a (plainly fictitious) sender of its own
    assert opened == [(url, "Demo Kredietverlener B.V.")] and current_revision(engine) == head_revision()
    engine.dispose()


def test_the_start_up_schema_check_knows_the_newest_migration() -> None:
    from incasso_tui.store.db import SCHEMA_HEAD

    assert SCHEMA_HEAD == head_revision()
