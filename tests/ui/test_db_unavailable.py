"""The TUI lives when the database does not answer (issue 16).

Another connection holds SQLite's lock beyond the busy timeout (``PRAGMA locking_mode=EXCLUSIVE`` and a write: in
WAL mode that blocks readers too, as a long import or the daily run writing would block writers). A form save and
a list load then show "the database is busy" on their status line, keep what was typed, and the app goes on; once
the lock is gone the same keys work.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from textual.widgets import Label, Static, TextArea
from textual.worker import WorkerCancelled

from incasso_tui.clock import FixedClock
from incasso_tui.config import Settings
from incasso_tui.errors import DatabaseUnavailable
from incasso_tui.i18n import Translator
from incasso_tui.services.context import Context
from incasso_tui.services.users import resolve_actor
from incasso_tui.store import db as store_db
from incasso_tui.store.db import Database, database_error
from incasso_tui.store.models import Note
from incasso_tui.ui.app import IncassoApp
from incasso_tui.ui.screens.contact import NoteScreen
from tests.conftest import NOW
from tests.ui.test_detail import first_case, open_detail, shown

BUSY_NL = "De database is bezig"


class Holder:
    """A second connection that takes and releases the database's lock."""

    def __init__(self, path: Path, database: Database) -> None:
        self.path = path
        self.database = database
        self.conn: sqlite3.Connection | None = None

    def lock(self) -> None:
        # the app's idle pooled connections are closed first: exclusive locking mode in WAL needs to be alone
        # when it starts; the app's next connection then waits for the lock like any other
        self.database.engine.dispose()
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        self.conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        self.conn.execute("BEGIN EXCLUSIVE")
        self.conn.execute("UPDATE audit_head SET last_hash = last_hash")  # a write: the exclusive lock is taken

    def release(self) -> None:
        assert self.conn is not None
        self.conn.rollback()
        self.conn.close()  # leaving exclusive locking mode: the file lock goes with the connection
        self.conn = None


@pytest.fixture
def locked_book(
    sqlite_template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Database, Holder]]:
    monkeypatch.setattr(store_db, "SQLITE_BUSY_MS", 300)  # the busy timeout, short so that the test is quick
    path = tmp_path / "book.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    holder = Holder(path, database)
    yield database, holder
    if holder.conn is not None:
        holder.release()
    database.dispose()


def _app(database: Database) -> IncassoApp:
    ctx = Context(db=database, actor=resolve_actor(database, "demo"), clock=FixedClock(NOW), settings=Settings())
    return IncassoApp(ctx, Translator("nl"))


async def _settle(pilot: Any) -> None:
    for _ in range(2):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:  # a newer call of an exclusive group replaced it
            pass
        await pilot.pause()


async def test_form_save_on_a_locked_database_keeps_the_input(locked_book: tuple[Database, Holder]) -> None:
    database, holder = locked_book
    app = _app(database)
    async with app.run_test(size=(100, 30)) as pilot:
        case_id = first_case(app)
        await open_detail(pilot, case_id)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, NoteScreen)
        await pilot.press(*"Klant belt terug")
        holder.lock()
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert app.is_running and app.screen is form  # the form is still open...
        assert form.query_one("#text", TextArea).text == "Klant belt terug"  # ...with what was typed
        message = form.query_one("#message", Label)
        assert message.display and BUSY_NL in shown(message)
        holder.release()
        await pilot.press("ctrl+s")  # the same key works again once the database does
        await _settle(pilot)
        assert app.screen is not form
    with database.reader() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Note).where(Note.case_id == case_id, Note.text == "Klant belt terug")
            )
            == 1
        )


async def test_list_load_on_a_locked_database_says_so_and_recovers(locked_book: tuple[Database, Holder]) -> None:
    database, holder = locked_book
    app = _app(database)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        worklist = app.screen
        status = worklist.query_one("#status", Static)
        total = worklist.table.total  # type: ignore[attr-defined]
        assert total > 0
        holder.lock()
        await pilot.press("r")
        await _settle(pilot)
        assert app.is_running and app.screen is worklist
        assert BUSY_NL in shown(status)
        holder.release()
        await pilot.press("r")
        await _settle(pilot)
        assert BUSY_NL not in shown(status)
        assert worklist.table.total == total  # type: ignore[attr-defined]


