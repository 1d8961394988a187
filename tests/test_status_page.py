"""The status page behind the ticket's QR code, in a real Chromium against a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from server import i18n
from tests.browser import screenshot, wait_until
from tests.liveserver import LiveServer

SITE = "thess-east"
COUNTER = "desk-3"  # serves social-work (and general)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        yield live


@pytest.fixture(scope="module")
def tokens(server: LiveServer) -> dict[str, str]:
    return {
        "kiosk": server.add_device(SITE, "kiosk", "kiosk-status"),
        "staff": server.add_staff("eleni", SITE),
    }


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 412, "height": 900})
    yield context.new_page()
    context.close()


def visitors(lang: str, message: str) -> str:
    return i18n.translations(lang, "visitors").gettext(message)


def api(server: LiveServer, token: str, method: str, path: str, **body: str) -> requests.Response:
    return requests.request(
        method,
        f"{server.url}/api/v1{path}",
        json=body or None,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def issue(server: LiveServer, tokens: dict[str, str], lang: str, reason: str) -> dict:
    response = api(
        server,
        tokens["kiosk"],
        "POST",
        f"/sites/{SITE}/tickets",
        service="social-work",
        reason=reason,
        lang=lang,
        priority="none",
    )
    assert response.status_code == 201, response.text
    return response.json()


def status_path(ticket: dict) -> str:
    return urlparse(ticket["status_url"]).path


def call(server: LiveServer, tokens: dict[str, str], number: str) -> None:
    """Call tickets at the counter until `number` comes up (earlier ones did not show)."""
    for _ in range(50):
        response = api(
            server, tokens["staff"], "POST", f"/sites/{SITE}/counters/{COUNTER}/call-next"
        )
        assert response.status_code == 200, response.text
        called = response.json()
        if called["number"] == number:
            return
        api(server, tokens["staff"], "POST", f"/tickets/{called['id']}/no-show")
    raise AssertionError(f"{number} was never called")


def test_shows_number_and_people_ahead_in_the_tickets_language(
    page: Page, server: LiveServer, tokens: dict[str, str]
) -> None:
    issue(server, tokens, "en", "social_support")
    ticket = issue(server, tokens, "ar", "social_support.family")
    page.goto(server.url + status_path(ticket))
    expect(page.locator("#number")).to_have_text(ticket["number"])
    expect(page.locator("#ahead")).to_have_text(str(ticket["people_ahead"]))
    assert ticket["people_ahead"] >= 1
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    expect(page.locator("#state")).to_have_text(
        visitors("ar", "Please wait. Your number will be called.")
    )
    screenshot(page, "status_ar_waiting")


def test_call_reaches_the_page_live_with_the_counter(
    page: Page, server: LiveServer, tokens: dict[str, str]
) -> None:
    ticket = issue(server, tokens, "fa", "social_support")
    page.goto(server.url + status_path(ticket))
    expect(page.locator("#number")).to_have_text(ticket["number"])
    wait_until(page, "window.io && document.getElementById('offline').hidden")
    call(server, tokens, ticket["number"])
    expect(page.locator("#counter")).to_have_text(visitors("fa", "Desk 3"), timeout=3000)
    expect(page.locator("#state")).to_have_text(visitors("fa", "It is your turn! Please go to:"))
    assert page.locator("body.called").count() == 1
    screenshot(page, "status_fa_called")
    api(server, tokens["staff"], "POST", f"/tickets/{ticket['id']}/start")
    expect(page.locator("#state")).to_have_text(visitors("fa", "You are being served."))
    finished = api(
        server, tokens["staff"], "POST", f"/tickets/{ticket['id']}/finish", outcome="served"
    )
    assert finished.status_code == 200, finished.text
    expect(page.locator("#state")).to_have_text(
        visitors("fa", "Your visit is finished. Thank you.")
    )
    expect(page.locator("#counter")).to_be_hidden()


def test_a_waiting_page_follows_the_queue_and_a_called_one_stops_asking(
    page: Page, server: LiveServer, tokens: dict[str, str]
) -> None:
    """When the queue moves, a waiting visitor's page fetches its new place; once called,
    the page no longer fetches anything when the queue moves (a country's phones would
    otherwise ask for places they no longer have)."""
    first = issue(server, tokens, "en", "social_support")
    ticket = issue(server, tokens, "el", "social_support")
    page.goto(server.url + status_path(ticket))
    wait_until(page, "window.io && document.getElementById('offline').hidden")
    expect(page.locator("#ahead")).to_have_text(str(ticket["people_ahead"]))
    call(server, tokens, first["number"])  # the tickets ahead leave the queue
    expect(page.locator("#ahead")).to_have_text("0", timeout=8000)  # MOVED_INTERVAL_S
    api(server, tokens["staff"], "POST", f"/tickets/{first['id']}/finish", outcome="served")
    call(server, tokens, ticket["number"])
    expect(page.locator("body.called")).to_have_count(1, timeout=3000)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    issue(server, tokens, "en", "social_support")  # somebody waits again: the queue moved
    page.wait_for_timeout(1500)
    api(server, tokens["staff"], "POST", f"/tickets/{ticket['id']}/no-show")  # the desk is free
    assert not [url for url in asked if "/tickets/status/" in url]


def test_polling_keeps_the_page_current_without_the_socket(
    page: Page, server: LiveServer, tokens: dict[str, str]
) -> None:
    # no live connection: the Socket.IO client never arrives (a proxy that blocks it)
    page.route(re.compile(r"socket\.io(\.min)?\.js"), lambda route: route.abort())
    ticket = issue(server, tokens, "en", "social_support")
    page.goto(server.url + status_path(ticket) + "?poll=2")
    expect(page.locator("#offline")).to_be_visible()
    call(server, tokens, ticket["number"])
    expect(page.locator("#counter")).to_have_text("Desk 3", timeout=6000)
    api(server, tokens["staff"], "POST", f"/tickets/{ticket['id']}/no-show")
    expect(page.locator("#state")).to_have_text(
        visitors(
            "en",
            "Your number was called, but you were not there. Please ask at the reception desk.",
        ),
        timeout=6000,
    )


def test_never_shows_the_reason_or_the_service(
    page: Page, server: LiveServer, tokens: dict[str, str]
) -> None:
    ticket = issue(server, tokens, "en", "protection.women")
    page.goto(server.url + status_path(ticket))
    expect(page.locator("#number")).to_have_text(ticket["number"])
    html = page.content()
    for secret in ("Support for women", "Personal support", "protection", "Social services"):
        assert secret not in html


def test_unknown_token_gives_a_readable_404(page: Page, server: LiveServer) -> None:
    response = page.goto(server.url + "/s/no-such-ticket")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Ticket not found")  # Chromium asks for en-US
    page.set_extra_http_headers({"Accept-Language": "uk,en;q=0.5"})
    page.goto(server.url + "/s/no-such-ticket")
    expect(page.locator("h1")).to_have_text(visitors("uk", "Ticket not found"))


def test_a_link_of_an_earlier_day_is_answered_like_an_unknown_one(
    page: Page, server: LiveServer
) -> None:
    from datetime import timedelta

    from server.models import utcnow
    from server.queue import transactions

    old = transactions.issue_ticket(
        server.db, site=SITE, service="social-work", reason="legal", lang="ar",
        now=utcnow() - timedelta(days=1),
    )  # fmt: skip
    transactions.close_day(server.db)  # as the server does at the day's end
    page.set_extra_http_headers({"Accept-Language": "ti,en;q=0.5"})
    response = page.goto(f"{server.url}/s/{old.public_token}")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text(visitors("ti", "Ticket not found"))
    once = (
        "This page works only on the day you took your ticket. On another day, take a new ticket."
    )
    expect(page.locator(".message").last).to_have_text(visitors("ti", once))
    assert visitors("ti", once) != once
    expired = page.content()
    page.goto(f"{server.url}/s/no-such-ticket")
    assert page.content() == expired  # nothing tells an old link from a wrong one
    api = requests.get(f"{server.url}/api/v1/tickets/status/{old.public_token}", timeout=10)
    assert api.status_code == 404
    screenshot(page, "status_ti_expired")
