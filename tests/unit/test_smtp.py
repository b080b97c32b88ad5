"""The SMTP sender and the e-mail outbox against a real SMTP server (aiosmtpd on 127.0.0.1, a free port)."""

from __future__ import annotations

import email
import logging
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from incasso_tui.errors import ConfigError
from incasso_tui.mail.channels import ChannelNotConfigured, Outgoing, WhatsAppAdapter, adapter_for
from incasso_tui.mail.smtp import PermanentFailure, SmtpSender, TemporaryFailure
from incasso_tui.services.outbox import retry_delay, send_due
from incasso_tui.store.models import AuditEvent, EmailOutbox, Letter
from tests.conftest import AS_OF, NOW

PASSWORD = "s3cret-Pa55word"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Handler:
    """Accepts mail; refuses the first ``temporary`` recipients with 451, or every one with 550 (``permanent``)."""

    def __init__(self, temporary: int = 0, permanent: bool = False) -> None:
        self.temporary = temporary
        self.permanent = permanent
        self.messages: list[Message] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if self.permanent:
            return "550 5.1.1 no such mailbox"
        if self.temporary > 0:
            self.temporary -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


def _authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"desk" and auth_data.password == PASSWORD.encode()
    assert mechanism == "PLAIN"
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Handler]]:
    handlers: list[Controller] = []

    def start(handler: Handler, **kwargs: object) -> Controller:
        controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), **kwargs)
        controller.start()
        handlers.append(controller)
        return controller

    yield start  # type: ignore[misc]
    for controller in handlers:
        controller.stop()


def _sender(port: int, **kwargs: object) -> SmtpSender:
    return SmtpSender(host="127.0.0.1", port=port, sender="incasso@lender.example", starttls=False, timeout=5, **kwargs)  # type: ignore[arg-type]


def _outgoing(tmp_path: Path, to: str = "klant@example.org") -> Outgoing:
    pdf = tmp_path / "00000001-reminder-C1234567.pdf"
    pdf.write_bytes(b"%PDF-1.7 test")
    return Outgoing(to=to, subject="Betalingsherinnering", body="Zie de bijlage.\n", attachment=pdf)


