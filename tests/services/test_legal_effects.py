"""Issue 12: legal effects follow recorded facts (dispatch, ruling, payment), costs per claim, BKR, interest, the
order of art. 6:44 BW, letters that say what the run does, and the outcome of a debt track. Both backends."""

from __future__ import annotations

import io
import json
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from incasso_tui.clock import FixedClock
from incasso_tui.config import Settings
from incasso_tui.errors import BadInput, RuleViolation
from incasso_tui.services.context import Context
from incasso_tui.services.dispatch import make_batch, mark_posted, set_email_consent, undo_batch, waiting_letters
from incasso_tui.services.letters import issue_by_hand, render_pending
from incasso_tui.services.procedure import run_procedure
from incasso_tui.services.users import resolve_actor
from incasso_tui.store.models import (
    AuditEvent,
    BkrMutation,
    Case,
    Charge,
    Client,
    DebtTrack,
    Installment,
    LedgerEntry,
    Letter,
    Loan,
    PrintBatch,
    Proposal,
)
from tests.conftest import AS_OF, NOW
from tests.dispatch_helpers import dispatch_waiting
from tests.letter_samples import LENDER

LENDER_SETTINGS = {f"lender_{k}": v for k, v in LENDER.model_dump(exclude={"display_name"}).items()}


def _ctx(db, user: str, day: date, tmp_path: Path, **settings: object) -> Context:  # type: ignore[no-untyped-def]
    clock = FixedClock(datetime.combine(day, NOW.time()))
    return Context(
        db=db,
        actor=resolve_actor(db, user),
        clock=clock,
        settings=Settings(letters_dir=tmp_path / "outbox", **LENDER_SETTINGS, **settings),
    )  # type: ignore[arg-type]


def _pdf_text(path: str | Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(Path(path).read_bytes()))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).replace("\xa0", " ").split())


def _one(db, sql: str, **params: object):  # type: ignore[no-untyped-def]
    with db.reader() as s:
        return s.execute(text(sql), params).scalar()


# ----- 1. the letter's life: only a dispatched letter has legal effect


