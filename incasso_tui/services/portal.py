"""The client's portal (issue 21): personal links with a one-time code, logins, sessions, and what a client may see
and do, each on the same services as the desk.

Access
- :func:`issue_link` (the desk, ``incasso portal code``) makes a personal link for a client: a random token in the
  URL and a one-time code for the letter, both stored only as hashes (the token as SHA-256, it has 128 bits; the
  code as salted scrypt). It revokes the client's older links. The code expires after ``portal_code_days``.
- :func:`login` checks the link, the code and what the client knows (a natural person's date of birth, a business's
  KvK number). Every refusal is the same :class:`LoginRefused` with one message, and costs one scrypt whether the
  link exists or not, so nothing tells an outsider whether a link, a code or a client exists. Wrong confirmations
  count on the link: ``portal_max_failures`` of them lock it for ``portal_lock_minutes``. A successful login uses
  the code up (one-time) and opens a session: a random cookie token (stored as SHA-256) with its CSRF token, that
  ends ``portal_session_minutes`` after the last request and at most ``portal_session_max_minutes`` after login.
  (Per-address limiting is the web layer's: ``incasso_tui.portal.app``.)

What the client does
- acts as the :func:`client_actor`: audit actor ``client:<number>`` (a distinct kind of actor, beside the desk's
  user names and ``cli:<login>``), given the desk employee's rights for exactly the calls below, so that every
  rule of the desk applies unchanged: :func:`propose_arrangement` registers through
  ``services.arrangements.create_arrangement`` (desk limits, capacity) and turns a proposal those rules refuse into
  a request task on the desk's inbox; the budget goes through ``services.budget.set_budget`` as ``source="client"``
  (self-declared); a call-back through ``services.tasks``; the e-mail consent through ``services.dispatch``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from incasso_tui.domain.enums import ArrangementStatus, CaseStatus, Frequency, LetterStatus, Role
from incasso_tui.domain.money import ZERO
from incasso_tui.errors import N_, BadInput, IncassoError, NotFound, RuleViolation
from incasso_tui.safetext import email_address
from incasso_tui.services import audit
from incasso_tui.services.arrangements import ArrangementInput, case_arrears, create_arrangement
from incasso_tui.services.cases import ClientDetail, client_detail
from incasso_tui.services.context import DESK_WRITERS, Actor, Context
from incasso_tui.services.inbox import add_task
from incasso_tui.store.models import (
    Arrangement,
    Case,
    Client,
    ExternalClaim,
    ExternalParty,
    Letter,
    Loan,
    PortalLink,
    PortalSession,
    Task,
)

__all__ = [
    "CLOSED_TO_ARRANGEMENTS",
    "Claim",
    "IssuedLink",
    "LoginRefused",
    "PortalSessionInfo",
    "ProposalOutcome",
    "client_actor",
    "claim",
    "set_birth_date",
    "end_session",
    "issue_link",
    "letter_pdf",
    "login",
    "propose_arrangement",
    "request_callback",
    "session",
    "set_contact",
]

# the code on the letter: 10 characters without look-alikes (0/O, 1/I/L), about 49 bits; printed as XXXXX-XXXXX
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 10
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_DUMMY_SALT = bytes(16)  # the scrypt of a login whose link does not exist: the same work, never a match
# cases the client sees but cannot make an arrangement on: whom to contact instead
CLOSED_TO_ARRANGEMENTS = (CaseStatus.HANDED_OVER.value, CaseStatus.INSOLVENCY.value, CaseStatus.CLOSED.value)
MAX_NOTE = 500
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,18}[0-9]$")


class LoginRefused(IncassoError):
    """The one answer to every failed login: it says nothing about what was wrong."""

    def __init__(self) -> None:
        super().__init__(
            N_(
                "This combination of link, code and confirmation is not valid (or the link is locked "
                "for a while). Check the letter, or call us."
            )
        )


@dataclass(frozen=True)
class IssuedLink:
    link_id: int
    client_number: str
    url: str
    code: str  # shown once, to print on the letter: only its hash is kept
    expires_at: datetime
    confirm_with: str  # what the client types besides the code: birth_date | kvk


@dataclass(frozen=True)
class PortalSessionInfo:
    client_id: int
    link_id: int
    csrf: str
    ends_at: datetime


@dataclass(frozen=True)
class Contact:
    """Whom a client of a case the portal cannot settle talks to."""

    who: str  # special_management | external | insolvency | closed
    name: str
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class LetterRow:
    id: int
    kind: str
    letter_date: date
    dispatched_on: date | None


@dataclass(frozen=True)
class Claim:
    detail: ClientDetail
    letters: tuple[LetterRow, ...]
    may_arrange: bool
    contact: Contact | None  # set when the client cannot make an arrangement here
    next_installment: tuple[date, Decimal] | None  # of the running arrangement


@dataclass(frozen=True)
class ProposalOutcome:
    registered: bool  # True: an arrangement (``arrangement_id``); False: a request task for the desk (``task_id``)
    arrangement_id: int | None
    task_id: int | None
    reason: IncassoError | None  # why it became a request


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _scrypt(code: str, salt: bytes) -> str:
    return hashlib.scrypt(_normal_code(code).encode(), salt=salt, **_SCRYPT).hex()


def _normal_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())[:32]


def _printed(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def client_actor(client_number: str, client_name: str, language: str) -> Actor:
    """The client acting in the portal: audit actor ``client:<number>``; the desk employee's rights, for the calls
    this module makes only (the portal exposes nothing else)."""
    return Actor(
        id=0,
        name=f"client:{client_number}",
        full_name=client_name,
        role=Role.EMPLOYEE,
        language=language,
        identified_by="portal",
    )


def _open_case(s: Session, client_id: int) -> Case | None:
    """The client's case: the newest one that is not closed, else the newest."""
    cases = list(s.scalars(select(Case).where(Case.client_id == client_id).order_by(Case.id.desc())))
    return next((c for c in cases if c.status != CaseStatus.CLOSED.value), cases[0] if cases else None)


