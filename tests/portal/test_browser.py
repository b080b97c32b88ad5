"""The portal in a real headless Chromium (the system's /usr/bin/chromium, driven by Playwright): log in with a
letter's code, see the claim, scan-check the QR code, propose an arrangement, fill in the budget; and the refusals
a browser meets (three wrong codes). Skipped, with the reason, when Playwright or the browser cannot be had."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from incasso_tui.services.portal import issue_link
from incasso_tui.store.models import Arrangement, Budget
from tests.conftest import AS_OF
from tests.portal.conftest import find_client, make_ctx
from tests.portal.server import running

CHROMIUM = os.environ.get("INCASSO_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM}: .ci/run installs it with apt-get")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        except sync_api.Error as err:  # the browser is there but cannot start here (no sandbox support, libraries)
            pytest.skip(f"Chromium does not start: {str(err).splitlines()[0]}")
        yield b
        b.close()


@pytest.fixture
def site(sqlite_db, clock) -> Iterator[tuple[str, Any]]:  # type: ignore[no-untyped-def]
    ctx = make_ctx(sqlite_db, clock)
    with running(ctx) as url:
        yield url, ctx


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def _login(page: Any, url: str, link: Any, secret: str, code: str | None = None) -> None:
    page.goto(f"{url}/l/{link.url.rsplit('/', 1)[1]}")
    page.get_by_label("Code uit de brief").fill(code or link.code)
    page.get_by_label("Uw geboortedatum, of het KvK-nummer van uw bedrijf").fill(secret)
    page.get_by_role("button", name="Inloggen").click()


def test_log_in_see_the_claim_scan_the_qr_and_propose_an_arrangement(browser, site) -> None:  # type: ignore[no-untyped-def]
    from incasso_tui.domain.epc import parse_payload
    from tests.qr_decode import decode_png

    url, ctx = site
    person = find_client(ctx.db)
    link = issue_link(ctx, client_number=person.number)
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # a CSP violation shows here
    _login(page, url, link, person.secret)
    page.wait_for_url(f"{url}/claim")
    expect(page.get_by_role("heading", name="Uw vordering")).to_be_visible()
    expect(page.get_by_role("heading", name="Wat achterstallig is")).to_be_visible()
    qr = page.locator("figure.qr img").first
    src = qr.get_attribute("src")
    png = page.request.get(f"{url}{src}").body()
    payment = parse_payload(decode_png(png)[0])
    assert payment.iban == ctx.settings.lender_iban and payment.amount is not None and payment.amount > 0
    assert qr.evaluate("img => img.naturalWidth") > 0  # the browser loaded it under the CSP

    page.get_by_role("link", name="Een regeling voorstellen").first.click()
    page.get_by_label("Aantal termijnen").fill("6")
    page.get_by_label("maandelijks").check()
    page.get_by_label("Eerste betaling op").fill((AS_OF + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Mijn voorstel versturen").click()
    expect(page.get_by_role("heading", name="Uw regeling is getroffen")).to_be_visible()
    with ctx.db.reader() as s:
        made = s.scalar(
            select(Arrangement).where(Arrangement.case_id == person.case_id, Arrangement.status == "active")
        )
        assert made is not None and made.created_by == f"client:{person.number}"
    assert not errors, errors


def test_fill_in_the_budget_with_a_message_at_the_wrong_field(browser, site) -> None:  # type: ignore[no-untyped-def]
    url, ctx = site
    person = find_client(ctx.db)
    link = issue_link(ctx, client_number=person.number)
    page = browser.new_page()
    _login(page, url, link, person.secret)
    page.wait_for_url(f"{url}/claim")
    page.get_by_role("link", name="Inkomsten en uitgaven").first.click()
    page.get_by_label("Netto salaris").fill("veel")
    page.get_by_role("button", name="Versturen").click()
    field = page.get_by_label("Netto salaris")
    assert field.get_attribute("aria-invalid") == "true"
    expect(page.locator("#e-salary")).to_be_visible()
    field.fill("1850,00")
    page.get_by_label("Huur of hypotheek").fill("750")
    if page.locator("#f-revenue").count():
        page.get_by_label("Omzet").fill("0")
    page.get_by_label("Wat is de oorzaak van de achterstand?").select_option("illness")
    page.get_by_role("button", name="Versturen").click()
    page.wait_for_url(f"{url}/claim?done=budget")
    expect(page.get_by_role("status")).to_be_visible()
    with ctx.db.reader() as s:
        row = s.scalar(select(Budget).where(Budget.client_id == person.id, Budget.source == "client"))
        assert row is not None and row.checked == "self_declared"


def test_three_wrong_codes_lock_the_link_in_the_browser(browser, site) -> None:  # type: ignore[no-untyped-def]
    url, ctx = site
    person = find_client(ctx.db)
    link = issue_link(ctx, client_number=person.number)
    page = browser.new_page()
    for _ in range(3):
        _login(page, url, link, person.secret, code="AAAAA-AAAAA")
        expect(page.get_by_role("alert")).to_be_visible()
    _login(page, url, link, person.secret)
    expect(page.get_by_role("alert")).to_be_visible()
    assert "/claim" not in page.url


def test_another_clients_letter_and_a_forged_post_are_refused(browser, site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.portal.test_portal import _letter

    url, ctx = site
    person, other = find_client(ctx.db), find_client(ctx.db, skip=1)
    foreign = _letter(ctx, tmp_path, other, b"%PDF-1.4 foreign")
    page = browser.new_page()
    _login(page, url, issue_link(ctx, client_number=person.number), person.secret)
    page.wait_for_url(f"{url}/claim")
    assert page.request.get(f"{url}/letters/{foreign}.pdf").status == 404
    r = page.request.post(f"{url}/callback", form={"day": (AS_OF + timedelta(days=2)).isoformat()})
    assert r.status == 403


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_claim_fits_a_phone_in_both_languages(browser, site, lang) -> None:  # type: ignore[no-untyped-def]
    url, ctx = site
    person = find_client(ctx.db)
    link = issue_link(ctx, client_number=person.number)
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(f"{url}/l/{link.url.rsplit('/', 1)[1]}?lang={lang}")
    page.fill("#f-code", link.code)
    page.fill("#f-secret", person.secret)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/claim")
    heading = {"nl": "Wat achterstallig is", "en": "What is past due"}[lang]
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    assert page.evaluate("document.documentElement.lang") == lang
    unlabelled = page.evaluate("""[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(e => !e.labels || e.labels.length === 0).length""")
    assert unlabelled == 0
