"""Outside collection (issue 19): parties, the four-eyes handover with its dossier, the hold on own dunning,
payments while at the party, status reports by hand and from CSV, recall, KPIs."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from incasso_tui.clock import FixedClock
from incasso_tui.errors import BadFile, BadInput, FourEyesViolation, NotAllowed, NotFound, RuleViolation
from incasso_tui.services import external as ext
from incasso_tui.services import payments
from incasso_tui.services.context import Context
from incasso_tui.services.letters import issue_by_hand, render_pending
from incasso_tui.services.procedure import run_procedure
from incasso_tui.store.models import (
    AuditEvent,
    Case,
    Charge,
    Client,
    ExternalClaim,
    ExternalReport,
    Installment,
    Letter,
    Loan,
)
from tests.conftest import AS_OF
from tests.payment_files import Tx, camt053
from tests.services.test_letters_service import LENDER_SETTINGS

BAILIFF = ext.PartyInput(
    name="Van Dam Gerechtsdeurwaarders",
    kind="bailiff",
    street="Kade 1",
    postcode="3011 AA",
    city="Rotterdam",
    iban="NL18RABO0123459876",
    contact="mr. A. van Dam",
)
AGENCY = ext.PartyInput(
    name="Incasso Noord",
    kind="agency",
    street="Markt 2",
    postcode="9711 AB",
    city="Groningen",
    iban="NL18RABO0123459876",
)


def _ctx(ctx_for, tmp_path: Path, user: str):  # type: ignore[no-untyped-def]
    return ctx_for(user, letters_dir=tmp_path / "outbox", **LENDER_SETTINGS)


def _consumer_case(ctx) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """An active consumer case in arrears, its client's name and its first loan's number."""
    with ctx.db.reader() as s:
        case, client = s.execute(
            select(Case, Client)
            .join(Client, Client.id == Case.client_id)
            .where(Case.status == "active", Client.consumer.is_(True), Case.pos_arrears >= 100)
            .order_by(Case.id)
        ).first()
        loan = s.scalars(select(Loan.number).where(Loan.client_id == client.id).order_by(Loan.number)).first()
        return case.id, client.name, loan


def _at_party(ctx_for, tmp_path):  # type: ignore[no-untyped-def]
    visser, bakker = _ctx(ctx_for, tmp_path, "visser"), _ctx(ctx_for, tmp_path, "bakker")
    ext.add_party(bakker, BAILIFF)
    case_id, name, loan = _consumer_case(visser)
    claim_id = ext.propose_handover(visser, case_id, BAILIFF.name, "Opgeëist, geen reactie")
    decision = ext.decide_handover(bakker, claim_id, approve=True)
    return visser, bakker, case_id, name, loan, decision


def test_a_party_needs_a_kind_an_address_and_an_iban_and_only_an_agency_has_a_wki_registration(
    ctx_for, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    bakker = _ctx(ctx_for, tmp_path, "bakker")
    with pytest.raises(BadInput, match="kind"):
        ext.add_party(bakker, ext.PartyInput(**{**BAILIFF.__dict__, "kind": ""}))
    with pytest.raises(BadInput, match="street"):  # a party without an address
        ext.add_party(bakker, ext.PartyInput(**{**BAILIFF.__dict__, "street": "  "}))
    with pytest.raises(BadInput, match="IBAN"):
        ext.add_party(bakker, ext.PartyInput(**{**BAILIFF.__dict__, "iban": "NL00RABO0000000000"}))
    with pytest.raises(BadInput, match="Wki"):
        ext.add_party(bakker, ext.PartyInput(**{**BAILIFF.__dict__, "wki_registration": "W-123"}))
    with pytest.raises(NotAllowed):
        ext.add_party(_ctx(ctx_for, tmp_path, "demo"), BAILIFF)
    party_id = ext.add_party(bakker, BAILIFF)
    with pytest.raises(RuleViolation, match="already"):
        ext.add_party(bakker, BAILIFF)
    (row,) = ext.parties(bakker, kind="bailiff")
    assert row.id == party_id and row.iban == "NL18RABO0123459876" and row.contact == "mr. A. van Dam"
    assert ext.party(bakker, BAILIFF.name).open_claims == 0
    with pytest.raises(NotFound):
        ext.party(bakker, "Niemand")


def test_a_consumer_claim_never_goes_to_an_agency_without_a_wki_registration(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    visser = _ctx(ctx_for, tmp_path, "visser")
    ext.add_party(visser, AGENCY)
    ext.add_party(visser, ext.PartyInput(**{**AGENCY.__dict__, "name": "Incasso Zuid", "wki_registration": "WKI-0042"}))
    case_id, _name, _loan = _consumer_case(visser)
    with pytest.raises(RuleViolation, match="Wki registration"):
        ext.propose_handover(visser, case_id, AGENCY.name, "Geen reactie")
    assert ext.propose_handover(visser, case_id, "Incasso Zuid", "Geen reactie") > 0


def test_four_eyes_the_statement_the_dossier_pdf_and_json_and_the_two_letters(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    visser, bakker = _ctx(ctx_for, tmp_path, "visser"), _ctx(ctx_for, tmp_path, "bakker")
    demo = _ctx(ctx_for, tmp_path, "demo")
    ext.add_party(bakker, BAILIFF)
    case_id, name, loan = _consumer_case(visser)
    with pytest.raises(NotAllowed):
        ext.propose_handover(demo, case_id, BAILIFF.name, "x")
    with pytest.raises(BadInput):
        ext.propose_handover(visser, case_id, BAILIFF.name, " ")
    claim_id = ext.propose_handover(visser, case_id, BAILIFF.name, "Opgeëist, geen reactie")
    with pytest.raises(RuleViolation, match="already"):
        ext.propose_handover(bakker, case_id, BAILIFF.name, "nog een keer")
    with pytest.raises(FourEyesViolation):
        ext.decide_handover(visser, claim_id, approve=True)

    d = ext.decide_handover(bakker, claim_id, approve=True)

    # the statement, computed here independently from the schedule and the charges: principal not repaid,
    # interest of installments due up to today unpaid, open costs
    with bakker.db.reader() as s:
        client_id = s.get(Case, case_id).client_id
        loan_ids = list(s.scalars(select(Loan.id).where(Loan.client_id == client_id, Loan.status != "repaid")))
        principal = sum(
            (
                i.principal - i.principal_paid
                for i in s.scalars(select(Installment).where(Installment.loan_id.in_(loan_ids)))
            ),
            Decimal("0.00"),
        )
        interest = sum(
            (
                i.interest - i.interest_paid
                for i in s.scalars(
                    select(Installment).where(Installment.loan_id.in_(loan_ids), Installment.due_date <= AS_OF)
                )
            ),
            Decimal("0.00"),
        )
        costs = sum(
            (c.amount - c.paid for c in s.scalars(select(Charge).where(Charge.loan_id.in_(loan_ids)))), Decimal("0.00")
        )
        letters = list(s.scalars(select(Letter).where(Letter.id.in_(d.letters))))
        claim = s.get(ExternalClaim, claim_id)
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "external.handover"))
    assert d.statement is not None
    assert Decimal(d.statement["principal"]) == principal and Decimal(d.statement["interest"]) == interest
    assert Decimal(d.statement["costs"]) == costs
    assert Decimal(d.statement["total"]) == principal + interest + costs > 0
    assert claim.status == "at_party" and claim.handed_on == AS_OF and claim.decided_by == "bakker"
    assert event.actor == "bakker" and json.loads(event.after)["proposed_by"] == "visser"
    assert sorted(ltr.kind for ltr in letters) == ["external_handover", "external_notice"]
    assert {ltr.status for ltr in letters} == {"pending"}

    # the dossier: one PDF that reads back, and its JSON twin with the same figures
    assert d.dossier_pdf and d.dossier_json
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(Path(d.dossier_pdf).read_bytes())).pages)
    assert name in text and BAILIFF.name in text and loan in text
    total = f"€ {Decimal(d.statement['total']):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    assert "Vorderingsoverzicht per 23-11-2026" in text and total in text.replace("\xa0", " ")
    saved = json.loads(Path(d.dossier_json).read_text(encoding="utf-8"))
    assert saved["statement"] == d.statement and saved["party"]["name"] == BAILIFF.name
    assert saved["format"] == "incasso-external-dossier/1"

    # the letters render like any letter: to the party, and to the client
    report = render_pending(_ctx(ctx_for, tmp_path, "demo"))
    assert report.failures == () and report.rendered >= 2
    with bakker.db.reader() as s:
        paths = {ltr.kind: ltr.file_path for ltr in s.scalars(select(Letter).where(Letter.id.in_(d.letters)))}
    to_party = PdfReader(paths["external_handover"]).pages[0].extract_text()
    assert BAILIFF.name in to_party and "Overdracht vordering" in to_party
    assert BAILIFF.name in PdfReader(paths["external_notice"]).pages[0].extract_text()


def test_a_rejection_needs_a_reason_and_leaves_the_case_free(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    visser, bakker = _ctx(ctx_for, tmp_path, "visser"), _ctx(ctx_for, tmp_path, "bakker")
    ext.add_party(bakker, BAILIFF)
    case_id, _n, _l = _consumer_case(visser)
    claim_id = ext.propose_handover(bakker, case_id, BAILIFF.name, "Geen reactie")
    with pytest.raises(BadInput):
        ext.decide_handover(visser, claim_id, approve=False)
    assert ext.decide_handover(visser, claim_id, approve=False, reason="Eerst nog bellen").status == "rejected"
    with pytest.raises(RuleViolation):
        ext.decide_handover(visser, claim_id, approve=True)
    assert ext.propose_handover(visser, case_id, BAILIFF.name, "Nu wel") != claim_id


def _later(ctx: Context, days: int) -> Context:
    return Context(
        db=ctx.db,
        actor=ctx.actor,
        clock=FixedClock(datetime.combine(AS_OF + timedelta(days=days), datetime.min.time())),
        settings=ctx.settings,
    )


def _case_activity(ctx, case_id: int, since: date) -> tuple[str, int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        case = s.get(Case, case_id)
        letters = s.scalar(select(func.count()).where(Letter.case_id == case_id, Letter.letter_date > since))
        loans = select(Loan.id).join(Case, Case.client_id == Loan.client_id).where(Case.id == case_id)
        charges = s.scalar(select(func.count()).where(Charge.loan_id.in_(loans), Charge.due_date > since))
        return case.stage, letters, charges


def test_the_daily_run_passes_a_case_at_the_party_by_and_takes_it_up_after_the_recall(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    visser, bakker, case_id, _name, _loan, _d = _at_party(ctx_for, tmp_path)
    before = _case_activity(bakker, case_id, AS_OF)
    admin = _later(_ctx(ctx_for, tmp_path, "admin"), 75)
    run_procedure(admin, admin.clock.today())
    assert _case_activity(bakker, case_id, AS_OF) == before  # no step, no letter, no costs while at the party
    with pytest.raises(RuleViolation, match="no dunning"):
        issue_by_hand(_ctx(ctx_for, tmp_path, "demo"), case_id, "reminder")

    ext.recall(visser, case_id, "Eigen regeling getroffen")
    run_procedure(admin, admin.clock.today())  # the same day again: only the recalled case has something to do
    assert _case_activity(bakker, case_id, AS_OF) != before


def test_a_payment_to_us_while_at_the_party_is_booked_listed_and_reported_once(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    visser, bakker, case_id, _name, loan, _d = _at_party(ctx_for, tmp_path)
    assert ext.report_payments(visser, case_id) == (None, [])
    payments.import_statement(
        _ctx(ctx_for, tmp_path, "demo"), camt053([Tx("75.00", text=loan, bank_ref="EXT-1", day=AS_OF)]), "stmt.xml"
    )
    view = ext.claim_for_case(visser, case_id)
    assert view is not None and [(p.amount, p.reported_on) for p in view.payments] == [(Decimal("75.00"), None)]
    path, reported = ext.report_payments(visser, case_id)
    assert path and Path(path).read_text().splitlines() == ["claim,loan,date,amount", f"{view.id},{loan},{AS_OF},75.00"]
    assert [p.amount for p in reported] == [Decimal("75.00")]
    assert ext.report_payments(visser, case_id) == (None, [])  # reported once
    k = ext.kpis(bakker)
    assert k.at_party == 1 and k.collected == Decimal("75.00") and k.handed_over == 1


def test_status_reports_by_hand_end_the_claim_on_a_final_one(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    visser, bakker, case_id, _name, _loan, d = _at_party(ctx_for, tmp_path)
    with pytest.raises(BadInput, match="Unknown status"):
        ext.report_status(visser, case_id, "lost")
    with pytest.raises(BadInput):
        ext.report_status(visser, case_id, "paid", amount=Decimal("-1"))
    ext.report_status(visser, case_id, "judgment", costs=Decimal("120.50"), note="Vonnis kantonrechter")
    assert ext.claim_for_case(visser, case_id).status == "at_party"
    ext.report_status(visser, case_id, "paid", amount=Decimal("900.00"))
    view = ext.claim_for_case(visser, case_id)
    assert (
        view.status == "ended" and view.outcome == "paid" and [r.status for r in view.reports] == ["judgment", "paid"]
    )
    with pytest.raises(RuleViolation, match="not at an outside party"):
        ext.report_status(visser, case_id, "paid")
    with pytest.raises(RuleViolation, match="never handed"):
        ext.recall(visser, case_id, "x")
    k = ext.kpis(bakker)
    assert (k.at_party, k.ended, k.collected, k.costs) == (0, {"paid": 1}, Decimal("900.00"), Decimal("120.50"))


def _csv(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "status.csv"
    path.write_text("\n".join(["claim,loan,status,date,amount,costs,note", *lines]) + "\n", encoding="utf-8")
    return path


def test_a_status_file_is_booked_whole_or_not_at_all_and_the_wrong_line_is_named(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    visser, bakker, case_id, _name, loan, d = _at_party(ctx_for, tmp_path)
    claim = d.claim_id
    bad = [
        (f"{claim},{loan},arrangement,{AS_OF},,,ok\n{claim},{loan},paid,20-11-2026,10.00,,", "Line 3: date"),
        (f"{claim},{loan},arrangement,{AS_OF},,,ok\n{claim + 99},{loan},paid,{AS_OF},,,", "Line 3: there is no claim"),
        (f"{claim},{loan},arrangement,{AS_OF},,,ok\n{claim},XX-1,paid,{AS_OF},,,", "Line 3: loan XX-1"),
        (f"{claim},{loan},arrangement,{AS_OF},1.234,,", "Line 2: amount"),
        (f"{claim},{loan},gone,{AS_OF},,,", "Line 2: unknown status"),
        (f"{claim},{loan},paid,{AS_OF}", "Line 2: 4 columns"),
        (f"{claim},{loan},arrangement,2026-11-01,,,", "Line 2: The report date"),  # before the handover
    ]
    for body, message in bad:
        with pytest.raises(BadFile, match=message):
            ext.import_status(visser, _csv(tmp_path, *body.split("\n")))
        with bakker.db.reader() as s:
            assert s.scalar(select(func.count()).select_from(ExternalReport)) == 0  # nothing of the file booked
    (tmp_path / "header.csv").write_text("claim;loan\n1;2\n")
    with pytest.raises(BadFile, match="Line 1: the header"):
        ext.import_status(visser, tmp_path / "header.csv")

    result = ext.import_status(
        visser,
        _csv(tmp_path, f"{claim},{loan},arrangement,{AS_OF},50.00,,12 x 50", f"{claim},,returned,{AS_OF},,35.00,terug"),
    )
    assert (result.lines, result.ended) == (2, 1)
    with pytest.raises(BadFile, match="Line 2: claim .* is not at an outside party"):  # the same file again
        ext.import_status(visser, tmp_path / "status.csv")
    view = ext.claim_for_case(visser, case_id)
    assert view.outcome == "returned" and [r.source for r in view.reports] == ["status.csv:2", "status.csv:3"]


def test_a_case_in_a_track_or_closed_is_not_handed_over_and_an_unknown_case_is_named(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    visser = _ctx(ctx_for, tmp_path, "visser")
    ext.add_party(visser, BAILIFF)
    with visser.db.reader() as s:
        closed = s.scalar(select(Case.id).where(Case.status == "closed").limit(1))
        track = s.scalar(select(Case.id).where(Case.status == "insolvency").limit(1))
    for case_id in (closed, track):
        with pytest.raises(RuleViolation):
            ext.propose_handover(visser, case_id, BAILIFF.name, "x")
    with pytest.raises(NotFound):
        ext.recall(visser, 10**9, "x")
    with pytest.raises(NotFound):
        ext.report_status(visser, 10**9, "paid")


def test_the_same_status_file_twice_is_refused_at_its_first_line(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    visser, _bakker, case_id, _name, loan, d = _at_party(ctx_for, tmp_path)
    path = _csv(tmp_path, f"{d.claim_id},{loan},arrangement,{AS_OF},50.00,,12 x 50")
    assert ext.import_status(visser, path).lines == 1
    with pytest.raises(BadFile, match="Line 2: this report was booked already"):
        ext.import_status(visser, path)
    assert len(ext.claim_for_case(visser, case_id).reports) == 1


def test_two_deciders_at_the_same_moment_hand_the_claim_over_once(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two sessions approve the same proposal at once: the claim row is locked (FOR UPDATE on PostgreSQL; SQLite
    serialises writers), so one hands over and the other is told it was decided already; one dossier, two letters."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    visser, bakker = _ctx(ctx_for, tmp_path, "visser"), _ctx(ctx_for, tmp_path, "bakker")
    ext.add_party(bakker, BAILIFF)
    case_id, _n, _l = _consumer_case(visser)
    claim_id = ext.propose_handover(visser, case_id, BAILIFF.name, "Geen reactie")
    barrier = Barrier(2)

    def decide() -> str:
        barrier.wait()
        try:
            return ext.decide_handover(bakker, claim_id, approve=True).status
        except RuleViolation as exc:
            return exc.msgid

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(lambda _i: decide(), range(2)))
    assert outcomes == sorted(["at_party", "This handover was {status} by {name} already"])
    with bakker.db.reader() as s:
        assert s.scalar(select(func.count()).where(Letter.case_id == case_id, Letter.kind.like("external%"))) == 2
        assert s.scalar(select(func.count()).where(AuditEvent.action == "external.handover")) == 1
