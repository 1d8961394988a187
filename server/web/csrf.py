"""CSRF protection for pages: a random token per session, required on every form post.

The JSON API is exempt: it authenticates with bearer tokens, which a browser never sends
on its own. So is any request that carries an `Authorization: Bearer ...` header (see
_bearer). Socket.IO connections are checked by their own auth, not here.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

from ..i18n import N_
from . import i18n_pages
from .session import API_PREFIX

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
EXEMPT_PREFIXES = (API_PREFIX, "/socket.io/")
EXPIRED = N_("The form has expired. Go back, reload the page and try again.")


def token() -> str:
    """This session's token, made on first use; templates put it in every form."""
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def _bearer() -> bool:
    """Whether the request carries a bearer token, as the kiosk and the display do when
    they POST to /speech with no session. A forged request cannot carry one: a browser
    attaches cookies and remembered Basic credentials on its own, never a bearer token; a
    cross-site form cannot set a header; and a cross-site fetch that sets one is held back
    by the CORS preflight, which this server never grants. So the header itself shows the
    request was made by a page of this origin, or by a program that is not a browser."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def _check() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.path.startswith(EXEMPT_PREFIXES) or _bearer():
        return
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    expected = session.get(FIELD, "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description=i18n_pages.gettext(EXPIRED))


def init_app(app: Flask) -> None:
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = token
