"""Recorded phrases: a voice for the languages the offline engine cannot speak.

An interpreter or mediator reads each kiosk prompt, each visit-reason tile and the words a
call needs ("ticket", "counter", the letters of the services, the numbers) into the
recording page (`languages/`); the browser turns the microphone's audio into WAV (16 kHz,
mono, 16-bit) before it is saved, so that announcements are assembled here by joining
recordings one after another, with nothing to convert. Keys name phrases, never visitors
(see models.Recording). They travel with the configuration: `seira recordings export` and
`import` write and read a zip of WAV files.
"""

from __future__ import annotations

import io
import json
import wave
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select

from . import announce, bus, catalog, i18n, translations
from .cache import TTLCache
from .db import Database, PerDatabase
from .errors import Invalid
from .models import Recording, utcnow

RATE = 16_000
MAX_SECONDS = 20
GAP_S = 0.12  # between the words of a call
KIOSK_SOURCES = ("kiosk/",)


@dataclass(frozen=True)
class Wanted:
    """A phrase to record: its key, what to read (in the language), and the English."""

    key: str
    text: str
    english: str
    group: str  # "kiosk", "reasons" or "call"


def wanted(db: Database, lang: str) -> list[Wanted]:
    """Every phrase the kiosk and the display may need said in `lang`."""
    visitors = i18n.translations(lang, "visitors")
    out: list[Wanted] = []
    seen: set[str] = set()
    for message in translations.extract(translations.DOMAINS["visitors"]):
        english = message.id
        if not isinstance(english, str) or not english or english in seen:
            continue
        if not any(path.startswith(KIOSK_SOURCES) for path, _line in message.locations):
            continue
        seen.add(english)
        out.append(Wanted(english, visitors.gettext(english), english, "kiosk"))
    cat = catalog.current(db)
    for reason in sorted(cat.reasons.values(), key=lambda r: r.position):
        text = i18n.label(reason.labels, lang)
        out.append(Wanted(f"reason:{reason.code}", text, reason.labels.get("en", ""), "reasons"))
    display = i18n.translations(lang, "display")
    out.append(Wanted("call:ticket", display.gettext("Ticket"), "Ticket", "call"))
    sentence = display.gettext("Ticket %(number)s, counter %(counter)s")
    hint = sentence % {"number": "A 23", "counter": "3"}
    out.append(Wanted("call:counter", hint, "the word for 'counter' in this call", "call"))
    letters = sorted({c for s in cat.services.values() for c in s.prefix})
    out += [Wanted(f"letter:{c}", c, c, "call") for c in letters]
    out += [Wanted(f"number:{n}", str(n), str(n), "call") for n in announce.NUMBER_WORDS]
    return out


# --- storage ---------------------------------------------------------------------------------

# which phrases each language has, for every call and kiosk screen: asked often, changed
# when someone records
_recorded: PerDatabase[TTLCache[str, frozenset[str]]] = PerDatabase(lambda _db: TTLCache(10.0))


def recorded(db: Database, lang: str) -> frozenset[str]:
    def load() -> frozenset[str]:
        with db.read() as s:
            return frozenset(s.scalars(select(Recording.key).where(Recording.lang == lang)))

    return _recorded(db).get(lang, load)


def _forget_recorded(lang: str) -> None:
    """A phrase of `lang` was recorded or removed, here or in another process (server/bus.py)."""
    for cache in _recorded.values():
        cache.forget(lang)


bus.on("recordings", _forget_recorded)


def has_all(db: Database, lang: str, keys: Iterable[str]) -> bool:
    have = recorded(db, lang)
    return all(key in have for key in keys)


def check_wav(data: bytes) -> bytes:
    """The audio, if it is WAV of the one format recordings share; else Invalid."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            shape = (w.getnchannels(), w.getsampwidth(), w.getframerate())
            seconds = w.getnframes() / RATE
    except (wave.Error, EOFError) as exc:
        raise Invalid(f"not a WAV file: {exc}", "bad_audio") from None
    if shape != (1, 2, RATE):
        raise Invalid("a recording must be WAV, 16 kHz, mono, 16-bit", "bad_audio")
    if not 0 < seconds <= MAX_SECONDS:
        raise Invalid(f"a recording lasts up to {MAX_SECONDS} seconds", "bad_audio")
    return data


def _check_key(db: Database, lang: str, key: str) -> None:
    if lang not in i18n.LANGUAGES:
        raise Invalid(f"no language '{lang}'", "bad_lang")
    if key not in {w.key for w in wanted(db, lang)}:
        raise Invalid(f"'{key}' is not a phrase to record", "bad_phrase")


def save(db: Database, lang: str, key: str, audio: bytes, user_id: int | None) -> None:
    _check_key(db, lang, key)
    check_wav(audio)
    with db.write() as s:
        found = s.get(Recording, (lang, key))
        if found is None:
            s.add(Recording(lang=lang, key=key, audio=audio, recorded_at=utcnow(), user_id=user_id))
        else:
            found.audio, found.recorded_at, found.user_id = audio, utcnow(), user_id
    bus.announce("recordings", lang)


def remove(db: Database, lang: str, key: str) -> None:
    with db.write() as s:
        s.execute(delete(Recording).where(Recording.lang == lang, Recording.key == key))
    bus.announce("recordings", lang)


def audio(db: Database, lang: str, key: str) -> bytes | None:
    with db.read() as s:
        found = s.get(Recording, (lang, key))
        return None if found is None else found.audio


def assemble(db: Database, lang: str, keys: Iterable[str]) -> bytes | None:
    """One WAV saying the phrases in order, a short pause between; None if one is missing."""
    keys = list(keys)
    if not keys or not has_all(db, lang, keys):
        return None
    with db.read() as s:
        found = {
            r.key: r.audio
            for r in s.scalars(
                select(Recording).where(Recording.lang == lang, Recording.key.in_(keys))
            )
        }
    out = io.BytesIO()
    with wave.open(out, "wb") as joined:
        joined.setnchannels(1)
        joined.setsampwidth(2)
        joined.setframerate(RATE)
        for i, key in enumerate(keys):
            if i:
                joined.writeframes(b"\0\0" * int(RATE * GAP_S))
            with wave.open(io.BytesIO(found[key])) as part:
                joined.writeframes(part.readframes(part.getnframes()))
    return out.getvalue()


# --- with the configuration -------------------------------------------------------------------


def export_zip(db: Database) -> bytes:
    """Every recording, as <lang>/<n>.wav and a manifest of keys."""
    out = io.BytesIO()
    manifest = []
    with db.read() as s, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, r in enumerate(s.scalars(select(Recording).order_by(Recording.lang, Recording.key))):
            name = f"{r.lang}/{n:05d}.wav"
            archive.writestr(name, r.audio)
            manifest.append({"lang": r.lang, "key": r.key, "file": name})
        archive.writestr("recordings.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return out.getvalue()


def import_zip(db: Database, data: bytes) -> int:
    """Recordings from export_zip, all checked before any is written; returns how many."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(archive.read("recordings.json"))
        items = [(m["lang"], m["key"], check_wav(archive.read(m["file"]))) for m in manifest]
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Invalid(f"not a recordings file: {exc}", "bad_file") from None
    for lang, key, _audio in items:
        _check_key(db, lang, key)
    for lang, key, sound in items:
        save(db, lang, key, sound, None)
    return len(items)