# ----- links


def issue_link(ctx: Context, *, client_number: str | None = None, loan_number: str | None = None) -> IssuedLink:
    """A new personal link with its one-time code for a client (by number, or by one of its loans); the client's
    older links stop working."""
    ctx.require(*DESK_WRITERS)
    if (client_number is None) == (loan_number is None):
        raise BadInput(N_("Give a client or a loan"), field="client")
    now = ctx.clock.now()
    secret = new_code()  # the scrypt's work before the writing transaction (SQLite: one writer at a time)
    with ctx.db.transaction() as s:
        loan_id = None
        if loan_number is not None:
            loan = s.scalar(select(Loan).where(Loan.number == loan_number.strip().upper()))
            if loan is None:
                raise NotFound(N_("There is no loan {loan}"), field="loan", loan=loan_number)
            client = s.get(Client, loan.client_id)
            loan_id = loan.id
        else:
            assert client_number is not None
            client = s.scalar(select(Client).where(Client.number == client_number.strip().upper()))
        if client is None:
            raise NotFound(N_("There is no client {client}"), field="client", client=client_number)
        return _issue(ctx, s, client, now, secret, loan_id=loan_id)


def _refusal(s: Session, client: Client) -> tuple[RuleViolation | None, Case | None]:
    """Why no link can be issued to ``client`` (None: it can), and the client's open case."""
    if client.kind == "natural" and client.birth_date is None:
        return RuleViolation(
            N_("{name} has no date of birth recorded: the portal cannot confirm the login"),
            field="client",
            name=client.name,
        ), None
    if client.kind != "natural" and not client.kvk:
        return RuleViolation(
            N_("{name} has no KvK number recorded: the portal cannot confirm the login"),
            field="client",
            name=client.name,
        ), None
    case = _open_case(s, client.id)
    if case is None:
        return RuleViolation(
            N_("{name} has no case: there is nothing to show in the portal"), field="client", name=client.name
        ), None
    return None, case


@dataclass(frozen=True)
class NewCode:
    """A one-time code with its salt and scrypt hash, made before the transaction that stores it (``new_code``)."""

    code: str
    salt: bytes
    hash: str


def new_code() -> NewCode:
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    salt = secrets.token_bytes(16)
    return NewCode(code, salt, _scrypt(code, salt))


