"""Small CAMT.053 statements for the payment tests, written from a list of entries (no randomness)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

ACCOUNT = "NL91ABNA0417164300"


@dataclass(frozen=True)
class Tx:
    amount: str
    name: str = "Betaler"
    iban: str | None = "NL18RABO0123459876"
    text: str = ""
    reference: str | None = None
    e2e: str | None = None
    bank_ref: str | None = None
    credit: bool = True
    reversal: bool = False
    return_reason: str | None = None
    day: date = date(2026, 11, 20)


def _tx(tx: Tx) -> str:
    party, account = ("Dbtr", "DbtrAcct") if tx.credit != tx.reversal else ("Cdtr", "CdtrAcct")
    strd = ""
    if tx.reference:
        issuer = "ISO" if tx.reference.startswith("RF") else "CUR"
        strd = (
            f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>{issuer}</Issr></Tp>"
            f"<Ref>{tx.reference}</Ref></CdtrRefInf></Strd>"
        )
    iban = f"<{account}><Id><IBAN>{tx.iban}</IBAN></Id></{account}>" if tx.iban else ""
    refs = f"<Refs><EndToEndId>{tx.e2e}</EndToEndId></Refs>" if tx.e2e else ""
    rtr = f"<RtrInf><Rsn><Cd>{tx.return_reason}</Cd></Rsn></RtrInf>" if tx.return_reason else ""
    return (
        f'<TxDtls>{refs}<AmtDtls><TxAmt><Amt Ccy="EUR">{tx.amount}</Amt></TxAmt></AmtDtls>'
        f"<RltdPties><{party}><Nm>{escape(tx.name)}</Nm></{party}>{iban}</RltdPties>"
        f"<RmtInf><Ustrd>{escape(tx.text)}</Ustrd>{strd}</RmtInf>{rtr}</TxDtls>"
    )


def entry_xml(txs: list[Tx]) -> str:
    first = txs[0]
    total = sum((Decimal(t.amount) for t in txs), Decimal("0.00"))
    rvsl = "<RvslInd>true</RvslInd>" if first.reversal else ""
    btch = f"<Btch><NbOfTxs>{len(txs)}</NbOfTxs></Btch>" if len(txs) > 1 else ""
    ref = f"<AcctSvcrRef>{first.bank_ref}</AcctSvcrRef>" if first.bank_ref else ""
    return (
        f'<Ntry><Amt Ccy="EUR">{total}</Amt><CdtDbtInd>{"CRDT" if first.credit else "DBIT"}</CdtDbtInd>{rvsl}'
        f"<Sts>BOOK</Sts><BookgDt><Dt>{first.day}</Dt></BookgDt><ValDt><Dt>{first.day}</Dt></ValDt>{ref}"
        f"<NtryDtls>{btch}{''.join(_tx(t) for t in txs)}</NtryDtls></Ntry>\n"
    )


def camt053(entries: list[list[Tx] | Tx], statement_id: str = "STMT-1") -> bytes:
    body = "".join(entry_xml(e if isinstance(e, list) else [e]) for e in entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>T-1</MsgId><CreDtTm>2026-11-21T06:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><CreDtTm>2026-11-21T06:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{ACCOUNT}</IBAN></Id><Ccy>EUR</Ccy></Acct>\n{body}</Stmt></BkToCstmrStmt></Document>\n"
    ).encode()
