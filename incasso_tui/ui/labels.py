"""Display labels of the enum values (English ids, translated by the session's Translator)."""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING

from incasso_tui.errors import N_

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator

log = logging.getLogger(__name__)


def label(tr: Translator, table: dict[str, str], code: str | None, missing: str = "") -> str:
    """The label of ``code`` in ``table`` in the session's language; a code without one as it is; no code as
    ``missing``."""
    if code is None:
        return missing
    return tr(table[code]) if code in table else code


STAGE = {
    "reminder": N_("Reminder"),
    "demand": N_("Demand"),
    "call": N_("Call"),
    "fourteen_day": N_("14-day letter"),
    "bkr_warning": N_("BKR warning"),
    "bkr_registered": N_("BKR report"),  # the step, not a fact: legal persons are never reported
    "default_notice": N_("Default notice"),
    "call_in": N_("Call-in"),
    "handover": N_("Handover"),
}

STATUS = {
    "active": N_("Active"),
    "arrangement": N_("Arrangement"),
    "deferral": N_("Deferral"),
    "paused": N_("Paused"),
    "handed_over": N_("Handed over"),
    "insolvency": N_("Insolvency"),
    "closed": N_("Closed"),
}

# one-character markers in the worklist
STATUS_MARK = {
    "arrangement": "R",
    "deferral": "U",
    "paused": "P",
    "insolvency": "I",
    "handed_over": "B",
}
FLAG = {
    "broken_promise": N_("Broken promise"),
    "broken_arrangement": N_("Broken arrangement"),
}

KIND = {
    "natural": N_("Natural person"),
    "eenmanszaak": N_("Sole proprietorship"),
    "vof": N_("General partnership (vof)"),
    "bv": N_("Private company (bv)"),
}

CHANNEL = {
    "phone": N_("Phone"),
    "whatsapp": N_("WhatsApp"),
    "email": N_("E-mail"),
    "video": N_("Video call"),
    "letter": N_("Letter"),
}

OUTCOME = {
    "reached": N_("Reached"),
    "no_answer": N_("No answer"),
    "promise": N_("Promise to pay"),
    "dispute": N_("Dispute"),
    "hardship": N_("Hardship"),
    "wrong_number": N_("Wrong number"),
}

CAUSE = {
    "loss_of_work": N_("Loss of work"),
    "illness": N_("Illness"),
    "too_many_debts": N_("Too many debts"),
    "seasonal_income": N_("Seasonal income"),
    "business_downturn": N_("Business downturn"),
    "other": N_("Other"),
}

LEDGER = {
    "payment": N_("Payment"),
    "conversion": N_("Taken over"),
    "costs": N_("Collection costs"),
    "interest": N_("Interest"),
    "write_off": N_("Write-off"),
    "reversal": N_("Reversal"),
    "interest_credit": N_("Interest credited (track)"),
    "costs_credit": N_("Costs credited (track)"),
}

SCHEDULE_STATE = {
    "paid": N_("paid"),
    "partial": N_("partly paid"),
    "past_due": N_("past due"),
    "open": N_("open"),
}

REPAYMENT = {"annuity": N_("annuity"), "linear": N_("linear")}

FREQUENCY = {"monthly": N_("monthly"), "fortnightly": N_("every 2 weeks"), "weekly": N_("weekly")}

ROLE = {
    "employee": N_("employee"),
    "supervisor": N_("supervisor"),
    "special_management": N_("special management"),
    "admin": N_("admin"),
    "auditor": N_("auditor"),
    "adviser": N_("business adviser"),
}

BUCKET = {
    "current": N_("not past due"),
    "1-30": N_("1-30 days"),
    "31-60": N_("31-60 days"),
    "61-90": N_("61-90 days"),
    "90+": N_("over 90 days"),
}

SORT = {
    "priority": N_("priority"),
    "dpd": N_("days past due"),
    "amount": N_("amount"),
    "next_action": N_("next action"),
}

TRACK_KIND = {
    "minnelijk": N_("Minnelijk traject"),
    "wsnp": N_("WSNP"),
    "faillissement": N_("Bankruptcy"),
}