def _revoke_others(s: Session, client_id: int, keep: int | None, now: datetime) -> int:
    """The client's live links other than ``keep`` stop working; how many did."""
    query = update(PortalLink).where(PortalLink.client_id == client_id, PortalLink.revoked_at.is_(None))
    if keep is not None:
        query = query.where(PortalLink.id != keep)
    return cast(CursorResult[Any], s.execute(query.values(revoked_at=now))).rowcount


def _issue(
    ctx: Context,
    s: Session,
    client: Client,
    now: datetime,
    secret: NewCode,
    *,
    loan_id: int | None = None,
    letter_id: int | None = None,
) -> IssuedLink:
    """A new link with the code ``secret`` for ``client`` in the transaction ``s``. Issued by hand (``letter_id``
    None), it works at once and the client's older links stop working; printed on a letter, it works only from
    the letter's dispatch, and the older links stop working then (``letter_dispatched``): a letter that is never
    sent changes nothing. The client's row is locked first, so two issues for one client come one after the other."""
    s.execute(select(Client.id).where(Client.id == client.id).with_for_update())
    refusal, case = _refusal(s, client)
    if refusal is not None:
        raise refusal
    assert case is not None
    revoked = _revoke_others(s, client.id, None, now) if letter_id is None else 0
    token = secrets.token_urlsafe(16)
    expires = now + timedelta(days=ctx.settings.portal_code_days)
    link = PortalLink(
        client_id=client.id,
        loan_id=loan_id,
        letter_id=letter_id,
        token_hash=_sha(token),
        code_salt=secret.salt.hex(),
        code_hash=secret.hash,
        created_by=ctx.actor.name,
        created_at=now,
        expires_at=expires,
        failures=0,
    )
    s.add(link)
    s.flush()
    audit.record(
        s,
        at=now,
        actor=ctx.actor.name,
        action="portal.link",
        entity="portal_link",
        entity_id=link.id,
        case_id=case.id,
        after={"client": client.number, "expires_at": expires, "revoked": revoked, "letter_id": letter_id},
    )
    url = f"{ctx.settings.portal_base_url.rstrip('/')}/l/{token}"
    return IssuedLink(
        link.id, client.number, url, _printed(secret.code), expires, "birth_date" if client.kind == "natural" else "kvk"
    )


def link_for_letter(ctx: Context, s: Session, client: Client, letter_id: int, secret: NewCode) -> IssuedLink | None:
    """The personal link and code the letter ``letter_id`` to ``client`` prints, stored in the letter's own
    transaction with ``secret`` (made before it); it works from the letter's dispatch. None when the client cannot
    log in (no date of birth or KvK number, no open case)."""
    if _refusal(s, client)[0] is not None:
        return None
    return _issue(ctx, s, client, ctx.clock.now(), secret, letter_id=letter_id)


def letter_dispatched(s: Session, letter_id: int, client_id: int, now: datetime, actor: str) -> None:
    """The letter went out (``services.dispatch.mark_dispatched``): the link it prints now works, and the client's
    other live links stop working (the newest letter's code is the one that works); audited when any did."""
    link_id = s.scalar(select(PortalLink.id).where(PortalLink.letter_id == letter_id, PortalLink.revoked_at.is_(None)))
    if link_id is None:
        return
    revoked = _revoke_others(s, client_id, link_id, now)
    if revoked:
        audit.record(
            s,
            at=now,
            actor=actor,
            action="portal.links_revoked",
            entity="portal_link",
            entity_id=link_id,
            after={"letter_id": letter_id, "revoked": revoked},
        )


def link_opened(ctx: Context, token: str) -> None:
    """The first time a link's page is opened (the campaign measurement counts link opens): recorded once per link,
    with its audit event; an unknown or dead link changes nothing, and the page looks the same either way. One
    conditional update, so two opens at the same moment record one."""
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        link = s.execute(
            update(PortalLink)
            .where(
                PortalLink.token_hash == _sha(token), PortalLink.opened_at.is_(None), PortalLink.revoked_at.is_(None)
            )
            .values(opened_at=now)
            .returning(PortalLink.id, PortalLink.client_id)
        ).first()
        if link is None:
            return
        case = _open_case(s, link.client_id)
        audit.record(
            s,
            at=now,
            actor="portal",
            action="portal.link_opened",
            entity="portal_link",
            entity_id=link.id,
            case_id=case.id if case else None,
            after={"opened_at": now},
        )


