"""Every page works under the strict Content-Security-Policy: no inline script or style,
nothing from elsewhere. The browser reports each violation; there must be none."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.browser import wait_until
from tests.liveserver import PASSWORD, LiveServer

SITE = "thess-east"
TAP_GUARD_S = 0.45
WATCH = (
    "window.violations = [];"
    "document.addEventListener('securitypolicyviolation', (e) =>"
    " window.violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')"
    " + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));"
)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        for site in ("thess-east", "thess-west"):
            live.add_staff("sofia", site, role="admin")
        live.tokens = {  # type: ignore[attr-defined]
            "kiosk": live.add_device(SITE, "kiosk", "csp"),
            "display": live.add_device(SITE, "display", "csp"),
        }
        yield live


def _page(browser: Browser, width: int = 1280, height: int = 900) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(WATCH)
    return context.new_page()


def _clean(page: Page, where: str, found: dict[str, list[str]]) -> None:
    page.wait_for_timeout(300)  # let late loads (fonts, images) report
    violations = page.evaluate("window.violations")
    if violations:
        found[where] = violations


def test_the_headers_are_on_pages_and_the_api(server: LiveServer) -> None:
    for path in ("/signin", f"/kiosk/{SITE}", "/api/v1/health", "/s/no-such-ticket"):
        headers = requests.get(server.url + path, timeout=5).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"], path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store", path
    cookie = requests.get(server.url + "/signin", timeout=5).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_no_page_breaks_the_policy(browser: Browser, server: LiveServer) -> None:
    found: dict[str, list[str]] = {}
    kiosk = _page(browser, 1080, 1920)
    kiosk.goto(f"{server.url}/kiosk/{SITE}#token={server.tokens['kiosk']}")  # type: ignore[attr-defined]
    for selector in (
        "button[data-lang=ar]",
        "#groups button[data-reason=health]",
        "#reasons button[data-reason='health.clinics']",
        "#priorities button[data-priority=none]",
    ):
        expect(kiosk.locator(selector)).to_be_visible()
        time.sleep(TAP_GUARD_S)
        kiosk.click(selector)
    expect(kiosk.locator("#ticket-qr svg")).to_be_attached()
    _clean(kiosk, "kiosk, to the ticket", found)
    unpaired = _page(browser, 1080, 1920)
    unpaired.goto(f"{server.url}/kiosk/{SITE}")
    expect(unpaired.locator("#pairing-code")).not_to_be_empty(timeout=10000)
    _clean(unpaired, "kiosk waiting to be paired", found)

    display = _page(browser, 1920, 1080)
    display.goto(f"{server.url}/display/{SITE}#token={server.tokens['display']}")  # type: ignore[attr-defined]
    wait_until(display, "document.getElementById('board').dataset.snapshots >= '1'")
    _clean(display, "display", found)

    staff = _page(browser)
    staff.goto(f"{server.url}/signin")
    staff.fill("input[name=username]", "sofia")
    staff.fill("input[name=password]", PASSWORD)
    staff.click("button[type=submit]")
    staff.wait_for_url(f"{server.url}/")
    staff.goto(f"{server.url}/counter/{SITE}")
    staff.click("button[data-counter=desk-1]")
    wait_until(staff, "document.getElementById('workstation')?.dataset.ready === '1'")
    staff.click("[data-do=call-next]")
    expect(staff.locator("#current")).to_be_visible()
    _clean(staff, "counter workstation", found)
    for path in (
        "/",
        f"/supervisor/{SITE}",
        f"/reports/{SITE}",
        f"/reports/{SITE}/indicators",
        f"/reports/{SITE}/staffing",
        "/languages/",
        "/languages/ti/phrases",
        "/admin/",
        f"/admin/{SITE}/",
        f"/admin/{SITE}/devices",
        "/admin/reasons/new",
        "/admin/audit",
        "/password",
    ):
        staff.goto(server.url + path)
        staff.wait_for_load_state("networkidle")
        _clean(staff, path, found)

    phone = _page(browser, 412, 900)
    issued = requests.post(
        f"{server.url}/api/v1/sites/{SITE}/tickets",
        json={"service": "general", "reason": "other", "lang": "fa"},
        headers={"Authorization": f"Bearer {server.tokens['kiosk']}"},  # type: ignore[attr-defined]
        timeout=10,
    ).json()
    phone.goto(issued["status_url"])
    expect(phone.locator("#number")).not_to_be_empty()
    _clean(phone, "status page", found)
    assert not found, found


def test_the_mediator_page_keeps_the_policy(browser: Browser, server: LiveServer) -> None:
    server.add_staff("amal", SITE, role="mediator")
    found: dict[str, list[str]] = {}
    page = _page(browser)
    page.goto(f"{server.url}/signin")
    page.fill("input[name=username]", "amal")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    page.goto(f"{server.url}/mediator/{SITE}")
    wait_until(page, "document.getElementById('mediator')?.dataset.ready === '1'")
    page.click("[data-say=available]")
    page.wait_for_selector("#my-state.ok")
    _clean(page, "the mediator's page", found)
    assert not found, found
