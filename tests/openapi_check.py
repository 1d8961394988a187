"""Check a real API response against the OpenAPI document the server publishes."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from server.api.openapi import DOCUMENT

_REGISTRY = Registry().with_resource("doc", Resource.opaque(DOCUMENT))
_PATHS = [
    (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template)
    for template in DOCUMENT["paths"]
]
PREFIX = "/api/v1"


def operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The documented (template, operation) for a concrete request path, if any."""
    local = path[len(PREFIX) :] if path.startswith(PREFIX) else path
    # literal paths win over templated ones (/tickets/status/x before /tickets/{id}/{action})
    matches = [t for rx, t in _PATHS if rx.match(local)]
    matches.sort(key=lambda t: t.count("{"))
    for template in matches:
        op = DOCUMENT["paths"][template].get(method.lower())
        if op:
            return template, op
    return None


def check(method: str, path: str, status: int, body: Any, content_type: str | None) -> None:
    """Raise AssertionError unless the response is one the document describes."""
    found = operation(method, path)
    if found is None:
        # undocumented URLs must still answer with the JSON error shape
        assert status >= 400, f"{method} {path} answered {status} but is not documented"
        schema: dict[str, Any] = {"$ref": "doc#/components/schemas/Error"}
    else:
        template, op = found
        response = op["responses"].get(str(status))
        assert response, f"{method} {template}: status {status} is not documented"
        content = response.get("content")
        if content is None:
            assert not body, f"{method} {template} {status} should have no body"
            return
        media = (content_type or "").split(";")[0].strip()
        assert media in content, f"{method} {template} {status}: {media} is not documented"
        if media != "application/json":
            return  # a download (CSV, XLSX): its media type is all the document says
        pointer = "/".join(
            part.replace("~", "~0").replace("/", "~1")
            for part in (
                "paths",
                template,
                method.lower(),
                "responses",
                str(status),
                "content",
                "application/json",
                "schema",
            )
        )
        schema = {"$ref": f"doc#/{pointer}"}
    errors = list(Draft202012Validator(schema, registry=_REGISTRY).iter_errors(body))
    assert not errors, f"{method} {path} {status}: " + "; ".join(e.message for e in errors)
