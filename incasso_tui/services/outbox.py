"""``send_due``: send the queued e-mails of the transactional outbox, with retries and backoff, through the
transport of ``incasso_tui.mail`` (SMTP, channel adapters).

Each due row is handled in two short transactions around the network call, so no database lock is held while
talking to the mail server:

1. claim: ``attempts + 1`` and ``next_attempt_at`` moved to the next retry time (a lease: a crash after this
   point means the row is simply tried again at that time);
2. result: sent (``message_id``, ``sent_at``; the letter is dispatched: ``sent``, ``dispatched_on`` the day the SMTP
   server accepted it, and the assumed receipt and 14-day term from that day, ``services.dispatch``), or the
   error is recorded; after
   ``mail_max_attempts`` temporary failures, or at once on a permanent (5xx) failure, the row is ``dead`` and its
   letter ``failed`` with the reason. Each result writes an audit event in the same transaction.

Delivery is at least once: a crash between the server accepting a message and step 2 sends it again later.
The retry delay is ``mail_retry_base_seconds * 2 ** (attempts - 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from incasso_tui.domain.enums import EmailStatus, Role
from incasso_tui.mail.channels import ChannelAdapter, EmailAdapter, Outgoing
from incasso_tui.mail.smtp import MailFailure, PermanentFailure
from incasso_tui.services import audit
from incasso_tui.services.context import DESK_WRITERS, Context
from incasso_tui.services.dispatch import mark_dispatched
from incasso_tui.store.models import EmailOutbox, Letter

__all__ = ["SendReport", "retry_delay", "send_due"]

_MAX_ERROR = 2000


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)  # (outbox id, error) of this run


def retry_delay(attempts: int, base_seconds: int) -> timedelta:
    """The wait before the next try after ``attempts`` tries (1, 2, 4, 8, ... times the base)."""
    return timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0))


def _claim(ctx: Context, outbox_id: int, now: datetime) -> Outgoing | None:
    with ctx.db.transaction() as s:
        row = s.scalar(
            select(EmailOutbox)
            .where(
                EmailOutbox.id == outbox_id,
                EmailOutbox.status == EmailStatus.QUEUED,
                EmailOutbox.next_attempt_at <= now,
            )
            .with_for_update()
        )
        if row is None:  # sent or claimed by another sender meanwhile
            return None
        row.attempts += 1
        row.next_attempt_at = now + retry_delay(row.attempts, ctx.settings.mail_retry_base_seconds)
        attachment = Path(row.attachment_path) if row.attachment_path else None
        return Outgoing(to=row.to_address, subject=row.subject, body=row.body, attachment=attachment)


def _record(ctx: Context, outbox_id: int, message_id: str | None, failure: MailFailure | None) -> str:
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        row = s.get(EmailOutbox, outbox_id)
        assert row is not None
        letter = s.get(Letter, row.letter_id) if row.letter_id is not None else None
        before = {"status": row.status, "attempts": row.attempts - 1}
        if failure is None:
            row.status, row.sent_at, row.message_id, row.last_error = "sent", now, message_id, None
            if letter is not None and letter.status == "rendered":
                mark_dispatched(s, ctx.settings, letter, now.date(), now, ctx.actor.name, f"e-mail {message_id}")
            action = "email.sent"
        else:
            row.last_error = str(failure)[:_MAX_ERROR]
            if isinstance(failure, PermanentFailure) or row.attempts >= ctx.settings.mail_max_attempts:
                row.status = "dead"
                if letter is not None:
                    letter.status = "failed"
                    letter.error = (
                        f"E-mail to {row.to_address} not delivered after {row.attempts} attempt(s): {row.last_error}"
                    )
                action = "email.dead"
            else:
                action = "email.retry"
        audit.record(
            s,
            at=now,
            actor=ctx.actor.name,
            action=action,
            entity="email_outbox",
            entity_id=row.id,
            case_id=letter.case_id if letter is not None else None,
            before=before,
            after={
                "status": row.status,
                "attempts": row.attempts,
                "message_id": row.message_id,
                "next_attempt_at": row.next_attempt_at if row.status == "queued" else None,
                "error": row.last_error,
                "letter_id": row.letter_id,
            },
        )
        return row.status


def send_due(ctx: Context, limit: int | None = None, *, adapter: ChannelAdapter | None = None) -> SendReport:
    """Send the queued e-mails whose ``next_attempt_at`` has come (oldest first, at most ``limit``)."""
    ctx.require(*DESK_WRITERS, Role.ADMIN)
    now = ctx.clock.now()
    with ctx.db.reader() as s:
        query = (
            select(EmailOutbox.id)
            .where(EmailOutbox.status == EmailStatus.QUEUED, EmailOutbox.next_attempt_at <= now)
            .order_by(EmailOutbox.next_attempt_at, EmailOutbox.id)
        )
        ids = list(s.scalars(query.limit(limit) if limit is not None else query))
    report = SendReport()
    if not ids:
        return report
    channel = adapter or EmailAdapter(ctx.settings)  # a missing SMTP setting stops here, before any claim
    for outbox_id in ids:
        outgoing = _claim(ctx, outbox_id, now)
        if outgoing is None:
            continue
        try:
            message_id, failure = channel.send(outgoing).message_id, None
        except MailFailure as exc:
            message_id, failure = None, exc
        status = _record(ctx, outbox_id, message_id, failure)
        if status == "sent":
            report.sent += 1
        elif status == "dead":
            report.dead += 1
        else:
            report.retrying += 1
        if failure is not None:
            report.failures.append((outbox_id, str(failure)))
    return report
