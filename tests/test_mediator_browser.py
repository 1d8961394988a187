"""Mediators in real browsers against a real server: an Arabic visitor waits while only a
Greek-speaking counter calls; once the mediator says she is free, the next call is theirs
with the mediator joined; a counter asks for a mediator and she accepts. The counter, the
mediator's page and the supervisor's live view follow it all live.

Screenshots of the three pages go to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page
from sqlalchemy import select, update

from server.models import Event, User
from tests.browser import screenshot, wait_until
from tests.liveserver import PASSWORD, LiveServer

SITE = "thess-east"
LIVE_MS = 5000  # the pages' own refresh is 10-15 s: within this, the change came live


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        live.tokens = {"kiosk": live.add_device(SITE, "kiosk", "entrance")}  # type: ignore[attr-defined]
        live.add_staff("eleni", SITE)  # speaks Greek (every account's default)
        live.add_staff("maria", SITE, "supervisor")
        live.add_staff("amal", SITE, "mediator")
        with live.db.write() as s:
            s.execute(update(User).where(User.username == "amal").values(languages=["ar"]))
        yield live


def issue(server: LiveServer, lang: str) -> dict:
    response = requests.post(
        f"{server.url}/api/v1/sites/{SITE}/tickets",
        json={"service": "general", "reason": "other", "lang": lang},
        headers={"Authorization": f"Bearer {server.tokens['kiosk']}"},  # type: ignore[attr-defined]
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def sign_in(browser: Browser, server: LiveServer, username: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{server.url}/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.select_option("select[name=lang]", "en")  # the words below are the English ones
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    return page


def text(page: Page, selector: str) -> str:
    return page.inner_text(selector)


def finish(counter: Page) -> None:
    counter.click("[data-do=finish]")
    counter.click("#finish-ok")
    counter.wait_for_selector("#current-empty", state="visible")


def test_an_arabic_visitor_waits_for_the_mediator_and_is_called_with_her(
    browser: Browser, server: LiveServer
) -> None:
    mediator = sign_in(browser, server, "amal")
    mediator.click("a[href='/mediator/thess-east']")  # her home page leads to her page
    wait_until(mediator, "document.getElementById('mediator')?.dataset.ready === '1'")
    mediator.click("[data-say=busy]")  # at work, not free yet
    wait_until(mediator, "document.getElementById('my-state').textContent === 'Busy'")

    arabic, greek = issue(server, "ar"), issue(server, "el")
    supervisor = sign_in(browser, server, "maria")
    supervisor.goto(f"{server.url}/supervisor/{SITE}")
    supervisor.wait_for_selector("#languages tr[data-lang=ar]")
    assert "amal" in text(supervisor, "#mediators") and "Busy" in text(supervisor, "#mediators")

    counter = sign_in(browser, server, "eleni")
    counter.goto(f"{server.url}/counter/{SITE}/desk-1")
    wait_until(counter, "document.getElementById('workstation')?.dataset.ready === '1'")
    counter.click("[data-do=call-next]")
    # the Arabic visitor came first but waits for the Arabic speaker; the Greek one is called
    counter.wait_for_selector(f"#current-number:has-text('{greek['number']}')")
    finish(counter)
    counter.click("[data-do=call-next]")
    wait_until(counter, "document.getElementById('message').textContent === 'Nobody is waiting.'")
    counter.wait_for_selector(f"tr[data-number={arabic['number']}]")  # still in line
    wait_until(
        supervisor,
        "document.querySelector('#languages tr[data-lang=ar]')?.cells[1].textContent === '1'"
        " && !document.querySelector('#languages tr[data-lang=el]')",
        timeout=LIVE_MS,
    )

    mediator.click("[data-say=available]")
    wait_until(
        supervisor,
        "document.getElementById('mediators').textContent.includes('Free to interpret')",
        timeout=LIVE_MS,
    )
    counter.click("[data-do=call-next]")
    counter.wait_for_selector(f"#current-number:has-text('{arabic['number']}')")
    assert text(counter, "#current-mediator") == "Joined: amal"
    assert counter.locator("#language-warning").is_hidden()  # a mediator is there
    wait_until(
        mediator,
        f"document.getElementById('joined').textContent.includes('{arabic['number']}')",
        timeout=LIVE_MS,
    )
    assert "Desk 1" in text(mediator, "#joined") and "Arabic" in text(mediator, "#joined")
    wait_until(
        supervisor,
        f"document.getElementById('mediators').textContent.includes('{arabic['number']}')",
        timeout=LIVE_MS,
    )
    screenshot(counter, "mediator_counter_joined")
    screenshot(mediator, "mediator_page_joined")
    screenshot(supervisor, "mediator_supervisor_joined")

    # the visit ends: she is free again
    counter.click("[data-do=finish]")
    assert counter.locator("#without-mediator-choice").is_hidden()  # she was joined
    counter.click("#finish-ok")
    counter.wait_for_selector("#current-empty", state="visible")
    wait_until(
        mediator,
        "document.getElementById('joined').hidden"
        " && document.getElementById('my-state').textContent === 'Free to interpret'",
        timeout=LIVE_MS,
    )

    # a visitor who chose Greek but needs help after all: the counter asks, she accepts
    farsi = issue(server, "fa")
    counter.click("[data-do=call-next]")
    counter.wait_for_selector(f"#current-number:has-text('{farsi['number']}')")
    assert "You do not speak" in text(counter, "#language-warning")
    counter.click("[data-do=ask-mediator]")
    wait_until(
        counter,
        "document.getElementById('current-mediator').textContent.startsWith('Asked for')",
    )
    mediator.wait_for_selector(f"#requests li[data-number={farsi['number']}]", timeout=LIVE_MS)
    supervisor.wait_for_selector(f"#requests li[data-number={farsi['number']}]", timeout=LIVE_MS)
    screenshot(mediator, "mediator_page_request")
    mediator.click(f"#requests li[data-number={farsi['number']}] button")
    wait_until(
        counter,
        "document.getElementById('current-mediator').textContent === 'Joined: amal'",
        timeout=LIVE_MS,
    )
    mediator.wait_for_selector("#no-requests", state="visible")

    # signing out is going away: no call joins her any more
    finish(counter)  # a mediator was joined: nothing to say about one missing
    assert counter.locator("#without-mediator-choice").is_hidden()
    mediator.click("text=Sign out")
    wait_until(
        supervisor,
        "document.getElementById('mediators').textContent.includes('Away')",
        timeout=LIVE_MS,
    )


def test_a_visit_served_without_the_mediator_it_needed_is_marked_at_finish(
    browser: Browser, server: LiveServer
) -> None:
    ticket = issue(server, "ti")  # Tigrinya: nobody here speaks it
    counter = sign_in(browser, server, "eleni")
    counter.goto(f"{server.url}/counter/{SITE}/desk-1")
    wait_until(counter, "document.getElementById('workstation')?.dataset.ready === '1'")
    counter.click("[data-do=call-next]")
    counter.wait_for_selector(f"#current-number:has-text('{ticket['number']}')")
    counter.click("[data-do=finish]")
    counter.check("#without-mediator-choice input")
    counter.click("#finish-ok")
    counter.wait_for_selector("#current-empty", state="visible")
    with server.db.read() as s:
        payload = s.scalar(
            select(Event.payload).where(Event.ticket_id == ticket["id"], Event.type == "finished")
        )
    assert payload == {"outcome": "served", "without_mediator": True}
