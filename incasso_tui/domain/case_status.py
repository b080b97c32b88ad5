"""The allowed changes of a case's status, in one table.

Every service that changes ``cases.status`` (by hand or in the daily run's batch writer) calls
:func:`check_transition` first, so a change the desk's rules do not know is refused before anything is written.
Keeping the same status is no transition and always allowed (a case special management holds keeps
``handed_over`` where a desk change would move it, ``services.access.next_status``).
"""

from __future__ import annotations

from incasso_tui.domain.enums import CaseStatus
from incasso_tui.errors import N_, RuleViolation

_S = CaseStatus

# old status -> the statuses a case may move to from it
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    # the desk's working status: any track, agreement, pause or handover starts from here; the run closes it when clear
    _S.ACTIVE: frozenset({_S.ARRANGEMENT, _S.DEFERRAL, _S.PAUSED, _S.HANDED_OVER, _S.INSOLVENCY, _S.CLOSED}),
    # cancelled or broken -> active; kept -> closed; a deferral approved over it; a track or handover takes over
    _S.ARRANGEMENT: frozenset({_S.ACTIVE, _S.DEFERRAL, _S.HANDED_OVER, _S.INSOLVENCY, _S.CLOSED}),
    # only a track or a handover takes over (a deferral is not paused, closed nor overridden by an arrangement)
    _S.DEFERRAL: frozenset({_S.HANDED_OVER, _S.INSOLVENCY}),
    # the pause ends (by hand or at its end date) or an agreement, a track or a handover ends it
    _S.PAUSED: frozenset({_S.ACTIVE, _S.ARRANGEMENT, _S.DEFERRAL, _S.HANDED_OVER, _S.INSOLVENCY}),
    # the track ends: schone lei -> closed, settlement -> paused until it is paid, otherwise active again
    _S.INSOLVENCY: frozenset({_S.ACTIVE, _S.PAUSED, _S.CLOSED, _S.HANDED_OVER}),
    # special management returns it to the desk; an arrangement it keeps closes it
    _S.HANDED_OVER: frozenset({_S.ACTIVE, _S.CLOSED}),
    # a closed case stays closed (new arrears open a new case)
    _S.CLOSED: frozenset(),
}


class TransitionRefused(RuleViolation):
    """A change of case status the table does not allow."""


def allowed(old: str, new: str) -> bool:
    old_status, new_status = CaseStatus(old), CaseStatus(new)
    return old_status == new_status or new_status in TRANSITIONS[old_status]


def check_transition(old: str, new: str) -> CaseStatus:
    """``new`` as a :class:`CaseStatus` when a case in ``old`` may move to it; :class:`TransitionRefused` otherwise
    (also for a value that is no case status)."""
    try:
        old_status, new_status = CaseStatus(old), CaseStatus(new)
    except ValueError:
        raise TransitionRefused(N_("Unknown case status: {old} -> {new}"), old=old, new=new) from None
    if old_status != new_status and new_status not in TRANSITIONS[old_status]:
        raise TransitionRefused(
            N_("A case cannot go from status {old} to {new}"), old=old_status.value, new=new_status.value
        )
    return new_status
