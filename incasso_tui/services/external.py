"""Outside collection (issue 19): bailiffs, lawyers and collection agencies, and the claims handed to them.

- **Parties** are data (``external_parties``): name, kind, address, contact, IBAN and, for a collection agency, its
  registration in the Wki register of Justis. Kept by a supervisor, special management or an admin.
- **Handover** with four eyes, as ``services.proposals`` does it: special management or a supervisor *proposes*
  (``propose_handover``); another person of one of those roles *decides* (``decide_handover``); nobody decides
  their own proposal (``FourEyesViolation``). A consumer's claim is never proposed to an agency without a recorded
  Wki registration, nor approved when the registration was removed meanwhile. The approval, in one transaction:
  the claim statement as of that day (principal, interest fallen due, costs, and the payments made since the case
  opened), the dossier as one PDF plus its JSON twin (docs/external-collection.md) in
  ``<letters_dir>/external/<claim>/``, the handover letter to the party and the notice to the client (pending
  letters, rendered and dispatched like any other), and the audit event.
- **While at the party** (``external_claims.status = 'at_party'``) the case is *held*: the daily run takes no
  automatic step on it and posts no costs (``outside_desk_hold``, used by ``services.procedure``), and a dunning
  letter by hand is refused (``check_no_outside_hold``). Payments that still come in to us are booked as always
  (bank import, by hand) and listed here; ``report_payments`` writes them to a file for the party and records that
  they were reported.
- **Status reports** of the party (paid, arrangement, judgment, uncollectable, returned), by hand
  (``report_status``) or from the party's CSV (``import_status``: all lines or none; the wrong line is named).
  A final report (paid, uncollectable, returned) ends the claim's stay at the party; so does a ``recall``.
- BKR and write-off stay the desk's (four eyes, ``services.proposals``); ``kpis`` counts what is at the parties and
  what came of it (collected, returned, costs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ColumnElement

from incasso_tui.atomicfile import atomic_write
from incasso_tui.domain import external as dx
from incasso_tui.domain.enums import CaseStatus, LedgerKind, LetterStatus, LoanStatus, NextAction, Role, TrackStatus
from incasso_tui.domain.money import ZERO
from incasso_tui.domain.references import is_valid_iban, normalize_reference
from incasso_tui.errors import N_, BadFile, BadInput, FourEyesViolation, NotFound, RuleViolation, StaleData
from incasso_tui.services import audit
from incasso_tui.services.cases import load_case
from incasso_tui.services.context import Context
from incasso_tui.services.proposals import _outstanding
from incasso_tui.store.models import (
    Arrangement,
    Case,
    Client,
    Contact,
    DebtTrack,
    Document,
    ExternalClaim,
    ExternalParty,
    ExternalPaymentNotice,
    ExternalReport,
    LedgerEntry,
    Letter,
    Loan,
)
from incasso_tui.store.types import money_sum

__all__ = [
    "HANDOVER_ROLES",
    "ClaimView",
    "PartyInput",
    "PartyRow",
    "PaymentRow",
    "check_no_outside_hold",
    "claim_for_case",
    "decide_handover",
    "import_status",
    "kpis",
    "outside_desk_hold",
    "add_party",
    "parties",
    "party",
    "propose_handover",
    "recall",
    "report_payments",
    "report_status",
]

HANDOVER_ROLES = (Role.SUPERVISOR, Role.SPECIAL_MANAGEMENT)
PARTY_KEEPERS = (*HANDOVER_ROLES, Role.ADMIN)
READERS = (Role.EMPLOYEE, *HANDOVER_ROLES, Role.ADMIN, Role.AUDITOR)
# a claim in a debt-relief or insolvency track goes to the trustee, never to a bailiff (art. 33 and 301 Fw)
_NOT_HANDED = (CaseStatus.CLOSED.value, CaseStatus.INSOLVENCY.value)
KIND_LABEL = {"bailiff": N_("bailiff"), "lawyer": N_("lawyer"), "agency": N_("collection agency")}


# ----- the daily run's and the desk's hold


def outside_desk_hold() -> ColumnElement[bool]:
    """SQL: the case (``cases.id``) has no claim at an outside party. The daily run ANDs it into every automatic
    step and costs posting, so a case at a bailiff or agency gets no own dunning."""
    from incasso_tui.services.complaints import open_dispute

    return and_(~exists().where(ExternalClaim.case_id == Case.id, ExternalClaim.status == "at_party"), ~open_dispute())


def check_no_outside_hold(s: Session, case_id: int) -> None:
    """Refuse own dunning on a case whose claim is at an outside party, or that has an open dispute."""
    from incasso_tui.services.complaints import check_no_open_dispute

    name = s.scalar(
        select(ExternalParty.name)
        .join(ExternalClaim, ExternalClaim.party_id == ExternalParty.id)
        .where(ExternalClaim.case_id == case_id, ExternalClaim.status == "at_party")
    )
    if name is not None:
        raise RuleViolation(N_("The claim is with {party}: no dunning of our own while it is there"), party=name)
    check_no_open_dispute(s, case_id)


# ----- parties


@dataclass(frozen=True)
class PartyInput:
    name: str
    kind: str
    street: str
    postcode: str
    city: str
    iban: str
    contact: str = ""
    email: str | None = None
    phone: str | None = None
    wki_registration: str | None = None


@dataclass(frozen=True)
class PartyRow:
    id: int
    name: str
    kind: str
    street: str
    postcode: str
    city: str
    contact: str
    email: str | None
    phone: str | None
    iban: str
    wki_registration: str | None
    open_claims: int

    @property
    def address(self) -> tuple[str, ...]:
        return (self.street, f"{self.postcode} {self.city}")


_MISSING = {
    "name": N_("Give the party's name"),
    "street": N_("Give the party's street"),
    "postcode": N_("Give the party's postcode"),
    "city": N_("Give the party's city"),
}


def _text(value: str | None, field: str, *, maximum: int) -> str | None:
    """The trimmed text of ``field``; None when empty and optional (``_MISSING`` names the required fields)."""
    value = (value or "").strip()
    if not value:
        if field in _MISSING:
            raise BadInput(_MISSING[field], field=field)
        return None
    if len(value) > maximum:
        raise BadInput(N_("Too long: at most {limit} characters"), field=field, limit=maximum)
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise BadInput(N_("Control characters are not allowed here"), field=field)
    return value


def add_party(ctx: Context, given: PartyInput) -> int:
    """Record a bailiff, lawyer or collection agency; returns its id."""
    ctx.require(*PARTY_KEEPERS)
    if given.kind not in dx.PARTY_KINDS:
        raise BadInput(N_("The kind of party must be one of {kinds}"), field="kind", kinds=", ".join(dx.PARTY_KINDS))
    name = _text(given.name, "name", maximum=200)
    street = _text(given.street, "street", maximum=200)
    postcode = _text(given.postcode, "postcode", maximum=16)
    city = _text(given.city, "city", maximum=100)
    iban = normalize_reference(given.iban or "")
    if not is_valid_iban(iban):
        raise BadInput(N_("Not a valid IBAN: {iban}"), field="iban", iban=given.iban)
    wki = _text(given.wki_registration, "wki_registration", maximum=64)
    if wki is not None and given.kind != "agency":
        raise BadInput(N_("Only a collection agency has a Wki registration"), field="wki_registration")
    now = ctx.clock.now()
    try:
        with ctx.db.transaction() as s:
            row = ExternalParty(
                name=name,
                kind=given.kind,
                street=street,
                postcode=postcode,
                city=city,
                contact=_text(given.contact, "contact", maximum=300) or "",
                email=_text(given.email, "email", maximum=200),
                phone=_text(given.phone, "phone", maximum=32),
                iban=iban,
                wki_registration=wki,
                created_by=ctx.actor.name,
                created_at=now,
            )
            s.add(row)
            s.flush()
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="party.add",
                entity="external_party",
                entity_id=row.id,
                after={"name": name, "kind": given.kind, "wki_registration": wki},
            )
            return row.id
    except IntegrityError:
        raise RuleViolation(N_("There is a party called {name} already"), field="name", name=name) from None


def _party_row(p: ExternalParty, open_claims: int) -> PartyRow:
    return PartyRow(
        p.id,
        p.name,
        p.kind,
        p.street,
        p.postcode,
        p.city,
        p.contact,
        p.email,
        p.phone,
        p.iban,
        p.wki_registration,
        open_claims,
    )


def parties(ctx: Context, kind: str | None = None) -> list[PartyRow]:
    ctx.require(*READERS)
    counts = (
        select(ExternalClaim.party_id, func.count().label("n"))
        .where(ExternalClaim.status == "at_party")
        .group_by(ExternalClaim.party_id)
        .subquery()
    )
    query = (
        select(ExternalParty, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.party_id == ExternalParty.id)
        .order_by(ExternalParty.name)
    )
    if kind is not None:
        query = query.where(ExternalParty.kind == kind)
    with ctx.db.reader() as s:
        return [_party_row(p, n) for p, n in s.execute(query)]


def _find_party(s: Session, name: str) -> ExternalParty:
    row = s.scalar(select(ExternalParty).where(ExternalParty.name == name.strip()))
    if row is None:
        raise NotFound(N_("There is no party called {name}"), name=name)
    return row


def party(ctx: Context, name: str) -> PartyRow:
    ctx.require(*READERS)
    with ctx.db.reader() as s:
        p = _find_party(s, name)
        n = s.scalar(select(func.count()).where(ExternalClaim.party_id == p.id, ExternalClaim.status == "at_party"))
        return _party_row(p, n or 0)


# ----- the claim statement and the dossier


def _statement(s: Session, case: Case, day: date) -> dict[str, Any]:
    """Per loan not repaid and in total: principal not yet repaid, interest fallen due up to ``day`` and unpaid,
    open costs, and the payments booked since the case opened (already taken off the other amounts)."""
    loans = list(
        s.scalars(
            select(Loan)
            .where(Loan.client_id == case.client_id, Loan.status != LoanStatus.REPAID.value)
            .order_by(Loan.number)
        )
    )
    rows = []
    for loan in loans:
        principal, interest, costs = _outstanding(s, [loan.id], day + timedelta(days=1))
        paid = s.scalar(
            select(money_sum(LedgerEntry.amount)).where(
                LedgerEntry.loan_id == loan.id,
                LedgerEntry.kind == LedgerKind.PAYMENT.value,
                LedgerEntry.booking_date >= case.opened_on,
                LedgerEntry.booking_date <= day,
            )
        )
        rows.append(
            {
                "loan": loan.number,
                "principal": str(principal),
                "interest": str(interest),
                "costs": str(costs),
                "payments": str(paid),
                "total": str(principal + interest + costs),
            }
        )
    total = {
        key: str(sum((Decimal(r[key]) for r in rows), ZERO))
        for key in ("principal", "interest", "costs", "payments", "total")
    }
    return {"as_of": day.isoformat(), "loans": rows, **total}


def _dossier(s: Session, claim: ExternalClaim, case: Case, party_row: ExternalParty, lender: str) -> dict[str, Any]:
    client = s.get(Client, case.client_id)
    assert client is not None and claim.statement is not None and claim.handed_on is not None
    loans = list(s.scalars(select(Loan).where(Loan.client_id == client.id).order_by(Loan.number)))
    letters = s.scalars(
        select(Letter)
        .where(Letter.case_id == case.id, Letter.status.in_((LetterStatus.RENDERED, LetterStatus.SENT)))
        .order_by(Letter.letter_date, Letter.id)
    )
    contacts = s.scalars(select(Contact).where(Contact.case_id == case.id).order_by(Contact.at))
    arrangements = s.scalars(select(Arrangement).where(Arrangement.case_id == case.id).order_by(Arrangement.id))
    return {
        "format": "incasso-external-dossier/1",
        "claim": claim.id,
        "case": case.id,
        "lender": lender,
        "handed_on": claim.handed_on.isoformat(),
        "proposed_by": claim.proposed_by,
        "decided_by": claim.decided_by,
        "reason": claim.reason,
        "party": {
            "name": party_row.name,
            "kind": party_row.kind,
            "kind_label": KIND_LABEL[party_row.kind],
            "address": [party_row.street, f"{party_row.postcode} {party_row.city}"],
            "contact": party_row.contact,
            "iban": party_row.iban,
            "wki_registration": party_row.wki_registration,
        },
        "client": {
            "number": client.number,
            "name": client.name,
            "kind": client.kind,
            "consumer": client.consumer,
            "address": [client.street, f"{client.postcode} {client.city}"],
            "email": client.email,
            "phone": client.phone,
        },
        "statement": json.loads(claim.statement),
        "documents": [
            {"loan": ln.number, "loan_agreement": ln.has_loan_agreement, "pledge_deed": ln.has_pledge_deed}
            for ln in loans
        ],
        "letters": [
            {
                "id": ltr.id,
                "date": ltr.letter_date.isoformat(),
                "kind": ltr.kind,
                "channel": ltr.channel,
                "status": ltr.status,
                "sent_at": ltr.sent_at.isoformat(timespec="minutes") if ltr.sent_at else None,
                "file": ltr.file_path,
            }
            for ltr in letters
        ],
        "contacts": [
            {
                "at": c.at.isoformat(timespec="minutes"),
                "channel": c.channel,
                "outcome": c.outcome,
                "summary": c.summary,
                "by": c.user_name,
            }
            for c in contacts
        ],
        "arrangements": [
            {
                "made_on": a.created_at.date().isoformat(),
                "status": a.status,
                "installments": a.installment_count,
                "covered": str(a.arrears_covered),
            }
            for a in arrangements
        ],
    }


def _claim_dir(ctx: Context, claim_id: int) -> Path:
    return ctx.settings.letters_dir / "external" / f"{claim_id:08d}"


# ----- handover with four eyes


def _open_claim(s: Session, case_id: int) -> ExternalClaim | None:
    return s.scalar(
        select(ExternalClaim).where(ExternalClaim.case_id == case_id, ExternalClaim.status.in_(dx.OPEN_STATES))
    )


def _check_wki(party_row: ExternalParty, client: Client) -> None:
    if dx.needs_wki_registration(party_row.kind, client.consumer) and not party_row.wki_registration:
        raise RuleViolation(
            N_("{party} has no recorded Wki registration: a consumer's claim cannot go to that collection agency"),
            party=party_row.name,
        )


def propose_handover(ctx: Context, case_id: int, party_name: str, reason: str) -> int:
    """Propose handing the case's claim to ``party_name``; another person decides (``decide_handover``)."""
    ctx.require(*HANDOVER_ROLES)
    reason = (reason or "").strip()
    if not reason:
        raise BadInput(N_("Give the reason for the handover to external collection"), field="reason")
    now = ctx.clock.now()
    try:
        with ctx.db.transaction() as s:
            case = load_case(s, case_id)
            if case.status in _NOT_HANDED:
                raise RuleViolation(
                    N_("The case is {status}: its claim cannot be handed to an outside party"), status=case.status
                )
            if s.scalar(select(DebtTrack.id).where(DebtTrack.case_id == case.id, DebtTrack.status == TrackStatus.OPEN)):
                raise RuleViolation(
                    N_("The client is in a debt-relief or insolvency track: the claim goes to the trustee")
                )
            if _open_claim(s, case.id) is not None:
                raise RuleViolation(N_("The case's claim is proposed for or at an outside party already"))
            party_row = _find_party(s, party_name)
            client = s.get(Client, case.client_id)
            assert client is not None
            _check_wki(party_row, client)
            row = ExternalClaim(
                case_id=case.id,
                party_id=party_row.id,
                status="proposed",
                reason=reason,
                proposed_by=ctx.actor.name,
                proposed_at=now,
            )
            s.add(row)
            s.flush()
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="external.propose",
                entity="external_claim",
                entity_id=row.id,
                case_id=case.id,
                after={"party": party_row.name, "kind": party_row.kind, "reason": reason},
            )
            return row.id
    except IntegrityError:
        raise RuleViolation(N_("The case's claim is proposed for or at an outside party already")) from None


