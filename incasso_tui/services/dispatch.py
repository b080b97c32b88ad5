"""A letter's life after it is rendered (issue 12): print batches, dispatch, e-mail consent, what waits for what.

decided (``pending``) -> rendered -> **dispatched** (``sent``: a post letter when the print batch it is in is
confirmed as handed to the post, on the date the desk gives; an e-mail when the SMTP server accepted it,
``services.outbox``) -> assumed received (``received_on``: the ``fourteen_day_receipt_delivery_days``-th delivery day
after the dispatch). Failed, cancelled and never dispatched letters have no legal effect: the 14-day term
(``costs_from``), the BKR warning window and every other term count from ``dispatched_on`` only.

- :func:`make_batch` collects the rendered post letters that are in no batch into one PDF (``letters_dir/batches``)
  and an ``open`` batch; :func:`undo_batch` undoes an open one (the letters wait for the next batch);
  :func:`mark_posted` records the day they went into the post (not in the future, not before the batch was made)
  and dispatches every letter in it. Each is one transaction with its audit events.
- :func:`waiting_letters` says which letters wait for what (rendering, a batch, the post, the mail server).
- :func:`set_email_consent` records (or withdraws) the client's consent to receive legal notices by e-mail, with
  its date and source; without it a legal letter goes by post (:func:`legal_channel`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incasso_tui.config import Settings
from incasso_tui.domain.calendar import fourteen_day_term
from incasso_tui.domain.enums import Channel, LetterStatus, Role
from incasso_tui.errors import N_, BadInput, NotFound, RuleViolation
from incasso_tui.services import audit
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.store.models import Client, Letter, PrintBatch

__all__ = [
    "LEGAL_KINDS",
    "BatchReport",
    "WaitingLetter",
    "legal_channel",
    "make_batch",
    "mark_dispatched",
    "mark_posted",
    "set_email_consent",
    "undo_batch",
    "waiting_letters",
]

# letters with legal effect: never by WhatsApp or video; by e-mail only with the client's recorded consent
LEGAL_KINDS = frozenset({"fourteen_day", "bkr_warning", "default_notice", "call_in", "claim_statement"})
BATCH_ROLES = (*DESK_WRITERS, Role.ADMIN)
MAX_SOURCE = 200


def legal_channel(kind: str, email: str | None, consent_on: date | None, preferred: str | None = None) -> str:
    """The channel of a letter of ``kind``: a legal letter by e-mail only where the client has an address and
    consented to receive such notices by e-mail, otherwise by post; never by WhatsApp."""
    if kind in LEGAL_KINDS:
        return Channel.EMAIL.value if email and consent_on is not None else Channel.LETTER.value
    return preferred or Channel.LETTER.value


def mark_dispatched(
    s: Session, settings: Settings, letter: Letter, day: date, now: datetime, actor: str, how: str
) -> None:
    """Record that ``letter`` left on ``day`` (post: handed to the post; e-mail: accepted by the SMTP server) and set
    the dates that follow from it: the assumed receipt, and for the 14-day letter the first day costs may be
    charged. Audited as ``letter.dispatched`` in the caller's transaction."""
    term = fourteen_day_term(day, settings.fourteen_day_receipt_delivery_days)
    before = {"status": letter.status}
    letter.status, letter.dispatched_on, letter.sent_at = LetterStatus.SENT, day, now
    letter.received_on = term.assumed_receipt
    letter.costs_from = term.costs_from if letter.kind == "fourteen_day" else None
    from incasso_tui.services.portal import letter_dispatched

    letter_dispatched(s, letter.id, letter.client_id, now, actor)  # the portal code it prints works from now on
    audit.record(
        s,
        at=now,
        actor=actor,
        action="letter.dispatched",
        entity="letter",
        entity_id=letter.id,
        case_id=letter.case_id,
        before=before,
        after={
            "status": "sent",
            "dispatched_on": day,
            "how": how,
            "received_on": letter.received_on,
            "costs_from": letter.costs_from,
        },
    )


# ----- print batches


@dataclass(frozen=True)
class BatchReport:
    batch_id: int | None
    letters: int
    file_path: str | None
    missing: tuple[int, ...] = ()  # rendered letters whose PDF is gone: not in the batch, see their error


def _batch_path(settings: Settings, batch_id: int, day: date) -> Path:
    return settings.letters_dir / "batches" / f"batch-{batch_id:06d}-{day.isoformat()}.pdf"


