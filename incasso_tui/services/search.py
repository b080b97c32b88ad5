"""Finding a client or a case by anything a caller says: a word or word start of the name, a number, an address.

One term, two scopes (issue 14):
- ``desk``: clients with a case on the desk (the worklist's cases);
- ``all``: every client, also with a case handed over or closed, or never in arrears (no case: opened read-only).

The term's words (``domain.search.query_words``) are matched as word starts against the index
(``store.search_index``); hits are ordered by name. :func:`verify_index` recomputes every client's words to
prove the index right, as ``services.positions.verify_positions`` does for the position cache.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select, text, type_coerce
from sqlalchemy.exc import DatabaseError

from incasso_tui.domain.enums import DESK_STATUSES, CaseStatus, Role
from incasso_tui.domain.money import ZERO
from incasso_tui.domain.search import field_words, matched_fields, query_words
from incasso_tui.errors import N_, BadInput, NotFound
from incasso_tui.services.audit import record
from incasso_tui.services.cases import ClientInfo, LoanInfo
from incasso_tui.services.context import Context
from incasso_tui.services.positions import loan_positions
from incasso_tui.store import search_index
from incasso_tui.store.models import DESK_WHERE, Case, Client, ClientSearch, Installment, Loan
from incasso_tui.store.types import Money

Scope = Literal["desk", "all"]
SCOPES: tuple[Scope, ...] = ("desk", "all")
DEFAULT_LIMIT = 50
NAME_ORDER_MAX = 2000  # hits sorted by name up to this many; beyond, by client id (see search)


@dataclass(frozen=True)
class SearchHit:
    client_id: int
    client_number: str
    name: str
    city: str
    loan_numbers: str
    case_id: int | None  # the open case, else the newest closed one, else None
    case_status: str | None
    stage: str | None
    arrears: Decimal | None
    on_desk: bool
    matched: tuple[str, ...]  # the fields it was found by (domain.search.FIELDS): "name", "address", ...


@dataclass(frozen=True)
class SearchResult:
    term: str
    scope: Scope
    words: tuple[str, ...]
    total: int
    hits: tuple[SearchHit, ...]

    @property
    def more(self) -> bool:
        return self.total > len(self.hits)


def search(ctx: Context, term: str, scope: Scope = "desk", limit: int = DEFAULT_LIMIT) -> SearchResult:
    """The clients ``term`` finds in ``scope``: how many, and the first ``limit`` (by name when there are at most
    ``NAME_ORDER_MAX``; those found by their name first)."""
    if scope not in SCOPES:
        raise BadInput(N_("Unknown search scope: {scope}"), scope=scope)
    tokens = query_words(term)
    with ctx.db.reader() as s:
        ids = search_index.matching_ids(ctx.db.backend, tokens)
        where = [Client.id.in_(ids)]
        if scope == "desk":  # the desk's cases (one scan of a partial index) against the matching ids
            desk = select(Case.client_id).where(text(DESK_WHERE), Case.client_id.in_(ids))
            where = [Client.id.in_(desk)]
            total = int(s.execute(select(func.count()).select_from(desk.subquery())).scalar_one())
        else:  # every client has its row in the index: count there alone
            total = int(s.execute(select(func.count()).select_from(ids.subquery())).scalar_one())
        # by name while that is a short sort; a term that finds thousands shows the first by client id, and the
        # screen asks for more letters
        order = (Client.name_key, Client.id) if total <= NAME_ORDER_MAX else (Client.id,)
        rows = s.execute(
            select(
                Client.id,
                Client.number,
                Client.name,
                Client.city,
                Client.kvk,
                Client.iban,
                Client.phone,
                Client.email,
                Client.postcode,
                Client.street,
                Client.contact_person,
            )
            .where(*where)
            .order_by(*order)
            .limit(limit)
        ).all()
        client_ids = [r.id for r in rows]
        loans: dict[int, list[str]] = {}
        cases: dict[int, tuple[int, str, str, Decimal]] = {}
        if client_ids:
            for cid, number in s.execute(
                select(Loan.client_id, Loan.number).where(Loan.client_id.in_(client_ids)).order_by(Loan.number)
            ):
                loans.setdefault(cid, []).append(number)
            # the open case first (at most one), else the newest closed one
            for c in s.execute(
                select(Case.id, Case.client_id, Case.status, Case.stage, Case.pos_arrears)
                .where(Case.client_id.in_(client_ids))
                .order_by(
                    Case.client_id, (Case.status == CaseStatus.CLOSED).asc(), Case.opened_on.desc(), Case.id.desc()
                )
            ):
                cases.setdefault(c.client_id, (c.id, c.status, c.stage, c.pos_arrears))
    hits = []
    for r in rows:
        found = cases.get(r.id)
        fields = field_words(
            name=r.name,
            number=r.number,
            loan_numbers=loans.get(r.id, []),
            kvk=r.kvk,
            iban=r.iban,
            phone=r.phone,
            email=r.email,
            postcode=r.postcode,
            street=r.street,
            city=r.city,
            contact_person=r.contact_person,
        )
        hits.append(
            SearchHit(
                client_id=r.id,
                client_number=r.number,
                name=r.name,
                city=r.city,
                loan_numbers=", ".join(loans.get(r.id, [])),
                case_id=found[0] if found else None,
                case_status=found[1] if found else None,
                stage=found[2] if found else None,
                arrears=found[3] if found else None,
                on_desk=bool(found and found[1] in DESK_STATUSES),
                matched=tuple(matched_fields(tokens, fields)),
            )
        )
    # within the page, those found by their name first (the caller's name), each group by name
    hits.sort(key=lambda h: h.matched != ("name",))
    return SearchResult(term=term, scope=scope, words=tuple(tokens), total=total, hits=tuple(hits))


@dataclass(frozen=True)
class CaseSummary:
    id: int
    status: str
    stage: str
    opened_on: date
    closed_on: date | None


@dataclass(frozen=True)
class ClientOverview:
    """A client found by the search, read-only: who, their loans with arrears, and their cases (if any)."""

    as_of: date
    client: ClientInfo
    loans: tuple[LoanInfo, ...]
    cases: tuple[CaseSummary, ...]


def client_overview(ctx: Context, client_id: int) -> ClientOverview:
    """One read of a client and their loans: what a client without a case opens on (read-only)."""
    as_of = ctx.clock.today()
    with ctx.db.reader() as s:
        client = s.get(Client, client_id)
        if client is None:
            raise NotFound(N_("Client {id} does not exist"), id=client_id)
        loans = list(s.scalars(select(Loan).where(Loan.client_id == client_id).order_by(Loan.number)))
        positions = loan_positions(s, [loan.id for loan in loans], as_of)
        paid = dict(
            s.execute(
                select(Installment.loan_id, type_coerce(func.sum(Installment.principal_paid), Money))
                .where(Installment.loan_id.in_([loan.id for loan in loans]))
                .group_by(Installment.loan_id)
            ).all()
        )
        cases = s.scalars(
            select(Case).where(Case.client_id == client_id).order_by(Case.opened_on.desc(), Case.id.desc())
        )
        return ClientOverview(
            as_of=as_of,
            client=ClientInfo(**{f.name: getattr(client, f.name) for f in fields(ClientInfo)}),
            loans=tuple(
                LoanInfo(
                    **{
                        f.name: getattr(loan, f.name)
                        for f in fields(LoanInfo)
                        if f.name not in ("outstanding_principal", "arrears")
                    },
                    outstanding_principal=loan.principal - (paid.get(loan.id) or ZERO),
                    arrears=positions[loan.id],
                )
                for loan in loans
            ),
            cases=tuple(CaseSummary(c.id, c.status, c.stage, c.opened_on, c.closed_on) for c in cases),
        )


@dataclass(frozen=True)
class IndexReport:
    clients: int
    indexed: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_index(ctx: Context, limit: int | None = None) -> IndexReport:
    """Recompute every client's words (the first ``limit`` clients when given) and compare them with the index;
    on SQLite also FTS5's own integrity check of the index against its content. One line per problem."""
    problems: list[str] = []
    with ctx.db.reader() as s:
        clients = int(s.execute(select(func.count()).select_from(Client)).scalar_one())
        indexed = int(s.execute(select(func.count()).select_from(ClientSearch)).scalar_one())
        query = select(Client.id).order_by(Client.id)
        if limit:
            query = query.limit(limit)
        ids = list(s.scalars(query))
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            want = search_index.client_words(s, chunk)
            have = dict(
                s.execute(
                    select(ClientSearch.client_id, ClientSearch.words).where(ClientSearch.client_id.in_(chunk))
                ).all()
            )
            for cid in chunk:
                if cid not in have:
                    problems.append(f"client {cid}: not in the search index")
                elif set(have[cid].split()) != set(want[cid].split()):  # word order means nothing to the index
                    problems.append(f"client {cid}: index has {have[cid]!r}, the data gives {want[cid]!r}")
        if indexed > clients:
            problems.append(f"the index holds {indexed} rows for {clients} clients")
        if ctx.db.backend == "sqlite":
            try:
                s.execute(
                    text(
                        f"INSERT INTO {search_index.FTS_TABLE}({search_index.FTS_TABLE}, rank)"
                        " VALUES ('integrity-check', 1)"
                    )
                )
            except DatabaseError as exc:
                problems.append(f"FTS5 integrity check: {str(getattr(exc, 'orig', exc)).splitlines()[0]}")
            finally:
                s.rollback()
    return IndexReport(clients=clients, indexed=indexed, problems=tuple(problems))


def rebuild_index(ctx: Context) -> int:
    """Rewrite every client's words (after a repair by hand or a bulk load outside the services). Admin or
    supervisor; audited. Returns the number of clients indexed."""
    ctx.require(Role.ADMIN, Role.SUPERVISOR)
    with ctx.db.transaction() as s:
        ids = list(s.scalars(select(Client.id).order_by(Client.id)))
        done = 0
        for start in range(0, len(ids), 20_000):
            done += search_index.reindex(s.connection(), ids[start : start + 20_000])
        record(
            s,
            at=ctx.clock.now(),
            actor=ctx.actor.name,
            action="search_index_rebuilt",
            entity="book",
            entity_id=None,
            after={"clients": done},
        )
    return done


__all__ = [
    "SCOPES",
    "CaseSummary",
    "ClientOverview",
    "client_overview",
    "IndexReport",
    "SearchHit",
    "SearchResult",
    "rebuild_index",
    "search",
    "verify_index",
]
