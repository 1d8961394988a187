"""The kiosk page and the translated strings its script shows."""

from __future__ import annotations

from typing import Any

from babel.messages.pofile import read_po
from flask import Response, abort, current_app, jsonify, render_template, request, url_for

from server import catalog, i18n, recordings
from server.extensions import db, speech

IDLE_DEFAULT_S = 45
IDLE_RANGE_S = (3, 600)


def _idle_seconds() -> int:
    """`?idle=<seconds>` (a centre's kiosk URL, or a test), else KIOSK_IDLE_S, else 45."""
    low, high = IDLE_RANGE_S
    chosen = request.args.get("idle", type=int) or current_app.config.get(
        "KIOSK_IDLE_S", IDLE_DEFAULT_S
    )
    return max(low, min(high, int(chosen)))


def _has_voice(lang: str) -> bool:
    """Read aloud is offered where the engine speaks the language or phrases are recorded."""
    return speech().can_speak(lang) or bool(recordings.recorded(db(), lang))


def page(site: str) -> str:
    languages: list[dict[str, Any]] = [
        {"code": lang.code, "native": lang.native, "dir": lang.dir, "voice": _has_voice(lang.code)}
        for lang in i18n.LANGUAGES.values()
    ]
    found = catalog.current(db()).require_site(site)
    config = {
        "site": site,
        "timezone": found.timezone,
        "idle_s": _idle_seconds(),
        "languages": languages,
        "strings_url": url_for("kiosk.strings", lang="LANG"),
        "speech_url": url_for("web.speech"),
        "pictograms": url_for("web.static", filename="pictograms/NAME.svg"),
    }
    return render_template("kiosk/kiosk.html", config=config)


def strings(lang: str) -> Response:
    """The `visitors` catalog of one language as {English text: translation}."""
    if lang not in i18n.LANGUAGES:
        abort(404)
    path = i18n.LOCALES_DIR / lang / "LC_MESSAGES" / "visitors.po"
    found: dict[str, str] = {}
    if path.exists():
        with path.open("rb") as po:
            messages = read_po(po, locale=lang, domain="visitors")
        found = {
            m.id: m.string
            for m in messages
            if isinstance(m.id, str)
            and m.id
            and isinstance(m.string, str)
            and m.string
            and not m.fuzzy
        }
    response = jsonify(found)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
