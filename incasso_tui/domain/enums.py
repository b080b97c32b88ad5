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