@dataclass(frozen=True)
class Decision:
    claim_id: int
    status: str
    statement: dict[str, Any] | None
    dossier_pdf: str | None
    dossier_json: str | None
    letters: tuple[int, ...]


def _letter_figures(claim: ExternalClaim, party_row: ExternalParty, statement: dict[str, Any]) -> str:
    from incasso_tui.letters.model import ExternalHandover, LetterFigures

    figures = LetterFigures(
        loans=tuple(r["loan"] for r in statement["loans"]),
        external=ExternalHandover(
            claim_number=claim.id,
            party_name=party_row.name,
            party_kind=party_row.kind,  # type: ignore[arg-type]
            party_address=(party_row.street, f"{party_row.postcode} {party_row.city}"),
            party_contact=party_row.contact or None,
            handed_on=claim.handed_on,
            principal=Decimal(statement["principal"]),
            interest=Decimal(statement["interest"]),
            costs=Decimal(statement["costs"]),
            payments=Decimal(statement["payments"]),
            total=Decimal(statement["total"]),
        ),
    )
    return figures.to_json()


def decide_handover(ctx: Context, claim_id: int, *, approve: bool, reason: str = "") -> Decision:
    """Approve (hand over now) or reject a proposed handover. Never one's own proposal (four eyes)."""
    from incasso_tui.i18n import Translator
    from incasso_tui.letters.dossier import render_dossier

    ctx.require(*HANDOVER_ROLES)
    if not approve and not reason.strip():
        raise BadInput(N_("Give the reason for the rejection"), field="reason")
    now, today = ctx.clock.now(), ctx.clock.today()
    written: list[Path] = []
    try:
        with ctx.db.transaction() as s:
            claim = s.get(ExternalClaim, claim_id, with_for_update=True)
            if claim is None:
                raise NotFound(N_("There is no external claim {id}"), id=claim_id)
            if claim.proposed_by == ctx.actor.name:
                raise FourEyesViolation(N_("You proposed this yourself: another person must decide it (four eyes)"))
            target = "at_party" if approve else "rejected"
            if not dx.can_move(claim.status, target):
                raise RuleViolation(
                    N_("This handover was {status} by {name} already"),
                    status=claim.status,
                    name=claim.decided_by or "?",
                )
            case = load_case(s, claim.case_id)
            party_row = s.get(ExternalParty, claim.party_id)
            client = s.get(Client, case.client_id)
            assert party_row is not None and client is not None
            claim.status, claim.decided_by, claim.decided_at = target, ctx.actor.name, now
            claim.decision_reason = reason.strip() or None
            if not approve:
                audit.record(
                    s,
                    at=now,
                    actor=ctx.actor.name,
                    action="external.reject",
                    entity="external_claim",
                    entity_id=claim.id,
                    case_id=case.id,
                    before={"status": "proposed"},
                    after={"status": target, "reason": claim.decision_reason, "proposed_by": claim.proposed_by},
                )
                return Decision(claim.id, target, None, None, None, ())
            if case.status in _NOT_HANDED:
                raise RuleViolation(
                    N_("The case is {status}: its claim cannot be handed to an outside party"), status=case.status
                )
            _check_wki(party_row, client)
            statement = _statement(s, case, today)
            claim.handed_on, claim.statement = today, json.dumps(statement)
            folder = _claim_dir(ctx, claim.id)
            claim.dossier_path = str(folder)
            dossier = _dossier(s, claim, case, party_row, ctx.settings.lender_name or "")
            pdf = render_dossier(dossier, Translator(ctx.settings.lang))
            pdf_path, json_path = folder / "dossier.pdf", folder / "dossier.json"
            atomic_write(pdf_path, pdf, make_folder=True)
            written.append(pdf_path)
            atomic_write(json_path, json.dumps(dossier, ensure_ascii=False, indent=2), make_folder=True)
            written.append(json_path)
            s.add(
                Document(
                    client_id=client.id,
                    loan_id=None,
                    kind="external_dossier",
                    title=f"dossier {party_row.name} {today.isoformat()}"[:200],
                    added_on=today,
                    path=str(pdf_path),
                )
            )
            figures = _letter_figures(claim, party_row, statement)
            letters = [
                Letter(
                    case_id=case.id,
                    client_id=client.id,
                    kind=kind,
                    channel="letter",
                    language=lang,
                    letter_date=today,
                    figures=figures,
                    status="pending",
                    created_by=ctx.actor.name,
                    created_at=now,
                )
                for kind, lang in (("external_handover", "nl"), ("external_notice", client.language))
            ]
            s.add_all(letters)
            case.next_action, case.next_action_params = NextAction.AT_OUTSIDE_PARTY, {"party": party_row.name}
            case.updated_by, case.updated_at = ctx.actor.name, now
            s.flush()
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="external.handover",
                entity="external_claim",
                entity_id=claim.id,
                case_id=case.id,
                before={"status": "proposed"},
                after={
                    "status": target,
                    "party": party_row.name,
                    "proposed_by": claim.proposed_by,
                    "statement": {k: statement[k] for k in ("principal", "interest", "costs", "payments", "total")},
                    "dossier": str(pdf_path),
                    "letters": [ltr.id for ltr in letters],
                },
            )
            return Decision(
                claim.id, target, statement, str(pdf_path), str(json_path), tuple(ltr.id for ltr in letters)
            )
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


