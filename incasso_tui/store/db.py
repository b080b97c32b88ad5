"""Engines, sessions and the schema version check.

SQLite is the embedded default (WAL journal and a busy timeout so a small team on one host can share it);
PostgreSQL (``postgresql+psycopg://...``) is the database for a team.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

from incasso_tui.config import database_url
from incasso_tui.errors import N_, ConfigError, DatabaseUnavailable

SUPPORTED = ("sqlite", "postgresql")
MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration. The app checks a database against this constant at every start, which spares the
# TUI importing Alembic (about 0.1 s); tests/services/test_migrations.py fails when it is not Alembic's head.
SCHEMA_HEAD = "0020"
SQLITE_BUSY_MS = 5000


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # let SQLAlchemy's "begin" event (below) emit BEGIN itself, so writers can take the lock up front
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    """Writers begin IMMEDIATE: they wait (busy timeout) for the write lock instead of failing later
    when a read transaction tries to upgrade. Readers begin DEFERRED and never block each other (WAL)."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")


# ----- the store boundary: a database that does not answer becomes a typed error with a message id

BUSY = N_("The database is busy: try again in a moment ({error})")
LOST = N_("The connection to the database was lost: try again in a moment ({error})")
DAMAGED = N_("The database is damaged: tell the administrator ({error})")
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_SQLITE_DAMAGED = ("malformed", "file is not a database", "disk i/o error", "database corrupt")
# PostgreSQL SQLSTATEs: lock_not_available, query_canceled (lock_timeout / statement_timeout), too many
# connections, cannot connect now (starting up or shutting down), admin/crash shutdown, data_corrupted, index_corrupted
_PG_BUSY = {"55P03", "57014", "53300", "57P03"}
_PG_LOST = {"57P01", "57P02", "08000", "08003", "08006", "08001", "08004"}
_PG_DAMAGED = {"XX001", "XX002"}


def database_error(exc: BaseException, *, disconnect: bool = False) -> DatabaseUnavailable | None:
    """The typed error for a driver error that means "the database does not answer", or None for the others.

    Integrity, data and programming errors stay what they are (a unique index refusing the second writer is a
    rule, not an outage), and so do PostgreSQL's serialization failures and deadlocks (SQLSTATE class 40),
    which a use case may retry.
    """
    error = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    sqlstate = getattr(exc, "sqlstate", None) or getattr(getattr(exc, "diag", None), "sqlstate", None)
    if sqlstate:
        if sqlstate in _PG_BUSY:
            return DatabaseUnavailable(BUSY, kind="busy", error=error)
        if sqlstate in _PG_DAMAGED:
            return DatabaseUnavailable(DAMAGED, kind="damaged", error=error)
        if sqlstate in _PG_LOST or sqlstate.startswith("08") or disconnect:
            return DatabaseUnavailable(LOST, kind="lost", error=error)
        return None
    name = type(exc).__name__
    if name not in ("OperationalError", "DatabaseError", "InterfaceError"):
        return None  # IntegrityError, DataError, ProgrammingError, NotSupportedError, InternalError
    lower = error.lower()
    if any(m in lower for m in _SQLITE_BUSY):
        return DatabaseUnavailable(BUSY, kind="busy", error=error)
    if any(m in lower for m in _SQLITE_DAMAGED):
        return DatabaseUnavailable(DAMAGED, kind="damaged", error=error)
    if type(exc).__module__.startswith("sqlite3"):  # "no such table" or a syntax error is an OperationalError too
        if disconnect or "unable to open database file" in lower:
            return DatabaseUnavailable(LOST, kind="lost", error=error)
        return None
    if disconnect or name in ("OperationalError", "InterfaceError"):  # psycopg: a connection that failed
        return DatabaseUnavailable(LOST, kind="lost", error=error)
    return None


def _handle_error(context: ExceptionContext) -> None:
    if context.is_pre_ping:  # the pool's liveness check handles its own failures
        return
    typed = database_error(context.original_exception, disconnect=context.is_disconnect)
    if typed is not None:
        raise typed from context.original_exception


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str, *, create_dirs: bool = False) -> Engine:
    """An engine for ``url``; an unknown scheme or a malformed URL is refused with one clear line."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(N_("Not a database URL: {url}"), url=url) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        raise ConfigError(
            N_("Unsupported database {scheme} in {url}: use sqlite:///PATH or postgresql+psycopg://..."),
            scheme=backend,
            url=url,
        )
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is not None and create_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "handle_error", _handle_error)
        return engine
    if parsed.drivername == "postgresql":  # plain postgresql:// means psycopg 3 here
        parsed = parsed.set(drivername="postgresql+psycopg")
    from incasso_tui.store.models import postgresql_partial_indexes

    postgresql_partial_indexes()  # the metadata's partial indexes for PostgreSQL (migrations, their comparison)
    try:
        engine = create_engine(parsed, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise ConfigError(N_("The database driver is not installed: {error}"), error=str(exc)) from None
    event.listen(engine, "handle_error", _handle_error)
    return engine


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    """Alembic's head, read from the migration scripts (tests and tools; the app uses SCHEMA_HEAD)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None, "migrations folder has no head"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at (None when it has no schema), without importing Alembic."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def refresh_statistics(conn: Connection, tables: tuple[str, ...] = ()) -> None:
    """Give the query planner current statistics (after a bulk load, a migration, the daily run).

    Without them SQLite picks an index by its shape alone: it walked ``ix_cases_status`` and read 100,000 case
    rows for a count that the worklist's partial indexes answer from the index in 2 ms. On SQLite the whole
    database is sampled (``analysis_limit``: seconds, not minutes, on a million loans), then ``cases`` (the
    worklist's table, small) fully; ``tables`` names the only tables to analyze. PostgreSQL samples by itself.
    """
    if conn.dialect.name == "sqlite":
        if not tables:
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("ANALYZE")
        conn.exec_driver_sql("PRAGMA analysis_limit=0")
        for table in tables or ("cases",):
            conn.exec_driver_sql(f'ANALYZE "{table}"')
    else:
        conn.exec_driver_sql(("ANALYZE " + ", ".join(f'"{t}"' for t in tables)) if tables else "ANALYZE")


