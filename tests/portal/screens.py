"""Screenshots of the portal's pages (docs/portal/*.png) in headless Chromium: Dutch and English, desktop and phone
width. ``python -m tests.portal.screens [--out docs/portal]`` builds the test book in a temporary directory (the
tests' seed and day), issues a link and walks the pages."""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from incasso_tui.clock import FixedClock
from incasso_tui.demo.generate import generate
from incasso_tui.domain.enums import CaseStatus
from incasso_tui.services.portal import issue_link
from incasso_tui.store.db import Database
from incasso_tui.store.models import Case
from tests.conftest import AS_OF, NOW, TEST_LOANS, TEST_SEED
from tests.portal.conftest import find_client, make_ctx
from tests.portal.server import running

DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 390, "height": 844}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/portal"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/book.db", create=True)
        db.upgrade()
        generate(db, loans=TEST_LOANS, seed=TEST_SEED, as_of=AS_OF)
        ctx = make_ctx(db, FixedClock(NOW))
        person = find_client(db)
        with running(ctx) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            for lang in ("nl", "en"):
                for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
                    link = issue_link(ctx, client_number=person.number)
                    page = browser.new_page(viewport=size)
                    token = link.url.rsplit("/", 1)[1]
                    page.goto(f"{url}/l/{token}?lang={lang}")
                    page.screenshot(path=args.out / f"login-{lang}-{size_name}.png", full_page=True)
                    page.fill("#f-code", link.code)
                    page.fill("#f-secret", person.secret)
                    page.click("button[type=submit]")
                    page.wait_for_url(f"{url}/claim")
                    page.screenshot(path=args.out / f"claim-{lang}-{size_name}.png", full_page=True)
                    if size_name == "desktop":
                        page.goto(f"{url}/budget")
                        page.fill("#f-salary", "veel")
                        page.click("main button[type=submit]")
                        page.screenshot(path=args.out / f"budget-error-{lang}.png", full_page=True)
                        page.goto(f"{url}/arrangement")
                        page.fill("#f-first_date", (AS_OF + timedelta(days=7)).isoformat())
                        page.screenshot(path=args.out / f"arrangement-{lang}.png", full_page=True)
                    page.close()
            other = find_client(db, skip=1)  # a handed-over case: the claim and whom to contact, no arrangement
            with db.transaction() as s:
                s.get(Case, other.case_id).status = CaseStatus.HANDED_OVER.value
            link = issue_link(ctx, client_number=other.number)
            page = browser.new_page(viewport=DESKTOP)
            page.goto(f"{url}/l/{link.url.rsplit('/', 1)[1]}?lang=nl")
            page.fill("#f-code", link.code)
            page.fill("#f-secret", other.secret)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/claim")
            page.screenshot(path=args.out / "claim-handed-over-nl.png", full_page=True)
            browser.close()
        db.dispose()
    for png in sorted(args.out.glob("*.png")):
        print(png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