# ----- while at the party


def _claim_at_party(s: Session, case_id: int) -> ExternalClaim:
    claim = s.scalar(
        select(ExternalClaim)
        .where(ExternalClaim.case_id == case_id, ExternalClaim.status == "at_party")
        .with_for_update()
    )
    if claim is None:
        load_case(s, case_id)  # an unknown case is NotFound
        raise RuleViolation(N_("The claim of case {case} is not at an outside party"), case=case_id)
    return claim


def _end(ctx: Context, s: Session, claim: ExternalClaim, outcome: str, day: date) -> None:
    assert dx.can_move(claim.status, "ended") and outcome in dx.OUTCOMES
    claim.status, claim.outcome, claim.ended_on = "ended", outcome, day
    case = load_case(s, claim.case_id)
    case.next_action_date = ctx.clock.today()
    case.next_action, case.next_action_params = NextAction.BACK_FROM_OUTSIDE, {"outcome": outcome}
    case.updated_by, case.updated_at = ctx.actor.name, ctx.clock.now()


def _add_report(
    ctx: Context,
    s: Session,
    claim: ExternalClaim,
    status: str,
    day: date,
    amount: Decimal,
    costs: Decimal,
    note: str,
    source: str,
) -> ExternalReport:
    if claim.handed_on is not None and day < claim.handed_on:
        raise RuleViolation(
            N_("The report date {day} lies before the handover on {handed}"), day=day, handed=claim.handed_on
        )
    if day > ctx.clock.today():
        raise RuleViolation(N_("The report date {day} lies in the future"), day=day)
    report = ExternalReport(
        claim_id=claim.id,
        status=status,
        report_date=day,
        amount=amount,
        costs=costs,
        note=note,
        source=source[:300],
        created_by=ctx.actor.name,
        created_at=ctx.clock.now(),
    )
    s.add(report)
    claim.last_report = status
    if status in dx.FINAL_REPORTS:
        _end(ctx, s, claim, status, day)
    s.flush()
    audit.record(
        s,
        at=ctx.clock.now(),
        actor=ctx.actor.name,
        action="external.report",
        entity="external_claim",
        entity_id=claim.id,
        case_id=claim.case_id,
        after={
            "status": status,
            "date": day,
            "amount": amount,
            "costs": costs,
            "source": report.source,
            "ended": claim.status == "ended",
        },
    )
    return report


