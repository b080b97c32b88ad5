"""Assisted matching (services.matching) on both databases: ranked candidates with reasons, the allocation shown
before booking, booking a candidate, debits apart and marked in bulk, undo with four eyes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from incasso_tui.clock import FixedClock
from incasso_tui.errors import BadInput, FourEyesViolation, NotAllowed, RuleViolation
from incasso_tui.services import matching, payments
from incasso_tui.store.models import AuditEvent, BankEntryRow, Case, Client, Installment, LedgerEntry, Loan
from tests.conftest import NOW
from tests.payment_files import Tx, camt053


def _client_with_arrears(ctx):  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        one_loan = select(Loan.client_id).group_by(Loan.client_id).having(func.count() == 1).scalar_subquery()
        case, loan, client = s.execute(
            select(Case, Loan, Client)
            .join(Client, Client.id == Case.client_id)
            .join(Loan, Loan.client_id == Client.id)
            .where(Case.status == "active", Case.pos_arrears > 0, Client.id.in_(one_loan), Client.kind == "natural")
            .order_by(Case.id)
        ).first()
        inst = (
            s.execute(
                select(Installment)
                .where(
                    Installment.loan_id == loan.id,
                    Installment.principal_paid + Installment.interest_paid == 0,
                    Installment.due_date < date(2026, 11, 23),
                )
                .order_by(Installment.seq)
            )
            .scalars()
            .first()
        )
        return case, loan, client, inst.principal + inst.interest


def _queue_one(ctx, amount: str, name: str, text: str = "", iban: str | None = None, ref: str = "M1") -> int:  # type: ignore[no-untyped-def]
    payments.import_statement(ctx, camt053([Tx(amount, name=name, iban=iban, text=text, bank_ref=ref)], f"S-{ref}"))
    return next(q.id for q in payments.queue(ctx) if q.amount == Decimal(amount))


def test_candidates_are_ranked_with_their_reasons(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case, loan, client, installment = _client_with_arrears(ctx)
    first, *rest = client.name.split()
    # "J. Dijkstra"-style: an initial and the surname, the amount of one installment, no reference, no IBAN
    entry = _queue_one(ctx, str(installment), f"{first[0]}. {rest[-1]}")
    found = matching.candidates(ctx, entry)
    assert found, "no candidates"
    top = next(c for c in found if c.client_id == client.id)
    msgids = [r.msgid for r in top.reasons]
    assert "the payer's name is {percent} % like the client's" in msgids
    assert "the amount is an installment of the loan" in msgids
    # 30 for the name (both words), 20 for the amount
    assert top.score == 50 and top.loan_id == loan.id and top.case_id == case.id
    assert found == sorted(found, key=lambda c: (-c.score, c.client_name, c.loan_number))


def test_iban_and_loan_number_outrank_a_name(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    _case, loan, client, _i = _client_with_arrears(ctx)
    entry = _queue_one(
        ctx, "12.34", "Iemand Anders", text=f"betaling {loan.number[1:]} nov", iban="NL02ABNA0123456789", ref="M2"
    )
    found = matching.candidates(ctx, entry)
    assert found[0].client_id == client.id
    assert [r.msgid for r in found[0].reasons][0] == "loan number {loan} in the description"


def test_preview_shows_the_allocation_and_booking_makes_it(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case, loan, client, installment = _client_with_arrears(ctx)
    entry = _queue_one(ctx, str(installment), client.name, ref="M3")
    shown = matching.preview(ctx, entry, loan.id)
    assert shown.client_name == client.name and shown.amount == installment
    assert shown.costs + shown.interest + shown.principal + shown.credit == installment
    ledger_id = matching.book_candidate(ctx, entry, loan.id)
    with ctx.db.reader() as s:
        booked = s.get(LedgerEntry, ledger_id)
        assert booked.amount == installment and booked.credit == shown.credit
    # a colleague who picks the same entry now is told who dealt with it
    with pytest.raises(RuleViolation) as err:
        matching.book_candidate(ctx_for("jansen"), entry, loan.id)
    assert err.value.params["name"] == "demo"


def test_debits_are_listed_apart_and_marked_in_bulk(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    payments.import_statement(
        ctx,
        camt053(
            [
                Tx("564.05", credit=False, reversal=True, return_reason="MD06", e2e="NOPE-1", bank_ref="D1"),
                Tx("2.50", credit=False, reversal=True, return_reason="AC04", e2e="NOPE-2", bank_ref="D2"),
                Tx("9.99", iban=None, text="?", bank_ref="D3"),
            ],
            "S-D",
        ),
    )
    money_in, money_out = matching.split_queue(ctx)
    assert [r.amount for r in money_in] == [Decimal("9.99")]
    assert sorted(r.amount for r in money_out) == [Decimal("2.50"), Decimal("564.05")]
    with pytest.raises(RuleViolation):  # a client's payment is not marked in bulk
        matching.mark_not_ours_many(ctx, [money_in[0].id, money_out[0].id], "bank")
    assert len(matching.split_queue(ctx)[1]) == 2  # all or nothing
    with pytest.raises(BadInput):
        matching.mark_not_ours_many(ctx, [r.id for r in money_out], " ")
    assert matching.mark_not_ours_many(ctx, [r.id for r in money_out], "storno's van de bank") == 2
    assert matching.split_queue(ctx) == (money_in, [])


def _booked(ctx, client, loan, installment, ref):  # type: ignore[no-untyped-def]
    entry = _queue_one(ctx, str(installment), client.name, ref=ref)
    matching.book_candidate(ctx, entry, loan.id)
    return entry


def _paid(ctx, loan_id):  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        cents = s.scalar(
            select(func.sum(Installment.principal_paid + Installment.interest_paid)).where(
                Installment.loan_id == loan_id
            )
        )  # arithmetic on Money columns: whole cents
        return Decimal(cents) / 100


def test_the_booker_undoes_the_same_day_and_the_entry_is_back_in_the_queue(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case, loan, client, installment = _client_with_arrears(ctx)
    paid_before = _paid(ctx, loan.id)
    with ctx.db.reader() as s:
        arrears_before = s.get(Case, case.id).pos_arrears
    entry = _booked(ctx, client, loan, installment, "U1")
    assert _paid(ctx, loan.id) == paid_before + installment
    assert [b.id for b in matching.booked_from_queue(ctx)] == [entry]
    with pytest.raises(NotAllowed):  # a colleague may not
        matching.undo_booking(ctx_for("jansen"), entry)
    matching.undo_booking(ctx, entry)
    assert _paid(ctx, loan.id) == paid_before
    with ctx.db.reader() as s:
        row = s.get(BankEntryRow, entry)
        assert (row.status, row.loan_id, row.ledger_id) == ("unmatched", None, None)
        assert s.get(Case, case.id).pos_arrears == arrears_before
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "payment.undo")).one()
        assert event.entity_id == entry and event.case_id == case.id
    assert entry in [q.id for q in payments.queue(ctx)]
    with pytest.raises(RuleViolation):  # twice is not possible
        matching.undo_booking(ctx, entry)


def test_the_next_day_only_another_supervisor_with_a_reason(ctx_for, db) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    _case, loan, client, installment = _client_with_arrears(ctx)
    entry = _booked(ctx, client, loan, installment, "U2")
    from incasso_tui.config import Settings
    from incasso_tui.services.context import Context
    from incasso_tui.services.users import resolve_actor

    later = FixedClock(NOW + timedelta(days=1))
    demo = Context(db=db, actor=resolve_actor(db, "demo"), clock=later, settings=Settings())
    bakker = Context(db=db, actor=resolve_actor(db, "bakker"), clock=later, settings=Settings())
    with pytest.raises(NotAllowed):
        matching.undo_booking(demo, entry)
    with pytest.raises(BadInput):
        matching.undo_booking(bakker, entry, "")
    matching.undo_booking(bakker, entry, "verkeerde klant gekozen")
    with db.reader() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "payment.undo")).one()
        assert event.actor == "bakker" and "verkeerde klant gekozen" in event.after


def test_a_supervisor_does_not_undo_their_own_booking_later(ctx_for, db) -> None:  # type: ignore[no-untyped-def]
    bakker = ctx_for("bakker")
    _case, loan, client, installment = _client_with_arrears(bakker)
    entry = _booked(bakker, client, loan, installment, "U3")
    from incasso_tui.services.context import Context

    later = Context(db=db, actor=bakker.actor, clock=FixedClock(NOW + timedelta(days=2)), settings=bakker.settings)
    with pytest.raises(FourEyesViolation):
        matching.undo_booking(later, entry, "reden")


def test_undo_is_refused_when_a_later_payment_moved_the_allocation(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    _case, loan, client, installment = _client_with_arrears(ctx)
    entry = _queue_one(ctx, "1.00", client.name, ref="U4")  # pays part of the oldest line
    matching.book_candidate(ctx, entry, loan.id)
    paid = _paid(ctx, loan.id)
    payments.import_statement(ctx, camt053([Tx("2.00", text=loan.number, bank_ref="U5")], "S-U5"))  # the same line
    with pytest.raises(RuleViolation) as err:
        matching.undo_booking(ctx, entry)
    assert "undo that one first" in err.value.msgid
    assert _paid(ctx, loan.id) == paid + Decimal("2.00")  # nothing half done


def test_two_undos_at_once_undo_once(ctx_for) -> None:  # type: ignore[no-untyped-def]
    """Two sessions undo the same booking at the same moment: the entry row is locked, the second finds it back in
    the queue and is refused; the allocation is reversed once."""
    import threading

    ctx = ctx_for()
    _case, loan, client, installment = _client_with_arrears(ctx)
    paid_before = _paid(ctx, loan.id)
    entry = _booked(ctx, client, loan, installment, "C1")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def undo() -> None:
        barrier.wait()
        try:
            matching.undo_booking(ctx, entry)
            outcomes.append("undone")
        except RuleViolation:
            outcomes.append("refused")

    threads = [threading.Thread(target=undo) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["refused", "undone"]
    assert _paid(ctx, loan.id) == paid_before
    with ctx.db.reader() as s:
        reversals = s.scalars(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "payment.undo"))
        assert reversals.one() == 1