async def test_approvals_list_on_a_locked_database(locked_book: tuple[Database, Holder]) -> None:
    """A list screen of the shared rows base (approvals) loads in the worker helper: the message, then the rows."""
    from incasso_tui.ui.screens.approvals import ApprovalsScreen

    database, holder = locked_book
    ctx = Context(db=database, actor=resolve_actor(database, "bakker"), clock=FixedClock(NOW), settings=Settings())
    app = IncassoApp(ctx, Translator("en"))
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        holder.lock()
        await app.push_screen(ApprovalsScreen())
        await _settle(pilot)
        assert app.is_running
        assert "The database is busy: try again in a moment" in shown(app.screen.query_one("#message", Label))
        holder.release()
        await pilot.press("r")
        await _settle(pilot)
        assert "busy" not in shown(app.screen.query_one("#message", Label))


def test_store_boundary_types_the_errors() -> None:
    """Which driver errors mean "the database does not answer", and which stay what they are."""
    busy = database_error(sqlite3.OperationalError("database is locked"))
    damaged = database_error(sqlite3.DatabaseError("database disk image is malformed"))
    gone = database_error(sqlite3.OperationalError("unable to open database file"))
    assert isinstance(busy, DatabaseUnavailable) and busy.kind == "busy"
    assert isinstance(damaged, DatabaseUnavailable) and damaged.kind == "damaged"
    assert isinstance(gone, DatabaseUnavailable) and gone.kind == "lost"
    assert database_error(sqlite3.OperationalError("no such table: x")) is None  # a defect, not an outage
    assert database_error(sqlite3.IntegrityError("UNIQUE constraint failed")) is None  # a rule: the second writer

    class PgError(Exception):
        def __init__(self, sqlstate: str | None) -> None:
            super().__init__("server closed the connection unexpectedly")
            self.sqlstate = sqlstate

    PgError.__name__ = "OperationalError"
    assert database_error(PgError("57P01")).kind == "lost"  # type: ignore[union-attr]
    assert database_error(PgError("55P03")).kind == "busy"  # type: ignore[union-attr]
    assert database_error(PgError(None)).kind == "lost"  # type: ignore[union-attr]
    assert database_error(PgError("40001")) is None  # a serialization failure: the use case may retry


def test_a_damaged_database_is_one_typed_error(tmp_path: Path, sqlite_template: str) -> None:
    path = tmp_path / "book.db"
    shutil.copy(sqlite_template, path)
    with path.open("r+b") as fh:  # the file header overwritten: SQLite says "file is not a database"
        fh.write(b"\xff" * 100)
    database = Database(f"sqlite:///{path}")
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            with database.reader() as s:
                s.execute(select(func.count()).select_from(Note)).scalar()
        assert caught.value.kind == "damaged"
        assert "tell the administrator" in str(caught.value)
    finally:
        database.dispose()


def test_a_crash_still_exits_non_zero(sqlite_template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A defect (not a typed error) still ends the app, and the command's exit status says so."""
    from incasso_tui.cli import tui
    from incasso_tui.services import worklist

    path = tmp_path / "book.db"
    shutil.copy(sqlite_template, path)

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a defect in a service")

    # the worklist's first load fails: fetched before the app ran (cli.tui.run_tui), its defect raised in the worker
    monkeypatch.setattr(worklist.Worklist, "count", broken)
    monkeypatch.setattr(tui, "require_terminal", lambda: None)  # the headless run below needs none
    run = IncassoApp.run
    monkeypatch.setattr(IncassoApp, "run", lambda self, **kw: run(self, headless=True, size=(80, 24)))
    code = tui.run_tui(Settings(), "demo", FixedClock(NOW), f"sqlite:///{path}")
    assert code == 1
