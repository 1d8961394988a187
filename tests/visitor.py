"""A scripted visitor who cannot read: they find their language by listening and choose by
pictograms only. Used by tests/test_kiosk_visitor_browser.py and bench/kiosk_visitor.py.

On the language screen they press "Read aloud" and wait until they hear their language
(the phrase said in it) and tap the tile that is lit while it is said; after that they
tap only tiles whose picture they recognise: never a word.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from tests.browser import wait_until

TAP_GUARD_S = 0.45  # the kiosk ignores taps in the first 400 ms of a screen
# what this visitor came for, as pictures: a health question at a clinic, no priority
PICTURES = ("heartbeat", "stethoscope", "walk")


@dataclass(frozen=True)
class Visit:
    lang: str
    number: str
    seconds: float  # from the first touch to the ticket on screen
    waited_s: float  # of which the script spent waiting out the tap guard
    listened_s: float  # and listening to the languages until it heard its own

    @property
    def own_s(self) -> float:
        """What the kiosk and the script took, beyond the guard and the listening."""
        return self.seconds - self.waited_s - self.listened_s


def _tap_picture(page: Page, picture: str) -> None:
    tile = page.locator(f"button.choice:visible:has(img[src$='/{picture}.svg'])").first
    expect(tile).to_be_visible()
    tile.click()


def visit(page: Page, lang: str) -> Visit:
    """From the language screen to a ticket, by ear and by pictures."""
    expect(page.locator("#screen-idle")).to_be_visible()
    start = time.perf_counter()
    waited = TAP_GUARD_S
    time.sleep(TAP_GUARD_S)
    page.click("#speak")  # "Read aloud": each language says "Touch your language"
    listening = time.perf_counter()
    heard = wait_until(
        page,  # the tile lit while their language is heard
        "(lang) => { const lit = document.querySelector('#languages .speaking');"
        " return document.getElementById('voice').dataset.lang === lang && lit"
        " && lit.dataset.lang; }",
        arg=lang,
        timeout=60000,
    )
    listened = time.perf_counter() - listening
    page.locator(f"#languages button[data-lang='{heard}']").click()
    for picture in PICTURES:
        time.sleep(TAP_GUARD_S)
        waited += TAP_GUARD_S
        _tap_picture(page, picture)
    number = page.locator("#ticket-number")
    expect(page.locator("#screen-ticket")).to_be_visible(timeout=15000)
    expect(number).not_to_be_empty()
    seconds = time.perf_counter() - start
    return Visit(lang, number.inner_text(), seconds, waited, listened)
