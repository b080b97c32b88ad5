"""Saved selections on both databases: criteria and their meaning, saving and changing, paging, the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update

from incasso_tui.domain.arrears import ageing_bucket
from incasso_tui.errors import BadInput, NotAllowed, NotFound, RuleViolation, StaleData
from incasso_tui.services.criteria import Criteria, describe, products
from incasso_tui.services.selections import (
    CSV_HEADER,
    count_selection,
    delete_selection,
    export_csv,
    export_to_file,
    get_selection,
    list_selections,
    save_selection,
    selection_filter,
    update_selection,
)
from incasso_tui.services.worklist import SORTS, WorklistFilter, worklist
from incasso_tui.store.models import (
    DESK_WHERE,
    Arrangement,
    ArrangementLine,
    AuditEvent,
    Case,
    Client,
    Contact,
    Deferral,
    Loan,
    Proposal,
    User,
)
from tests.conftest import AS_OF, NOW


def _all(wl):  # type: ignore[no-untyped-def]
    total = wl.count()
    rows = []
    while len(rows) < total:
        rows += wl.page(len(rows), 50, total).rows
    return rows


def _ids(ctx, criteria: Criteria) -> set[int]:  # type: ignore[no-untyped-def]
    return {r.case_id for r in _all(worklist(ctx, WorklistFilter(criteria=criteria)))}


def _desk(ctx, *where) -> set[int]:  # type: ignore[no-untyped-def]
    """The desk's cases that satisfy ``where`` (the expectation, computed without the criteria code)."""
    with ctx.db.reader() as s:
        return set(s.scalars(select(Case.id).join(Client, Client.id == Case.client_id).where(text(DESK_WHERE), *where)))


