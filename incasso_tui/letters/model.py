"""The data of one letter: exactly what its template may see, and nothing else.

Whoever decides a letter stores its :class:`LetterFigures` as the ``letters.figures`` JSON; ``services.letters``
adds the client, the loans, the lender and the signer into a :class:`LetterData` (it knows the database; this
package does not) and hands it to :mod:`incasso_tui.letters.render`. The template receives ``data.context()``: plain
dicts, tuples, strings, ``Decimal`` amounts and ``date`` values, never a model, a session or a service.

Every amount is a ``Decimal`` in whole cents (:func:`~incasso_tui.domain.money.ensure_money`: a float, a
non-decimal string or a fraction of a cent is refused; the JSON form is a decimal string). Each letter kind needs its own section (``_REQUIRED``), e.g. a
``fourteen_day`` letter cannot be built without the collection costs and the term dates.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal, Self, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
    field_validator,
    model_validator,
)

from incasso_tui.domain import arrears as domain_arrears
from incasso_tui.domain.calendar import FourteenDayTerm
from incasso_tui.domain.money import ZERO, ensure_money
from incasso_tui.domain.references import (
    is_valid_betalingskenmerk,
    is_valid_iban,
    is_valid_rf,
    normalize_reference,
)
from incasso_tui.i18n import LOCALES

__all__ = [
    "LETTER_KINDS",
    "Arrangement",
    "ArrangementLine",
    "Arrears",
    "BkrWarning",
    "CallIn",
    "ClaimDocument",
    "ClaimFigures",
    "ClaimLine",
    "Client",
    "CollectionCosts",
    "DebtTrack",
    "ExternalHandover",
    "FourteenDayDates",
    "LetterData",
    "LetterFigures",
    "LetterKind",
    "Lender",
    "Loan",
    "PaymentQr",
    "Trustee",
]

LetterKind = Literal[
    "reminder",
    "demand",
    "fourteen_day",
    "bkr_warning",
    "default_notice",
    "arrangement_confirmation",
    "claim_statement",
    "call_in",
    "contact_request",
    "external_handover",
    "external_notice",
]
LETTER_KINDS: tuple[LetterKind, ...] = get_args(LetterKind)

DEPARTMENT = "Incasso & Beheer"


def _whole_cents(value: object) -> Decimal:
    """An amount in whole cents: a Decimal, an int, or (from the JSON) a decimal string; never a float."""
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not an amount: {value!r}") from None
    try:
        return ensure_money(value)  # type: ignore[arg-type]  # ensure_money refuses other types itself
    except TypeError as exc:  # pydantic reports ValueError, not TypeError, as a validation error
        raise ValueError(str(exc)) from None


Money = Annotated[Decimal, BeforeValidator(_whole_cents), Field(ge=0)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
DebtTrackKind = Literal["minnelijk", "wsnp", "faillissement"]
Enclosure = Literal["loan_agreement", "pledge_deed", "account_statement"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_total(parts: tuple[Decimal, ...], total: Decimal) -> None:
    if sum(parts, ZERO) != total:
        raise ValueError(f"the total {total} is not the sum of its parts {sum(parts, ZERO)}")


class Lender(_Frozen):
    """The lender whose desk sends the letter; payments go to ``iban``."""

    name: Text
    street: Text
    postcode: Text
    city: Text
    iban: Text
    phone: Text
    email: Text
    bic: Text | None = None  # only in the payment QR code

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        if not is_valid_iban(value):
            raise ValueError(f"not a valid IBAN: {value!r}")
        return normalize_reference(value)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def display_name(self) -> str:
        """The sender as printed: ``Incasso & Beheer — <lender>``."""
        return f"{DEPARTMENT} — {self.name}"


class Client(_Frozen):
    name: Text
    contact_person: Text | None = None
    street: Text
    postcode: Text
    city: Text
    number: Text


class Loan(_Frozen):
    number: Text
    product: Text


class Arrears(_Frozen):
    """What is overdue today, split as payments are allocated (art. 6:44 BW: costs, interest, principal).
    ``costs`` are the collection costs charged; ``statutory_interest`` the statutory interest charged (interest in
    the sense of art. 6:44, printed on a line of its own); ``interest`` the contractual interest."""

    costs: Money
    interest: Money
    principal: Money
    total: Money
    days_past_due: int = Field(ge=0)
    oldest_due_date: date
    statutory_interest: Money = ZERO

    @model_validator(mode="after")
    def _sum(self) -> Self:
        _check_total((self.costs, self.interest, self.statutory_interest, self.principal), self.total)
        return self

    @classmethod
    def of(cls, position: domain_arrears.Arrears, day: date) -> Self:
        """The letter's form of a (combined) arrears position; ``day`` stands for an oldest due date it lacks."""
        return cls(
            costs=position.costs,
            interest=position.interest,
            principal=position.principal,
            statutory_interest=position.statutory_interest,
            total=position.total,
            days_past_due=position.days_past_due,
            oldest_due_date=position.oldest_due_date or day,
        )