def _money(value: Decimal | None, field: str) -> Decimal:
    if value is None:
        return ZERO
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise BadInput(N_("Not an amount in euros and cents: {amount}"), field=field, amount=value)
    return value


def report_status(
    ctx: Context,
    case_id: int,
    status: str,
    *,
    amount: Decimal | None = None,
    costs: Decimal | None = None,
    note: str = "",
    day: date | None = None,
) -> int:
    """Record the party's status report on the case's claim by hand; returns the report's id."""
    ctx.require(*HANDOVER_ROLES)
    if status not in dx.REPORT_STATUSES:
        raise BadInput(
            N_("Unknown status {status} (known: {known})"),
            field="status",
            status=status,
            known=", ".join(dx.REPORT_STATUSES),
        )
    amount, costs = _money(amount, "amount"), _money(costs, "costs")
    if len(note) > dx.MAX_NOTE:
        raise BadInput(N_("The note is longer than {limit} characters"), field="note", limit=dx.MAX_NOTE)
    with ctx.db.transaction() as s:
        claim = _claim_at_party(s, case_id)
        return _add_report(ctx, s, claim, status, day or ctx.clock.today(), amount, costs, note.strip(), "hand").id


@dataclass(frozen=True)
class ImportResult:
    file: str
    lines: int
    ended: int


