"""The OpenAPI 3.1 description of /api/v1, and request validation against it.

One document serves three readers: third parties (served at /api/v1/openapi.json), the
handlers (request bodies are checked against its schemas, so the contract and the checks
cannot drift apart) and the tests (every real response is validated against it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from functools import cache
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, ValidationError, validators

from ..analytics.params import FORMATS
from ..analytics.schema import KINDS, SPECS
from ..queue.rules import EXTERNAL_AGENCIES, MediatorState, Outcome, Priority, Status

_REF = "#/components/schemas/"
LANG_PATTERN = r"^[a-z]{2,3}(_[A-Z]{2})?$"


def _codes(codes: type[StrEnum]) -> list[str]:
    """An enum's codes as plain strings: the document is JSON, and error messages quote it."""
    return [member.value for member in codes]


def ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_TIME = {"type": "string", "format": "date-time"}
_SLUG = {"type": "string", "pattern": r"^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 64}
_MONTH = r"^([1-9]\d{3}|0[1-9]\d\d|00[1-9]\d|000[1-9])-(0[1-9]|1[0-2])$"  # 0001-01 to 9999-12
_GROUP = {"type": "string", "pattern": r"^[a-z0-9]+(_[a-z0-9]+)*$", "maxLength": 64}
_WITHOUT_MEDIATOR = {
    "type": "boolean",
    "default": False,
    "description": "served without a mediator or interpreter, though one was needed "
    "(counted in the unmet-demand report)",
}

SCHEMAS: dict[str, Any] = {
    "Opening": {
        "type": "object",
        "required": ["open", "closes_at", "opens_at"],
        "properties": {
            "open": {"type": "boolean"},
            "closes_at": {"oneOf": [_TIME, {"type": "null"}]},
            "opens_at": {"oneOf": [_TIME, {"type": "null"}]},
        },
        "additionalProperties": False,
    },
    "PairingRequest": {
        "type": "object",
        "required": ["kind", "site", "secret"],
        "properties": {
            "kind": {"enum": ["kiosk", "display"]},
            "site": _SLUG,
            "secret": {"type": "string", "minLength": 32, "maxLength": 128},
        },
        "additionalProperties": False,
    },
    "PairingState": {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"enum": ["pending", "approved"]},
            "code": {"type": "string"},
            "expires_at": _TIME,
            "device": {
                "type": "object",
                "required": ["kind", "site", "name"],
                "properties": {
                    "kind": {"enum": ["kiosk", "display"]},
                    "site": {"type": "string"},
                    "name": {"type": "string"},
                },
            },
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                "additionalProperties": False,
            }
        },
        "additionalProperties": False,
    },
    "Health": {
        "type": "object",
        "required": ["status", "database", "schema"],
        "properties": {
            "status": {"enum": ["ok", "degraded"]},
            # "not_writable": reads work, writes are refused (locked, full, read-only);
            # "unavailable": not even reads
            "database": {"enum": ["ok", "not_writable", "unavailable"]},
            "fault": {"type": "string", "description": "why, as the 503 errors' codes say"},
            "schema": {"type": "string"},
        },
    },
    "SignIn": {
        "type": "object",
        "required": ["username", "password"],
        "properties": {
            "username": {"type": "string", "minLength": 1, "maxLength": 64},
            "password": {"type": "string", "minLength": 1, "maxLength": 256},
        },
        "additionalProperties": False,
    },
    "Token": {
        "type": "object",
        "required": ["token", "token_type", "expires_at", "user"],
        "properties": {
            "token": {"type": "string"},
            "token_type": {"const": "Bearer"},
            "expires_at": _TIME,
            "user": {
                "type": "object",
                "required": ["username", "sites"],
                "properties": {
                    "username": {"type": "string"},
                    "sites": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
    "Site": {
        "type": "object",
        "required": ["slug", "name", "address", "timezone", "hours"],
        "properties": {
            "slug": _SLUG,
            "name": {"type": "string"},
            "address": {"type": "string"},
            "timezone": {"type": "string"},
            "hours": {
                "type": "object",
                "additionalProperties": {"type": "string", "pattern": r"^\d\d:\d\d-\d\d:\d\d$"},
            },
        },
    },
    "Reason": {
        "type": "object",
        "required": ["code", "parent", "pictogram", "sensitive", "label"],
        "properties": {
            "code": {"type": "string"},
            "parent": _nullable({"type": "string"}),
            "pictogram": {"type": "string"},
            "sensitive": {"type": "boolean"},
            "label": {"type": "string"},
        },
    },
    "Service": {
        "type": "object",
        "required": ["slug", "prefix", "label", "reasons"],
        "properties": {
            "slug": _SLUG,
            "prefix": {"type": "string", "pattern": "^[A-Z]$"},
            "label": {"type": "string"},
            "reasons": {"type": "array", "items": ref("Reason")},
        },
    },
    "Counter": {
        "type": "object",
        "required": ["slug", "label", "services"],
        "properties": {
            "slug": _SLUG,
            "label": {"type": "string"},
            "services": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["service", "weight"],
                    "properties": {
                        "service": _SLUG,
                        "weight": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
    },
    "Queue": {
        "type": "object",
        "required": ["services", "counters"],
        "properties": {
            "services": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["service", "label", "waiting", "oldest_wait_s", "private"],
                    "properties": {
                        "service": _SLUG,
                        "label": {"type": "string"},
                        "waiting": {"type": "integer", "minimum": 0},
                        "oldest_wait_s": {"type": "integer", "minimum": 0},
                        "private": {
                            "type": "boolean",
                            "description": "called only at private counters; not listed "
                            "to displays",
                        },
                    },
                },
            },
            "counters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["counter", "label", "ticket"],
                    "properties": {
                        "counter": _SLUG,
                        "label": {"type": "string"},
                        "ticket": _nullable(
                            {
                                "type": "object",
                                "required": ["number", "service", "status", "since"],
                                "properties": {
                                    "number": {"type": "string"},
                                    "service": _SLUG,
                                    "status": {"enum": [Status.CALLED.value, Status.SERVING.value]},
                                    "since": _TIME,
                                },
                                "additionalProperties": False,
                            }
                        ),
                    },
                },
            },
        },
    },
    "IssueRequest": {
        "type": "object",
        "required": ["service", "reason", "lang"],
        "properties": {
            "service": _SLUG,
            "reason": {"type": "string", "minLength": 1, "maxLength": 64},
            "lang": {"type": "string", "pattern": LANG_PATTERN},
            "priority": {"enum": _codes(Priority), "default": Priority.NONE.value},
            "quiet": {
                "type": "boolean",
                "default": False,
                "description": "never call the number aloud (a private service's always is)",
            },
        },
        "additionalProperties": False,
    },
    "IssuedTicket": {
        "type": "object",
        "required": [
            "id",
            "number",
            "service",
            "lang",
            "priority",
            "status",
            "position",
            "people_ahead",
            "estimated_wait_s",
            "status_url",
            "quiet",
        ],
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string", "pattern": r"^[A-Z]\d{3,}$"},
            "service": _SLUG,
            "lang": {"type": "string"},
            "priority": {"enum": _codes(Priority)},
            "status": {"const": Status.WAITING.value},
            "position": {"type": "integer", "minimum": 1},
            "people_ahead": {"type": "integer", "minimum": 0},
            "estimated_wait_s": {"type": "integer", "minimum": 0},
            "status_url": {"type": "string", "format": "uri"},
            "quiet": {"type": "boolean", "description": "shown on the displays, never spoken"},
        },
        "additionalProperties": False,
    },
    "StaffTicket": {
        "description": "A ticket as counter staff see it, reason code included when the "
        "caller may know it.",
        "type": "object",
        "required": [
            "id",
            "number",
            "service",
            "reason",
            "lang",
            "priority",
            "status",
            "counter",
            "issued_at",
            "called_at",
            "started_at",
            "ended_at",
            "people_ahead",
            "estimated_wait_s",
        ],
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "service": _SLUG,
            "reason": {
                **_nullable({"type": "string"}),
                "description": "null when the caller may not know it: a sensitive reason is "
                "shown only to the counter serving the ticket, supervisors and trained staff",
            },
            "lang": {"type": "string"},
            "priority": {"enum": _codes(Priority)},
            "status": {"enum": _codes(Status)},
            "counter": _nullable(_SLUG),
            "issued_at": _TIME,
            "called_at": _nullable(_TIME),
            "started_at": _nullable(_TIME),
            "ended_at": _nullable(_TIME),
            "people_ahead": _nullable({"type": "integer", "minimum": 0}),
            "estimated_wait_s": _nullable({"type": "integer", "minimum": 0}),
        },
        "additionalProperties": False,
    },
    "TicketStatus": {
        "description": "What a visitor's phone may know of a ticket; never the reason.",
        "type": "object",
        "required": [
            "number",
            "status",
            "lang",
            "site",
            "service",
            "people_ahead",
            "estimated_wait_s",
            "counter",
            "issued_at",
            "called_at",
        ],
        "properties": {
            "number": {"type": "string"},
            "status": {"enum": _codes(Status)},
            "lang": {"type": "string"},
            "site": {"type": "string"},
            "service": {"type": "string"},
            "people_ahead": _nullable({"type": "integer", "minimum": 0}),
            "estimated_wait_s": _nullable({"type": "integer", "minimum": 0}),
            "counter": _nullable({"type": "string"}),
            "issued_at": _TIME,
            "called_at": _nullable(_TIME),
        },
        "additionalProperties": False,
    },
    "FinishRequest": {
        "description": "An outcome, and a referral with the referred outcomes only: an "
        "external one names an agency, an internal one a reason group of the centre. An "
        "empty referral is no referral.",
        "discriminator": {"propertyName": "outcome"},
        "oneOf": [
            {
                "type": "object",
                "required": ["outcome"],
                "properties": {
                    "outcome": {"enum": [Outcome.SERVED.value, Outcome.APPOINTMENT.value]},
                    "referral": {"const": ""},
                    "without_mediator": _WITHOUT_MEDIATOR,
                },
                "additionalProperties": False,
            },
            {
                "type": "object",
                "required": ["outcome", "referral"],
                "properties": {
                    "outcome": {"const": Outcome.REFERRED_EXTERNAL.value},
                    "referral": {"enum": list(EXTERNAL_AGENCIES)},
                    "without_mediator": _WITHOUT_MEDIATOR,
                },
                "additionalProperties": False,
            },
            {
                "type": "object",
                "required": ["outcome", "referral"],
                "properties": {
                    "outcome": {"const": Outcome.REFERRED_INTERNAL.value},
                    "referral": {**_GROUP, "description": "A reason group code of the centre"},
                    "without_mediator": _WITHOUT_MEDIATOR,
                },
                "additionalProperties": False,
            },
        ],
    },
    "TransferRequest": {
        "type": "object",
        "required": ["service"],
        "properties": {"service": _SLUG},
        "additionalProperties": False,
    },
    "CancelRequest": {
        "type": "object",
        "properties": {"why": {"enum": ["left", "mistake"], "default": "left"}},
        "additionalProperties": False,
    },
    "EmptyRequest": {"type": "object", "maxProperties": 0},
    "Mediator": {
        "type": "object",
        "description": "A mediator or interpreter of the site today; `ticket` is the visit "
        "they are joined to, at `counter`",
        "required": ["user", "languages", "state", "since", "ticket", "counter"],
        "properties": {
            "user": {"type": "string"},
            "languages": {"type": "array", "items": {"type": "string"}},
            "state": {"enum": _codes(MediatorState)},
            "since": _TIME,
            "ticket": _nullable({"type": "string"}),
            "ticket_lang": _nullable({"type": "string"}),
            "counter": _nullable(_SLUG),
            "counter_label": _nullable({"type": "string"}),
        },
        "additionalProperties": False,
    },
    "MediatorRequest": {
        "type": "object",
        "description": "A counter asks for a mediator for the visitor in front of it",
        "required": ["id", "number", "lang", "asked_at", "waited_s", "counter"],
        "properties": {
            "id": {"type": "integer", "description": "the ticket's id"},
            "number": {"type": "string"},
            "lang": {"type": "string"},
            "asked_at": _TIME,
            "waited_s": {"type": "integer", "minimum": 0},
            "counter": _nullable(_SLUG),
            "counter_label": _nullable({"type": "string"}),
        },
        "additionalProperties": False,
    },
    "MediatorBoard": {
        "type": "object",
        "required": ["mediators", "requests", "languages", "at"],
        "properties": {
            "mediators": {"type": "array", "items": ref("Mediator")},
            "requests": {"type": "array", "items": ref("MediatorRequest")},
            "languages": {
                "type": "array",
                "description": "How many wait today per visitor language, most first",
                "items": {
                    "type": "object",
                    "required": ["lang", "waiting", "oldest_wait_s"],
                    "properties": {
                        "lang": {"type": "string"},
                        "waiting": {"type": "integer", "minimum": 0},
                        "oldest_wait_s": {"type": "integer", "minimum": 0},
                    },
                    "additionalProperties": False,
                },
            },
            "at": _TIME,
        },
        "additionalProperties": False,
    },
    "MediatorStateRequest": {
        "type": "object",
        "required": ["state"],
        "properties": {"state": {"enum": _codes(MediatorState)}},
        "additionalProperties": False,
    },
    "Alarm": {
        "type": "object",
        "description": "A silent alarm raised at a counter; open until acknowledged",
        "required": ["id", "counter", "raised_at", "acknowledged_at"],
        "properties": {
            "id": {"type": "integer"},
            "counter": _SLUG,
            "counter_label": {"type": "string"},
            "raised_at": _TIME,
            "raised_by": _nullable({"type": "string"}),
            "acknowledged_at": _nullable(_TIME),
            "acknowledged_by": _nullable({"type": "string"}),
        },
        "additionalProperties": False,
    },
}

