"""Debt-relief and insolvency tracks, and pausing a case by hand: effects, figures, refusals, roles."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from incasso_tui.domain.claims import ClaimCharge, ClaimInstallment, loan_claim
from incasso_tui.errors import BadInput, NotAllowed, RuleViolation, StaleData
from incasso_tui.i18n import Translator
from incasso_tui.services.tracks import (
    CLAIM_DAYS,
    TrackInput,
    TrackKind,
    case_tracks,
    end_track,
    pause_case,
    register_track,
    resume_case,
)
from incasso_tui.store.models import (
    Arrangement,
    AuditEvent,
    Case,
    Charge,
    DebtTrack,
    Installment,
    Letter,
    Loan,
    Task,
)
from tests.conftest import AS_OF

RULING = AS_OF - timedelta(days=20)


def _case(ctx, where: str = "status = 'active' AND pos_arrears > 0") -> Case:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        case_id = s.execute(text(f"SELECT id FROM cases WHERE {where} ORDER BY id LIMIT 1")).scalar_one()
        return s.get(Case, case_id)


def _version(ctx, case_id: int) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return s.get(Case, case_id).version


def _events(ctx, case_id: int, action: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    with ctx.db.reader() as s:
        rows = s.scalars(select(AuditEvent.after).where(AuditEvent.case_id == case_id, AuditEvent.action == action))
        return [json.loads(r) for r in rows]


def _wsnp(**changes: object) -> TrackInput:
    values: dict[str, object] = dict(
        kind=TrackKind.WSNP, ruling_date=RULING, trustee_name="Mr. A. de Vries", trustee_contact="bewind@example.nl"
    )
    values.update(changes)
    return TrackInput(**values)  # type: ignore[arg-type]


def _expected_claim(ctx, case: Case, ruling: date) -> tuple[Decimal, Decimal, Decimal]:  # type: ignore[no-untyped-def]
    """The claim computed independently, straight from the rows (principal, interest, costs)."""
    principal = interest = costs = Decimal("0.00")
    with ctx.db.reader() as s:
        for loan in s.scalars(select(Loan).where(Loan.client_id == case.client_id)):
            if loan.status in ("repaid", "written_off"):
                continue
            lines = list(s.scalars(select(Installment).where(Installment.loan_id == loan.id).order_by(Installment.seq)))
            principal += loan.principal - sum((i.principal_paid for i in lines), Decimal("0.00"))
            previous = loan.start_date
            for line in lines:
                if line.due_date <= ruling:
                    interest += line.interest - line.interest_paid
                    previous = line.due_date
                    continue
                share = line.interest * (ruling - previous).days / (line.due_date - previous).days
                interest += max(share.quantize(Decimal("0.01")) - line.interest_paid, Decimal("0.00"))
                break
            for charge in s.scalars(select(Charge).where(Charge.loan_id == loan.id)):
                if charge.kind == "collection_costs" and charge.due_date <= ruling:
                    costs += charge.amount - charge.paid
    return principal, interest, costs


def test_a_wsnp_stops_the_procedure_and_prepares_the_claim(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case = _case(
        ctx,
        "status = 'active' AND pos_arrears > 0 AND EXISTS (SELECT 1 FROM loans l JOIN charges c "
        "ON c.loan_id = l.id WHERE l.client_id = cases.client_id AND c.paid < c.amount "
        f"AND c.due_date <= '{RULING.isoformat()}')",
    )
    done = register_track(ctx, case.id, case.version, _wsnp())
    assert done.claim_deadline == max(RULING + timedelta(days=CLAIM_DAYS), AS_OF)
    with ctx.db.reader() as s:
        saved = s.get(Case, case.id)
        track = s.get(DebtTrack, done.track_id)
        task = s.get(Task, done.task_id)
        letter = s.get(Letter, done.letter_id)
        language = s.execute(text("SELECT language FROM clients WHERE id = :c"), {"c": case.client_id}).scalar_one()
    assert saved.status == "insolvency" and saved.next_action_date == done.claim_deadline
    assert (track.kind, track.ruling_date, track.trustee_name, track.status) == (
        "wsnp",
        RULING,
        "Mr. A. de Vries",
        "open",
    )
    assert (task.kind, task.due_date, task.status) == ("claim_filing", done.claim_deadline, "open")
    # to the trustee (a Dutch curator, bewindvoerder or debt-help agency), in Dutch whatever the client's language
    assert language == "en"
    assert (letter.kind, letter.status, letter.channel, letter.language) == (
        "claim_statement",
        "pending",
        "letter",
        "nl",
    )
    figures = json.loads(letter.figures)
    principal, interest, costs = _expected_claim(ctx, case, RULING)
    assert costs > 0  # the case was chosen for its open costs
    assert (Decimal(figures["principal"]), Decimal(figures["interest"]), Decimal(figures["costs"])) == (
        principal,
        interest,
        costs,
    )
    assert Decimal(figures["total"]) == principal + interest + costs
    assert figures["interest_until"] == RULING.isoformat() and figures["interest_stopped_by"] == "art. 303 Fw"
    assert sum(Decimal(loan["principal"]) for loan in figures["loans"]) == principal
    [event] = _events(ctx, case.id, "track.register")
    assert event["status"] == "insolvency" and event["task_id"] == task.id and event["letter_id"] == letter.id
    shown = case_tracks(ctx, case.id)
    assert shown.open_track is not None and shown.open_track.kind == "wsnp"
    assert [t.kind for t in shown.tasks] == ["claim_filing"]


def test_interest_stops_at_the_ruling_date() -> None:
    lines = [
        ClaimInstallment(date(2026, 1, 1), Decimal("100.00"), Decimal("30.00"), Decimal("0.00"), Decimal("0.00")),
        ClaimInstallment(date(2026, 1, 31), Decimal("100.00"), Decimal("30.00"), Decimal("0.00"), Decimal("10.00")),
        ClaimInstallment(date(2026, 3, 2), Decimal("100.00"), Decimal("30.00"), Decimal("0.00"), Decimal("0.00")),
    ]
    charges = [
        ClaimCharge("collection_costs", date(2026, 1, 10), Decimal("75.00"), Decimal("25.00")),
        ClaimCharge("collection_costs", date(2026, 3, 1), Decimal("40.00"), Decimal("0.00")),  # after the ruling
        ClaimCharge("statutory_interest", date(2026, 1, 31), Decimal("3.10"), Decimal("0.00")),
        ClaimCharge("statutory_interest", date(2026, 2, 10), Decimal("2.00"), Decimal("0.00")),  # on the ruling day
    ]
    claim = loan_claim("L1", Decimal("300.00"), date(2025, 12, 2), lines, charges, date(2026, 2, 10))
    # 30 + (30 - 10) for the lines due before, 10 of the 30 days of the running period: 10.00, and 3.10 charged
    assert claim.interest == Decimal("30.00") + Decimal("20.00") + Decimal("10.00") + Decimal("3.10")
    assert claim.principal == Decimal("300.00") and claim.costs == Decimal("50.00")
    # a later ruling claims more interest: it never runs past the ruling date, but up to it
    later = loan_claim("L1", Decimal("300.00"), date(2025, 12, 2), lines, charges, date(2026, 3, 2))
    assert later.interest == Decimal("30.00") + Decimal("20.00") + Decimal("30.00") + Decimal("5.10")


def test_a_bankruptcy_needs_the_courts_deadline(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case = _case(ctx)
    with pytest.raises(BadInput) as refused:
        register_track(ctx, case.id, case.version, _wsnp(kind=TrackKind.FAILLISSEMENT))
    assert refused.value.field == "claim_deadline"
    deadline = AS_OF + timedelta(days=45)
    done = register_track(ctx, case.id, case.version, _wsnp(kind=TrackKind.FAILLISSEMENT, claim_deadline=deadline))
    assert done.claim_deadline == deadline
    with ctx.db.reader() as s:
        assert json.loads(s.get(Letter, done.letter_id).figures)["interest_stopped_by"] == "art. 128 Fw"


def test_a_minnelijk_track_and_its_end(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("jansen")
    case = _case(ctx, "status = 'arrangement'")
    response = AS_OF + timedelta(days=14)
    done = register_track(
        ctx,
        case.id,
        case.version,
        _wsnp(kind=TrackKind.MINNELIJK, trustee_name="Gemeente Utrecht, Schuldhulp", response_due=response),
    )
    with ctx.db.reader() as s:
        assert s.get(Case, case.id).status == "insolvency"
        assert s.get(DebtTrack, done.track_id).response_due == response
        arrangements = set(s.scalars(select(Arrangement.status).where(Arrangement.case_id == case.id)))
        assert json.loads(s.get(Letter, done.letter_id).figures)["interest_stopped_by"] is None
    assert "active" not in arrangements and "cancelled" in arrangements  # the plan gave way to the track
    with pytest.raises(RuleViolation, match="already in a debt-relief"):
        register_track(ctx, case.id, _version(ctx, case.id), _wsnp())
    with pytest.raises(BadInput, match="Say how the track ended"):
        end_track(ctx, case.id, _version(ctx, case.id))
    end_track(ctx, case.id, _version(ctx, case.id), "rejected")
    with ctx.db.reader() as s:
        assert s.get(Case, case.id).status == "active"
        track = s.get(DebtTrack, done.track_id)
        assert (track.status, track.ended_on, track.outcome) == ("ended", AS_OF, "rejected")
        assert s.get(Task, done.task_id).status == "cancelled"
    assert _events(ctx, case.id, "track.end")[0]["cancelled_task_ids"] == [done.task_id]
    with pytest.raises(RuleViolation, match="not in a debt-relief"):
        end_track(ctx, case.id, _version(ctx, case.id), "terminated")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (dict(ruling_date=AS_OF + timedelta(days=1)), "ruling_date", "future"),
        (dict(trustee_name="  "), "trustee_name", "fill this in"),
        (dict(trustee_name="x" * 201), "trustee_name", "200"),
        (dict(claim_deadline=RULING - timedelta(days=1)), "claim_deadline", "before the ruling"),
        (dict(response_due=AS_OF), "response_due", "minnelijk"),
        (dict(kind=TrackKind.MINNELIJK, response_due=RULING - timedelta(days=1)), "response_due", "before the start"),
        (dict(kind="schuldsanering"), "kind", "schuldsanering"),
    ],
)
def test_bad_track_input_is_refused_and_nothing_is_written(ctx_for, changes, field, message) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case = _case(ctx)
    with pytest.raises((BadInput, RuleViolation)) as refused:
        register_track(ctx, case.id, case.version, _wsnp(**changes))
    assert refused.value.field == field and message in Translator("en").error(refused.value)
    with ctx.db.reader() as s:
        assert s.scalar(select(func.count()).select_from(DebtTrack).where(DebtTrack.case_id == case.id)) == 0
        assert s.get(Case, case.id).version == case.version


def test_stale_case_and_roles(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case = _case(ctx)
    with pytest.raises(NotAllowed):
        register_track(ctx_for("audit"), case.id, case.version, _wsnp())
    with ctx.db.transaction() as s:
        s.execute(
            text("UPDATE cases SET version = version + 1, updated_by = 'dekker', updated_at = :at WHERE id = :id"),
            {"at": "2026-11-23 09:12:00", "id": case.id},
        )
    with pytest.raises(StaleData, match="changed by dekker at 09:12"):
        register_track(ctx, case.id, case.version, _wsnp())
    with ctx.db.reader() as s:
        assert (
            s.scalar(select(func.count()).select_from(Task).where(Task.case_id == case.id, Task.kind == "claim_filing"))
            == 0
        )


def test_a_back_dated_pause_is_audited_with_both_dates_and_resumed(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case = _case(ctx)
    since, until = AS_OF - timedelta(days=3), AS_OF + timedelta(days=30)
    pause_case(ctx, case.id, case.version, "Klant in ziekenhuis", until, since=since)
    with ctx.db.reader() as s:
        saved = s.get(Case, case.id)
        assert (saved.status, saved.pause_reason, saved.pause_until, saved.next_action_date) == (
            "paused",
            "Klant in ziekenhuis",
            until,
            until,
        )
    [event] = _events(ctx, case.id, "case.pause")
    assert (event["since"], event["until"], event["back_dated"]) == (since.isoformat(), until.isoformat(), True)
    with pytest.raises(RuleViolation, match="end the track"):
        pause_case(ctx, _case(ctx, "status = 'insolvency'").id, 1, "x", until)
    resume_case(ctx, case.id, _version(ctx, case.id))
    with ctx.db.reader() as s:
        saved = s.get(Case, case.id)
        assert (saved.status, saved.pause_reason, saved.pause_until, saved.next_action_date) == (
            "active",
            None,
            None,
            AS_OF,
        )
    assert _events(ctx, case.id, "case.resume") == [{"status": "active", "resumed_on": AS_OF.isoformat()}]
    with pytest.raises(RuleViolation, match="not paused"):
        resume_case(ctx, case.id, _version(ctx, case.id))


@pytest.mark.parametrize(
    ("reason", "until", "since", "field", "message"),
    [
        ("", AS_OF + timedelta(days=5), None, "reason", "fill this in"),
        ("ziek", None, None, "until", "end date"),
        ("ziek", AS_OF - timedelta(days=1), None, "until", "past"),
        ("ziek", AS_OF + timedelta(days=5), AS_OF + timedelta(days=1), "since", "future"),
        ("ziek", AS_OF, None, "until", "after its start"),
        ("ziek", AS_OF + timedelta(days=5), date(2000, 1, 1), "since", "before the case was opened"),
    ],
)
def test_bad_pause_input_is_refused(ctx_for, reason, until, since, field, message) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case = _case(ctx)
    with pytest.raises((BadInput, RuleViolation)) as refused:
        pause_case(ctx, case.id, case.version, reason, until, since=since)
    assert refused.value.field == field and message in Translator("en").error(refused.value)
    assert _version(ctx, case.id) == case.version
