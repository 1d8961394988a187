"""`GET /speech?lang=xx&text=...[&key=k1|k2]`: an announcement or a kiosk screen read aloud,
as WAV: by the speech engine, or, for a language it has no voice for, by joining the
recorded phrases the keys name (server/recordings.py).

Only devices and staff may ask (a bearer token in the Authorization header, or a staff
session), so the server's speech engine is not a public service. Pages fetch the audio
with their token and hand it to an <audio> element.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from .. import auth, extensions, recordings
from ..errors import error_body
from ..speech import MAX_TEXT, Speech, SpeechError
from .session import current_staff


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error_body(code, message)), status


def speech() -> Response | tuple[Response, int]:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    principal = (
        auth.authenticate(extensions.db(), token.strip())
        if scheme.lower() == "bearer" and token.strip()
        else current_staff()
    )
    if principal is None:
        return _error(401, "unauthenticated", "a device or staff token is needed")
    lang = request.args.get("lang", "")
    text = request.args.get("text", "")
    if not text.strip() or len(text) > MAX_TEXT:
        return _error(400, "bad_text", f"text must be 1 to {MAX_TEXT} characters")
    engine: Speech = extensions.speech()
    if not engine.can_speak(lang):
        # a language the engine has no voice for: the phrases an interpreter recorded
        keys = [k for k in request.args.get("key", "").split("|") if k]
        audio = recordings.assemble(extensions.db(), lang, keys)
        if audio is None:
            return _error(404, "no_voice", f"no voice and no recording for '{lang}'")
        response = Response(audio, mimetype="audio/wav")
        response.headers["Cache-Control"] = "no-store"  # a phrase may be recorded again
        return response
    try:
        audio = engine.wav(text, lang)
    except SpeechError as exc:
        current_app.logger.warning("speech failed for %s: %s", lang, exc)
        return _error(503, "speech_failed", "the speech engine failed")
    response = Response(audio, mimetype="audio/wav")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
