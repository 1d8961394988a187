"""The kiosk in a real Chromium against a real server: the visitor's whole path to a ticket."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import unquote_plus

import pytest
import requests
from playwright.sync_api import Browser, Page, Request, expect
from sqlalchemy import func, select

from server import i18n
from server.frontdesk import KIOSK_TICKETS
from server.models import Ticket
from tests.browser import screenshot, wait_until
from tests.liveserver import LiveServer

SITE = "thess-east"
TAP_GUARD_S = 0.45  # the kiosk ignores taps in the first 400 ms of a screen (double taps)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        yield live


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return server.add_device(SITE, "kiosk", "kiosk-browser")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def visitors(lang: str, message: str) -> str:
    return i18n.translations(lang, "visitors").gettext(message)


def open_kiosk(page: Page, server: LiveServer, token: str, query: str = "") -> None:
    page.goto(f"{server.url}/kiosk/{SITE}{query}#token={token}")
    expect(page.locator("#screen-idle")).to_be_visible()


def tap(page: Page, selector: str) -> None:
    locator = page.locator(selector)
    expect(locator).to_be_visible()
    time.sleep(TAP_GUARD_S)
    locator.click()


def ticket_count(server: LiveServer) -> int:
    with server.db.read() as s:
        return s.scalar(select(func.count()).select_from(Ticket)) or 0


def to_priority(page: Page, lang: str) -> None:
    tap(page, f"button[data-lang={lang}]")
    tap(page, "#groups button[data-reason=health]")
    tap(page, "#reasons button[data-reason='health.clinics']")
    expect(page.locator("#screen-priority")).to_be_visible()


@pytest.mark.parametrize("lang", ["el", "en", "ar"])
def test_flow_ends_with_number_and_qr(
    page: Page, server: LiveServer, token: str, lang: str
) -> None:
    open_kiosk(page, server, token)
    assert page.evaluate("location.hash") == ""  # the token left the address bar
    tap(page, f"button[data-lang={lang}]")
    expect(page.locator("#screen-groups h1")).to_have_text(
        visitors(lang, "Why are you here today?")
    )
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    groups = page.locator("#groups button")
    expect(groups.nth(9)).to_be_attached()  # the services arrive after the heading changes
    assert groups.count() >= 10
    assert page.locator("#groups button img").count() == groups.count()  # a pictogram each
    protection = page.locator("#groups button[data-reason=protection]")
    expect(protection).to_have_text(
        visitors(lang, "Personal support") if lang != "el" else "Προσωπική υποστήριξη"
    )  # the discreet label
    screenshot(page, f"kiosk_{lang}_groups")
    tap(page, "#groups button[data-reason=health]")
    reason = page.locator("#reasons button[data-reason='health.clinics']")
    expect(reason).to_be_visible()
    reason_label = reason.inner_text()
    tap(page, "#reasons button[data-reason='health.clinics']")
    screenshot(page, f"kiosk_{lang}_priority")
    tap(page, "#priorities button[data-priority=none]")

    expect(page.locator("#screen-ticket")).to_be_visible()
    expect(page.locator("#ticket-number")).to_have_text(re.compile(r"^A\d{3}$"))
    expect(page.locator("#ticket-qr svg")).to_be_visible()
    expect(page.locator("#print-state")).to_have_text(
        visitors(lang, "Please take a photo of this screen: it is your ticket."), timeout=15000
    )
    caption = visitors(lang, "People ahead of you")
    expect(page.locator("#screen-ticket")).to_contain_text(caption)
    assert reason_label not in page.locator("#screen-ticket").inner_text()
    assert page.locator("#reasons button").count() == 0  # the reason is gone from the page
    screenshot(page, f"kiosk_{lang}_ticket")


def test_double_tap_issues_one_ticket(page: Page, server: LiveServer, token: str) -> None:
    open_kiosk(page, server, token)
    to_priority(page, "fr")
    before = ticket_count(server)
    time.sleep(TAP_GUARD_S)
    box = page.locator("#priorities button[data-priority=pregnancy]").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.mouse.click(x, y)  # lands on whatever the first tap brought up
    expect(page.locator("#screen-ticket")).to_be_visible()
    time.sleep(0.5)
    assert ticket_count(server) == before + 1
    expect(page.locator("#screen-ticket")).to_be_visible()  # the 2nd tap did not leave it


def test_idle_timeout_shows_countdown_then_language_screen(
    page: Page, server: LiveServer, token: str
) -> None:
    open_kiosk(page, server, token, "?idle=3")
    tap(page, "button[data-lang=en]")
    expect(page.locator("#screen-groups")).to_be_visible()
    expect(page.locator("#countdown")).to_be_visible(timeout=3000)
    expect(page.locator("#countdown-seconds")).to_have_text(re.compile(r"^[1-3]$"))
    expect(page.locator("#countdown")).to_contain_text(
        "Are you still there? Touch the screen to continue."
    )
    expect(page.locator("#screen-idle")).to_be_visible(timeout=6000)
    expect(page.locator("#countdown")).to_be_hidden()
    assert page.locator("html").get_attribute("lang") == "el"


def test_read_aloud_fetches_speech_into_the_audio_element(
    page: Page, server: LiveServer, token: str
) -> None:
    open_kiosk(page, server, token)
    tap(page, "button[data-lang=en]")
    with page.expect_response(lambda r: r.url.endswith("/speech")) as answer:
        page.locator("#speak").click()
    response = answer.value
    assert response.status == 200 and response.request.method == "POST"
    assert response.request.post_data_json["lang"] == "en"
    assert response.request.headers["authorization"] == f"Bearer {token}"
    wait_until(page, "document.getElementById('voice').src.startsWith('blob:')")
    # a language without a voice has no read-aloud button
    tap(page, "#home")
    tap(page, "button[data-lang=so]")
    expect(page.locator("#speak")).to_be_hidden()


def test_reading_the_protection_reasons_aloud_puts_no_label_in_a_url(
    page: Page, server: LiveServer, token: str
) -> None:
    """The labels of sensitive reasons go to the speech engine in POST bodies: a URL ends
    up in access logs, proxies and the browser's history."""
    requested: list[Request] = []
    page.on("request", lambda r: requested.append(r))
    open_kiosk(page, server, token)
    tap(page, "button[data-lang=en]")
    tap(page, "#groups button[data-reason=protection]")
    expect(page.locator("#reasons button").nth(2)).to_be_visible()
    labels = [page.locator("#reasons-title").inner_text().strip()]
    labels += [label.strip() for label in page.locator("#reasons button").all_inner_texts()]
    assert "Support for women" in labels  # the screen holds the sensitive labels

    def carries(request: Request, text: str) -> bool:  # in its URL or in its body
        return text in unquote_plus(request.url) + (request.post_data or "")

    with page.expect_response(
        lambda r: "/speech" in r.url and carries(r.request, labels[-1]), timeout=30000
    ) as last:
        page.locator("#speak").click()  # the last tile asked for: every part has been
    assert last.value.status == 200
    for request in requested:
        url = unquote_plus(request.url).casefold()
        assert not [label for label in labels if label.casefold() in url], request.url
        assert "protection" not in url, request.url
    speech = [r for r in requested if "/speech" in r.url]
    assert {r.method for r in speech} == {"POST"}
    assert set(labels) <= {r.post_data_json["text"] for r in speech}


