"""The client's portal (issue 21): every action and every refusal, through the routes (Starlette's TestClient) and
the services they call, on a fresh copy of the test book."""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from incasso_tui.domain.enums import CaseStatus
from incasso_tui.errors import RuleViolation
from incasso_tui.portal.app import MAX_BODY, _AddressLimit, create_app
from incasso_tui.services import portal as svc
from incasso_tui.services.cases import client_detail
from incasso_tui.store.models import (
    Arrangement,
    AuditEvent,
    Budget,
    Case,
    Client,
    Letter,
    PortalLink,
    Task,
)
from tests.conftest import AS_OF, NOW
from tests.portal.conftest import Person, find_client, make_ctx, token_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:500]
    return m.group(1)


def _login(web: Any, link: svc.IssuedLink, secret: str, code: str | None = None) -> Any:
    page = web.get(f"/l/{token_of(link)}")
    assert page.status_code == 200
    return web.post(
        f"/l/{token_of(link)}", data={"csrf": _csrf(page.text), "code": code or link.code, "secret": secret}
    )


def _logged_in(web: Any, issue: Any, person: Person) -> str:
    """Log ``person`` in; returns the session's CSRF token (from the claim page)."""
    r = _login(web, issue(person), person.secret)
    assert r.status_code == 303 and r.headers["location"] == "/claim"
    claim = web.get("/claim")
    assert claim.status_code == 200
    return _csrf(claim.text)


def _events(ctx: Any, actor: str) -> list[str]:
    with ctx.db.reader() as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.actor == actor).order_by(AuditEvent.id)))


REFUSED = "This combination of link, code and confirmation is not valid"


# ----- access


