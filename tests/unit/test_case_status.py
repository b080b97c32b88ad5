"""The case-status transition table (domain.case_status): every change the code makes is in it, nothing else is."""

from __future__ import annotations

import pytest

from incasso_tui.domain.case_status import TRANSITIONS, TransitionRefused, allowed, check_transition
from incasso_tui.domain.enums import CaseStatus as S

# Every status change the code performs, with where it happens (hand-made from the call sites of
# services.access.move_case and procedure.batch.Batch.update_case; keep it in step with them).
PERFORMED = [
    (S.ACTIVE, S.HANDED_OVER, "handover.hand_over"),
    (S.ARRANGEMENT, S.HANDED_OVER, "handover.hand_over"),
    (S.DEFERRAL, S.HANDED_OVER, "handover.hand_over"),
    (S.PAUSED, S.HANDED_OVER, "handover.hand_over"),
    (S.INSOLVENCY, S.HANDED_OVER, "handover.hand_over (reason insolvency)"),
    (S.HANDED_OVER, S.ACTIVE, "handover.return_to_desk"),
    (S.ACTIVE, S.INSOLVENCY, "tracks.open_track"),
    (S.ARRANGEMENT, S.INSOLVENCY, "tracks.open_track (the arrangement is cancelled)"),
    (S.DEFERRAL, S.INSOLVENCY, "tracks.open_track"),
    (S.PAUSED, S.INSOLVENCY, "tracks.open_track"),
    (S.INSOLVENCY, S.CLOSED, "tracks.end_track schone lei"),
    (S.INSOLVENCY, S.PAUSED, "tracks.end_track settled"),
    (S.INSOLVENCY, S.ACTIVE, "tracks.end_track other outcomes"),
    (S.ACTIVE, S.PAUSED, "tracks.pause_case"),
    (S.PAUSED, S.ACTIVE, "tracks.resume_case, procedure.stages.end_pauses"),
    (S.ACTIVE, S.ARRANGEMENT, "arrangements.create_arrangement, arrangement_changes.apply_arrangement_proposal"),
    (S.PAUSED, S.ARRANGEMENT, "arrangements.create_arrangement, arrangement_changes.apply_arrangement_proposal"),
    (S.ARRANGEMENT, S.ACTIVE, "arrangement_changes.cancel_arrangement, payments.monitoring (broken)"),
    (S.ACTIVE, S.DEFERRAL, "proposals.approve (deferral)"),
    (S.ARRANGEMENT, S.DEFERRAL, "proposals.approve (deferral; the arrangement ends)"),
    (S.PAUSED, S.DEFERRAL, "proposals.approve (deferral)"),
    (S.ARRANGEMENT, S.CLOSED, "payments.monitoring (arrangement kept)"),
    (S.HANDED_OVER, S.CLOSED, "payments.monitoring (arrangement kept while handed over)"),
    (S.ACTIVE, S.CLOSED, "procedure.stages.close_cleared"),
]


def test_the_table_is_exactly_the_transitions_the_code_performs() -> None:
    table = {(old, new) for old, targets in TRANSITIONS.items() for new in targets}
    performed = {(old, new) for old, new, _ in PERFORMED}
    assert performed - table == set(), "performed but not allowed"
    assert table - performed == set(), "allowed but performed nowhere"
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize("status", list(S))
def test_keeping_the_status_is_always_allowed(status: S) -> None:
    assert check_transition(status.value, status.value) is status


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (S.CLOSED, S.ACTIVE),
        (S.HANDED_OVER, S.ARRANGEMENT),
        (S.DEFERRAL, S.PAUSED),
        (S.ARRANGEMENT, S.PAUSED),
        (S.INSOLVENCY, S.ARRANGEMENT),
    ],
)
def test_a_forbidden_transition_is_refused_with_both_statuses(old: S, new: S) -> None:
    assert not allowed(old, new)
    with pytest.raises(TransitionRefused) as refused:
        check_transition(old.value, new.value)
    assert refused.value.params == {"old": old.value, "new": new.value}
    assert "cannot go from status" in refused.value.english()


def test_a_value_that_is_no_status_is_refused() -> None:
    with pytest.raises(TransitionRefused):
        check_transition("active", "on_hold")


def test_the_desk_predicate_renders_as_the_migrations_wrote_it() -> None:
    """DESK_WHERE is made from DESK_STATUSES; the partial indexes need it letter for letter as migrated."""
    from incasso_tui.store.models import DESK_WHERE

    assert DESK_WHERE == "status IN ('active','arrangement','deferral','paused','insolvency')"
