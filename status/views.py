"""The status page: a ticket's number, state, place in the queue and counter, live.

No sign-in: the public token in the URL is the secret. The page shows nothing else about
the visit: not the reason, not the service (a service can hint at the reason). The link
works on the ticket's own day only; afterwards, and once a ticket is anonymised, it gets
the page of a ticket that never was, in the phone's language, so that nothing tells an old
link from a mistyped one.
"""

from __future__ import annotations

from typing import Any

from flask import g, render_template, request

from server import i18n
from server.errors import NotFound
from server.extensions import desk

POLL_DEFAULT_S = 15
POLL_RANGE_S = (2, 60)
SHOWN = ("number", "status", "people_ahead", "estimated_wait_s", "counter", "called_at")


def _poll_seconds() -> int:
    """How often the page asks when the socket is down; `?poll=` lets tests be quick."""
    low, high = POLL_RANGE_S
    return max(low, min(high, request.args.get("poll", POLL_DEFAULT_S, type=int)))


def _browser_language() -> str:
    found = request.accept_languages.best_match([code.replace("_", "-") for code in i18n.LANGUAGES])
    return found.replace("-", "_") if found else i18n.DEFAULT


def page(token: str) -> str | tuple[str, int]:
    try:
        status = desk().ticket_status(token)
    except NotFound:
        g.lang = _browser_language()
        return render_template("status/not_found.html"), 404
    g.lang = status["lang"] if status["lang"] in i18n.LANGUAGES else i18n.DEFAULT
    shown: dict[str, Any] = {key: status[key] for key in SHOWN}
    config = {"token": token, "poll_s": _poll_seconds(), "status": shown}
    return render_template("status/status.html", config=config, status=shown)
