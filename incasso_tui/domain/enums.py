"""The closed vocabularies of the desk. Values are stored as these strings."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    EMPLOYEE = "employee"
    SUPERVISOR = "supervisor"
    SPECIAL_MANAGEMENT = "special_management"
    ADMIN = "admin"
    AUDITOR = "auditor"
    ADVISER = "adviser"  # bedrijfsadviseur: reads their own clients' cases, answers consultations (issue 13)


class ClientKind(StrEnum):
    NATURAL = "natural"  # natural person (consumer or professional without a firm)
    EENMANSZAAK = "eenmanszaak"
    VOF = "vof"
    BV = "bv"


class Channel(StrEnum):
    PHONE = "phone"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    VIDEO = "video"
    LETTER = "letter"


class Repayment(StrEnum):
    ANNUITY = "annuity"
    LINEAR = "linear"


class LoanStatus(StrEnum):
    ACTIVE = "active"
    CALLED = "called"  # opgeëist: the whole balance is due
    WRITTEN_OFF = "written_off"
    REPAID = "repaid"


class CaseStatus(StrEnum):
    ACTIVE = "active"
    ARRANGEMENT = "arrangement"
    DEFERRAL = "deferral"
    PAUSED = "paused"
    HANDED_OVER = "handed_over"
    INSOLVENCY = "insolvency"
    CLOSED = "closed"


# Statuses whose cases sit in the desk's worklist (handed-over cases belong to special management).
DESK_STATUSES = (
    CaseStatus.ACTIVE,
    CaseStatus.ARRANGEMENT,
    CaseStatus.DEFERRAL,
    CaseStatus.PAUSED,
    CaseStatus.INSOLVENCY,
)


class Stage(StrEnum):
    """Procedure stages in their order. The procedure issue moves cases through them."""

    REMINDER = "reminder"
    DEMAND = "demand"
    CALL = "call"
    FOURTEEN_DAY = "fourteen_day"
    BKR_WARNING = "bkr_warning"
    BKR_REGISTERED = "bkr_registered"
    DEFAULT_NOTICE = "default_notice"
    CALL_IN = "call_in"
    HANDOVER = "handover"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    FORTNIGHTLY = "fortnightly"
    WEEKLY = "weekly"


class ArrangementStatus(StrEnum):
    ACTIVE = "active"
    KEPT = "kept"  # paid in full
    BROKEN = "broken"
    CANCELLED = "cancelled"


class LedgerKind(StrEnum):
    PAYMENT = "payment"
    CONVERSION = "conversion"  # opening position taken over from the previous system
    COSTS = "costs"  # collection costs charged
    INTEREST = "interest"  # statutory / default interest charged
    INTEREST_CREDIT = "interest_credit"  # statutory interest cancelled from a ruling date (issue 12)
    COSTS_CREDIT = "costs_credit"  # collection costs due on or after a ruling date cancelled (issue 12)
    WRITE_OFF = "write_off"
    REVERSAL = "reversal"


class ContactOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    PROMISE = "promise"
    DISPUTE = "dispute"
    HARDSHIP = "hardship"
    WRONG_NUMBER = "wrong_number"


class ArrearsCause(StrEnum):
    LOSS_OF_WORK = "loss_of_work"
    ILLNESS = "illness"
    TOO_MANY_DEBTS = "too_many_debts"
    SEASONAL_INCOME = "seasonal_income"
    BUSINESS_DOWNTURN = "business_downturn"
    OTHER = "other"


class TrackKind(StrEnum):
    MINNELIJK = "minnelijk"  # municipal debt help (amicable)
    WSNP = "wsnp"  # statutory debt rescheduling
    FAILLISSEMENT = "faillissement"  # bankruptcy (of a sole proprietor: personal)


class TrackOutcome(StrEnum):
    """How a debt track ended (issue 12, part 7)."""

    SCHONE_LEI = "schone_lei"  # clean slate (art. 358 Fw): the rest can no longer be enforced
    TERMINATED = "terminated"  # ended early (e.g. art. 350 Fw): the procedure resumes
    REJECTED = "rejected"  # the request or the offer was rejected: the procedure resumes
    SETTLED = "settled"  # an agreed amount: it is paid in, the rest written off (four eyes)


class TrackStatus(StrEnum):
    OPEN = "open"
    ENDED = "ended"


class LetterStatus(StrEnum):
    """What became of a letter or e-mail (``store.models.Letter``)."""

    PENDING = "pending"  # decided, not yet rendered
    RENDERED = "rendered"  # a post letter waits for its print batch, an e-mail for the SMTP server
    SENT = "sent"  # dispatched: only a sent letter has legal effect
    FAILED = "failed"
    CANCELLED = "cancelled"


class EmailStatus(StrEnum):
    """An e-mail in the transactional outbox."""

    QUEUED = "queued"
    SENT = "sent"
    DEAD = "dead"  # given up after the last retry


class PrintBatchStatus(StrEnum):
    OPEN = "open"
    POSTED = "posted"
    UNDONE = "undone"


class PromiseStatus(StrEnum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class ProposalKind(StrEnum):
    DEFERRAL = "deferral"
    WRITE_OFF = "write_off"
    CALL_IN = "call_in"
    ARRANGEMENT = "arrangement"  # an arrangement beyond the desk's limits


class ProposalStatus(StrEnum):
    SUBMITTED = "submitted"  # waits for Risk
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class HandoverStatus(StrEnum):
    REQUESTED = "requested"  # the employee asked a supervisor to waive missing documents
    HANDED_OVER = "handed_over"
    ACCEPTED = "accepted"  # special management works the case
    RETURNED = "returned"  # back at the desk
    SUPERSEDED = "superseded"  # the request was completed by the supervisor's handover


class BankEntryStatus(StrEnum):
    """What became of one imported bank transaction (``store.models.BankEntryRow``)."""

    MATCHED = "matched"
    UNMATCHED = "unmatched"
    AMBIGUOUS = "ambiguous"
    NOT_OURS = "not_ours"
    REVERSED = "reversed"
    REVERSAL = "reversal"
    NOT_PAYMENT = "not_payment"


class NextAction(StrEnum):
    """What the desk does next on a case (``cases.next_action``, with its parameters in ``cases.next_action_params``)
    and what a task made by the code is about (``tasks.subject``, ``tasks.subject_params``): a code, translated when
    shown. ``FREE`` is text a person typed (the parameter ``text``; for a task its ``title``)."""

    NONE = "none"  # a closed case
    FREE = "free"
    # the procedure's stages (data/procedure.toml)
    FOLLOW_UP_REMINDER = "follow_up_reminder"
    FOLLOW_UP_DEMAND = "follow_up_demand"
    CALL_ABOUT_ARREARS = "call_about_arrears"
    WATCH_FOURTEEN_DAY_TERM = "watch_fourteen_day_term"
    PREPARE_BKR_REPORT = "prepare_bkr_report"
    CHECK_BKR_REPORT = "check_bkr_report"
    FOLLOW_UP_DEFAULT_NOTICE = "follow_up_default_notice"
    CALL_IN_PROPOSAL = "call_in_proposal"
    HANDOVER_TO_SPECIAL = "handover_to_special"
    # the daily run, the desk's use cases and the demo book
    PAUSE_ENDED_REVIEW = "pause_ended_review"  # the run ended an expired pause
    PAUSE_OVER_RESUME = "pause_over_resume"  # a pause set or ended by the desk: due when it ends
    CHECK_PROMISE = "check_promise"
    FOLLOW_UP_CONTACT = "follow_up_contact"
    PROMISE_BROKEN = "promise_broken"
    CHECK_ARRANGEMENT_PAYMENT = "check_arrangement_payment"
    ARRANGEMENT_BROKEN = "arrangement_broken"
    ARRANGEMENT_ENDED_RESUME = "arrangement_ended_resume"
    EVALUATE_DEFERRAL = "evaluate_deferral"
    FILE_CLAIM_DEBT_COUNSELLOR = "file_claim_debt_counsellor"  # minnelijk
    FILE_CLAIM_ADMINISTRATOR = "file_claim_administrator"  # wsnp
    FILE_CLAIM_CURATOR = "file_claim_curator"  # faillissement
    CLAIM_TASK_DEBT_COUNSELLOR = "claim_task_debt_counsellor"  # the task, with the trustee: {party}
    CLAIM_TASK_ADMINISTRATOR = "claim_task_administrator"
    CLAIM_TASK_CURATOR = "claim_task_curator"
    WATCH_SETTLEMENT = "watch_settlement"
    TRACK_ENDED_RESUME = "track_ended_resume"
    REVIEW_HANDED_OVER = "review_handed_over"
    REVIEW_HANDOVER = "review_handover"  # special management's task on a new handover
    CONSULTATION_QUESTION = "consultation_question"  # {by}: who asks, {text}: the question as typed
    CONSULTATION_ANSWER = "consultation_answer"  # {by}: who answered, {text}: the answer as typed
    RETURNED_BY_SPECIAL = "returned_by_special"
    AT_OUTSIDE_PARTY = "at_outside_party"  # {party}: the outside party's name
    BACK_FROM_OUTSIDE = "back_from_outside"  # {outcome}: a domain.external.OUTCOMES value
