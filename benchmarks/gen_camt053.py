"""Generate a large, realistic CAMT.053.001.02 statement to measure the statement import.

    python -m benchmarks.gen_camt053 --entries 100000 --out /tmp/stmt.xml [--seed 1]
        [--reference-prefix INC] [--time]

Deterministic for a given seed. Most entries are clients paying an instalment: a remittance text with
the loan number ("Aflossing L12345678 termijn 7"), and for part of them a structured reference, an RF
reference made of the prefix and the loan number or a betalingskenmerk made of the loan number. Some
entries are costs (debits), returned transfers, and batches of several transactions. The file
is written entry by entry, never held in memory. With ``--time`` it then reports how long
:func:`incasso_tui.bank.parse_camt` takes against a bare lxml parse of the same file.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from incasso_tui.bank import parse_camt
from incasso_tui.domain.references import make_betalingskenmerk, make_rf

ACCOUNT_IBAN = "NL91ABNA0417164300"
_NAMES = (
    "Bakkerij De Vries",
    "Jansen Installatietechniek",
    "Van Dijk Transport B.V.",
    "Bloemisterij Smit",
    "De Boer & Zn.",
    "Mulder Bouw",
    "Kapsalon Bakker",
    "Visser Horeca V.O.F.",
    "Meijer ICT",
    "Garage De Jong",
)
_BANKS = ("ABNA", "INGB", "RABO", "SNSB", "TRIO", "BUNQ", "KNAB")


@dataclass(frozen=True)
class _Tx:
    amount: Decimal
    name: str
    iban: str
    remittance: str
    reference: str | None
    end_to_end_id: str
    return_reason: str | None


@dataclass(frozen=True)
class _Entry:
    credit: bool
    booking_date: date
    bank_reference: str
    txs: tuple[_Tx, ...]

    @property
    def amount(self) -> Decimal:
        return sum((tx.amount for tx in self.txs), Decimal("0.00"))


def _nl_iban(rng: random.Random) -> str:
    bban = rng.choice(_BANKS) + f"{rng.randrange(10**10):010d}"
    numeric = "".join(str(int(ch, 36)) for ch in bban + "NL00")
    return f"NL{98 - int(numeric) % 97:02d}{bban}"


def _entries(count: int, seed: int, prefix: str) -> Iterator[_Entry]:
    rng = random.Random(seed)
    day = date(2026, 1, 2)
    for n in range(1, count + 1):
        if n % 2000 == 0:
            day += timedelta(days=1)
        kind = rng.random()
        size = rng.randint(2, 4) if kind < 0.02 else 1
        txs = []
        for t in range(size):
            loan = f"{rng.randrange(10**8):08d}"
            amount = Decimal(rng.randrange(1_000, 500_000)) / 100
            text = f"Aflossing L{loan} termijn {rng.randint(1, 60)}"
            shape = rng.random()
            reference = None
            if shape < 0.35:
                reference = make_rf(prefix + loan)
            elif shape < 0.5:
                reference = make_betalingskenmerk(loan)
            txs.append(
                _Tx(
                    amount=amount,
                    name=rng.choice(_NAMES),
                    iban=_nl_iban(rng),
                    remittance=text,
                    reference=reference,
                    end_to_end_id=f"E2E{seed}-{n}-{t}",
                    return_reason="AM04" if kind > 0.995 else None,
                )
            )
        credit = kind < 0.9 or kind > 0.995  # the last: a transfer of ours that came back
        yield _Entry(credit=credit, booking_date=day, bank_reference=f"{seed}{n:012d}", txs=tuple(txs))


def _tx_xml(tx: _Tx, entry: _Entry, batch: bool) -> str:
    party, account = ("Dbtr", "DbtrAcct") if entry.credit else ("Cdtr", "CdtrAcct")
    refs = f"<AcctSvcrRef>{entry.bank_reference}-{tx.end_to_end_id}</AcctSvcrRef>" if batch else ""
    if tx.reference is None:
        rmt = f"<Ustrd>{escape(tx.remittance)}</Ustrd>"
    else:
        issuer = "ISO" if tx.reference.startswith("RF") else "CUR"
        rmt = (
            f"<Ustrd>{escape(tx.remittance)}</Ustrd><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd>"
            f"</CdOrPrtry><Issr>{issuer}</Issr></Tp><Ref>{tx.reference}</Ref></CdtrRefInf></Strd>"
        )
    rtr = f"<RtrInf><Rsn><Cd>{tx.return_reason}</Cd></Rsn></RtrInf>" if tx.return_reason else ""
    return (
        f"<TxDtls><Refs>{refs}<EndToEndId>{tx.end_to_end_id}</EndToEndId></Refs>"
        f'<AmtDtls><TxAmt><Amt Ccy="EUR">{tx.amount}</Amt></TxAmt></AmtDtls>'
        f"<RltdPties><{party}><Nm>{escape(tx.name)}</Nm></{party}>"
        f"<{account}><Id><IBAN>{tx.iban}</IBAN></Id></{account}></RltdPties>"
        f"<RmtInf>{rmt}</RmtInf>{rtr}</TxDtls>"
    )


def _entry_xml(entry: _Entry) -> str:
    batch = len(entry.txs) > 1
    btch = f"<Btch><NbOfTxs>{len(entry.txs)}</NbOfTxs></Btch>" if batch else ""
    family = "RCDT" if entry.credit else "ICDT"
    return (
        f'<Ntry><Amt Ccy="EUR">{entry.amount}</Amt>'
        f"<CdtDbtInd>{'CRDT' if entry.credit else 'DBIT'}</CdtDbtInd>"
        f"<Sts>BOOK</Sts><BookgDt><Dt>{entry.booking_date}</Dt></BookgDt>"
        f"<ValDt><Dt>{entry.booking_date}</Dt></ValDt><AcctSvcrRef>{entry.bank_reference}</AcctSvcrRef>"
        f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>"
        f"</BkTxCd><NtryDtls>{btch}{''.join(_tx_xml(tx, entry, batch) for tx in entry.txs)}</NtryDtls>"
        "</Ntry>\n"
    )


def _balance_xml(code: str, amount: Decimal, day: date) -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="EUR">{abs(amount)}</Amt><CdtDbtInd>{"CRDT" if amount >= 0 else "DBIT"}</CdtDbtInd>'
        f"<Dt><Dt>{day}</Dt></Dt></Bal>\n"
    )


def generate(out: Path, entries: int, seed: int = 1, reference_prefix: str = "INC") -> None:
    """Write the statement to ``out``: one pass for the closing balance, one to write the entries."""
    opening = Decimal("25000.00")
    closing, last_day = opening, date(2026, 1, 2)
    for entry in _entries(entries, seed, reference_prefix):
        closing += entry.amount if entry.credit else -entry.amount
        last_day = entry.booking_date
    with out.open("w", encoding="utf-8", newline="\n") as f:
        f.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">\n<BkToCstmrStmt>\n'
            f"<GrpHdr><MsgId>BENCH-{seed}</MsgId><CreDtTm>2026-01-31T06:00:00</CreDtTm></GrpHdr>\n"
            f"<Stmt><Id>BENCH-{seed}-1</Id><CreDtTm>2026-01-31T06:00:00</CreDtTm>"
            f"<Acct><Id><IBAN>{ACCOUNT_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>\n"
        )
        f.write(_balance_xml("OPBD", opening, date(2026, 1, 2)))
        f.write(_balance_xml("CLBD", closing, last_day))
        for entry in _entries(entries, seed, reference_prefix):
            f.write(_entry_xml(entry))
        f.write("</Stmt>\n</BkToCstmrStmt>\n</Document>\n")


def bare_parse_seconds(path: Path | str) -> float:
    """Seconds a bare lxml parse of the file takes (same safety options), the floor to compare with."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    start = time.perf_counter()
    etree.parse(str(path), parser)
    return time.perf_counter() - start