def set_birth_date(ctx: Context, client_number: str, day: date) -> None:
    """Record a natural person's date of birth (what confirms their portal login), audited."""
    ctx.require(*DESK_WRITERS)
    today = ctx.clock.today()
    if not date(today.year - 120, 1, 1) <= day <= date(today.year - 16, today.month, min(today.day, 28)):
        raise BadInput(N_("{day} is not a plausible date of birth for a client"), field="birth_date", day=day)
    with ctx.db.transaction() as s:
        client = s.scalar(select(Client).where(Client.number == client_number.strip().upper()))
        if client is None:
            raise NotFound(N_("There is no client {client}"), field="client", client=client_number)
        if client.kind != "natural":
            raise RuleViolation(
                N_("{name} is a business: its portal login is confirmed with the KvK number"),
                field="client",
                name=client.name,
            )
        case = _open_case(s, client.id)
        before = {"birth_date": client.birth_date}
        client.birth_date = day
        audit.record(
            s,
            at=ctx.clock.now(),
            actor=ctx.actor.name,
            action="client.birth_date",
            entity="client",
            entity_id=client.id,
            case_id=case.id if case else None,
            before=before,
            after={"birth_date": day},
        )


def _knows(client: Client, secret: str) -> bool:
    """Whether ``secret`` is the client's date of birth (a person: DD-MM-YYYY or YYYY-MM-DD) or KvK number."""
    if client.kind == "natural":
        given = parse_birth_date(secret)
        return (
            given is not None
            and client.birth_date is not None
            and hmac.compare_digest(given.isoformat(), client.birth_date.isoformat())
        )
    digits = "".join(c for c in secret if c.isdigit())
    return bool(client.kvk) and hmac.compare_digest(digits.encode(), (client.kvk or "").encode())


def parse_birth_date(text: str) -> date | None:
    text = text.strip()
    for pattern in (r"(\d{1,2})[-./ ](\d{1,2})[-./ ](\d{4})", r"(\d{4})-(\d{1,2})-(\d{1,2})"):
        m = re.fullmatch(pattern, text)
        if m:
            a, b, c = (int(x) for x in m.groups())
            day, month, year = (a, b, c) if len(m.group(3)) == 4 else (c, b, a)
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


def login(ctx: Context, token: str, code: str, secret: str) -> tuple[str, PortalSessionInfo]:
    """Open a session for the link ``token`` given its ``code`` and what the client knows; returns the session's
    cookie token and its info. Every refusal is :class:`LoginRefused`. The scrypt runs outside the writing
    transaction (it would hold SQLite's write lock for its whole time); the link's state is checked again, locked,
    in that transaction, so that a code is used once even by two logins at the same moment."""
    token, code, secret = token[:64], code[:64], secret[:64]
    with ctx.db.reader() as s:
        salt_hex = s.scalar(select(PortalLink.code_salt).where(PortalLink.token_hash == _sha(token)))
    computed = _scrypt(code, bytes.fromhex(salt_hex) if salt_hex else _DUMMY_SALT)  # always the same work
    if salt_hex is None:
        raise LoginRefused()
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        link = s.scalar(select(PortalLink).where(PortalLink.token_hash == _sha(token)).with_for_update())
        if link is None:
            raise LoginRefused()
        client = s.get(Client, link.client_id)
        assert client is not None
        case = _open_case(s, client.id)
        # a code printed on a letter works from the letter's dispatch, not from its rendering (a fact, not a decision)
        sent = link.letter_id is None or s.scalar(select(Letter.status).where(Letter.id == link.letter_id)) == (
            LetterStatus.SENT
        )
        usable = (
            sent
            and link.revoked_at is None
            and link.used_at is None
            and link.expires_at > now
            and (link.locked_until is None or link.locked_until <= now)
        )
        right = hmac.compare_digest(computed, link.code_hash) & _knows(client, secret)
        if not usable or not right:
            if usable:  # a wrong try on a live link counts; a dead link stays dead
                link.failures += 1
                if link.failures >= ctx.settings.portal_max_failures:
                    link.locked_until = now + timedelta(minutes=ctx.settings.portal_lock_minutes)
                    link.failures = 0
            audit.record(
                s,
                at=now,
                actor="portal",
                action="portal.login_refused",
                entity="portal_link",
                entity_id=link.id,
                case_id=case.id if case else None,
                after={"reason": "wrong" if usable else "unusable", "locked_until": link.locked_until},
            )
            s.commit()  # the count survives the refusal
            raise LoginRefused()
        link.used_at = now
        link.failures = 0
        cookie = secrets.token_urlsafe(32)
        ends = now + timedelta(minutes=ctx.settings.portal_session_max_minutes)
        row = PortalSession(
            token_hash=_sha(cookie),
            link_id=link.id,
            client_id=client.id,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            last_seen=now,
            ends_at=ends,
        )
        s.add(row)
        s.flush()
        audit.record(
            s,
            at=now,
            actor=f"client:{client.number}",
            action="portal.login",
            entity="portal_session",
            entity_id=row.id,
            case_id=case.id if case else None,
            after={"link": link.id},
        )
        return cookie, PortalSessionInfo(client.id, link.id, row.csrf, ends)


