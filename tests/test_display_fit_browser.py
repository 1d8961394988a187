"""The wall display fits the screen: at 1366x768, 1920x1080 and 3840x2160, with seven calls
listed (the current one and six before it), whichever information message is showing;
the current call is also written in the ticket's language, in its own direction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser

from server import i18n
from tests.browser import screenshot, wait_until
from tests.liveserver import LiveServer

SITE = "thess-east"
RESOLUTIONS = [(1366, 768), (1920, 1080), (3840, 2160)]
OUTSIDE = """
() => {
  const w = innerWidth, h = innerHeight, out = [];
  for (const e of document.querySelectorAll('#board *')) {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(e).visibility === 'hidden') continue;
    if (r.left < -0.5 || r.top < -0.5 || r.right > w + 0.5 || r.bottom > h + 0.5)
      out.push(`${e.tagName}#${e.id}.${e.className}: ends at ${r.right}, ${r.bottom}`);
  }
  const s = document.scrollingElement;
  if (s.scrollHeight > s.clientHeight || s.scrollWidth > s.clientWidth) out.push('it scrolls');
  return out;
}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        kiosk = live.add_device(SITE, "kiosk", "fit")
        staff = live.add_staff("eleni", SITE)
        live.display_token = live.add_device(SITE, "display", "fit")  # type: ignore[attr-defined]
        for lang in ["el", "en", "fr", "uk", "ru", "fa", "ar"]:  # the last call is Arabic
            requests.post(
                f"{live.url}/api/v1/sites/{SITE}/tickets",
                json={"service": "general", "reason": "other", "lang": lang},
                headers={"Authorization": f"Bearer {kiosk}"},
                timeout=10,
            ).raise_for_status()
            called = requests.post(
                f"{live.url}/api/v1/sites/{SITE}/counters/desk-1/call-next",
                headers={"Authorization": f"Bearer {staff}"},
                timeout=10,
            ).json()
            requests.post(
                f"{live.url}/api/v1/tickets/{called['id']}/finish",
                json={"outcome": "served"},
                headers={"Authorization": f"Bearer {staff}"},
                timeout=10,
            ).raise_for_status()
        yield live


@pytest.mark.parametrize(("width", "height"), RESOLUTIONS)
def test_the_display_fits_with_seven_calls_and_every_message(
    browser: Browser, server: LiveServer, width: int, height: int
) -> None:
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    token = server.display_token  # type: ignore[attr-defined]
    page.goto(f"{server.url}/display/{SITE}#token={token}")
    wait_until(page, "document.querySelectorAll('#recent li').length === 6")
    page.evaluate("document.fonts.ready.then(() => true)")
    messages = page.locator(".info-message").count()
    assert messages == 2 * len(i18n.LANGUAGES)  # both messages in every visitor language
    problems = {}
    for i in range(messages):
        page.evaluate(
            "(i) => document.querySelectorAll('.info-message')"
            ".forEach((m, j) => { m.hidden = i !== j; })",
            i,
        )
        outside = page.evaluate(OUTSIDE)
        if outside:
            lang = page.locator(".info-message").nth(i).get_attribute("lang")
            problems[f"message {i} ({lang})"] = outside
    screenshot(page, f"display_{width}x{height}")
    assert not problems, problems


def test_the_current_call_is_written_in_the_tickets_language(
    browser: Browser, server: LiveServer
) -> None:
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    token = server.display_token  # type: ignore[attr-defined]
    page.goto(f"{server.url}/display/{SITE}#token={token}")
    own = page.locator("#current-own")
    own.wait_for(state="visible")
    assert own.get_attribute("lang") == "ar" and own.get_attribute("dir") == "rtl"
    words = i18n.translations("ar", "display")
    text = own.inner_text()
    assert words.gettext("Ticket") in text and words.gettext("Go to") in text
    assert page.inner_text("#current-number") in text