def parse_seconds(path: Path | str) -> tuple[float, int]:
    """Seconds :func:`parse_camt` takes on the file (reading included), and the entries it found."""
    start = time.perf_counter()
    statement = parse_camt(Path(path).read_bytes())
    return time.perf_counter() - start, len(statement.entries)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gen_camt053", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--entries", type=int, default=100_000, help="number of Ntry (default 100000)")
    parser.add_argument("--out", type=Path, required=True, help="file to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reference-prefix", default="INC", help="letters/digits before the loan number in RF references"
    )
    parser.add_argument("--time", action="store_true", help="then time parse_camt against a bare lxml parse")
    args = parser.parse_args(argv)
    make_rf(args.reference_prefix + "0" * 8)  # refuses a prefix that cannot make an RF reference
    start = time.perf_counter()
    generate(args.out, args.entries, args.seed, args.reference_prefix)
    seconds = time.perf_counter() - start
    megabytes = args.out.stat().st_size / 1e6
    print(f"wrote {args.out}: {args.entries} entries, {megabytes:.1f} MB in {seconds:.1f} s")
    if args.time:
        bare = bare_parse_seconds(args.out)
        seconds, found = parse_seconds(args.out)
        print(f"bare lxml parse: {bare:.2f} s; parse_camt: {seconds:.2f} s ({found} bank entries)")


if __name__ == "__main__":
    main()