def _events(ctx, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# ----- criteria


@pytest.mark.parametrize(
    ("given", "field", "words"),
    [
        ({"stages": ("aanmaning",)}, "stages", "Unknown stage"),
        ({"buckets": ("1-31",)}, "buckets", "Unknown ageing bucket"),
        ({"min_arrears": Decimal("10.005")}, "min_arrears", "at most 2 decimals"),
        ({"max_arrears": Decimal("-1")}, "max_arrears", "may not be negative"),
        ({"min_arrears": Decimal("500"), "max_arrears": Decimal("100")}, "max_arrears", "above the arrears to"),
        ({"no_contact_days": 0}, "no_contact_days", "from 1 to 3660"),
        ({"arrangement_ends_within": 4000}, "arrangement_ends_within", "from 0 to 3660"),
        ({"languages": ("de",)}, "languages", "Unknown language de"),
        ({"assignee": "demo", "unassigned": True}, "assignee", "not both"),
        ({"debtor": "consument"}, "debtor", "not valid"),
        ({"colour": "red"}, "colour", "not valid"),
        ({"no_contact_days": "veel"}, "no_contact_days", "not valid"),
    ],
)
def test_bad_criteria_are_refused_at_their_field(given, field, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadInput, match=words) as refused:
        Criteria.parse(given)
    assert refused.value.field == field


def test_criteria_are_stored_the_same_whatever_the_order_and_read_back() -> None:
    one = Criteria(stages=("demand", "reminder"), buckets=("61-90", "31-60"), min_arrears=Decimal("100.00"))
    two = Criteria(stages=("reminder", "demand", "demand"), buckets=("31-60", "61-90"), min_arrears=Decimal("100.00"))
    assert one == two and one.to_json() == two.to_json()
    assert Criteria.from_json(one.to_json()) == one
    assert Criteria().empty and describe(Criteria()) == [("every case on the desk", {})]
    lines = describe(one, lambda kind, value: f"<{kind}:{value}>")
    assert lines[0] == ("stage: {stages}", {"stages": "<stage:demand>, <stage:reminder>"})
    assert lines[1] == ("ageing: {buckets}", {"buckets": "<bucket:31-60>, <bucket:61-90>"})


def test_case_criteria_select_exactly_the_matching_desk_cases(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    low, high = Decimal("200.00"), Decimal("3000.00")
    chosen = _ids(ctx, Criteria(stages=("reminder", "demand"), min_arrears=low, max_arrears=high))
    expected = _desk(ctx, Case.stage.in_(("reminder", "demand")), Case.pos_arrears >= low, Case.pos_arrears <= high)
    assert chosen == expected and 0 < len(chosen) < len(_desk(ctx))
    # neighbouring buckets are one range, others a second: the same as the worklist's bucket of each row
    rows = _all(worklist(ctx, WorklistFilter(criteria=Criteria(buckets=("current", "31-60", "61-90")))))
    assert rows and {ageing_bucket(r.days_past_due) for r in rows} <= {"current", "31-60", "61-90"}
    every = _all(worklist(ctx, WorklistFilter()))
    assert len(rows) == sum(ageing_bucket(r.days_past_due) in ("current", "31-60", "61-90") for r in every)
    # assignee
    with ctx.db.reader() as s:
        jansen = s.scalar(select(User.id).where(User.name == "jansen"))
    assert _ids(ctx, Criteria(assignee="jansen")) == _desk(ctx, Case.assignee_id == jansen) != set()
    assert _ids(ctx, Criteria(unassigned=True)) == _desk(ctx, Case.assignee_id.is_(None))


def test_client_criteria_select_exactly_the_matching_desk_cases(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    consumers = _ids(ctx, Criteria(debtor="consumer"))
    assert consumers == _desk(ctx, Client.consumer.is_(True)) != set()
    assert _ids(ctx, Criteria(debtor="business")) == _desk(ctx, Client.consumer.is_(False))
    assert _ids(ctx, Criteria(languages=("en",))) == _desk(ctx, Client.language == "en") != set()
    assert _ids(ctx, Criteria(debtor="consumer", languages=("nl",))) == _desk(
        ctx, Client.consumer.is_(True), Client.language == "nl"
    )
    with ctx.db.reader() as s:
        names = products(s)
        assert names == sorted(set(s.scalars(select(Loan.product))))
        with_product = set(s.scalars(select(Loan.client_id).where(Loan.product == names[-1])))
    assert _ids(ctx, Criteria(products=(names[-1],))) == _desk(ctx, Case.client_id.in_(with_product)) != set()


def test_no_contact_for_n_days(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    since = datetime.combine(AS_OF - timedelta(days=30), datetime.min.time())
    with ctx.db.reader() as s:
        recent = set(s.scalars(select(Contact.case_id).where(Contact.at >= since)))
    quiet = _ids(ctx, Criteria(no_contact_days=30))
    assert quiet == _desk(ctx) - recent and quiet and recent & _desk(ctx)
    case_id = min(quiet)
    with ctx.db.transaction() as s:  # a contact today takes the case out of the group
        s.add(Contact(case_id=case_id, at=NOW, channel="phone", outcome="reached", summary="", user_name="demo"))
    assert case_id not in _ids(ctx, Criteria(no_contact_days=30))


def test_arrangement_and_deferral_ending_within_n_days(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    with ctx.db.transaction() as s:
        arranged = s.scalars(select(Case).where(Case.status == "arrangement").order_by(Case.id)).first()
        assert arranged is not None
        arrangement = s.scalar(
            select(Arrangement).where(Arrangement.case_id == arranged.id, Arrangement.status == "active")
        )
        assert arrangement is not None
        last = s.scalar(select(func.max(ArrangementLine.seq)).where(ArrangementLine.arrangement_id == arrangement.id))
        s.execute(
            update(ArrangementLine)
            .where(ArrangementLine.arrangement_id == arrangement.id, ArrangementLine.seq == last)
            .values(due_date=AS_OF + timedelta(days=10))
        )
        s.execute(
            update(ArrangementLine)
            .where(ArrangementLine.arrangement_id == arrangement.id, ArrangementLine.seq < last)
            .values(due_date=AS_OF - timedelta(days=5))
        )
        deferred = s.scalars(select(Case).where(Case.status == "active").order_by(Case.id)).first()
        assert deferred is not None
        loan_id = s.scalar(select(Loan.id).where(Loan.client_id == deferred.client_id).limit(1))
        proposal = Proposal(
            case_id=deferred.id,
            loan_id=loan_id,
            kind="deferral",
            status="approved",
            position=Decimal("1.00"),
            payload="{}",
            proposed_by="demo",
            proposed_at=NOW,
        )
        s.add(proposal)
        s.flush()
        s.add(
            Deferral(
                loan_id=loan_id,
                proposal_id=proposal.id,
                months=3,
                option="extend_term",
                first_seq=1,
                starts_on=AS_OF - timedelta(days=60),
                ends_on=AS_OF + timedelta(days=20),
                applied_at=NOW,
            )
        )
    assert arranged.id in _ids(ctx, Criteria(arrangement_ends_within=10))
    assert arranged.id not in _ids(ctx, Criteria(arrangement_ends_within=9))
    assert _ids(ctx, Criteria(deferral_ends_within=20)) == {deferred.id}
    assert _ids(ctx, Criteria(deferral_ends_within=19)) == set()


# ----- saving


def test_save_count_rename_and_delete_are_audited(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    criteria = Criteria(stages=("demand",), min_arrears=Decimal("100.00"))
    saved = save_selection(ctx, "  Aanmaningen boven 100 ", criteria)
    assert saved.name == "Aanmaningen boven 100" and saved.created_by == "demo" and saved.version == 1
    with pytest.raises(RuleViolation, match="already") as taken:
        save_selection(ctx_for("jansen"), "aanmaningen BOVEN 100", Criteria())
    assert taken.value.field == "name"
    listed = list_selections(ctx)
    assert [(i.name, i.count) for i in listed] == [(saved.name, count_selection(ctx, criteria))]
    assert listed[0].count == len(_desk(ctx, Case.stage == "demand", Case.pos_arrears >= Decimal("100.00"))) > 0
    assert get_selection(ctx, "AANMANINGEN boven 100", count=True).count == listed[0].count

    with pytest.raises(NotAllowed, match="demo"):  # someone else's selection
        update_selection(ctx_for("jansen"), saved.id, saved.version, "Mijn naam", criteria)
    renamed = update_selection(ctx_for("bakker"), saved.id, saved.version, "Aanmaningen", criteria)  # a supervisor
    assert renamed.name == "Aanmaningen" and renamed.version == 2 and renamed.updated_by == "bakker"
    with pytest.raises(StaleData, match="bakker"):
        update_selection(ctx, saved.id, saved.version, "Oud", criteria)
    delete_selection(ctx, renamed.id, renamed.version)
    with pytest.raises(NotFound):
        get_selection(ctx, "Aanmaningen")
    assert [e.entity_id for e in _events(ctx, "selection.save")] == [saved.id]
    update_event = _events(ctx, "selection.update")[0]
    assert '"Aanmaningen boven 100"' in (update_event.before or "") and update_event.actor == "bakker"
    assert len(_events(ctx, "selection.delete")) == 1


def test_saving_is_for_the_desk_and_names_what_is_in_the_book(ctx_for) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAllowed):
        save_selection(ctx_for("audit"), "Alles", Criteria())
    with pytest.raises(NotAllowed):
        save_selection(ctx_for("admin"), "Alles", Criteria())
    ctx = ctx_for()
    with pytest.raises(BadInput, match="There is no product Hypotheek; the book has: ") as refused:
        save_selection(ctx, "Hypotheken", Criteria(products=("Hypotheek",)))
    assert refused.value.field == "products" and "Microkrediet" in str(refused.value)
    with pytest.raises(BadInput, match="Unknown user nobody"):
        save_selection(ctx, "Van niemand", Criteria(assignee="nobody"))
    with pytest.raises(BadInput, match="name"):
        save_selection(ctx, "   ", Criteria())
    with pytest.raises(BadInput, match="control characters"):
        save_selection(ctx, "Rood\x1b[31m", Criteria())
    assert list_selections(ctx) == []


# ----- the selection as the worklist


@pytest.mark.parametrize("sort", SORTS)
def test_a_selection_pages_by_keyset_like_by_offset_and_streams_the_same(ctx_for, sort) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    saved = save_selection(ctx, "Zakelijk", Criteria(debtor="business", min_arrears=Decimal("50.00")))
    wl = worklist(ctx, selection_filter(saved, WorklistFilter(sort=sort)))
    by_offset = _all(wl)
    forward = list(wl.page(0, 7, len(by_offset)).rows)
    while len(forward) < len(by_offset):
        forward += wl.page_after(forward[-1], len(forward), 7).rows
    assert [r.case_id for r in forward] == [r.case_id for r in by_offset]
    assert [r.case_id for r in wl.iter_rows(page_size=9)] == [r.case_id for r in by_offset]
    assert {r.case_id for r in by_offset} == _desk(
        ctx, Client.consumer.is_(False), Case.pos_arrears >= Decimal("50.00")
    )


def test_the_worklist_filters_apply_on_top_of_a_selection(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    saved = save_selection(ctx, "Consumenten", Criteria(debtor="consumer"))
    mine = worklist(ctx, selection_filter(saved, WorklistFilter(mine=True)))
    rows = _all(mine)
    assert rows and all(r.assignee == "demo" for r in rows)
    assert {r.case_id for r in rows} < _ids(ctx, saved.criteria)


# ----- CSV


def _parse(text_: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text_, newline="")))


def test_the_csv_export_has_a_stable_header_plain_amounts_and_iso_dates(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    flt = WorklistFilter(sort="amount")
    out = io.StringIO(newline="")
    rows = export_csv(ctx, flt, out)
    text_ = out.getvalue()
    assert text_.startswith(",".join(CSV_HEADER) + "\r\n")
    parsed = _parse(text_)
    expected = _all(worklist(ctx, flt))
    assert rows == len(parsed) == len(expected) > 100
    assert [int(p["case_id"]) for p in parsed] == [r.case_id for r in expected]
    for p, r in zip(parsed, expected, strict=True):
        assert Decimal(p["arrears"]) == r.arrears and len(p["arrears"].split(".")[1]) == 2
        assert date.fromisoformat(p["next_action_date"]) == r.next_action_date
        assert p["client_number"] == r.client_number and p["stage"] == r.stage
    event = _events(ctx, "worklist.export")[-1]
    assert f'"rows": {rows}' in (event.after or "") and event.actor == "demo"


def test_names_cannot_become_formulas_or_terminal_escapes_in_the_csv(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker", export_dir=tmp_path / "out")
    with ctx.db.transaction() as s:
        first, second = s.scalars(select(Case.client_id).where(text(DESK_WHERE)).order_by(Case.id).limit(2)).all()
        s.execute(update(Client).where(Client.id == first).values(name='=HYPERLINK("http://x";"klik")'))
        s.execute(update(Client).where(Client.id == second).values(name='Bouw \x1b[31mRood\x1b[0m, "Zonen"'))
    target = tmp_path / "out" / "alles.csv"
    rows = export_to_file(ctx, WorklistFilter(), "alles.csv")
    parsed = {p["client_name"] for p in _parse(target.read_text(encoding="utf-8"))}
    assert rows == len(_desk(ctx))
    assert '\'=HYPERLINK("http://x";"klik")' in parsed
    assert 'Bouw \u241b[31mRood\u241b[0m, "Zonen"' in parsed
    assert "\x1b" not in target.read_text(encoding="utf-8")
    with pytest.raises(RuleViolation, match="exists already"):
        export_to_file(ctx, WorklistFilter(), "alles.csv")
    for path in (target, tmp_path / "nope" / "x.csv", "/etc/cron.d/incasso", "../x.csv", "sub/x.csv", ".profile"):
        with pytest.raises(BadInput, match="plain file name"):  # over SSH a path would be the server's
            export_to_file(ctx, WorklistFilter(), path)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["alles.csv"], "no temporary file is left behind"
