"""The outcome of importing a sample statement is pinned: what each entry became (status, reason, detail, loan,
what it reversed), every ledger row and allocation the import wrote, the position of every touched case, the audit
events, and the counts. The expected outcome (``data/import_outcome.json``) was written by the import as it was
before the bulk work of issue 18 (main at 4b5c54f), so a faster import must give exactly the same result.

The statement (about 400 entries) is made from the test book's own loans, clients and IBANs in a fixed order: RF
references, betalingskenmerken of loans and clients, loan numbers in the text, IBANs of clients with one and with
several loans, references of nobody, a batch of two, identical payments, our own debits, and reversals and returns
of payments in the same file (by end-to-end id and by IBAN) and of nothing.

``WRITE_IMPORT_OUTCOME=1`` writes the file instead of comparing (only to pin a change in the matching that
was meant)."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from incasso_tui.domain.references import make_betalingskenmerk, make_rf
from incasso_tui.services import payments
from incasso_tui.store.models import (
    Allocation,
    AuditEvent,
    BankEntryRow,
    Case,
    Client,
    LedgerEntry,
    Loan,
)
from tests.payment_files import Tx, camt053

EXPECTED = Path(__file__).parent / "data" / "import_outcome.json"


def _statement(ctx) -> bytes:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        loans = s.execute(
            select(Loan.number, Client.number, Client.iban)
            .join(Client, Client.id == Loan.client_id)
            .where(Loan.status != "repaid")
            .order_by(Loan.id)
            .limit(240)
        ).all()
    entries: list[list[Tx] | Tx] = []
    n = 0

    def ref(tag: str) -> str:
        nonlocal n
        n += 1
        return f"{tag}{n:05d}"

    for i, (loan, client, iban) in enumerate(loans):
        amount = f"{(i * 37) % 400 + 5}.{i % 100:02d}"
        kind = i % 8
        if kind == 0:
            entries.append(Tx(amount, reference=make_rf("INC" + loan[1:]), e2e=ref("E"), bank_ref=ref("B")))
        elif kind == 1:
            entries.append(Tx(amount, reference=make_betalingskenmerk(loan[1:]), bank_ref=ref("B")))
        elif kind == 2:
            entries.append(Tx(amount, reference=make_betalingskenmerk(client[1:]), bank_ref=ref("B")))
        elif kind == 3:
            entries.append(Tx(amount, text=f"Aflossing {loan} termijn", iban=None, bank_ref=ref("B")))
        elif kind == 4 and iban:
            entries.append(Tx(amount, iban=iban, text="betaling", e2e=ref("E"), bank_ref=ref("B")))
        elif kind == 5:  # a batch of two: one for this loan, one for nobody
            entries.append(
                [
                    Tx(amount, reference=make_rf("INC" + loan[1:]), bank_ref=ref("B")),
                    Tx("7.00", reference=make_rf("INC99999999"), bank_ref=ref("B")),
                ]
            )
        elif kind == 6:
            entries.append(Tx(amount, text=f"{loan} en L00000001", iban="NL02ABNA0123456789", bank_ref=ref("B")))
        else:
            entries.append(Tx(amount, iban="NL02ABNA0123456789", text="geen idee", bank_ref=ref("B")))
    # identical payments, our own debits, reversals and returns of payments of this file and of nothing
    first = loans[0][0]
    for _ in range(2):
        entries.append(Tx("21.00", reference=make_rf("INC" + first[1:]), e2e="E-SAME", bank_ref=ref("B")))
    for i in range(20):
        entries.append(Tx(f"{i + 50}.00", credit=False, text="huur kantoor", bank_ref=ref("B")))
    payments_with_e2e = [e for e in entries if isinstance(e, Tx) and e.credit and e.e2e and e.e2e != "E-SAME"]
    for j, tx in enumerate(payments_with_e2e[:30]):
        how = j % 3
        if how == 0:  # a reversal by end-to-end id
            entries.append(Tx(tx.amount, e2e=tx.e2e, iban=tx.iban, credit=False, reversal=True, bank_ref=ref("R")))
        elif how == 1:  # a return by end-to-end id
            entries.append(
                Tx(tx.amount, e2e=tx.e2e, iban=tx.iban, credit=False, return_reason="AC06", bank_ref=ref("R"))
            )
        elif tx.iban:  # by IBAN and amount (no end-to-end id)
            entries.append(Tx(tx.amount, iban=tx.iban, credit=False, return_reason="MD06", bank_ref=ref("R")))
    entries.append(Tx("21.00", e2e="E-SAME", credit=False, reversal=True, bank_ref=ref("R")))
    entries.append(Tx("1.23", e2e="E-NOTHING", credit=False, reversal=True, bank_ref=ref("R")))  # of nothing
    return camt053(entries, statement_id="OUTCOME-1")


def _jsonable(rows: list[Any]) -> list[list[Any]]:
    return [[str(v) if isinstance(v, Decimal) else v for v in row] for row in rows]


def _outcome(ctx, import_id: int, first_ledger: int, first_event: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        loan_number = dict(s.execute(select(Loan.id, Loan.number)).all())
        entries = s.execute(
            select(
                BankEntryRow.id,
                BankEntryRow.status,
                BankEntryRow.match_reason,
                BankEntryRow.match_detail,
                BankEntryRow.loan_id,
                BankEntryRow.amount,
                BankEntryRow.credit,
                BankEntryRow.reverses_id,
                BankEntryRow.ledger_id,
            )
            .where(BankEntryRow.import_id == import_id)
            .order_by(BankEntryRow.id)
        ).all()
        first_entry = entries[0][0]
        ledger = s.execute(
            select(
                LedgerEntry.id,
                LedgerEntry.loan_id,
                LedgerEntry.kind,
                LedgerEntry.amount,
                LedgerEntry.booking_date,
                LedgerEntry.credit,
            )
            .where(LedgerEntry.id >= first_ledger)
            .order_by(LedgerEntry.id)
        ).all()
        allocations = s.execute(
            select(
                Allocation.ledger_id,
                Allocation.loan_id,
                Allocation.installment_seq,
                Allocation.charge_id,
                Allocation.component,
                Allocation.amount,
            )
            .where(Allocation.ledger_id >= first_ledger)
            .order_by(Allocation.id)
        ).all()
        touched = sorted({row[1] for row in ledger})
        cases = s.execute(
            select(Case.id, Case.status, Case.pos_arrears, Case.pos_oldest_due, Case.pos_as_of)
            .join(Loan, Loan.client_id == Case.client_id)
            .where(Loan.id.in_(touched))
            .distinct()
            .order_by(Case.id)
        ).all()
        events = s.execute(
            select(AuditEvent.action, AuditEvent.entity, AuditEvent.entity_id, AuditEvent.case_id, AuditEvent.after)
            .where(AuditEvent.id >= first_event)
            .order_by(AuditEvent.id)
        ).all()
    return {
        "entries": _jsonable(
            [
                [
                    status,
                    reason,
                    detail,
                    loan_number.get(loan_id),
                    amount,
                    credit,
                    None if reverses is None else reverses - first_entry,
                    None if ledger_id is None else ledger_id - first_ledger,
                ]
                for _id, status, reason, detail, loan_id, amount, credit, reverses, ledger_id in entries
            ]
        ),
        "ledger": _jsonable(
            [
                [loan_number[loan_id], kind, amount, str(day), credit]
                for _id, loan_id, kind, amount, day, credit in ledger
            ]
        ),
        "allocations": _jsonable(
            [
                [lid - first_ledger, loan_number[loan], seq, charge, comp, amount]
                for lid, loan, seq, charge, comp, amount in allocations
            ]
        ),
        "cases": _jsonable(
            [[cid, status, arrears, str(oldest), str(as_of)] for cid, status, arrears, oldest, as_of in cases]
        ),
        "events": [
            [
                action,
                entity,
                None if entity_id is None else entity_id - first_entry,
                case_id,
                _relative(after, first_ledger),
            ]
            for action, entity, entity_id, case_id, after in events
            if action != "payments.import"
        ],
    }


def _dumps(outcome: dict[str, Any]) -> str:
    """The outcome as JSON with one entry, row or event per line (a change shows as the lines it changes)."""
    parts = []
    for name, value in sorted(outcome.items()):
        if isinstance(value, list):
            rows = ",\n".join("  " + json.dumps(row, sort_keys=True) for row in value)
            parts.append(f"{json.dumps(name)}: [\n{rows}\n]")
        else:
            parts.append(f"{json.dumps(name)}: {json.dumps(value, sort_keys=True)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _relative(after: str | None, first_ledger: int) -> Any:
    value = json.loads(after) if after else None
    if isinstance(value, dict) and isinstance(value.get("ledger_id"), int):
        value["ledger_id"] -= first_ledger
    return value


def test_the_outcome_of_a_sample_statement_is_what_it_was(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    data = _statement(ctx)
    with ctx.db.reader() as s:
        first_ledger = (s.scalar(select(func.max(LedgerEntry.id))) or 0) + 1
        first_event = (s.scalar(select(func.max(AuditEvent.id))) or 0) + 1
    report = payments.import_statement(ctx, data, "outcome.xml")
    assert report.import_id is not None
    got = {
        "counts": report.counts(),
        "reversals": report.reversals,
        "recoveries": report.recoveries,
        **_outcome(ctx, report.import_id, first_ledger, first_event),
    }
    again = payments.import_statement(ctx, data, "outcome.xml")
    got["again"] = again.counts()
    if os.environ.get("WRITE_IMPORT_OUTCOME") == "1":
        EXPECTED.parent.mkdir(exist_ok=True)
        EXPECTED.write_text(_dumps(got))
    expected = json.loads(EXPECTED.read_text())
    assert got["counts"] == expected["counts"]
    assert got["again"] == {
        **expected["counts"],
        "new": 0,
        "duplicates": expected["counts"]["entries"],
        "matched": 0,
        "unmatched": 0,
    }
    for part in ("entries", "ledger", "allocations", "cases", "events"):
        assert json.loads(json.dumps(got[part])) == expected[part], part
    assert (got["reversals"], got["recoveries"]) == (expected["reversals"], expected["recoveries"])
