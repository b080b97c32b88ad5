"""Measure ``incasso payments import`` of a large CAMT.053 statement: wall time, peak RSS, and the ratio to a bare
lxml parse of the same file.

    python -m benchmarks.payments_import --db sqlite:////tmp/bench-pay.db --entries 100000 [--loans 20000]
        [--match 0.6] [--keep]

Generates a book (``incasso generate --loans N``) into ``--db`` (thrown away and made anew unless ``--keep``), then a
statement of ``--entries`` bookings written with ``benchmarks.gen_camt053``'s entry layout, in which a share
``--match`` of the transactions name a loan of that book (a third each by RF reference, betalingskenmerk and loan
number in the text); the rest name loans that do not exist and go to the queue; about 10 % are debits and some
are batches and returns, as in ``gen_camt053``. Then it runs, each in a fresh process under ``/usr/bin/time -v``:

1. a bare lxml parse of the file (the floor: same safety options as the importer),
2. ``incasso payments import FILE --json`` (the real command: parse, dedup, match, allocate, book, audit),
3. the same import again (everything is a duplicate).

Prints one JSON line with the seconds and peak RSS of each, the counts, and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from benchmarks import gen_camt053 as g
from benchmarks import timed
from incasso_tui.domain.references import make_betalingskenmerk, make_rf

BARE = (
    "from lxml import etree; import sys; "
    "etree.parse(sys.argv[1], etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))"
)


def _loan_numbers(db_url: str) -> list[str]:
    from sqlalchemy import select

    from incasso_tui.store.db import Database
    from incasso_tui.store.models import Loan

    db = Database(db_url)
    with db.reader() as s:
        numbers = list(s.scalars(select(Loan.number).where(Loan.status != "repaid").order_by(Loan.id)))
    db.dispose()
    return numbers


def write_statement(out: Path, entries: int, loans: list[str], match: float, seed: int = 1) -> None:
    """A gen_camt053 statement whose transactions name loans of the book for a share ``match``."""
    rng = random.Random(seed)

    def point(tx: g._Tx) -> g._Tx:
        if rng.random() >= match:
            return tx
        loan = rng.choice(loans)
        how = rng.randrange(3)
        reference = make_rf("INC" + loan[1:]) if how == 0 else make_betalingskenmerk(loan[1:]) if how == 1 else None
        return replace(
            tx,
            remittance=f"Aflossing {loan}" if how == 2 else "Aflossing",
            reference=reference,
            amount=Decimal(rng.randrange(1_000, 60_000)) / 100,
        )

    with out.open("w", encoding="utf-8", newline="\n") as f:
        f.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">\n<BkToCstmrStmt>\n'
            "<GrpHdr><MsgId>BENCH-PAY</MsgId><CreDtTm>2026-11-20T06:00:00</CreDtTm></GrpHdr>\n"
            f"<Stmt><Id>BENCH-PAY-1</Id><CreDtTm>2026-11-20T06:00:00</CreDtTm>"
            f"<Acct><Id><IBAN>{g.ACCOUNT_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>\n"
        )
        start = date(2026, 9, 1)
        for n, entry in enumerate(g._entries(entries, seed, "INC")):
            day = start + timedelta(days=n * 80 // entries)  # spread over Sep-Nov 2026, before the book's date
            txs = tuple(point(tx) if entry.credit and not tx.return_reason else tx for tx in entry.txs)
            f.write(g._entry_xml(replace(entry, booking_date=day, txs=txs)))
        f.write("</Stmt>\n</BkToCstmrStmt>\n</Document>\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, help="sqlite:///PATH or postgresql+psycopg://...")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--match", type=float, default=0.6)
    parser.add_argument("--keep", action="store_true", help="use the book in --db as it is")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-payments.xml"))
    args = parser.parse_args()
    incasso = str(Path(sys.executable).with_name("incasso"))
    day = ["--db", args.db, "--date", "2026-11-23"]
    if not args.keep:
        path = args.db.removeprefix("sqlite:///")
        if args.db.startswith("sqlite:///") and Path(path).exists():
            Path(path).unlink()
        subprocess.run(
            [incasso, "generate", "--loans", str(args.loans), "--seed", "7", *day], check=True, capture_output=True
        )
    write_statement(args.out, args.entries, _loan_numbers(args.db), args.match)
    # the statement's account is the lender's own (an import refuses any other, issue 16); no personal config file
    env = {**os.environ, "INCASSO_CONFIG": "/nonexistent/incasso.toml", "INCASSO_LENDER_ACCOUNTS": g.ACCOUNT_IBAN}
    command = [incasso, "payments", "import", str(args.out), *day, "--user", "demo", "--json"]
    load_before = os.getloadavg()
    bare_s, bare_mb, _ = timed([sys.executable, "-c", BARE, str(args.out)])
    import_s, import_mb, out = timed(command, env=env)
    again_s, again_mb, again = timed(command, env=env)
    print(
        json.dumps(
            {
                "file_mb": round(args.out.stat().st_size / 1e6, 1),
                "db": args.db.split("://")[0],
                "bare_lxml_s": round(bare_s, 2),
                "bare_lxml_rss_mb": round(bare_mb),
                "import_s": round(import_s, 2),
                "import_rss_mb": round(import_mb),
                "ratio_to_bare": round(import_s / bare_s, 1),
                "reimport_s": round(again_s, 2),
                "reimport_rss_mb": round(again_mb),
                "counts": json.loads(out),
                "reimport_counts": json.loads(again),
                "load_before": [round(x, 2) for x in load_before],
                "load_after": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
