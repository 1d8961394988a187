"""Every page a visitor or staff member sees passes axe-core's WCAG 2.2 A and AA rules and
its best practices, in Greek, English and Arabic for visitors' pages, Greek and English for
staff pages. The pages and languages covered are written to tests/artifacts/."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.accessibility import audit
from tests.browser import ARTIFACTS, wait_until
from tests.liveserver import PASSWORD, LiveServer

SITE = "thess-east"
TAP_GUARD_S = 0.45
COVERED: list[str] = []


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        live.tokens = {  # type: ignore[attr-defined]
            "kiosk": live.add_device(SITE, "kiosk", "audit"),
            "display": live.add_device(SITE, "display", "audit"),
            "staff": live.add_staff("maria", SITE, role="supervisor"),
        }
        for site in ("thess-east", "thess-west"):
            live.add_staff("sofia", site, role="admin")
        live.add_staff("amal", SITE, role="mediator")
        yield live
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "accessibility.txt").write_text("\n".join(COVERED) + "\n")


def scanned(page: Page, where: str, problems: dict[str, list[str]]) -> None:
    COVERED.append(where)
    found = audit(page)
    if found:
        problems[where] = found


def issue(server: LiveServer, lang: str) -> dict:
    return requests.post(
        f"{server.url}/api/v1/sites/{SITE}/tickets",
        json={"service": "general", "reason": "other", "lang": lang},
        headers={"Authorization": f"Bearer {server.tokens['kiosk']}"},  # type: ignore[attr-defined]
        timeout=10,
    ).json()


def tap(page: Page, selector: str) -> None:
    expect(page.locator(selector).first).to_be_visible()
    time.sleep(TAP_GUARD_S)
    page.locator(selector).first.click()


@pytest.mark.parametrize("lang", ["el", "en", "ar"])
def test_the_visitors_pages_pass_the_audit(browser: Browser, server: LiveServer, lang: str) -> None:
    problems: dict[str, list[str]] = {}
    page = browser.new_context(viewport={"width": 1080, "height": 1920}).new_page()
    page.goto(f"{server.url}/kiosk/{SITE}#token={server.tokens['kiosk']}")  # type: ignore[attr-defined]
    expect(page.locator("#screen-idle")).to_be_visible()
    scanned(page, "kiosk: languages", problems)
    tap(page, f"button[data-lang={lang}]")
    expect(page.locator("#groups button").nth(5)).to_be_attached()
    scanned(page, f"kiosk {lang}: reason groups", problems)
    page.click("#access")
    scanned(page, f"kiosk {lang}: reason groups, large text and high contrast", problems)
    page.click("#access")
    tap(page, "#groups button[data-reason=health]")
    expect(page.locator("#reasons button").first).to_be_visible()
    scanned(page, f"kiosk {lang}: reasons", problems)
    tap(page, "#reasons button[data-reason='health.clinics']")
    expect(page.locator("#screen-priority")).to_be_visible()
    scanned(page, f"kiosk {lang}: priority", problems)
    tap(page, "#priorities button[data-priority=none]")
    expect(page.locator("#print-state.warn")).to_be_visible(timeout=15000)
    scanned(page, f"kiosk {lang}: ticket", problems)

    phone = browser.new_context(viewport={"width": 412, "height": 900}).new_page()
    phone.goto(issue(server, lang)["status_url"])
    expect(phone.locator("#number")).not_to_be_empty()
    scanned(phone, f"status page {lang}: waiting", problems)
    phone.goto(f"{server.url}/s/no-such-ticket")
    scanned(phone, "status page: not found", problems)
    assert not problems, problems


def sign_in(browser: Browser, server: LiveServer, lang: str, username: str = "maria") -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{server.url}/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.select_option("select[name=lang]", lang)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    return page


@pytest.mark.parametrize("lang", ["el", "en"])
def test_the_staff_pages_and_the_display_pass_the_audit(
    browser: Browser, server: LiveServer, lang: str
) -> None:
    problems: dict[str, list[str]] = {}
    issue(server, "fa")
    signin = browser.new_context().new_page()
    signin.goto(f"{server.url}/signin")
    scanned(signin, "sign-in", problems)
    page = sign_in(browser, server, lang)
    scanned(page, f"home {lang}", problems)
    page.goto(f"{server.url}/counter/{SITE}")
    scanned(page, f"choose a counter {lang}", problems)
    page.click(f"button[data-counter={'desk-1' if lang == 'el' else 'desk-2'}]")
    wait_until(page, "document.getElementById('workstation')?.dataset.ready === '1'")
    page.click("[data-do=call-next]")
    expect(page.locator("#current")).to_be_visible()
    scanned(page, f"workstation {lang}", problems)
    page.click("[data-do=finish]")
    expect(page.locator("#finish-dialog")).to_be_visible()
    scanned(page, f"workstation {lang}: finish dialog", problems)
    page.keyboard.press("Escape")
    for path, name in [
        (f"/supervisor/{SITE}", "supervisor"),
        ("/reports/", "reports index"),
        (f"/reports/{SITE}", "reports"),
        (f"/reports/{SITE}/indicators", "indicators"),
        (f"/reports/{SITE}/staffing", "staffing forecast"),
        ("/languages/", "recorded phrases"),
        ("/languages/ti/phrases", "recording Tigrinya phrases"),
    ]:
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        scanned(page, f"{name} {lang}", problems)

    display = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    display.goto(f"{server.url}/display/{SITE}#token={server.tokens['display']}")  # type: ignore[attr-defined]
    wait_until(display, "document.getElementById('board').dataset.current !== ''")
    scanned(display, "display (el, en and the ticket's language)", problems)
    assert not problems, problems


@pytest.mark.parametrize("lang", ["el", "en"])
def test_the_mediator_page_passes_the_audit(
    browser: Browser, server: LiveServer, lang: str
) -> None:
    problems: dict[str, list[str]] = {}
    issue(server, "ar")
    page = sign_in(browser, server, lang, "amal")
    scanned(page, f"home of a mediator {lang}", problems)
    page.goto(f"{server.url}/mediator/{SITE}")
    wait_until(page, "document.getElementById('mediator')?.dataset.ready === '1'")
    page.click("[data-say]:not([disabled])")  # one run leaves her free, the next busy
    page.wait_for_selector("#my-state.ok, #my-state.warn")
    page.wait_for_selector("#languages tbody tr")
    scanned(page, f"mediator's page {lang}", problems)
    assert not problems, problems


@pytest.mark.parametrize("lang", ["el", "en"])
def test_the_admin_pages_pass_the_audit(browser: Browser, server: LiveServer, lang: str) -> None:
    problems: dict[str, list[str]] = {}
    page = sign_in(browser, server, lang, "sofia")
    for path, name in [
        ("/admin/", "admin home"),
        (f"/admin/{SITE}/", "admin: a centre"),
        (f"/admin/{SITE}/services/general", "admin: a service"),
        (f"/admin/{SITE}/services/new", "admin: a new service"),
        (f"/admin/{SITE}/counters/desk-1", "admin: a counter"),
        (f"/admin/{SITE}/devices", "admin: kiosks and displays"),
        (f"/admin/{SITE}/staff", "admin: people"),
        (f"/admin/{SITE}/messages", "admin: messages on the displays"),
        (f"/admin/{SITE}/erase", "admin: erase a visit"),
        ("/password", "own password"),
        ("/admin/reasons/", "admin: visit reasons"),
        ("/admin/reasons/legal.asylum", "admin: a visit reason"),
        ("/admin/reasons/new", "admin: a new visit reason"),
        ("/admin/audit", "admin: audit log"),
        ("/admin/sites/new", "admin: a new centre"),
    ]:
        page.goto(server.url + path)
        scanned(page, f"{name} {lang}", problems)
    kiosk = page.evaluate(
        "fetch('/admin/thess-east/devices').then(r => r.text())"
        ".then(t => (t.match(/devices\\/(\\d+)\\/printer/) || [])[1])"
    )
    assert kiosk, "the audit's kiosk has a printer page"
    page.goto(f"{server.url}/admin/{SITE}/devices/{kiosk}/printer")
    scanned(page, f"admin: a kiosk's printer {lang}", problems)
    page.goto(f"{server.url}/admin/{SITE}/services/new")
    page.fill("input[name=prefix]", "A")
    page.click("button.primary")
    expect(page.locator(".field-error").first).to_be_visible()
    scanned(page, f"admin: a refused form {lang}", problems)
    page.goto(f"{server.url}/admin/{SITE}/erase")
    page.fill("input[name=number]", "A")
    page.click("form.admin-form button[type=submit]")
    expect(page.locator("#err-number")).to_be_visible()
    scanned(page, f"admin: erasing a visit, refused {lang}", problems)
    assert not problems, problems