def import_status(ctx: Context, path: Path) -> ImportResult:
    """Book a party's status-report CSV (docs/external-collection.md): every line, or none. A line that is
    malformed, names an unknown claim, a claim not at a party or a loan not in the claim, or repeats a report
    booked already (the same file imported twice), is named."""
    ctx.require(*HANDOVER_ROLES)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadFile(
            N_("The file {file} cannot be read: {error}"), where="file", file=str(path), error=exc.strerror or str(exc)
        ) from None
    lines = dx.parse_status_csv(raw)
    ended = 0
    try:
        with ctx.db.transaction() as s:
            for ln in lines:
                claim = s.get(ExternalClaim, ln.claim, with_for_update=True)
                if claim is None:
                    raise BadFile(
                        N_("Line {line}: there is no claim {claim}"),
                        where=f"line {ln.line}",
                        line=ln.line,
                        claim=ln.claim,
                    )
                if claim.status != "at_party":
                    raise BadFile(
                        N_("Line {line}: claim {claim} is not at an outside party ({status})"),
                        where=f"line {ln.line}",
                        line=ln.line,
                        claim=ln.claim,
                        status=claim.status,
                    )
                loans = [r["loan"] for r in json.loads(claim.statement or "{}").get("loans", [])]
                if ln.loan and ln.loan not in loans:
                    raise BadFile(
                        N_("Line {line}: loan {loan} is not in claim {claim}"),
                        where=f"line {ln.line}",
                        line=ln.line,
                        loan=ln.loan,
                        claim=ln.claim,
                    )
                booked = s.scalar(
                    select(ExternalReport.source)
                    .where(
                        ExternalReport.claim_id == claim.id,
                        ExternalReport.status == ln.status,
                        ExternalReport.report_date == ln.day,
                        ExternalReport.amount == ln.amount,
                        ExternalReport.costs == ln.costs,
                        ExternalReport.note == ln.note,
                    )
                    .limit(1)
                )
                if booked is not None:  # the same file (or line) imported twice
                    raise BadFile(
                        N_("Line {line}: this report was booked already ({source})"),
                        where=f"line {ln.line}",
                        line=ln.line,
                        source=booked,
                    )
                try:
                    _add_report(
                        ctx, s, claim, ln.status, ln.day, ln.amount, ln.costs, ln.note, f"{path.name}:{ln.line}"
                    )
                except RuleViolation as exc:
                    raise BadFile(
                        N_("Line {line}: {reason}"), where=f"line {ln.line}", line=ln.line, reason=exc.english()
                    ) from None
                ended += claim.status == "ended"
    except StaleDataError:
        raise StaleData(N_("A claim in the file was changed at the same moment: import the file again")) from None
    return ImportResult(path.name, len(lines), ended)


