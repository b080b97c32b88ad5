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
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from incasso_tui.config import Settings
from incasso_tui.domain.arrears import combined
from incasso_tui.domain.calendar import fourteen_day_term
from incasso_tui.domain.enums import ArrangementStatus, CaseStatus, Role
from incasso_tui.domain.guards import ClaimPrincipal, check_automatic_step, consumer_letter_costs
from incasso_tui.domain.money import ZERO
from incasso_tui.domain.references import make_betalingskenmerk
from incasso_tui.errors import N_, ConfigError, NotFound, RuleViolation
from incasso_tui.letters import model as lm
from incasso_tui.letters.render import LetterError, render_email, render_pdf
from incasso_tui.mail.channels import ChannelNotConfigured, Outgoing, adapter_for
from incasso_tui.services import audit
from incasso_tui.services.cases import load_case
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.services.external import check_no_outside_hold
from incasso_tui.services.positions import loan_positions
from incasso_tui.services.procedure import PAY_DAYS
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
HAND_KINDS = ("reminder", "demand", "fourteen_day", "bkr_warning", "default_notice", "arrangement_confirmation",
              "claim_statement", "contact_request")
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
        return lm.Lender(**{f: getattr(settings, f"lender_{f}") for f in fields})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(N_("Setting lender_{name} is wrong: {error}"), name=str(first["loc"][0]), error=first["msg"]) from None


def _reference(client: Client) -> str:
    """The payment reference printed on every letter: a betalingskenmerk made from the client number's digits."""
    return make_betalingskenmerk(int(re.sub(r"\D", "", client.number) or "0"))


def _postcode(postcode: str) -> str:
    return f"{postcode[:4]} {postcode[4:]}" if re.fullmatch(r"\d{4}[A-Z]{2}", postcode) else postcode


def _employee(s: Session, case: Case, letter: Letter, actor_name: str) -> str:
    if case.assignee_id is not None:
        user = s.get(User, case.assignee_id)
        if user is not None:
            return user.full_name
    user = s.scalar(select(User).where(User.name.in_([letter.created_by, actor_name])).order_by(User.id))
    if user is None:
        raise LetterError(N_("Letter {id}: nobody to sign it (no assignee, no user {name})"), id=str(letter.id),
                          name=letter.created_by)
    return user.full_name


def _bad_figures(letter: Letter, detail: str) -> LetterError:
    return LetterError(N_("Letter {id} ({kind}): the figures are wrong: {detail}"), id=str(letter.id), kind=letter.kind,
                       detail=detail)


def _claim_figures_from_track(s: Session, raw: dict[str, object]) -> dict[str, object]:
    """The flat figures ``services.tracks.register_track`` stores, as a LetterFigures dict. Enclosures follow
    the dossier: the loan agreement and the pledge deed where the loans have them."""
    loans = [str(item["number"]) for item in raw["loans"]]  # type: ignore[index, union-attr]
    rows = list(s.scalars(select(Loan).where(Loan.number.in_(loans))))
    enclosures = [name for name, flag in (("loan_agreement", "has_loan_agreement"), ("pledge_deed", "has_pledge_deed"))
                  if any(getattr(loan, flag) for loan in rows)]
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
        "claim": {key: raw[key] for key in ("principal", "interest", "costs", "total")} | {"enclosures": enclosures},
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


