"""A voice for Tigrinya, which the speech engine lacks: phrases recorded (from generated
audio) are what the display says a Tigrinya call with, and what the kiosk reads aloud;
and the recording page records from a microphone (Chromium's fake one) and saves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Response, expect

from server import announce, recordings
from tests.browser import CHROMIUM, FLAGS, wait_until
from tests.liveserver import PASSWORD, LiveServer
from tests.test_recordings import frames, tone

SITE = "thess-east"
TAP_GUARD_S = 0.45


def spoken(response: Response) -> dict[str, str] | None:
    """What a page asked POST /speech to say ({lang, text, key?}), or None for another URL."""
    if not response.url.endswith("/speech"):
        return None
    return response.request.post_data_json


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        live.tokens = {  # type: ignore[attr-defined]
            "kiosk": live.add_device(SITE, "kiosk", "ti"),
            "display": live.add_device(SITE, "display", "ti"),
            "staff": live.add_staff("mediator", SITE),
        }
        # what a Tigrinya interpreter recorded, before any page asks
        for number in announce.NUMBER_WORDS:
            recordings.save(live.db, "ti", f"number:{number}", tone(0.1), None)
        for key in ("call:ticket", "call:counter", "letter:A", "letter:B", "letter:C"):
            recordings.save(live.db, "ti", key, tone(0.15), None)
        for key in ("Why are you here today?", "reason:health", "reason:housing"):
            recordings.save(live.db, "ti", key, tone(0.15), None)
        yield live


def api(server: LiveServer, token: str, path: str, body: dict | None = None) -> dict:
    response = requests.post(
        f"{server.url}/api/v1{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def test_a_tigrinya_call_is_announced_with_the_recorded_phrases(
    browser: Browser, server: LiveServer
) -> None:
    tokens = server.tokens  # type: ignore[attr-defined]
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    page.goto(f"{server.url}/display/{SITE}#token={tokens['display']}")
    wait_until(page, "document.getElementById('board').dataset.snapshots >= '1'")
    said: list[Response] = []
    page.on("response", lambda r: said.append(r) if spoken(r) else None)
    ticket = api(server, tokens["kiosk"], f"/sites/{SITE}/tickets",
                 {"service": "general", "reason": "other", "lang": "ti"})  # fmt: skip
    api(server, tokens["staff"], f"/sites/{SITE}/counters/desk-1/call-next")
    wait_until(page, "document.getElementById('announcer').dataset.lang === 'ti'", timeout=15000)
    tigrinya = next(r for r in said if (spoken(r) or {}).get("lang") == "ti")
    assert tigrinya.status == 200
    keys = announce.call_keys(ticket["number"], {"el": "Γκισέ 1", "en": "Desk 1"})
    asked = spoken(tigrinya)
    assert keys is not None and asked is not None and asked["key"] == "|".join(keys)
    again = requests.post(  # what the display played: every word, one after another
        f"{server.url}/speech",
        json=asked,
        headers={"Authorization": f"Bearer {tokens['display']}"},
        timeout=10,
    )
    assert frames(again.content) > len(keys) * int(recordings.RATE * 0.1)


def test_the_kiosk_reads_aloud_in_tigrinya_from_the_recordings(
    browser: Browser, server: LiveServer
) -> None:
    page = browser.new_context(viewport={"width": 1080, "height": 1920}).new_page()
    page.goto(f"{server.url}/kiosk/{SITE}#token={server.tokens['kiosk']}")  # type: ignore[attr-defined]
    expect(page.locator("#screen-idle")).to_be_visible()
    time.sleep(TAP_GUARD_S)
    page.click("button[data-lang=ti]")
    expect(page.locator("#groups button").nth(5)).to_be_attached()
    expect(page.locator("#speak")).to_be_visible()  # no engine voice, but recordings
    answered: list[Response] = []
    page.on("response", lambda r: answered.append(r) if spoken(r) else None)
    last_tile = {"lang": "ti", "key": "reason:other"}
    with page.expect_response(
        lambda r: last_tile.items() <= (spoken(r) or {}).items(), timeout=20000
    ):
        page.click("#speak")  # the last tile: every part of the screen has been asked for
    asked = [(spoken(r) or {}, r.status) for r in answered]
    heard = {said["key"]: status for said, status in asked if said["lang"] == "ti"}
    assert heard["Why are you here today?"] == 200  # the screen's title
    assert heard["reason:health"] == 200  # a tile
    assert 404 in heard.values()  # a tile nobody recorded yet is skipped, not said wrong


def test_the_recording_page_records_from_the_microphone_and_saves(
    browser: Browser, server: LiveServer, tmp_path: Path
) -> None:
    sound = tmp_path / "voice.wav"
    sound.write_bytes(tone(2.0, rate=48000))
    flags = [
        *FLAGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={sound}",
    ]
    with_microphone = browser.browser_type.launch(executable_path=CHROMIUM, args=flags)
    try:
        page = with_microphone.new_page()
        page.goto(f"{server.url}/signin")
        page.fill("input[name=username]", "mediator")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        page.goto(f"{server.url}/languages/so/phrases")
        wait_until(page, "document.getElementById('recorder').dataset.ready === '1'")
        row = page.locator("tr.phrase[data-key='Done']")
        row.locator("[data-do=record]").click()
        time.sleep(1.5)
        row.locator("[data-do=stop]").click()
        expect(row.locator("[data-do=save]")).to_be_enabled(timeout=10000)
        row.locator("[data-do=save]").click()
        expect(row).to_have_attribute("data-done", "1", timeout=10000)
    finally:
        with_microphone.close()
    saved = recordings.audio(server.db, "so", "Done")
    assert saved is not None and frames(saved) > recordings.RATE  # about 1.5 s, at 16 kHz