def refuse_blind(code: str) -> None:
    """The work of a login that is refused before the database is asked (the address limit): one scrypt."""
    _scrypt(code[:64], _DUMMY_SALT)


def session(ctx: Context, cookie: str) -> PortalSessionInfo | None:
    """The live session of ``cookie`` (and its idle clock restarted), or None when there is none any more."""
    if not cookie or len(cookie) > 64:
        return None
    now = ctx.clock.now()
    idle = timedelta(minutes=ctx.settings.portal_session_minutes)
    with ctx.db.reader() as s:
        row = s.scalar(select(PortalSession).where(PortalSession.token_hash == _sha(cookie)))
        if row is None or row.ended_at is not None or row.ends_at <= now or row.last_seen + idle <= now:
            return None
        info = PortalSessionInfo(row.client_id, row.link_id, row.csrf, row.ends_at)
        fresh = row.last_seen + timedelta(seconds=30) > now
    if not fresh:  # one write a half minute at most
        with ctx.db.transaction() as s:
            s.execute(update(PortalSession).where(PortalSession.token_hash == _sha(cookie)).values(last_seen=now))
    return info


def end_session(ctx: Context, cookie: str) -> None:
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        row = s.scalar(select(PortalSession).where(PortalSession.token_hash == _sha(cookie)))
        if row is None or row.ended_at is not None:
            return
        row.ended_at = now
        client = s.get(Client, row.client_id)
        assert client is not None
        case = _open_case(s, client.id)
        audit.record(
            s,
            at=now,
            actor=f"client:{client.number}",
            action="portal.logout",
            entity="portal_session",
            entity_id=row.id,
            case_id=case.id if case else None,
        )


def context_for(ctx: Context, client_id: int) -> Context:
    """The service context of the client acting (see :func:`client_actor`)."""
    with ctx.db.reader() as s:
        client = s.get(Client, client_id)
        if client is None:
            raise NotFound(N_("There is no client {client}"), client=client_id)
        return Context(
            db=ctx.db,
            actor=client_actor(client.number, client.name, client.language),
            clock=ctx.clock,
            settings=ctx.settings,
        )


# ----- what the client sees


def _contact(ctx: Context, s: Session, case: Case) -> Contact | None:
    lender = ctx.settings.lender_name or ""
    if case.status == CaseStatus.HANDED_OVER.value:
        party = s.scalar(
            select(ExternalParty)
            .join(ExternalClaim, ExternalClaim.party_id == ExternalParty.id)
            .where(ExternalClaim.case_id == case.id, ExternalClaim.status == "at_party")
        )
        if party is not None:
            return Contact("external", party.name, party.phone, party.email)
        return Contact("special_management", lender, ctx.settings.lender_phone, ctx.settings.lender_email)
    if case.status == CaseStatus.INSOLVENCY.value:
        return Contact("insolvency", lender, ctx.settings.lender_phone, ctx.settings.lender_email)
    if case.status == CaseStatus.CLOSED.value:
        return Contact("closed", lender, ctx.settings.lender_phone, ctx.settings.lender_email)
    party = s.scalar(
        select(ExternalParty)
        .join(ExternalClaim, ExternalClaim.party_id == ExternalParty.id)
        .where(ExternalClaim.case_id == case.id, ExternalClaim.status == "at_party")
    )
    if party is not None:
        return Contact("external", party.name, party.phone, party.email)
    return None