CONTRAST = """
(selectors) => {
  const rgb = (text) => text.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const value = rgb(getComputedStyle(e).backgroundColor);
      if (value.length === 3 || value[3] > 0) return value.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = {};
  for (const selector of selectors) {
    const element = document.querySelector(selector);
    if (!element || !element.offsetParent) continue;
    const a = lum(rgb(getComputedStyle(element).color).slice(0, 3));
    const b = lum(background(element));
    out[selector] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }
  return out;
}
"""


def test_touch_targets_and_contrast(page: Page, server: LiveServer, token: str) -> None:
    """Every button at least 48 px each way; main text at least 7:1 against its background."""
    open_kiosk(page, server, token)
    small: list[tuple[str, str, dict]] = []

    def measure(screen: str, selectors: list[str]) -> dict[str, float]:
        for button in page.locator(f"#bar button:visible, #screen-{screen} button:visible").all():
            size = button.bounding_box()
            assert size is not None
            if size["width"] < 48 or size["height"] < 48:
                small.append((screen, button.inner_text(), size))
        return page.evaluate(CONTRAST, selectors)

    ratios = measure("idle", ["#idle-prompt", "#languages button"])
    to_priority(page, "ar")
    ratios |= measure("priority", ["#screen-priority h1", "#priorities button", "#home"])
    tap(page, "#priorities button[data-priority=none]")
    expect(page.locator("#print-state.warn")).to_be_visible(timeout=15000)
    ratios |= measure(
        "ticket", ["#ticket-number", "#ticket-ahead", ".where", "#print-state", "#done"]
    )
    assert not small
    assert len(ratios) == 10, ratios
    assert all(ratio >= 7 for ratio in ratios.values()), ratios


