"""The complaints register (issue 19): terms as tasks, acknowledgement, the final answer with Kifid, the hold of an
open dispute on the daily run, the dashboard figure and the report."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from incasso_tui.errors import BadInput, NotAllowed, NotFound, RuleViolation
from incasso_tui.services import complaints as cs
from incasso_tui.services.letters import issue_by_hand
from incasso_tui.services.procedure import run_procedure
from incasso_tui.store.models import AuditEvent, Task
from tests.conftest import AS_OF
from tests.services.test_external import _case_activity, _consumer_case, _ctx, _later


def _add(ctx, case_id: int, kind: str = "complaint", received: date = date(2026, 11, 16)) -> int:  # type: ignore[no-untyped-def]
    return cs.add_complaint(
        ctx, case_id, cs.ComplaintInput(kind=kind, received_on=received, channel="email", about="Kosten niet terecht")
    )


def test_a_complaint_gets_its_two_tasks_with_the_terms(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    demo = _ctx(ctx_for, tmp_path, "demo")
    case_id, _n, _l = _consumer_case(demo)
    for bad, field in (
        (cs.ComplaintInput("complaint", None, "email", "x"), "received"),
        (cs.ComplaintInput("complaint", date(2026, 11, 24), "email", "x"), "received"),
        (cs.ComplaintInput("complaint", AS_OF, "fax", "x"), "channel"),
        (cs.ComplaintInput("gripe", AS_OF, "email", "x"), "kind"),
        (cs.ComplaintInput("complaint", AS_OF, "email", " "), "about"),
    ):
        with pytest.raises((BadInput, RuleViolation)) as caught:
            cs.add_complaint(demo, case_id, bad)
        assert caught.value.field == field
    with pytest.raises(NotFound):
        cs.add_complaint(demo, case_id, cs.ComplaintInput("complaint", AS_OF, "email", "x", handled_by="nobody"))
    with pytest.raises(NotAllowed):
        _add(_ctx(ctx_for, tmp_path, "audit"), case_id)

    # received Monday 16 November 2026: 5 working days -> Monday 23 November; 8 weeks -> Monday 11 January 2027
    complaint_id = _add(demo, case_id)
    (row,) = cs.complaints(demo, open_only=True)
    assert (row.id, row.acknowledge_by, row.answer_by, row.handled_by) == (
        complaint_id,
        date(2026, 11, 23),
        date(2027, 1, 11),
        "demo",
    )
    with demo.db.reader() as s:
        tasks = {
            t.kind: t for t in s.scalars(select(Task).where(Task.case_id == case_id, Task.kind.like("complaint%")))
        }
    assert {k: (t.due_date, t.status) for k, t in tasks.items()} == {
        "complaint_ack": (date(2026, 11, 23), "open"),
        "complaint_answer": (date(2027, 1, 11), "open"),
    }
    assert cs.overdue(demo) == cs.Overdue(1, 0, 0)  # due today, not yet overdue
    assert cs.overdue(_later(demo, 1)) == cs.Overdue(1, 1, 0)

    cs.acknowledge(demo, complaint_id)
    with pytest.raises(RuleViolation, match="acknowledged"):
        cs.acknowledge(demo, complaint_id)
    assert cs.overdue(_later(demo, 1)) == cs.Overdue(1, 0, 0)

    with pytest.raises(BadInput):
        cs.answer(demo, complaint_id, "maybe", "x")
    recorded = cs.answer(_later(demo, 10), complaint_id, "partly_upheld", "De kosten zijn deels teruggeboekt.")
    assert recorded.startswith("De kosten zijn deels teruggeboekt.") and "Kifid" in recorded  # the Kifid sentence added
    with pytest.raises(RuleViolation, match="answered"):
        cs.answer(demo, complaint_id, "rejected", "x")
    with demo.db.reader() as s:
        assert {
            t.status for t in s.scalars(select(Task).where(Task.case_id == case_id, Task.kind.like("complaint%")))
        } == {"done"}
        assert s.scalar(select(AuditEvent.actor).where(AuditEvent.action == "complaint.answer")) == "demo"
    rep = cs.report(demo, date(2026, 11, 1), date(2026, 12, 31))
    # received 16 November, answered 3 December: 17 days
    assert (rep.received, rep.answered, rep.outcomes, rep.average_days, rep.answered_late) == (
        {"complaint": 1, "dispute": 0},
        1,
        {"partly_upheld": 1},
        17.0,
        0,
    )


def test_an_open_dispute_holds_the_daily_run_and_dunning_by_hand(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    demo = _ctx(ctx_for, tmp_path, "demo")
    case_id, _n, _l = _consumer_case(demo)
    dispute = _add(demo, case_id, kind="dispute", received=AS_OF)
    before = _case_activity(demo, case_id, AS_OF)
    admin = _later(_ctx(ctx_for, tmp_path, "admin"), 75)
    run_procedure(admin, admin.clock.today())
    assert _case_activity(demo, case_id, AS_OF) == before
    with pytest.raises(RuleViolation, match="disputes the claim"):
        issue_by_hand(demo, case_id, "reminder")
    cs.answer(demo, dispute, "rejected", "De vordering is terecht; zie het overzicht. Kifid: binnen drie maanden.")
    run_procedure(admin, admin.clock.today())
    assert _case_activity(demo, case_id, AS_OF) != before
