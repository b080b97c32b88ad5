"""Channel adapters: one per way of reaching a client, behind one Protocol.

A service decides *what* goes out (a letter, its figures, its PDF) and hands an :class:`Outgoing` to the adapter
of the letter's channel. The adapter either transmits it or says plainly that it cannot:

- ``email``: :class:`EmailAdapter` transmits through SMTP (:mod:`incasso_tui.mail.smtp`). Services never call it
  directly: they queue an ``email_outbox`` row in their own transaction and ``send_due`` (``services.outbox``)
  hands the due rows to this adapter later, with retries (the transactional outbox).
- ``whatsapp``: :class:`WhatsAppAdapter`. No WhatsApp Business API is reachable from this installation, so the
  adapter is *not configured*: ``send`` raises :class:`ChannelNotConfigured` and sends nothing. The service
  records that on the letter and in the audit trail, so the desk sees the client still has to be reached.
  A real adapter (a provider's HTTP API) would implement the same ``send`` and get its own outbox rows.
- ``video``: :class:`VideoCallAdapter`. A video call is made by a person; there is no API to place one. It is
  not configured either; the call and its outcome are logged as a contact (``c`` on client detail).
- ``letter``: post. The PDF lands in the print outbox (``letters_dir``); printing and posting are done by hand,
  so there is no adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from incasso_tui.config import Settings
from incasso_tui.errors import N_, ConfigError, RuleViolation

__all__ = [
    "ChannelAdapter",
    "ChannelNotConfigured",
    "EmailAdapter",
    "Outgoing",
    "SendResult",
    "VideoCallAdapter",
    "WhatsAppAdapter",
    "adapter_for",
]


@dataclass(frozen=True)
class Outgoing:
    """One message to one client: ``to`` is an e-mail address or a phone number, as the channel needs."""

    to: str
    subject: str
    body: str
    attachment: Path | None = None


@dataclass(frozen=True)
class SendResult:
    """A message accepted by the channel; ``message_id`` is the channel's own id for it."""

    message_id: str


class ChannelNotConfigured(RuleViolation):
    """The channel has no working connection in this installation: nothing was sent."""


class ChannelAdapter(Protocol):
    channel: str

    def send(self, message: Outgoing) -> SendResult:
        """Transmit ``message`` or raise: :class:`ChannelNotConfigured`, or the channel's own delivery error."""
        ...


class WhatsAppAdapter:
    channel = "whatsapp"

    def send(self, message: Outgoing) -> SendResult:
        raise ChannelNotConfigured(
            N_("WhatsApp is not configured: nothing was sent to {to}; reach the client by phone, e-mail or post"),
            to=message.to,
        )


class VideoCallAdapter:
    channel = "video"

    def send(self, message: Outgoing) -> SendResult:
        raise ChannelNotConfigured(
            N_(
                "Video calls are not configured: nothing was sent to {to}; make the call yourself and log it as a contact"
            ),
            to=message.to,
        )


class EmailAdapter:
    channel = "email"

    def __init__(self, settings: Settings) -> None:
        from incasso_tui.mail.smtp import SmtpSender

        self._sender = SmtpSender.from_settings(settings)

    def send(self, message: Outgoing) -> SendResult:
        return SendResult(self._sender.send(message))


def adapter_for(channel: str, settings: Settings) -> ChannelAdapter:
    """The adapter of ``channel`` (email, whatsapp, video); post has none (see the module text)."""
    if channel == "email":
        return EmailAdapter(settings)
    if channel == "whatsapp":
        return WhatsAppAdapter()
    if channel == "video":
        return VideoCallAdapter()
    raise ConfigError(N_("There is no channel adapter for {channel}"), channel=channel)