class CollectionCosts(_Frozen):
    """The collection costs (WIK scale) the letter announces; ``vat`` only when ``vat_charged``."""

    amount: Money
    vat_charged: bool = False
    vat: Money = ZERO

    @model_validator(mode="after")
    def _vat(self) -> Self:
        if self.vat_charged != (self.vat > 0):
            raise ValueError("vat must be above zero exactly when vat_charged is set")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> Decimal:
        return self.amount + self.vat


class ClaimLine(_Frozen):
    """An overdue installment a 14-day letter covers (its costs are per claim, never twice on one installment)."""

    loan: Text
    seq: int = Field(ge=0)
    due_date: date
    amount: Money


class FourteenDayDates(_Frozen):
    """The term of the 14-day letter (:func:`~incasso_tui.domain.calendar.fourteen_day_term`), for the record.

    The letter itself must not state ``term_end`` as the deadline (docs/letters.md, "Legal wording").
    """

    sent: date
    assumed_receipt: date
    term_end: date
    costs_from: date

    @classmethod
    def from_term(cls, term: FourteenDayTerm) -> FourteenDayDates:
        return cls(
            sent=term.sent, assumed_receipt=term.assumed_receipt, term_end=term.term_end, costs_from=term.costs_from
        )

    @model_validator(mode="after")
    def _order(self) -> Self:
        if not self.sent < self.assumed_receipt < self.term_end < self.costs_from:
            raise ValueError("the term dates must follow each other: sent, assumed receipt, term end, costs from")
        return self


class BkrWarning(_Frozen):
    """The arrears will be registered at BKR with ``code`` on or after ``report_from`` unless paid."""

    report_from: date
    code: Literal["A"] = "A"


class ArrangementLine(_Frozen):
    due_date: date
    amount: Money


class Arrangement(_Frozen):
    """A payment arrangement: an optional down payment, then the lines in date order."""

    down_payment: Money = ZERO
    down_payment_date: date | None = None
    lines: tuple[ArrangementLine, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.down_payment > 0) != (self.down_payment_date is not None):
            raise ValueError("a down payment needs its date, and a date needs a down payment")
        dates = [line.due_date for line in self.lines]
        if dates != sorted(dates):
            raise ValueError("the arrangement lines must be in date order")
        if self.down_payment_date is not None and self.down_payment_date > dates[0]:
            raise ValueError("the down payment must be due before the first line")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), self.down_payment)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def first_date(self) -> date:
        return self.lines[0].due_date

    @computed_field  # type: ignore[prop-decorator]
    @property
    def last_date(self) -> date:
        return self.lines[-1].due_date


class Trustee(_Frozen):
    """The curator, bewindvoerder or debt-help worker the claim is filed with.

    ``address`` holds the address lines as the trustee gave them (``debt_tracks.trustee_contact``);
    ``reference`` is the trustee's own case reference, when known.
    """

    name: Text
    organisation: Text | None = None
    address: tuple[Text, ...] = ()
    reference: Text | None = None


class DebtTrack(_Frozen):
    """The insolvency or debt-relief track. ``ruling_date``: the court's ruling (WSNP, faillissement) or,
    for the minnelijk traject, the date the debt-help organisation reported the case."""

    kind: DebtTrackKind
    ruling_date: date
    trustee: Trustee
    claim_deadline: date | None = None


class ClaimDocument(_Frozen):
    """A dossier document sent with the claim statement: its kind and the loan it belongs to."""

    kind: Enclosure
    loan: Text


class ClaimFigures(_Frozen):
    """The claim filed with the trustee: interest until (not including) the ruling date (art. 128 and 303 Fw), and
    the dossier documents sent with it."""

    principal: Money
    interest: Money
    costs: Money
    total: Money
    enclosures: tuple[Enclosure, ...] = ("loan_agreement", "pledge_deed")
    documents: tuple[ClaimDocument, ...] = ()

    @model_validator(mode="after")
    def _sum(self) -> Self:
        _check_total((self.principal, self.interest, self.costs), self.total)
        return self


class CallIn(_Frozen):
    """The whole balance called in (opeising), to be paid by ``pay_by``."""

    principal: Money
    interest: Money
    costs: Money
    total: Money
    pay_by: date

    @model_validator(mode="after")
    def _sum(self) -> Self:
        _check_total((self.principal, self.interest, self.costs), self.total)
        return self


class ExternalHandover(_Frozen):
    """A claim handed to a bailiff, lawyer or collection agency (issue 19): the party, the claim statement as of
    ``handed_on`` (``payments``: what was paid on the claim up to then, already taken off the other amounts)."""

    claim_number: int = Field(ge=1)
    party_name: Text
    party_kind: Literal["bailiff", "lawyer", "agency"]
    party_address: tuple[Text, ...] = Field(min_length=1)
    party_contact: Text | None = None
    handed_on: date
    principal: Money
    interest: Money
    costs: Money
    payments: Money
    total: Money

    @model_validator(mode="after")
    def _sum(self) -> Self:
        _check_total((self.principal, self.interest, self.costs), self.total)
        return self


