"""Every refusal is a JSON body {"error": {"code", "message"}} with its status; pages under
the API prefix included, whatever failed (an unknown URL, a wrong method, a crash)."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, default_exceptions

from ..errors import Refused, error_body

log = logging.getLogger(__name__)


def refusal(exc: Refused) -> tuple[Response, int]:
    """The one JSON answer to a refused request, for the API and the staff pages alike."""
    return jsonify(exc.body()), exc.status


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


def for_pages(exc: Exception) -> tuple[Response, int] | HTTPException:
    """Error handler for staff pages: their fetch calls get the JSON error, a page the
    browser opened gets an error page with the same status and message."""
    if isinstance(exc, Refused):
        if wants_json():
            return refusal(exc)
        page = default_exceptions.get(exc.status, default_exceptions[400])
        return page(description=exc.message)
    if isinstance(exc, HTTPException):
        return http_error(exc) if wants_json() else exc
    raise exc


def register(app: Flask, prefix: str) -> None:
    """JSON errors for every path under `prefix`, including 404 and 405 of unknown URLs;
    a refusal anywhere else is answered as `for_pages` does."""

    @app.errorhandler(Refused)
    def _refused(exc: Refused):  # type: ignore[no-untyped-def]
        return refusal(exc) if request.path.startswith(prefix) else for_pages(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        if not request.path.startswith(prefix):
            raise exc
        log.exception("unexpected error on %s %s", request.method, request.url_rule)
        return jsonify(error_body("internal_error", "the server failed; its log says why")), 500

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if not request.path.startswith(prefix):
            return exc
        return http_error(exc)
