"""The dossier's timeline in words (issue 13): what happened, who did it and the key figures, in the session's
language ("Regeling vastgelegd door demo: 9 × € 400,00 vanaf 15-12-2026"). The event's technical details stay
one key away on the screen. An action without a sentence of its own is named by its code (never hidden).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from incasso_tui.errors import N_
from incasso_tui.ui.labels import (
    CHANNEL,
    FREQUENCY,
    HANDOVER_REASON,
    LETTER_KIND,
    OUTCOME,
    PROPOSAL_KIND,
    STAGE,
    TASK_KIND,
    TRACK_KIND,
)

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator
    from incasso_tui.services.cases import TimelineRow

__all__ = ["sentence"]


def _money(value: object) -> Decimal | str:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)


def _day(value: object) -> date | str:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)


def _label(tr: Translator, labels: dict[str, str], value: object) -> str:
    return tr(labels[value]) if isinstance(value, str) and value in labels else str(value or "")


Describe = Callable[["Translator", str, dict[str, Any], dict[str, Any]], str]


def _arrangement(tr: Translator, who: str, b: dict[str, Any], a: dict[str, Any]) -> str:
    return tr(
        N_("Arrangement registered by {who}: {count} × {amount} {frequency} from {day}"),
        who=who,
        count=int(a.get("installments", 0)),
        amount=_money(a.get("installment")),
        frequency=_label(tr, FREQUENCY, a.get("frequency")),
        day=_day(a.get("first_date")),
    )


def _contact(tr: Translator, who: str, b: dict[str, Any], a: dict[str, Any]) -> str:
    return tr(
        N_("Contact by {channel} logged by {who}: {outcome}; next action {day}"),
        who=who,
        channel=_label(tr, CHANNEL, a.get("channel")),
        outcome=_label(tr, OUTCOME, a.get("outcome")),
        day=_day(a.get("next_action_date")),
    )


def _promise(tr: Translator, who: str, b: dict[str, Any], a: dict[str, Any]) -> str:
    return tr(
        N_("Promise to pay {amount} by {day}, noted by {who}"),
        who=who,
        amount=_money(a.get("amount")),
        day=_day(a.get("due_date")),
    )


def _letter(tr: Translator, who: str, b: dict[str, Any], a: dict[str, Any]) -> str:
    return tr(
        N_("{kind} issued by {who} ({channel})"),
        who=who,
        kind=_label(tr, LETTER_KIND, a.get("kind")),
        channel=_label(tr, CHANNEL, a.get("channel")),
    )


def _proposal(verb: str) -> Describe:
    def describe(tr: Translator, who: str, b: dict[str, Any], a: dict[str, Any], *, _verb: str = verb) -> str:
        kind = _label(tr, PROPOSAL_KIND, a.get("_kind"))
        if _verb == "submit":
            return tr(N_("{kind} proposed to Risk by {who}"), kind=kind, who=who)
        if _verb == "approved":
            text = tr(N_("{kind} approved by {who}"), kind=kind, who=who)
            if a.get("bkr"):
                text += " · " + tr(N_("BKR code {code} registered"), code=a["bkr"])
            return text
        return tr(N_("{kind} rejected by {who}: {reason}"), kind=kind, who=who, reason=a.get("reason") or "")

    return describe


SENTENCES: dict[str, Describe] = {
    "arrangement.create": _arrangement,
    "arrangement.kept": lambda tr, who, b, a: tr(N_("Arrangement paid in full")),
    "arrangement.broken": lambda tr, who, b, a: tr(
        N_("Arrangement broken: installment of {day} not paid"), day=_day(a.get("due_date"))
    ),
    "contact.log": _contact,
    "promise.create": _promise,
    "promise.kept": lambda tr, who, b, a: tr(N_("Promise to pay kept")),
    "promise.broken": lambda tr, who, b, a: tr(N_("Promise to pay broken")),
    "note.add": lambda tr, who, b, a: tr(N_("Note added by {who}"), who=who),
    "letter.issued_by_hand": _letter,
    "letter.campaign": _letter,
    "letter.decide": lambda tr, who, b, a: tr(
        N_("{kind} decided by the daily procedure"), kind=_label(tr, LETTER_KIND, a.get("kind"))
    ),
    "letter.rendered": lambda tr, who, b, a: tr(N_("{kind} printed"), kind=_label(tr, LETTER_KIND, a.get("kind"))),
    "letter.failed": lambda tr, who, b, a: tr(N_("A letter could not be made")),
    "email.sent": lambda tr, who, b, a: tr(N_("E-mail sent")),
    "case.handover": lambda tr, who, b, a: tr(
        N_("Handed over to special management by {who} ({reason})"),
        who=who,
        reason=_label(tr, HANDOVER_REASON, a.get("reason")),
    ),
    "handover.accept": lambda tr, who, b, a: tr(N_("Accepted by special management ({who})"), who=who),
    "handover.return": lambda tr, who, b, a: tr(
        N_("Returned to the desk by {who}: {reason}"), who=who, reason=a.get("reason") or ""
    ),
    "task.create": lambda tr, who, b, a: tr(
        N_("Task {kind} for {day} made by {who}: {title}"),
        who=who,
        kind=_label(tr, TASK_KIND, a.get("kind")),
        day=_day(a.get("due_date")),
        title=a.get("title") or "",
    ),
    "task.done": lambda tr, who, b, a: tr(
        N_("Task {kind} completed by {who}: {outcome}"),
        who=who,
        kind=_label(tr, TASK_KIND, a.get("kind")),
        outcome=a.get("outcome") or "",
    ),
    "task.move": lambda tr, who, b, a: tr(
        N_("Task moved from {before} to {day} by {who}: {reason}"),
        who=who,
        before=_day(b.get("due_date")),
        day=_day(a.get("due_date")),
        reason=a.get("reason") or "",
    ),
    "task.assign": lambda tr, who, b, a: tr(
        N_("Task given to {name} by {who}"), who=who, name=a.get("assignee") or "?"
    ),
    "case.assign": lambda tr, who, b, a: tr(
        N_("Case assigned to {name} by {who}"), who=who, name=a.get("assignee") or "?"
    ),
    "case.pause": lambda tr, who, b, a: tr(
        N_("Procedure paused by {who} until {day}: {reason}"),
        who=who,
        day=_day(a.get("until")),
        reason=a.get("reason") or "",
    ),
    "case.resume": lambda tr, who, b, a: tr(N_("Procedure resumed by {who}"), who=who),
    "track.register": lambda tr, who, b, a: tr(
        N_("{kind} registered by {who}; claim by {day}"),
        who=who,
        kind=_label(tr, TRACK_KIND, a.get("kind")),
        day=_day(a.get("claim_deadline")),
    ),
    "track.end": lambda tr, who, b, a: tr(
        N_("{kind} ended by {who}"), who=who, kind=_label(tr, TRACK_KIND, a.get("kind"))
    ),
    "charge.collection_costs": lambda tr, who, b, a: tr(
        N_("Collection costs charged: {amount}"), amount=_money(a.get("amount"))
    ),
    "charge.statutory_interest": lambda tr, who, b, a: tr(
        N_("Statutory interest charged: {amount}"), amount=_money(a.get("amount"))
    ),
    "handover.request": lambda tr, who, b, a: tr(N_("Handover by {who} sent to a supervisor: items missing"), who=who),
    "procedure.open": lambda tr, who, b, a: tr(N_("Case opened: payment in arrears")),
    "procedure.move": lambda tr, who, b, a: tr(
        N_("Stage {before} → {stage}"),
        before=_label(tr, STAGE, b.get("stage")),
        stage=_label(tr, STAGE, a.get("stage")),
    ),
    "procedure.close": lambda tr, who, b, a: tr(N_("Case closed: the arrears is cleared")),
    "procedure.pause_ended": lambda tr, who, b, a: tr(N_("Pause ended")),
    "case.stage_skip": lambda tr, who, b, a: tr(
        N_("Stage skipped by {who} to {stage}"), who=who, stage=_label(tr, STAGE, a.get("stage"))
    ),
    "payment.book": lambda tr, who, b, a: tr(N_("Payment of {amount} received"), amount=_money(a.get("amount"))),
    "payment.assign": lambda tr, who, b, a: tr(
        N_("Payment of {amount} booked by {who}"), who=who, amount=_money(a.get("amount"))
    ),
    "payment.direct_debit": lambda tr, who, b, a: tr(
        N_("Direct debit of {amount} collected"), amount=_money(a.get("amount"))
    ),
    "payment.reverse": lambda tr, who, b, a: tr(N_("Payment of {amount} reversed"), amount=_money(a.get("amount"))),
    "consultation.ask": lambda tr, who, b, a: tr(
        N_("{who} asked {name}: {question}"), who=who, name=a.get("to") or "?", question=a.get("question") or ""
    ),
    "consultation.answer": lambda tr, who, b, a: tr(
        N_("{who} answered: {answer}"), who=who, answer=a.get("answer") or ""
    ),
    "discussion.raise": lambda tr, who, b, a: tr(
        N_("Put on the team meeting's list by {who}: {question}"), who=who, question=a.get("question") or ""
    ),
    "discussion.decide": lambda tr, who, b, a: tr(
        N_("Team meeting decided ({who}): {decision}"), who=who, decision=a.get("decision") or ""
    ),
    # the client's portal (issue 21): the actor is the client, client:NUMBER
    "portal.link": lambda tr, who, b, a: tr(
        N_("Personal portal link issued by {who}, valid until {day}"), who=who, day=_day(a.get("expires_at"))
    ),
    "client.birth_date": lambda tr, who, b, a: tr(N_("Date of birth recorded by {who}"), who=who),
    "portal.login": lambda tr, who, b, a: tr(N_("{who} logged in to the portal"), who=who),
    "portal.logout": lambda tr, who, b, a: tr(N_("{who} logged out of the portal"), who=who),
    "portal.login_refused": lambda tr, who, b, a: tr(N_("A portal login with this client's link was refused")),
    "portal.link_opened": lambda tr, who, b, a: tr(N_("The client opened their portal link")),
    "portal.letter": lambda tr, who, b, a: tr(
        N_("{kind} downloaded by {who} in the portal"), who=who, kind=_label(tr, LETTER_KIND, a.get("kind"))
    ),
    "portal.contact": lambda tr, who, b, a: tr(N_("Contact details changed by {who} in the portal"), who=who),
    "portal.arrangement_request": lambda tr, who, b, a: tr(
        N_("{who} proposed an arrangement in the portal outside the desk's limits: a task for the desk"), who=who
    ),
}


def sentence(tr: Translator, row: TimelineRow) -> str:
    """The event in words; its code where no sentence is known."""
    action, after = row.action, dict(row.after)
    if action.startswith("proposal."):
        _, kind, verb = (action.split(".") + ["", ""])[:3]
        after["_kind"] = kind
        return _proposal(verb)(tr, row.actor, row.before, after)
    if action.startswith("bkr."):
        return tr(N_("BKR code {code} registered ({amount})"), code=action[4:], amount=_money(after.get("amount")))
    describe = SENTENCES.get(action)
    if describe is None:
        return action
    try:
        return describe(tr, row.actor, row.before, after)
    except (TypeError, ValueError):  # an older event without the figures: its code, not a crash
        return action
