"""Errors, answered once for the whole app: a JSON refusal (the API, and pages' own fetch
calls) or an error page in the staff member's language (the framework's pages are
English)."""

from __future__ import annotations

import logging

from flask import Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import Refused, TooMany, error_body
from ..i18n import N_
from . import i18n_pages

log = logging.getLogger(__name__)

# status -> (title, what the person can do); the `messages` catalog translates them
EXPLAINED = {
    400: (N_("That did not work"), N_("The page sent something the server did not expect.")),
    401: (N_("Please sign in"), N_("Sign in again to go on.")),
    403: (N_("Not for this account"), N_("Your account may not open this page.")),
    404: (N_("Not found"), N_("This page does not exist, or no longer does.")),
    405: (N_("That did not work"), N_("This page cannot be used that way.")),
    409: (N_("That did not work"), N_("This was changed in the meantime. Go back, try again.")),
    413: (
        N_("That is too large"),
        N_("The file or the form sent is larger than the server takes."),
    ),
    422: (N_("That did not work"), N_("The form was not filled in as expected. Try again.")),
    500: (
        N_("Something went wrong"),
        N_("The server failed. Try again; if it happens again, tell the administrator."),
    ),
}


def refusal(exc: Refused) -> tuple[Response, int]:
    """The one JSON answer to a refused request, for the API and the staff pages alike."""
    response = jsonify(exc.body())
    if isinstance(exc, TooMany):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response, exc.status


def http_error(exc: HTTPException) -> tuple[Response, int]:
    """A werkzeug error (404 of an unknown URL, 405, 413...) in the same shape."""
    code = (exc.name or "error").lower().replace(" ", "_")
    response = jsonify(error_body(code, exc.description or exc.name))
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response, exc.code or 500


def wants_json() -> bool:
    """A page's own fetch calls ask for JSON; a browser navigating asks for HTML."""
    return request.accept_mimetypes.best == "application/json"


def page(status: int, detail: str | None = None) -> tuple[str, int]:
    """The error page of `status`, in the staff language; `detail` only if already
    translated (the framework's own descriptions are English)."""
    g.i18n_domain = "messages"
    title, advice = EXPLAINED.get(status, EXPLAINED[400 if status < 500 else 500])
    text = render_template(
        "error.html",
        status=status,
        title=i18n_pages.gettext(title),
        advice=i18n_pages.gettext(advice),
        detail=detail,
    )
    return text, status


def for_pages(exc: Exception) -> tuple[Response | str, int]:
    """Error handler for pages and their fetch calls."""
    if isinstance(exc, Refused):
        return refusal(exc) if wants_json() else page(exc.status)
    if isinstance(exc, HTTPException):
        if wants_json():
            return http_error(exc)
        own = exc.description if exc.description != type(exc).description else None
        return page(exc.code or 500, own)
    log.exception("unexpected error on %s %s", request.method, request.url_rule)
    return page(500)
