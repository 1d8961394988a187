"""The headers every answer carries, and the limits on what a request may send.

The pages load nothing from elsewhere and run no inline script or style, so the
Content-Security-Policy can be strict: a script injected into a page would not run, and
no other site may frame a page (a counter page inside someone else's frame could be made
to click). The status page's URL carries the ticket's token, so no page tells another
site where it came from (`Referrer-Policy: no-referrer`). Answers are not cached unless
they say so themselves (fonts, scripts, translated strings).
"""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: data:",  # spoken calls, recorded phrases, a recording's preview
        "connect-src 'self'",  # the API and Socket.IO, same origin (ws: and wss: included)
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
MAX_BODY_BYTES = 4 * 1024 * 1024  # the largest upload: a reviewed translation, a recording


def _secure(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if "Cache-Control" not in response.headers:  # static files say their own
        response.headers["Cache-Control"] = "no-store"
    return response


def _limit() -> None:
    """Refuse a body over the limit before anything reads it (a form parsed past the
    limit would otherwise just come out empty)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        abort(413)


def init_app(app: Flask) -> None:
    """Headers on every answer; cookies that scripts cannot read and other sites cannot
    send; bodies no larger than MAX_BODY_BYTES (413 otherwise)."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # over HTTPS (as the public address says), the cookie never travels in clear
    public = app.config.get("PUBLIC_URL") or ""
    app.config["SESSION_COOKIE_SECURE"] = public.startswith("https://")
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask defines the key, as None
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.before_request(_limit)  # registered before the CSRF check, which reads the form
    app.after_request(_secure)
