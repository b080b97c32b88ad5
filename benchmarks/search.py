"""Search (issue 14): p50 / p95 per kind of term on the book, and the size of the search index.

    python -m benchmarks.search --db sqlite:////path/book1000000.db [--runs 20] [--terms 10] [--user demo]

Each kind of term is taken from ``--terms`` clients spread over the book (deterministic: every n-th client id), each
term timed ``--runs`` times after one warm-up that is not counted; p50 and p95 (nearest rank) are over all of them.
What is timed is what the screens call:

- ``search(ctx, term, "all")``: the search screen (count + the first 50 hits by name, with their cases);
- ``search(ctx, term, "desk")``: the same, the desk's cases only;
- the worklist's box: ``worklist(WorklistFilter(text=term))`` ``count()`` + ``page(0)``.

Kinds: a word in the name (a surname), a 2-letter word start (its first two letters), client number, KvK, phone (as
stored: ``06-12345678``), street with house number (``Dorpsstraat 12``).

Index size: SQLite ``dbstat`` over ``client_search`` and the FTS5 tables; PostgreSQL ``pg_total_relation_size``.
Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from sqlalchemy import func, select, text

from benchmarks.queries import _context, _timed, summary_ms
from incasso_tui.services.search import search
from incasso_tui.services.worklist import WorklistFilter, worklist
from incasso_tui.store.models import Client
from incasso_tui.ui.widgets.virtual_table import PAGE_SIZE as PAGE

KINDS = ("word in the name", "2-letter word start", "client number", "KvK", "phone", "street + house number")


def _terms(ctx, n: int) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        top = s.scalar(select(func.max(Client.id))) or 0
        step = max(1, top // (n * 3))
        rows = s.execute(
            select(Client.name, Client.kind, Client.number, Client.kvk, Client.phone, Client.street)
            .where(Client.id % step == 0)
            .order_by(Client.id)
            .limit(n * 3)
        ).all()
    out: dict[str, list[str]] = {k: [] for k in KINDS}
    for r in rows:
        if r.kind == "natural" and len(out["word in the name"]) < n:
            surname = r.name.split()[-1]
            out["word in the name"].append(surname)
            out["2-letter word start"].append(surname[:2])
        if len(out["client number"]) < n:
            out["client number"].append(r.number)
        if r.kvk and len(out["KvK"]) < n:
            out["KvK"].append(r.kvk)
        if r.phone and len(out["phone"]) < n:
            out["phone"].append(r.phone)
        if len(out["street + house number"]) < n:
            out["street + house number"].append(r.street)
    return out


def index_size(ctx) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        if ctx.db.backend == "sqlite":
            rows = s.execute(
                text(
                    "SELECT name, SUM(pgsize) FROM dbstat WHERE name = 'client_search'"
                    " OR name LIKE 'client_search_fts%' OR name LIKE 'sqlite_autoindex_client_search%'"
                    " GROUP BY name"
                )
            ).all()
            sizes = {name: int(size) for name, size in rows}
        else:
            sizes = {
                "client_search (table, TOAST and indexes)": int(
                    s.scalar(text("SELECT pg_total_relation_size('client_search')"))
                ),
                "ix_client_search_words (GIN)": int(
                    s.scalar(text("SELECT pg_relation_size('ix_client_search_words')"))
                ),
            }
        sizes["clients"] = int(s.scalar(select(func.count()).select_from(Client)))
    return sizes


def measure(url: str, user: str, day: date, runs: int, terms: int) -> dict[str, object]:
    ctx = _context(url, user, day)
    out: dict[str, object] = {"index": index_size(ctx), "kinds": {}}
    for kind, words in _terms(ctx, terms).items():
        times: dict[str, list[float]] = {"all": [], "desk": [], "worklist box": []}
        found: dict[str, list[int]] = {"all": [], "desk": []}
        for term in words:
            for scope in ("all", "desk"):
                found[scope].append(search(ctx, term, scope).total)  # type: ignore[arg-type]
                times[scope] += _timed(lambda t=term, sc=scope: search(ctx, t, sc), runs)  # type: ignore[misc]
            wl = worklist(ctx, WorklistFilter(text=term))
            times["worklist box"] += _timed(lambda wl=wl: wl.page(0, PAGE, wl.count()), runs)
        out["kinds"][kind] = {  # type: ignore[index]
            "terms": words[:3],
            "terms_n": len(words),
            "found_all_median": sorted(found["all"])[len(found["all"]) // 2],
            "found_desk_median": sorted(found["desk"])[len(found["desk"]) // 2],
            **{scope: summary_ms(values) for scope, values in times.items()},
        }
    ctx.db.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--terms", type=int, default=10)
    parser.add_argument("--date", default="2026-11-23", type=date.fromisoformat)
    parser.add_argument("--user", default="demo")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.db, args.user, args.date, args.runs, args.terms), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
