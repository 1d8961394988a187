"""Recorded phrases (server/recordings.py): what must be recorded, how a call is put
together from recordings, what is refused, and how they travel with the configuration."""

from __future__ import annotations

import io
import math
import wave
from pathlib import Path

import pytest
from flask import Flask

from server import announce, migrate, recordings, siteconfig
from server.db import Database
from server.errors import Invalid
from tests.conftest import CONFIG
from tests.test_counter_pages import JSON, signed_in


def tone(seconds: float = 0.3, rate: int = recordings.RATE, channels: int = 1) -> bytes:
    """Generated audio: a tone, as WAV."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = int(rate * seconds)
        samples = (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(frames))
        w.writeframes(b"".join(s.to_bytes(2, "little", signed=True) * channels for s in samples))
    return out.getvalue()


def frames(data: bytes) -> int:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes()


def test_numbers_and_calls_as_recorded_words() -> None:
    assert announce.number_keys(0) == ["number:0"]
    assert announce.number_keys(19) == ["number:19"]
    assert announce.number_keys(20) == ["number:20"]
    assert announce.number_keys(23) == ["number:20", "number:3"]
    assert announce.number_keys(300) == ["number:300"]
    assert announce.number_keys(323) == ["number:300", "number:20", "number:3"]
    assert announce.number_keys(1005) == ["number:1", "number:0", "number:0", "number:5"]
    keys = announce.call_keys("A023", {"el": "Γκισέ 3", "en": "Desk 3"})
    assert keys == (
        "call:ticket", "letter:A", "number:20", "number:3", "call:counter", "number:3"
    )  # fmt: skip
    assert announce.call_keys("K007", {"el": "ΚΕΜ", "en": "Integration desk"}) is None
    every_number = {f"number:{n}" for n in announce.NUMBER_WORDS}
    for n in range(1000):  # every number a day can reach is said with recorded words
        assert set(announce.number_keys(n)) <= every_number


def test_a_tigrinya_call_is_said_from_recordings_once_they_exist() -> None:
    labels = {"el": "Γκισέ 3", "en": "Desk 3"}
    without = announce.phrases("A023", labels, "ti", lambda lang: lang != "ti")
    assert [p.lang for p in without] == ["el", "en"]  # nothing recorded yet
    said = announce.phrases("A023", labels, "ti", lambda lang: lang != "ti", lambda _l, _k: True)
    assert [p.lang for p in said] == ["el", "ti"]
    assert said[1].keys == announce.call_keys("A023", labels) and "ቲኬት" in said[1].text


def test_what_to_record(db: Database) -> None:
    keys = {w.key: w for w in recordings.wanted(db, "ti")}
    assert keys["Touch your language"].text not in ("", "Touch your language")  # in Tigrinya
    assert {"Why are you here today?", "Done", "I am pregnant", "I need more time"} <= set(keys)
    assert "It is your turn! Please go to:" not in keys  # the status page: read on a phone
    assert keys["reason:health"].group == "reasons" and keys["reason:health"].english == "Health"
    assert {"call:ticket", "call:counter", "letter:A", "letter:B", "number:20"} <= set(keys)
    assert keys["call:ticket"].text == "ቲኬት"


def test_saved_phrases_join_into_one_announcement(db: Database) -> None:
    keys = ["call:ticket", "letter:A", "number:7"]
    for key in keys:
        recordings.save(db, "ti", key, tone(0.3), None)
    assert recordings.has_all(db, "ti", keys) and not recordings.has_all(db, "ti", ["number:8"])
    joined = recordings.assemble(db, "ti", keys)
    assert joined is not None
    gaps = int(recordings.RATE * recordings.GAP_S) * 2
    assert frames(joined) == 3 * int(recordings.RATE * 0.3) + gaps
    assert recordings.assemble(db, "ti", [*keys, "number:8"]) is None


@pytest.mark.parametrize(
    "audio",
    [b"not audio", tone(rate=44100), tone(channels=2), tone(seconds=recordings.MAX_SECONDS + 1)],
    ids=["not-wav", "44.1-khz", "stereo", "too-long"],
)
def test_a_recording_in_another_form_is_refused(db: Database, audio: bytes) -> None:
    with pytest.raises(Invalid) as refused:
        recordings.save(db, "ti", "call:ticket", audio, None)
    assert refused.value.code == "bad_audio"
    assert recordings.recorded(db, "ti") == frozenset()


def test_only_the_phrases_to_record_are_kept(db: Database) -> None:
    with pytest.raises(Invalid, match="not a phrase"):
        recordings.save(db, "ti", "the visitor's name", tone(), None)
    with pytest.raises(Invalid, match="no language"):
        recordings.save(db, "xx", "call:ticket", tone(), None)


def test_a_recording_made_through_one_process_is_known_to_the_others_at_once(
    db: Database,
) -> None:
    """Each process remembers which phrases exist for a few seconds; another process
    (here a second Database of the same file, with a memory of its own) forgets what it
    knew when a phrase is recorded or removed (server/bus.py carries the news)."""
    other = Database(db.url)
    try:
        assert recordings.recorded(other, "ti") == frozenset()  # remembered
        recordings.save(db, "ti", "call:ticket", tone(0.2), None)
        assert recordings.recorded(other, "ti") == {"call:ticket"}
        recordings.remove(db, "ti", "call:ticket")
        assert recordings.recorded(other, "ti") == frozenset()
    finally:
        other.dispose()


def test_recordings_travel_with_the_configuration(db: Database, tmp_path: Path) -> None:
    recordings.save(db, "ti", "call:ticket", tone(0.2), None)
    recordings.save(db, "so", "Done", tone(0.4), None)
    archive = recordings.export_zip(db)
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    migrate.upgrade(other)
    siteconfig.load(other, CONFIG)
    assert recordings.import_zip(other, archive) == 2
    assert recordings.audio(other, "so", "Done") == recordings.audio(db, "so", "Done")
    with pytest.raises(Invalid):
        recordings.import_zip(other, b"not a zip")
    other.dispose()


def test_the_speech_url_says_recorded_phrases(app: Flask, db: Database, tokens) -> None:  # type: ignore[no-untyped-def]
    recordings.save(db, "ti", "call:ticket", tone(0.2), None)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens['display']}"}
    said = {"lang": "ti", "text": "x", "key": "call:ticket"}
    ok = client.post("/speech", json=said, headers=headers)
    assert ok.status_code == 200 and ok.mimetype == "audio/wav"
    missing = client.post("/speech", json={**said, "key": "call:ticket|number:4"}, headers=headers)
    assert missing.status_code == 404


def test_staff_record_through_the_page(app: Flask, db: Database) -> None:
    page, csrf = signed_in(app, "eleni")
    headers = {**JSON, "X-CSRF-Token": csrf, "Content-Type": "audio/wav"}
    saved = page.post("/languages/ti/phrase?key=call:ticket", data=tone(), headers=headers)
    assert saved.status_code == 204
    assert "call:ticket" in recordings.recorded(db, "ti")
    assert page.get("/languages/ti/phrase?key=call:ticket").data == tone()
    bad = page.post("/languages/ti/phrase?key=call:ticket", data=b"x", headers=headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_audio"
    listed = page.get("/languages/").get_data(as_text=True)
    assert "Tigrinya" in listed and "Ηχογραφημένες φράσεις" in listed
    stranger = app.test_client()
    refused = stranger.post("/languages/ti/phrase?key=call:ticket", data=tone(), headers=JSON)
    assert refused.status_code == 400  # no CSRF token: nothing of the page's session
    deleted = page.post("/languages/ti/phrase/delete?key=call:ticket", headers=headers)
    assert deleted.status_code == 204 and recordings.recorded(db, "ti") == frozenset()
