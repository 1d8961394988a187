"""`POST /speech` with the JSON body `{"lang": "xx", "text": "...", "key": "k1|k2"}` (key
optional): an announcement or a kiosk screen read aloud, as WAV: by the speech engine, or,
for a language it has no voice for, by joining the recorded phrases the keys name
(server/recordings.py).

The text travels in the body, never in the URL: on the kiosk's protection screen it is the
labels of sensitive visit reasons, and a URL is written to access logs, proxies' logs and
the browser's history. For the same reason no answer is kept in the browser's cache (the
server keeps the engine's audio in its own).

Only devices and staff may ask (a bearer token in the Authorization header, or a staff
session), so the server's speech engine is not a public service. Pages fetch the audio
with their token and hand it to an <audio> element.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request

from .. import auth, extensions, recordings
from ..errors import error_body
from ..speech import MAX_TEXT, Speech, SpeechError
from .session import current_staff

FIELDS = ("lang", "text", "key")


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error_body(code, message)), status


def _body() -> dict[str, Any] | None:
    """The JSON object sent, or None for anything else (not JSON, not an object, nested
    deeper than the parser goes)."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        return None
    return data if isinstance(data, dict) else None


def speech() -> Response | tuple[Response, int]:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    principal = (
        auth.authenticate(extensions.db(), token.strip())
        if scheme.lower() == "bearer" and token.strip()
        else current_staff()
    )
    if principal is None:
        return _error(401, "unauthenticated", "a device or staff token is needed")
    body = _body()
    if body is None:
        return _error(400, "bad_json", 'the body must be a JSON object {"lang", "text", "key"}')
    if any(not isinstance(body.get(name, ""), str) for name in FIELDS):
        return _error(400, "bad_json", "lang, text and key must be strings")
    lang, text = body.get("lang", ""), body.get("text", "")
    if not text.strip() or len(text) > MAX_TEXT:
        return _error(400, "bad_text", f"text must be 1 to {MAX_TEXT} characters")
    engine: Speech = extensions.speech()
    if not engine.can_speak(lang):
        # a language the engine has no voice for: the phrases an interpreter recorded
        keys = [k for k in body.get("key", "").split("|") if k]
        audio = recordings.assemble(extensions.db(), lang, keys)
        if audio is None:
            return _error(404, "no_voice", f"no voice and no recording for '{lang}'")
        return Response(audio, mimetype="audio/wav")
    try:
        audio = engine.wav(text, lang)
    except SpeechError as exc:
        current_app.logger.warning("speech failed for %s: %s", lang, exc)
        return _error(503, "speech_failed", "the speech engine failed")
    return Response(audio, mimetype="audio/wav")
