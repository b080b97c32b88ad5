"""Letters: render the pending ones into the outbox, preview and issue one by hand (``l`` on client detail).

- :func:`render_pending` turns every ``pending`` letter into a PDF in ``letters_dir`` (written under a temporary
  name, renamed when complete), sets it ``rendered`` with its ``file_path``, adds a dossier ``Document``, queues
  an ``email_outbox`` row (PDF attached) for the e-mail channel, and writes an audit event: one transaction per
  letter. A letter whose template or figures are wrong is set ``failed`` with the message (audited) and the run
  goes on; the report lists the failures.
- :func:`preview` computes the figures a hand-issued letter would state and renders it, writing nothing.
- :func:`issue_by_hand` does the same through the guards (:func:`check_hand_letter`), stores the letter and
  renders it in one transaction; a refusal or a template error writes nothing.

The figures contract (``letters.figures``) is :class:`incasso_tui.letters.model.LetterFigures`; see
docs/letters.md. The claim statement that ``services.tracks`` queues carries its own flat figures, read by
:func:`_claim_figures_from_track`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incasso_tui.atomicfile import atomic_write
from incasso_tui.config import Settings
from incasso_tui.domain.arrears import combined
from incasso_tui.domain.calendar import fourteen_day_term
from incasso_tui.domain.enums import ArrangementStatus, CaseStatus, LetterStatus, LoanStatus, Role, TrackStatus
from incasso_tui.domain.guards import check_automatic_step
from incasso_tui.domain.legal_data import load_costs_rules
from incasso_tui.domain.money import ZERO
from incasso_tui.domain.references import make_betalingskenmerk
from incasso_tui.errors import N_, BadInput, ConfigError, NotFound, RuleViolation
from incasso_tui.letters import model as lm
from incasso_tui.letters.payment import PAYMENT_KINDS, letter_payment_qr
from incasso_tui.letters.render import LetterError, render_email, render_pdf
from incasso_tui.mail.channels import ChannelNotConfigured, Outgoing, adapter_for
from incasso_tui.safetext import is_email_address, safe
from incasso_tui.services import audit
from incasso_tui.services.access import CASE_WRITERS, check_write, held_by_special_management
from incasso_tui.services.cases import load_case
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.services.dispatch import LEGAL_KINDS, legal_channel, mark_dispatched
from incasso_tui.services.external import check_no_outside_hold
from incasso_tui.services.positions import loan_positions
from incasso_tui.services.procedure.stages import PAY_DAYS
from incasso_tui.services.titles import letter_title
from incasso_tui.store.models import (
    Arrangement,
    ArrangementLine,
    Case,
    Client,
    DebtTrack,
    Document,
    EmailOutbox,
    Letter,
    Loan,
    User,
)

if TYPE_CHECKING:
    from incasso_tui.services.portal import NewCode

__all__ = [
    "CAMPAIGN_KINDS",
    "HAND_KINDS",
    "Preview",
    "RenderFailure",
    "RenderReport",
    "check_hand_letter",
    "decide_letter",
    "issue_by_hand",
    "preview",
    "render_pending",
]

RENDERERS = (*DESK_WRITERS, Role.ADMIN)
# the kinds the desk may issue by hand; a call-in letter belongs to the call-in proposal (Risk approves it)
HAND_KINDS = (
    "reminder",
    "demand",
    "fourteen_day",
    "bkr_warning",
    "default_notice",
    "arrangement_confirmation",
    "claim_statement",
    "contact_request",
)
# the kinds a campaign may send to a whole group (services.campaigns): a payment reminder and a request to get in
# touch. The other letters follow one case's own stage in the procedure (a demand, the 14-day letter, the BKR
# warning and a notice of default have legal effects) or one case's agreement (confirmation, claim statement).
CAMPAIGN_KINDS = ("reminder", "contact_request")
_DUNNING = ("reminder", "demand", "fourteen_day", "bkr_warning", "default_notice", "call_in")
# a request to get in touch also suits a case in an arrangement or a deferral (e.g. one that ends soon)
_ASK_CONTACT = (CaseStatus.ACTIVE.value, CaseStatus.ARRANGEMENT.value, CaseStatus.DEFERRAL.value)
_MAX_ERROR = 2000


@dataclass(frozen=True)
class RenderFailure:
    letter_id: int
    case_id: int
    kind: str
    error: str


@dataclass(frozen=True)
class RenderReport:
    rendered: int
    emails_queued: int
    not_sent: int  # rendered, but the channel (WhatsApp) is not configured: see the letter's error
    failures: tuple[RenderFailure, ...]


@dataclass(frozen=True)
class Preview:
    kind: str
    channel: str
    language: str
    pdf: bytes
    figures: lm.LetterFigures


# ----- the data of one letter


def _lender(settings: Settings) -> lm.Lender:
    fields = ("name", "street", "postcode", "city", "iban", "phone", "email")
    missing = [f"lender_{f}" for f in fields if not getattr(settings, f"lender_{f}")]
    if missing:
        raise ConfigError(N_("The lender's details for letters are not set: {names}"), names=", ".join(missing))
    try:
        return lm.Lender(**{f: getattr(settings, f"lender_{f}") for f in (*fields, "bic")})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(
            N_("Setting lender_{name} is wrong: {error}"), name=str(first["loc"][0]), error=first["msg"]
        ) from None


def _reference(client: Client) -> str:
    """The payment reference printed on every letter: a betalingskenmerk made from the client number's digits."""
    return make_betalingskenmerk(int(re.sub(r"\D", "", client.number) or "0"))


