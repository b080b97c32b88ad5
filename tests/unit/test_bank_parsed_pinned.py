"""What the statement readers make of the shared bank samples and of a generated CAMT.053 statement is pinned:
every entry's every field (as ``repr``), or the refusal with its message id and parameters. ``data/bank_parsed.json``
was written by the readers as they were before the parse was made faster (main at 6783a1c), so a faster reader must
read exactly the same entries, dedup keys included, and refuse the same files with the same message.

The generated statement is part of the pinned input: a change of ``benchmarks.gen_camt053`` needs the file written
again, with the readers of before that change. ``WRITE_BANK_PARSED=1`` writes the file instead of comparing (only to
pin a change that was meant)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from benchmarks.gen_camt053 import generate
from incasso_tui.bank import parse_statement_file
from incasso_tui.errors import BadFile

EXPECTED = Path(__file__).parent / "data" / "bank_parsed.json"
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "bank"


def _parsed(data: bytes, name: str) -> Any:
    try:
        statements = parse_statement_file(data, name)
    except BadFile as err:
        return {"error": [err.msgid, repr(err.params)]}
    return [
        {
            "format": st.format,
            "statement_id": st.statement_id,
            "account_iban": st.account_iban,
            "currency": st.currency,
            "entries": [[repr(v) for v in e] for e in st.entries],
        }
        for st in statements
    ]


def _all(tmp_path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix == ".md":
            continue
        data = path.read_bytes()
        out[path.name] = _parsed(data, path.name)
        if b'Ccy="CHF"' in data:  # the Swiss samples, their structure read in euro
            out[path.name + " (EUR)"] = _parsed(data.replace(b'Ccy="CHF"', b'Ccy="EUR"'), path.name)
    generated = tmp_path / "gen.xml"
    generate(generated, 400, seed=5)  # batches, returns, debits, structured references
    out["gen_camt053 400 entries seed 5"] = _parsed(generated.read_bytes(), "gen.xml")
    return out


def test_the_readers_read_the_samples_as_pinned(tmp_path: Path) -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"the bank samples are not in {SAMPLES} (the shared test data is not mounted)")
    got = _all(tmp_path)
    if os.environ.get("WRITE_BANK_PARSED"):
        EXPECTED.write_text(json.dumps(got, indent=0, sort_keys=True))
        pytest.skip("written")
    expected = json.loads(EXPECTED.read_text())
    assert sorted(got) == sorted(expected)
    for name, value in expected.items():
        assert got[name] == value, name
