"""Recognise a bank statement file by its content (never by its name) and parse it."""

from __future__ import annotations

import re

from incasso_tui.bank.camt import parse_camt_statements
from incasso_tui.bank.model import MAX_BYTES, Statement, refuse_too_big
from incasso_tui.bank.mt940 import parse_mt940
from incasso_tui.errors import N_, BadFile

__all__ = ["parse_statement_file"]

_SNIFF = 64 * 1024
_CAMT_NAMESPACE = b"urn:iso:std:iso:20022:tech:xsd:camt."
_MT940_START = re.compile(rb"^(?:\{1:|:940:|[A-Z]{6}[A-Z0-9]{2}\r?\n940\r?\n)")
_MT940_FIELD = re.compile(rb"^:(?:20|25|28C|60F):", re.MULTILINE)


def parse_statement_file(data: bytes, name: str = "", *, max_bytes: int = MAX_BYTES) -> list[Statement]:
    """Parse a CAMT.053/054 or MT940 file into its statements; refuse any other file.

    ``name`` (the file name) is only used in the message when the file is not a statement.
    """
    refuse_too_big(data, max_bytes)
    head = data[:_SNIFF].removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<") and _CAMT_NAMESPACE in head:
        return parse_camt_statements(data, max_bytes=max_bytes)
    if _MT940_START.match(head) or _MT940_FIELD.search(head):
        return parse_mt940(data, max_bytes=max_bytes)
    raise BadFile(N_("Not a bank statement: {name}"), where="line 1", name=name or "(no name)")
