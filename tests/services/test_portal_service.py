"""services.portal on both backends (SQLite always, PostgreSQL when INCASSO_TEST_PG_URL is set): a link, its
one-time login, the lock after three wrong tries, and an arrangement registered as the client (issue 21)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incasso_tui.services import portal as svc
from incasso_tui.store.models import Arrangement, AuditEvent, PortalLink
from tests.portal.conftest import find_client, make_ctx
from tests.portal.test_portal import svc_input

pytestmark = pytest.mark.pg


def test_link_login_lock_and_arrangement(db, clock) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx(db, clock)
    person = find_client(db)
    link = svc.issue_link(ctx, client_number=person.number)
    token = link.url.rsplit("/", 1)[1]
    for _ in range(ctx.settings.portal_max_failures):
        with pytest.raises(svc.LoginRefused):
            svc.login(ctx, token, "WRONG-CODE0", person.secret)
    with pytest.raises(svc.LoginRefused):
        svc.login(ctx, token, link.code, person.secret)  # locked
    clock.advance(minutes=ctx.settings.portal_lock_minutes + 1)
    cookie, info = svc.login(ctx, token, link.code, person.secret)
    assert info.client_id == person.id and svc.session(ctx, cookie) == info
    with pytest.raises(svc.LoginRefused):
        svc.login(ctx, token, link.code, person.secret)  # one-time
    outcome = svc.propose_arrangement(ctx, person.id, svc_input())
    assert outcome.registered
    with db.reader() as s:
        made = s.get(Arrangement, outcome.arrangement_id)
        assert made.created_by == f"client:{person.number}"
        refused = s.scalars(select(AuditEvent.after).where(AuditEvent.action == "portal.login_refused")).all()
        assert len(refused) == ctx.settings.portal_max_failures + 2
        assert s.scalar(select(PortalLink.used_at).where(PortalLink.id == link.link_id)) is not None
    clock.advance(minutes=ctx.settings.portal_session_minutes + 1)
    assert svc.session(ctx, cookie) is None


def test_two_logins_with_one_code_at_the_same_moment_give_one_session(db, clock) -> None:  # type: ignore[no-untyped-def]
    import threading

    ctx = make_ctx(db, clock)
    person = find_client(db)
    link = svc.issue_link(ctx, client_number=person.number)
    token = link.url.rsplit("/", 1)[1]
    start = threading.Barrier(2)
    results: list[str] = []

    def attempt() -> None:
        start.wait()
        try:
            svc.login(ctx, token, link.code, person.secret)
            results.append("session")
        except svc.LoginRefused:
            results.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["refused", "session"]
    with db.reader() as s:
        from incasso_tui.store.models import PortalSession

        assert len(s.scalars(select(PortalSession).where(PortalSession.link_id == link.link_id)).all()) == 1


def test_the_first_open_of_a_link_is_recorded_once_and_an_unknown_link_changes_nothing(db, clock) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func

    ctx = make_ctx(db, clock)
    person = find_client(db)
    link = svc.issue_link(ctx, client_number=person.number)
    token = link.url.rsplit("/", 1)[1]

    def events() -> int:
        with db.reader() as s:
            return int(
                s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "portal.link_opened"))
                or 0
            )

    svc.link_opened(ctx, "no-such-token")
    assert events() == 0
    svc.link_opened(ctx, token)
    first = clock.now()
    clock.advance(minutes=5)
    svc.link_opened(ctx, token)
    with db.reader() as s:
        assert s.scalar(select(PortalLink.opened_at).where(PortalLink.id == link.link_id)) == first
    assert events() == 1
