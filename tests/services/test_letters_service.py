"""Rendering pending letters into the outbox, and letters issued by hand, on both backends."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from incasso_tui.errors import ConfigError, RuleViolation
from incasso_tui.letters.render import TEMPLATES_DIR
from incasso_tui.services.letters import issue_by_hand, preview, render_pending
from incasso_tui.store.models import AuditEvent, Case, Client, DebtTrack, Document, EmailOutbox, Letter, Loan
from tests.conftest import AS_OF, NOW
from tests.dispatch_helpers import dispatch_waiting
from tests.letter_samples import LENDER, figures

LENDER_SETTINGS = {f"lender_{k}": v for k, v in LENDER.model_dump(exclude={"display_name"}).items()}


def _ctx(ctx_for, tmp_path: Path, **settings):  # type: ignore[no-untyped-def]
    return ctx_for("demo", letters_dir=tmp_path / "outbox", **LENDER_SETTINGS, **settings)


def _case(ctx, *, consumer: bool | None = None, status: str = "active", min_arrears: str = "100"):  # type: ignore[no-untyped-def]
    query = (
        select(Case, Client)
        .join(Client, Client.id == Case.client_id)
        .where(Case.status == status, Case.pos_arrears >= Decimal(min_arrears))
        .order_by(Case.id)
    )
    if consumer is not None:
        query = query.where(Client.consumer == consumer)
    with ctx.db.reader() as s:
        row = s.execute(query).first()
        assert row is not None, "the test book has no such case"
        case, client = row
        loan = s.scalars(select(Loan.number).where(Loan.client_id == client.id).order_by(Loan.number)).first()
    return case, client, loan


def _add_letter(
    ctx,
    case,
    client,
    loan: str,
    kind: str,
    channel: str = "letter",
    language: str = "nl",  # type: ignore[no-untyped-def]
    raw: str | None = None,
) -> int:
    sample = figures(kind).model_copy(update={"loans": (loan,)})
    with ctx.db.transaction() as s:
        letter = Letter(
            case_id=case.id,
            client_id=client.id,
            kind=kind,
            channel=channel,
            language=language,
            letter_date=AS_OF,
            figures=raw if raw is not None else sample.to_json(),
            status="pending",
            created_by="demo",
            created_at=NOW,
        )
        s.add(letter)
        s.flush()
        return letter.id


def _letters(ctx, ids):  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return {letter.id: letter for letter in s.scalars(select(Letter).where(Letter.id.in_(ids)))}


def _count(ctx, model, *where) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_pending_letters_become_pdfs_documents_and_queued_mail(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(ctx_for, tmp_path)
    case, client, loan = _case(ctx)
    with ctx.db.transaction() as s:
        s.execute(update(Client).where(Client.id == client.id).values(email="klant@example.org", phone="0612345678"))
    ids = [
        _add_letter(ctx, case, client, loan, "fourteen_day"),
        _add_letter(ctx, case, client, loan, "demand", channel="email", language="en"),
        _add_letter(ctx, case, client, loan, "reminder", channel="whatsapp"),
    ]
    documents_before = _count(ctx, Document)

    report = render_pending(ctx)

    assert (report.rendered, report.emails_queued, report.not_sent, report.failures) == (3, 1, 1, ())
    letters = _letters(ctx, ids)
    # the WhatsApp letter cannot be dispatched (the channel is not configured): failed, with the reason, no effect
    assert [letters[i].status for i in ids] == ["rendered", "rendered", "failed"]
    for letter in letters.values():
        path = Path(letter.file_path)
        assert path.is_file() and path.read_bytes().startswith(b"%PDF-") and path.is_relative_to(tmp_path / "outbox")
    assert not list((tmp_path / "outbox").rglob("*.tmp")), "no temporary file is left behind"
    assert "WhatsApp is not configured" in letters[ids[2]].error and letters[ids[0]].error is None
    assert _count(ctx, Document) == documents_before + 3
    with ctx.db.reader() as s:
        mail = s.scalars(select(EmailOutbox).where(EmailOutbox.letter_id == ids[1])).one()
        events = list(
            s.scalars(select(AuditEvent).where(AuditEvent.action == "letter.rendered", AuditEvent.entity_id.in_(ids)))
        )
    assert mail.status == "queued" and mail.to_address == "klant@example.org" and mail.attempts == 0
    assert mail.attachment_path == letters[ids[1]].file_path and mail.subject.startswith("Demand for payment")
    assert mail.next_attempt_at == NOW
    assert sorted(e.entity_id for e in events) == sorted(ids)
    assert json.loads(next(e.after for e in events if e.entity_id == ids[1]))["email_outbox_id"] == mail.id
    # a second run finds nothing pending
    assert render_pending(ctx).rendered == 0


def test_a_broken_template_fails_only_its_letter(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    broken = templates / "nl" / "reminder.typ.j2"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("{{ arrears.total|money }}", "{{ arrears.no_such_field|money }}"),
        encoding="utf-8",
    )
    ctx = _ctx(ctx_for, tmp_path, letter_templates_dir=templates)
    case, client, loan = _case(ctx)
    bad = _add_letter(ctx, case, client, loan, "reminder")
    good = _add_letter(ctx, case, client, loan, "demand")
    # (another kind: one letter of a kind waits per case, ux_letters_waiting)
    bad_json = _add_letter(ctx, case, client, loan, "default_notice", raw='{"loans": ["X"], "arrears": 5}')

    report = render_pending(ctx)

    assert report.rendered == 1
    assert [f.letter_id for f in report.failures] == [bad, bad_json]
    letters = _letters(ctx, [bad, good, bad_json])
    assert letters[good].status == "rendered"
    assert letters[bad].status == "failed" and letters[bad].file_path is None
    assert "nl/reminder.typ.j2" in letters[bad].error and "no_such_field" in letters[bad].error
    assert letters[bad_json].status == "failed" and "figures are wrong" in letters[bad_json].error
    assert _count(ctx, AuditEvent, AuditEvent.action == "letter.failed", AuditEvent.entity_id.in_([bad, bad_json])) == 2
    assert len(list((tmp_path / "outbox").rglob("*.pdf"))) == 1


def test_without_the_lenders_details_nothing_is_rendered(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo", letters_dir=tmp_path / "outbox")
    case, client, loan = _case(ctx)
    letter_id = _add_letter(ctx, case, client, loan, "reminder")
    with pytest.raises(ConfigError, match="lender_name, lender_street"):
        render_pending(ctx)
    assert _letters(ctx, [letter_id])[letter_id].status == "pending"
    assert not (tmp_path / "outbox").exists()


def test_a_fourteen_day_letter_by_hand_states_the_costs_and_the_term(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(ctx_for, tmp_path)
    case, client, _loan = _case(ctx, consumer=True)
    letters_before = _count(ctx, Letter)
    shown = preview(ctx, case.id, "fourteen_day", channel="letter")
    assert shown.pdf.startswith(b"%PDF-") and _count(ctx, Letter) == letters_before, "a preview writes nothing"
    costs = shown.figures.collection_costs
    assert costs is not None and Decimal("40.00") <= costs.amount <= Decimal("6775.00")

    letter_id = issue_by_hand(ctx, case.id, "fourteen_day", channel="letter")

    letter = _letters(ctx, [letter_id])[letter_id]
    stored = json.loads(letter.figures)
    assert letter.status == "rendered" and Path(letter.file_path).is_file()
    assert Decimal(stored["collection_costs"]["amount"]) == costs.amount
    # no legal effect before it is dispatched: the term is not set by the day it was decided or rendered
    assert letter.received_on is None and letter.costs_from is None
    assert _count(ctx, AuditEvent, AuditEvent.action == "letter.issued_by_hand", AuditEvent.entity_id == letter_id) == 1
    dispatch_waiting(ctx.db, AS_OF, ctx.settings, id=letter_id)
    letter = _letters(ctx, [letter_id])[letter_id]
    assert (letter.status, letter.dispatched_on) == ("sent", AS_OF)
    assert letter.received_on == shown.figures.fourteen_day.assumed_receipt > AS_OF
    assert letter.costs_from == shown.figures.fourteen_day.costs_from


def test_hand_letters_keep_the_guards(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(ctx_for, tmp_path)
    business, _client, _loan = _case(ctx, consumer=False)
    before = _count(ctx, Letter)
    with pytest.raises(RuleViolation, match="for consumers"):
        issue_by_hand(ctx, business.id, "fourteen_day")
    with pytest.raises(RuleViolation, match="cannot be issued by hand"):
        issue_by_hand(ctx, business.id, "call_in")
    with ctx.db.transaction() as s:
        s.execute(
            update(Case)
            .where(Case.id == business.id)
            .values(status="paused", pause_reason="ziek", pause_until=date(2026, 12, 31))
        )
    with pytest.raises(RuleViolation, match="paused"):
        issue_by_hand(ctx, business.id, "demand")
    assert _count(ctx, Letter) == before and not (tmp_path / "outbox").exists()


def test_a_claim_statement_by_hand_goes_to_the_trustee(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(ctx_for, tmp_path)
    case, _client, _loan = _case(ctx)
    with pytest.raises(RuleViolation, match="open debt-relief"):
        issue_by_hand(ctx, case.id, "claim_statement")
    with ctx.db.transaction() as s:
        s.add(
            DebtTrack(
                case_id=case.id,
                kind="wsnp",
                ruling_date=date(2026, 11, 2),
                trustee_name="mr. B. Bewind",
                trustee_contact="Postbus 1\n3500 AA Utrecht",
                claim_deadline=date(2026, 12, 31),
                created_by="demo",
                created_at=NOW,
            )
        )
    letter_id = issue_by_hand(ctx, case.id, "claim_statement")
    letter = _letters(ctx, [letter_id])[letter_id]
    stored = json.loads(letter.figures)
    assert letter.status == "rendered"
    assert stored["debt_track"]["trustee"] == {"name": "mr. B. Bewind", "address": ["Postbus 1", "3500 AA Utrecht"]}
    claim = stored["claim"]
    assert Decimal(claim["total"]) == Decimal(claim["principal"]) + Decimal(claim["interest"]) + Decimal(claim["costs"])


def test_the_cli_renders_and_reports_each_failure_on_one_line(sqlite_db, clock, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui import cli
    from tests.conftest import _context

    for key, value in {**LENDER_SETTINGS, "letters_dir": str(tmp_path / "outbox")}.items():
        monkeypatch.setenv(f"INCASSO_{key.upper()}", value)
    ctx = _context(sqlite_db, clock, "demo")
    case, client, loan = _case(ctx)
    _add_letter(ctx, case, client, loan, "reminder")
    broken = _add_letter(ctx, case, client, loan, "demand", raw="not json")

    code = cli.main(["letters", "render", "--db", sqlite_db.url, "--user", "demo", "--date", "2026-11-23"])

    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0] == "rendered 1, e-mails queued 0, not sent (channel not configured) 0, failed 1"
    assert out[1].startswith(
        f"failed letter {broken} (case {case.id}, demand): Letter {broken} (demand): the figures are wrong"
    )
    assert len(out) == 2
    assert cli.main(["mail", "send", "--db", sqlite_db.url, "--user", "demo"]) == 0  # nothing queued: no SMTP needed
    assert capsys.readouterr().out.strip() == "sent 0, retrying later 0, dead 0"


def test_a_request_to_contact_us_suits_an_arrangement_and_e_mail_needs_an_address(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(ctx_for, tmp_path)
    case, client, _loan = _case(ctx, status="arrangement", min_arrears="0")
    with pytest.raises(RuleViolation, match="arrangement"):
        issue_by_hand(ctx, case.id, "reminder")  # a dunning letter waits while the arrangement runs
    with ctx.db.transaction() as s:
        s.execute(update(Client).where(Client.id == client.id).values(email=None))
    with pytest.raises(RuleViolation, match="no e-mail address") as refused:
        issue_by_hand(ctx, case.id, "contact_request", channel="email")
    assert refused.value.field == "channel"
    letter_id = issue_by_hand(ctx, case.id, "contact_request", channel="letter")
    letter = _letters(ctx, [letter_id])[letter_id]
    assert (letter.kind, letter.status) == ("contact_request", "rendered") and Path(letter.file_path).is_file()


def test_a_letter_of_an_unassigned_case_decided_by_an_operator_is_signed_by_the_department(ctx_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # the daily run from cron acts as the operator cli:<os user>, who is no user: the letters of cases without an
    # assignee used to fail ("nobody to sign it") and so never got their legal effect
    from pypdf import PdfReader

    ctx = _ctx(ctx_for, tmp_path)
    case, client, loan = _case(ctx)
    with ctx.db.transaction() as s:
        s.execute(update(Case).where(Case.id == case.id).values(assignee_id=None))
    letter_id = _add_letter(ctx, case, client, loan, "reminder")
    with ctx.db.transaction() as s:
        s.execute(update(Letter).where(Letter.id == letter_id).values(created_by="cli:cron"))
    operator = ctx_for("demo", letters_dir=tmp_path / "outbox", **LENDER_SETTINGS)
    from dataclasses import replace

    operator = replace(operator, actor=replace(operator.actor, name="cli:cron"))
    render_pending(operator)
    with ctx.db.reader() as s:
        letter = s.get(Letter, letter_id)
        assert letter is not None and letter.status == "rendered", letter.error if letter else None
        text = "".join(page.extract_text() for page in PdfReader(str(letter.file_path)).pages)
    assert "Afdeling Incasso & Beheer" in text