def test_the_code_is_stored_only_as_hashes_and_a_new_link_revokes_the_old(pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    first = issue(person)
    second = issue(person)
    with pctx.db.reader() as s:
        links = list(s.scalars(select(PortalLink).where(PortalLink.client_id == person.id).order_by(PortalLink.id)))
    assert [link.revoked_at is not None for link in links] == [True, False]
    stored = " ".join(f"{link.token_hash} {link.code_hash} {link.code_salt}" for link in links)
    for issued in (first, second):
        assert token_of(issued) not in stored and issued.code.replace("-", "") not in stored
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", second.code)
    assert second.expires_at == NOW + timedelta(days=pctx.settings.portal_code_days)


def test_login_with_the_code_and_the_date_of_birth_opens_the_claim(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    r = _login(web, issue(person), person.secret)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert (
        "portal_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    )
    page = web.get("/claim")
    assert page.status_code == 200
    detail = client_detail(pctx, person.case_id)
    assert person.number in page.text
    assert pctx.settings and detail.arrears.total > 0
    # the arrears split as the desk's client detail reads them (Dutch amounts)
    from incasso_tui.i18n import Translator

    tr = Translator("nl")
    for amount in (detail.arrears.principal, detail.arrears.total):
        assert tr.money(amount) in page.text
    assert _events(pctx, f"client:{person.number}") == ["portal.login"]


def test_a_business_confirms_with_its_kvk_number(web, sqlite_db, issue) -> None:  # type: ignore[no-untyped-def]
    business = find_client(sqlite_db, kind="business")
    assert _login(web, issue(business), "12345678").status_code == 400
    r = _login(web, issue(business), business.secret)
    assert r.status_code == 303


def test_cookies_are_secure_unless_switched_off_for_plain_http(sqlite_db, clock, person) -> None:  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    ctx = make_ctx(sqlite_db, clock, portal_secure_cookies=True)
    link = svc.issue_link(ctx, client_number=person.number)
    with TestClient(create_app(ctx), base_url="https://127.0.0.1", follow_redirects=False) as web:
        r = _login(web, link, person.secret)
        assert r.status_code == 303
        assert "Secure" in r.headers["set-cookie"]
        assert r.headers["strict-transport-security"].startswith("max-age=")


def test_every_response_carries_the_security_headers(web) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/l/nothing", "/claim", "/static/portal.css"):
        r = web.get(path)
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-frame-options"] == "DENY"
    assert web.get("/claim").headers["cache-control"] == "no-store"
    assert "<script" not in web.get("/l/x").text


def test_three_wrong_tries_lock_the_link_even_for_the_right_code(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    link = issue(person)
    for _ in range(3):
        r = _login(web, link, person.secret, code="AAAAA-AAAAA")
        assert r.status_code == 400 and REFUSED in _english(r.text, web)
    r = _login(web, link, person.secret)  # the right code: the link is locked
    assert r.status_code == 400
    with pctx.db.reader() as s:
        row = s.scalar(select(PortalLink).where(PortalLink.client_id == person.id))
        assert row.locked_until == NOW + timedelta(minutes=pctx.settings.portal_lock_minutes)
        assert row.used_at is None
    pctx.clock.advance(minutes=pctx.settings.portal_lock_minutes + 1)
    assert _login(web, link, person.secret).status_code == 303  # after the lock the code works


def test_a_wrong_date_of_birth_counts_as_a_wrong_try(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    link = issue(person)
    assert _login(web, link, "01-01-1900").status_code == 400
    with pctx.db.reader() as s:
        assert s.scalar(select(PortalLink.failures).where(PortalLink.client_id == person.id)) == 1


def _english(html: str, web: Any) -> str:
    """The page's text: the tests read the English pages (the login page without a client: Dutch by default)."""
    return html + "|" + svc.LoginRefused().english() if "klopt niet" in html else html


def test_an_expired_code_an_unknown_link_and_a_used_code_get_the_same_answer(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    link = issue(person)
    unknown = svc.IssuedLink(0, "X", "https://x/l/doesnotexist0000000000", "AAAAA-AAAAA", NOW, "birth_date")
    answers = []
    answers.append(_login(web, unknown, person.secret))
    pctx.clock.advance(days=pctx.settings.portal_code_days, seconds=1)
    answers.append(_login(web, link, person.secret))  # expired
    pctx.clock.advance(days=-pctx.settings.portal_code_days, seconds=-1)
    assert _login(web, link, person.secret).status_code == 303
    web.cookies.clear()
    answers.append(_login(web, link, person.secret))  # used once already
    texts = {re.sub(r'/l/[^"?]*|value="[^"]*"', "", r.text) for r in answers}
    assert [r.status_code for r in answers] == [400, 400, 400]
    assert len(texts) == 1, "\n".join(difflib.unified_diff(*[t.splitlines() for t in texts]))
    assert "klopt niet" in texts.pop()


def test_logins_from_one_address_are_limited(sqlite_db, clock, person) -> None:  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    ctx = make_ctx(sqlite_db, clock)
    limit = _AddressLimit(limit=4)
    with TestClient(create_app(ctx, address_limit=limit), base_url="http://127.0.0.1", follow_redirects=False) as web:
        for n in range(4):  # four different links guessed from the same address
            fake = svc.IssuedLink(0, "X", f"https://x/l/guess{n}", "AAAAA-AAAAA", NOW, "birth_date")
            assert _login(web, fake, "01-01-1980").status_code == 400
        link = svc.issue_link(ctx, client_number=person.number)
        assert _login(web, link, person.secret).status_code == 400  # blocked, whatever is typed
    with ctx.db.reader() as s:  # and the real link was never tried: it is not locked
        assert s.scalar(select(PortalLink.failures).where(PortalLink.client_id == person.id)) == 0


def test_login_fields_are_required_with_a_message_at_the_field(web, person, issue) -> None:  # type: ignore[no-untyped-def]
    link = issue(person)
    page = web.get(f"/l/{token_of(link)}")
    r = web.post(f"/l/{token_of(link)}", data={"csrf": _csrf(page.text), "code": "", "secret": ""})
    assert r.status_code == 400
    assert 'id="e-code"' in r.text and 'id="e-secret"' in r.text and 'aria-invalid="true"' in r.text


def test_a_post_without_csrf_is_refused_and_changes_nothing(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    link = issue(person)
    web.get(f"/l/{token_of(link)}")
    r = web.post(f"/l/{token_of(link)}", data={"code": link.code, "secret": person.secret})
    assert r.status_code == 403 and "portal_session" not in r.headers.get("set-cookie", "")
    _logged_in(web, issue, person)
    before = _count(pctx, Task, Task.case_id == person.case_id)
    r = web.post("/callback", data={"day": (AS_OF + timedelta(days=2)).isoformat(), "note": "x"})
    assert r.status_code == 403
    r = web.post("/callback", data={"csrf": "forged", "day": (AS_OF + timedelta(days=2)).isoformat()})
    assert r.status_code == 403
    assert _count(pctx, Task, Task.case_id == person.case_id) == before


def test_an_oversized_post_is_refused(web, person, issue) -> None:  # type: ignore[no-untyped-def]
    csrf = _logged_in(web, issue, person)
    r = web.post("/contact", data={"csrf": csrf, "phone": "0" * (MAX_BODY + 10), "email": ""})
    assert r.status_code == 413
    link = issue(person)
    r = web.post(
        f"/l/{token_of(link)}",
        content=b"code=" + b"A" * (MAX_BODY * 4),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413


def test_pages_need_a_session_and_a_session_ends_when_idle(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    for path in ("/claim", "/budget", "/arrangement", "/contact", "/callback", "/letters/1.pdf"):
        assert web.get(path).status_code == 401
    _logged_in(web, issue, person)
    pctx.clock.advance(minutes=pctx.settings.portal_session_minutes + 1)
    assert web.get("/claim").status_code == 401


def test_a_session_ends_at_its_maximum_whatever_the_activity(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    _logged_in(web, issue, person)
    steps = pctx.settings.portal_session_max_minutes // 10
    for _ in range(steps - 1):
        pctx.clock.advance(minutes=10)
        assert web.get("/claim").status_code == 200
    pctx.clock.advance(minutes=10)
    assert web.get("/claim").status_code == 401


def test_logout_ends_the_session(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    csrf = _logged_in(web, issue, person)
    assert web.post("/logout", data={"csrf": csrf}).status_code == 200
    assert web.get("/claim").status_code == 401
    assert _events(pctx, f"client:{person.number}") == ["portal.login", "portal.logout"]


# ----- the claim, letters, QR


def _letter(pctx: Any, tmp_path: Any, person: Person, body: bytes) -> int:
    path = tmp_path / f"{person.number}.pdf"
    path.write_bytes(body)
    with pctx.db.transaction() as s:
        letter = Letter(
            case_id=person.case_id,
            client_id=person.id,
            kind="reminder",
            channel="letter",
            language="nl",
            letter_date=AS_OF,
            figures="{}",
            status="sent",
            file_path=str(path),
            created_by="demo",
            created_at=NOW,
            dispatched_on=AS_OF,
        )
        s.add(letter)
        s.flush()
        return letter.id


def test_letters_of_the_client_only(web, pctx, sqlite_db, person, issue, tmp_path) -> None:  # type: ignore[no-untyped-def]
    other = find_client(sqlite_db, skip=1)
    own = _letter(pctx, tmp_path, person, b"%PDF-1.4 own")
    foreign = _letter(pctx, tmp_path, other, b"%PDF-1.4 foreign")
    _logged_in(web, issue, person)
    page = web.get("/claim")
    assert f"/letters/{own}.pdf" in page.text and f"/letters/{foreign}.pdf" not in page.text
    r = web.get(f"/letters/{own}.pdf")
    assert r.status_code == 200 and r.content == b"%PDF-1.4 own" and r.headers["content-type"] == "application/pdf"
    r = web.get(f"/letters/{foreign}.pdf")
    assert r.status_code == 404 and b"foreign" not in r.content
    assert web.get("/letters/999999.pdf").status_code == 404
    assert _events(pctx, f"client:{person.number}") == ["portal.login", "portal.letter"]


def test_the_qr_code_pays_the_loans_arrears_to_the_lender(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.domain.epc import parse_payload
    from tests.qr_decode import decode_png

    _logged_in(web, issue, person)
    detail = client_detail(pctx, person.case_id)
    loan = next(loan for loan in detail.loans if loan.arrears.total > 0)
    r = web.get(f"/qr/{loan.number}.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    decoded = decode_png(r.content)
    assert len(decoded) == 1
    payment = parse_payload(decoded[0])
    assert payment.amount == loan.arrears.total
    assert payment.iban == pctx.settings.lender_iban
    from incasso_tui.domain.references import loan_rf

    assert payment.reference == loan_rf(loan.number, pctx.settings.payment_rf_prefix)
    other = find_client(pctx.db, skip=1)
    with pctx.db.reader() as s:
        from incasso_tui.store.models import Loan

        foreign = s.scalar(select(Loan.number).where(Loan.client_id == other.id).limit(1))
    assert web.get(f"/qr/{foreign}.png").status_code == 404


# ----- arrangements


def _propose(web: Any, csrf: str, **fields: str) -> Any:
    data = {
        "csrf": csrf,
        "down_payment": "0",
        "count": "6",
        "frequency": "monthly",
        "first_date": (AS_OF + timedelta(days=7)).isoformat(),
        **fields,
    }
    return web.post("/arrangement", data=data)


def test_an_arrangement_within_the_limits_is_registered_as_the_client(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    csrf = _logged_in(web, issue, person)
    r = _propose(web, csrf)
    assert r.status_code == 200, r.text
    assert "Uw regeling is getroffen" in r.text or "Your arrangement is made" in r.text
    with pctx.db.reader() as s:
        arrangement = s.scalar(
            select(Arrangement).where(Arrangement.case_id == person.case_id, Arrangement.status == "active")
        )
        assert arrangement is not None and arrangement.created_by == f"client:{person.number}"
        assert arrangement.installment_count == 6
        assert s.get(Case, person.case_id).status == CaseStatus.ARRANGEMENT.value
    assert "arrangement.create" in _events(pctx, f"client:{person.number}")
    claim = web.get("/claim").text
    assert "/arrangement" not in claim.split("</nav>")[-1]  # no second one offered
    assert "Volgende termijn" in claim or "Next installment" in claim


def test_an_arrangement_outside_the_limits_becomes_a_request_for_the_desk(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    csrf = _logged_in(web, issue, person)
    count = str(pctx.settings.arrangement_max_installments + 6)
    r = _propose(web, csrf, count=count)
    assert r.status_code == 200
    with pctx.db.reader() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(Arrangement)
                .where(Arrangement.case_id == person.case_id, Arrangement.created_by.like("client:%"))
            )
            == 0
        )
        task = s.scalar(select(Task).where(Task.case_id == person.case_id, Task.kind == "portal_request"))
        assert task is not None and task.created_by == f"client:{person.number}" and task.status == "open"
    assert "portal.arrangement_request" in _events(pctx, f"client:{person.number}")
    r = _propose(web, csrf, count=count)  # a second one waits for the first
    assert r.status_code == 400 and 'class="alert"' in r.text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"down_payment": "abc"}, "down_payment"),
        ({"down_payment": "-5"}, "down_payment"),
        ({"count": "0"}, "count"),
        ({"count": "many"}, "count"),
        ({"frequency": "yearly"}, "frequency"),
        ({"first_date": "31-02-2026"}, "first_date"),
        ({"first_date": "2020-01-01"}, "first_date"),
    ],
)
def test_arrangement_fields_are_validated_at_the_field(web, pctx, person, issue, fields, field) -> None:  # type: ignore[no-untyped-def]
    csrf = _logged_in(web, issue, person)
    r = _propose(web, csrf, **fields)
    assert r.status_code == 400
    assert f'id="e-{field}"' in r.text
    assert _count(pctx, Arrangement, Arrangement.case_id == person.case_id, Arrangement.status == "active") == 0


@pytest.mark.parametrize("status", [CaseStatus.HANDED_OVER.value, CaseStatus.INSOLVENCY.value])
def test_a_handed_over_or_insolvent_client_sees_the_claim_and_whom_to_contact(web, pctx, person, issue, status) -> None:  # type: ignore[no-untyped-def]
    with pctx.db.transaction() as s:
        s.get(Case, person.case_id).status = status
    csrf = _logged_in(web, issue, person)
    claim = web.get("/claim").text
    assert 'aria-labelledby="contact-h"' in claim and 'href="/arrangement"' not in claim
    assert pctx.settings.lender_phone in claim
    r = _propose(web, csrf)
    assert r.status_code == 409
    with pytest.raises(RuleViolation):
        svc.propose_arrangement(pctx, person.id, svc_input())
    assert _count(pctx, Arrangement, Arrangement.case_id == person.case_id, Arrangement.status == "active") == 0


@pytest.mark.parametrize("status", [CaseStatus.DEFERRAL.value, CaseStatus.PAUSED.value])
def test_no_arrangement_and_no_request_while_a_deferral_or_pause_runs(web, pctx, person, issue, status) -> None:  # type: ignore[no-untyped-def]
    with pctx.db.transaction() as s:
        s.get(Case, person.case_id).status = status
    csrf = _logged_in(web, issue, person)
    assert 'href="/arrangement"' not in web.get("/claim").text
    assert _propose(web, csrf).status_code == 409
    with pytest.raises(RuleViolation, match="deferral or pause"):
        svc.propose_arrangement(pctx, person.id, svc_input())
    assert _count(pctx, Task, Task.case_id == person.case_id, Task.kind == "portal_request") == 0
    assert _count(pctx, Arrangement, Arrangement.case_id == person.case_id, Arrangement.status == "active") == 0


def svc_input() -> Any:
    from incasso_tui.domain.enums import Frequency
    from incasso_tui.services.arrangements import ArrangementInput

    return ArrangementInput(
        down_payment=Decimal("0.00"), first_date=AS_OF + timedelta(days=7), frequency=Frequency.MONTHLY, count=6
    )


# ----- budget, contact, call-back


def _budget_form(csrf: str, **fields: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "household": "single",
        "children": "0",
        "salary": "1.850,00",
        "housing": "750",
        "health": "140",
        "cause": "illness",
        "note": "",
        "revenue": "0",
        **fields,
    }


def test_the_budget_is_stored_as_self_declared_with_its_cause(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    csrf = _logged_in(web, issue, person)
    assert web.get("/budget").status_code == 200
    r = web.post("/budget", data=_budget_form(csrf, note="<b>ziek</b>"))
    assert r.status_code == 303 and r.headers["location"] == "/claim?done=budget", re.findall(
        r"class=\"(?:error|alert)\"[^>]*>(.*?)<", r.text, re.S
    )
    with pctx.db.reader() as s:
        row = s.scalar(select(Budget).where(Budget.client_id == person.id).order_by(Budget.id.desc()))
        assert row.source == "client" and row.checked == "self_declared"
        assert row.created_by == f"client:{person.number}" and row.note == "<b>ziek</b>"
        assert s.get(Case, person.case_id).cause == "illness"
    assert "budget.set" in _events(pctx, f"client:{person.number}")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"salary": "veel"}, "salary"),
        ({"salary": "", "benefits": ""}, "salary"),
        ({"children": "-1"}, "children"),
        ({"household": "commune"}, "household"),
        ({"housing": "12,345"}, "housing"),
        ({"cause": "aliens"}, "cause"),
        ({"housing": "60000"}, "housing"),
        ({"business_drawings": "600000"}, "business_drawings"),
        ({"note": "x" * 1001}, "note"),
    ],
)
def test_budget_fields_are_validated_at_the_field(web, pctx, person, issue, fields, field) -> None:  # type: ignore[no-untyped-def]
    csrf = _logged_in(web, issue, person)
    r = web.post("/budget", data=_budget_form(csrf, **fields))
    assert r.status_code == 400
    assert f'id="e-{field}"' in r.text
    assert _count(pctx, Budget, Budget.client_id == person.id, Budget.source == "client") == 0


def test_contact_details_and_consent(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    csrf = _logged_in(web, issue, person)
    r = web.post("/contact", data={"csrf": csrf, "phone": "06-12345678", "email": "klant@example.nl", "consent": "1"})
    assert r.status_code == 303
    with pctx.db.reader() as s:
        client = s.get(Client, person.id)
        assert (client.phone, client.email, client.email_consent_on) == ("06-12345678", "klant@example.nl", AS_OF)
    r = web.post("/contact", data={"csrf": csrf, "phone": "06-12345678", "email": "klant@example.nl"})
    with pctx.db.reader() as s:
        assert s.get(Client, person.id).email_consent_on is None
    assert _events(pctx, f"client:{person.number}").count("portal.contact") == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"phone": "<script>alert(1)</script>"}, "phone"),
        ({"email": "not an address"}, "email"),
        ({"email": "", "consent": "1"}, "consent"),
    ],
)
def test_contact_fields_are_validated_and_shown_as_text(web, pctx, person, issue, fields, field) -> None:  # type: ignore[no-untyped-def]
    csrf = _logged_in(web, issue, person)
    with pctx.db.reader() as s:
        before = (s.get(Client, person.id).phone, s.get(Client, person.id).email)
    r = web.post("/contact", data={"csrf": csrf, "phone": "", "email": "", **fields})
    assert r.status_code == 400 and f'id="e-{field}"' in r.text
    assert "<script>" not in r.text
    if "script" in fields.get("phone", ""):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    with pctx.db.reader() as s:
        assert (s.get(Client, person.id).phone, s.get(Client, person.id).email) == before


def test_a_name_with_html_is_shown_as_text(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    with pctx.db.transaction() as s:
        s.get(Client, person.id).name = '<img src=x onerror="alert(1)">Jansen'
    _logged_in(web, issue, person)
    page = web.get("/claim").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Jansen" in page


def test_ask_to_be_called_back_makes_a_call_task(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    csrf = _logged_in(web, issue, person)
    with pctx.db.transaction() as s:  # the test book may have an open call task: the client's is a new one
        for t in s.scalars(select(Task).where(Task.case_id == person.case_id, Task.kind == "call")):
            t.status = "done"
    day = AS_OF + timedelta(days=3)
    r = web.post("/callback", data={"csrf": csrf, "day": day.isoformat(), "note": "na 17 uur"})
    assert r.status_code == 303, r.text
    with pctx.db.reader() as s:
        task = s.scalar(select(Task).where(Task.case_id == person.case_id, Task.kind == "call", Task.status == "open"))
        assert task.due_date == day and task.created_by == f"client:{person.number}" and "na 17 uur" in task.title


@pytest.mark.parametrize(
    ("day", "note", "field"),
    [
        ("", "", "day"),
        ("gisteren", "", "day"),
        ((AS_OF - timedelta(days=1)).isoformat(), "", "day"),
        ((AS_OF + timedelta(days=31)).isoformat(), "", "day"),
        ((AS_OF + timedelta(days=2)).isoformat(), "x" * 151, "note"),
        ((AS_OF + timedelta(days=2)).isoformat(), "bel\x1b[31m mij", "note"),
    ],
)
def test_call_back_fields_are_validated_at_the_field(web, pctx, person, issue, day, note, field) -> None:  # type: ignore[no-untyped-def]
    csrf = _logged_in(web, issue, person)
    r = web.post("/callback", data={"csrf": csrf, "day": day, "note": note})
    assert r.status_code == 400 and f'id="e-{field}"' in r.text
    assert _count(pctx, Task, Task.case_id == person.case_id, Task.created_by.like("client:%")) == 0


def test_the_client_acts_on_the_timeline_as_a_distinct_actor(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    csrf = _logged_in(web, issue, person)
    _propose(web, csrf)
    timeline = client_detail(pctx, person.case_id).timeline
    actors = {row.actor for row in timeline if row.action in ("portal.login", "arrangement.create")}
    assert actors == {f"client:{person.number}"}


def test_english_on_request(web, person, issue) -> None:  # type: ignore[no-untyped-def]
    _logged_in(web, issue, person)
    assert "Uw vordering" in web.get("/claim").text or "Your claim" in web.get("/claim").text
    assert "What is past due" in web.get("/claim?lang=en").text
    assert "What is past due" in web.get("/claim").text  # the choice is kept in a cookie
    assert "Wat achterstallig is" in web.get("/claim?lang=nl").text


def _count(ctx: Any, model: Any, *where: Any) -> int:
    with ctx.db.reader() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_the_tui_timeline_tells_what_the_client_did(web, pctx, person, issue) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.i18n import Translator
    from incasso_tui.ui.timeline_text import sentence

    _logged_in(web, issue, person)
    rows = [row for row in client_detail(pctx, person.case_id).timeline if row.action.startswith("portal.")]
    texts = [sentence(Translator("nl"), row) for row in rows]
    assert f"client:{person.number} heeft ingelogd op het portaal" in texts
    assert any(t.startswith("Persoonlijke portaallink uitgegeven door demo") for t in texts)