# The sections a kind cannot do without; the template of that kind may use them unguarded.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "reminder": ("arrears", "pay_by"),
    "demand": ("arrears", "pay_by"),
    "fourteen_day": ("arrears", "collection_costs", "fourteen_day"),
    "bkr_warning": ("arrears", "bkr"),
    "default_notice": ("arrears", "pay_by"),
    "arrangement_confirmation": ("arrears", "arrangement"),
    "claim_statement": ("debt_track", "claim"),
    "call_in": ("call_in",),
    "contact_request": (),  # the arrears are printed when there are any
    "external_handover": ("external",),  # to the party, not to the client
    "external_notice": ("external",),  # to the client: the claim is now with the party
}


class LetterFigures(_Frozen):
    """Every amount and date a letter states: the JSON in ``letters.figures`` (``to_json`` / ``from_json``).

    The procedure decides these figures and stores them with the letter; rendering only prints them, so a
    letter can always be accounted for from its row. ``loans`` are the numbers of the loans it is about.
    Amounts are JSON strings (``"123.45"``), dates ISO strings.
    """

    loans: tuple[Text, ...] = Field(min_length=1)
    arrears: Arrears | None = None
    pay_by: date | None = None
    collection_costs: CollectionCosts | None = None
    # the 14-day letter: the installments it covers (issue 12; absent on letters made before)
    claims: tuple[ClaimLine, ...] | None = None
    fourteen_day: FourteenDayDates | None = None
    bkr: BkrWarning | None = None
    arrangement: Arrangement | None = None
    debt_track: DebtTrack | None = None
    claim: ClaimFigures | None = None
    call_in: CallIn | None = None
    # the demand letter to a business debtor (issue 12): the costs owed under art. 6:96 lid 4 BW on its commercial
    # agreements, which the letter claims; whether the debtor is a business, and a legal person (no BKR)
    commercial_costs: CollectionCosts | None = None
    business_debtor: bool | None = None
    legal_person: bool | None = None
    external: ExternalHandover | None = None

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True, exclude_computed_fields=True)  # pydantic >= 2.12

    @classmethod
    def from_json(cls, text: str) -> LetterFigures:
        return cls.model_validate_json(text)

    def missing_for(self, kind: str) -> list[str]:
        """The sections a letter of ``kind`` needs that these figures do not have."""
        return [name for name in _REQUIRED[kind] if getattr(self, name) is None]


class PaymentQr(_Frozen):
    """The EPC payment QR code a letter that asks for payment prints (``letters.payment``): its ``payload``
    (EPC069-12, at most 331 bytes), the ``amount`` it asks for, and the structured RF ``reference`` it carries or,
    for a letter about several loans, the ``text`` (the betalingskenmerk and the loan numbers) instead.
    The renderer draws the code from the payload; the template prints the caption and the amount."""

    payload: str = Field(min_length=1, max_length=331)
    amount: Money
    reference: str | None = None
    text: str | None = None


class PortalAccess(_Frozen):
    """The client's personal link to the self-service page and its one-time code (``services.portal``), printed on a
    letter that asks for payment when the portal is on (setting ``portal_on_letters``); only the code's hash is
    kept. ``confirm_with``: what the client types besides the code (``birth_date`` or ``kvk``)."""

    url: str = Field(min_length=1, max_length=300)
    code: str = Field(min_length=1, max_length=40)
    expires_on: date
    confirm_with: Literal["birth_date", "kvk"]


class LetterData(_Frozen):
    """Everything one letter shows: who writes to whom, and the figures. The template sees ``context()``.
    ``payment_qr``: the payment QR code on a letter that asks for payment, else None; ``portal``: the personal link
    and code of the self-service page, else None."""

    kind: LetterKind
    language: str
    letter_date: date
    reference: Text
    lender: Lender
    client: Client
    employee_name: Text
    loans: tuple[Loan, ...] = Field(min_length=1)
    figures: LetterFigures
    payment_qr: PaymentQr | None = None
    portal: PortalAccess | None = None

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"unknown language {value!r}; known: {', '.join(sorted(LOCALES))}")
        return value

    @field_validator("reference")
    @classmethod
    def _reference(cls, value: str) -> str:
        """A 16-digit betalingskenmerk (dots and spaces allowed) or an RF creditor reference."""
        ref = normalize_reference(value)
        if is_valid_rf(ref):
            return ref
        if is_valid_betalingskenmerk(ref):
            return ref.replace(".", "")
        raise ValueError(f"not a valid betalingskenmerk or RF reference: {value!r}")

    @model_validator(mode="after")
    def _sections(self) -> Self:
        missing = self.figures.missing_for(self.kind)
        if missing:
            raise ValueError(f"a {self.kind} letter needs {', '.join(missing)}")
        return self

    def context(self) -> dict[str, object]:
        """What the template sees: plain values only (dicts, tuples, str, Decimal, date, int, bool)."""
        head = self.model_dump(exclude={"figures"})
        return {**head, **self.figures.model_dump(exclude={"loans"})}
