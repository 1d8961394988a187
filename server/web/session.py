"""Staff sign-in for pages: the session cookie holds a bearer token of the queue core.

Using the core's own staff tokens means one expiry, one revocation and one capability
check for pages, the API and the counter's Socket.IO connection alike.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from .. import auth
from ..auth import SESSION_KEY, Can, Principal
from ..extensions import db

API_PREFIX = "/api/"  # the JSON API: bearer tokens, never the cookie


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session for pages, with its signer built once per secret key.

    Flask would build the signer again for every request, and open the cookie of API
    calls too, which authenticate with bearer tokens only: together 3% of the server's
    time when kiosks issue tickets at full speed.
    """

    _signer: tuple[object, URLSafeTimedSerializer | None] = (None, None)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(API_PREFIX):
            return self.make_null_session(app)  # reading works, writing raises
        return super().open_session(app, request)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key, signer = self._signer
        if key != app.secret_key or signer is None:
            signer = super().get_signing_serializer(app)
            self._signer = (app.secret_key, signer)
        return signer


def current_staff() -> Principal | None:
    """The signed-in staff member of this request, or None."""
    if "staff" not in g:
        token = session.get(SESSION_KEY)
        found = auth.authenticate(db(), token, auth.PAGE) if token else None
        g.staff = found if found is not None and found.kind == "staff" else None
    return g.staff


def staff_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send visitors who are not signed in to the sign-in page, then back here; an account
    that must choose its own password goes to that page first."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        staff = current_staff()
        here = request.full_path.rstrip("?")
        if staff is None:
            return redirect(url_for(current_app.config["SIGN_IN_VIEW"], next=here))
        password_view = current_app.config["PASSWORD_VIEW"]
        if staff.must_change_password and request.endpoint != password_view:
            return redirect(url_for(password_view, next=here))
        return view(*args, **kwargs)

    return wrapper


def sites_where(capability: Can) -> list[int]:
    """The ids of the sites where the signed-in staff member holds `capability`."""
    staff = current_staff()
    return [] if staff is None else [s for s in staff.site_ids if staff.can(capability, s)]


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in: no open redirect."""
    if not target:
        return url_for(current_app.config["HOME_VIEW"])
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for(current_app.config["HOME_VIEW"])
    return target
