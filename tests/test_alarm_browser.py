"""The silent alarm in real browsers against a real server: raised from a counter with its
keyboard shortcut, it reaches the supervisor's live view within a second and the other
counter's page, while the wall display shows and hears nothing (its page does not change
and its Socket.IO connection receives no event). The supervisor acknowledges it; both
steps are in the append-only log.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import socketio
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from server.models import AlarmEvent
from tests.browser import screenshot, wait_until
from tests.liveserver import PASSWORD, LiveServer

SITE = "thess-east"
# what the waiting room sees of a display: the call, the recent calls, the waiting counts
# and the sound it plays (the clock and the rotating messages change by themselves)
DISPLAY_STATE = """(() => ({
    current: document.getElementById('current').innerHTML,
    recent: document.getElementById('recent').innerHTML,
    waiting: document.getElementById('waiting').innerHTML,
    sound: document.getElementById('announcer').src,
    body: document.body.innerText.toLowerCase().includes('alarm'),
}))()"""


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        live.tokens = {"display": live.add_device(SITE, "display", "hall")}  # type: ignore[attr-defined]
        live.add_staff("eleni", SITE)
        live.add_staff("nikos", SITE)
        live.add_staff("maria", SITE, "supervisor")
        yield live


def sign_in(browser: Browser, server: LiveServer, username: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{server.url}/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.select_option("select[name=lang]", "en")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    return page


def open_counter(browser: Browser, server: LiveServer, username: str, counter: str) -> Page:
    page = sign_in(browser, server, username)
    page.goto(f"{server.url}/counter/{SITE}/{counter}")
    wait_until(page, "document.getElementById('workstation')?.dataset.ready === '1'")
    return page


def test_the_silent_alarm_reaches_supervisors_within_a_second_and_nothing_public(
    browser: Browser, server: LiveServer
) -> None:
    display = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    display.goto(f"{server.url}/display/{SITE}#token={server.tokens['display']}")  # type: ignore[attr-defined]
    wait_until(display, "document.getElementById('board').dataset.snapshots >= '1'")
    heard: list[str] = []
    listener = socketio.Client(reconnection=False)
    listener.on("*", lambda event, *_: heard.append(event), namespace="/display")
    listener.connect(
        server.url,
        namespaces=["/display"],
        auth={"token": server.tokens["display"]},  # type: ignore[attr-defined]
        transports=["websocket"],
        wait_timeout=5,
    )
    supervisor = sign_in(browser, server, "maria")
    supervisor.goto(f"{server.url}/supervisor/{SITE}")
    supervisor.wait_for_selector("#counters tbody tr")
    supervisor.evaluate(
        """() => { const box = document.getElementById('alarms');
            new MutationObserver(() => { if (!box.hidden && !window.shownAt)
                window.shownAt = Date.now(); }).observe(box, {attributes: true}); }"""
    )
    colleague = open_counter(browser, server, "nikos", "desk-2")
    counter = open_counter(browser, server, "eleni", "desk-1")
    assert counter.locator("audio").count() == 0 and supervisor.locator("audio").count() == 0
    time.sleep(0.5)  # the snapshot and first events have come: what follows is the alarm's
    before, heard_before = display.evaluate(DISPLAY_STATE), len(heard)

    counter.evaluate(
        "document.addEventListener('keydown', () => { window.pressedAt = Date.now(); },"
        " {capture: true, once: true})"
    )
    counter.keyboard.press("Alt+Shift+A")
    wait_until(supervisor, "window.shownAt !== undefined", timeout=5000)
    latency_ms = supervisor.evaluate("window.shownAt") - counter.evaluate("window.pressedAt")
    assert latency_ms < 1000, f"the supervisor saw the alarm {latency_ms} ms after the key"
    assert "Desk 1" in supervisor.inner_text("#alarms")
    wait_until(counter, "document.getElementById('message').textContent.startsWith('Alarm sent')")
    colleague.wait_for_selector("#alarms p[data-counter=desk-1]", timeout=5000)
    assert "Desk 1" in colleague.inner_text("#alarms")
    screenshot(supervisor, "alarm_supervisor")
    screenshot(colleague, "alarm_other_counter")

    time.sleep(1.5)  # time enough for anything to reach the display
    assert display.evaluate(DISPLAY_STATE) == before
    assert heard[heard_before:] == [], "the display's connection heard of the alarm"
    assert not before["body"]

    supervisor.click("#alarms button")
    supervisor.wait_for_selector("#alarms", state="hidden")
    assert "acknowledged by maria" in supervisor.inner_text("#alarms-done")
    colleague.wait_for_selector("#alarms", state="hidden", timeout=5000)
    counter.wait_for_selector("#alarms", state="hidden", timeout=5000)
    listener.disconnect()
    with server.db.read() as s:
        steps = s.scalars(select(AlarmEvent.type).order_by(AlarmEvent.id)).all()
    assert steps == ["raised", "acknowledged"]