def test_a_message_is_delivered_with_its_pdf(smtp_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    handler = Handler()
    controller = smtp_server(handler)
    message_id = _sender(controller.port).send(_outgoing(tmp_path))
    [received] = handler.messages
    assert received["Message-ID"] == message_id and message_id.endswith("@lender.example>")
    assert received["To"] == "klant@example.org" and received["Subject"] == "Betalingsherinnering"
    [attachment] = [part for part in received.walk() if part.get_filename()]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.7 test"


def test_login_uses_the_password_and_never_logs_it(smtp_server, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    handler = Handler()
    controller = smtp_server(handler, authenticator=_authenticator, auth_require_tls=False)
    caplog.set_level(logging.DEBUG)
    from pydantic import SecretStr

    _sender(controller.port, user="desk", password=SecretStr(PASSWORD)).send(_outgoing(tmp_path))
    assert len(handler.messages) == 1
    wrong = _sender(controller.port, user="desk", password=SecretStr("wrong-" + PASSWORD))
    with pytest.raises(ConfigError, match="refused the login of desk") as refused:
        wrong.send(_outgoing(tmp_path))
    assert PASSWORD not in str(refused.value) and PASSWORD not in repr(wrong)
    assert all(PASSWORD not in record.getMessage() for record in caplog.records)


def test_failures_are_sorted_into_temporary_and_permanent(smtp_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    temporary = smtp_server(Handler(temporary=1))
    with pytest.raises(TemporaryFailure, match="451"):
        _sender(temporary.port).send(_outgoing(tmp_path))
    permanent = smtp_server(Handler(permanent=True))
    with pytest.raises(PermanentFailure, match="550"):
        _sender(permanent.port).send(_outgoing(tmp_path))
    with pytest.raises(TemporaryFailure, match="ConnectionRefused"):
        _sender(_free_port()).send(_outgoing(tmp_path))
    with pytest.raises(PermanentFailure, match="bad header|not an e-mail address|Not one valid e-mail address"):
        _sender(permanent.port).send(_outgoing(tmp_path, to="klant@example.org\r\nBcc: x@evil.example"))


def test_whatsapp_is_not_configured_and_sends_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ChannelNotConfigured, match="WhatsApp is not configured: nothing was sent to 0612345678"):
        WhatsAppAdapter().send(Outgoing(to="0612345678", subject="", body=""))
    with pytest.raises(ConfigError, match="set smtp_host, smtp_from"):
        from incasso_tui.config import Settings

        adapter_for("email", Settings())


# ----- the outbox


def _queue(ctx, tmp_path: Path, n: int = 1) -> list[int]:  # type: ignore[no-untyped-def]
    from incasso_tui.store.models import Case

    attachment = _outgoing(tmp_path).attachment
    with ctx.db.transaction() as s:
        case = s.scalars(select(Case).order_by(Case.id)).first()
        ids = []
        for _ in range(n):
            letter = Letter(
                case_id=case.id,
                client_id=case.client_id,
                kind="reminder",
                channel="email",
                language="nl",
                letter_date=AS_OF,
                figures="{}",
                status="rendered",
                file_path=str(attachment),
                created_by="demo",
                created_at=NOW,
            )
            s.add(letter)
            s.flush()
            row = EmailOutbox(
                letter_id=letter.id,
                to_address="klant@example.org",
                subject="Herinnering",
                body="Zie bijlage.\n",
                attachment_path=str(attachment),
                status="queued",
                attempts=0,
                next_attempt_at=NOW,
                created_at=NOW,
            )
            s.add(row)
            s.flush()
            ids.append(row.id)
    return ids


def _rows(ctx, ids):  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return [
            (row, s.get(Letter, row.letter_id))
            for row in s.scalars(select(EmailOutbox).where(EmailOutbox.id.in_(ids)).order_by(EmailOutbox.id))
        ]


def _mail_ctx(ctx_for, port: int, **settings):  # type: ignore[no-untyped-def]
    return ctx_for(
        "demo",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="incasso@lender.example",
        smtp_starttls=False,
        smtp_timeout_seconds=5,
        **settings,
    )


def test_the_outbox_retries_with_backoff_until_the_server_accepts(smtp_server, ctx_for, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    handler = Handler(temporary=2)
    controller = smtp_server(handler)
    ctx = _mail_ctx(ctx_for, controller.port, mail_retry_base_seconds=60)
    [outbox_id] = _queue(ctx, tmp_path)

    first = send_due(ctx)
    [(row, letter)] = _rows(ctx, [outbox_id])
    assert (first.sent, first.retrying, first.dead) == (0, 1, 0)
    assert row.status == "queued" and row.attempts == 1 and "451" in row.last_error
    assert row.next_attempt_at == NOW + timedelta(seconds=60)
    assert send_due(ctx).retrying == 0 and _rows(ctx, [outbox_id])[0][0].attempts == 1, "not due yet: untouched"

    clock.advance(seconds=60)
    assert send_due(ctx).retrying == 1
    [(row, _letter)] = _rows(ctx, [outbox_id])
    assert row.attempts == 2 and row.next_attempt_at == clock.now() + timedelta(seconds=120)

    clock.advance(seconds=120)
    third = send_due(ctx)
    [(row, letter)] = _rows(ctx, [outbox_id])
    assert (third.sent, third.retrying) == (1, 0)
    assert row.status == "sent" and row.attempts == 3 and row.sent_at == clock.now() and row.last_error is None
    assert row.message_id == handler.messages[0]["Message-ID"]
    assert letter.status == "sent" and letter.sent_at == clock.now()
    with ctx.db.reader() as s:
        actions = list(
            s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity == "email_outbox", AuditEvent.entity_id == outbox_id)
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["email.retry", "email.retry", "email.sent"]


def test_a_permanent_failure_or_too_many_attempts_is_dead(smtp_server, ctx_for, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    refusing = smtp_server(Handler(permanent=True))
    ctx = _mail_ctx(ctx_for, refusing.port)
    [dead_at_once] = _queue(ctx, tmp_path)
    assert send_due(ctx).dead == 1
    [(row, letter)] = _rows(ctx, [dead_at_once])
    assert row.status == "dead" and row.attempts == 1 and "550" in row.last_error
    assert letter.status == "failed" and "not delivered after 1 attempt" in letter.error

    unreachable = _mail_ctx(ctx_for, _free_port(), mail_max_attempts=2, mail_retry_base_seconds=10)
    [gives_up] = _queue(unreachable, tmp_path)
    assert send_due(unreachable, limit=5).retrying == 1
    clock.advance(seconds=10)
    assert send_due(unreachable).dead == 1
    [(row, _letter)] = _rows(unreachable, [gives_up])
    assert row.status == "dead" and row.attempts == 2 and "ConnectionRefused" in row.last_error


def test_retry_delay_doubles() -> None:
    assert [retry_delay(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
