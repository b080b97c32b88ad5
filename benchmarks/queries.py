"""Worklist page fetches, searches and the client detail, timed through the service layer the screens call.

    python -m benchmarks.queries --db sqlite:////path/bench1m.db [--runs 20] [--date 2026-11-23] [--user demo]

Each figure times exactly what a screen does, in-process (no terminal), so it is the database and service cost a
user waits for on top of painting:

- **filter / sort** (what the worklist does when a filter or the order changes): ``count()`` then the page under
  the cursor (``page(0)``), for every sort with no filter and for every filter (each ageing bucket, each stage that
  has cases, "mine", "due today") in the default order, as ``--user``; special management's queue as ``visser``;
- **next page**: ``page_after`` the last row of the first page (PageDown past the rows held);
- **jump to end**: ``page`` at the last full page (End), walked from the nearer end of the order;
- **search**: name prefix, loan number, IBAN, postcode: ``count()`` and the first page, as the search box does;
- **client detail**: ``client_detail`` + ``case_tracks`` + ``open_case`` (the detail screen's worker) for
  cases spread over the book, and ``release_case`` after (not timed). It writes presence rows and their audit
  events: run it on a benchmark book, not on a book you keep.

Every figure is measured ``--runs`` times after one warm-up call that is not counted (the first call compiles
the statement and reads the pages into the cache); p50 and p95 are nearest-rank. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as dtime

from sqlalchemy import func, select, text

from incasso_tui.clock import FixedClock
from incasso_tui.config import Settings
from incasso_tui.domain.arrears import BUCKETS
from incasso_tui.services.cases import client_detail
from incasso_tui.services.context import Context
from incasso_tui.services.locks import open_case, release_case
from incasso_tui.services.tracks import case_tracks
from incasso_tui.services.users import resolve_actor
from incasso_tui.services.worklist import SORTS, WorklistFilter, worklist
from incasso_tui.store.db import Database
from incasso_tui.store.models import DESK_WHERE, Case, Client, Loan
from incasso_tui.ui.widgets.virtual_table import PAGE_SIZE as PAGE

DESK = text(DESK_WHERE)  # the desk's cases, literally as the worklist repeats it (so the partial indexes apply)


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "min_ms": round(min(ms), 1),
        "max_ms": round(max(ms), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
        "runs": len(ms),
    }


def _timed(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm-up, not counted
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        out.append(time.perf_counter() - started)
    return out


def _context(url: str, user: str, day: date) -> Context:
    db = Database(url)
    db.check_schema()
    return Context(
        db=db,
        actor=resolve_actor(db, user),
        clock=FixedClock(datetime.combine(day, dtime(9, 0))),
        settings=Settings(db_url=url),
    )


def _filters(ctx: Context) -> dict[str, WorklistFilter]:
    with ctx.db.reader() as s:
        stages = [st for (st,) in s.execute(select(Case.stage).where(DESK).group_by(Case.stage))]
    filters = {f"sort {sort}": WorklistFilter(sort=sort) for sort in SORTS}
    filters |= {f"bucket {b}": WorklistFilter(bucket=b) for b in BUCKETS}
    filters |= {f"stage {st}": WorklistFilter(stage=st) for st in sorted(stages)}
    filters["mine"] = WorklistFilter(mine=True)
    filters["due today"] = WorklistFilter(due_today=True)
    return filters


def _samples(ctx: Context) -> dict[str, str]:
    """Search terms taken from the book: a common name prefix, a loan number, an IBAN and a postcode of a desk case."""
    with ctx.db.reader() as s:
        total = s.scalar(select(func.count()).select_from(Case).where(DESK))
        case = s.execute(select(Case.client_id).where(DESK).order_by(Case.id).offset(total // 2).limit(1)).scalar_one()
        client = s.get(Client, case)
        loan = s.scalar(select(Loan.number).where(Loan.client_id == case).limit(1))
        assert client is not None and loan is not None
        return {
            "name prefix, 2 letters": client.name[:2],
            "name prefix, 5 letters": client.name[:5],
            "loan number": loan,
            "IBAN": client.iban or "",
            "postcode": client.postcode,
        }


def measure(url: str, user: str, day: date, runs: int) -> dict[str, object]:
    ctx = _context(url, user, day)
    results: dict[str, object] = {}

    fetch: dict[str, object] = {}
    for name, flt in _filters(ctx).items():
        wl = worklist(ctx, flt)
        total = wl.count()

        def first(wl=wl) -> object:
            return wl.page(0, PAGE, wl.count())

        row: dict[str, object] = {"cases": total, "count+first page": summary_ms(_timed(first, runs))}
        if total > PAGE:
            last_row = wl.page(0, PAGE, total).rows[-1]
            row["next page"] = summary_ms(_timed(lambda wl=wl, r=last_row: wl.page_after(r, PAGE, PAGE), runs))
            end = (total - 1) // PAGE * PAGE
            row["jump to end"] = summary_ms(_timed(lambda wl=wl, e=end, t=total: wl.page(e, PAGE, t), runs))
        fetch[name] = row
    visser = _context(url, "visser", day)
    special = worklist(visser, WorklistFilter(queue="special"))
    fetch["special management queue (visser)"] = {
        "cases": special.count(),
        "count+first page": summary_ms(_timed(lambda: special.page(0, PAGE, special.count()), runs)),
    }
    visser.db.dispose()  # no connection may stay open: the procedure step copies the book as a template
    results["worklist"] = fetch

    search: dict[str, object] = {}
    for kind, term in _samples(ctx).items():
        wl = worklist(ctx, WorklistFilter(text=term))
        search[kind] = {
            "term": term,
            "cases": wl.count(),
            "count+first page": summary_ms(_timed(lambda wl=wl: wl.page(0, PAGE, wl.count()), runs)),
        }
    results["search"] = search

    with ctx.db.reader() as s:
        total = s.scalar(select(func.count()).select_from(Case).where(DESK)) or 0
        step = max(1, total // (runs + 1))
        case_ids = list(s.scalars(select(Case.id).where(DESK).order_by(Case.id).offset(step // 2).limit(total)))[
            ::step
        ][: runs + 1]
    times: list[float] = []
    for i, case_id in enumerate(case_ids):
        started = time.perf_counter()
        client_detail(ctx, case_id)
        case_tracks(ctx, case_id)
        open_case(ctx, case_id)
        elapsed = time.perf_counter() - started
        release_case(ctx, case_id)
        if i:  # the first is the warm-up
            times.append(elapsed)
    results["client detail"] = summary_ms(times)
    ctx.db.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--date", default="2026-11-23", type=date.fromisoformat)
    parser.add_argument("--user", default="demo")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.db, args.user, args.date, args.runs), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