def test_missing_or_wrong_token_says_not_set_up(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/kiosk/{SITE}")
    expect(page.locator("#screen-unset")).to_be_visible()
    expect(page.locator("#unset-text")).to_contain_text(visitors("el", "This kiosk is not set up."))
    expect(page.locator("#unset-text")).to_contain_text("This kiosk is not set up.")
    page.goto(f"{server.url}/kiosk/{SITE}#token=not-a-token")
    expect(page.locator("#screen-unset")).to_be_visible()
    context.close()


def test_unknown_site_is_404(page: Page, server: LiveServer) -> None:
    assert page.goto(f"{server.url}/kiosk/nowhere").status == 404


def test_a_kiosk_pressed_again_and_again_asks_to_wait_in_the_visitors_language(
    page: Page, server: LiveServer
) -> None:
    busy = server.add_device(SITE, "kiosk", "kiosk-pressed")
    for _ in range(KIOSK_TICKETS):
        response = requests.post(
            f"{server.url}/api/v1/sites/{SITE}/tickets",
            json={"service": "general", "reason": "other", "lang": "so", "priority": "none"},
            headers={"Authorization": f"Bearer {busy}"},
            timeout=10,
        )
        assert response.status_code == 201
    before = ticket_count(server)
    open_kiosk(page, server, busy)
    to_priority(page, "so")
    tap(page, "#priorities button[data-priority=none]")
    expect(page.locator("#error-text")).to_have_text(
        visitors(
            "so",
            "Many tickets were taken here just now. "
            "Please wait a minute, or ask at the reception desk.",
        )
    )
    assert ticket_count(server) == before


def newest_ticket(server: LiveServer) -> Ticket:
    with server.db.read() as s:
        found = s.scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))
        assert found is not None
        s.expunge(found)
        return found


@pytest.mark.parametrize("lang", ["el", "fa"])
def test_the_discreet_path_and_the_quiet_choice(page: Page, server: LiveServer, lang: str) -> None:
    # a kiosk of its own: the module's kiosk may be near its tickets-per-minute limit
    open_kiosk(page, server, server.add_device(SITE, "kiosk", f"discreet-{lang}"))
    tap(page, f"button[data-lang={lang}]")
    private = page.locator("#groups button[data-reason=private]")
    expect(private).to_have_text(visitors(lang, "I would like to talk in private"))
    tap(page, "#groups button[data-reason=private]")
    expect(page.locator("#screen-priority")).to_be_visible()
    expect(page.locator("#quiet")).to_have_text(visitors(lang, "Do not call my number aloud"))
    screenshot(page, f"kiosk_private_{lang}")
    tap(page, "#priorities button[data-priority=none]")
    expect(page.locator("#screen-ticket")).to_be_visible()
    number = page.inner_text("#ticket-number")
    assert re.fullmatch(r"A\d{3}", number)  # the reception's numbers: nothing tells
    expect(page.locator("#where-shown")).to_be_visible()
    expect(page.locator("#where-called")).to_be_hidden()
    ticket = newest_ticket(server)
    assert (ticket.reason_code, ticket.quiet, ticket.code) == ("private", True, number)

    # any visitor may ask not to be called aloud; the choice is forgotten for the next one
    tap(page, "#done")
    to_priority(page, lang)
    tap(page, "#quiet")
    expect(page.locator("#quiet")).to_have_attribute("aria-pressed", "true")
    tap(page, "#priorities button[data-priority=none]")
    expect(page.locator("#screen-ticket")).to_be_visible()
    expect(page.locator("#where-shown")).to_be_visible()
    assert newest_ticket(server).quiet is True
    tap(page, "#done")
    to_priority(page, lang)
    expect(page.locator("#quiet")).to_have_attribute("aria-pressed", "false")