def _postcode(postcode: str) -> str:
    return f"{postcode[:4]} {postcode[4:]}" if re.fullmatch(r"\d{4}[A-Z]{2}", postcode) else postcode


def _employee(s: Session, case: Case, letter: Letter, actor_name: str) -> str:
    """Who signs: the case's assignee; else the person who decided the letter or runs the rendering; else (the
    daily run of an unassigned case, started by an operator who is no user) the collections department, in the
    letter's language: a letter of the lender may be signed by its department, and a letter that waited for a
    name would hold up its legal effect."""
    if case.assignee_id is not None:
        user = s.get(User, case.assignee_id)
        if user is not None:
            return user.full_name
    user = s.scalar(select(User).where(User.name.in_([letter.created_by, actor_name])).order_by(User.id))
    if user is None:
        from incasso_tui.i18n import Translator

        return Translator(letter.language if letter.language in ("nl", "en") else "nl")(N_("Collections department"))
    return user.full_name


def _bad_figures(letter: Letter, detail: str) -> LetterError:
    return LetterError(
        N_("Letter {id} ({kind}): the figures are wrong: {detail}"), id=str(letter.id), kind=letter.kind, detail=detail
    )


def _claim_figures_from_track(s: Session, raw: dict[str, object]) -> dict[str, object]:
    """The flat figures ``services.tracks.register_track`` stores, as a LetterFigures dict. Enclosures follow
    the dossier: the loan agreement and the pledge deed where the loans have them."""
    loans = [str(item["number"]) for item in raw["loans"]]  # type: ignore[index, union-attr]
    rows = list(s.scalars(select(Loan).where(Loan.number.in_(loans))))
    enclosures = [
        name
        for name, flag in (("loan_agreement", "has_loan_agreement"), ("pledge_deed", "has_pledge_deed"))
        if any(getattr(loan, flag) for loan in rows)
    ]
    contact = str(raw.get("trustee_contact") or "")
    return {
        "loans": loans,
        "debt_track": {
            "kind": raw["track"],
            "ruling_date": raw["ruling_date"],
            "claim_deadline": raw.get("claim_deadline"),
            "trustee": {
                "name": raw["trustee_name"],
                "address": [line.strip() for line in re.split(r"[\n;]", contact) if line.strip()],
            },
        },
        "claim": {key: raw[key] for key in ("principal", "interest", "costs", "total")}
        | {"enclosures": enclosures, "documents": raw.get("documents", [])},
    }


