"""Sending what the desk decided to send: e-mail through SMTP from the transactional outbox, and the channel
adapters (e-mail, WhatsApp, video call). See docs/letters.md."""
