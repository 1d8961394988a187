"""A visitor who cannot read gets a ticket by ear and by pictures alone (tests/visitor.py),
in Greek, Arabic, Farsi and Ukrainian."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.liveserver import LiveServer
from tests.visitor import visit


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        live.kiosk_token = live.add_device("thess-east", "kiosk", "visitor")  # type: ignore[attr-defined]
        yield live


def _quiet(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * int(8000 * seconds))
    return out.getvalue()


@pytest.mark.parametrize("lang", ["el", "ar", "fa", "uk"])
def test_a_visitor_who_cannot_read_gets_a_ticket(
    browser: Browser, server: LiveServer, lang: str
) -> None:
    page = browser.new_context(viewport={"width": 1080, "height": 1920}).new_page()
    quiet = _quiet(0.4)  # each phrase, as short audio: the test listens, it need not wait
    page.route("**/speech", lambda r: r.fulfill(status=200, body=quiet, content_type="audio/wav"))
    page.goto(f"{server.url}/kiosk/thess-east#token={server.kiosk_token}")  # type: ignore[attr-defined]
    done = visit(page, lang)
    assert done.number.startswith("A")
    assert page.locator("html").get_attribute("lang") == lang
    assert done.own_s < 5  # beyond the tap guard and the listening, the script's goal