def claim(ctx: Context, client_id: int) -> Claim:
    """The client's claim as the desk's client detail reads it (``services.cases.client_detail``), the letters
    that left, whether the client may make an arrangement here and whom to contact when not."""
    with ctx.db.reader() as s:
        case = _open_case(s, client_id)
        if case is None:
            raise NotFound(N_("There is nothing to show"))
        contact = _contact(ctx, s, case)
        letters = tuple(
            LetterRow(letter.id, letter.kind, letter.letter_date, letter.dispatched_on)
            for letter in s.scalars(
                select(Letter)
                .where(Letter.client_id == client_id, Letter.dispatched_on.is_not(None), Letter.file_path.is_not(None))
                .order_by(Letter.letter_date.desc(), Letter.id.desc())
            )
        )
        case_id = case.id
    detail = client_detail(ctx, case_id)
    active = detail.active_arrangement
    next_line = None
    if active is not None:
        due = [(d, amount - paid) for _seq, d, amount, paid in active.lines if paid < amount]
        next_line = due[0] if due else None
    with ctx.db.reader() as s:
        case = s.get(Case, case_id)
        assert case is not None
        may = _arrangement_refusal(ctx, s, case) is None
    return Claim(detail, letters, may, contact, next_line)


def _arrangement_refusal(ctx: Context, s: Session, case: Case) -> RuleViolation | None:
    """Why the client cannot make an arrangement here whatever its terms (None: the terms decide)."""
    if _contact(ctx, s, case) is not None:
        return RuleViolation(N_("An arrangement on this claim is made with the party named on this page"))
    if case.status in (CaseStatus.DEFERRAL.value, CaseStatus.PAUSED.value):
        return RuleViolation(N_("A deferral or pause is running on your case: please call us about an arrangement"))
    if (
        s.scalar(
            select(Arrangement.id).where(
                Arrangement.case_id == case.id, Arrangement.status == ArrangementStatus.ACTIVE.value
            )
        )
        is not None
    ):
        return RuleViolation(N_("You already have an arrangement running"))
    if case_arrears(s, case, ctx.clock.today()) <= ZERO:
        return RuleViolation(N_("Nothing is past due: there is nothing to arrange"))
    return None


def letter_pdf(ctx: Context, client_id: int, letter_id: int) -> tuple[str, bytes]:
    """A dispatched letter of this client as (file name, PDF); any other letter is NotFound (the same answer)."""
    with ctx.db.reader() as s:
        letter = s.get(Letter, letter_id)
        if letter is None or letter.client_id != client_id or letter.dispatched_on is None or not letter.file_path:
            raise NotFound(N_("There is no such letter"))
        path = Path(letter.file_path)
        name = f"{letter.kind}-{letter.letter_date.isoformat()}.pdf"
    try:
        pdf = path.read_bytes()
    except OSError:
        raise NotFound(N_("There is no such letter")) from None
    with ctx.db.transaction() as s:  # that the client fetched it: part of the dossier
        letter = s.get(Letter, letter_id)
        client = s.get(Client, client_id)
        assert letter is not None and client is not None
        audit.record(
            s,
            at=ctx.clock.now(),
            actor=f"client:{client.number}",
            action="portal.letter",
            entity="letter",
            entity_id=letter.id,
            case_id=letter.case_id,
            after={"kind": letter.kind},
        )
    return name, pdf


# ----- what the client does


