"""CAMT.053 (account statement) and CAMT.054 (debit/credit notification), ISO 20022, version 001.02
and later: any namespace ``urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN`` / ``camt.054.001.NN``.

The file is untrusted. It is parsed by lxml without DTD loading, entity expansion or network access;
a DOCTYPE (and so any entity declaration) is refused before parsing, and checked again after, so an
entity bomb or an external entity (``file:///etc/passwd``) is never expanded nor fetched. The size is
bounded by ``max_bytes``. The file is accepted whole or refused at the first error, with the element
path and line: ``element Ntry[12]/Amt (line 345): currency USD, only EUR is accepted``.

Only booked entries are returned: an entry with status PDNG (pending) or INFO is not a payment yet and
is left out (its position still counts in ``entry_index``).

The parse streams (``iterparse``, each ``Ntry`` dropped once read), so memory stays small for a
statement of 100,000 entries.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import NamedTuple, NoReturn

from lxml import etree

from incasso_tui.bank.model import (
    ACCEPTED_CURRENCY,
    MAX_BYTES,
    BankEntry,
    DedupKeyer,
    EntryDraft,
    Statement,
    refuse_too_big,
)
from incasso_tui.domain.references import normalize_reference
from incasso_tui.errors import N_, BadFile

__all__ = ["parse_camt", "parse_camt_statements"]

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.(053|054)\.001\.([0-9]{2})$")
# message kind -> (element under Document, element of one statement)
_LAYOUT = {"053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}
_AMOUNT = re.compile(r"^([0-9]{1,15})(?:\.([0-9]+))?$")
_CENT = Decimal("0.01")
# The start of the root element: the first "<" that opens neither a declaration nor a PI.
_ROOT_START = re.compile(rb"<(?![?!])")


def parse_camt(data: bytes, *, max_bytes: int = MAX_BYTES) -> Statement:
    """Parse a CAMT.053/054 file that holds one statement (the usual case); refuse it otherwise."""
    statements = parse_camt_statements(data, max_bytes=max_bytes)
    if len(statements) != 1:
        raise BadFile(
            N_("The file holds {count} statements; import it as a statement file to read them all"),
            where="element Document",
            count=len(statements),
        )
    return statements[0]


def parse_camt_statements(data: bytes, *, max_bytes: int = MAX_BYTES) -> list[Statement]:
    """Parse a CAMT.053/054 file into its statements (a file may hold one per account)."""
    refuse_too_big(data, max_bytes)
    _refuse_doctype(data)
    return _CamtReader().read(data)


def _refuse_doctype(data: bytes) -> None:
    root = _ROOT_START.search(data)
    prolog = data[: root.start()] if root else data
    for marker in (b"<!DOCTYPE", b"<!ENTITY"):
        pos = prolog.find(marker)
        if pos >= 0:
            line = prolog.count(b"\n", 0, pos) + 1
            _raise_doctype(f"line {line}")


def _raise_doctype(where: str) -> NoReturn:
    raise BadFile(
        N_("{where}: the file contains a DOCTYPE or entity declaration; a bank statement never does, so it is refused"),
        where=where,
    )


def _split_tag(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an element's tag; the namespace is "" for none. Unlike ``etree.QName`` it does not
    fail on a name with an unbound prefix ("c:Document"), which lxml leaves as it is."""
    if tag.startswith("{"):
        namespace, _, localname = tag[1:].partition("}")
        return namespace, localname
    return "", tag


def _where(path: str, elem: etree._Element) -> str:
    return f"element {path} (line {elem.sourceline})"


class _Header(NamedTuple):
    statement_id: str
    account_iban: str


class _Tx(NamedTuple):
    """One transaction of a booking, before the booking-level facts are added."""

    amount: Decimal | None
    credit: bool | None
    counterparty_name: str | None
    counterparty_iban: str | None
    remittance: str
    creditor_reference: str | None
    end_to_end_id: str | None
    bank_reference: str | None
    return_reason: str | None


class _EntryTags(NamedTuple):
    """The full tags an entry (Ntry) is read by; the field names are the local names."""

    Amt: str
    CdtDbtInd: str
    Sts: str
    Cd: str
    BookgDt: str
    ValDt: str
    RvslInd: str
    AcctSvcrRef: str
    AddtlNtryInf: str
    NtryDtls: str
    TxDtls: str
    Dt: str
    DtTm: str


