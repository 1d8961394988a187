"""The front-end module every page shares (server/web/static/seira.js), in a real Chromium:
the gap-and-snapshot protocol, and errors told to the person instead of swallowed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route

from tests.browser import wait_until
from tests.liveserver import LiveServer
from tests.test_live_call_browser import issue, open_counter, open_display, sign_in

# A stand-in for the Socket.IO client: records what the page emits, and lets the test
# deliver events by hand, in any order.
FAKE_IO = """
window.fakeSocket = {
  handlers: {}, emitted: [], connected: true,
  on(name, fn) { this.handlers[name] = fn; },
  emit(name) { this.emitted.push(name); },
  deliver(name, data) { this.handlers[name](data); },
};
window.io = () => window.fakeSocket;
"""
PROTOCOL = """
import { live } from "/static/web/seira.js";
window.heard = [];
live("/display", {
  auth: {},
  snapshot: { event: "snapshot", handler: (s) => window.heard.push(["snapshot", s.seq]) },
  events: { waiting: (e, inOrder) => window.heard.push(["waiting", e.seq, inOrder]) },
});
window.ready = true;
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        live.tokens = {  # type: ignore[attr-defined]
            "display": live.add_device("thess-east", "display", "hall"),
            "kiosk": live.add_device("thess-east", "kiosk", "entrance"),
        }
        live.add_staff("maria", "thess-east", role="supervisor")
        yield live


def test_a_gap_or_a_new_epoch_asks_for_a_snapshot(browser: Browser, server: LiveServer) -> None:
    # the test puts its own script into a served page: the page's policy would refuse it
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(f"{server.url}/signin")
    page.add_script_tag(content=FAKE_IO)
    page.add_script_tag(content=PROTOCOL, type="module")
    wait_until(page, "window.ready === true")

    def deliver(event: str, seq: int, epoch: str = "e1") -> None:
        page.evaluate(f"fakeSocket.deliver('{event}', {{seq: {seq}, epoch: '{epoch}'}})")

    deliver("waiting", 1)  # before any snapshot: nothing to follow yet
    deliver("snapshot", 5)
    deliver("waiting", 6)
    deliver("waiting", 8)  # 7 was missed
    deliver("snapshot", 8)
    deliver("waiting", 9, epoch="e2")  # the server restarted
    heard = page.evaluate("window.heard")
    assert heard == [
        ["waiting", 1, False],
        ["snapshot", 5],
        ["waiting", 6, True],
        ["waiting", 8, False],
        ["snapshot", 8],
        ["waiting", 9, False],
    ]
    assert page.evaluate("fakeSocket.emitted") == ["snapshot", "snapshot", "snapshot"]


def _fail(route: Route) -> None:
    route.abort("connectionfailed")


def test_the_supervisor_is_told_when_the_state_cannot_be_read_and_when_it_can(
    browser: Browser, server: LiveServer
) -> None:
    """A failed fetch used to show 'reconnecting' for good, with the connection up."""
    page: Page = sign_in(browser, server, "maria")
    page.goto(f"{server.url}/supervisor/thess-east")
    page.wait_for_selector("#services tbody tr")
    page.route("**/supervisor/thess-east/state", _fail)
    issue(server)  # a queue event: the page fetches, and the fetch fails
    wait_until(page, "document.getElementById('message').textContent.length > 0")
    assert page.is_hidden("#reconnecting")  # the live connection itself is fine
    page.unroute("**/supervisor/thess-east/state")
    issue(server)
    wait_until(page, "document.getElementById('message').textContent === ''")
    assert page.is_hidden("#reconnecting")


def test_the_display_says_so_when_calls_cannot_be_spoken(
    browser: Browser, server: LiveServer
) -> None:
    display = open_display(browser, server)
    display.route("**/speech", lambda route: route.fulfill(status=503, body="{}"))
    issue(server, lang="fr")
    counter = sign_in(browser, server, "maria")
    open_counter(counter, server)
    counter.click("[data-do=call-next]")
    wait_until(display, "document.getElementById('board').dataset.current !== ''")
    assert display.is_hidden("#speech-failed")  # nothing said yet; the chime plays first
    display.wait_for_selector("#speech-failed", state="visible", timeout=10000)
