"""Outside collection (issue 19): the parties' kinds, the claim's states and transitions, the status reports, and
the parties' status-report CSV (docs/external-collection.md), parsed line by line without a database.

A claim handed to a party moves through ``CLAIM_TRANSITIONS`` only:

    proposed --approve--> at_party --final report or recall--> ended
    proposed --reject---> rejected

The case keeps its own status (``cases.status``) and is held by the open claim: the daily run takes no automatic
step on it and posts no costs (``services.external.outside_desk_hold``), and the desk's letters by hand are
refused while it is at the party.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from incasso_tui.errors import N_, BadFile

PARTY_KINDS = ("bailiff", "lawyer", "agency")
CLAIM_STATES = ("proposed", "rejected", "at_party", "ended")
OPEN_STATES = ("proposed", "at_party")
CLAIM_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("at_party", "rejected"),
    "at_party": ("ended",),
    "rejected": (),
    "ended": (),
}
REPORT_STATUSES = ("paid", "arrangement", "judgment", "uncollectable", "returned")
# a report of one of these ends the claim's stay at the party: it comes back to us with that outcome
FINAL_REPORTS = ("paid", "uncollectable", "returned")
OUTCOMES = (*FINAL_REPORTS, "recalled")

CSV_HEADER = ("claim", "loan", "status", "date", "amount", "costs", "note")
MAX_CSV_BYTES = 2_000_000
MAX_NOTE = 300


def can_move(state: str, target: str) -> bool:
    """Whether a claim in ``state`` may move to ``target`` (the only transitions there are)."""
    return target in CLAIM_TRANSITIONS.get(state, ())


def needs_wki_registration(kind: str, consumer: bool) -> bool:
    """A collection agency collecting a consumer's claim must be registered in the Wki register (Justis)."""
    return kind == "agency" and consumer


@dataclass(frozen=True)
class StatusLine:
    """One line of a party's status-report file: ``claim`` is our claim number (``external_claims.id``),
    ``loan`` the loan number as the dossier gave it (checked against the claim)."""

    line: int
    claim: int
    loan: str
    status: str
    day: date
    amount: Decimal
    costs: Decimal
    note: str


def _amount(text: str, line: int, column: str) -> Decimal:
    text = text.strip()
    if not text:
        return Decimal("0.00")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadFile(
            N_("Line {line}: {column} is not an amount: {text}"),
            where=f"line {line}",
            line=line,
            column=column,
            text=text,
        ) from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise BadFile(
            N_("Line {line}: {column} is not an amount: {text}"),
            where=f"line {line}",
            line=line,
            column=column,
            text=text,
        )
    return value.quantize(Decimal("0.01"))


def parse_status_csv(raw: bytes) -> list[StatusLine]:
    """The lines of a status-report file (UTF-8, comma-separated, the header ``CSV_HEADER``). The first wrong line
    is named and nothing is returned: the caller books all lines or none."""
    if len(raw) > MAX_CSV_BYTES:
        raise BadFile(N_("The file is larger than {limit} bytes"), where="file", limit=MAX_CSV_BYTES)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile(N_("The file is not UTF-8 text"), where="file") from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or tuple(c.strip().lower() for c in rows[0]) != CSV_HEADER:
        raise BadFile(N_("Line 1: the header must be {header}"), where="line 1", header=",".join(CSV_HEADER))
    lines: list[StatusLine] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_HEADER):
            raise BadFile(
                N_("Line {line}: {count} columns, expected {expected}"),
                where=f"line {number}",
                line=number,
                count=len(row),
                expected=len(CSV_HEADER),
            )
        claim, loan, status, day, amount, costs, note = (cell.strip() for cell in row)
        if not claim.isdigit():
            raise BadFile(
                N_("Line {line}: claim is not a claim number: {text}"), where=f"line {number}", line=number, text=claim
            )
        if status not in REPORT_STATUSES:
            raise BadFile(
                N_("Line {line}: unknown status {text} (known: {known})"),
                where=f"line {number}",
                line=number,
                text=status,
                known=", ".join(REPORT_STATUSES),
            )
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise BadFile(
                N_("Line {line}: date is not a date (YYYY-MM-DD): {text}"),
                where=f"line {number}",
                line=number,
                text=day,
            ) from None
        if len(note) > MAX_NOTE:
            raise BadFile(
                N_("Line {line}: the note is longer than {limit} characters"),
                where=f"line {number}",
                line=number,
                limit=MAX_NOTE,
            )
        lines.append(
            StatusLine(
                number,
                int(claim),
                loan,
                status,
                when,
                _amount(amount, number, "amount"),
                _amount(costs, number, "costs"),
                note,
            )
        )
    if not lines:
        raise BadFile(N_("The file has no status lines"), where="file")
    return lines


__all__ = [
    "CLAIM_STATES",
    "CLAIM_TRANSITIONS",
    "CSV_HEADER",
    "FINAL_REPORTS",
    "OPEN_STATES",
    "OUTCOMES",
    "PARTY_KINDS",
    "REPORT_STATUSES",
    "StatusLine",
    "can_move",
    "needs_wki_registration",
    "parse_status_csv",
]
