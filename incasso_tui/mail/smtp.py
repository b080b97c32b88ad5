"""An SMTP sender (smtplib): one connection per message, STARTTLS when the setting asks for it, login when a
user is set. The password is a ``SecretStr``: it is handed to ``login`` and nowhere else (never logged, never in
an error text; smtplib's debug output stays off).

Failures are sorted for the outbox (:mod:`incasso_tui.services.outbox`):

- :class:`TemporaryFailure`: worth another try later: a 4xx reply, the server unreachable (connection refused,
  timeout, dropped connection);
- :class:`PermanentFailure`: this message will never go: a 5xx reply to the sender, a recipient or the data,
  an address that is not an address, an attachment that is gone;
- :class:`~incasso_tui.errors.ConfigError`: the installation is wrong (no host, login refused, STARTTLS not
  offered): no message is to blame, so the whole run stops and no attempt is counted.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from pydantic import SecretStr

from incasso_tui.config import Settings
from incasso_tui.errors import N_, BadInput, ConfigError
from incasso_tui.mail.channels import Outgoing
from incasso_tui.safetext import email_address, header_value, safe

__all__ = ["MailFailure", "PermanentFailure", "SmtpSender", "TemporaryFailure"]


class MailFailure(Exception):
    """A message was not accepted; ``str()`` says why (for ``email_outbox.last_error``)."""


class TemporaryFailure(MailFailure):
    pass


class PermanentFailure(MailFailure):
    pass


def _by_code(code: int, text: str) -> MailFailure:
    return (TemporaryFailure if 400 <= code < 500 else PermanentFailure)(f"{code} {text}".strip())


def _reply(exc: smtplib.SMTPResponseException) -> str:
    raw = exc.smtp_error
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    starttls: bool = True
    user: str | None = None
    password: SecretStr | None = None
    timeout: float = 30.0

    def __repr__(self) -> str:  # the dataclass repr would be safe too (SecretStr), but say so explicitly
        return f"SmtpSender({self.host}:{self.port}, starttls={self.starttls}, user={self.user!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender:
        missing = [name for name in ("smtp_host", "smtp_from") if not getattr(settings, name)]
        if settings.smtp_user and settings.smtp_password is None:
            missing.append("smtp_password")
        if missing:
            raise ConfigError(N_("E-mail is not configured: set {names}"), names=", ".join(missing))
        assert settings.smtp_host and settings.smtp_from
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            user=settings.smtp_user,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout_seconds,
        )

    def message(self, outgoing: Outgoing) -> EmailMessage:
        """The MIME message (text body, the PDF attached); a bad address or a missing file is permanent."""
        msg = EmailMessage()
        try:  # checked again when sent (safetext): one valid address, no line break in a header
            to = email_address(outgoing.to)
            subject = header_value(outgoing.subject, name="Subject")
        except BadInput as exc:
            raise PermanentFailure(f"not sent: {exc}") from None
        try:
            msg["From"] = self.sender
            msg["To"] = to
            msg["Subject"] = subject
        except (ValueError, IndexError) as exc:  # a header with a line break, an unparsable address
            raise PermanentFailure(f"bad header: {exc}") from None
        if len(msg["To"].addresses) != 1:
            raise PermanentFailure(f"not one e-mail address: {safe(outgoing.to)}")
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg.set_content(outgoing.body)
        if outgoing.attachment is not None:
            try:
                pdf = outgoing.attachment.read_bytes()
            except OSError as exc:
                raise PermanentFailure(f"the attachment {outgoing.attachment} cannot be read: {exc.strerror}") from None
            msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=outgoing.attachment.name)
        return msg

    def _login(self, smtp: smtplib.SMTP) -> None:
        """AUTH PLAIN when the server offers it (one exchange, one clear answer), else smtplib's own choice."""
        assert self.user is not None and self.password is not None
        if "plain" in smtp.esmtp_features.get("auth", "").lower().split():
            smtp.user, smtp.password = self.user, self.password.get_secret_value()
            try:
                smtp.auth("PLAIN", smtp.auth_plain)
            finally:
                smtp.password = ""  # do not keep the secret on the connection object
        else:
            smtp.login(self.user, self.password.get_secret_value())

    def send(self, outgoing: Outgoing) -> str:
        """Send one message; returns its Message-ID. Raises TemporaryFailure, PermanentFailure or ConfigError."""
        msg = self.message(outgoing)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.user:
                    self._login(smtp)
                refused = smtp.send_message(msg)
        except smtplib.SMTPNotSupportedError:
            raise ConfigError(
                N_(
                    "The mail server {host} does not offer STARTTLS; set smtp_starttls = false only for a "
                    "server on a trusted network"
                ),
                host=self.host,
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise ConfigError(
                N_("The mail server {host} refused the login of {user}: {reply}"),
                host=self.host,
                user=self.user or "",
                reply=f"{exc.smtp_code} {_reply(exc)}",
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            code, text = next(iter(exc.recipients.values()))
            temporary = all(400 <= c < 500 for c in codes)
            reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
            raise (TemporaryFailure if temporary else PermanentFailure)(f"recipient refused: {code} {reply}") from None
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, connect refused with a code
            raise _by_code(exc.smtp_code, _reply(exc)) from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:  # refused, timeout, dropped, DNS: try again later
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from None
        except smtplib.SMTPException as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from None
        if refused:  # some recipients refused while others were accepted: there is only one recipient
            raise PermanentFailure(f"recipient refused: {refused}")
        return str(msg["Message-ID"])
