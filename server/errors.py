"""Why a request is refused: one family of errors for every layer, one shape for every answer.

The queue, the front desk and the web adapters raise these, always before anything is
written or inside a transaction that then rolls back, so a refusal changes nothing. The
API and the staff pages answer each as `{"error": {"code", "message"}}` with its status.
Codes are plain words a program can test ("counter_busy"); messages are for people.
"""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """A request that cannot be honoured; `status` and `code` become the answer."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


class BadRequest(Refused):
    """The request itself is malformed: not JSON, not the documented shape."""


class Unauthenticated(Refused):
    status = 401
    code = "unauthenticated"


class Forbidden(Refused):
    status = 403
    code = "forbidden"


class NotFound(Refused):
    status = 404
    code = "not_found"


class Conflict(Refused):
    """The request is well formed but the queue is not in a state that allows it."""

    status = 409
    code = "conflict"


class Invalid(Refused):
    """The request is well formed but names something the rules do not accept."""

    status = 422
    code = "invalid"


class Unavailable(Refused):
    """The database cannot take the write now (locked, full, read-only): nothing was
    written, and the same request can be sent again once the fault clears."""

    status = 503
    code = "database_unavailable"


class TooMany(Refused):
    """Too many requests of one kind in a short time: try again after `retry_after` s."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code)
        self.retry_after = max(1, retry_after)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
