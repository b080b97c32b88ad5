"""The worklist service on both databases: filters, orders, paging by offset and by keyset agree."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from incasso_tui.domain.arrears import BUCKETS, ageing_bucket
from incasso_tui.errors import BadInput, NotAllowed
from incasso_tui.services.worklist import SORTS, WorklistFilter, worklist
from incasso_tui.store.models import DESK_WHERE, Case, Client, Loan
from tests.conftest import AS_OF


def _all(wl, page=37):  # type: ignore[no-untyped-def]
    total = wl.count()
    rows = []
    while len(rows) < total:
        rows += wl.page(len(rows), page, total).rows
    return rows


def _priority_key(row):  # type: ignore[no-untyped-def]
    return (row.next_action_date > AS_OF, -row.days_past_due, -row.arrears, row.case_id)


def test_default_order_is_priority_and_counts_every_desk_case(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    wl = worklist(ctx, WorklistFilter())
    rows = _all(wl)
    with ctx.db.reader() as s:
        desk = s.scalar(select(func.count()).select_from(Case).where(text(DESK_WHERE)))
    assert len(rows) == desk > 20
    assert [r.case_id for r in rows] == [r.case_id for r in sorted(rows, key=_priority_key)]
    assert len({r.case_id for r in rows}) == len(rows)


@pytest.mark.parametrize("sort", SORTS)
def test_keyset_pages_equal_offset_pages_in_every_order(ctx_for, sort) -> None:  # type: ignore[no-untyped-def]
    wl = worklist(ctx_for(), WorklistFilter(sort=sort))
    by_offset = _all(wl, page=10)
    total = len(by_offset)
    forward = list(wl.page(0, 10, total).rows)
    while len(forward) < total:
        forward += wl.page_after(forward[-1], len(forward), 10).rows
    assert [r.case_id for r in forward] == [r.case_id for r in by_offset]
    backward = list(wl.page(total - 10, 10, total).rows)
    while len(backward) < total:
        page = wl.page_before(backward[0], total - len(backward), 10)
        assert page.offset == total - len(backward) - len(page.rows)
        backward = list(page.rows) + backward
    assert [r.case_id for r in backward] == [r.case_id for r in by_offset]


def test_a_jump_to_the_end_walks_from_the_end(ctx_for) -> None:  # type: ignore[no-untyped-def]
    wl = worklist(ctx_for(), WorklistFilter(sort="amount"))
    everything = _all(wl)
    last = wl.page(len(everything) - 5, 50, len(everything))
    assert [r.case_id for r in last.rows] == [r.case_id for r in everything[-5:]]


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_filter_holds_only_that_bucket(ctx_for, bucket) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    rows = _all(worklist(ctx, WorklistFilter(bucket=bucket)))
    assert all(ageing_bucket(r.days_past_due) == bucket for r in rows)
    everything = _all(worklist(ctx, WorklistFilter()))
    assert len(rows) == sum(1 for r in everything if ageing_bucket(r.days_past_due) == bucket)


def test_mine_and_due_today_and_stage(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    mine = _all(worklist(ctx, WorklistFilter(mine=True)))
    assert mine and all(r.assignee == "demo" for r in mine)
    due = _all(worklist(ctx, WorklistFilter(due_today=True)))
    assert due and all(r.next_action_date <= AS_OF for r in due)
    stage = mine[0].stage
    staged = _all(worklist(ctx, WorklistFilter(stage=stage)))
    assert staged and all(r.stage == stage for r in staged)


def test_search_by_name_prefix_loan_number_iban_and_postcode(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    some = _all(worklist(ctx, WorklistFilter()))[3]
    with ctx.db.reader() as s:
        client = s.get(Client, some.client_id)
        loan_number = s.scalar(select(Loan.number).where(Loan.client_id == client.id).limit(1))
    for text_ in (
        client.name[:4],
        loan_number,
        loan_number[1:7],
        client.iban,
        client.postcode,
        client.postcode[:4] + " " + client.postcode[4:],
    ):
        found = _all(worklist(ctx, WorklistFilter(text=text_)))
        assert some.case_id in [r.case_id for r in found], text_
    assert _all(worklist(ctx, WorklistFilter(text="zzzzqqq"))) == []


def test_cursor_position_of_a_case(ctx_for) -> None:  # type: ignore[no-untyped-def]
    wl = worklist(ctx_for(), WorklistFilter())
    rows = _all(wl)
    for index in (0, 1, len(rows) // 2, len(rows) - 1):
        assert wl.position_of(rows[index].case_id) == index
    assert wl.position_of(-1) is None


def test_position_cache_moves_the_order(ctx_for) -> None:  # type: ignore[no-untyped-def]
    """The worklist sorts on the cached position: a case whose arrears grow moves up in 'amount'."""
    ctx = ctx_for()
    wl = worklist(ctx, WorklistFilter(sort="amount"))
    rows = _all(wl)
    last = rows[-1]
    with ctx.db.transaction() as s:
        s.execute(update(Case).where(Case.id == last.case_id).values(pos_arrears=rows[0].arrears + 1))
    assert worklist(ctx, WorklistFilter(sort="amount")).page(0, 1, len(rows)).rows[0].case_id == last.case_id


def test_bad_filters_are_refused(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    with pytest.raises(BadInput, match="bucket"):
        worklist(ctx, WorklistFilter(bucket="7-8")).count()
    with pytest.raises(BadInput, match="stage"):
        worklist(ctx, WorklistFilter(stage="nonsense")).count()
    with pytest.raises(BadInput, match="sort"):
        worklist(ctx, replace(WorklistFilter(), sort="name"))  # type: ignore[arg-type]


def test_special_management_queue_is_not_for_employees(ctx_for) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAllowed):
        worklist(ctx_for("demo"), WorklistFilter(queue="special"))
    rows = _all(worklist(ctx_for("visser"), WorklistFilter(queue="special")))
    assert rows and all(r.status == "handed_over" for r in rows)


def test_days_past_due_follow_the_clock(ctx_for, clock) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    before = {r.case_id: r.days_past_due for r in _all(worklist(ctx, WorklistFilter()))}
    clock.advance(days=1)
    after = {r.case_id: r.days_past_due for r in _all(worklist(ctx, WorklistFilter()))}
    assert any(after[c] == d + 1 for c, d in before.items() if d > 0)
    assert AS_OF + timedelta(days=1) == clock.today()
