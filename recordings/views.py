"""The recording pages. Any staff member may record: interpreters and mediators have staff
accounts. A phrase is saved as WAV (16 kHz, mono, 16-bit), which the page's script makes
from the microphone; what is saved is heard at once by kiosks and displays."""

from __future__ import annotations

from flask import Response, render_template, request

from server import i18n, recordings
from server.errors import BadRequest, Unauthenticated
from server.extensions import db, speech
from server.web import current_staff, i18n_pages, staff_required

MAX_BYTES = recordings.RATE * 2 * recordings.MAX_SECONDS + 1024


def _staff() -> int | None:
    staff = current_staff()
    if staff is None:
        raise Unauthenticated("sign in to record")
    return staff.user_id


def _key() -> str:
    key = request.args.get("key", "")
    if not key:
        raise BadRequest("which phrase? ?key=...", "missing_key")
    return key


@staff_required
def index() -> str:
    """Every visitor language: its voice, and how many of its phrases are recorded."""
    rows = []
    for code, lang in i18n.LANGUAGES.items():
        if code == "el":
            continue
        needed = recordings.wanted(db(), code)
        have = recordings.recorded(db(), code)
        rows.append(
            {
                "code": code,
                "name": lang.english,
                "native": lang.native,
                "engine": speech().can_speak(code),
                "recorded": sum(1 for w in needed if w.key in have),
                "needed": len(needed),
            }
        )
    return render_template("recordings/index.html", rows=rows)


@staff_required
def language(lang: str) -> str:
    if lang not in i18n.LANGUAGES:
        raise BadRequest(f"no language '{lang}'", "bad_lang")
    have = recordings.recorded(db(), lang)
    phrases = [
        {
            "key": w.key,
            "text": w.text,
            "english": w.english,
            "group": w.group,
            "done": w.key in have,
        }
        for w in recordings.wanted(db(), lang)
    ]
    groups = {
        "kiosk": i18n_pages.gettext("What the kiosk says"),
        "reasons": i18n_pages.gettext("Visit reasons on the kiosk"),
        "call": i18n_pages.gettext("The words of a call on the display"),
    }
    return render_template(
        "recordings/language.html",
        lang=i18n.language(lang),
        phrases=phrases,
        groups=groups,
        engine=speech().can_speak(lang),
    )


def play(lang: str) -> Response:
    _staff()
    audio = recordings.audio(db(), lang, _key())
    if audio is None:
        raise BadRequest("not recorded yet", "not_recorded")
    return Response(audio, mimetype="audio/wav", headers={"Cache-Control": "no-store"})


def save(lang: str) -> tuple[str, int]:
    user = _staff()
    data = request.get_data(cache=False)
    if len(data) > MAX_BYTES:
        raise BadRequest("the recording is too long", "bad_audio")
    recordings.save(db(), lang, _key(), data, user)
    return "", 204


def remove(lang: str) -> tuple[str, int]:
    _staff()
    recordings.remove(db(), lang, _key())
    return "", 204