class _TxTags(NamedTuple):
    """The full tags a transaction (TxDtls) is read by; the field names are the local names."""

    Amt: str
    AmtDtls: str
    TxAmt: str
    CdtDbtInd: str
    Refs: str
    EndToEndId: str
    AcctSvcrRef: str
    RltdPties: str
    Dbtr: str
    DbtrAcct: str
    Cdtr: str
    CdtrAcct: str
    Nm: str
    Pty: str
    Id: str
    IBAN: str
    RmtInf: str
    Ustrd: str
    Strd: str
    CdtrRefInf: str
    Ref: str
    AddtlRmtInf: str
    RtrInf: str
    Rsn: str
    Cd: str
    Prtry: str
    AddtlTxInf: str


class _Tags(dict[str, str]):
    """Full tags ("{namespace}Amt") by local name, made on first use."""

    def __init__(self, namespace: str) -> None:
        super().__init__()
        self._namespace = namespace

    def __missing__(self, local: str) -> str:
        tag = self[local] = f"{{{self._namespace}}}{local}"
        return tag


class _CamtReader:
    """Reads one file. Child elements are looked up by their full tag in a dict of an element's
    children (``_kids``), or by a loop over the few children (``_child``), rather than with ``find``
    or XPath: a path lookup per field is what makes a naive reader several times slower than lxml's
    own parse. What costs most now is lxml making a Python object for each element touched (about
    30 per entry), so each is touched once. The full tags are made once per file (``_EntryTags``,
    ``_TxTags``)."""

    def __init__(self) -> None:
        self._ns = ""
        self._t = _Tags("")
        self._format = ""
        self._stmt_tag = ""
        self._ntry_tag = ""
        self._entry_tags = _EntryTags(*_EntryTags._fields)
        self._tx_tags = _TxTags(*_TxTags._fields)
        self._dates: dict[str, date] = {}  # date text -> date: a statement has few distinct days
        self._entry_count = 0
        # the text of the last amount read and its value: a transaction's amount is mostly its entry's
        self._last_amount: tuple[str | None, Decimal] = (None, Decimal(0))

    # -- document ------------------------------------------------------------------------------------

    def read(self, data: bytes) -> list[Statement]:
        statements: list[Statement] = []
        drafts: list[EntryDraft] = []
        header: _Header | None = None
        current: etree._Element | None = None
        events = etree.iterparse(
            io.BytesIO(data),
            events=("end",),
            tag=("{*}Ntry", "{*}Stmt", "{*}Ntfctn"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        previous: etree._Element | None = None  # the entry read before this one, in the same statement
        try:
            for _event, elem in self._checked(events):
                tag = elem.tag
                if tag == self._ntry_tag:
                    self._entry_count += 1
                    parent = elem.getparent()
                    if parent is not current:  # (the statement's tag was checked when it became current)
                        if parent is None or parent.tag != self._stmt_tag:
                            raise BadFile(
                                N_("{where}: an entry outside a statement; the file is not a valid statement"),
                                where=_where(f"Ntry[{self._entry_count}]", elem),
                            )
                        current, header, previous = parent, self._header(parent, len(statements) + 1), None
                    assert header is not None
                    drafts.extend(self._entry(elem, header))
                    # free the memory of entries already read: clear this one, remove the one before it
                    elem.clear()
                    before = elem.getprevious()
                    if before is not None and before is previous:
                        parent.remove(before)
                    previous = elem
                elif tag == self._stmt_tag:
                    if elem is not current:
                        header = self._header(elem, len(statements) + 1)
                    assert header is not None
                    statements.append(
                        Statement(
                            format=self._format,
                            statement_id=header.statement_id,
                            account_iban=header.account_iban,
                            currency=ACCEPTED_CURRENCY,
                            entries=_keyed(drafts),
                        )
                    )
                    drafts, header, current, previous = [], None, None, None
                    elem.clear()
        except etree.XMLSyntaxError as err:
            raise BadFile(
                N_("The file is damaged or incomplete at {where}: {detail}"),
                where=f"line {err.lineno}",
                detail=err.msg,
            ) from None
        root = events.root
        self._check_root(root)
        if not statements:
            raise BadFile(
                N_("{where}: the file holds no statement"),
                where=_where(_split_tag(root.tag)[1], root),
            )
        return statements

    def _checked(self, events: etree.iterparse) -> Iterator[tuple[str, etree._Element]]:
        """The events, after the root has been checked (at the first event)."""
        checked = False
        for event, elem in events:
            if not checked:
                self._check_root(elem.getroottree().getroot())
                checked = True
            yield event, elem

    def _check_root(self, root: etree._Element) -> None:
        if root.getroottree().docinfo.internalDTD is not None:
            _raise_doctype(_where("Document", root))
        if self._ns:
            return
        namespace, localname = _split_tag(root.tag)
        match = _NAMESPACE.match(namespace)
        if localname != "Document" or not match or int(match.group(2)) < 2:
            raise BadFile(
                N_(
                    "{where}: this XML file is not a bank statement (namespace {namespace}); "
                    "expected CAMT.053 or CAMT.054, version 001.02 or later"
                ),
                where=_where(localname, root),
                namespace=namespace or "none",
            )
        self._ns = namespace
        self._t = _Tags(self._ns)
        kind, version = match.groups()
        self._format = f"camt.{kind}.001.{version}"
        self._stmt_tag = self._t[_LAYOUT[kind][1]]
        self._ntry_tag = self._t["Ntry"]
        self._entry_tags = _EntryTags(*(self._t[local] for local in _EntryTags._fields))
        self._tx_tags = _TxTags(*(self._t[local] for local in _TxTags._fields))
        if _child(root, self._t[_LAYOUT[kind][0]]) is None:
            raise BadFile(
                N_("{where}: the file holds no {element}; it is not a bank statement"),
                where=_where("Document", root),
                element=_LAYOUT[kind][0],
            )

    # -- statement -----------------------------------------------------------------------------------

    def _header(self, stmt: etree._Element, number: int) -> _Header:
        t = self._t
        path = f"{_split_tag(stmt.tag)[1]}[{number}]"
        kids = _kids(stmt)
        statement_id = _text(kids.get(t["Id"]))
        if statement_id is None:
            raise BadFile(N_("{where}: the statement has no Id"), where=_where(path, stmt))
        acct = kids.get(t["Acct"])
        iban = _text(_child(acct, t["Id"], t["IBAN"]))
        if acct is None or iban is None:
            raise BadFile(
                N_("{where}: the statement names no account IBAN"),
                where=_where(f"{path}/Acct", acct if acct is not None else stmt),
            )
        currency = _child(acct, t["Ccy"])
        if currency is not None and (currency.text or "").strip() != ACCEPTED_CURRENCY:
            _refuse_currency((currency.text or "").strip(), f"{path}/Acct/Ccy", currency)
        for i, bal in enumerate(stmt.iterchildren(t["Bal"]), start=1):
            amt = _child(bal, t["Amt"])
            if amt is not None:
                self._amount(amt, f"{path}/Bal[{i}]", "Amt")
        return _Header(statement_id, normalize_reference(iban))

    # -- values --------------------------------------------------------------------------------------

    # ``path`` + "/" + ``name`` is the element path for a message; it is only put together for one.

    def _amount(self, amt: etree._Element, path: str, name: str) -> Decimal:
        currency = amt.get("Ccy", "").strip()
        if currency != ACCEPTED_CURRENCY:
            _refuse_currency(currency, f"{path}/{name}", amt)
        raw = amt.text
        if raw is not None and raw == self._last_amount[0]:
            return self._last_amount[1]
        text = (raw or "").strip()
        match = _AMOUNT.match(text)
        if not match:
            raise BadFile(N_("{where}: {value!r} is not an amount"), where=_where(f"{path}/{name}", amt), value=text)
        cents = match.group(2)
        if cents is not None and len(cents) > 2:
            raise BadFile(
                N_("{where}: amount {value} has more than 2 decimals; euro amounts are in cents"),
                where=_where(f"{path}/{name}", amt),
                value=text,
            )
        value = Decimal(text)
        if cents is None or len(cents) != 2:
            value = value.quantize(_CENT)
        if raw is not None:
            self._last_amount = (raw, value)
        return value

    def _direction(self, indicator: etree._Element | None, path: str) -> bool | None:
        """True for CRDT, False for DBIT, None when there is no CdtDbtInd."""
        if indicator is None:
            return None
        value = (indicator.text or "").strip()
        if value not in ("CRDT", "DBIT"):
            raise BadFile(
                N_("{where}: {value!r} is neither CRDT nor DBIT"),
                where=_where(f"{path}/CdtDbtInd", indicator),
                value=value,
            )
        return value == "CRDT"

    def _date(self, holder: etree._Element | None, path: str, name: str) -> date | None:
        """The date in a BookgDt or ValDt: its only child, Dt or DtTm (of which the date part)."""
        if holder is None:
            return None
        found = holder[0] if len(holder) == 1 else None
        text = (found.text or "").strip() if found is not None else ""
        try:
            if found is None or found.tag not in (self._entry_tags.Dt, self._entry_tags.DtTm):
                raise ValueError
            day = self._dates.get(text)
            if day is None:
                day = date.fromisoformat(text[:10])
                if len(text) == 10:  # a date, not a time: few distinct ones per file
                    self._dates[text] = day
            return day
        except ValueError:
            raise BadFile(
                N_("{where}: {value!r} is not a date"),
                where=_where(f"{path}/{name}", found if found is not None else holder),
                value=text,
            ) from None

    # -- entries -------------------------------------------------------------------------------------

    def _entry(self, ntry: etree._Element, header: _Header) -> list[EntryDraft]:
        t = self._entry_tags
        path = f"Ntry[{self._entry_count}]"
        kids: dict[str, etree._Element] = {}  # the first child of each tag
        details: list[etree._Element] = []  # every NtryDtls
        for child in ntry:
            tag = child.tag
            if tag == t.NtryDtls:
                details.append(child)
            elif tag not in kids:
                kids[tag] = child
        get = kids.get
        amt = get(t.Amt)
        if amt is None:
            raise BadFile(N_("{where}: the entry has no amount"), where=_where(path, ntry))
        amount = self._amount(amt, path, "Amt")
        credit = self._direction(get(t.CdtDbtInd), path)
        if credit is None:
            raise BadFile(N_("{where}: the entry has no CdtDbtInd"), where=_where(path, ntry))
        status = get(t.Sts)
        # "<Sts>BOOK</Sts>", from version 001.08 "<Sts><Cd>BOOK</Cd></Sts>"
        if status is not None and status.text != "BOOK":
            code = _text(status) or _text(_child(status, t.Cd))
            if code not in (None, "BOOK"):
                return []
        booking_date = self._date(get(t.BookgDt), path, "BookgDt")
        if booking_date is None:
            raise BadFile(N_("{where}: the entry has no booking date"), where=_where(path, ntry))
        value_date = self._date(get(t.ValDt), path, "ValDt")
        indicator = get(t.RvslInd)
        reversal = indicator is not None and (_text(indicator) or "").lower() in ("true", "1")
        entry_ref = _text(get(t.AcctSvcrRef))
        entry_info = " ".join(_texts(ntry, t.AddtlNtryInf)) if t.AddtlNtryInf in kids else ""

        txs = [
            self._tx(tx, path, d, n, credit, reversal)
            for d, dtls in enumerate(details, start=1)
            for n, tx in enumerate(dtls.iterchildren(t.TxDtls), start=1)
        ]
        if len(txs) == 1:  # the usual case, as _splits_exactly would decide it
            only_tx = txs[0]
            exact = (
                only_tx.amount is not None
                and (only_tx.amount if only_tx.credit in (None, credit) else -only_tx.amount) == amount
            )
        else:
            exact = _splits_exactly(txs, amount, credit)
        if not exact:
            # One entry for the total: the details cannot be told apart by amount (or there are none).
            single = txs[0] if len(txs) == 1 else _NO_TX
            txs = [single._replace(amount=amount, credit=credit)]
        account, count, only = header.account_iban, self._entry_count, len(txs) == 1
        return [
            EntryDraft(
                account,
                booking_date,
                value_date,
                tx.amount if tx.amount is not None else amount,
                tx.credit if tx.credit is not None else credit,
                ACCEPTED_CURRENCY,
                tx.counterparty_name,
                tx.counterparty_iban,
                tx.remittance or (entry_info if only else ""),
                tx.creditor_reference,
                tx.end_to_end_id,
                tx.bank_reference or entry_ref,
                reversal,
                tx.return_reason,
                count,
                i,
            )
            for i, tx in enumerate(txs, start=1)
        ]

    def _tx(self, tx: etree._Element, entry_path: str, d: int, n: int, entry_credit: bool, reversal: bool) -> _Tx:
        t = self._tx_tags
        path = f"{entry_path}/NtryDtls[{d}]/TxDtls[{n}]"
        kids: dict[str, etree._Element] = {}  # the first child of each tag (_kids, inlined: this runs per transaction)
        for child in tx:
            tag = child.tag
            if tag not in kids:
                kids[tag] = child
        get = kids.get
        amt = get(t.Amt)
        amt_name = "Amt"
        if amt is None:
            amt = _child(get(t.AmtDtls), t.TxAmt, t.Amt)
            amt_name = "AmtDtls/TxAmt/Amt"
        amount = self._amount(amt, path, amt_name) if amt is not None else None
        indicator = get(t.CdtDbtInd)
        credit = self._direction(indicator, path) if indicator is not None else None
        end_to_end = bank_reference = None
        refs = get(t.Refs)
        if refs is not None:  # the first EndToEndId and the first AcctSvcrRef
            e2e_el = ref_el = None
            for child in refs:
                tag = child.tag
                if tag == t.EndToEndId:
                    if e2e_el is None:
                        e2e_el = child
                elif tag == t.AcctSvcrRef and ref_el is None:
                    ref_el = child
            end_to_end, bank_reference = _text(e2e_el), _text(ref_el)
        name = iban = None
        parties = _kids(get(t.RltdPties))
        if parties:
            # The other party: the payer of money that came in, the payee of money that went out.
            # A reversal turns the original payment around, and its parties stay those of the original.
            money_in = (credit if credit is not None else entry_credit) != reversal
            for side, account in (
                ((t.Dbtr, t.DbtrAcct), (t.Cdtr, t.CdtrAcct))
                if money_in
                else ((t.Cdtr, t.CdtrAcct), (t.Dbtr, t.DbtrAcct))
            ):
                party = parties.get(side)
                # up to version 001.07 <Dbtr><Nm>, from 001.08 <Dbtr><Pty><Nm>
                name = _text(_child(party, t.Nm)) or _text(_child(party, t.Pty, t.Nm))
                iban = _text(_child(parties.get(account), t.Id, t.IBAN))
                if name or iban:
                    break
        remittance: list[str] = []
        creditor_reference = None
        rmt = get(t.RmtInf)
        if rmt is not None:
            for part in rmt:
                tag = part.tag
                if tag == t.Ustrd:
                    text = _text(part)
                    if text:
                        remittance.append(text)
                elif tag == t.Strd:
                    ref = _text(_child(part, t.CdtrRefInf, t.Ref))
                    if ref and creditor_reference is None:
                        creditor_reference = normalize_reference(ref)
                    remittance += _texts(part, t.AddtlRmtInf)
        if not remittance and t.AddtlTxInf in kids:
            remittance = _texts(tx, t.AddtlTxInf)
        return_info = get(t.RtrInf)
        reason = _child(return_info, t.Rsn) if return_info is not None else None
        return _Tx(
            amount,
            credit,
            name,
            normalize_reference(iban) if iban else None,
            remittance[0] if len(remittance) == 1 else " ".join(remittance),
            creditor_reference,
            None if end_to_end in (None, "NOTPROVIDED") else end_to_end,
            bank_reference,
            (_text(_child(reason, t.Cd)) or _text(_child(reason, t.Prtry))) if reason is not None else None,
        )


def _refuse_currency(currency: str, path: str, elem: etree._Element) -> NoReturn:
    raise BadFile(
        N_("{where}: currency {currency}, only EUR is accepted"),
        where=_where(path, elem),
        currency=currency or "missing",
    )


def _kids(elem: etree._Element | None) -> dict[str, etree._Element]:
    """The children of ``elem`` by tag (the first of each tag); empty for no element."""
    kids: dict[str, etree._Element] = {}
    if elem is not None:
        for child in elem:
            tag = child.tag
            if tag not in kids:
                kids[tag] = child
    return kids


def _child(elem: etree._Element | None, *tags: str) -> etree._Element | None:
    """The first child with the first tag, its first child with the next tag, ...; or None.

    (A loop over the children: for the few children these elements have, about twice as fast as
    ``iterchildren(tag)``.)"""
    for tag in tags:
        if elem is None:
            return None
        for child in elem:
            if child.tag == tag:
                elem = child
                break
        else:
            return None
    return elem


def _text(elem: etree._Element | None) -> str | None:
    """The text of ``elem`` with white space collapsed; None when there is none."""
    if elem is None or not elem.text:
        return None
    return " ".join(elem.text.split()) or None


def _texts(elem: etree._Element, tag: str | None = None) -> list[str]:
    """The texts of the children of ``elem`` with ``tag`` (or of ``elem`` itself), collapsed."""
    found = [elem] if tag is None else elem.iterchildren(tag)
    return [text for text in map(_text, found) if text]


_NO_TX = _Tx(None, None, None, None, "", None, None, None, None)


def _splits_exactly(txs: list[_Tx], amount: Decimal, credit: bool) -> bool:
    """True if every transaction has its own amount and together they make the booked amount."""
    if not txs or any(tx.amount is None for tx in txs):
        return False
    total = sum(
        (tx.amount if tx.credit in (None, credit) else -tx.amount for tx in txs if tx.amount is not None),
        Decimal(0),
    )
    return total == amount


def _keyed(drafts: list[EntryDraft]) -> tuple[BankEntry, ...]:
    """The statement's entries with their dedup keys, counted within this statement (``bank.model``)."""
    keyer = DedupKeyer()
    return tuple(keyer.entry(d) for d in drafts)
