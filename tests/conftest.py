"""Shared fixtures: a deterministic demo book (made once per run), fresh copies per test, a frozen clock.

Service tests take ``db`` and run on SQLite always and also on PostgreSQL when ``INCASSO_TEST_PG_URL``
is set (``postgresql+psycopg://postgres@127.0.0.1:5432/test``): each PostgreSQL test gets its own database,
cloned from a template that is generated once per run.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from incasso_tui.clock import FixedClock
from incasso_tui.config import Settings
from incasso_tui.services.context import Context
from incasso_tui.services.users import resolve_actor
from incasso_tui.store.db import Database

AS_OF = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 30)
TEST_LOANS = 2400
TEST_SEED = 7
PG_URL = os.environ.get("INCASSO_TEST_PG_URL")
# the lender's own accounts in the tests (setting lender_accounts): the account of tests/payment_files.py and of the
# shared bank samples; a statement of any other account is refused (issue 16)
TEST_OWN_ACCOUNTS = (
    "NL91ABNA0417164300",
    "NL77ABNA0574908765",
    "NL77INGB0574908765",
    "NL34RABO0142623393",
    "NL05SNSB0908244436",
    "NL30ABNA0000000000",
)


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own config file or INCASSO_* environment."""
    for key in list(os.environ):
        if key.startswith("INCASSO_") and key != "INCASSO_TEST_PG_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("INCASSO_CONFIG", str(tmp_path_factory.getbasetemp() / "no-config.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.getbasetemp() / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))  # the catalogs' cache
    monkeypatch.setenv("INCASSO_LENDER_ACCOUNTS", ",".join(TEST_OWN_ACCOUNTS))  # the commands the tests run


@pytest.fixture(autouse=True)
def _cursor_stands_still(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text field's cursor does not blink in tests: a blink timer would put the cursor into one picture of a
    screen and not into the next (the snapshots differed from run to run on a loaded machine). A focused field
    shows its cursor, as a person sees it the moment they look."""
    from textual.widgets import Input, TextArea

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


def _generate(url: str) -> None:
    from incasso_tui.demo.generate import generate

    db = Database(url, create=True)
    db.upgrade()
    generate(db, loans=TEST_LOANS, seed=TEST_SEED, as_of=AS_OF)
    db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("template") / "book.db"
    _generate(f"sqlite:///{path}")
    return str(path)


def _pg_admin_url() -> str:
    assert PG_URL
    return make_url(PG_URL).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("INCASSO_TEST_PG_URL is not set: PostgreSQL tests skipped")
    name = f"incasso_tpl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        _generate(url)
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class _PgClones:
    """Databases cloned from the template ahead of the tests that take them, and dropped after them, in a thread of
    their own: a clone is mostly the server writing 30 MB (about a second each, for 330 PostgreSQL tests), and that
    now happens while the test before runs instead of in each test's setup. Every clone is the template as it is;
    when it was made does not matter."""

    AHEAD = 2

    def __init__(self, template: str) -> None:
        self.template = template
        self.admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
        self.ready: queue.Queue[str | BaseException] = queue.Queue()
        self.todo: queue.Queue[str | None] = queue.Queue()  # "" clones one more, a name drops that database
        self.failed: list[BaseException] = []
        self.thread = threading.Thread(target=self._work, name="pg-clones", daemon=True)
        self.thread.start()
        for _ in range(self.AHEAD):
            self.todo.put("")

    def _work(self) -> None:
        while (job := self.todo.get()) is not None:
            try:
                with self.admin.connect() as conn:
                    if job:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{job}" WITH (FORCE)'))
                    else:
                        name = f"incasso_t_{uuid.uuid4().hex[:8]}"
                        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
                        self.ready.put(name)
            except Exception as err:  # noqa: BLE001  # a clone's to the test that waits for it, a drop's to close()
                if job:
                    self.failed.append(err)
                else:
                    self.ready.put(err)

    def take(self) -> str:
        """A fresh clone, yours to write in (another is started in its place)."""
        found = self.ready.get(timeout=300)
        self.todo.put("")
        if isinstance(found, BaseException):
            raise found
        return found

    def give_back(self, name: str) -> None:
        self.todo.put(name)

    def close(self) -> None:
        self.todo.put(None)
        self.thread.join()
        with self.admin.connect() as conn:
            while not self.ready.empty():
                if isinstance(name := self.ready.get(), str):
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()
        if self.failed:
            raise self.failed[0]


@pytest.fixture(scope="session")
def pg_clones(pg_template: str) -> Iterator[_PgClones]:
    clones = _PgClones(pg_template)
    yield clones
    clones.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """A writable copy of the test book, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "book.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    clones: _PgClones = request.getfixturevalue("pg_clones")
    name = clones.take()
    database = Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))  # type: ignore[arg-type]
    try:
        yield database
    finally:
        database.dispose()
        clones.give_back(name)


@pytest.fixture
def sqlite_db(sqlite_template: str, tmp_path) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """A writable SQLite copy of the test book (UI tests)."""
    path = tmp_path / "book.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def _context(database: Database, clock: FixedClock, user: str, **settings: object) -> Context:
    settings.setdefault("lender_accounts", list(TEST_OWN_ACCOUNTS))
    return Context(db=database, actor=resolve_actor(database, user), clock=clock, settings=Settings(**settings))  # type: ignore[arg-type]


@pytest.fixture
def ctx_for(db: Database, clock: FixedClock) -> Callable[..., Context]:
    """``ctx_for("bakker")``: a service context for that user on the ``db`` backend."""
    return lambda user="demo", **settings: _context(db, clock, user, **settings)


@pytest.fixture
def app_for(sqlite_db: Database, clock: FixedClock) -> Callable[..., object]:
    """``app_for(user="demo", lang="nl")``: an IncassoApp on a fresh SQLite copy with the frozen clock."""
    from incasso_tui.i18n import Translator
    from incasso_tui.ui.app import IncassoApp

    def make(user: str = "demo", lang: str = "nl", **settings: object) -> IncassoApp:
        return IncassoApp(_context(sqlite_db, clock, user, **settings), Translator(lang))

    return make
