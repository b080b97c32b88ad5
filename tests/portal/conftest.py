"""The portal's fixtures: a service context on a fresh copy of the test book (frozen clock, demo lender), the
Starlette app over it, and a client's personal link."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from incasso_tui.cli.tui import DEMO_LENDER
from incasso_tui.clock import FixedClock
from incasso_tui.config import Settings
from incasso_tui.domain.enums import CaseStatus
from incasso_tui.services.context import Context
from incasso_tui.services.portal import IssuedLink, issue_link
from incasso_tui.services.users import resolve_actor
from incasso_tui.store.db import Database
from incasso_tui.store.models import Case, Client
from tests.conftest import TEST_OWN_ACCOUNTS


@dataclass(frozen=True)
class Person:
    id: int
    number: str
    kind: str
    secret: str  # what the client knows, as typed: DD-MM-YYYY or the KvK number
    case_id: int


def make_ctx(db: Database, clock: FixedClock, user: str = "demo", **settings: object) -> Context:
    values: dict[str, object] = {
        "lender_accounts": list(TEST_OWN_ACCOUNTS),
        "portal_secure_cookies": False,
        **DEMO_LENDER,
        **settings,
    }
    return Context(db=db, actor=resolve_actor(db, user), clock=clock, settings=Settings(**values))  # type: ignore[arg-type]


def find_client(db: Database, *, kind: str = "natural", status: str = CaseStatus.ACTIVE.value, skip: int = 0) -> Person:
    """A client of ``kind`` ("natural" or "business") whose newest case has ``status`` and arrears."""
    with db.reader() as s:
        q = (
            select(Client, Case)
            .join(Case, Case.client_id == Client.id)
            .where(Case.status == status, Case.pos_arrears > 0)
            .order_by(Client.id)
        )
        q = q.where(Client.kind == "natural") if kind == "natural" else q.where(Client.kind != "natural")
        rows = list(s.execute(q.limit(skip + 40)))
        seen: list[Person] = []
        for client, case in rows:
            if any(p.id == client.id for p in seen):
                continue
            newest = s.scalar(select(Case).where(Case.client_id == client.id).order_by(Case.id.desc()).limit(1))
            if newest is None or newest.id != case.id:
                continue
            secret = client.birth_date.strftime("%d-%m-%Y") if client.kind == "natural" else (client.kvk or "")
            seen.append(Person(client.id, client.number, client.kind, secret, case.id))
        return seen[skip]


@pytest.fixture
def pctx(sqlite_db: Database, clock: FixedClock) -> Context:
    return make_ctx(sqlite_db, clock)


@pytest.fixture
def person(sqlite_db: Database) -> Person:
    return find_client(sqlite_db)


@pytest.fixture
def issue(pctx: Context) -> Callable[[Person], IssuedLink]:
    return lambda p: issue_link(pctx, client_number=p.number)


@pytest.fixture
def web(pctx: Context) -> Iterator[object]:
    from starlette.testclient import TestClient

    from incasso_tui.portal.app import create_app

    with TestClient(create_app(pctx), base_url="http://127.0.0.1", follow_redirects=False) as client:
        yield client


def token_of(link: IssuedLink) -> str:
    return link.url.rsplit("/", 1)[1]


def today() -> date:
    from tests.conftest import AS_OF

    return AS_OF