def make_batch(ctx: Context) -> BatchReport:
    """Collect every rendered post letter that is in no batch into one PDF to print, in letter order."""
    from pypdf import PdfReader, PdfWriter

    from incasso_tui.atomicfile import atomic_write

    ctx.require(*BATCH_ROLES)
    today, now = ctx.clock.today(), ctx.clock.now()
    with ctx.db.transaction() as s:
        letters = list(
            s.scalars(
                select(Letter)
                .where(
                    Letter.status == LetterStatus.RENDERED,
                    Letter.channel == Channel.LETTER.value,
                    Letter.batch_id.is_(None),
                )
                .order_by(Letter.id)
                .with_for_update()
            )
        )
        writer = PdfWriter()
        kept: list[Letter] = []
        missing: list[int] = []
        for letter in letters:
            try:
                content = Path(letter.file_path or "").read_bytes()
                for page in PdfReader(io.BytesIO(content)).pages:
                    writer.add_page(page)
            except (OSError, ValueError) as exc:
                letter.error = f"Not in a print batch: its PDF {letter.file_path} cannot be read ({exc})"[:2000]
                missing.append(letter.id)
                continue
            kept.append(letter)
        if not kept:
            return BatchReport(None, 0, None, tuple(missing))
        batch = PrintBatch(
            status="open", made_on=today, file_path="", letters=len(kept), created_by=ctx.actor.name, created_at=now
        )
        s.add(batch)
        s.flush()
        path = _batch_path(ctx.settings, batch.id, today)
        out = io.BytesIO()
        writer.write(out)
        atomic_write(path, out.getvalue(), make_folder=True)
        batch.file_path = str(path)
        for letter in kept:
            letter.batch_id = batch.id
        try:
            audit.record(
                s,
                at=now,
                actor=ctx.actor.name,
                action="print_batch.made",
                entity="print_batch",
                entity_id=batch.id,
                case_id=None,
                before=None,
                after={"letters": [letter.id for letter in kept], "file_path": str(path), "not_included": missing},
            )
            s.flush()
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return BatchReport(batch.id, len(kept), str(path), tuple(missing))


def _open_batch(s: Session, batch_id: int) -> PrintBatch:
    batch = s.scalar(select(PrintBatch).where(PrintBatch.id == batch_id).with_for_update())
    if batch is None:
        raise NotFound(N_("There is no print batch {batch}"), batch=batch_id)
    if batch.status != "open":
        raise RuleViolation(N_("Print batch {batch} is {status} already"), batch=batch_id, status=batch.status)
    return batch


def mark_posted(ctx: Context, batch_id: int, day: date) -> int:
    """The desk confirms that the letters of the batch went into the post on ``day``: each is dispatched on that day.
    Refused for a day in the future or before the batch was made. Returns the number of letters dispatched."""
    ctx.require(*BATCH_ROLES)
    today, now = ctx.clock.today(), ctx.clock.now()
    if day > today:
        raise BadInput(N_("The posting date {day} is in the future"), field="date", day=day)
    with ctx.db.transaction() as s:
        batch = _open_batch(s, batch_id)
        if day < batch.made_on:
            raise BadInput(
                N_("The posting date {day} is before the batch was made ({made})"),
                field="date",
                day=day,
                made=batch.made_on,
            )
        letters = list(
            s.scalars(
                select(Letter)
                .where(Letter.batch_id == batch.id, Letter.status == LetterStatus.RENDERED)
                .order_by(Letter.id)
                .with_for_update()
            )
        )
        batch.status, batch.posted_on, batch.posted_by = "posted", day, ctx.actor.name
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="print_batch.posted",
            entity="print_batch",
            entity_id=batch.id,
            case_id=None,
            before={"status": "open"},
            after={"status": "posted", "posted_on": day, "letters": [letter.id for letter in letters]},
        )
        for letter in letters:
            mark_dispatched(s, ctx.settings, letter, day, now, ctx.actor.name, f"post, print batch {batch.id}")
        return len(letters)


def undo_batch(ctx: Context, batch_id: int) -> int:
    """Undo a batch that was not posted: its letters wait for the next batch again; its PDF is removed."""
    ctx.require(*BATCH_ROLES)
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        batch = _open_batch(s, batch_id)
        letters = list(s.scalars(select(Letter).where(Letter.batch_id == batch.id).with_for_update()))
        for letter in letters:
            letter.batch_id = None
        batch.status = "undone"
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="print_batch.undone",
            entity="print_batch",
            entity_id=batch.id,
            case_id=None,
            before={"status": "open"},
            after={"status": "undone", "letters": [letter.id for letter in letters]},
        )
        s.flush()
        path = Path(batch.file_path)
    path.unlink(missing_ok=True)
    return len(letters)


