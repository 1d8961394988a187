"""Every refusal is a JSON body {"error": {"code", "message"}} with its status; pages under
the API prefix included, whatever failed (an unknown URL, a wrong method, a crash).
Elsewhere the pages' own handler answers (server/web/errors.py)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import Refused, error_body
from ..web.errors import for_pages, http_error, refusal

log = logging.getLogger(__name__)


def register(app: Flask, prefix: str) -> None:
    """JSON errors for every path under `prefix`, including 404 and 405 of unknown URLs;
    a refusal anywhere else is answered as `for_pages` does."""

    @app.errorhandler(Refused)
    def _refused(exc: Refused):  # type: ignore[no-untyped-def]
        return refusal(exc) if request.path.startswith(prefix) else for_pages(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        if not request.path.startswith(prefix):
            return for_pages(exc)
        log.exception("unexpected error on %s %s", request.method, request.url_rule)
        return jsonify(error_body("internal_error", "the server failed; its log says why")), 500

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if not request.path.startswith(prefix):
            return for_pages(exc)
        return http_error(exc)