class Database:
    """One engine and its session factory. ``transaction()`` is the unit of work of a service call."""

    def __init__(self, url: str, *, create: bool = False, audit_key: bytes | None = None) -> None:
        url = self.url = database_url(url)
        self.engine = make_engine(url, create_dirs=create)  # refuses a malformed URL in one line
        path = sqlite_path(url)
        if path is not None and not create and not path.exists():
            raise ConfigError(
                N_(
                    "Database {path} does not exist: create it with 'incasso db upgrade' or 'incasso generate', "
                    "or give --demo for the demo book that 'incasso demo' made"
                ),
                path=str(path),
            )
        # the audit key (services.audit_seal) travels with every session: services.audit keys the chain with it
        self.audit_key = audit_key
        self.sessions = sessionmaker(
            self.engine, expire_on_commit=False, info={"audit_key": audit_key} if audit_key is not None else None
        )
        from incasso_tui.store import search_index  # a client's search words follow every flush (issue 14)

        search_index.install(self.sessions)
        # called at the start of every writing transaction (``acting_as``): the services check there that the
        # acting user is still enabled, in the same transaction as the change
        self.guard: Callable[[Session], None] | None = None

    def acting_as(self, guard: Callable[[Session], None] | None) -> Database:
        """This database (the same engine and sessions) with ``guard`` run at the start of every ``transaction()``."""
        bound = copy.copy(self)
        bound.guard = guard
        return bound

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def check_schema(self) -> None:
        """Refuse to work on a database that is not at the newest schema, with one clear line."""
        try:
            current = current_revision(self.engine)
        except DatabaseUnavailable as exc:
            if exc.kind != "lost":  # busy or damaged: its own message says what to do
                raise
            raise ConfigError(
                N_("Cannot open the database {url}: {error}"), url=self.display_url, error=exc.params["error"]
            ) from None
        except OperationalError as exc:
            raise ConfigError(
                N_("Cannot open the database {url}: {error}"), url=self.display_url, error=_first_line(exc)
            ) from None
        head = SCHEMA_HEAD
        if current is not None and current != head and not _older(current, head):
            raise _newer_schema(current, head)
        if current != head:
            raise ConfigError(
                N_("The database schema is {current}, this version needs {head}: run 'incasso db upgrade'"),
                current=current or "empty",
                head=head,
            )

    def upgrade(self) -> None:
        from alembic.util import CommandError

        try:
            current = current_revision(self.engine)
            if current is not None and current != SCHEMA_HEAD and not _older(current, SCHEMA_HEAD):
                raise _newer_schema(current, SCHEMA_HEAD)
            upgrade(self.engine)
        except OperationalError as exc:
            raise ConfigError(
                N_("Cannot migrate the database {url}: {error}"), url=self.display_url, error=_first_line(exc)
            ) from None
        except CommandError as exc:  # a revision the migrations do not know
            raise ConfigError(
                N_("Cannot migrate the database {url}: {error}"), url=self.display_url, error=str(exc).splitlines()[0]
            ) from None

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writing unit of work: committed when the block ends, rolled back on any error."""
        with self.sessions() as session, session.begin():
            session.connection(execution_options={"writer": True})
            if self.guard is not None:
                self.guard(session)
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only unit of work (one consistent snapshot); it never takes the write lock."""
        with self.sessions() as session:  # autobegins; closing the session rolls back
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _older(current: str, head: str) -> bool:
    """Whether revision ``current`` comes before ``head`` (revisions are numbered 0001, 0002, ...)."""
    return current.isdigit() and head.isdigit() and int(current) < int(head)


def _newer_schema(current: str, head: str) -> ConfigError:
    return ConfigError(
        N_(
            "The database schema is {current}, newer than this version of incasso knows (its newest is "
            "{head}): use the version of incasso that made it; nothing was changed"
        ),
        current=current,
        head=head,
    )


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", exc)) or exc.__class__.__name__
    return text.strip().splitlines()[0]