def _data(s: Session, letter: Letter, figures: lm.LetterFigures, lender: lm.Lender, actor_name: str) -> lm.LetterData:
    client = s.get(Client, letter.client_id)
    case = s.get(Case, letter.case_id)
    if client is None or case is None:
        raise LetterError(N_("Letter {id}: its client or case does not exist"), id=str(letter.id))
    loans = {loan.number: loan for loan in s.scalars(
        select(Loan).where(Loan.client_id == client.id, Loan.number.in_(figures.loans)))}
    unknown = [n for n in figures.loans if n not in loans]
    if unknown:
        raise _bad_figures(letter, f"loans not of client {client.number}: {', '.join(unknown)}")
    if letter.kind not in lm.LETTER_KINDS:
        raise LetterError(N_("There is no letter of the kind {kind}"), kind=letter.kind)
    try:
        return lm.LetterData(
            kind=letter.kind,  # type: ignore[arg-type]
            language=letter.language,
            letter_date=letter.letter_date,
            reference=_reference(client),
            lender=lender,
            client=lm.Client(name=client.name, contact_person=client.contact_person, street=client.street,
                             postcode=_postcode(client.postcode), city=client.city, number=client.number),
            employee_name=_employee(s, case, letter, actor_name),
            loans=tuple(lm.Loan(number=n, product=loans[n].product) for n in figures.loans),
            figures=figures,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _bad_figures(letter, f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


# ----- files


def _pdf_path(settings: Settings, letter: Letter, client_number: str) -> Path:
    return (settings.letters_dir / f"{letter.letter_date:%Y}" / f"{letter.letter_date:%m}"
            / f"{letter.id:08d}-{letter.kind}-{client_number}.pdf")


def _write_atomic(path: Path, content: bytes) -> None:
    """Write ``content`` under a temporary name in the same directory and rename it: never a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ----- rendering one letter (inside the caller's transaction)


@dataclass(frozen=True)
class _Outcome:
    emails_queued: int = 0
    not_sent: int = 0


def _render_into(ctx: Context, s: Session, letter: Letter, lender: lm.Lender, written: list[Path]) -> _Outcome:
    """Render ``letter`` and record it; raises LetterError before anything is written when it cannot be made.
    The PDF's path is appended to ``written`` so the caller can remove it when the transaction fails."""
    figures = _figures(s, letter)
    data = _data(s, letter, figures, lender, ctx.actor.name)
    client = s.get(Client, letter.client_id)
    assert client is not None
    templates = ctx.settings.letter_templates_dir
    pdf = render_pdf(data, templates_dir=templates)
    email: tuple[str, str] | None = None
    if letter.channel == "email":
        if not client.email:
            raise LetterError(N_("Letter {id}: client {number} has no e-mail address"), id=str(letter.id), number=client.number)
        email = render_email(data, templates_dir=templates)
    elif letter.channel not in ("letter", "whatsapp"):
        raise LetterError(N_("Letter {id}: unknown channel {channel}"), id=str(letter.id), channel=letter.channel)
    path = _pdf_path(ctx.settings, letter, client.number)
    _write_atomic(path, pdf)
    written.append(path)
    now = ctx.clock.now()
    letter.status, letter.file_path, letter.error = "rendered", str(path), None
    document = Document(client_id=client.id, loan_id=None, kind="letter",
                        title=f"{letter.kind} {letter.letter_date.isoformat()} ({letter.channel})",
                        added_on=letter.letter_date, path=str(path))
    s.add(document)
    outcome = _Outcome()
    outbox: EmailOutbox | None = None
    if email is not None:
        assert client.email
        outbox = EmailOutbox(letter_id=letter.id, to_address=client.email, subject=email[0], body=email[1],
                             attachment_path=str(path), status="queued", attempts=0, next_attempt_at=now,
                             created_at=now)
        s.add(outbox)
        outcome = _Outcome(emails_queued=1)
    elif letter.channel == "whatsapp":
        try:
            adapter_for("whatsapp", ctx.settings).send(
                Outgoing(to=client.phone or "(no phone number)", subject="", body="", attachment=path))
        except ChannelNotConfigured as exc:
            letter.error = exc.english()
            outcome = _Outcome(not_sent=1)
    s.flush()
    audit.record(
        s, at=now, actor=ctx.actor.name, action="letter.rendered", entity="letter", entity_id=letter.id,
        case_id=letter.case_id, before={"status": "pending"},
        after={"status": letter.status, "kind": letter.kind, "channel": letter.channel, "file_path": str(path),
               "document_id": document.id, "email_outbox_id": outbox.id if outbox else None,
               "not_sent": letter.error},
    )
    return outcome


def _fail(ctx: Context, s: Session, letter: Letter, error: str) -> None:
    letter.status, letter.error = "failed", error[:_MAX_ERROR]
    audit.record(s, at=ctx.clock.now(), actor=ctx.actor.name, action="letter.failed", entity="letter",
                 entity_id=letter.id, case_id=letter.case_id, before={"status": "pending"},
                 after={"status": "failed", "error": letter.error})


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def render_pending(ctx: Context, limit: int | None = None, *, only: Select[tuple[int]] | None = None) -> RenderReport:
    """Render the pending letters (oldest first, at most ``limit``; with ``only``, a query of letter ids, just
    those); one transaction per letter."""
    ctx.require(*RENDERERS)
    lender = _lender(ctx.settings)  # missing sender details stop the run before any letter is touched
    with ctx.db.reader() as s:
        query = select(Letter.id).where(Letter.status == "pending").order_by(Letter.id)
        if only is not None:
            query = query.where(Letter.id.in_(only))
        ids = list(s.scalars(query.limit(limit) if limit is not None else query))
    rendered = queued = not_sent = 0
    failures: list[RenderFailure] = []
    for letter_id in ids:
        written: list[Path] = []
        try:
            with ctx.db.transaction() as s:
                letter = s.scalar(select(Letter).where(Letter.id == letter_id, Letter.status == "pending")
                                  .with_for_update())
                if letter is None:  # rendered by someone else meanwhile
                    continue
                try:
                    outcome = _render_into(ctx, s, letter, lender, written)
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
        return int(s.scalar(select(func.count()).where(Letter.status == "pending")) or 0)


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
    open_track = s.scalar(select(DebtTrack.id).where(DebtTrack.case_id == case.id, DebtTrack.status == "open"))
    if kind in _DUNNING:
        check_automatic_step(case.status, open_track is not None, case.pause_until, today)
        check_no_outside_hold(s, case.id)  # issue 19: the claim is at a bailiff or agency, or disputed
    elif kind == "contact_request" and (open_track is not None or case.status not in _ASK_CONTACT):
        # not to a client in a debt track (the trustee speaks for them), nor on a paused, handed-over or closed case
        check_automatic_step(case.status, open_track is not None, case.pause_until, today)
    waiting = s.scalar(select(Letter.id).where(Letter.case_id == case.id, Letter.kind == kind,
                                               Letter.status == "pending").limit(1))
    if waiting is not None:
        raise RuleViolation(N_("A letter of this kind to this client is waiting to be rendered already"))
    if kind == "fourteen_day" and not client.consumer:
        raise RuleViolation(N_("The 14-day letter is for consumers; {name} is a business debtor"), name=client.name)
    if kind == "arrangement_confirmation" and case.status != CaseStatus.ARRANGEMENT:
        raise RuleViolation(N_("There is no active payment arrangement to confirm"))
    if kind == "claim_statement" and open_track is None:
        raise RuleViolation(N_("A claim statement needs an open debt-relief or insolvency track"))


def _hand_figures(ctx: Context, s: Session, case: Case, client: Client, kind: str, today: date) -> lm.LetterFigures:
    loans = list(s.scalars(select(Loan).where(Loan.client_id == client.id, Loan.status.in_(("active", "called")))
                           .order_by(Loan.number)))
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
    elif kind == "fourteen_day":
        # every claim of the consumer in one letter, the WIK scale on their sum (art. 6:96 lid 7 BW); the claim is
        # the overdue installments (principal and contractual interest), not costs or statutory interest
        claims = [ClaimPrincipal(loan.id, positions[loan.id].principal + positions[loan.id].interest)
                  for loan in in_arrears]
        _total, costs = consumer_letter_costs(claims, (loan.id for loan in in_arrears))
        term = fourteen_day_term(today, ctx.settings.fourteen_day_receipt_delivery_days)
        figures["collection_costs"] = lm.CollectionCosts(amount=costs)
        figures["fourteen_day"] = lm.FourteenDayDates.from_term(term)
    elif kind == "bkr_warning":
        figures["bkr"] = lm.BkrWarning(report_from=today + timedelta(days=ctx.settings.bkr_warning_min_days))
    elif kind == "arrangement_confirmation":
        arrangement = s.scalar(select(Arrangement).where(Arrangement.case_id == case.id,
                                                         Arrangement.status == ArrangementStatus.ACTIVE.value))
        if arrangement is None:
            raise RuleViolation(N_("There is no active payment arrangement to confirm"))
        lines = list(s.scalars(select(ArrangementLine).where(ArrangementLine.arrangement_id == arrangement.id)
                               .order_by(ArrangementLine.seq)))
        down = next((line for line in lines if line.seq == 0 and line.amount > 0), None)
        figures["arrangement"] = lm.Arrangement(
            down_payment=down.amount if down else ZERO, down_payment_date=down.due_date if down else None,
            lines=tuple(lm.ArrangementLine(due_date=line.due_date, amount=line.amount)
                        for line in lines if line.seq > 0))
    elif kind == "claim_statement":
        from incasso_tui.services.tracks import TrackKind, claim_figures

        track = s.scalar(select(DebtTrack).where(DebtTrack.case_id == case.id, DebtTrack.status == "open")
                         .order_by(DebtTrack.id.desc()))
        assert track is not None  # check_hand_letter
        raw = claim_figures(s, case, TrackKind(track.kind), track.ruling_date)
        raw.update(trustee_name=track.trustee_name, trustee_contact=track.trustee_contact,
                   ruling_date=track.ruling_date, claim_deadline=track.claim_deadline)
        return lm.LetterFigures.model_validate(_claim_figures_from_track(s, json.loads(json.dumps(raw, default=str))))
    return lm.LetterFigures.model_validate(figures)


def _hand_channel(client: Client, channel: str | None) -> str:
    chosen = channel or ("email" if client.preferred_channel == "email" and client.email else "letter")
    if chosen not in ("letter", "email", "whatsapp"):
        raise RuleViolation(N_("Letters go by post, e-mail or WhatsApp, not by {channel}"), channel=chosen)
    if chosen == "email" and not client.email:
        raise RuleViolation(N_("{name} has no e-mail address"), field="channel", name=client.name)
    return chosen


def _new_letter(ctx: Context, s: Session, case_id: int, kind: str, channel: str | None) -> Letter:
    case = load_case(s, case_id)
    client = s.get(Client, case.client_id)
    if client is None:
        raise NotFound(N_("Case {case_id} does not exist"), case_id=case_id)
    today = ctx.clock.today()
    check_hand_letter(s, case, client, kind, today)
    figures = _hand_figures(ctx, s, case, client, kind, today)
    letter = Letter(case_id=case.id, client_id=client.id, kind=kind, channel=_hand_channel(client, channel),
                    language=client.language if client.language in ("nl", "en") else "nl", letter_date=today,
                    figures=figures.to_json(), status="pending", created_by=ctx.actor.name, created_at=ctx.clock.now())
    if figures.fourteen_day is not None:
        letter.received_on, letter.costs_from = figures.fourteen_day.assumed_receipt, figures.fourteen_day.costs_from
    return letter


def preview(ctx: Context, case_id: int, kind: str, channel: str | None = None) -> Preview:
    """The letter ``kind`` as it would be issued by hand today, rendered; writes nothing. Refusals as for issuing."""
    ctx.require(*DESK_WRITERS)
    lender = _lender(ctx.settings)
    with ctx.db.reader() as s:
        letter = _new_letter(ctx, s, case_id, kind, channel)
        letter.id = 0
        figures = _figures(s, letter)
        pdf = render_pdf(_data(s, letter, figures, lender, ctx.actor.name),
                         templates_dir=ctx.settings.letter_templates_dir)
        return Preview(kind=kind, channel=letter.channel, language=letter.language, pdf=pdf, figures=figures)


def decide_letter(ctx: Context, s: Session, case_id: int, kind: str, channel: str | None, *,
                  action: str = "letter.issued_by_hand", extra: dict[str, object] | None = None) -> tuple[Letter, audit.Event]:
    """The letter ``kind`` on the case today, through the guards, stored ``pending`` in the caller's transaction, and
    its audit event (for the caller to record): what a letter by hand and a campaign's letter share."""
    letter = _new_letter(ctx, s, case_id, kind, channel)
    s.add(letter)
    s.flush()
    event = audit.Event(at=ctx.clock.now(), actor=ctx.actor.name, action=action, entity="letter", entity_id=letter.id,
                        case_id=letter.case_id, before=None,
                        after={"kind": kind, "channel": letter.channel, "figures": json.loads(letter.figures),
                               **(extra or {})})
    return letter, event


def issue_by_hand(ctx: Context, case_id: int, kind: str, channel: str | None = None) -> int:
    """Issue letter ``kind`` on the case now: guards, figures, the letter row, its PDF, document, e-mail and
    audit, all in one transaction. Returns the letter id. A refusal or a template error writes nothing."""
    ctx.require(*DESK_WRITERS)
    lender = _lender(ctx.settings)
    written: list[Path] = []
    try:
        with ctx.db.transaction() as s:
            letter, event = decide_letter(ctx, s, case_id, kind, channel)
            audit.record_many(s, [event])
            _render_into(ctx, s, letter, lender, written)
            return letter.id
    except BaseException:
        _remove(written)
        raise