@dataclass(frozen=True)
class BatchRow:
    id: int
    status: str
    made_on: date
    letters: int
    posted_on: date | None
    file_path: str


def batches(ctx: Context, limit: int = 50) -> list[BatchRow]:
    """The newest print batches first."""
    with ctx.db.reader() as s:
        return [
            BatchRow(b.id, b.status, b.made_on, b.letters, b.posted_on, b.file_path)
            for b in s.scalars(select(PrintBatch).order_by(PrintBatch.id.desc()).limit(limit))
        ]


# ----- what waits for what


@dataclass(frozen=True)
class WaitingLetter:
    letter_id: int
    case_id: int
    client_number: str
    kind: str
    channel: str
    letter_date: date
    waits_for: str  # rendering | batch | post | mail_server | nothing (not dispatchable: see error)
    batch_id: int | None
    error: str | None


def _waits_for(letter: Letter) -> str:
    if letter.status == "pending":
        return "rendering"
    if letter.channel == Channel.LETTER.value:
        return "post" if letter.batch_id is not None else "batch"
    if letter.channel == Channel.EMAIL.value:
        return "mail_server"
    return "nothing"


def waiting_letters(ctx: Context, case_id: int | None = None) -> list[WaitingLetter]:
    """The letters not yet dispatched (pending or rendered), oldest first, and what each waits for."""
    with ctx.db.reader() as s:
        query = (
            select(Letter, Client.number)
            .join(Client, Client.id == Letter.client_id)
            .where(Letter.status.in_((LetterStatus.PENDING, LetterStatus.RENDERED)))
            .order_by(Letter.id)
        )
        if case_id is not None:
            query = query.where(Letter.case_id == case_id)
        return [
            WaitingLetter(
                letter.id,
                letter.case_id,
                number,
                letter.kind,
                letter.channel,
                letter.letter_date,
                _waits_for(letter),
                letter.batch_id,
                letter.error,
            )
            for letter, number in s.execute(query)
        ]


def waiting_counts(ctx: Context) -> dict[str, int]:
    with ctx.db.reader() as s:
        rows = s.execute(
            select(Letter.status, Letter.channel, Letter.batch_id.is_(None), func.count())
            .where(Letter.status.in_((LetterStatus.PENDING, LetterStatus.RENDERED)))
            .group_by(Letter.status, Letter.channel, Letter.batch_id.is_(None))
        )
        counts = dict.fromkeys(("rendering", "batch", "post", "mail_server", "nothing"), 0)
        for status, channel, unbatched, n in rows:
            probe = Letter(status=status, channel=channel, batch_id=None if unbatched else 1)
            counts[_waits_for(probe)] += n
        return counts


# ----- e-mail consent


def set_email_consent(ctx: Context, client_id: int, given_on: date | None, source: str = "") -> None:
    """Record the client's consent to receive legal notices by e-mail (``given_on`` and how it was given), or
    withdraw it (``given_on`` None). A date in the future, or a consent without its source, is refused."""
    ctx.require(*DESK_WRITERS)
    source = source.strip()
    if given_on is not None:
        if given_on > ctx.clock.today():
            raise BadInput(N_("The consent date {day} is in the future"), field="date", day=given_on)
        if not source:
            raise BadInput(
                N_("Say how the consent was given (a signed form, an e-mail of the client, ...)"), field="source"
            )
        if len(source) > MAX_SOURCE or any(not c.isprintable() for c in source):
            raise BadInput(
                N_("The source of the consent must be printable text of at most {max} characters"),
                field="source",
                max=MAX_SOURCE,
            )
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        client = s.get(Client, client_id)
        if client is None:
            raise NotFound(N_("There is no client {client}"), client=client_id)
        if given_on is not None and not client.email:
            raise RuleViolation(N_("{name} has no e-mail address"), field="source", name=client.name)
        before = {"email_consent_on": client.email_consent_on, "email_consent_source": client.email_consent_source}
        client.email_consent_on = given_on
        client.email_consent_source = source if given_on is not None else None
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action="client.email_consent" if given_on else "client.email_consent_withdrawn",
            entity="client",
            entity_id=client.id,
            case_id=None,
            before=before,
            after={"email_consent_on": given_on, "email_consent_source": client.email_consent_source},
        )
