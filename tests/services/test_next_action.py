"""The next action is stored as a code with its parameters and shown in the session's language: an English session
sees English, a Dutch one Dutch; what a person typed is shown as typed in both (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from incasso_tui.domain.enums import CaseStatus, Channel, ContactOutcome, NextAction
from incasso_tui.i18n import Translator
from incasso_tui.services.cases import client_detail
from incasso_tui.services.contacts import ContactInput, log_contact
from incasso_tui.services.tasks import CallTaskInput, create_call_task
from incasso_tui.services.tracks import case_tracks
from incasso_tui.store.models import Case, Task
from incasso_tui.ui.labels import next_action, task_title
from tests.conftest import AS_OF

EN, NL = Translator("en"), Translator("nl")


def _active_case(ctx, far: bool = False) -> Case:  # type: ignore[no-untyped-def]
    query = select(Case).where(Case.status == CaseStatus.ACTIVE.value).order_by(Case.id)
    if far:
        query = query.where(Case.next_action_date > AS_OF + timedelta(days=3))
    with ctx.db.reader() as s:
        case = s.scalars(query).first()
    assert case is not None
    return case


def test_a_contact_s_next_action_and_its_task_are_shown_in_the_session_s_language(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case = _active_case(ctx)
    given = ContactInput(
        channel=Channel.PHONE,
        outcome=ContactOutcome.PROMISE,
        summary="Betaalt volgende week",
        next_action_date=AS_OF + timedelta(days=10),
        promise_date=AS_OF + timedelta(days=7),
        promise_amount=Decimal("80.00"),
    )
    log_contact(ctx, case.id, case.version, given)
    shown = client_detail(ctx, case.id).case
    assert (shown.next_action, shown.next_action_params) == (NextAction.CHECK_PROMISE, None)
    assert next_action(EN, shown.next_action, shown.next_action_params) == "Check the promise to pay"
    assert next_action(NL, shown.next_action, shown.next_action_params) == "Betaalbelofte controleren"
    with ctx.db.reader() as s:  # stored as the code, no sentence
        stored = s.execute(select(Case.next_action, Case.next_action_params).where(Case.id == case.id)).one()
        titles = set(s.scalars(select(Task.title).where(Task.case_id == case.id, Task.status == "open")))
    assert tuple(stored) == ("check_promise", None) and titles <= {""}
    tasks = {t.kind: t for t in case_tracks(ctx, case.id).tasks}
    follow_up, check = tasks["follow_up"], tasks["promise_check"]
    assert task_title(EN, follow_up.subject, follow_up.subject_params, follow_up.title) == "Check the promise to pay"
    assert task_title(NL, check.subject, check.subject_params, check.title) == "Betaalbelofte controleren"


def test_a_typed_call_note_becomes_the_next_action_as_typed_in_both_languages(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case = _active_case(ctx, far=True)
    create_call_task(ctx, case.id, CallTaskInput(AS_OF + timedelta(days=1), "Bellen over {de} auto"))
    shown = client_detail(ctx, case.id).case
    assert (shown.next_action, shown.next_action_params) == (NextAction.FREE, {"text": "Bellen over {de} auto"})
    for tr in (EN, NL):
        assert next_action(tr, shown.next_action, shown.next_action_params) == "Bellen over {de} auto"
    (call,) = [t for t in case_tracks(ctx, case.id).tasks if t.kind == "call"]
    assert (call.subject, call.title) == ("free", "Bellen over {de} auto")


def test_the_stages_next_action_from_the_book_reads_as_the_procedure_says(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    with ctx.db.reader() as s:
        case_id = s.scalar(
            select(Case.id).where(Case.next_action == NextAction.FOLLOW_UP_REMINDER).order_by(Case.id).limit(1)
        )
    assert case_id is not None
    shown = client_detail(ctx, case_id).case
    assert next_action(NL, shown.next_action, shown.next_action_params) == "Herinnering nabellen"
    assert next_action(EN, shown.next_action, shown.next_action_params) == "Follow up the reminder by phone"


def test_parameters_are_filled_in_and_coded_ones_translated() -> None:
    assert next_action(EN, "at_outside_party", {"party": "Incasso & Co"}) == "At Incasso & Co"
    assert next_action(NL, "at_outside_party", {"party": "Incasso & Co"}) == "Bij Incasso & Co"
    assert next_action(EN, "back_from_outside", {"outcome": "paid"}) == "Back from the outside party: paid"
    assert next_action(NL, "back_from_outside", {"outcome": "paid"}) == "Terug van extern: betaald"
    assert next_action(NL, "none", None) == "Geen vervolgactie"
    assert (
        task_title(NL, "claim_task_curator", {"party": "mr. Jansen"}, "")
        == "Vordering indienen bij curator: mr. Jansen"
    )


def test_a_next_action_stored_without_its_parameters_is_shown_with_a_question_mark_and_logged(caplog) -> None:  # type: ignore[no-untyped-def]
    # e.g. a row edited by hand, or written by a version that stored other parameters: the screen shows it
    assert next_action(EN, NextAction.AT_OUTSIDE_PARTY, None) == "At ?"
    assert next_action(NL, NextAction.CLAIM_TASK_CURATOR, {"other": "x"}).endswith(": ?")
    assert "stored without party" in caplog.text
    assert next_action(EN, NextAction.AT_OUTSIDE_PARTY, {"party": "Kredietbank"}) == "At Kredietbank"
