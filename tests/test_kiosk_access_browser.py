"""The kiosk as a self-service terminal for everyone (EN 301 549, the European
Accessibility Act): the screen used from top to bottom, controls within reach at the
bottom, an accessibility mode with large text and high contrast that still fits every
screen, time warnings on screen and by sound with a way to ask for more time, a tap the
double-tap guard ignores that is seen, and "Read aloud" lighting each tile as it is said."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser import screenshot, wait_until
from tests.liveserver import LiveServer

SITE = "thess-east"
TAP_GUARD_S = 0.45
LAYOUTS = [(1080, 1920), (1920, 1080)]
CONTROLS = ["#back", "#home", "#speak", "#access"]

FITS = """
() => {
  const w = innerWidth, h = innerHeight, out = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('[hidden]') || !e.getClientRects().length) continue;
    const r = e.getBoundingClientRect();
    if (r.left < -1 || r.top < -1 || r.right > w + 1 || r.bottom > h + 1)
      out.push(`${e.tagName}#${e.id}.${e.className} ends at ${r.right},${r.bottom}`);
  }
  for (const tile of document.querySelectorAll('.choice'))
    if (tile.getClientRects().length && tile.scrollHeight > tile.clientHeight + 1)
      out.push(`tile '${tile.textContent}' overflows`);
  const s = document.scrollingElement;
  if (s.scrollHeight > s.clientHeight || s.scrollWidth > s.clientWidth) out.push('it scrolls');
  return out;
}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        live.kiosk_token = live.add_device(SITE, "kiosk", "access")  # type: ignore[attr-defined]
        yield live


def open_kiosk(
    browser: Browser, server: LiveServer, size: tuple[int, int], query: str = ""
) -> Page:
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}).new_page()
    token = server.kiosk_token  # type: ignore[attr-defined]
    page.goto(f"{server.url}/kiosk/{SITE}{query}#token={token}")
    expect(page.locator("#screen-idle")).to_be_visible()
    return page


def tap(page: Page, selector: str) -> None:
    expect(page.locator(selector).first).to_be_visible()
    time.sleep(TAP_GUARD_S)
    page.locator(selector).first.click()


def controls(page: Page) -> dict[str, dict]:
    return {c: page.locator(c).bounding_box() for c in CONTROLS if page.locator(c).is_visible()}


@pytest.mark.parametrize("access", [False, True], ids=["normal", "large-text"])
@pytest.mark.parametrize("size", LAYOUTS, ids=["portrait", "landscape"])
def test_every_screen_fits_with_the_controls_within_reach(
    browser: Browser, server: LiveServer, size: tuple[int, int], access: bool
) -> None:
    page = open_kiosk(browser, server, size)
    if access:
        page.click("#access")
        expect(page.locator("body.access")).to_have_count(1)
    problems: dict[str, list[str]] = {}
    places = []

    def look(screen: str) -> None:
        page.evaluate("document.fonts.ready.then(() => true)")
        if found := page.evaluate(FITS):
            problems[screen] = found
        boxes = controls(page)
        for name, box in boxes.items():
            assert box["height"] >= 96 and box["width"] >= 96, (screen, name, box)
            if size[1] > size[0]:  # portrait: the lowest part, within reach from a wheelchair
                assert box["y"] >= 0.8 * size[1], (screen, name, box)
        places.append((boxes["#access"]["x"], boxes["#access"]["y"]))

    look("languages")
    tap(page, "button[data-lang=ar]")
    expect(page.locator("#groups button").nth(5)).to_be_attached()
    look("groups")
    tap(page, "#groups button[data-reason=health]")
    expect(page.locator("#reasons button").first).to_be_visible()
    look("reasons")
    tap(page, "#reasons button[data-reason='health.clinics']")
    look("priority")
    tap(page, "#priorities button[data-priority=none]")
    expect(page.locator("#print-state.warn")).to_be_visible(timeout=15000)
    look("ticket")
    assert not problems, problems
    assert all(place == places[0] for place in places), places  # always in the same place