def recall(ctx: Context, case_id: int, reason: str) -> int:
    """Take the claim back from the party (outcome ``recalled``); returns the claim's id."""
    ctx.require(*HANDOVER_ROLES)
    if not (reason or "").strip():
        raise BadInput(N_("Give the reason for the recall"), field="reason")
    with ctx.db.transaction() as s:
        claim = s.scalar(
            select(ExternalClaim)
            .where(ExternalClaim.case_id == case_id, ExternalClaim.status.in_(dx.OPEN_STATES))
            .with_for_update()
        )
        if claim is None or claim.status != "at_party":
            load_case(s, case_id)
            raise RuleViolation(
                N_("The claim of case {case} was never handed to an outside party: nothing to recall"), case=case_id
            )
        _end(ctx, s, claim, "recalled", ctx.clock.today())
        s.flush()
        audit.record(
            s,
            at=ctx.clock.now(),
            actor=ctx.actor.name,
            action="external.recall",
            entity="external_claim",
            entity_id=claim.id,
            case_id=case_id,
            before={"status": "at_party"},
            after={"status": "ended", "outcome": "recalled", "reason": reason.strip()},
        )
        return claim.id


@dataclass(frozen=True)
class PaymentRow:
    ledger_id: int
    loan: str
    booking_date: date
    amount: Decimal
    reported_on: date | None


