"""The task inbox, consultations and the team meeting's list (issue 13): services.inbox, .consultations, .discussion."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from incasso_tui.errors import BadInput, NotAllowed, RuleViolation
from incasso_tui.i18n import Translator
from incasso_tui.services.cases import client_detail
from incasso_tui.services.consultations import advised_cases, answer, ask, consultations
from incasso_tui.services.discussion import Action, decide, items, raise_item
from incasso_tui.services.inbox import assign_task, complete_task, list_tasks, move_task
from incasso_tui.services.tasks import CallTaskInput, create_call_task
from incasso_tui.services.worklist import Worklist, WorklistFilter
from incasso_tui.store.models import AuditEvent, Case, ClientAdviser, Task, User
from incasso_tui.ui.labels import task_title

TODAY = date(2026, 11, 23)
TOMORROW = TODAY + timedelta(days=1)


def _desk_case(ctx, *, advised: bool = False, far_next_action: bool = True):  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        query = select(Case).where(Case.status == "active")
        if advised:
            query = query.join(ClientAdviser, ClientAdviser.client_id == Case.client_id)
        if far_next_action:
            query = query.where(Case.next_action_date > TOMORROW)
        return s.scalars(query.order_by(Case.id)).first()


def _events(ctx, action: str) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_a_call_task_is_in_the_owners_inbox_and_completed_with_an_outcome(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo, jansen, bakker = ctx_for("demo"), ctx_for("jansen"), ctx_for("bakker")
    case = _desk_case(demo)
    with demo.db.transaction() as s:  # the case is demo's
        s.get(Case, case.id).assignee_id = demo.actor.id
    task_id = create_call_task(demo, case.id, CallTaskInput(TOMORROW, "Bellen over de achterstand"))
    assert [t.id for t in list_tasks(demo)] == [task_id]
    assert list_tasks(demo, due="today") == []  # due tomorrow
    assert task_id not in [t.id for t in list_tasks(jansen)]  # not jansen's
    assert task_id in [t.id for t in list_tasks(bakker)]  # the supervisor sees the team's
    with pytest.raises(NotAllowed):
        list_tasks(demo, user="jansen")
    with pytest.raises(NotAllowed, match="demo's"):
        complete_task(jansen, task_id, "Gebeld")  # someone else's task, without the role
    with pytest.raises(BadInput):
        complete_task(demo, task_id, "  ")
    complete_task(demo, task_id, "Bereikt: betaalt vrijdag")
    with demo.db.reader() as s:
        t = s.get(Task, task_id)
        assert (t.status, t.outcome, t.done_by) == ("done", "Bereikt: betaalt vrijdag", "demo")
    assert _events(demo, "task.done") == 1
    with pytest.raises(RuleViolation):
        complete_task(demo, task_id, "nogmaals")


def test_tomorrows_task_is_on_tomorrows_worklist_of_action_due_today(ctx_for, clock) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo")
    case = _desk_case(demo)
    create_call_task(demo, case.id, CallTaskInput(TOMORROW, "Campagne: bellen"))
    with demo.db.transaction() as s:  # a call task brings the next action forward; undo that to test the task alone
        s.get(Case, case.id).next_action_date = TODAY + timedelta(days=20)
    due_tomorrow = Worklist(demo, WorklistFilter(due_today=True), today=TOMORROW)
    due_today = Worklist(demo, WorklistFilter(due_today=True), today=TODAY)
    ids = [r.case_id for r in due_tomorrow.page(0, 1000, due_tomorrow.count()).rows]
    assert case.id in ids
    assert case.id not in [r.case_id for r in due_today.page(0, 1000, due_today.count()).rows]


def test_moving_and_assigning_are_audited_and_refused_when_wrong(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo, jansen, bakker = ctx_for("demo"), ctx_for("jansen"), ctx_for("bakker")
    case = _desk_case(demo)
    with demo.db.transaction() as s:
        s.get(Case, case.id).assignee_id = demo.actor.id
    task_id = create_call_task(demo, case.id, CallTaskInput(TOMORROW, "Bellen"))
    with pytest.raises(RuleViolation, match="past"):
        move_task(demo, task_id, TODAY - timedelta(days=1), "vergeten")
    with pytest.raises(BadInput):
        move_task(demo, task_id, TODAY + timedelta(days=3), "")
    move_task(demo, task_id, TODAY + timedelta(days=3), "Klant op vakantie")
    with pytest.raises(NotAllowed):
        assign_task(demo, task_id, "jansen")  # only a supervisor gives a task to someone else
    with pytest.raises(RuleViolation):
        assign_task(bakker, task_id, "audit")  # an auditor gets no tasks
    assign_task(bakker, task_id, "jansen")
    assert [t.id for t in list_tasks(jansen)] == [task_id] and list_tasks(demo) == []
    with demo.db.reader() as s:
        t = s.get(Task, task_id)
        assert (t.due_date, t.assignee_id) == (TODAY + timedelta(days=3), jansen.actor.id)
    assert _events(demo, "task.move") == 1 and _events(demo, "task.assign") == 1


def test_a_consultation_goes_to_the_adviser_and_the_answer_comes_back(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo")
    case = _desk_case(demo, advised=True, far_next_action=False)
    with demo.db.reader() as s:
        adviser = s.scalar(
            select(User.name)
            .join(ClientAdviser, ClientAdviser.adviser_id == User.id)
            .where(ClientAdviser.client_id == case.client_id)
        )
        other = s.scalar(select(User.name).where(User.role == "adviser", User.name != adviser))
    with pytest.raises(RuleViolation, match="not this client's adviser"):
        ask(demo, case.id, other, "Uitstel?")
    with pytest.raises(RuleViolation, match="special management"):
        ask(demo, case.id, "jansen", "Uitstel?")  # not an adviser nor special management
    assert _events(demo, "consultation.ask") == 0  # nothing written
    cid = ask(demo, case.id, adviser, "Probleemgeval: omzet gedaald, uitstel voorstellen?")
    advisor_ctx = ctx_for(adviser)
    (task,) = [t for t in list_tasks(advisor_ctx) if t.kind == "consultation"]
    assert task.case_id == case.id and task.due_date == TODAY + timedelta(days=2)
    assert case.id in [c.case_id for c in advised_cases(advisor_ctx)]
    client_detail(advisor_ctx, case.id)  # their client's case: readable
    with pytest.raises(RuleViolation, match="answering"):
        complete_task(advisor_ctx, task.id, "klaar")
    with pytest.raises(NotAllowed):
        answer(demo, cid, "zelf beantwoord")  # only the one asked
    answer(advisor_ctx, cid, "Ja: drie maanden uitstel, omzet trekt in het voorjaar aan")
    (back,) = [t for t in list_tasks(demo) if t.kind == "consultation_answer"]
    assert back.due_date == TODAY and back.title == ""  # the answer is the coded subject's parameter
    assert (back.subject, back.subject_params) == (
        "consultation_answer",
        {"by": adviser, "text": "Ja: drie maanden uitstel, omzet trekt in het voorjaar aan"},
    )
    assert task_title(Translator("en"), back.subject, back.subject_params, back.title).startswith(
        f"Answer from {adviser}: Ja:"
    )
    (row,) = consultations(demo, case_id=case.id)
    assert (row.status, row.asked_of) == ("answered", adviser)
    assert _events(demo, "consultation.answer") == 1


def test_an_adviser_reads_only_their_own_clients(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo")
    with demo.db.reader() as s:
        case_id = s.scalar(
            select(Case.id).where(Case.client_id.not_in(select(ClientAdviser.client_id))).order_by(Case.id).limit(1)
        )
    with pytest.raises(NotAllowed):
        client_detail(ctx_for("devries"), case_id)


def test_the_team_meeting_decides_and_the_decision_becomes_tasks(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo, bakker = ctx_for("demo"), ctx_for("bakker")
    case = _desk_case(demo)
    item = raise_item(demo, case.id, "Regeling of overdragen?")
    with pytest.raises(RuleViolation):
        raise_item(demo, case.id, "nogmaals")
    assert [i.id for i in items(bakker)] == [item]
    with pytest.raises(NotAllowed):
        decide(demo, item, "zelf besloten", [])
    with pytest.raises(RuleViolation):
        decide(bakker, item, "Overdragen", [Action("jansen", "Overdracht voorbereiden", TODAY - timedelta(days=1))])
    (task_id,) = decide(
        bakker,
        item,
        "Nog een regeling proberen",
        [Action("jansen", "Regeling van 6 maanden voorstellen", TODAY + timedelta(days=5))],
    )
    (task,) = list_tasks(ctx_for("jansen"))
    assert (task.id, task.kind, task.due_date) == (task_id, "meeting_action", TODAY + timedelta(days=5))
    assert items(bakker) == []