TASK_KIND = {
    "call": N_("Call"),
    "claim_filing": N_("File claim"),
    "handover_review": N_("Handover review"),
    "follow_up": N_("Follow-up"),
    "promise_check": N_("Check promise"),
    "consultation": N_("Consultation asked"),
    "consultation_answer": N_("Consultation answered"),
    "meeting_action": N_("Team meeting"),
    "handover_waiver": N_("Waive for handover"),
    # issue 19
    "complaint_ack": N_("Acknowledge complaint"),
    "complaint_answer": N_("Answer complaint"),
    "portal_request": N_("Portal proposal"),  # issue 21: an arrangement the client proposed outside the limits
    "debt_offer_answer": N_("Answer debt proposal"),
    "call_in_proposal": N_("Call-in proposal"),
}
TASK_BUCKET = {"overdue": N_("Overdue"), "today": N_("Today"), "week": N_("This week"), "later": N_("Later")}

PROPOSAL_KIND = {
    "deferral": N_("Deferral of repayment"),
    "call_in": N_("Call-in"),
    "write_off": N_("Write-off"),
    "arrangement": N_("Arrangement beyond the desk limits"),
}

PROPOSAL_STATUS = {
    "submitted": N_("waiting for Risk"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
}

REPAY_OPTION = {"extend_term": N_("extend the term"), "raise_installments": N_("raise the installments")}

HANDOVER_REASON = {
    "dpd_90": N_("90+ days past due"),
    "above_mandate": N_("above the desk mandate"),
    "insolvency": N_("insolvency"),
    "broken_twice": N_("second broken arrangement"),
    "decision": N_("by decision"),
}

CHECKLIST_ITEM = {
    "loan_agreement": N_("loan agreement"),
    "pledge_deed": N_("pledge deed"),
    "letters_sent": N_("letters sent"),
    "bkr_status": N_("BKR status"),
}

LETTER_KIND = {
    "reminder": N_("Reminder"),
    "demand": N_("Demand letter"),
    "fourteen_day": N_("14-day letter"),
    "bkr_warning": N_("BKR warning"),
    "default_notice": N_("Notice of default"),
    "arrangement_confirmation": N_("Arrangement confirmation"),
    "claim_statement": N_("Claim statement"),
    "call_in": N_("Call-in letter"),
    "contact_request": N_("Request to contact us"),
}

LOAN_STATUS = {
    "active": N_("running"),
    "called": N_("called in"),
    "written_off": N_("written off"),
    "repaid": N_("repaid"),
}
PROMISE_STATUS = {"open": N_("open"), "kept": N_("kept"), "broken": N_("broken")}
ARRANGEMENT_STATUS = {
    "active": N_("running"),
    "kept": N_("kept"),
    "broken": N_("broken"),
    "cancelled": N_("cancelled"),
}
DOCUMENT_KIND = {
    "loan_agreement": N_("Loan agreement"),
    "pledge_deed": N_("Pledge deed"),
    "letter": N_("Letter"),
}
LANGUAGE = {"nl": N_("Dutch"), "en": N_("English")}
TRACK_STATUS = {"open": N_("running"), "ended": N_("ended")}
# what became of a letter (issue 12; "rendered" is shown as the batch it waits in)
LETTER_STATUS = {
    "pending": N_("waits to be made"),
    "rendered": N_("waits for a batch"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
}


# vulnerability kinds (data/risk.toml [vulnerability] kinds; a kind missing here is shown as written in the file)
VULNERABILITY = {
    "illness": N_("illness"),
    "bereavement": N_("bereavement"),
    "divorce": N_("divorce"),
    "business_closure": N_("business closure"),
    "debt_problems": N_("debt problems"),
    "language_or_reading": N_("language or reading difficulty"),
}

# the remaining closed vocabularies of domain.enums (every member has a label: tests/unit/test_vocab_labels.py)
TRACK_OUTCOME = {
    "schone_lei": N_("clean slate"),
    "terminated": N_("terminated early"),
    "rejected": N_("rejected"),
    "settled": N_("settled"),
}
TASK_STATUS = {"open": N_("open"), "done": N_("done"), "cancelled": N_("cancelled")}
EMAIL_STATUS = {"queued": N_("queued"), "sent": N_("sent"), "dead": N_("given up")}
PRINT_BATCH_STATUS = {"open": N_("to post"), "posted": N_("posted"), "undone": N_("undone")}
HANDOVER_STATUS = {
    "requested": N_("waiver requested"),
    "handed_over": N_("new"),
    "accepted": N_("accepted"),
    "returned": N_("returned"),
    "superseded": N_("completed by a supervisor"),
}
BANK_ENTRY_STATUS = {
    "matched": N_("matched"),
    "unmatched": N_("unmatched"),
    "ambiguous": N_("ambiguous"),
    "not_ours": N_("not ours"),
    "reversed": N_("reversed"),
    "reversal": N_("reversal"),
    "not_payment": N_("not a payment"),
}

# outside parties and complaints (issue 19): the screen and the CLI say them the same way
CLAIM_STATUS = {
    "proposed": N_("proposed"),
    "rejected": N_("rejected"),
    "at_party": N_("at the party"),
    "ended": N_("ended"),
}
REPORT_STATUS = {
    "paid": N_("paid"),
    "arrangement": N_("arrangement"),
    "judgment": N_("judgment obtained"),
    "uncollectable": N_("uncollectable"),
    "returned": N_("returned"),
    "recalled": N_("recalled"),
}
COMPLAINT_KIND = {"complaint": N_("complaint"), "dispute": N_("dispute")}
COMPLAINT_STATUS = {"open": N_("open"), "answered": N_("answered")}
COMPLAINT_OUTCOME = {
    "upheld": N_("upheld"),
    "partly_upheld": N_("partly upheld"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
}

# the next action of a case and the subject of a task made by the code (domain.enums.NextAction); its placeholders
# are the parameters stored with it (cases.next_action_params, tasks.subject_params)
NEXT_ACTION = {
    "none": N_("No next action"),
    "free": N_("{text}"),
    "follow_up_reminder": N_("Follow up the reminder by phone"),
    "follow_up_demand": N_("Follow up the demand letter"),
    "call_about_arrears": N_("Call the client about the arrears"),
    "watch_fourteen_day_term": N_("14-day letter: watch the term"),
    "prepare_bkr_report": N_("Prepare the BKR report"),
    "check_bkr_report": N_("Check the BKR report"),
    "follow_up_default_notice": N_("Follow up the notice of default"),
    "call_in_proposal": N_("Call-in proposal to Risk"),
    "handover_to_special": N_("Hand over to special management"),
    "pause_ended_review": N_("Pause ended: review the case"),
    "pause_over_resume": N_("End of the pause: take the case up again"),
    "check_promise": N_("Check the promise to pay"),
    "follow_up_contact": N_("Follow up the contact"),
    "promise_broken": N_("Promise broken: follow up"),
    "check_arrangement_payment": N_("Check the arrangement's payment"),
    "arrangement_broken": N_("Arrangement broken: follow up"),
    "arrangement_ended_resume": N_("Arrangement ended: resume the procedure"),
    "evaluate_deferral": N_("Evaluate the deferral of repayment"),
    "file_claim_debt_counsellor": N_("File the claim with the debt counsellor"),
    "file_claim_administrator": N_("File the claim with the administrator"),
    "file_claim_curator": N_("File the claim with the curator"),
    "claim_task_debt_counsellor": N_("File the claim with the debt counsellor: {party}"),
    "claim_task_administrator": N_("File the claim with the administrator: {party}"),
    "claim_task_curator": N_("File the claim with the curator: {party}"),
    "watch_settlement": N_("Settlement: watch the payment of the agreed amount"),
    "track_ended_resume": N_("End of the track: take the case up again"),
    "review_handed_over": N_("Review the case (special management)"),
    "review_handover": N_("Review the handover"),
    "consultation_question": N_("Question from {by}: {text}"),
    "consultation_answer": N_("Answer from {by}: {text}"),
    "returned_by_special": N_("Returned by special management"),
    "at_outside_party": N_("At {party}"),
    "back_from_outside": N_("Back from the outside party: {outcome}"),
}
# parameters that are codes themselves, shown by their label
_NEXT_ACTION_PARAM_LABELS = {"outcome": REPORT_STATUS}


def next_action(tr: Translator, kind: str, params: Mapping[str, str] | None) -> str:
    """The next action (or a coded task subject) ``kind`` with its ``params`` in the session's language; a kind this
    version does not know is shown as its code."""
    given = dict(params or {})
    for name, table in _NEXT_ACTION_PARAM_LABELS.items():
        if name in given:
            given[name] = label(tr, table, given[name])
    if kind not in NEXT_ACTION:
        return kind
    wanted = {name for _, name, _, _ in string.Formatter().parse(tr(NEXT_ACTION[kind])) if name}
    missing = wanted - given.keys()
    if missing:  # a row written without them (by hand, or by a version that stored other ones): shown, not a crash
        log.warning("next action %r stored without %s", kind, ", ".join(sorted(missing)))
        given.update(dict.fromkeys(missing, "?"))
    return tr(NEXT_ACTION[kind], **given) if given else tr(NEXT_ACTION[kind])


def task_title(tr: Translator, subject: str, params: Mapping[str, str] | None, title: str) -> str:
    """A task's title: the text a person typed (subject ``free``), or its coded subject in the session's language."""
    return title if subject == "free" else next_action(tr, subject, params)