def _payments(s: Session, claim: ExternalClaim) -> list[PaymentRow]:
    case = load_case(s, claim.case_id)
    assert claim.handed_on is not None
    end = claim.ended_on or date.max
    rows = s.execute(
        select(
            LedgerEntry.id, Loan.number, LedgerEntry.booking_date, LedgerEntry.amount, ExternalPaymentNotice.reported_on
        )
        .join(Loan, Loan.id == LedgerEntry.loan_id)
        .outerjoin(ExternalPaymentNotice, ExternalPaymentNotice.ledger_id == LedgerEntry.id)
        .where(
            Loan.client_id == case.client_id,
            LedgerEntry.kind == LedgerKind.PAYMENT.value,
            LedgerEntry.booking_date >= claim.handed_on,
            LedgerEntry.booking_date <= end,
        )
        .order_by(LedgerEntry.booking_date, LedgerEntry.id)
    )
    return [PaymentRow(*row) for row in rows]


def report_payments(ctx: Context, case_id: int) -> tuple[str | None, list[PaymentRow]]:
    """Write the payments to us not yet reported to the party into a CSV for it and record them as reported.
    Returns the file (None when there was nothing to report) and the payments reported."""
    ctx.require(*HANDOVER_ROLES)
    today = ctx.clock.today()
    written: list[Path] = []
    try:
        with ctx.db.transaction() as s:
            claim = _claim_at_party(s, case_id)
            new = [p for p in _payments(s, claim) if p.reported_on is None]
            if not new:
                return None, []
            path = _claim_dir(ctx, claim.id) / f"payments-{today.isoformat()}-{new[-1].ledger_id}.csv"
            lines = ["claim,loan,date,amount"] + [
                f"{claim.id},{p.loan},{p.booking_date.isoformat()},{p.amount}" for p in new
            ]
            atomic_write(path, "\n".join(lines) + "\n", make_folder=True)
            written.append(path)
            s.add_all(
                ExternalPaymentNotice(
                    ledger_id=p.ledger_id,
                    claim_id=claim.id,
                    reported_on=today,
                    file_path=str(path),
                    created_by=ctx.actor.name,
                )
                for p in new
            )
            s.flush()
            audit.record(
                s,
                at=ctx.clock.now(),
                actor=ctx.actor.name,
                action="external.payments_reported",
                entity="external_claim",
                entity_id=claim.id,
                case_id=case_id,
                after={
                    "file": str(path),
                    "payments": [p.ledger_id for p in new],
                    "total": sum((p.amount for p in new), ZERO),
                },
            )
            return str(path), [PaymentRow(p.ledger_id, p.loan, p.booking_date, p.amount, today) for p in new]
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise


