"""The admin area in a real Chromium against a real server: changes reach open kiosks,
displays and counters at once, and each person sees only what is theirs."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from server import auth
from tests.browser import screenshot, wait_until
from tests.conftest import PASSWORD
from tests.liveserver import LiveServer

SITE = "thess-east"
TAP_GUARD_S = 0.45


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        for site in ("thess-east", "thess-west"):
            auth.add_user(live.db, "sofia", PASSWORD, "admin", site)
        auth.add_user(live.db, "maria", PASSWORD, "supervisor", "thess-east")
        yield live


def signed_in(browser: Browser, server: LiveServer, username: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{server.url}/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    return page


def kiosk_at_the_groups(browser: Browser, server: LiveServer, lang: str) -> Page:
    token = server.add_device(SITE, "kiosk", f"kiosk-{lang}")
    page = browser.new_context(viewport={"width": 1080, "height": 1920}).new_page()
    page.goto(f"{server.url}/kiosk/{SITE}#token={token}")
    expect(page.locator("#screen-idle")).to_be_visible()
    time.sleep(TAP_GUARD_S)
    page.click(f"button[data-lang={lang}]")
    expect(page.locator("#screen-groups")).to_be_visible()
    expect(page.locator("#groups button").first).to_be_visible()
    page.evaluate("window.sameDocument = true")  # gone if the page were reloaded
    return page


def test_an_admin_adds_a_reason_and_a_service_and_open_pages_show_them_at_once(
    browser: Browser, server: LiveServer
) -> None:
    kiosk = kiosk_at_the_groups(browser, server, "ar")
    display_token = server.add_device(SITE, "display", "hall")
    display = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    display.goto(f"{server.url}/display/{SITE}#token={display_token}")
    wait_until(display, "document.getElementById('board').dataset.snapshots >= '1'")
    display.evaluate("window.sameDocument = true")
    assert kiosk.locator("#groups button[data-reason=pets]").count() == 0

    admin = signed_in(browser, server, "sofia")
    admin.goto(f"{server.url}/admin/")
    screenshot(admin, "admin-index")
    admin.click("a[href='/admin/reasons/']")
    screenshot(admin, "admin-reasons")
    admin.click("a[href='/admin/reasons/new']")
    admin.fill("input[name=code]", "pets")
    admin.check("input[name=pictogram][value=home-heart]")
    admin.fill("input[name='labels.el']", "Κατοικίδια")
    admin.fill("input[name='labels.en']", "Pets")
    admin.fill("input[name='labels.ar']", "الحيوانات الأليفة")
    screenshot(admin, "admin-reason-new")
    admin.click("button.primary")
    expect(admin.locator(".saved")).to_be_visible()

    admin.goto(f"{server.url}/admin/{SITE}/services/new")
    admin.fill("input[name=slug]", "pets-desk")
    admin.fill("input[name=prefix]", "P")
    admin.fill("input[name='labels.el']", "Κατοικίδια ζώα")
    admin.fill("input[name='labels.en']", "Pets desk")
    admin.fill("input[name='labels.ar']", "مكتب الحيوانات")
    admin.check("input[name=reasons][value=pets]")
    screenshot(admin, "admin-service-new")
    admin.click("button.primary")
    expect(admin.locator(".saved")).to_be_visible()
    screenshot(admin, "admin-site")
    admin.goto(f"{server.url}/admin/audit?action=service")
    expect(admin.locator("table.audit")).to_contain_text("pets-desk")
    screenshot(admin, "admin-audit")

    tile = kiosk.locator("#groups button[data-reason=pets]")
    expect(tile).to_be_visible(timeout=5000)
    expect(tile).to_have_text("الحيوانات الأليفة")
    assert kiosk.evaluate("window.sameDocument") is True
    item = display.locator(".waiting-item[data-service=pets-desk]")
    expect(item).to_be_attached(timeout=5000)
    expect(item.locator(".waiting-label")).to_have_text("Κατοικίδια ζώα")
    assert display.evaluate("window.sameDocument") is True

    # the visitor takes a ticket for it, from the same page
    time.sleep(TAP_GUARD_S)
    tile.click()
    expect(kiosk.locator("#screen-priority")).to_be_visible()
    time.sleep(TAP_GUARD_S)
    kiosk.click("#priorities button[data-priority=none]")
    expect(kiosk.locator("#ticket-number")).to_have_text("P001", timeout=10000)


def test_a_form_error_is_shown_by_its_field_in_greek(browser: Browser, server: LiveServer) -> None:
    admin = signed_in(browser, server, "sofia")
    admin.goto(f"{server.url}/admin/{SITE}/services/general")
    admin.fill("input[name=prefix]", "B")  # the benefits service's letter
    admin.fill("input[name='labels.en']", "")
    admin.click("button.primary")
    expect(admin.locator("#err-prefix")).to_contain_text("κεφαλαίο λατινικό γράμμα")
    expect(admin.locator("#err-labels-en")).to_contain_text("χρειάζεται ετικέτα")
    expect(admin.locator("input[name=prefix]")).to_have_attribute("aria-invalid", "true")
    screenshot(admin, "admin-service-errors")


def test_a_supervisor_sees_and_changes_only_their_own_centre(
    browser: Browser, server: LiveServer
) -> None:
    page = signed_in(browser, server, "maria")
    page.goto(f"{server.url}/admin/")
    expect(page.locator(f"a[href='/admin/{SITE}/']")).to_be_visible()
    assert page.locator("a[href='/admin/thess-west/']").count() == 0
    assert page.locator("a[href='/admin/reasons/']").count() == 0
    response = page.goto(f"{server.url}/admin/thess-west/")
    assert response is not None and response.status == 403
    response = page.goto(f"{server.url}/admin/reasons/")
    assert response is not None and response.status == 403
    page.goto(f"{server.url}/admin/{SITE}/")
    page.fill("input[name='hours.sat.opens']", "09:00")
    page.fill("input[name='hours.sat.closes']", "13:00")
    page.click("form.admin-form button.primary")
    expect(page.locator(".saved")).to_be_visible()
    expect(page.locator("input[name='hours.sat.opens']")).to_have_value("09:00")


def test_a_display_is_paired_by_code_keeps_working_and_is_shut_out_when_revoked(
    browser: Browser, server: LiveServer
) -> None:
    display = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    display.goto(f"{server.url}/display/{SITE}")
    code = display.locator("#pairing-code")
    expect(code).to_have_text(re.compile(r"^[A-Z0-9]{3}-[A-Z0-9]{3}$"), timeout=10000)
    expect(display.locator("#pairing-qr svg")).to_be_attached()
    shown = code.inner_text()
    screenshot(display, "display-pairing")

    admin = signed_in(browser, server, "sofia")
    admin.goto(f"{server.url}/admin/{SITE}/devices")
    expect(admin.locator("#waiting")).to_contain_text(shown)
    admin.fill("#pair-form input[name=code]", shown.lower())
    admin.select_option("#pair-form select[name=kind]", "display")
    admin.fill("#pair-form input[name=name]", "lobby")
    screenshot(admin, "admin-devices")
    admin.click("#pair-form button.primary")
    expect(admin.locator(".saved")).to_be_visible()

    started = "document.getElementById('board').dataset.snapshots >= '1'"
    wait_until(display, started, timeout=10000)
    expect(display.locator("#not-set-up")).to_be_hidden()
    token = display.evaluate("localStorage.getItem('seira.display.token')")
    assert token and len(token) >= 32

    display.reload()  # the device restarts
    wait_until(display, started, timeout=10000)
    server.stop()  # the server restarts
    server.start()
    wait_until(
        display, "Number(document.getElementById('board').dataset.snapshots) >= 2", timeout=15000
    )
    expect(display.locator("#reconnecting")).to_be_hidden()
    assert (
        requests.get(
            f"{server.url}/api/v1/sites/{SITE}/queue",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).status_code
        == 200
    )

    admin.goto(f"{server.url}/admin/{SITE}/devices")
    admin.click("tr[data-device=lobby] button")
    expect(admin.locator(".saved")).to_be_visible()
    expect(display.locator("#not-set-up")).to_be_visible(timeout=3000)
    expect(code).not_to_have_text(shown, timeout=10000)  # a new request, a new code
    assert (
        requests.get(
            f"{server.url}/api/v1/sites/{SITE}/queue",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).status_code
        == 401
    )


def test_a_new_person_is_made_to_choose_a_password_at_first_sign_in(
    browser: Browser, server: LiveServer
) -> None:
    admin = signed_in(browser, server, "sofia")
    admin.goto(f"{server.url}/admin/{SITE}/staff")
    admin.fill("#add-form input[name=username]", "giorgos")
    admin.select_option("#add-form select[name=role]", "staff")
    admin.click("#add-form button.primary")
    temporary = admin.locator(".temporary-password code").inner_text()
    screenshot(admin, "admin-staff")

    person = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    person.goto(f"{server.url}/signin")
    person.fill("input[name=username]", "giorgos")
    person.fill("input[name=password]", temporary)
    person.click("button[type=submit]")
    person.wait_for_url(re.compile(r"/password"))
    person.goto(f"{server.url}/counter/{SITE}")
    person.wait_for_url(re.compile(r"/password"))  # nothing else until then
    person.fill("input[name=current]", temporary)
    person.fill("input[name=new]", "my-own-secret-words")
    person.fill("input[name=repeat]", "my-own-secret-words")
    person.click("button.primary")
    person.wait_for_url(f"{server.url}/counter/{SITE}")
    expect(person.locator("button[data-counter=desk-1]")).to_be_visible()


def test_a_kiosk_shows_closed_in_every_language_and_opens_when_the_closure_is_lifted(
    browser: Browser,
) -> None:
    with LiveServer(opening_hours="enforce") as live:
        for site in ("thess-east", "thess-west"):
            auth.add_user(live.db, "sofia", PASSWORD, "admin", site)
        token = live.add_device(SITE, "kiosk", "closed-door")
        admin = signed_in(browser, live, "sofia")
        admin.goto(f"{live.url}/admin/{SITE}/")
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            admin.fill(f"input[name='hours.{day}.opens']", "00:00")
            admin.fill(f"input[name='hours.{day}.closes']", "23:59")
        today = admin.evaluate(
            "new Intl.DateTimeFormat('en-CA', {timeZone: 'Europe/Athens'}).format(new Date())"
        )
        admin.fill("input[name='closures.0.from']", today)
        admin.fill("input[name='closures.0.to']", today)
        admin.click("form.admin-form button.primary")
        expect(admin.locator(".saved")).to_be_visible()

        kiosk = browser.new_context(viewport={"width": 1080, "height": 1920}).new_page()
        kiosk.goto(f"{live.url}/kiosk/{SITE}#token={token}")
        expect(kiosk.locator("#screen-closed")).to_be_visible(timeout=10000)
        expect(kiosk.locator("#closed-text h1")).to_have_text("Είμαστε κλειστά τώρα.")
        expect(kiosk.locator("#closed-text p")).to_contain_text("Ανοίγουμε ξανά")
        expect(kiosk.locator("#closed-text[lang=ar] h1")).to_have_text(
            "نحن مغلقون الآن.", timeout=70000
        )
        screenshot(kiosk, "kiosk-closed-ar")
        refused = requests.post(
            f"{live.url}/api/v1/sites/{SITE}/tickets",
            json={"service": "general", "reason": "other", "lang": "el"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "closed"
        kiosk.evaluate("window.sameDocument = true")

        admin.goto(f"{live.url}/admin/{SITE}/")
        admin.fill("input[name='closures.0.from']", "")
        admin.fill("input[name='closures.0.to']", "")
        admin.click("form.admin-form button.primary")
        expect(admin.locator(".saved")).to_be_visible()
        expect(kiosk.locator("#screen-idle")).to_be_visible(timeout=5000)
        assert kiosk.evaluate("window.sameDocument") is True
