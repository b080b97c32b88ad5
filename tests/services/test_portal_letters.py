"""A letter that asks for payment prints the client's personal portal link and a new one-time code (issue 21,
setting portal_on_letters), on both backends: the code on the PDF logs in; the next letter's code replaces it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from incasso_tui.config import load_settings
from incasso_tui.errors import ConfigError
from incasso_tui.services import portal as svc
from incasso_tui.services.letters import render_pending
from incasso_tui.store.models import AuditEvent, Letter, PortalLink
from tests.conftest import AS_OF
from tests.dispatch_helpers import dispatch_waiting
from tests.letter_samples import add_pending_letter
from tests.portal.conftest import find_client, make_ctx

pytestmark = pytest.mark.pg

PORTAL = "https://portaal.lender.example"


def _reminder(ctx, person, kind: str = "reminder") -> str:  # type: ignore[no-untyped-def]
    """A letter (a reminder) rendered for ``person``; the text of its PDF."""
    letter_id = add_pending_letter(ctx.db, person.case_id, person.id, kind)
    render_pending(ctx)
    with ctx.db.reader() as s:
        done = s.get(Letter, letter_id)
        assert done is not None and done.status == "rendered", done.error if done else None
        return " ".join("".join(p.extract_text() for p in PdfReader(str(done.file_path)).pages).split())


def _link(text: str) -> tuple[str, str]:
    """The token and the code a letter prints (a line break of the PDF may fall inside the address)."""
    found = re.search(r"ga naar (.+?) en typ de code (\S+) ", text)
    assert found, text
    url = re.sub(r"\s+", "", found.group(1))
    assert url.startswith(f"{PORTAL}/l/"), url
    return url.rsplit("/", 1)[1], found.group(2)


def test_the_code_on_a_letter_works_from_its_dispatch_and_the_next_dispatch_replaces_it(
    db, clock, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx(db, clock, letters_dir=tmp_path / "outbox", portal_on_letters=True, portal_base_url=PORTAL)
    person = find_client(db)
    text = _reminder(ctx, person)
    token, code = _link(text)
    assert "(geldig tot en met 23 december 2026)" in text  # 30 days (portal_code_days) from 23 November
    assert "u bevestigt met uw geboortedatum" in text
    with pytest.raises(svc.LoginRefused):
        svc.login(ctx, token, code, person.secret)  # rendered, not sent: the code has no effect yet
    dispatch_waiting(ctx.db, AS_OF, ctx.settings, client_id=person.id, kind="reminder")
    token2, code2 = _link(_reminder(ctx, person, "demand"))
    assert code2 != code and token2 != token
    with db.reader() as s:  # the newer letter is only rendered: the older code still works
        assert s.scalar(select(PortalLink.revoked_at).where(PortalLink.token_hash == svc._sha(token))) is None
    dispatch_waiting(ctx.db, AS_OF, ctx.settings, client_id=person.id, kind="demand")
    with pytest.raises(svc.LoginRefused):
        svc.login(ctx, token, code, person.secret)  # the newer letter went out: the older code stopped working
    _cookie, info = svc.login(ctx, token2, code2, person.secret)
    assert info.client_id == person.id
    with db.reader() as s:
        revoked = s.scalars(select(AuditEvent.after).where(AuditEvent.action == "portal.links_revoked")).all()
    assert len(revoked) == 1 and '"revoked": 1' in revoked[0]


def test_without_the_setting_a_letter_has_no_link(db, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx(db, clock, letters_dir=tmp_path / "outbox")
    text = _reminder(ctx, find_client(db))
    assert "/l/" not in text and "typ de code" not in text


def test_the_setting_needs_a_real_public_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCASSO_PORTAL_ON_LETTERS", "true")
    with pytest.raises(ConfigError, match="portal_base_url"):
        load_settings()
    monkeypatch.setenv("INCASSO_PORTAL_BASE_URL", "http://portaal.lender.example")
    with pytest.raises(ConfigError, match="portal_base_url"):
        load_settings()
    monkeypatch.setenv("INCASSO_PORTAL_BASE_URL", PORTAL)
    assert load_settings().portal_on_letters is True
