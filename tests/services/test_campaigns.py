"""Campaigns on both databases: each case through the single action's guards, refusals listed with the reason, an
honest record after a crash, and the measurement of payments afterwards. Also the single actions they share."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from incasso_tui.errors import BadInput, NotAllowed, RuleViolation
from incasso_tui.services import campaigns as campaigns_module
from incasso_tui.services.assignment import assign_case
from incasso_tui.services.campaigns import (
    CampaignAction,
    campaign,
    campaigns,
    measure,
    members,
    render_campaign_letters,
    resume_campaign,
    run_campaign,
    start_campaign,
)
from incasso_tui.services.criteria import Criteria
from incasso_tui.services.selections import delete_selection, get_selection, save_selection
from incasso_tui.services.tasks import CallTaskInput, create_call_task
from incasso_tui.store.models import (
    DESK_WHERE,
    AuditEvent,
    Campaign,
    CampaignMember,
    Case,
    CaseLock,
    Client,
    EmailOutbox,
    LedgerEntry,
    Letter,
    Loan,
    Task,
    User,
)
from tests.conftest import AS_OF, NOW
from tests.letter_samples import LENDER

LENDER_SETTINGS = {f"lender_{k}": v for k, v in LENDER.model_dump(exclude={"display_name"}).items()}
CALL = CampaignAction("call_task", due_date=AS_OF + timedelta(days=2), note="Bellen: regeling loopt af")


def _count(ctx, model, *where) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _reasons(ctx, campaign_id: int) -> Counter[str | None]:  # type: ignore[no-untyped-def]
    return Counter(m.reason for m in members(ctx, campaign_id, outcome="refused", limit=10_000))


def _desk_ids(ctx, *where) -> list[int]:  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        return list(s.scalars(select(Case.id).where(text(DESK_WHERE), *where).order_by(Case.id)))


def _group(ctx, name: str = "Herinneringen", **criteria) -> str:  # type: ignore[no-untyped-def]
    save_selection(ctx, name, Criteria(**criteria))
    return name


# ----- call tasks


def test_a_call_task_campaign_makes_tasks_and_lists_every_refusal(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    group = _desk_ids(ctx, Case.stage == "reminder")
    with ctx.db.reader() as s:  # cases the book itself stops already
        stopped = set(s.scalars(select(Case.id).where(Case.id.in_(group), Case.status.in_(("paused", "insolvency")))))
        stopped |= set(
            s.scalars(select(Task.case_id).where(Task.case_id.in_(group), Task.kind == "call", Task.status == "open"))
        )
    paused, tracked, called, busy = [case_id for case_id in group if case_id not in stopped][:4]
    with ctx.db.transaction() as s:
        s.execute(update(Case).where(Case.id == paused).values(status="paused", pause_until=date(2026, 12, 31)))
        s.execute(update(Case).where(Case.id == tracked).values(status="insolvency"))
        s.add(
            Task(
                case_id=called,
                kind="call",
                title="bellen",
                due_date=AS_OF,
                status="open",
                created_by="x",
                created_at=NOW,
            )
        )
        s.add(CaseLock(case_id=busy, user_name="jansen", until=NOW + timedelta(minutes=10)))
    name = _group(ctx, stages=("reminder",))  # note: the paused and the insolvency case are still on the desk
    tasks_before = _count(ctx, Task)

    report = run_campaign(ctx, name, CALL)

    info = report.campaign
    assert info.finished and info.selected == len(group)
    refused = {m.case_id: m for m in members(ctx, info.id, outcome="refused")}
    assert set(refused) == stopped | {paused, tracked, called, busy} and info.done == len(group) - len(refused)
    assert refused[paused].reason == "The case is paused until {until}"
    assert (
        refused[tracked].reason
        == "The client is in a debt-relief or insolvency track: contact goes through the trustee"
    )
    assert refused[called].reason == "The case has an open call task due {due} already"
    assert refused[busy].reason == "{name} has the case open now"
    assert refused[busy].params == {"name": "jansen"} and refused[paused].params == {"until": date(2026, 12, 31)}
    assert refused[called].params == {"due": AS_OF}
    assert _count(ctx, Task) == tasks_before + info.done
    done = members(ctx, info.id, outcome="done")
    with ctx.db.reader() as s:
        made = {t.id: t for t in s.scalars(select(Task).where(Task.id.in_([m.entity_id for m in done])))}
        cases = {c.id: c for c in s.scalars(select(Case).where(Case.id.in_([m.case_id for m in done])))}
        events = Counter(
            s.scalars(select(AuditEvent.action).where(AuditEvent.after.like(f'%"campaign_id": {info.id}%')))
        )
        refusals = s.scalar(
            select(func.count()).where(AuditEvent.action == "campaign.refused", AuditEvent.entity_id == info.id)
        )
    assert len(made) == info.done and all(t.title == CALL.note and t.due_date == CALL.due_date for t in made.values())
    assert all(made[m.entity_id].assignee_id == cases[m.case_id].assignee_id for m in done)
    assert all(c.next_action_date <= CALL.due_date for c in cases.values())
    assert events["task.create"] == info.done and refusals == len(refused)
    assert _count(ctx, AuditEvent, AuditEvent.action.in_(("campaign.start", "campaign.finish"))) == 2

    again = run_campaign(ctx, name, CALL)  # run twice: nothing is done twice, every case says why
    assert again.campaign.done == 0 and again.campaign.refused == len(group)
    assert _reasons(ctx, again.campaign.id)["The case has an open call task due {due} already"] >= info.done + 1


def test_who_may_run_which_campaign(ctx_for) -> None:  # type: ignore[no-untyped-def]
    name = _group(ctx_for("bakker"), stages=("demand",))
    for user in ("audit", "admin", "visser"):
        with pytest.raises(NotAllowed):
            start_campaign(ctx_for(user), name, CALL)
    for action in (
        CampaignAction("letter", kind="reminder"),
        CampaignAction("email", kind="reminder"),
        CampaignAction("assign", employee="jansen"),
    ):
        with pytest.raises(NotAllowed):
            start_campaign(ctx_for("demo"), name, action)
    supervisor = ctx_for("bakker")
    with pytest.raises(BadInput, match="not demand"):
        start_campaign(supervisor, name, CampaignAction("letter", kind="demand"))
    with pytest.raises(RuleViolation, match="does not work the desk"):
        start_campaign(supervisor, name, CampaignAction("assign", employee="visser"))
    with pytest.raises(RuleViolation, match="in the past"):
        start_campaign(supervisor, name, CampaignAction("call_task", due_date=AS_OF - timedelta(days=1), note="x"))
    with pytest.raises(BadInput, match="Please fill this in"):
        start_campaign(supervisor, name, CampaignAction("call_task", due_date=AS_OF, note="  "))
    assert _count(supervisor, Campaign) == 0, "a refused action writes no campaign"
    assert [c.id for c in campaigns(ctx_for("audit"))] == []


# ----- letters and e-mail


def test_a_letter_campaign_goes_through_the_hand_letter_guards(ctx_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker", letters_dir=tmp_path / "outbox", **LENDER_SETTINGS)
    name = _group(ctx, "Achterstand 31-90", buckets=("31-60", "61-90"))
    group = members_expected = _desk_ids(
        ctx, Case.pos_oldest_due <= AS_OF - timedelta(days=31), Case.pos_oldest_due >= AS_OF - timedelta(days=90)
    )
    with ctx.db.reader() as s:
        stopped = set(s.scalars(select(Case.id).where(Case.id.in_(group), Case.status != "active")))
    assert stopped, "the test book has cases in an arrangement, paused or in a track in these buckets"

    report = run_campaign(ctx, name, CampaignAction("letter", kind="reminder"))

    info = report.campaign
    assert info.selected == len(members_expected)
    refused = {m.case_id for m in members(ctx, info.id, outcome="refused")}
    assert refused == stopped and info.done == len(group) - len(stopped)
    assert all(r.endswith("no automatic step") or "track" in r for r in _reasons(ctx, info.id) if r)
    with ctx.db.reader() as s:
        letters = list(
            s.scalars(
                select(Letter).where(
                    Letter.id.in_(
                        select(CampaignMember.entity_id).where(
                            CampaignMember.campaign_id == info.id, CampaignMember.outcome == "done"
                        )
                    )
                )
            )
        )
    assert len(letters) == info.done and {(x.kind, x.channel, x.status) for x in letters} == {
        ("reminder", "letter", "pending")
    }
    assert _count(ctx, AuditEvent, AuditEvent.action == "letter.campaign") == info.done

    twice = run_campaign(ctx, name, CampaignAction("letter", kind="reminder"))
    assert twice.campaign.done == 0
    assert (
        _reasons(ctx, twice.campaign.id)["A letter of this kind to this client waits to be dispatched already"]
        == info.done
    )

    rendered = render_campaign_letters(ctx, info.id)
    assert (rendered.rendered, rendered.failures) == (info.done, ())
    assert len(list((tmp_path / "outbox").rglob("*.pdf"))) == info.done


def test_an_email_campaign_reaches_only_clients_with_an_address(ctx_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker", letters_dir=tmp_path / "outbox", **LENDER_SETTINGS)
    name = _group(ctx, "Graag contact", no_contact_days=30)
    group = set(members_of := _desk_ids(ctx, Case.status.in_(("active", "arrangement", "deferral"))))
    with ctx.db.transaction() as s:  # one client of the group has no e-mail address
        without = s.scalar(select(Case.client_id).where(Case.id == members_of[0]))
        s.execute(update(Client).where(Client.id == without).values(email=None))

    report = run_campaign(ctx, name, CampaignAction("email", kind="contact_request"))

    info = report.campaign
    reasons = _reasons(ctx, info.id)
    assert reasons["{name} has no e-mail address"] >= 1
    no_address = [m for m in members(ctx, info.id, outcome="refused") if m.reason == "{name} has no e-mail address"]
    with ctx.db.reader() as s:
        assert all(
            s.scalar(select(Client.email).join(Case, Case.client_id == Client.id).where(Case.id == m.case_id)) is None
            for m in no_address
        )
    done = members(ctx, info.id, outcome="done")
    assert done and {m.case_id for m in done} <= group  # arrangements and deferrals may be asked to get in touch
    rendered = render_campaign_letters(ctx, info.id)
    assert rendered.rendered == info.done == rendered.emails_queued
    with ctx.db.reader() as s:
        mails = list(s.scalars(select(EmailOutbox).where(EmailOutbox.letter_id.in_([m.entity_id for m in done]))))
    assert len(mails) == info.done and all(m.to_address and m.status == "queued" for m in mails)
    assert {m.subject.split(" - ")[0] for m in mails} <= {"Verzoek om contact", "Request to contact us"}


# ----- assignment


def test_an_assignment_campaign_moves_the_cases_and_their_open_tasks(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("bakker")
    name = _group(ctx, "Van Dekker", assignee="dekker", stages=("call",))
    group = _desk_ids(
        ctx, Case.stage == "call", Case.assignee_id == select(User.id).where(User.name == "dekker").scalar_subquery()
    )
    with ctx.db.transaction() as s:
        dekker, jansen = (s.scalar(select(User.id).where(User.name == n)) for n in ("dekker", "jansen"))
        s.add(
            Task(
                case_id=group[0],
                kind="call",
                title="bellen",
                due_date=AS_OF,
                status="open",
                assignee_id=dekker,
                created_by="x",
                created_at=NOW,
            )
        )
        s.execute(update(Case).where(Case.id == group[1]).values(status="handed_over"))

    report = run_campaign(ctx, name, CampaignAction("assign", employee="jansen"))

    info = report.campaign
    assert (info.selected, info.done, info.refused) == (
        len(group) - 1,
        len(group) - 1,
        0,
    )  # handed over: not on the desk
    with ctx.db.reader() as s:
        assert set(s.scalars(select(Case.assignee_id).where(Case.id.in_(group[:1] + group[2:])))) == {jansen}
        assert s.scalar(select(Task.assignee_id).where(Task.case_id == group[0], Task.title == "bellen")) == jansen
    assert _count(ctx, AuditEvent, AuditEvent.action == "case.assign") == info.done
    with pytest.raises(RuleViolation, match="assigned to jansen already"):
        assign_case(ctx, group[0], "jansen")
    with pytest.raises(NotAllowed):
        assign_case(ctx_for("demo"), group[0], "demo")


# ----- an honest record after a crash


def test_a_crash_half_way_leaves_the_done_part_and_resumes_the_rest(ctx_for, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    monkeypatch.setattr(campaigns_module, "SLICE", 10)
    name = _group(ctx, "Alle actieven", stages=("reminder", "demand"))
    real_act = campaigns_module._act
    calls = {"n": 0}

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 25:  # in the third slice
            raise ConnectionError("the database went away")
        return real_act(*args, **kwargs)

    monkeypatch.setattr(campaigns_module, "_act", failing)
    with pytest.raises(ConnectionError):
        run_campaign(ctx, name, CALL)
    with ctx.db.reader() as s:
        campaign_id = s.scalar(select(Campaign.id))
    half = campaign(ctx, campaign_id)
    assert not half.finished and half.done + half.refused == 20 and half.pending == half.selected - 20
    assert _count(ctx, Task, Task.created_by == "demo") == half.done, "the two committed slices, not the third"
    assert len(members(ctx, campaign_id, outcome="pending", limit=10_000)) == half.pending

    monkeypatch.setattr(campaigns_module, "_act", real_act)
    seen: list[tuple[int, int]] = []
    resumed = resume_campaign(ctx, campaign_id, progress=lambda a, b: seen.append((a, b))).campaign
    assert resumed.finished and resumed.pending == 0 and seen[-1] == (resumed.selected, resumed.selected)
    assert _count(ctx, Task, Task.created_by == "demo") == resumed.done
    assert _count(ctx, AuditEvent, AuditEvent.action == "campaign.finish") == 1
    with pytest.raises(RuleViolation, match="finished"):
        resume_campaign(ctx, campaign_id)


# ----- measurement


def test_payments_after_the_campaign_are_measured_in_two_windows(ctx_for, clock) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    name = _group(ctx, "Meten", stages=("reminder",))
    info = run_campaign(ctx, name, CALL).campaign
    done = members(ctx, info.id, outcome="done")
    assert len(done) >= 4
    with ctx.db.transaction() as s:
        loan_of = {}
        for m in done[:4]:
            client_id = s.scalar(select(Case.client_id).where(Case.id == m.case_id))
            loan_of[m.case_id] = s.scalar(select(Loan.id).where(Loan.client_id == client_id).order_by(Loan.id).limit(1))

        def book(case_id: int, day: date, amount: str, kind: str = "payment") -> None:
            s.add(
                LedgerEntry(
                    loan_id=loan_of[case_id],
                    booking_date=day,
                    kind=kind,
                    amount=Decimal(amount),
                    description="test",
                    credit=Decimal("0.00"),
                    created_by="test",
                    created_at=NOW,
                )
            )

        a, b, c, d = (m.case_id for m in done[:4])
        book(a, AS_OF, "999.00")  # the campaign's own day: not counted
        book(a, AS_OF + timedelta(days=3), "100.00")
        book(a, AS_OF + timedelta(days=14), "50.50")  # the last day of the first window
        book(b, AS_OF + timedelta(days=20), "70.00")  # only the 30-day window
        book(c, AS_OF + timedelta(days=5), "40.00")
        book(c, AS_OF + timedelta(days=6), "40.00", kind="reversal")  # paid and reversed: nothing paid
        book(d, AS_OF + timedelta(days=31), "10.00")  # after both windows
    early = measure(ctx, info.id)
    assert early.done.members == info.done and early.refused.members == info.refused
    assert (early.done.paid_14, early.done.amount_14) == (1, Decimal("150.50"))
    assert (early.done.paid_30, early.done.amount_30) == (2, Decimal("220.50"))
    assert not early.complete(14) and early.window_end(30) == AS_OF + timedelta(days=30)
    clock.advance(days=30)
    assert measure(ctx, info.id).complete(30)


def test_a_deleted_selection_keeps_its_campaigns(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    name = _group(ctx, "Weg ermee", stages=("demand",))
    info = run_campaign(ctx, name, CALL).campaign
    saved = get_selection(ctx, name)
    delete_selection(ctx, saved.id, saved.version)
    kept = campaign(ctx, info.id)
    assert (kept.selection_id, kept.selection_name, kept.criteria) == (None, name, saved.criteria)
    assert json.loads(kept.action.to_json()) == {"due_date": CALL.due_date.isoformat(), "note": CALL.note}


# ----- the single actions the campaigns share


def test_a_single_call_task_keeps_the_same_guards(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for("demo")
    case_id = _desk_ids(ctx, Case.status == "active")[0]
    task_id = create_call_task(ctx, case_id, CallTaskInput(AS_OF, "Terugbellen"))
    with ctx.db.reader() as s:
        task = s.get(Task, task_id)
        case = s.get(Case, case_id)
    assert task is not None and (task.kind, task.title, task.due_date) == ("call", "Terugbellen", AS_OF)
    assert case is not None and case.next_action_date <= AS_OF
    with pytest.raises(RuleViolation, match="open call task"):
        create_call_task(ctx, case_id, CallTaskInput(AS_OF, "Nog eens"))
    with pytest.raises(BadInput, match="due"):
        create_call_task(ctx, case_id, CallTaskInput(None, "x"))
    with pytest.raises(NotAllowed):
        create_call_task(ctx_for("audit"), case_id, CallTaskInput(AS_OF, "x"))


def test_link_opens_portal_logins_and_portal_arrangements_are_measured(ctx_for, clock) -> None:  # type: ignore[no-untyped-def]
    # issue 21: beside the payments, who of the reached clients opened their portal link, logged in, and made an
    # arrangement there, within 14 and 30 days from the campaign's day
    from datetime import datetime

    from incasso_tui.services import portal as portal_svc
    from incasso_tui.store.models import PortalLink, PortalSession
    from tests.portal.test_portal import svc_input

    ctx = ctx_for("demo")
    name = _group(ctx, "Portaal meten", stages=("reminder",))
    info = run_campaign(ctx, name, CALL).campaign
    done = members(ctx, info.id, outcome="done")
    assert len(done) >= 3
    at = lambda days: datetime.combine(AS_OF + timedelta(days=days), datetime.min.time()).replace(hour=10)  # noqa: E731
    with ctx.db.transaction() as s:
        clients = [s.scalar(select(Case.client_id).where(Case.id == m.case_id)) for m in done[:3]]
        for number, (client_id, opened) in enumerate(zip(clients, (0, 20, 40), strict=True)):
            s.add(
                PortalLink(
                    client_id=client_id,
                    token_hash=f"{number:064d}",
                    code_salt="00",
                    code_hash="00",
                    created_by="demo",
                    created_at=at(0),
                    expires_at=at(30),
                    failures=0,
                    opened_at=at(opened),
                )
            )
        s.flush()
        link = s.scalar(select(PortalLink.id).where(PortalLink.client_id == clients[0]))
        s.add(
            PortalSession(
                token_hash="1" * 64,
                link_id=link,
                client_id=clients[0],
                csrf="x",
                created_at=at(2),
                last_seen=at(2),
                ends_at=at(3),
            )
        )
    clock.advance(days=3)
    outcome = portal_svc.propose_arrangement(ctx, clients[0], svc_input())
    assert outcome.registered, outcome
    m = measure(ctx, info.id).portal
    assert (m.opened_14, m.opened_30) == (1, 2)  # day 0 and day 20; day 40 is after both windows
    assert (m.visited_14, m.visited_30) == (1, 1)
    assert (m.arranged_14, m.arranged_30) == (1, 1)