def test_a_print_batch_is_posted_on_a_confirmed_date_and_only_then_the_terms_run(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(db, "bakker", AS_OF, tmp_path)
    run_procedure(ctx, AS_OF)
    render_pending(ctx)
    post = [w for w in waiting_letters(ctx) if w.channel == "letter"]
    assert post and {w.waits_for for w in post} == {"batch"}
    batch = make_batch(ctx)
    assert batch.batch_id and batch.letters == len(post)
    pages = len(pypdf.PdfReader(batch.file_path).pages)
    assert pages >= batch.letters  # one PDF holding every letter of the batch
    assert {w.waits_for for w in waiting_letters(ctx) if w.channel == "letter"} == {"post"}
    with pytest.raises(BadInput, match="in the future"):
        mark_posted(ctx, batch.batch_id, AS_OF + timedelta(days=1))
    with pytest.raises(BadInput, match="before the batch was made"):
        mark_posted(ctx, batch.batch_id, AS_OF - timedelta(days=1))
    with db.reader() as s:  # nothing dispatched yet: no term, no receipt
        assert not s.scalar(select(func.count()).where(Letter.batch_id == batch.batch_id, Letter.status == "sent"))
    later = _ctx(db, "bakker", AS_OF + timedelta(days=3), tmp_path)
    assert mark_posted(later, batch.batch_id, AS_OF + timedelta(days=2)) == batch.letters
    with db.reader() as s:
        letters = list(s.scalars(select(Letter).where(Letter.batch_id == batch.batch_id)))
        events = s.scalar(select(func.count()).where(AuditEvent.action == "letter.dispatched"))
    assert {(x.status, x.dispatched_on) for x in letters} == {("sent", AS_OF + timedelta(days=2))}
    assert all(x.received_on > x.dispatched_on for x in letters) and events == len(letters)
    fourteen = [x for x in letters if x.kind == "fourteen_day"]
    # posted on Wednesday 25 November: received Friday 27, 14 days to Friday 11 December, costs from Saturday 12
    assert {(x.received_on, x.costs_from) for x in fourteen} <= {(date(2026, 11, 27), date(2026, 12, 12))}
    with pytest.raises(RuleViolation, match="posted already"):
        mark_posted(later, batch.batch_id, AS_OF + timedelta(days=2))


def test_a_batch_that_was_not_posted_can_be_undone(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(db, "bakker", AS_OF, tmp_path)
    run_procedure(ctx, AS_OF)
    render_pending(ctx)
    first = make_batch(ctx)
    assert make_batch(ctx).batch_id is None  # nothing left to collect
    assert undo_batch(ctx, first.batch_id) == first.letters and not Path(first.file_path).exists()
    with db.reader() as s:
        assert s.get(PrintBatch, first.batch_id).status == "undone"
        assert not s.scalar(select(func.count()).where(Letter.batch_id == first.batch_id))
    again = make_batch(ctx)
    assert again.letters == first.letters
    with pytest.raises(RuleViolation, match="undone already"):
        mark_posted(ctx, first.batch_id, AS_OF)


def _consumer_case(db, *, email: bool = False):  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        case = s.scalars(
            select(Case)
            .join(Client, Client.id == Case.client_id)
            .where(
                Case.status == "active",
                Case.pos_arrears > 100,
                Client.consumer.is_(True),
                ~select(Letter.id)
                .where(Letter.case_id == Case.id, Letter.status.in_(("pending", "rendered")))
                .exists(),
            )
            .order_by(Case.id)
        ).first()
        client = s.get(Client, case.client_id)
        if email:
            client.email, client.preferred_channel = "klant@example.org", "email"
        return case.id, client.id


def test_legal_letters_go_by_post_unless_the_client_consented_to_e_mail(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(db, "demo", AS_OF, tmp_path)
    case_id, client_id = _consumer_case(db, email=True)
    first = issue_by_hand(ctx, case_id, "bkr_warning")
    with db.reader() as s:
        assert s.get(Letter, first).channel == "letter"  # prefers e-mail, but no consent: by post
    with pytest.raises(RuleViolation, match="did not consent"):
        issue_by_hand(ctx, case_id, "default_notice", channel="email")
    with pytest.raises(RuleViolation, match="never by WhatsApp"):
        issue_by_hand(ctx, case_id, "default_notice", channel="whatsapp")
    with pytest.raises(BadInput, match="Say how the consent was given"):
        set_email_consent(ctx, client_id, AS_OF, "")
    with pytest.raises(BadInput, match="in the future"):
        set_email_consent(ctx, client_id, AS_OF + timedelta(days=1), "formulier")
    set_email_consent(ctx, client_id, AS_OF - timedelta(days=3), "getekend machtigingsformulier")
    second = issue_by_hand(ctx, case_id, "default_notice")
    with db.reader() as s:
        assert s.get(Letter, second).channel == "email"
        client = s.get(Client, client_id)
        assert (client.email_consent_on, client.email_consent_source) == (
            AS_OF - timedelta(days=3),
            "getekend machtigingsformulier",
        )
        assert (
            s.scalar(
                select(func.count()).where(
                    AuditEvent.action == "client.email_consent", AuditEvent.entity_id == client_id
                )
            )
            == 1
        )


def test_a_second_waiting_letter_of_a_kind_is_refused_by_the_database(db) -> None:  # type: ignore[no-untyped-def]
    case_id, client_id = _consumer_case(db)
    row = {
        "case_id": case_id,
        "client_id": client_id,
        "kind": "reminder",
        "channel": "letter",
        "language": "nl",
        "letter_date": AS_OF,
        "figures": "{}",
        "status": "pending",
        "created_by": "t",
        "created_at": NOW,
    }
    with db.transaction() as s:
        s.add(Letter(**row))
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(Letter(**{**row, "status": "rendered"}))
    with db.transaction() as s:  # a dispatched or failed one does not wait: a new one may follow
        s.execute(update(Letter).where(Letter.case_id == case_id, Letter.kind == "reminder").values(status="sent"))
        s.add(Letter(**row))


def test_two_writers_at_once_make_one_waiting_letter_on_postgresql(db, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: two campaigns started at once on PostgreSQL (READ COMMITTED) both passed the check and gave clients
    two pending reminders. Both writers pass the check here too (a barrier holds them after it); the unique index
    refuses the second."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL")
    from incasso_tui.services import letters as letters_service

    case_id, _client = _consumer_case(db)
    barrier = threading.Barrier(2, timeout=20)
    original = letters_service.check_hand_letter

    def checked_then_wait(*args, **kwargs):  # type: ignore[no-untyped-def]
        original(*args, **kwargs)
        barrier.wait()

    monkeypatch.setattr(letters_service, "check_hand_letter", checked_then_wait)
    outcomes: list[str] = []

    def writer() -> None:
        ctx = _ctx(db, "demo", AS_OF, tmp_path)
        try:
            with db.transaction() as s:
                letters_service.decide_letter(ctx, s, case_id, "reminder", "letter")
            outcomes.append("made")
        except RuleViolation as err:
            outcomes.append(err.msgid)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == sorted(["made", "A letter of this kind to this client waits to be dispatched already"])
    assert (
        _one(
            db,
            "SELECT count(*) FROM letters WHERE case_id = :c AND kind = 'reminder' AND status = 'pending'",
            c=case_id,
        )
        == 1
    )


# ----- 2. costs per claim, never twice; the stacking limit; lid 4 only for commercial agreements


def test_a_second_fourteen_day_letter_covers_only_new_installments(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(db, "demo", AS_OF, tmp_path)
    case_id, client_id = _consumer_case(db)
    first = issue_by_hand(ctx, case_id, "fourteen_day")
    dispatch_waiting(db, AS_OF, id=first)
    with pytest.raises(RuleViolation, match="covered by an earlier 14-day letter"):
        issue_by_hand(ctx, case_id, "fourteen_day")
    with db.reader() as s:
        covered = json.loads(s.get(Letter, first).figures)["claims"]
        loan_ids = list(s.scalars(select(Loan.id).where(Loan.client_id == client_id)))
        next_due = s.scalar(
            select(func.min(Installment.due_date)).where(
                Installment.loan_id.in_(loan_ids), Installment.due_date >= AS_OF
            )
        )
    # a month on, one more installment fell due: the new letter covers that one only
    month = _ctx(db, "demo", next_due + timedelta(days=1), tmp_path)
    second = issue_by_hand(month, case_id, "fourteen_day")
    with db.reader() as s:
        claims = json.loads(s.get(Letter, second).figures)["claims"]
    assert claims and not {(c["loan"], c["seq"]) for c in claims} & {(c["loan"], c["seq"]) for c in covered}
    assert {c["due_date"] for c in claims} == {next_due.isoformat()}


def test_business_costs_under_lid_4_only_on_a_commercial_agreement(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(db, "bakker", AS_OF, tmp_path)
    with db.transaction() as s:  # business cases put at the demand stage, with no costs charged yet
        rows = s.execute(
            select(Case.id, Case.client_id)
            .join(Client, Client.id == Case.client_id)
            .where(Case.status == "active", Case.pos_arrears > 100, Client.consumer.is_(False))
            .order_by(Case.id)
            .limit(2)
        ).all()
        (commercial_case, commercial_client), (other_case, other_client) = rows
        for case_id in (commercial_case, other_case):
            s.execute(update(Case).where(Case.id == case_id).values(stage="demand", stage_since=AS_OF))
        for client_id in (commercial_client, other_client):
            s.execute(
                text("DELETE FROM charges WHERE loan_id IN (SELECT id FROM loans WHERE client_id = :c)"),
                {"c": client_id},
            )
        s.execute(update(Loan).where(Loan.client_id == other_client).values(commercial=False))
    run_procedure(ctx, AS_OF)
    costs = "SELECT count(*) FROM charges c JOIN loans l ON l.id = c.loan_id WHERE l.client_id = :c AND c.kind = 'collection_costs'"
    assert _one(db, costs, c=commercial_client) >= 1
    assert _one(db, costs, c=other_client) == 0  # not a commercial agreement: the consumer route (a 14-day letter)


# ----- 3. BKR only on facts, never for a legal person


def test_no_bkr_warning_nor_code_for_a_legal_person(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(db, "bakker", AS_OF, tmp_path)
    with db.transaction() as s:
        case_id, client_id = s.execute(
            select(Case.id, Case.client_id)
            .join(Client, Client.id == Case.client_id)
            .where(Case.status == "active", Case.pos_arrears > 500, Client.kind == "bv")
            .order_by(Case.id)
        ).first()
        s.execute(update(Case).where(Case.id == case_id).values(stage="call", stage_since=AS_OF - timedelta(days=60)))
    report = run_procedure(ctx, AS_OF)
    assert report.held["bkr_warning_legal_person"] >= 1
    later = AS_OF + timedelta(days=40)
    with db.transaction() as s:
        s.execute(
            update(Case).where(Case.id == case_id).values(stage="bkr_warning", stage_since=AS_OF - timedelta(days=60))
        )
    report = run_procedure(_ctx(db, "bakker", later, tmp_path), later)
    assert report.held["bkr_A_legal_person"] >= 1
    assert _one(db, "SELECT count(*) FROM letters WHERE case_id = :c AND kind = 'bkr_warning'", c=case_id) == 0
    assert (
        _one(db, "SELECT count(*) FROM bkr_mutations WHERE client_id = :c AND created_at >= :t", c=client_id, t=NOW)
        == 0
    )


# ----- 4. interest: the kind follows the loan; a track cancels the days from its ruling


def test_the_run_says_when_it_used_an_unverified_rate_row(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    day = date(2026, 12, 1)
    report = run_procedure(_ctx(db, "bakker", day, tmp_path), day)
    assert report.actions["charge_statutory_interest"] > 0
    assert "rates: row 2026-01-01 (data/rates.toml)" in report.unverified
    assert "rates: row 2026-01-01 (data/rates.toml)" in report.as_json()["unverified"]


def test_a_late_wsnp_cancels_the_interest_posted_from_the_ruling_and_the_claim_runs_until_it(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.domain.interest import load_rates
    from incasso_tui.domain.postings import InterestBasis, period_interest
    from incasso_tui.services.tracks import TrackInput, TrackKind, register_track

    day = date(2026, 12, 1)
    run_procedure(_ctx(db, "bakker", day, tmp_path), day)  # posts the statutory interest of November
    with db.reader() as s:
        charge = s.scalars(
            select(Charge)
            .join(Loan, Loan.id == Charge.loan_id)
            .join(Case, Case.client_id == Loan.client_id)
            .where(Charge.period_key == "interest:2026-11", Case.status == "active", Charge.paid == 0)
            .order_by(Charge.amount.desc())
        ).first()
        case = s.scalars(
            select(Case)
            .join(Loan, Loan.client_id == Case.client_id)
            .where(Loan.id == charge.loan_id, Case.status == "active")
        ).one()
        posted, basis = charge.amount, InterestBasis.from_json(charge.basis)
    ruling = date(2026, 11, 16)  # registered on 3 December, the ruling was on 16 November
    ctx = _ctx(db, "demo", date(2026, 12, 3), tmp_path)
    register_track(
        ctx,
        case.id,
        case.version,
        TrackInput(
            kind=TrackKind.WSNP,
            ruling_date=ruling,
            trustee_name="Mr. B. Bewind",
            trustee_contact="Postbus 1; 3500 AA Utrecht",
        ),
    )
    rates = load_rates()
    kept, _b, _u = period_interest(basis.lines, basis.period_start, ruling, basis.kind, rates)
    with db.reader() as s:
        after = s.get(Charge, charge.id)
        credit = s.scalars(
            select(LedgerEntry).where(LedgerEntry.loan_id == charge.loan_id, LedgerEntry.kind == "interest_credit")
        ).one()
        event = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "charge.interest_cancelled", AuditEvent.entity_id == charge.id
            )
        ).one()
        letter = s.scalars(select(Letter).where(Letter.case_id == case.id, Letter.kind == "claim_statement")).one()
        until = list(
            s.scalars(
                select(Charge).where(Charge.loan_id == charge.loan_id, Charge.period_key.like("interest:%:2026-11-16"))
            )
        )
    # 1-15 November stay (kept), 16-30 November are credited back: kept + credit = what was posted
    assert after.amount == kept and credit.amount == posted - kept and kept < posted
    assert json.loads(event.after)["cancelled"] == str(posted - kept)
    assert not until  # November was posted already: nothing to add before the ruling
    figures = json.loads(letter.figures)
    assert figures["interest_until"] == "2026-11-16"
    # a day inside the track is never charged: the December run posts no interest for this case
    run_procedure(_ctx(db, "bakker", date(2027, 1, 1), tmp_path), date(2027, 1, 1))
    assert (
        _one(
            db, "SELECT count(*) FROM charges WHERE loan_id = :l AND period_key = 'interest:2026-12'", l=charge.loan_id
        )
        == 0
    )


def test_a_wsnp_in_the_month_posts_the_interest_until_the_day_before_the_ruling(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.services.tracks import TrackInput, TrackKind, register_track

    day = date(2026, 12, 1)
    run_procedure(_ctx(db, "bakker", day, tmp_path), day)
    with db.reader() as s:
        case = s.scalars(
            select(Case)
            .join(Loan, Loan.client_id == Case.client_id)
            .join(Charge, Charge.loan_id == Loan.id)
            .where(Charge.period_key == "interest:2026-11", Case.status == "active")
        ).first()
    ruling = date(2026, 12, 10)
    ctx = _ctx(db, "demo", date(2026, 12, 11), tmp_path)
    register_track(
        ctx,
        case.id,
        case.version,
        TrackInput(
            kind=TrackKind.WSNP,
            ruling_date=ruling,
            trustee_name="Mr. B. Bewind",
            trustee_contact="Postbus 1; 3500 AA Utrecht",
        ),
    )
    with db.reader() as s:
        until = list(
            s.scalars(
                select(Charge)
                .join(Loan, Loan.id == Charge.loan_id)
                .where(Loan.client_id == case.client_id, Charge.period_key.like("interest:2026-12-01:2026-12-10"))
            )
        )
        letter = s.scalars(select(Letter).where(Letter.case_id == case.id, Letter.kind == "claim_statement")).one()
    assert until and all(c.amount > 0 for c in until)  # 1-9 December: the ruling month is in the claim
    render_pending(ctx)
    with db.reader() as s:
        letter = s.get(Letter, letter.id)
    words = _pdf_text(letter.file_path)
    assert "Rente tot 10 december 2026" in words and "tot en met" not in words
    assert "Mr. B. Bewind" in words and "Postbus 1" in words  # addressed to the bewindvoerder
    assert "kopie van de leningsovereenkomst" in words


# ----- 5. art. 6:44 BW: costs, then interest (statutory interest too), then principal


def test_a_payment_goes_to_the_collection_costs_before_the_statutory_interest(db) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.services.payments.booking import Book

    with db.transaction() as s:
        loan_id = s.scalar(select(Loan.id).where(Loan.status == "active").order_by(Loan.id))
        s.execute(text("DELETE FROM charges WHERE loan_id = :l"), {"l": loan_id})
        # the statutory interest fell due before the collection costs: by date alone it would be paid first
        interest = Charge(
            loan_id=loan_id,
            kind="statutory_interest",
            due_date=AS_OF - timedelta(days=30),
            amount=Decimal("10.00"),
            paid=Decimal("0.00"),
            period_key="interest:test",
        )
        costs = Charge(
            loan_id=loan_id,
            kind="collection_costs",
            due_date=AS_OF - timedelta(days=1),
            amount=Decimal("40.00"),
            paid=Decimal("0.00"),
            period_key="wik:test",
        )
        s.add_all([interest, costs])
        s.flush()
        book = Book(s, "test", NOW)
        posting = book.pay(loan_id, Decimal("45.00"), AS_OF, "test")
        book.write()
        parts = [(component, charge, amount) for component, _seq, charge, amount in posting.parts]
    # 40.00 to the collection costs (costs), then 5.00 to the statutory interest (interest)
    assert parts[:2] == [("costs", costs.id, Decimal("40.00")), ("interest", interest.id, Decimal("5.00"))]


# ----- 7. ending a track asks its outcome


def _track(db, tmp_path, day: date):  # type: ignore[no-untyped-def]
    from incasso_tui.services.tracks import TrackInput, TrackKind, register_track

    case_id, client_id = _consumer_case(db)
    ctx = _ctx(db, "demo", day, tmp_path)
    with db.reader() as s:
        version = s.get(Case, case_id).version
    register_track(
        ctx,
        case_id,
        version,
        TrackInput(
            kind=TrackKind.WSNP,
            ruling_date=day - timedelta(days=20),
            trustee_name="Mr. C. Curator",
            trustee_contact="Postbus 2; 3500 AB Utrecht",
        ),
    )
    with db.reader() as s:
        return case_id, client_id, s.get(Case, case_id).version


def test_a_clean_slate_proposes_the_write_off_and_nothing_follows(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.errors import FourEyesViolation
    from incasso_tui.services.proposals import decide
    from incasso_tui.services.tracks import end_track

    case_id, client_id, version = _track(db, tmp_path, AS_OF)
    ctx = _ctx(db, "bakker", AS_OF, tmp_path)
    ended = end_track(ctx, case_id, version, "schone_lei")
    with db.reader() as s:
        case, proposal = s.get(Case, case_id), s.get(Proposal, ended.proposal_id)
        track = s.scalars(select(DebtTrack).where(DebtTrack.case_id == case_id)).one()
    assert (case.status, track.outcome) == ("closed", "schone_lei") and proposal.status == "submitted"
    payload = json.loads(proposal.payload)
    assert payload["no_bkr"] and Decimal(payload["amount"]) == ended.written_off_proposed > 0
    with pytest.raises(FourEyesViolation):
        decide(ctx, proposal.id, proposal.version, approve=True)
    # another supervisor approves it
    with db.transaction() as s:
        s.execute(
            text(
                "INSERT INTO users (name, full_name, role, language, active, created_at) "
                "VALUES ('kok', 'Kees Kok', 'supervisor', 'nl', :t, :n)"
            ),
            {"t": True, "n": NOW},
        )
    decide(_ctx(db, "kok", AS_OF, tmp_path), proposal.id, proposal.version, approve=True)
    with db.reader() as s:
        statuses = set(s.scalars(select(Loan.status).where(Loan.client_id == client_id, Loan.status != "repaid")))
        codes = set(
            s.scalars(select(BkrMutation.code).where(BkrMutation.client_id == client_id, BkrMutation.created_at >= NOW))
        )
    assert statuses == {"written_off"} and "3" not in codes
    later = AS_OF + timedelta(days=40)
    run_procedure(_ctx(db, "bakker", later, tmp_path), later)
    assert _one(db, "SELECT count(*) FROM cases WHERE client_id = :c AND status <> 'closed'", c=client_id) == 0


def test_a_rejected_track_resumes_the_procedure_without_interest_for_the_track_days(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.services.procedure import resume_dates
    from incasso_tui.services.tracks import end_track

    case_id, client_id, version = _track(db, tmp_path, AS_OF)
    with pytest.raises(BadInput, match="Say how the track ended"):
        end_track(_ctx(db, "demo", AS_OF, tmp_path), case_id, version)
    end_track(_ctx(db, "demo", AS_OF, tmp_path), case_id, version, "rejected")
    with db.reader() as s:
        assert s.get(Case, case_id).status == "active"
        assert resume_dates(s, [client_id]) == {client_id: AS_OF + timedelta(days=1)}
    run_procedure(_ctx(db, "bakker", date(2026, 12, 1), tmp_path), date(2026, 12, 1))
    with db.reader() as s:
        for charge in s.scalars(
            select(Charge)
            .join(Loan, Loan.id == Charge.loan_id)
            .where(Loan.client_id == client_id, Charge.period_key == "interest:2026-11")
        ):
            starts = {line[1] for line in json.loads(charge.basis)["lines"]}
            assert min(starts) >= (AS_OF + timedelta(days=1)).isoformat()  # not a day inside the track


def test_a_settlement_keeps_the_agreed_amount_and_proposes_the_rest(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.services.tracks import end_track

    case_id, _client_id, version = _track(db, tmp_path, AS_OF)
    ctx = _ctx(db, "demo", AS_OF, tmp_path)
    with pytest.raises(BadInput, match="agreed amount"):
        end_track(ctx, case_id, version, "settled")
    ended = end_track(ctx, case_id, version, "settled", settled_amount=Decimal("100.00"))
    with db.reader() as s:
        case = s.get(Case, case_id)
        payload = json.loads(s.get(Proposal, ended.proposal_id).payload)
    assert case.status == "paused" and case.pause_until == AS_OF + timedelta(days=30)
    assert Decimal(payload["amount"]) == ended.written_off_proposed


def test_a_late_track_cancels_collection_costs_that_fell_due_after_the_ruling(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.services.tracks import TrackInput, TrackKind, register_track

    case_id, client_id = _consumer_case(db)
    with db.transaction() as s:
        loan_id = s.scalar(select(Loan.id).where(Loan.client_id == client_id).order_by(Loan.id))
        before = Charge(
            loan_id=loan_id,
            kind="collection_costs",
            due_date=AS_OF - timedelta(days=20),
            amount=Decimal("40.00"),
            paid=Decimal("0.00"),
            period_key="wik:letter:before",
        )
        after = Charge(
            loan_id=loan_id,
            kind="collection_costs",
            due_date=AS_OF - timedelta(days=5),
            amount=Decimal("75.00"),
            paid=Decimal("10.00"),
            period_key="wik:letter:after",
        )
        s.add_all([before, after])
        s.flush()
        ids = (before.id, after.id)
        version = s.get(Case, case_id).version
    # the ruling 10 days ago reaches the desk today: the costs whose term ran out after it are not owed
    register_track(
        _ctx(db, "demo", AS_OF, tmp_path),
        case_id,
        version,
        TrackInput(
            kind=TrackKind.WSNP,
            ruling_date=AS_OF - timedelta(days=10),
            trustee_name="Mr. D",
            trustee_contact="Postbus 3",
        ),
    )
    with db.reader() as s:
        kept, cancelled = s.get(Charge, ids[0]), s.get(Charge, ids[1])
        entry = s.scalars(
            select(LedgerEntry).where(LedgerEntry.loan_id == loan_id, LedgerEntry.kind == "costs_credit")
        ).one()
        letter = s.scalars(select(Letter).where(Letter.case_id == case_id, Letter.kind == "claim_statement")).one()
    assert (kept.amount, cancelled.amount, cancelled.paid) == (Decimal("40.00"), Decimal("0.00"), Decimal("0.00"))
    assert (entry.amount, entry.credit) == (Decimal("75.00"), Decimal("10.00"))  # the 10.00 paid: credit on the loan
    assert Decimal(json.loads(letter.figures)["costs"]) >= Decimal("40.00")
