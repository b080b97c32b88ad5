"""MT940 customer statements as Dutch banks and payment providers send them (ING, Rabobank ``.swi``,
SNS/de Volksbank, ABN AMRO, Mollie).

Fields read: ``:20:`` (starts a statement), ``:25:`` account, ``:28C:`` number, ``:60F:``/``:60M:``
opening balance, ``:61:`` entry, ``:86:`` its details, ``:62F:``/``:62M:`` closing balance. Other fields
(``:21:``, ``:64:``, ``:65:``, an ``:86:`` after the closing balance, ...) are skipped. SWIFT blocks
(``{1:...}{2:...}{4:`` ... ``-}``) and Rabobank's ``:940:`` first line are understood.

Banks wrap long fields at 65 characters, anywhere, even inside a word or a reference (ING, Mollie),
or pad lines with spaces (SNS). So the lines of ``:86:`` are joined without a separator and white
space is collapsed afterwards. ``:86:`` is structured when it starts with a known ``/CODE/``:
``/EREF/``, ``/REMI/`` (ING: ``/REMI/USTD//text/`` or ``/REMI/STRD/CUR/reference/``), ``/NAME/``,
``/IBAN/``, ``/CNTP/iban/bic/name/city/``, ``/RTRN/``, ...; otherwise it is free text (SNS).

A statement must balance: opening balance plus the entries equals the closing balance, which catches
a file cut short or an entry lost. The closing balance may only be missing when the bank closed the
SWIFT block (``-}``), as SNS does. Errors name the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from incasso_tui.bank.model import (
    ACCEPTED_CURRENCY,
    MAX_BYTES,
    BankEntry,
    DedupKeyer,
    EntryDraft,
    Statement,
    refuse_too_big,
)
from incasso_tui.domain.references import is_valid_iban, normalize_reference
from incasso_tui.errors import N_, BadFile

__all__ = ["parse_mt940"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FIELD = re.compile(r"^:([0-9]{2}[A-Z]?):(.*)$")
_BLOCK_1 = re.compile(r"\{1:F0[0-9]([A-Z0-9]{8})")
_BLOCK_2 = re.compile(r"\{2:[IO]([0-9]{3})")
_HEADER_LINE = re.compile(r"^(?:940|[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)$")
_BALANCE = re.compile(r"^([CD])([0-9]{6})([A-Z]{3})([0-9]{1,15},[0-9]*)$")
_ENTRY = re.compile(
    r"^(?P<value>[0-9]{6})(?P<booking>[0-9]{4})?(?P<mark>RC|RD|C|D)(?P<funds>[A-Z])?"
    r"(?P<amount>[0-9]{1,15},[0-9]*)(?P<type>[NSF][A-Z0-9]{3})"
)
_IBAN_SHAPE = re.compile(r"^([A-Z]{2}[0-9]{2}[A-Z0-9]+?)([A-Z]{3})?$")
_CODES = (
    "ACCW|ADDR|BENM|BIC|BUSP|CHGS|CNTP|CSID|EREF|EXCH|IBAN|IREF|ISDT|KREF|MARF|NAME|OCMT|ORDP|PREF|"
    "PURP|REMI|RTRN|RTYP|SUM|SWOC|TRTP|ULTB|ULTC|ULTD"
)
_CODE = re.compile(rf"/({_CODES})/")
_STRUCTURED = re.compile(rf"^\s*/({_CODES})/")
_BANKS = {"INGB": "ing", "RABO": "rabo", "SNSB": "sns", "ASNB": "sns", "RBRB": "sns", "ABNA": "abnamro"}
_CENT = Decimal("0.01")
_BANK_REF_MAX = 16


def parse_mt940(data: bytes, *, max_bytes: int = MAX_BYTES) -> list[Statement]:
    """Parse an MT940 file into its statements (one file often holds one per day)."""
    refuse_too_big(data, max_bytes)
    return _Mt940Reader().read(_decode(data))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _ends_message(lines: list[str], number: int) -> bool:
    """True if the line "-" at (1-based) ``number`` ends a message; in ING's wrapped ``:86:`` it does
    not: there it is a hyphen of the text, and the next line goes on with the text."""
    following = lines[number].strip() if number < len(lines) else ""
    return not following or following.startswith((":", "{")) or bool(_HEADER_LINE.match(following))


@dataclass
class _Field:
    tag: str
    line: int
    lines: list[str]

    @property
    def where(self) -> str:
        return f"line {self.line} (:{self.tag}:)"

    def joined(self) -> str:
        return "".join(self.lines)


@dataclass
class _StatementFields:
    start: _Field
    bank_code: str | None  # from the SWIFT header, when there is one
    closed_by_bank: bool = False
    account: _Field | None = None
    number: _Field | None = None
    opening: _Field | None = None
    closing: _Field | None = None
    entries: list[tuple[_Field, _Field | None]] = field(default_factory=list)


class _Mt940Reader:
    def __init__(self) -> None:
        self._entry_count = 0
        self._rabo_header = False

    def read(self, text: str) -> list[Statement]:
        groups = self._group(self._fields(text))
        if not groups:
            raise BadFile(N_("{where}: the file holds no MT940 statement (no :20: field)"), where="line 1")
        return [self._statement(g) for g in groups]

    # -- lines to fields ---------------------------------------------------------------------------

    def _fields(self, text: str) -> list[_Field | str]:
        """The fields, with "BIC:xxxx" and "END" markers for SWIFT headers and block ends."""
        out: list[_Field | str] = []
        current: _Field | None = None
        lines = _LINE_BREAK.split(text)
        for number, line in enumerate(lines, start=1):
            if line.startswith("{"):
                current = None
                bic = _BLOCK_1.search(line)
                if bic:
                    out.append(f"BIC:{bic.group(1)}")
                kind = _BLOCK_2.search(line)
                if kind and kind.group(1) != "940":
                    raise BadFile(
                        N_("{where}: this is an MT{kind} message, not an MT940 statement"),
                        where=f"line {number}",
                        kind=kind.group(1),
                    )
                line = line.partition("{4:")[2]
                if not line.strip():
                    continue
            if line.startswith("-}") or (line.strip() == "-" and _ends_message(lines, number)):
                current = None
                out.append("END")
                continue
            if current is None and _HEADER_LINE.match(line.strip()):  # ABN AMRO: "ABNANL2A", "940"
                if line.strip() != "940":
                    out.append(f"BIC:{line.strip()}")
                continue
            if line.strip() == ":940:":  # Rabobank starts its files (and so each of several joined) with it
                current = None
                self._rabo_header = True
                continue
            match = _FIELD.match(line)
            if match:
                current = _Field(match.group(1), number, [match.group(2)])
                out.append(current)
            elif current is not None:
                current.lines.append(line)
            elif line.strip():
                raise BadFile(
                    N_(
                        "{where}: {text!r} is not part of an MT940 bank statement; "
                        "the file is not a valid MT940 statement"
                    ),
                    where=f"line {number}",
                    text=line.strip()[:40],
                )
        return out

    def _group(self, items: list[_Field | str]) -> list[_StatementFields]:
        groups: list[_StatementFields] = []
        bank_code: str | None = None
        group: _StatementFields | None = None
        for item in items:
            if isinstance(item, str):
                if item.startswith("BIC:"):
                    bank_code = item[4:8]
                elif group is not None:
                    group.closed_by_bank = True
                continue
            if item.tag == "20":
                group = _StatementFields(start=item, bank_code=bank_code)
                groups.append(group)
                continue
            if group is None:
                raise BadFile(N_("{where}: a field before the start of a statement (:20:)"), where=item.where)
            if item.tag == "25":
                group.account = item
            elif item.tag in ("28C", "28"):
                group.number = item
            elif item.tag in ("60F", "60M"):
                group.opening = item
            elif item.tag == "61":
                if group.opening is None or group.closing is not None:
                    raise BadFile(N_("{where}: an entry outside the opening and closing balance"), where=item.where)
                group.entries.append((item, None))
            elif item.tag == "86" and group.entries and group.closing is None:
                entry, details = group.entries[-1]
                if details is None:
                    group.entries[-1] = (entry, item)
            elif item.tag in ("62F", "62M"):
                group.closing = item
        return groups

    # -- statement ---------------------------------------------------------------------------------

    def _statement(self, g: _StatementFields) -> Statement:
        if g.account is None:
            raise BadFile(N_("{where}: the statement has no account (:25:)"), where=g.start.where)
        if g.opening is None:
            raise BadFile(N_("{where}: the statement has no opening balance (:60F:)"), where=g.start.where)
        if g.closing is None and not g.closed_by_bank:
            raise BadFile(
                N_("{where}: the statement has no closing balance (:62F:); the file seems cut short"),
                where=g.start.where,
            )
        iban = _account(g.account)
        opening = _balance(g.opening)
        drafts = [self._entry(iban, e, details) for e, details in g.entries]
        if g.closing is not None:
            closing = _balance(g.closing)
            moved = sum((d.amount if d.credit else -d.amount for d in drafts), Decimal("0.00"))
            if opening + moved != closing:
                raise BadFile(
                    N_(
                        "{where}: closing balance {closing} is not the opening balance {opening} plus "
                        "the entries ({moved}); the file is incomplete or damaged"
                    ),
                    where=g.closing.where,
                    closing=closing,
                    opening=opening,
                    moved=moved,
                )
        statement_id = g.start.joined().strip()
        if g.number is not None:
            statement_id += "/" + g.number.joined().strip()
        return Statement(
            format=self._format(g, iban),
            statement_id=statement_id,
            account_iban=iban,
            currency=ACCEPTED_CURRENCY,
            entries=_keyed(drafts),
        )

    def _format(self, g: _StatementFields, iban: str) -> str:
        if g.bank_code is not None:
            bank = _BANKS.get(g.bank_code)
        elif self._rabo_header:
            bank = "rabo"
        else:
            bank = _BANKS.get(iban[4:8])
        return f"mt940-{bank}" if bank else "mt940"

    # -- entry -------------------------------------------------------------------------------------

    def _entry(self, iban: str, f: _Field, details: _Field | None) -> EntryDraft:
        self._entry_count += 1
        text = f.joined()
        match = _ENTRY.match(text)
        if not match:
            raise BadFile(
                N_("{where}: {text!r} is not an MT940 entry (date, C or D, amount, type)"),
                where=f.where,
                text=text[:40],
            )
        value_date = _date(match.group("value"), f)
        booking = match.group("booking")
        booking_date = _booking_date(booking, value_date, f) if booking else value_date
        customer_ref, bank_ref, supplementary = _references(f.lines, match.end())
        info = _details(details) if details is not None else _Details()
        counterparty_iban = info.iban or next(
            (c for c in (customer_ref, supplementary) if c and is_valid_iban(c)), None
        )
        # Without a name in :86:, the supplementary details may hold it (SNS); codes such as ING's
        # "/TRCD/00100/" and an IBAN (Rabobank) are not a name.
        counterparty_name = info.name
        if (
            counterparty_name is None
            and supplementary
            and not supplementary.startswith("/")
            and not is_valid_iban(supplementary)
        ):
            counterparty_name = supplementary
        return EntryDraft(
            account_iban=iban,
            booking_date=booking_date,
            value_date=value_date,
            amount=_amount(match.group("amount"), f),
            # SWIFT MT940 :61: subfield 3: C credit, D debit, RC reversal of a credit (a debit), RD reversal of a
            # debit (a credit)
            credit=match.group("mark") in ("C", "RD"),
            currency=ACCEPTED_CURRENCY,
            counterparty_name=counterparty_name,
            counterparty_iban=normalize_reference(counterparty_iban) if counterparty_iban else None,
            remittance=info.remittance,
            creditor_reference=info.creditor_reference,
            end_to_end_id=info.end_to_end_id,
            bank_reference=bank_ref,
            reversal=match.group("mark").startswith("R"),
            return_reason=info.return_reason,
            entry_index=self._entry_count,
            tx_index=1,
        )


# -- values ------------------------------------------------------------------------------------------


def _amount(text: str, f: _Field) -> Decimal:
    whole, _, cents = text.partition(",")
    if len(cents) > 2:
        raise BadFile(
            N_("{where}: amount {value} has more than 2 decimals; euro amounts are in cents"),
            where=f.where,
            value=text,
        )
    return Decimal(f"{whole}.{cents or '0'}").quantize(_CENT)


def _check_currency(currency: str, f: _Field) -> None:
    if currency != ACCEPTED_CURRENCY:
        raise BadFile(N_("{where}: currency {currency}, only EUR is accepted"), where=f.where, currency=currency)


def _balance(f: _Field) -> Decimal:
    text = "".join(f.joined().split())
    match = _BALANCE.match(text)
    if not match:
        raise BadFile(
            N_("{where}: {text!r} is not a balance (C or D, date, currency, amount)"),
            where=f.where,
            text=text[:40],
        )
    sign, when, currency, amount = match.groups()
    _date(when, f)
    _check_currency(currency, f)
    value = _amount(amount, f)
    return value if sign == "C" else -value


def _account(f: _Field) -> str:
    text = normalize_reference(f.joined()).rpartition("/")[2]
    if is_valid_iban(text):
        return text
    if is_valid_iban(text[:-3]):
        _check_currency(text[-3:], f)
        return text[:-3]
    match = _IBAN_SHAPE.match(text)
    if not match:
        raise BadFile(N_("{where}: account {account!r} is not an IBAN"), where=f.where, account=text)
    if match.group(2):
        _check_currency(match.group(2), f)
    return match.group(1)


def _date(yymmdd: str, f: _Field) -> date:
    try:
        return date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        raise BadFile(N_("{where}: {value!r} is not a date (YYMMDD)"), where=f.where, value=yymmdd) from None


def _booking_date(mmdd: str, value_date: date, f: _Field) -> date:
    """The booking date has no year: take the one that puts it closest to the value date."""
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidates.append(date(year, int(mmdd[:2]), int(mmdd[2:])))
        except ValueError:
            continue
    if not candidates:
        raise BadFile(N_("{where}: {value!r} is not a date (MMDD)"), where=f.where, value=mmdd)
    return min(candidates, key=lambda d: abs((d - value_date).days))


def _references(lines: list[str], head: int) -> tuple[str | None, str | None, str | None]:
    """Customer reference, bank reference and supplementary details of a ``:61:`` field.

    ``head`` is where the references start in the joined text. By the standard the supplementary
    details start on a new line; ING however wraps inside its bank reference, so a next line that
    does not start with "/" still belongs to the bank reference while that stays within 16 characters
    without spaces.
    """
    rest: list[str] = []
    for line in lines:
        if head >= len(line):
            head -= len(line)
            continue
        rest.append(line[head:])
        head = 0
    first, others = (rest[0], rest[1:]) if rest else ("", [])
    customer, separator, bank = first.partition("//")
    if separator:
        while (
            others
            and not others[0].startswith("/")
            and len(bank + others[0]) <= _BANK_REF_MAX
            and not any(ch.isspace() for ch in others[0])
        ):
            bank += others.pop(0)
    supplementary = " ".join("".join(others).split())
    return (
        None if customer.strip() in ("", "NONREF") else customer.strip(),
        bank.strip() or None,
        supplementary or None,
    )


@dataclass
class _Details:
    remittance: str = ""
    name: str | None = None
    iban: str | None = None
    creditor_reference: str | None = None
    end_to_end_id: str | None = None
    return_reason: str | None = None


def _details(f: _Field) -> _Details:
    text = f.joined()
    if not _STRUCTURED.match(text):
        return _Details(remittance=" ".join(text.split()))
    matches = list(_CODE.finditer(text))
    values: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        values.setdefault(match.group(1), " ".join(text[match.end() : end].split()).rstrip("/").strip())
    out = _Details()
    if "CNTP" in values:
        iban, _, rest = values["CNTP"].partition("/")
        _bic, _, rest = rest.partition("/")
        name = rest.partition("/")[0]
        out.iban, out.name = iban.strip() or None, name.strip() or None
    out.iban = values.get("IBAN") or out.iban
    out.name = values.get("NAME") or out.name
    remi = values.get("REMI", "")
    if remi.startswith("USTD//"):
        out.remittance = remi[6:].strip()
    elif remi.startswith("STRD/"):
        reference = remi[5:].partition("/")[2]  # after the issuer: CUR (betalingskenmerk), ISO (RF)
        out.creditor_reference = normalize_reference(reference) or None
    else:
        out.remittance = remi
    eref = values.get("EREF")
    out.end_to_end_id = None if eref in (None, "", "NOTPROVIDED") else eref
    out.return_reason = values.get("RTRN", "").partition("/")[0] or None
    return out


def _keyed(drafts: list[EntryDraft]) -> tuple[BankEntry, ...]:
    """The statement's entries with their dedup keys, counted within this statement (``bank.model``)."""
    keyer = DedupKeyer()
    return tuple(keyer.entry(d) for d in drafts)
