"""Readable titles of dossier documents (issue 13): "Bevestiging betalingsregeling, 01-12-2026, per e-mail".

A document's title is stored text, like the next actions the desk writes, in the desk's language (Dutch); the
screens show it as it is. A kind or channel without a name here is shown by its code (never dropped).
"""

from __future__ import annotations

from datetime import date

__all__ = ["letter_title"]

LETTER_NAMES = {
    "reminder": "Herinnering",
    "demand": "Aanmaning",
    "fourteen_day": "Veertiendagenbrief",
    "bkr_warning": "BKR-waarschuwing",
    "default_notice": "Ingebrekestelling",
    "arrangement_confirmation": "Bevestiging betalingsregeling",
    "claim_statement": "Vorderingsoverzicht",
    "call_in": "Opeisingsbrief",
    "contact_request": "Verzoek om contact",
}
CHANNEL_NAMES = {"letter": "per post", "email": "per e-mail", "whatsapp": "per WhatsApp"}


def letter_title(kind: str, day: date, channel: str) -> str:
    return f"{LETTER_NAMES.get(kind, kind)}, {day.strftime('%d-%m-%Y')}, {CHANNEL_NAMES.get(channel, channel)}"
