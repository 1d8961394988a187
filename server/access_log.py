"""The access log of `seira serve --access-log`, without the secrets a URL can carry.

A request line is written as it came, and some of our URLs hold a secret: a visitor's
status link (`/s/<secret>`) and its API (`/api/v1/tickets/status/<secret>`), which would
let anyone who reads the log follow that visitor's ticket. A query string can hold what
was looked for (a report's centre and dates, a phrase's key). So the path keeps its
shape with each secret as `*`, the query keeps its names without their values, and the
referrer, the login name and the request and response headers (cookies, tokens) are not
logged at all. The common log format stays as it was, so the usual tools read it.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

# a path segment that is a secret: the one after these prefixes
SECRET_AFTER = re.compile(r"^(/s|/api/v1/tickets/status)/[^/]+")


def private_path(path: str) -> str:
    """'/s/Ab12Cd' -> '/s/*'; every other path as it is."""
    return SECRET_AFTER.sub(r"\1/*", path)


def private_query(query: str) -> str:
    """'from=2026-01-01&to=2026-01-31' -> 'from=*&to=*': which parameters, not what."""
    return "&".join(f"{part.split('=', 1)[0]}=*" for part in query.split("&") if part)


def private_target(raw_uri: str) -> str:
    """A request target (path and query, as sent) with its secrets taken out."""
    path, _, query = raw_uri.partition("?")
    return private_path(path) + (f"?{private_query(query)}" if query else "")


class PrivateLogger(Logger):
    """gunicorn's logger, writing private_target() where a URL would be."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        method, protocol = environ["REQUEST_METHOD"], environ["SERVER_PROTOCOL"]
        target = private_target(environ.get("RAW_URI", ""))
        query = environ.get("QUERY_STRING", "")
        private = {
            "r": f"{method} {target} {protocol}",
            "U": private_path(environ.get("PATH_INFO", "")),
            "q": private_query(query),
            "f": "-",
            "u": "-",
        }
        # headers and environment (cookies, the bearer token) only by name: never logged
        kept = {k: v for k, v in atoms.items() if not k.startswith("{")}
        return {**kept, **private}
