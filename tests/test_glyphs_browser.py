"""Every visitor language readable on a machine with no fonts of its own: Chromium is asked
which font drew each text (tests/glyphs.py) on every kiosk screen, the status page and the
wall display, in all 16 languages, and every glyph must come from a font the server serves;
and no screen in another language falls back to English or Greek text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from functools import cache

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from server import i18n, translations
from tests.browser import wait_until
from tests.glyphs import unserved_glyphs
from tests.liveserver import PASSWORD, LiveServer

SITE = "thess-east"
TAP_GUARD_S = 0.45
LANGUAGES = list(i18n.LANGUAGES)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        live.tokens = {  # type: ignore[attr-defined]
            "display": live.add_device(SITE, "display", "glyphs"),
        }
        yield live


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1080, "height": 1920})
    yield context.new_page()
    context.close()


def tap(page: Page, selector: str) -> None:
    expect(page.locator(selector).first).to_be_visible()
    time.sleep(TAP_GUARD_S)
    page.locator(selector).first.click()


def check(page: Page, where: str, problems: dict[str, list[str]]) -> None:
    found = unserved_glyphs(page)
    if found:
        problems[where] = [str(p) for p in found[:5]]


VISIBLE_TEXTS = """
() => [...document.querySelectorAll('body *')]
  .filter((e) => e.offsetParent !== null || getComputedStyle(e).position === 'fixed')
  .map((e) => [...e.childNodes].filter((n) => n.nodeType === 3))
  .map((nodes) => nodes.map((n) => n.textContent).join('').trim())
  .filter(Boolean)
"""


@cache
def _foreign(lang: str) -> frozenset[str]:
    """Texts that, on a page in `lang`, would be English or Greek left untranslated: the
    English source and the Greek of every visitors message `lang` translates otherwise."""
    own = i18n.translations(lang, "visitors")
    greek = i18n.translations("el", "visitors")
    out = set()
    for message in translations.extract(translations.DOMAINS["visitors"]):
        if isinstance(message.id, str) and message.id and own.gettext(message.id) != message.id:
            out |= {message.id, greek.gettext(message.id)}
    return frozenset(out)


def test_the_fallback_check_knows_the_english_and_greek_words() -> None:
    assert {"Back", "Πίσω", "Done", "Support for women"} <= _foreign("ti")


def check_language(page: Page, lang: str, where: str, problems: dict[str, list[str]]) -> None:
    """No English or Greek fallback on a page in another language (ticket numbers and the
    centre's name are not in the catalogs, so they pass)."""
    if lang in ("el", "en"):
        return
    left = sorted(set(page.evaluate(VISIBLE_TEXTS)) & _foreign(lang))
    if left:
        problems[where] = [f"not in {lang}: {text!r}" for text in left[:5]]


def test_no_glyph_is_left_to_the_machine_on_the_kiosk(page: Page, server: LiveServer) -> None:
    problems: dict[str, list[str]] = {}
    for n, lang in enumerate(LANGUAGES):
        # a kiosk a language: one kiosk gives at most frontdesk.KIOSK_TICKETS a minute
        token = server.add_device(SITE, "kiosk", f"glyphs-{lang}")
        page.goto("about:blank")
        page.goto(f"{server.url}/kiosk/{SITE}#token={token}")
        expect(page.locator("#screen-idle")).to_be_visible()
        if n == 0:
            check(page, "languages", problems)
        tap(page, f"button[data-lang={lang}]")
        expect(page.locator("#groups button").nth(5)).to_be_attached()
        check(page, f"{lang} groups", problems)
        check_language(page, lang, f"{lang} groups (language)", problems)
        tap(page, "#groups button[data-reason=health]")
        expect(page.locator("#reasons button").first).to_be_visible()
        check(page, f"{lang} reasons", problems)
        check_language(page, lang, f"{lang} reasons (language)", problems)
        tap(page, "#reasons button[data-reason='health.clinics']")
        expect(page.locator("#screen-priority")).to_be_visible()
        check(page, f"{lang} priority", problems)
        check_language(page, lang, f"{lang} priority (language)", problems)
        tap(page, "#priorities button[data-priority=none]")
        expect(page.locator("#screen-ticket")).to_be_visible()
        expect(page.locator("#print-state.warn")).to_be_visible(timeout=15000)
        check(page, f"{lang} ticket", problems)
        check_language(page, lang, f"{lang} ticket (language)", problems)
        tap(page, "#done")
        expect(page.locator("#screen-idle")).to_be_visible()
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_no_glyph_is_left_to_the_machine_on_the_status_page(
    browser: Browser, server: LiveServer
) -> None:
    token = server.add_staff("reception", SITE)  # a kiosk would stop at 8 tickets a minute
    page = browser.new_context(viewport={"width": 412, "height": 900}).new_page()
    problems: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        issued = requests.post(
            f"{server.url}/api/v1/sites/{SITE}/tickets",
            json={"service": "general", "reason": "other", "lang": lang},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        page.goto(issued["status_url"])
        expect(page.locator("#number")).to_have_text(issued["number"])
        check(page, f"{lang} status", problems)
        check_language(page, lang, f"{lang} status (language)", problems)
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_no_glyph_is_left_to_the_machine_on_the_display(
    browser: Browser, server: LiveServer
) -> None:
    token = server.tokens["display"]  # type: ignore[attr-defined]
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    page.goto(f"{server.url}/display/{SITE}#token={token}")
    wait_until(page, "document.getElementById('board').dataset.snapshots >= '1'")
    page.evaluate("document.querySelectorAll('.info-message').forEach(m => m.hidden = false)")
    problems: dict[str, list[str]] = {}
    check(page, "display", problems)
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_no_glyph_is_left_to_the_machine_on_the_staff_pages(
    browser: Browser, server: LiveServer
) -> None:
    server.add_staff("maria", SITE, role="supervisor")
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{server.url}/signin")
    problems: dict[str, list[str]] = {}
    check(page, "sign-in", problems)
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    pages = ["/", f"/counter/{SITE}", f"/counter/{SITE}/desk-1", f"/supervisor/{SITE}"]
    pages += [f"/reports/{SITE}", f"/reports/{SITE}/indicators", f"/reports/{SITE}/staffing"]
    pages += ["/languages/", "/languages/ti/phrases", "/languages/ur/phrases"]  # own scripts
    for path in pages:
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        check(page, path, problems)
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