# Reports: one schema per kind, made from the table specifications the reports are built
# from. A count is an integer, or "x" when hidden (a small count, or one hidden with it so
# that it cannot be worked out: server/analytics/privacy.py).
_CELL = {
    "text": {"type": ["string", "null"]},
    "date": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
    "count": {"anyOf": [{"type": "integer", "minimum": 0}, {"const": "x"}]},
    "number": {"type": ["number", "null"]},
    "seconds": {"type": ["number", "null"], "minimum": 0},
    "rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
}
SCHEMAS["Report"] = {
    "type": "object",
    "required": ["kind", "sites", "from", "to", "timezone", "small_count_threshold", "tables"],
    "properties": {
        "kind": {"enum": list(KINDS)},
        "sites": {"type": "array", "items": _SLUG},
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "timezone": {"type": "string"},
        "small_count_threshold": {"type": "integer", "minimum": 1},
        "parameters": {"type": "object"},
        "tables": {"type": "array"},
    },
}
for _kind, _tables in SPECS.items():
    SCHEMAS[f"Report_{_kind}"] = {
        "allOf": [ref("Report")],
        "properties": {
            "kind": {"const": _kind},
            "tables": {
                "minItems": len(_tables),
                "maxItems": len(_tables),
                "prefixItems": [
                    {
                        "type": "object",
                        "required": ["name", "title", "columns", "rows"],
                        "properties": {
                            "name": {"const": name},
                            "title": {"type": "string"},
                            # figures by reason: one centre and one whole month, or no rows
                            "withheld": {"type": "boolean"},
                            "note": {"type": ["string", "null"]},
                            "columns": {"type": "array", "minItems": len(cols)},
                            "rows": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": [c.key for c in cols],
                                    "properties": {c.key: _CELL[c.type] for c in cols},
                                    "additionalProperties": False,
                                },
                            },
                        },
                    }
                    for name, _title, cols in _tables
                ],
            },
        },
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(description: str, schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return {status: {"description": description, **_json(schema)}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Malformed request",
        401: "Missing or unknown bearer token",
        403: "Not allowed for this caller",
        404: "No such site, service, counter or ticket",
        409: "Not allowed in the ticket's or counter's current state",
        422: "Well-formed but refers to something invalid",
        413: "The request body is larger than the server takes (4 MiB)",
        429: "Too many requests lately; try again later (Retry-After says when, if known)",
        500: "Unexpected failure of the server",
        503: "The database cannot take the write now (locked, full, read-only); retry later",
    }
    every = (*statuses, 413, 500, 503)  # any request may be too large, or meet a failure
    return {
        **{str(s): {"description": text[s], **_json(ref("Error"))} for s in every},
        # answered by the web server before the application reads the request
        "414": {
            "description": "The URL is longer than the server reads (4094 bytes with the "
            "method); the web server's own page",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
    }


_SITE = {"name": "site", "in": "path", "required": True, "schema": _SLUG}
MAX_ID = 2**63 - 1  # the largest id a database row can have
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
_LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "pattern": LANG_PATTERN, "default": "en"},
}
_BEARER = [{"bearer": []}]