def propose_arrangement(ctx: Context, client_id: int, given: ArrangementInput) -> ProposalOutcome:
    """Register the client's arrangement as the desk would (``create_arrangement``: the desk limits and the
    client's capacity apply); a proposal those rules refuse becomes a request task on the desk's inbox."""
    cctx = context_for(ctx, client_id)
    with ctx.db.reader() as s:
        case = _open_case(s, client_id)
        if case is None:
            raise NotFound(N_("There is nothing to show"))
        refusal = _arrangement_refusal(ctx, s, case)
        if refusal is not None:
            raise refusal
        case_id, version = case.id, case.version
    try:  # past the checks above, what create_arrangement refuses is the terms: the limits or the capacity
        arrangement_id = create_arrangement(cctx, case_id, version, given)
        return ProposalOutcome(True, arrangement_id, None, None)
    except RuleViolation as refused:
        reason = refused
    now = cctx.clock.now()
    terms = {
        "down_payment": given.down_payment,
        "first_date": given.first_date,
        "frequency": given.frequency.value,
        "count": given.count,
        "installment": given.installment,
        "reason": reason.english(),
    }
    with ctx.db.transaction() as s:
        case = s.get(Case, case_id)
        assert case is not None
        if (
            s.scalar(
                select(Task.id).where(Task.case_id == case_id, Task.kind == "portal_request", Task.status == "open")
            )
            is not None
        ):
            raise RuleViolation(N_("Your earlier proposal is still with us: we will answer it first"))
        count = f"{given.count} x" if given.count else f"{given.installment} /"
        title = f"Voorstel regeling via portaal: {given.down_payment} aanbetaling, {count} {given.frequency.value}"
        task = add_task(cctx, s, case_id, "portal_request", title[:200], cctx.clock.today(), case.assignee_id)
        audit.record(
            s,
            at=now,
            actor=cctx.actor.name,
            action="portal.arrangement_request",
            entity="task",
            entity_id=task.id,
            case_id=case_id,
            after=terms,
        )
        return ProposalOutcome(False, None, task.id, reason)


def set_contact(ctx: Context, client_id: int, *, phone: str, email: str, consent: bool) -> None:
    """The client corrects their phone number and e-mail address and gives or withdraws consent to notices by
    e-mail (one transaction, audited as the client). Every refusal names its field."""
    phone, email = phone.strip(), email.strip()
    if phone and not _PHONE.fullmatch(phone):
        raise BadInput(N_("A phone number has 7 to 20 digits (spaces, dashes and a leading + allowed)"), field="phone")
    if email:
        try:
            email = email_address(email)
        except (ValueError, IncassoError):
            raise BadInput(N_("This is not an e-mail address"), field="email") from None
    if consent and not email:
        raise BadInput(N_("Consent to notices by e-mail needs an e-mail address"), field="consent")
    cctx = context_for(ctx, client_id)
    now, today = cctx.clock.now(), cctx.clock.today()
    with ctx.db.transaction() as s:
        client = s.get(Client, client_id)
        assert client is not None
        case = _open_case(s, client_id)
        before = {"phone": client.phone, "email": client.email, "email_consent_on": client.email_consent_on}
        changed_address = (client.email or "") != email
        client.phone = phone or None
        client.email = email or None
        if consent and (client.email_consent_on is None or changed_address):
            client.email_consent_on, client.email_consent_source = today, "portaal (door de klant zelf)"
        elif not consent:
            client.email_consent_on, client.email_consent_source = None, None
        audit.record(
            s,
            at=now,
            actor=cctx.actor.name,
            action="portal.contact",
            entity="client",
            entity_id=client.id,
            case_id=case.id if case else None,
            before=before,
            after={"phone": client.phone, "email": client.email, "email_consent_on": client.email_consent_on},
        )


def request_callback(ctx: Context, client_id: int, *, day: date | None, note: str) -> int:
    """A call task for the desk: the client asks to be called back on ``day`` (today or later, within 30 days)."""
    from incasso_tui.services.tasks import CallTaskInput, create_call_task

    today = ctx.clock.today()
    if day is None:
        raise BadInput(N_("When may we call? Please give a date"), field="day")
    if day < today:
        raise BadInput(N_("The date may not be in the past"), field="day")
    if day > today + timedelta(days=30):
        raise BadInput(N_("Choose a date within 30 days"), field="day")
    note = note.strip()
    if any(not c.isprintable() for c in note):
        raise BadInput(N_("Only text on one line, please"), field="note")
    if len(note) > 150:
        raise BadInput(
            N_("At most {maximum} characters, this is {length}"), field="note", maximum=150, length=len(note)
        )
    cctx = context_for(ctx, client_id)
    with ctx.db.reader() as s:
        case = _open_case(s, client_id)
        if case is None:
            raise NotFound(N_("There is nothing to show"))
        case_id = case.id
    text = f"Klant vraagt om terugbellen (portaal){': ' + note if note else ''}"
    return create_call_task(cctx, case_id, CallTaskInput(due_date=day, note=text[:200]))


def frequency(value: str) -> Frequency:
    try:
        return Frequency(value)
    except ValueError:
        raise BadInput(N_("Choose how often"), field="frequency") from None