@pytest.mark.parametrize("lang", ["ar", "fa", "ti", "bn", "uk"])
def test_screenshots_in_normal_and_accessibility_mode(
    browser: Browser, server: LiveServer, lang: str
) -> None:
    page = open_kiosk(browser, server, LAYOUTS[0])
    tap(page, f"button[data-lang={lang}]")
    expect(page.locator("#groups button").nth(5)).to_be_attached()
    page.evaluate("document.fonts.ready.then(() => true)")
    screenshot(page, f"kiosk_{lang}_groups_portrait")
    page.click("#access")
    assert page.evaluate(FITS) == []
    screenshot(page, f"kiosk_{lang}_groups_portrait_large_text")


def test_the_mode_stays_for_the_visitor_and_not_for_the_next(
    browser: Browser, server: LiveServer
) -> None:
    page = open_kiosk(browser, server, LAYOUTS[0])
    page.click("#access")
    assert page.get_attribute("#access", "aria-pressed") == "true"
    tap(page, "button[data-lang=fr]")
    tap(page, "#home")  # "Start again": the same visitor
    expect(page.locator("body.access")).to_have_count(1)
    tap(page, "button[data-lang=fr]")
    tap(page, "#groups button[data-reason=health]")
    tap(page, "#reasons button[data-reason='health.clinics']")
    tap(page, "#priorities button[data-priority=none]")
    tap(page, "#done")  # the ticket is taken: the next visitor starts plain
    expect(page.locator("body.access")).to_have_count(0)
    assert page.get_attribute("#access", "aria-pressed") == "false"


def test_a_tap_too_soon_is_seen_and_does_nothing(browser: Browser, server: LiveServer) -> None:
    page = open_kiosk(browser, server, LAYOUTS[0])
    tap(page, "button[data-lang=en]")
    tile = page.locator("#groups button[data-reason=health]")
    tile.click()  # at once: the double-tap guard holds it back
    expect(tile).to_have_class("choice not-yet")
    expect(page.locator("#screen-groups")).to_be_visible()


def test_the_time_warning_is_seen_and_heard_and_more_time_can_be_asked(
    browser: Browser, server: LiveServer
) -> None:
    context = browser.new_context(viewport={"width": 1080, "height": 1920})
    context.add_init_script(  # count the tones the page plays
        "window.tonesPlayed = 0; const Real = window.AudioContext;"
        "window.AudioContext = class extends Real { createOscillator() {"
        " window.tonesPlayed += 1; return super.createOscillator(); } };"
    )
    page = context.new_page()
    page.goto(f"{server.url}/kiosk/{SITE}?idle=4#token={server.kiosk_token}")  # type: ignore[attr-defined]
    tap(page, "button[data-lang=en]")
    expect(page.locator("#countdown")).to_be_visible(timeout=4000)
    wait_until(page, "window.tonesPlayed >= 3")
    page.click("#more-time")
    # twice the pause (8 s), warned of in its last half: hidden for the first 4 s of it
    page.wait_for_timeout(1500)
    expect(page.locator("#countdown")).to_be_hidden()
    time.sleep(3.5)  # beyond the first pause: the visitor asked for more
    expect(page.locator("#screen-groups")).to_be_visible()
    expect(page.locator("#countdown")).to_be_visible(timeout=6000)


def _silence() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 400)  # 50 ms
    return out.getvalue()


def test_read_aloud_lights_each_tile_as_it_is_said(browser: Browser, server: LiveServer) -> None:
    page = open_kiosk(browser, server, LAYOUTS[0])
    wav = _silence()

    def speak(route: Route) -> None:
        route.fulfill(status=200, body=wav, content_type="audio/wav")

    page.route("**/speech", speak)
    tap(page, "button[data-lang=en]")
    expect(page.locator("#groups button").nth(5)).to_be_attached()
    page.evaluate(
        "window.lit = []; new MutationObserver(() => {"
        " const e = document.querySelector('.speaking'); if (e) window.lit.push(e.textContent);"
        "}).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['class']})"
    )
    page.click("#speak")
    tiles = page.locator("#groups button").all_inner_texts()
    wait_until(page, f"window.lit.length >= {len(tiles) + 1}", timeout=20000)
    wait_until(page, "!document.querySelector('.speaking')")  # all said, nothing lit
    lit = list(dict.fromkeys(page.evaluate("window.lit")))
    assert lit[0] == "Why are you here today?"
    assert [text.strip() for text in lit[1:]] == [text.strip() for text in tiles]
