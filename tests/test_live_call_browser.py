"""The front desk in real browsers against a real server: a counter calls, the display shows
and speaks it. Also the display's resync after the server is killed and started again.

Each page runs in headless Chromium against `seira serve` in a child process; screenshots
of the pages go to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page

from tests.browser import screenshot, wait_until
from tests.liveserver import PASSWORD, LiveServer


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        live.tokens = {  # type: ignore[attr-defined]
            "display": live.add_device("thess-east", "display", "hall"),
            "kiosk": live.add_device("thess-east", "kiosk", "entrance"),
        }
        live.add_staff("eleni", "thess-east")
        yield live


def issue(server: LiveServer, lang: str = "ar", service: str = "general") -> dict:
    response = requests.post(
        f"{server.url}/api/v1/sites/thess-east/tickets",
        json={"service": service, "reason": "other", "lang": lang},
        headers={"Authorization": f"Bearer {server.tokens['kiosk']}"},  # type: ignore[attr-defined]
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def open_display(browser: Browser, server: LiveServer) -> Page:
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    token = server.tokens["display"]  # type: ignore[attr-defined]
    page.goto(f"{server.url}/display/thess-east#token={token}")
    wait_until(page, "document.getElementById('board').dataset.snapshots >= '1'")
    return page


def sign_in(browser: Browser, server: LiveServer, username: str = "eleni") -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{server.url}/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    return page


def open_counter(page: Page, server: LiveServer, counter: str = "desk-1") -> None:
    page.goto(f"{server.url}/counter/thess-east")
    page.click(f"button[data-counter={counter}]")
    page.wait_for_url(f"{server.url}/counter/thess-east/{counter}")
    wait_until(page, "document.getElementById('workstation')?.dataset.ready === '1'")


def test_a_call_from_the_counter_page_reaches_the_display_within_a_second(
    browser: Browser, server: LiveServer
) -> None:
    ticket = issue(server, lang="ar")
    display = open_display(browser, server)
    display.evaluate(
        """number => new Promise(resolve => {
            const target = document.getElementById('current-number');
            new MutationObserver(() => {
                if (target.textContent === number) window.shownAt = Date.now();
            }).observe(target, {childList: true, characterData: true, subtree: true});
            resolve();
        })""",
        ticket["number"],
    )
    counter = sign_in(browser, server)
    open_counter(counter, server)
    counter.wait_for_selector(f"tr[data-number={ticket['number']}]")
    button = counter.locator("[data-do=call-next]")
    button.evaluate("b => b.addEventListener('click', () => { window.clickedAt = Date.now(); })")
    button.click()

    wait_until(display, "window.shownAt !== undefined", timeout=5000)
    latency_ms = display.evaluate("window.shownAt") - counter.evaluate("window.clickedAt")
    assert latency_ms < 1000, f"the display showed the call {latency_ms} ms after the click"
    assert display.inner_text("#current-counter") == "Γκισέ 1"
    counter.wait_for_selector(f"#current-number:has-text('{ticket['number']}')")
    # the visitor's language, so that an interpreter can be fetched
    assert "العربية" in counter.inner_text("#current-lang")

    # the announcement: Greek first, then Arabic, fetched as audio by the display
    wait_until(display, "document.getElementById('announcer').dataset.lang === 'ar'", timeout=10000)
    audio = display.evaluate(
        "(() => { const a = document.getElementById('announcer');"
        " return {src: a.src, text: a.dataset.text}; })()"
    )
    assert audio["src"].startswith("blob:")
    assert "A 1" in audio["text"]
    screenshot(display, "display_after_call")
    screenshot(counter, "counter_after_call")


def test_the_display_resyncs_after_the_server_is_killed_and_restarted(
    browser: Browser, server: LiveServer
) -> None:
    first, second = issue(server, lang="el"), issue(server, lang="fr")
    staff_token = server.sign_in("eleni")
    display = open_display(browser, server)

    def call() -> dict:
        response = requests.post(
            f"{server.url}/api/v1/sites/thess-east/counters/desk-1/call-next",
            headers={"Authorization": f"Bearer {staff_token}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    assert call()["number"] == first["number"]
    wait_until(
        display, f"document.getElementById('current-number').textContent === '{first['number']}'"
    )
    server.kill()  # no goodbye: the connection just drops
    display.wait_for_selector("#reconnecting", state="visible", timeout=10000)
    screenshot(display, "display_reconnecting")

    server.start()
    requests.post(
        f"{server.url}/api/v1/tickets/{first['id']}/finish",
        json={"outcome": "served"},
        headers={"Authorization": f"Bearer {staff_token}"},
        timeout=10,
    ).raise_for_status()
    assert call()["number"] == second["number"]
    wait_until(
        display,
        f"document.getElementById('current-number').textContent === '{second['number']}'",
        timeout=15000,
    )
    display.wait_for_selector("#reconnecting", state="hidden")
    recent = display.inner_text("#recent")
    assert first["number"] in recent  # the earlier call is still listed
    # the call made while the display was away is announced once it is back
    wait_until(display, "document.getElementById('announcer').dataset.lang === 'fr'", timeout=10000)


def test_announcements_queue_one_after_another_and_numbers_are_large(
    browser: Browser, server: LiveServer
) -> None:
    first, second = issue(server, lang="fr"), issue(server, lang="uk")
    display = open_display(browser, server)
    display.evaluate(
        """() => {
            window.said = [];
            const audio = document.getElementById('announcer');
            new MutationObserver(() => window.said.push(audio.dataset.text))
              .observe(audio, {attributes: true, attributeFilter: ['data-text']});
        }"""
    )
    staff_token = server.sign_in("eleni")
    for counter in ("desk-1", "desk-2"):  # two calls within milliseconds
        requests.post(
            f"{server.url}/api/v1/sites/thess-east/counters/{counter}/call-next",
            headers={"Authorization": f"Bearer {staff_token}"},
            timeout=10,
        ).raise_for_status()
    wait_until(display, "window.said.length >= 4", timeout=20000)
    said = display.evaluate("window.said")
    # each call whole (Greek, then the visitor's language) before the next one starts
    assert said[0].startswith("Εισιτήριο") and said[2].startswith("Εισιτήριο")
    assert {said[1], said[3]} == {"Ticket A 1, guichet 1", "Талон A 2, віконце 2"}
    height = display.evaluate(
        "document.getElementById('current-number').getBoundingClientRect().height"
    )
    assert height >= 1080 / 10
    assert display.inner_text("#current-number") == second["number"]
    assert first["number"] in display.inner_text("#recent")


def test_keyboard_calls_and_the_supervisor_sees_it_live(
    browser: Browser, server: LiveServer
) -> None:
    server.add_staff("maria", "thess-east", role="supervisor")
    supervisor = sign_in(browser, server, "maria")
    supervisor.goto(f"{server.url}/supervisor/thess-east")
    supervisor.wait_for_selector("#services tbody tr")
    ticket = issue(server, lang="ps")
    wait_until(
        supervisor,
        "[...document.querySelectorAll('#services tbody tr')]"
        ".some(r => r.cells[1].textContent === '1')",
    )
    counter = sign_in(browser, server)
    open_counter(counter, server, "desk-2")
    counter.wait_for_selector(f"tr[data-number={ticket['number']}]")
    counter.keyboard.press("n")  # call next, without the mouse
    counter.wait_for_selector(f"#current-number:has-text('{ticket['number']}')")
    wait_until(
        supervisor,
        "[...document.querySelectorAll('#counters tbody tr')]"
        f".some(r => r.textContent.includes('{ticket['number']}'))",
    )
    # start, typed on a Greek keyboard: the key in the S place gives 'σ', and the shortcut
    # follows the key, not the letter
    counter.evaluate(
        "document.dispatchEvent(new KeyboardEvent('keydown',"
        " {key: 'σ', code: 'KeyS', bubbles: true}))"
    )
    wait_until(counter, "document.getElementById('current-status').textContent === 'Εξυπηρετείται'")
    screenshot(supervisor, "supervisor_live")


def test_displays_on_two_workers_hear_calls_from_either(browser: Browser) -> None:
    """`seira serve --workers 2` on one port, Redis between the workers: five displays,
    each reaching whichever worker the kernel gives it, show the call. The pages open a
    websocket from the start and never poll: the polling requests of one connection can
    land on the other worker, which refuses them ("Invalid session")."""
    from tests.redis_server import RedisServer

    redis = RedisServer()
    try:
        with LiveServer(workers=2, message_queue=redis.url()) as live:
            token = live.add_device("thess-east", "display", "hall")
            live.tokens = {  # type: ignore[attr-defined]
                "display": token,
                "kiosk": live.add_device("thess-east", "kiosk", "entrance"),
            }
            staff = live.add_staff("eleni", "thess-east")
            polled: list[str] = []
            displays = []
            for _ in range(5):
                context = browser.new_context(viewport={"width": 1920, "height": 1080})
                context.on(
                    "request", lambda r: "transport=polling" in r.url and polled.append(r.url)
                )
                page = context.new_page()
                page.goto(f"{live.url}/display/thess-east#token={token}")
                wait_until(page, "document.getElementById('board').dataset.snapshots >= '1'")
                displays.append(page)
            ticket = issue(live)
            called = requests.post(
                f"{live.url}/api/v1/sites/thess-east/counters/desk-1/call-next",
                headers={"Authorization": f"Bearer {staff}"},
                timeout=10,
            )
            assert called.status_code == 200, called.text
            for display in displays:
                wait_until(
                    display,
                    "document.getElementById('current-number').textContent === "
                    f"'{ticket['number']}'",
                    timeout=10000,
                )
            assert not polled, polled[:3]
    finally:
        redis.stop()
