"""``incasso portal code`` and the refusals of ``incasso serve portal`` (issue 21)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from incasso_tui import cli
from incasso_tui.store.models import Loan, PortalLink
from tests.portal.conftest import find_client


def test_portal_code_by_client_and_by_loan(sqlite_db, capsys) -> None:  # type: ignore[no-untyped-def]
    person = find_client(sqlite_db)
    base = ["--db", sqlite_db.url, "--user", "demo", "--date", "2026-11-23"]
    assert cli.main(["portal", "code", "--client", person.number, "--json", *base]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["client"] == person.number and "/l/" in first["url"] and len(first["code"]) == 11
    with sqlite_db.reader() as s:
        loan = s.scalar(select(Loan.number).where(Loan.client_id == person.id).limit(1))
    assert cli.main(["portal", "code", "--loan", loan, *base]) == 0
    out = capsys.readouterr().out
    assert "Eenmalige code" in out
    with sqlite_db.reader() as s:
        links = list(s.scalars(select(PortalLink).where(PortalLink.client_id == person.id).order_by(PortalLink.id)))
    assert [link.revoked_at is None for link in links] == [False, True]
    assert cli.main(["portal", "code", "--client", "C0000000", *base]) == 2
    assert "C0000000" in capsys.readouterr().err


def test_portal_code_needs_a_desk_user(sqlite_db, capsys) -> None:  # type: ignore[no-untyped-def]
    person = find_client(sqlite_db)
    assert cli.main(["portal", "code", "--client", person.number, "--db", sqlite_db.url, "--user", "audit"]) != 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0", "--insecure-cookies"], "Secure"),
        (["--port", "70000"], "70000"),
    ],
)
def test_serve_portal_refuses_insecure_cookies_off_loopback(sqlite_db, capsys, args, message) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["serve", "portal", "--db", sqlite_db.url, *args]) == 2
    assert message in capsys.readouterr().err


def test_serve_portal_refuses_the_insecure_setting_off_loopback(sqlite_db, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("INCASSO_PORTAL_SECURE_COOKIES", "false")
    assert cli.main(["serve", "portal", "--db", sqlite_db.url, "--host", "0.0.0.0"]) == 2
    assert "Secure" in capsys.readouterr().err


def test_birth_date_is_recorded_and_needed_for_a_link(sqlite_db, capsys) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.store.models import AuditEvent, Client

    person = find_client(sqlite_db)
    with sqlite_db.transaction() as s:
        s.get(Client, person.id).birth_date = None
    base = ["--db", sqlite_db.url, "--user", "demo", "--date", "2026-11-23"]
    assert cli.main(["portal", "code", "--client", person.number, *base]) == 2
    assert "geboortedatum" in capsys.readouterr().err
    assert cli.main(["portal", "birth-date", "--client", person.number, "2030-01-01", *base]) == 2
    assert cli.main(["portal", "birth-date", "--client", person.number, "1970-05-17", *base]) == 0
    assert cli.main(["portal", "code", "--client", person.number, "--json", *base]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["confirm_with"] == "birth_date"
    with sqlite_db.reader() as s:
        assert str(s.get(Client, person.id).birth_date) == "1970-05-17"
        assert s.scalar(select(AuditEvent.actor).where(AuditEvent.action == "client.birth_date")) == "demo"
    business = find_client(sqlite_db, kind="business")
    assert cli.main(["portal", "birth-date", "--client", business.number, "1970-05-17", *base]) == 2
