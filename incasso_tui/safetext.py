"""The one safe-text module: data reaches a terminal, a spreadsheet, a letter or a mail header only as text.

Whatever a client name, a note or a bank description holds, it is shown or written as the characters it is, and
never as an instruction to whatever reads it:

- :func:`safe` for a screen and a terminal (the TUI, every CLI print-out): C0 controls (ESC, BEL, CR, LF, ...)
  become their Unicode control pictures (ESC -> ``␛``), DEL ``␡``, C1 controls (``\\x9b`` is CSI, ``\\x9d`` OSC on
  an 8-bit terminal) and the bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069, and the
  marks U+200E, U+200F, U+061C) and the line and paragraph separators U+2028/2029 become a visible ``<U+XXXX>``.
  So an OSC 52 sequence in a name cannot write the clipboard, an OSC 0 cannot set the window title, and
  "<U+202E>RTL exe.fdp" does not show as "pdf.exe LTR". Markup is a matter of the widget: ``ui.text.lit`` and
  friends show the result of :func:`safe` as literal text (Rich and Textual markup never interpreted).
- :func:`letter_text` for letters and PDFs: controls and bidi controls are removed (a letter shows no marks);
  line breaks and tabs are kept.
- :func:`csv_cell` for every text cell of a CSV export: :func:`safe`, and a cell that starts with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, so that a spreadsheet does not run it as a
  formula (OWASP "CSV injection").
- :func:`header_value` and :func:`email_address` for mail: a header value holds no CR, LF or other control
  character; an e-mail address is exactly one valid address (``a@b.nl, c@d.nl`` is refused), checked when it is
  stored and again when a mail is sent.

Nothing here imports Textual or SQLAlchemy: the CLI, the services, the letters, the mail and the UI all use it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final, TextIO

from incasso_tui.errors import N_, BadInput

# code points that change how the text around them is laid out or read: the bidirectional embeddings (LRE, RLE),
# pop (PDF), overrides (LRO, RLO), isolates (LRI, RLI, FSI, PDI), the marks (LRM, RLM, ALM) and the line and
# paragraph separators (which break a line where a terminal or a table row expects none)
BIDI: Final = frozenset({*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C, 0x2028, 0x2029})
C1: Final = frozenset(range(0x80, 0xA0))


def _mark(cp: int) -> str:
    return f"<U+{cp:04X}>"


_SCREEN: Final = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421"} | {c: _mark(c) for c in C1 | BIDI}
_LETTER: Final = {c: None for c in range(0x20) if c not in (0x09, 0x0A)} | {0x7F: None} | {c: None for c in C1 | BIDI}
_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")
# a command's output stream: what safe() changes, except the tab, line feed and carriage return that the command's
# own layout (columns, lines, CSV's \r\n) is made of; its data fields went through safe() already
_STREAM: Final = {c: v for c, v in _SCREEN.items() if c not in (0x09, 0x0A, 0x0D)}
_JSON: Final = {c: f"\\u{c:04x}" for c in C1 | BIDI | {0x7F}}


def safe(value: object) -> str:
    """``value`` as text for a screen or a terminal, every control and bidi control made visible and harmless."""
    return str(value).translate(_SCREEN)


def safe_or_empty(value: object | None) -> str:
    """:func:`safe`, with None as an empty string (optional fields in print-outs)."""
    return "" if value is None else safe(value)


def letter_text(value: object) -> str:
    """``value`` for a letter: controls and bidi controls removed, line breaks and tabs kept."""
    return str(value).translate(_LETTER)


def csv_cell(value: object | None) -> str:
    """A text cell of a CSV export: shown as on screen, and never a formula for a spreadsheet."""
    if value is None:
        return ""
    raw = str(value)
    shown = raw.translate(_SCREEN)
    return "'" + shown if raw.startswith(_FORMULA) else shown


def safe_json(value: Any, **kw: Any) -> str:
    """``json.dumps`` whose output a terminal shows as text: JSON escapes C0 controls itself; DEL, C1 controls and
    bidi controls are escaped too (``\\u202e``), so a script still reads the data exactly."""
    return json.dumps(value, ensure_ascii=False, **kw).translate(_JSON)


class SafeStream:
    """A text stream (a command's standard output) that lets no control or bidi character of data through.

    The safety net under every CLI print-out: whatever a command prints, an ESC, a BEL, a C1 control or U+202E
    reaches the terminal as its visible picture. Everything else is the wrapped stream's.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(text.translate(_STREAM))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def has_controls(value: str) -> bool:
    """Whether ``value`` holds a character that :func:`safe` would change."""
    return any(ord(ch) in _SCREEN for ch in value)


def header_value(value: str, *, name: str = "header") -> str:
    """``value`` for a mail header; one holding CR, LF or another control character is refused (header injection)."""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ord(ch) in C1 or ord(ch) in BIDI for ch in value):
        raise BadInput(
            N_("The mail header {name} holds a line break or a control character: {value}"),
            name=name,
            value=safe(value),
        )
    return value


# one addr-spec (RFC 5322 dot-atom local part, a domain of DNS labels with a dot): no display name, no comments,
# no list, no quoted local part, no white space
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
_ADDRESS: Final = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")


def is_email_address(value: str | None) -> bool:
    """Whether ``value`` is exactly one valid e-mail address (see :func:`email_address`)."""
    if not value:
        return False
    try:
        email_address(value)
    except BadInput:
        return False
    return True


def email_address(value: str, *, field: str | None = "email") -> str:
    """``value`` as exactly one valid e-mail address (surrounding blanks dropped), or a refusal naming it."""
    text = value.strip()
    domain = text.rpartition("@")[2]
    if not _ADDRESS.fullmatch(text) or len(text) > 254 or len(text.partition("@")[0]) > 64 or domain[-1:].isdigit():
        raise BadInput(N_("Not one valid e-mail address: {value}"), field=field, value=safe(value))
    return text
