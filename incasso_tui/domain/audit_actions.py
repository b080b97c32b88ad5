"""Every audit action the code writes, in one registry, each with its meaning.

``services.audit`` refuses to write an action that is not here, so a new state change must name (and explain)
its action first. Families whose name carries a value (a proposal's kind, a BKR code, a charge kind) are spelled
out from their vocabularies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from incasso_tui.domain.enums import ProposalKind, ProposalStatus

_FIXED: dict[str, str] = {
    # cases
    "case.assign": "a case was given to an employee (or taken from one)",
    "case.cause": "the cause of the arrears was recorded on the case",
    "case.handover": "the case was handed over to special management",
    "case.pause": "the case was paused until a date, with the reason",
    "case.resume": "a pause was ended by hand",
    "case.stage_skip": "the case was moved past a procedure stage by hand",
    "contact.log": "a contact with the client was logged; its before holds the next-action date it replaced (KPIs)",
    "note.add": "a note was added to the case",
    "promise.create": "the client promised to pay an amount by a date",
    "promise.kept": "a promise to pay was kept",
    "promise.broken": "a promise to pay was broken",
    "budget.set": "the client's household budget was recorded",
    "client.email_consent": "the client's consent to be written to by e-mail was recorded",
    "client.email_consent_withdrawn": "the client's consent to e-mail was withdrawn",
    "vulnerability.set": "a vulnerability flag was set on the client",
    "vulnerability.remove": "a vulnerability flag was removed",
    "debt_help.refer": "the client was referred to debt help",
    "complaint.add": "a complaint was registered",
    "dispute.add": "a dispute of the claim was registered",
    "complaint.acknowledge": "the receipt of a complaint or dispute was acknowledged",
    "complaint.answer": "a complaint or dispute was answered",
    "consultation.ask": "the desk asked the client's business adviser",
    "consultation.answer": "the business adviser answered",
    "discussion.raise": "a case was put on the agenda of the case discussion",
    "discussion.decide": "the case discussion decided on a case",
    # arrangements and forbearance
    "arrangement.create": "a payment arrangement was made",
    "arrangement.change": "a running arrangement was replaced by a changed one",
    "arrangement.cancel": "a running arrangement was cancelled by hand",
    "arrangement.cancelled": "an arrangement ended because something took its place (a deferral, a track)",
    "arrangement.kept": "an arrangement was paid in full (counted by the KPIs)",
    "arrangement.broken": "an arrangement's line was missed beyond the grace days (counted by the KPIs)",
    "forbearance.record": "a forbearance measure was recorded for the risk figures",
    # handover and outside parties
    "handover.request": "an employee asked a supervisor to waive missing handover documents",
    "handover.accept": "special management accepted a handed-over case",
    "handover.return": "special management returned a case to the desk",
    "party.add": "an outside party (bailiff, lawyer, agency) was added",
    "external.propose": "handing a claim to an outside party was proposed",
    "external.reject": "a proposed outside handover was rejected",
    "external.handover": "a claim was handed to an outside party",
    "external.report": "an outside party's status report on a claim was recorded",
    "external.recall": "a claim was recalled from an outside party",
    "external.payments_reported": "payments received by us were reported to the outside party",
    # debt tracks
    "track.register": "a debt-relief or insolvency track was registered",
    "track.end": "a debt track ended with its outcome",
    "debt_offer.add": "an offer of a debt-help track was recorded",
    "debt_offer.answer": "an answer to a debt offer was proposed",
    "debt_offer.confirm": "the answer to a debt offer was confirmed (four eyes)",
    "debt_offer.send_back": "the proposed answer to a debt offer was sent back",
    # letters and mail
    "letter.decide": "the daily run decided a letter",
    "letter.issued_by_hand": "an employee issued a letter by hand",
    "letter.campaign": "a campaign issued a letter",
    "letter.rendered": "a letter's PDF was made",
    "letter.failed": "a letter could not be made or sent",
    "letter.cancelled": "a waiting letter was cancelled",
    "letter.dispatched": "a letter went into the post or to the SMTP server (its legal effects start)",
    "email.sent": "the SMTP server accepted an e-mail of the outbox",
    "email.retry": "an e-mail failed and will be tried again",
    "email.dead": "an e-mail was given up after its last try",
    "print_batch.made": "a print batch of post letters was made",
    "print_batch.posted": "a print batch was confirmed posted",
    "print_batch.undone": "a print batch was undone",
    # payments
    "payments.import": "a bank statement file was imported",
    "payment.book": "a bank entry was booked as a payment",
    "payment.reverse": "a bank entry reversed an earlier payment",
    "payment.direct_debit": "a direct debit was collected (the demo book's history)",
    "payment.assign": "an unmatched bank entry was assigned to a loan by hand",
    "payment.not_ours": "a bank entry was marked as not ours",
    "payment.undo": "a booked payment was undone",
    # the daily procedure
    "procedure.run": "the daily procedure ran for a date",
    "procedure.open": "the daily run opened a case for new arrears",
    "procedure.move": "the daily run moved a case to its next stage",
    "procedure.close": "the daily run closed a case without arrears",
    "procedure.pause_ended": "the daily run ended a pause whose end date passed",
    "procedure.snapshot": "the daily run stored the arrears buckets of the day",
    "kpi.snapshot": "the team view's figures were computed and stored with their moment (the daily run, a refresh)",
    "charge.collection_costs": "collection costs were charged",
    "charge.statutory_interest": "statutory interest was charged",
    "charge.costs_cancelled": "collection costs from a ruling date were cancelled",
    "charge.interest_cancelled": "statutory interest from a ruling date was cancelled",
    "bkr.A": "BKR code A (arrears) was reported",
    "bkr.H": "BKR code H (arrears paid) was reported",
    "bkr.1": "BKR code 1 (called in) was reported",
    "bkr.2": "BKR code 2 (arrangement) was reported",
    "bkr.3": "BKR code 3 (written off) was reported",
    "bkr.export": "the BKR mutations were exported to a file",
    # risk
    "risk.run": "the risk figures were computed for a date",
    "risk.status": "a loan's risk status changed",
    "risk.signal": "an early-warning signal was raised",
    # tasks, selections, campaigns
    "task.create": "a task was created",
    "task.assign": "a task was given to someone",
    "task.move": "a task's due date was moved",
    "task.done": "a task was completed",
    "selection.save": "a selection of cases was saved",
    "selection.update": "a saved selection was changed",
    "selection.delete": "a saved selection was deleted",
    "campaign.start": "a bulk action on a selection started",
    "campaign.refused": "a case of a campaign was refused, with the reason",
    "campaign.finish": "a campaign finished",
    "worklist.export": "the worklist was exported",
    "document.copy": "a copy of a dossier document's PDF was written into the export folder (to print)",
    # the client's portal (issue 21): the actor is the client (client:NUMBER), or "portal" for a refused login
    "client.birth_date": "the client's date of birth was recorded (the portal confirms a person's login with it)",
    "portal.link": "a personal portal link with a one-time code was issued (the older ones revoked)",
    "portal.links_revoked": "a letter printing a portal code was dispatched: the client's older links stopped working",
    "portal.link_opened": "a portal link was opened for the first time (the campaign measurement counts it)",
    "portal.login": "the client logged in to the portal",
    "portal.login_refused": "a portal login with this link was refused (wrong code, or the link was not usable)",
    "portal.logout": "the client logged out of the portal",
    "portal.letter": "the client downloaded one of their letters in the portal",
    "portal.contact": "the client changed their contact details or e-mail consent in the portal",
    "portal.arrangement_request": "an arrangement the client proposed outside the desk's limits became a request",
    # users and access
    "user.add": "a user was added",
    "user.bind": "a user was bound to an operating-system account",
    "user.disable": "a user was disabled",
    "sshkey.add": "an SSH key was added for a user",
    "sshkey.remove": "an SSH key was removed",
    "presence.enter": "a user opened a case (presence)",
    "presence.leave": "a user left a case (presence)",
    # maintenance
    "generate": "the demo book was generated",
    "search_index_rebuilt": "the client search index was rebuilt",
}

_PROPOSAL_STEPS = {
    "submit": "was proposed",
    ProposalStatus.APPROVED.value: "was approved (four eyes)",
    ProposalStatus.REJECTED.value: "was rejected",
    ProposalStatus.WITHDRAWN.value: "was withdrawn",
}

ACTIONS: dict[str, str] = {
    **_FIXED,
    **{
        f"proposal.{kind.value}.{step}": f"a {kind.value.replace('_', '-')} proposal {meaning}"
        for kind in ProposalKind
        for step, meaning in _PROPOSAL_STEPS.items()
    },
}


def meaning(action: str) -> str:
    """What ``action`` records; ``KeyError`` for an action the registry does not know."""
    return ACTIONS[action]


def check_action(action: str) -> str:
    """``action`` when the registry knows it; ``ValueError`` naming it otherwise (a programming error)."""
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r} is not in domain.audit_actions.ACTIONS: add it with its meaning")
    return action


# Payloads read back by the figures (services.kpi): typed here, written and read through these names only, so a
# change of a payload changes its reader with it.

CONTACT_LOG = "contact.log"
ARRANGEMENT_KEPT = "arrangement.kept"
ARRANGEMENT_BROKEN = "arrangement.broken"


@dataclass(frozen=True)
class ContactLogBefore:
    """``before`` of a ``contact.log`` event: the next action the contact replaced. The follow-up timeliness KPI
    reads ``REPLACED_DATE`` from it (on time when the contact was logged on or before that date)."""

    REPLACED_DATE = "next_action_date"

    next_action_date: date
    next_action: str  # a domain.enums.NextAction code (events before migration 0019: the Dutch sentence)
    next_action_params: dict[str, str] | None = None

    def payload(self) -> dict[str, object]:
        return {
            self.REPLACED_DATE: self.next_action_date,
            "next_action": self.next_action,
            "next_action_params": self.next_action_params,
        }
