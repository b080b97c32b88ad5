"""One rule for who may write on a case by its state (services.access): each direction fails without the rule."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from incasso_tui.domain.enums import Channel, ContactOutcome, Frequency
from incasso_tui.errors import NotAllowed, RuleViolation
from incasso_tui.services.access import may_write
from incasso_tui.services.arrangements import ArrangementInput, create_arrangement
from incasso_tui.services.contacts import ContactInput, add_note, log_contact
from incasso_tui.services.handover import accept, hand_over, handovers, qualification
from incasso_tui.services.letters import issue_by_hand
from incasso_tui.services.tasks import CallTaskInput, create_call_task
from incasso_tui.store.models import AuditEvent, Case, Contact, Handover, Note

TODAY = date(2026, 11, 23)
CALL = ContactInput(
    channel=Channel.PHONE, outcome=ContactOutcome.REACHED, summary="Gebeld", next_action_date=TODAY + timedelta(days=3)
)


def _case(ctx, status: str = "active", min_dpd: int = 0):  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return s.scalars(
            select(Case)
            .where(Case.status == status, Case.pos_oldest_due <= TODAY - timedelta(days=min_dpd))
            .order_by(Case.id)
        ).first()


def _counts(ctx, case_id: int) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return (
            s.scalar(select(func.count()).select_from(Contact).where(Contact.case_id == case_id)),
            s.scalar(select(func.count()).select_from(Note).where(Note.case_id == case_id)),
            s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id)),
        )


def _handed_over(ctx_for) -> int:  # type: ignore[no-untyped-def]
    bakker = ctx_for("bakker")
    case = _case(bakker, min_dpd=90)
    missing = tuple(i for i, present in qualification(bakker, case.id).checklist.items() if not present)
    hand_over(bakker, case.id, case.version, reason="dpd_90", summary="Geen contact.", waive=missing)
    return case.id


def test_the_desk_cannot_write_on_a_handed_over_case(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo")
    case_id = _handed_over(ctx_for)
    before = _counts(demo, case_id)
    with demo.db.reader() as s:
        version = s.get(Case, case_id).version
    for write in (
        lambda: log_contact(demo, case_id, version, CALL),
        lambda: add_note(demo, case_id, "nog even bellen"),
        lambda: create_call_task(demo, case_id, CallTaskInput(TODAY + timedelta(days=1), "Bellen")),
    ):
        with pytest.raises(RuleViolation, match="handed over to special management"):
            write()
    assert _counts(demo, case_id) == before  # nothing written
    assert not may_write(demo, case_id)


def test_the_desk_cannot_write_on_a_closed_case(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo")
    case = _case(demo)
    with demo.db.transaction() as s:  # as the monitoring closes a case that cleared its arrears
        s.get(Case, case.id).status = "closed"
    before = _counts(demo, case.id)
    with pytest.raises(RuleViolation, match="closed"):
        add_note(demo, case.id, "te laat")
    assert _counts(demo, case.id) == before


def test_special_management_cannot_write_on_a_desk_case(ctx_for) -> None:  # type: ignore[no-untyped-def]
    visser = ctx_for("visser")
    case = _case(visser)
    before = _counts(visser, case.id)
    with pytest.raises(NotAllowed, match="the desk's"):
        log_contact(visser, case.id, case.version, CALL)
    with pytest.raises(NotAllowed, match="the desk's"):
        add_note(visser, case.id, "x")
    assert _counts(visser, case.id) == before
    assert not may_write(visser, case.id)


def test_special_management_works_an_accepted_case_which_stays_theirs(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.services.test_letters_service import LENDER_SETTINGS

    visser = ctx_for("visser", letters_dir=tmp_path / "outbox", **LENDER_SETTINGS)
    case_id = _handed_over(ctx_for)
    with pytest.raises(RuleViolation, match="Accept the handover first"):
        add_note(visser, case_id, "x")
    (row,) = [h for h in handovers(visser) if h.case_id == case_id and h.status == "handed_over"]
    accept(visser, row.id, row.version)
    assert may_write(visser, case_id)
    with visser.db.reader() as s:
        version = s.get(Case, case_id).version
    log_contact(visser, case_id, version, CALL)
    with visser.db.reader() as s:
        case = s.get(Case, case_id)
    create_arrangement(
        visser,
        case_id,
        case.version,
        ArrangementInput(
            down_payment=Decimal("0"), first_date=TODAY + timedelta(days=7), frequency=Frequency.MONTHLY, count=6
        ),
    )
    letter_id = issue_by_hand(visser, case_id, "arrangement_confirmation")
    assert letter_id > 0
    with visser.db.reader() as s:
        case = s.get(Case, case_id)
        assert case.status == "handed_over"  # the arrangement did not send it back to the desk
        assert s.scalar(select(Handover.status).where(Handover.case_id == case_id)) == "accepted"


def test_an_accepted_case_goes_back_to_the_desk_and_the_review_task_is_done(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.services.handover import return_to_desk
    from incasso_tui.store.models import Task

    visser, demo = ctx_for("visser"), ctx_for("demo")
    case_id = _handed_over(ctx_for)
    with visser.db.reader() as s:
        (review,) = s.scalars(select(Task).where(Task.case_id == case_id, Task.kind == "handover_review"))
        assert (review.status, review.assignee_id) == ("open", None)  # special management's pool
    (row,) = [h for h in handovers(visser) if h.case_id == case_id and h.status == "handed_over"]
    accept(visser, row.id, row.version)
    with visser.db.reader() as s:
        assert s.get(Task, review.id).status == "done"
    (row,) = [h for h in handovers(visser) if h.case_id == case_id and h.status == "accepted"]
    return_to_desk(visser, row.id, row.version, "Regeling loopt: terug naar de afdeling")
    assert may_write(demo, case_id) and not may_write(visser, case_id)


def test_a_waiver_does_not_make_anyone_retype_the_summary(ctx_for) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.services.handover import request_waiver
    from incasso_tui.services.inbox import list_tasks
    from incasso_tui.store.models import Task

    demo, bakker = ctx_for("demo"), ctx_for("bakker")
    case = _case(demo, min_dpd=90)
    q = qualification(demo, case.id)
    missing = tuple(i for i, present in q.checklist.items() if not present)
    assert missing, "the test book's 90+ case misses a dossier item"
    request_waiver(demo, case.id, case.version, reason="dpd_90", summary="Omzet ingestort, geen contact sinds juli.")
    assert qualification(bakker, case.id).requested_summary == "Omzet ingestort, geen contact sinds juli."
    (task,) = [t for t in list_tasks(bakker) if t.kind == "handover_waiver" and t.case_id == case.id]
    with demo.db.reader() as s:
        version = s.get(Case, case.id).version
    hand_over(bakker, case.id, version, reason="dpd_90", summary="", waive=missing)  # nothing retyped
    (row,) = [h for h in handovers(ctx_for("visser")) if h.case_id == case.id]
    assert row.summary["text"] == "Omzet ingestort, geen contact sinds juli." and row.handed_by == "demo"
    with demo.db.reader() as s:
        assert s.get(Task, task.id).status == "done"