# ----- reading


@dataclass(frozen=True)
class ReportRow:
    status: str
    report_date: date
    amount: Decimal
    costs: Decimal
    note: str
    source: str
    by: str


@dataclass(frozen=True)
class ClaimView:
    id: int
    case_id: int
    status: str
    party: str
    party_kind: str
    reason: str
    proposed_by: str
    decided_by: str | None
    handed_on: date | None
    statement: dict[str, Any] | None
    dossier_path: str | None
    outcome: str | None
    ended_on: date | None
    reports: tuple[ReportRow, ...]
    payments: tuple[PaymentRow, ...]


def _view(s: Session, claim: ExternalClaim) -> ClaimView:
    p = s.get(ExternalParty, claim.party_id)
    assert p is not None
    reports = tuple(
        ReportRow(r.status, r.report_date, r.amount, r.costs, r.note, r.source, r.created_by)
        for r in s.scalars(
            select(ExternalReport)
            .where(ExternalReport.claim_id == claim.id)
            .order_by(ExternalReport.report_date, ExternalReport.id)
        )
    )
    return ClaimView(
        claim.id,
        claim.case_id,
        claim.status,
        p.name,
        p.kind,
        claim.reason,
        claim.proposed_by,
        claim.decided_by,
        claim.handed_on,
        json.loads(claim.statement) if claim.statement else None,
        claim.dossier_path,
        claim.outcome,
        claim.ended_on,
        reports,
        tuple(_payments(s, claim)) if claim.handed_on else (),
    )


def claim_for_case(ctx: Context, case_id: int) -> ClaimView | None:
    """The case's newest external claim (open, or the last one that ended), or None."""
    ctx.require(*READERS)
    with ctx.db.reader() as s:
        load_case(s, case_id)
        claim = s.scalar(
            select(ExternalClaim).where(ExternalClaim.case_id == case_id).order_by(ExternalClaim.id.desc()).limit(1)
        )
        return None if claim is None else _view(s, claim)


def claims(ctx: Context, status: tuple[str, ...] = dx.OPEN_STATES) -> list[tuple[ClaimView, str]]:
    """The claims in ``status`` with their client's name, oldest first (the proposals to decide come first)."""
    ctx.require(*READERS)
    with ctx.db.reader() as s:
        rows = s.execute(
            select(ExternalClaim, Client.name)
            .join(Case, Case.id == ExternalClaim.case_id)
            .join(Client, Client.id == Case.client_id)
            .where(ExternalClaim.status.in_(status))
            .order_by(ExternalClaim.status.desc(), ExternalClaim.id)
        )
        return [(_view(s, c), name) for c, name in rows]


@dataclass(frozen=True)
class ExternalKpis:
    at_party: int
    at_party_amount: Decimal  # the claim statements' totals as handed over
    handed_over: int  # in the period
    ended: dict[str, int]  # outcome -> claims that ended in the period
    collected: Decimal  # reported collected by the parties in the period, plus payments to us while at a party
    costs: Decimal  # the parties' costs reported in the period


def kpis(ctx: Context, date_from: date | None = None, date_to: date | None = None) -> ExternalKpis:
    """What is at outside parties now, and what came of it in the period (default: the 30 days up to today)."""
    ctx.require(*READERS)
    date_to = date_to or ctx.clock.today()
    date_from = date_from or date_to - timedelta(days=29)
    with ctx.db.reader() as s:
        open_claims = list(s.scalars(select(ExternalClaim.statement).where(ExternalClaim.status == "at_party")))
        amount = sum((Decimal(json.loads(st)["total"]) for st in open_claims if st), ZERO)
        handed = s.scalar(select(func.count()).where(ExternalClaim.handed_on.between(date_from, date_to))) or 0
        ended = dict(
            s.execute(
                select(ExternalClaim.outcome, func.count())
                .where(ExternalClaim.ended_on.between(date_from, date_to))
                .group_by(ExternalClaim.outcome)
            ).all()
        )
        reported = s.execute(
            select(money_sum(ExternalReport.amount), money_sum(ExternalReport.costs)).where(
                ExternalReport.report_date.between(date_from, date_to)
            )
        ).one()
        to_us = s.scalar(
            select(money_sum(LedgerEntry.amount))
            .join(ExternalPaymentNotice, ExternalPaymentNotice.ledger_id == LedgerEntry.id)
            .where(LedgerEntry.booking_date.between(date_from, date_to))
        )
    return ExternalKpis(
        len(open_claims), amount, handed, {k: v for k, v in ended.items() if k}, reported[0] + to_us, reported[1]
    )