def _op(op_id: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"operationId": op_id, "summary": summary, "responses": responses, **extra}


def _action(op_id: str, summary: str, body: str | None) -> dict[str, Any]:
    extra: dict[str, Any] = {"security": _BEARER}
    if body:
        extra["requestBody"] = {
            "required": op_id in ("finishTicket", "transferTicket"),
            **_json(ref(body)),
        }
    return {
        "post": _op(
            op_id,
            summary,
            {
                **_ok("The ticket after the action", ref("StaffTicket")),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            parameters=[_ID],
            **extra,
        )
    }


ACTION_OPERATIONS = {
    "recall": ("recallTicket", "Call the ticket again at the same counter", None),
    "start": ("startTicket", "The visitor arrived at the counter: service starts", None),
    "finish": (
        "finishTicket",
        "End the visit with an outcome and optional referral",
        "FinishRequest",
    ),
    "no-show": ("noShowTicket", "The visitor did not come when called", None),
    "return": ("returnTicket", "Put the ticket back in its queue (at the back)", None),
    "transfer": (
        "transferTicket",
        "Move the ticket to another service, keeping its place",
        "TransferRequest",
    ),
    "cancel": (
        "cancelTicket",
        "The visitor left before being served, or a mistake",
        "CancelRequest",
    ),
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Seira queue API",
        "version": "1.0.0",
        "description": "Tickets, counters and queues of municipal Community Centres. "
        "Errors are JSON objects {error: {code, message}} with a 4xx status. Times are UTC, "
        "ISO 8601. Staff obtain a bearer token from /auth/token; kiosks and displays use "
        "the device token printed by `seira device add`.",
        "license": {"name": "AGPL-3.0-or-later"},
    },
    "servers": [{"url": "/api/v1"}],
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
    "paths": {
        "/health": {
            "get": _op(
                "health",
                "Liveness and database check (a real write, at most every 2 s)",
                {
                    **_ok("Healthy", ref("Health")),
                    **_ok("The database takes no writes, or no reads", ref("Health"), "503"),
                },
            )
        },
        "/openapi.json": {
            "get": _op("openapi", "This document", _ok("The OpenAPI document", {"type": "object"}))
        },
        "/auth/token": {
            "post": _op(
                "signIn",
                "Exchange a staff username and password for a bearer token",
                {**_ok("Signed in", ref("Token")), **_errors(400, 401, 403, 429)},
                requestBody={"required": True, **_json(ref("SignIn"))},
            )
        },
        "/pairings": {
            "post": _op(
                "requestPairing",
                "A kiosk or display without a token asks to be paired, with a secret it made "
                "itself; asking again with the same secret says how it stands. Once an admin "
                "approves the code shown, the secret is the device's bearer token.",
                {
                    **_ok("Waiting, with the code to show, or paired", ref("PairingState")),
                    **_errors(400, 404, 409, 429),
                },
                requestBody={"required": True, **_json(ref("PairingRequest"))},
            )
        },
        "/sites": {
            "get": _op(
                "listSites",
                "The centres served by this server (public information)",
                {**_ok("Sites", {"type": "array", "items": ref("Site")}), **_errors(400)},
                parameters=[_LANG],
            )
        },
        "/sites/{site}/services": {
            "get": _op(
                "listServices",
                "Services of a site with the visit reasons each covers, labelled in `lang`",
                {
                    **_ok("Services", {"type": "array", "items": ref("Service")}),
                    **_errors(400, 401, 403, 404),
                },
                parameters=[_SITE, _LANG],
                security=_BEARER,
            )
        },
        "/sites/{site}/opening": {
            "get": _op(
                "siteOpening",
                "Whether the site is open now (kiosks issue only then), when it closes today "
                "and when it opens next",
                {**_ok("Opening", ref("Opening")), **_errors(400, 401, 403, 404)},
                parameters=[_SITE],
                security=_BEARER,
            )
        },
        "/sites/{site}/counters": {
            "get": _op(
                "listCounters",
                "Counters of a site with the services each serves",
                {
                    **_ok("Counters", {"type": "array", "items": ref("Counter")}),
                    **_errors(400, 401, 403, 404),
                },
                parameters=[_SITE, _LANG],
                security=_BEARER,
            )
        },
        "/sites/{site}/queue": {
            "get": _op(
                "siteQueue",
                "Waiting per service and who is being served at each counter",
                {**_ok("The queue now", ref("Queue")), **_errors(400, 401, 403, 404)},
                parameters=[_SITE, _LANG],
                security=_BEARER,
            )
        },
        "/sites/{site}/tickets": {
            "post": _op(
                "issueTicket",
                "Take a ticket (kiosk device token or staff); a kiosk is refused with 409 "
                "`closed` outside the site's opening hours, and with 429 `too_many_tickets` after "
                "8 tickets in a minute",
                {
                    **_ok("The new ticket", ref("IssuedTicket"), "201"),
                    **_errors(400, 401, 403, 404, 409, 422, 429),
                },
                parameters=[_SITE],
                requestBody={"required": True, **_json(ref("IssueRequest"))},
                security=_BEARER,
            )
        },
        "/sites/{site}/counters/{counter}/call-next": {
            "post": _op(
                "callNext",
                "Call the next visitor to this counter",
                {
                    **_ok("The called ticket", ref("StaffTicket")),
                    "204": {"description": "Nobody is waiting for this counter's services"},
                    **_errors(400, 401, 403, 404, 409),
                },
                parameters=[
                    _SITE,
                    {"name": "counter", "in": "path", "required": True, "schema": _SLUG},
                ],
                security=_BEARER,
            )
        },
        "/sites/{site}/mediators": {
            "get": _op(
                "listMediators",
                "The site's mediators and interpreters today (free, busy or away, and the "
                "visit each is joined to), the counters' requests for one, and the waiting "
                "per language: for counter staff and mediators",
                {**_ok("The mediators now", ref("MediatorBoard")), **_errors(400, 401, 403, 404)},
                parameters=[_SITE, _LANG],
                security=_BEARER,
            )
        },
        "/sites/{site}/mediators/me": {
            "put": _op(
                "setMediatorState",
                "A mediator says they are free to interpret (counters then call visitors "
                "in their languages and join them to the call), busy, or away; saying so "
                "leaves any visit they were joined to",
                {**_ok("The mediators now", ref("MediatorBoard")), **_errors(400, 401, 403, 404)},
                parameters=[_SITE, _LANG],
                requestBody={"required": True, **_json(ref("MediatorStateRequest"))},
                security=_BEARER,
            )
        },
        "/sites/{site}/mediator-requests/{id}/accept": {
            "post": _op(
                "acceptMediatorRequest",
                "A mediator takes a counter's request (`id`: the ticket's) and is joined to "
                "the visit; 409 `no_request` if another took it or the visit ended, "
                "`mediator_joined` while they are joined to another visit",
                {
                    **_ok("The mediators now", ref("MediatorBoard")),
                    **_errors(400, 401, 403, 404, 409),
                },
                parameters=[_SITE, _ID, _LANG],
                security=_BEARER,
            )
        },
        "/tickets/{id}/mediator-request": {
            "post": _op(
                "askForMediator",
                "The counter serving the ticket asks for a mediator (asking again is asking "
                "once); 409 `mediator_joined` while one is joined, `not_at_counter`",
                {
                    **_ok("The mediators now, the request among them", ref("MediatorBoard")),
                    **_errors(400, 401, 403, 404, 409),
                },
                parameters=[_ID, _LANG],
                security=_BEARER,
            )
        },
        "/sites/{site}/counters/{counter}/alarm": {
            "post": _op(
                "raiseAlarm",
                "Raise the silent alarm at this counter: the site's supervisors and other "
                "counters are told at once (Socket.IO /counter `alarm`); nothing public is",
                {**_ok("The alarm", ref("Alarm"), "201"), **_errors(400, 401, 403, 404)},
                parameters=[
                    _SITE,
                    {"name": "counter", "in": "path", "required": True, "schema": _SLUG},
                ],
                security=_BEARER,
            )
        },
        "/sites/{site}/alarms": {
            "get": _op(
                "listAlarms",
                "The site's silent alarms of today, newest first, open or acknowledged",
                {
                    **_ok("Alarms", {"type": "array", "items": ref("Alarm")}),
                    **_errors(400, 401, 403, 404),
                },
                parameters=[_SITE, _LANG],
                security=_BEARER,
            )
        },
        "/sites/{site}/alarms/{id}/acknowledge": {
            "post": _op(
                "acknowledgeAlarm",
                "A supervisor has seen to the alarm; 409 `acknowledged` if another was quicker",
                {**_ok("The alarm", ref("Alarm")), **_errors(400, 401, 403, 404, 409)},
                parameters=[_SITE, _ID, _LANG],
                security=_BEARER,
            )
        },
        "/tickets/{id}": {
            "get": _op(
                "getTicket",
                "One ticket, as staff see it",
                {**_ok("The ticket", ref("StaffTicket")), **_errors(400, 401, 403, 404)},
                parameters=[_ID],
                security=_BEARER,
            )
        },
        **{
            f"/tickets/{{id}}/{action}": _action(op_id, summary, body)
            for action, (op_id, summary, body) in ACTION_OPERATIONS.items()
        },
        "/tickets/{id}/print": {
            "get": _op(
                "getPrintStatus",
                "Whether the ticket's paper came out: for the kiosk that issued it, and staff. "
                "'none' means the kiosk has no printer: its screen is the ticket; 'printed' "
                "that the printer confirmed it; 'unconfirmed' that it was sent but the "
                "printer did not (or cannot) say it printed it.",
                {
                    **_ok(
                        "The print status",
                        {
                            "type": "object",
                            "required": ["status"],
                            "additionalProperties": False,
                            "properties": {
                                "status": {
                                    "enum": ["none", "pending", "printed", "unconfirmed", "failed"]
                                }
                            },
                        },
                    ),
                    **_errors(400, 401, 403, 404),
                },
                parameters=[_ID],
                security=_BEARER,
            )
        },
        "/reports/{kind}": {
            "get": _op(
                "getReport",
                "A planning report of one centre, or of every centre the token may report on "
                "(supervisor or admin). Times are grouped by the centres' local days and hours.",
                {
                    "200": {
                        "description": "The report: JSON tables, or CSV or XLSX to download",
                        "content": {
                            "application/json": {
                                "schema": {"oneOf": [ref(f"Report_{k}") for k in KINDS]}
                            },
                            "text/csv": {"schema": {"type": "string"}},
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                "schema": {"type": "string", "contentMediaType": "application/zip"}
                            },
                        },
                    },
                    **_errors(400, 401, 403, 404),
                },
                parameters=[
                    {
                        "name": "kind",
                        "in": "path",
                        "required": True,
                        "schema": {"enum": list(KINDS)},
                    },
                    {"name": "site", "in": "query", "required": False, "schema": _SLUG},
                    *(
                        {
                            "name": n,
                            "in": "query",
                            "required": False,
                            "description": d,
                            "schema": {"type": "string", "format": "date"},
                        }
                        for n, d in (
                            ("from", "First local day (default: 4 weeks to yesterday)"),
                            ("to", "Last local day (default: yesterday)"),
                        )
                    ),
                    {
                        "name": "month",
                        "in": "query",
                        "required": False,
                        "description": "YYYY-MM, instead of from and to",
                        "schema": {"type": "string", "pattern": _MONTH},
                    },
                    {
                        "name": "format",
                        "in": "query",
                        "required": False,
                        "schema": {"enum": list(FORMATS), "default": "json"},
                    },
                    {
                        "name": "lang",
                        "in": "query",
                        "required": False,
                        "schema": {"enum": ["el", "en"], "default": "en"},
                    },
                    {
                        "name": "target",
                        "in": "query",
                        "required": False,
                        "description": "staffing, unmet-demand: share to call within `within` min",
                        "schema": {
                            "type": "number",
                            "exclusiveMinimum": 0,
                            "exclusiveMaximum": 1,
                            "default": 0.8,
                        },
                    },
                    {
                        "name": "within",
                        "in": "query",
                        "required": False,
                        "description": "staffing, unmet-demand: the waiting-time target (min)",
                        "schema": {"type": "number", "exclusiveMinimum": 0, "default": 15},
                    },
                ],
                security=_BEARER,
            )
        },
        "/tickets/status/{token}": {
            "get": _op(
                "ticketStatus",
                "A ticket's public status, for the visitor's phone (no sign-in, no reason)",
                {**_ok("Status", ref("TicketStatus")), **_errors(400, 404)},
                parameters=[
                    {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
            )
        },
    },
}


def _python_regex(pattern: str) -> str:
    """A schema's pattern as Python reads ECMA-262: there `$` ends the string, where Python's
    `$` also matches before a final newline ('el\\n' would pass as a slug)."""
    if pattern.endswith("$") and not pattern.endswith(r"\$"):
        return pattern[:-1] + r"\Z"
    return pattern


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not re.search(_python_regex(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# jsonschema with the `pattern` of the JSON Schema standard, as the compiled check reads it
_Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})


@cache
def _document_validator() -> Draft202012Validator:
    """The whole document as root schema: '#/components/...' refs resolve inside it."""
    return _Validator(DOCUMENT, format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def validator(schema_name: str) -> Draft202012Validator:
    """A validator for one component schema, its $refs resolved in this document.

    It starts at the schema itself rather than at a $ref to it, so checking a request
    body resolves no reference: that lookup took as long as the check itself.
    """
    return _document_validator().evolve(schema=DOCUMENT["components"]["schemas"][schema_name])


@cache
def _fast_check(schema_name: str) -> Callable[[Any], Any]:
    """One request schema compiled to Python code (by fastjsonschema), which raises on
    invalid data. It accepts a valid body ten times quicker than jsonschema walks the
    schema, and nearly every body is valid. The request schemas use only keywords that
    its draft 7 and the document's draft 2020-12 read alike; a test checks they agree.
    """
    schema = DOCUMENT["components"]["schemas"][schema_name]
    return fastjsonschema.compile(schema, use_default=False)


def problems(schema_name: str, data: Any) -> list[str]:
    """Readable validation messages: 'priority: 'vip' is not one of [...]'; [] if valid.

    The compiled check recognises valid bodies; jsonschema explains the others.
    """
    try:
        _fast_check(schema_name)(data)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    out = []
    errors = validator(schema_name).iter_errors(data)
    for error in sorted((_explained(e) for e in errors), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path)
        out.append(f"{where}: {error.message}" if where else error.message)
    return out


def _explained(error: ValidationError) -> ValidationError:
    """A oneOf with a discriminator ('outcome') says only that no branch matched; the
    branch its discriminator picks says what is wrong ('referral: 'moon' is not one
    of ...'), and with no such branch, the discriminator's own error does."""
    key = (
        error.schema.get("discriminator", {}).get("propertyName")
        if error.validator == "oneOf"
        else None
    )
    if key is None or not isinstance(error.instance, dict):
        return error
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    picked = [b for b in branches.values() if all(list(e.relative_path) != [key] for e in b)]
    if picked:
        return sorted(picked[0], key=lambda e: list(e.path))[0]
    allowed = [v for b in error.schema["oneOf"] for v in _values(b["properties"][key])]
    found = error.instance.get(key)
    message = (
        f"{found!r} is not one of {allowed!r}"
        if key in error.instance
        else f"{key!r} is a required property"
    )
    return ValidationError(message, path=[key] if key in error.instance else [])


def _values(schema: dict[str, Any]) -> list[Any]:
    return [schema["const"]] if "const" in schema else list(schema.get("enum", []))