def _figures(s: Session, letter: Letter) -> lm.LetterFigures:
    try:
        raw = json.loads(letter.figures)
    except ValueError as exc:
        raise _bad_figures(letter, f"not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise _bad_figures(letter, "not a JSON object")
    try:
        if letter.kind == "claim_statement" and "track" in raw:
            raw = _claim_figures_from_track(s, raw)
        figures = lm.LetterFigures.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _bad_figures(letter, f"{where}: {first['msg']}") from None
    except (KeyError, TypeError) as exc:
        raise _bad_figures(letter, f"missing {exc}") from None
    missing = figures.missing_for(letter.kind) if letter.kind in lm.LETTER_KINDS else []
    if missing:
        raise _bad_figures(letter, f"a {letter.kind} letter needs {', '.join(missing)}")
    return figures


def _data(
    s: Session, letter: Letter, figures: lm.LetterFigures, lender: lm.Lender, actor_name: str, rf_prefix: str
) -> lm.LetterData:
    """The letter's data; a letter that asks for payment gets its payment QR code (``letters.payment``)."""
    client = s.get(Client, letter.client_id)
    case = s.get(Case, letter.case_id)
    if client is None or case is None:
        raise LetterError(N_("Letter {id}: its client or case does not exist"), id=str(letter.id))
    loans = {
        loan.number: loan
        for loan in s.scalars(select(Loan).where(Loan.client_id == client.id, Loan.number.in_(figures.loans)))
    }
    unknown = [n for n in figures.loans if n not in loans]
    if unknown:
        raise _bad_figures(letter, f"loans not of client {client.number}: {', '.join(unknown)}")
    if letter.kind not in lm.LETTER_KINDS:
        raise LetterError(N_("There is no letter of the kind {kind}"), kind=letter.kind)
    reference = _reference(client)
    try:
        payment_qr = letter_payment_qr(letter.kind, figures, lender, kenmerk=reference, rf_prefix=rf_prefix)
    except BadInput as exc:
        raise LetterError(
            N_("Letter {id}: no payment QR code can be made: {detail}"), id=str(letter.id), detail=str(exc)
        ) from None
    try:
        return lm.LetterData(
            kind=letter.kind,  # type: ignore[arg-type]
            language=letter.language,
            letter_date=letter.letter_date,
            reference=reference,
            lender=lender,
            client=lm.Client(
                name=client.name,
                contact_person=client.contact_person,
                street=client.street,
                postcode=_postcode(client.postcode),
                city=client.city,
                number=client.number,
            ),
            employee_name=_employee(s, case, letter, actor_name),
            loans=tuple(lm.Loan(number=n, product=loans[n].product) for n in figures.loans),
            figures=figures,
            payment_qr=payment_qr,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _bad_figures(letter, f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


# ----- files


def _pdf_path(settings: Settings, letter: Letter, client_number: str) -> Path:
    return (
        settings.letters_dir
        / f"{letter.letter_date:%Y}"
        / f"{letter.letter_date:%m}"
        / f"{letter.id:08d}-{letter.kind}-{client_number}.pdf"
    )


# ----- rendering one letter (inside the caller's transaction)


@dataclass(frozen=True)
class _Outcome:
    emails_queued: int = 0
    not_sent: int = 0


def _render_into(
    ctx: Context, s: Session, letter: Letter, lender: lm.Lender, written: list[Path], secret: NewCode | None = None
) -> _Outcome:
    """Render ``letter`` and record it; raises LetterError before anything is written when it cannot be made.
    The PDF's path is appended to ``written`` so the caller can remove it when the transaction fails."""
    figures = _figures(s, letter)
    data = _data(s, letter, figures, lender, ctx.actor.name, ctx.settings.payment_rf_prefix)
    client = s.get(Client, letter.client_id)
    assert client is not None
    if data.payment_qr is not None and secret is not None:  # a letter that asks for payment (issue 21)
        from incasso_tui.services.portal import link_for_letter

        issued = link_for_letter(ctx, s, client, letter.id, secret)
        if issued is not None:
            data = data.model_copy(
                update={
                    "portal": lm.PortalAccess(
                        url=issued.url,
                        code=issued.code,
                        expires_on=issued.expires_at.date(),
                        confirm_with=issued.confirm_with,
                    )
                }
            )
    templates = ctx.settings.letter_templates_dir
    pdf = render_pdf(data, templates_dir=templates)
    email: tuple[str, str] | None = None
    if letter.channel == "email":
        if not client.email:
            raise LetterError(
                N_("Letter {id}: client {number} has no e-mail address"), id=str(letter.id), number=client.number
            )
        if not is_email_address(client.email):
            raise LetterError(
                N_("Letter {id}: the e-mail address of client {number} is not one valid address: {value}"),
                id=str(letter.id),
                number=client.number,
                value=safe(client.email),
            )
        email = render_email(data, templates_dir=templates)
    elif letter.channel not in ("letter", "whatsapp"):
        raise LetterError(N_("Letter {id}: unknown channel {channel}"), id=str(letter.id), channel=letter.channel)
    if letter.kind in LEGAL_KINDS and letter.channel not in ("letter", "email"):
        raise LetterError(
            N_("Letter {id}: a {kind} letter goes by post or by e-mail, never by {channel}"),
            id=str(letter.id),
            kind=letter.kind,
            channel=letter.channel,
        )
    if letter.kind in LEGAL_KINDS and letter.channel == "email" and client.email_consent_on is None:
        raise LetterError(
            N_("Letter {id}: client {number} did not consent to legal notices by e-mail"),
            id=str(letter.id),
            number=client.number,
        )
    if letter.channel == "letter":
        _check_address(letter, data)
    path = _pdf_path(ctx.settings, letter, client.number)
    atomic_write(path, pdf, make_folder=True)
    written.append(path)
    now = ctx.clock.now()
    letter.status, letter.file_path, letter.error = "rendered", str(path), None
    document = Document(
        client_id=client.id,
        loan_id=None,
        kind="letter",
        title=letter_title(letter.kind, letter.letter_date, letter.channel),
        added_on=letter.letter_date,
        path=str(path),
    )
    s.add(document)
    outcome = _Outcome()
    outbox: EmailOutbox | None = None
    if email is not None:
        assert client.email
        outbox = EmailOutbox(
            letter_id=letter.id,
            to_address=client.email,
            subject=email[0],
            body=email[1],
            attachment_path=str(path),
            status="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        s.add(outbox)
        outcome = _Outcome(emails_queued=1)
    elif letter.channel == "whatsapp":
        try:
            adapter_for("whatsapp", ctx.settings).send(
                Outgoing(to=client.phone or "(no phone number)", subject="", body="", attachment=path)
            )
        except ChannelNotConfigured as exc:
            # cannot be dispatched: reported with the reason, and no legal effect (issue 12)
            letter.status, letter.error = "failed", exc.english()
            outcome = _Outcome(not_sent=1)
        else:
            s.flush()
            mark_dispatched(s, ctx.settings, letter, ctx.clock.today(), now, ctx.actor.name, "whatsapp")
    s.flush()
    audit.record(
        s,
        at=now,
        actor=ctx.actor.name,
        action="letter.rendered",
        entity="letter",
        entity_id=letter.id,
        case_id=letter.case_id,
        before={"status": "pending"},
        after={
            "status": letter.status,
            "kind": letter.kind,
            "channel": letter.channel,
            "file_path": str(path),
            "document_id": document.id,
            "email_outbox_id": outbox.id if outbox else None,
            "not_sent": letter.error,
        },
    )
    return outcome


def _check_address(letter: Letter, data: lm.LetterData) -> None:
    """A post letter needs an address to go to: the client's, or the trustee's for a claim statement."""
    if letter.kind == "claim_statement":
        track = data.figures.debt_track
        if track is None or not track.trustee.address:
            raise LetterError(
                N_("Letter {id}: the trustee has no postal address; record it on the track"), id=str(letter.id)
            )
    elif not (data.client.street.strip() and data.client.postcode.strip() and data.client.city.strip()):
        raise LetterError(
            N_("Letter {id}: client {number} has no postal address"), id=str(letter.id), number=data.client.number
        )


def _fail(ctx: Context, s: Session, letter: Letter, error: str) -> None:
    letter.status, letter.error = "failed", error[:_MAX_ERROR]
    audit.record(
        s,
        at=ctx.clock.now(),
        actor=ctx.actor.name,
        action="letter.failed",
        entity="letter",
        entity_id=letter.id,
        case_id=letter.case_id,
        before={"status": "pending"},
        after={"status": "failed", "error": letter.error},
    )


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _portal_secret(ctx: Context, kind: str) -> NewCode | None:
    """The portal code a letter of ``kind`` prints when the portal is on letters and the letter asks for payment
    (issue 21): made, with its scrypt, before the letter's writing transaction (SQLite has one writer at a time)."""
    if not ctx.settings.portal_on_letters or kind not in PAYMENT_KINDS:
        return None
    from incasso_tui.services.portal import new_code

    return new_code()


def render_pending(ctx: Context, limit: int | None = None, *, only: Select[tuple[int]] | None = None) -> RenderReport:
    """Render the pending letters (oldest first, at most ``limit``; with ``only``, a query of letter ids, just
    those); one transaction per letter."""
    ctx.require(*RENDERERS)
    lender = _lender(ctx.settings)  # missing sender details stop the run before any letter is touched
    with ctx.db.reader() as s:
        query = select(Letter.id, Letter.kind).where(Letter.status == LetterStatus.PENDING).order_by(Letter.id)
        if only is not None:
            query = query.where(Letter.id.in_(only))
        rows = list(s.execute(query.limit(limit) if limit is not None else query))
    rendered = queued = not_sent = 0
    failures: list[RenderFailure] = []
    for letter_id, kind in rows:
        written: list[Path] = []
        # the portal code a letter asking for payment prints: its scrypt before the letter's writing transaction
        secret = _portal_secret(ctx, kind)
        try:
            with ctx.db.transaction() as s:
                letter = s.scalar(
                    select(Letter)
                    .where(Letter.id == letter_id, Letter.status == LetterStatus.PENDING)
                    .with_for_update()
                )
                if letter is None:  # rendered by someone else meanwhile
                    continue
                try:
                    outcome = _render_into(ctx, s, letter, lender, written, secret)
                except LetterError as exc:
                    _remove(written)
                    written.clear()
                    _fail(ctx, s, letter, exc.english())
                    failures.append(RenderFailure(letter.id, letter.case_id, letter.kind, letter.error or ""))
                    continue
        except BaseException:
            _remove(written)  # the transaction was rolled back: no file without its row
            raise
        rendered += 1
        queued += outcome.emails_queued
        not_sent += outcome.not_sent
    return RenderReport(rendered, queued, not_sent, tuple(failures))


# ----- by hand


def pending_count(ctx: Context) -> int:
    """How many letters wait to be rendered."""
    with ctx.db.reader() as s:
        return int(s.scalar(select(func.count()).where(Letter.status == LetterStatus.PENDING)) or 0)


def _working_status(s: Session, case: Case) -> str:
    """The status the letter guards read. A case special management holds stays ``handed_over`` (services.access);
    for their letters by hand it counts as what it is in substance: in an arrangement when one runs, else active."""
    if not held_by_special_management(case):
        return case.status
    running = s.scalar(
        select(Arrangement.id)
        .where(Arrangement.case_id == case.id, Arrangement.status == ArrangementStatus.ACTIVE.value)
        .limit(1)
    )
    return CaseStatus.ARRANGEMENT.value if running is not None else CaseStatus.ACTIVE.value


def check_hand_letter(s: Session, case: Case, client: Client, kind: str, today: date) -> None:
    """The guards for a letter issued by hand (``l`` on client detail); the same rules the procedure keeps.

    - only the kinds in HAND_KINDS;
    - a dunning letter (reminder, demand, 14-day letter, BKR warning, notice of default) only where the
      procedure itself may act: not on a paused case, one with an active arrangement or deferral, one handed
      over, closed, or in a debt-relief or insolvency track (``domain.guards.check_automatic_step``);
    - a request to contact us also on a case in an arrangement or a deferral, but not in a track, paused,
      handed over or closed;
    - the 14-day letter only to a consumer, with every loan in arrears in it (``check_letter_has_all_claims``);
    - an arrangement confirmation only with an active arrangement; a claim statement only with an open track;
    - not a second letter of a kind while one waits to be rendered (a campaign run twice, the procedure's letter
      of the morning).
    """
    if kind not in HAND_KINDS:
        raise RuleViolation(N_("A {kind} letter cannot be issued by hand"), kind=kind)
    open_track = s.scalar(
        select(DebtTrack.id).where(DebtTrack.case_id == case.id, DebtTrack.status == TrackStatus.OPEN)
    )
    status = _working_status(s, case)
    if kind in _DUNNING:
        check_automatic_step(status, open_track is not None, case.pause_until, today)
        check_no_outside_hold(s, case.id)  # issue 19: the claim is at a bailiff or agency, or disputed
    elif kind == "contact_request" and (open_track is not None or status not in _ASK_CONTACT):
        # not to a client in a debt track (the trustee speaks for them), nor on a paused, handed-over or closed case
        check_automatic_step(status, open_track is not None, case.pause_until, today)
    # (the database refuses it too: the unique index ux_letters_waiting; this check gives the reason first)
    waiting = s.scalar(
        select(Letter.id)
        .where(
            Letter.case_id == case.id,
            Letter.kind == kind,
            Letter.status.in_((LetterStatus.PENDING, LetterStatus.RENDERED)),
        )
        .limit(1)
    )
    if waiting is not None:
        raise RuleViolation(N_("A letter of this kind to this client waits to be dispatched already"))
    if (
        kind == "fourteen_day"
        and not client.consumer
        and not s.scalar(select(Loan.id).where(Loan.client_id == client.id, Loan.commercial.is_(False)).limit(1))
    ):
        # a business debtor owes costs under art. 6:96 lid 4 BW on a commercial agreement without a 14-day letter;
        # on its other loans the consumer route applies (issue 12)
        raise RuleViolation(N_("The 14-day letter is for consumers; {name} is a business debtor"), name=client.name)
    if kind == "arrangement_confirmation" and status != CaseStatus.ARRANGEMENT:
        raise RuleViolation(N_("There is no active payment arrangement to confirm"))
    if kind == "claim_statement" and open_track is None:
        raise RuleViolation(N_("A claim statement needs an open debt-relief or insolvency track"))


def _hand_figures(ctx: Context, s: Session, case: Case, client: Client, kind: str, today: date) -> lm.LetterFigures:
    loans = list(
        s.scalars(
            select(Loan)
            .where(Loan.client_id == client.id, Loan.status.in_((LoanStatus.ACTIVE, LoanStatus.CALLED)))
            .order_by(Loan.number)
        )
    )
    positions = loan_positions(s, [loan.id for loan in loans], today)
    in_arrears = [loan for loan in loans if positions[loan.id].total > 0]
    if kind not in ("claim_statement", "contact_request") and not in_arrears:
        raise RuleViolation(N_("{name} has no arrears: no {kind} letter"), name=client.name, kind=kind)
    if kind == "contact_request" and not loans:
        raise RuleViolation(N_("{name} has no running loans: no {kind} letter"), name=client.name, kind=kind)
    arrears = lm.Arrears.of(combined(positions[loan.id] for loan in in_arrears), today) if in_arrears else None
    figures: dict[str, object] = {"loans": tuple(loan.number for loan in (in_arrears or loans)), "arrears": arrears}
    if kind in ("reminder", "demand", "default_notice"):
        figures["pay_by"] = today + timedelta(days=PAY_DAYS)
        if kind == "demand" and not client.consumer:
            from incasso_tui.domain.legal_data import load_bkr_rules
            from incasso_tui.services.procedure.stages import business_figures

            figures.update(
                business_figures(
                    client.kind in load_bkr_rules().legal_person_kinds,
                    (positions[loan.id] for loan in in_arrears if loan.commercial),
                )
            )
    elif kind == "fourteen_day":
        # every claim of the consumer in one letter, the WIK scale on their sum (art. 6:96 lid 7 BW); the claim is
        # the overdue installments (principal and contractual interest), not costs or statutory interest; each
        # installment covered by one 14-day letter only, within the stacking limit (services.claims_cover). A
        # business debtor: its non-commercial loans only (the commercial ones owe costs under lid 4).
        from incasso_tui.services.claims_cover import cover_for_letter

        covered_loans = [loan for loan in in_arrears if client.consumer or not loan.commercial]
        if not covered_loans:
            raise RuleViolation(N_("{name} has no arrears: no {kind} letter"), name=client.name, kind=kind)
        cover = cover_for_letter(s, client.id, [loan.id for loan in covered_loans], today)
        if not cover.claims:
            raise RuleViolation(
                N_(
                    "Every installment in arrears is covered by an earlier 14-day letter already: "
                    "no costs can be charged twice"
                )
            )
        if cover.costs <= 0:
            raise RuleViolation(
                N_(
                    "No collection costs can be announced: the earlier 14-day letters of the last "
                    "{months} months charged as much as one letter for all the installments would"
                ),
                months=load_costs_rules().stacking_months,
            )
        term = fourteen_day_term(today, ctx.settings.fourteen_day_receipt_delivery_days)
        figures["loans"] = tuple(loan.number for loan in covered_loans)
        figures["arrears"] = lm.Arrears.of(combined(positions[loan.id] for loan in covered_loans), today)
        figures["collection_costs"] = lm.CollectionCosts(amount=cover.costs)
        figures["claims"] = cover.claims
        figures["fourteen_day"] = lm.FourteenDayDates.from_term(term)
    elif kind == "bkr_warning":
        expected = fourteen_day_term(today, ctx.settings.fourteen_day_receipt_delivery_days).assumed_receipt
        figures["bkr"] = lm.BkrWarning(report_from=expected + timedelta(days=ctx.settings.bkr_warning_min_days))
    elif kind == "arrangement_confirmation":
        arrangement = s.scalar(
            select(Arrangement).where(
                Arrangement.case_id == case.id, Arrangement.status == ArrangementStatus.ACTIVE.value
            )
        )
        if arrangement is None:
            raise RuleViolation(N_("There is no active payment arrangement to confirm"))
        lines = list(
            s.scalars(
                select(ArrangementLine)
                .where(ArrangementLine.arrangement_id == arrangement.id)
                .order_by(ArrangementLine.seq)
            )
        )
        down = next((line for line in lines if line.seq == 0 and line.amount > 0), None)
        figures["arrangement"] = lm.Arrangement(
            down_payment=down.amount if down else ZERO,
            down_payment_date=down.due_date if down else None,
            lines=tuple(
                lm.ArrangementLine(due_date=line.due_date, amount=line.amount) for line in lines if line.seq > 0
            ),
        )
    elif kind == "claim_statement":
        from incasso_tui.services.tracks import TrackKind, claim_figures

        track = s.scalar(
            select(DebtTrack)
            .where(DebtTrack.case_id == case.id, DebtTrack.status == TrackStatus.OPEN)
            .order_by(DebtTrack.id.desc())
        )
        assert track is not None  # check_hand_letter
        raw = claim_figures(s, case, TrackKind(track.kind), track.ruling_date)
        raw.update(
            trustee_name=track.trustee_name,
            trustee_contact=track.trustee_contact,
            ruling_date=track.ruling_date,
            claim_deadline=track.claim_deadline,
        )
        return lm.LetterFigures.model_validate(_claim_figures_from_track(s, json.loads(json.dumps(raw, default=str))))
    return lm.LetterFigures.model_validate(figures)


def _hand_channel(client: Client, channel: str | None, kind: str) -> str:
    if kind in LEGAL_KINDS:
        chosen = channel or legal_channel(kind, client.email, client.email_consent_on)
    else:
        chosen = channel or ("email" if client.preferred_channel == "email" and client.email else "letter")
    if chosen not in ("letter", "email", "whatsapp"):
        raise RuleViolation(N_("Letters go by post, e-mail or WhatsApp, not by {channel}"), channel=chosen)
    if chosen == "email" and not client.email:
        raise RuleViolation(N_("{name} has no e-mail address"), field="channel", name=client.name)
    if chosen == "email" and not is_email_address(client.email):
        raise RuleViolation(
            N_("The e-mail address of {name} is not one valid address: {value}"),
            field="channel",
            name=client.name,
            value=safe(client.email),
        )
    if kind in LEGAL_KINDS and chosen == "whatsapp":
        raise RuleViolation(
            N_("A legal letter goes by post, or by e-mail with the client's consent; never by WhatsApp"),
            field="channel",
        )
    if kind in LEGAL_KINDS and chosen == "email" and client.email_consent_on is None:
        raise RuleViolation(
            N_("{name} did not consent to receive legal notices by e-mail: it goes by post"),
            field="channel",
            name=client.name,
        )
    return chosen


def _new_letter(ctx: Context, s: Session, case_id: int, kind: str, channel: str | None) -> Letter:
    case = load_case(s, case_id)
    check_write(ctx, s, case)
    client = s.get(Client, case.client_id)
    if client is None:
        raise NotFound(N_("Case {case_id} does not exist"), case_id=case_id)
    today = ctx.clock.today()
    check_hand_letter(s, case, client, kind, today)
    figures = _hand_figures(ctx, s, case, client, kind, today)
    letter = Letter(
        case_id=case.id,
        client_id=client.id,
        kind=kind,
        channel=_hand_channel(client, channel, kind),
        language=client.language if client.language in ("nl", "en") else "nl",
        letter_date=today,
        figures=figures.to_json(),
        status="pending",
        created_by=ctx.actor.name,
        created_at=ctx.clock.now(),
    )
    # received_on and costs_from follow from the dispatch (services.dispatch.mark_dispatched), not from today
    return letter


def preview(ctx: Context, case_id: int, kind: str, channel: str | None = None) -> Preview:
    """The letter ``kind`` as it would be issued by hand today, rendered; writes nothing. Refusals as for issuing."""
    ctx.require(*CASE_WRITERS)
    lender = _lender(ctx.settings)
    with ctx.db.reader() as s:
        letter = _new_letter(ctx, s, case_id, kind, channel)
        letter.id = 0
        figures = _figures(s, letter)
        pdf = render_pdf(
            _data(s, letter, figures, lender, ctx.actor.name, ctx.settings.payment_rf_prefix),
            templates_dir=ctx.settings.letter_templates_dir,
        )
        return Preview(kind=kind, channel=letter.channel, language=letter.language, pdf=pdf, figures=figures)


def decide_letter(
    ctx: Context,
    s: Session,
    case_id: int,
    kind: str,
    channel: str | None,
    *,
    action: str = "letter.issued_by_hand",
    extra: dict[str, object] | None = None,
) -> tuple[Letter, audit.Event]:
    """The letter ``kind`` on the case today, through the guards, stored ``pending`` in the caller's transaction, and
    its audit event (for the caller to record): what a letter by hand and a campaign's letter share."""
    letter = _new_letter(ctx, s, case_id, kind, channel)
    s.add(letter)
    try:
        s.flush()
    except IntegrityError:  # ux_letters_waiting: another writer decided one of this kind at the same moment
        raise RuleViolation(N_("A letter of this kind to this client waits to be dispatched already")) from None
    event = audit.Event(
        at=ctx.clock.now(),
        actor=ctx.actor.name,
        action=action,
        entity="letter",
        entity_id=letter.id,
        case_id=letter.case_id,
        before=None,
        after={"kind": kind, "channel": letter.channel, "figures": json.loads(letter.figures), **(extra or {})},
    )
    return letter, event


def issue_by_hand(ctx: Context, case_id: int, kind: str, channel: str | None = None) -> int:
    """Issue letter ``kind`` on the case now: guards, figures, the letter row, its PDF, document, e-mail and
    audit, all in one transaction. Returns the letter id. A refusal or a template error writes nothing."""
    ctx.require(*CASE_WRITERS)
    lender = _lender(ctx.settings)
    written: list[Path] = []
    secret = _portal_secret(ctx, kind)
    try:
        with ctx.db.transaction() as s:
            letter, event = decide_letter(ctx, s, case_id, kind, channel)
            audit.record_many(s, [event])
            _render_into(ctx, s, letter, lender, written, secret)
            return letter.id
    except BaseException:
        _remove(written)
        raise
