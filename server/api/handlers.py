"""API handlers: check who asks and what they send, call one store or query function.

Handlers hold no queue logic. Every refusal happens before the store is called, or inside
the store's transaction before anything is written, so an error changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, g, jsonify, request
from sqlalchemy import text

from .. import auth, live, printing, queries, store
from ..auth import Can, Principal
from ..db import Database
from ..engine import Action
from ..store import TicketView
from . import openapi
from .errors import ApiError


def _db() -> Database:
    return current_app.extensions["seira.db"]


def _printing() -> printing.Printing:
    return current_app.extensions["seira.printing"]


def load_principal() -> None:
    """Before each API request: resolve the bearer token, if any, into g.principal."""
    g.principal = None
    header = request.headers.get("Authorization")
    if header is None:
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "bad_authorization", "use 'Authorization: Bearer <token>'")
    principal = auth.authenticate(_db(), token.strip())
    if principal is None:
        raise ApiError(401, "invalid_token", "unknown, expired or revoked token")
    g.principal = principal


def _require(capability: Can, site_id: int) -> Principal:
    principal: Principal | None = g.principal
    if principal is None:
        raise ApiError(401, "unauthenticated", "this needs a bearer token")
    if not principal.can(capability, site_id):
        raise ApiError(403, "forbidden", f"this token may not {capability.value} at this site")
    return principal


def _body(schema_name: str, required: bool = True) -> dict[str, Any]:
    """The JSON body, checked against the OpenAPI schema of the operation."""
    if not required and not request.get_data():  # (request.data would parse forms first)
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    problems = openapi.problems(schema_name, data)
    if problems:
        raise ApiError(400, "validation_error", "; ".join(problems))
    return data


_LANG = re.compile(openapi.LANG_PATTERN)


def _lang() -> str:
    lang = request.args.get("lang", "en")
    if _LANG.match(lang):
        return lang
    raise ApiError(400, "bad_lang", f"'{lang}' is not a language code such as 'el' or 'fa_AF'")


def _staff_ticket(t: TicketView) -> dict[str, Any]:
    return {
        "id": t.id,
        "number": t.number,
        "service": t.service,
        "reason": t.reason,
        "lang": t.lang,
        "priority": t.priority,
        "status": t.status,
        "counter": t.counter,
        "issued_at": t.issued_at,
        "called_at": t.called_at,
        "started_at": t.started_at,
        "ended_at": t.ended_at,
        "people_ahead": t.people_ahead,
        "estimated_wait_s": t.estimated_wait_s,
    }


def status_url(public_token: str) -> str:
    # the scheme and Host header as sent, in ASCII for the QR code: request.host_url
    # would convert them to an IRI, a noticeable cost when kiosks issue at full speed
    base = current_app.config.get("PUBLIC_URL") or f"{request.scheme}://{request.host}"
    return f"{base.rstrip('/')}/s/{public_token}"


# --- public ---------------------------------------------------------------------------------


def health() -> Response:
    with _db().connect() as conn:
        revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
    return jsonify({"status": "ok", "database": "ok", "schema": revision or ""})


def openapi_document() -> Response:
    return jsonify(openapi.DOCUMENT)


def sign_in() -> Response:
    data = _body("SignIn")
    try:
        token, expires, principal = auth.sign_in(_db(), data["username"], data["password"])
    except auth.AuthError as exc:
        raise ApiError(401, "invalid_credentials", str(exc)) from None
    site_slugs = [site["slug"] for site in queries.sites(_db(), principal.site_ids, "en")]
    return jsonify(
        {
            "token": token,
            "token_type": "Bearer",
            "expires_at": expires,
            "user": {"username": principal.name, "sites": site_slugs},
        }
    )


def list_sites() -> Response:
    return jsonify(queries.sites(_db(), None, _lang()))


def ticket_status(token: str) -> Response:
    return jsonify(queries.ticket_status(_db(), token))


# --- kiosks, displays and staff --------------------------------------------------------------


def list_services(site: str) -> Response:
    lang = _lang()
    site_id = queries.site_id(_db(), site)
    _require(Can.READ_SERVICES, site_id)
    return jsonify(queries.services(_db(), site_id, lang))


def list_counters(site: str) -> Response:
    lang = _lang()
    site_id = queries.site_id(_db(), site)
    _require(Can.READ_COUNTERS, site_id)
    return jsonify(queries.counters(_db(), site_id, lang))


def site_queue(site: str) -> Response:
    lang = _lang()
    site_id = queries.site_id(_db(), site)
    _require(Can.READ_QUEUE, site_id)
    return jsonify(queries.queue(_db(), site_id, lang))


def issue_ticket(site: str) -> tuple[Response, int]:
    site_id = queries.site_id(_db(), site)
    principal = _require(Can.ISSUE, site_id)
    data = _body("IssueRequest")
    ticket = live.issue_ticket(
        _db(),
        site=site,
        service=data["service"],
        reason=data["reason"],
        lang=data["lang"],
        priority=data.get("priority", "none"),
        device_id=principal.device_id,
        user_id=principal.user_id,
    )
    ahead = ticket.people_ahead or 0
    url = status_url(ticket.public_token)
    _printing().print_ticket(ticket.id, url, principal.device_id)
    body = {
        "id": ticket.id,
        "number": ticket.number,
        "service": ticket.service,
        "lang": ticket.lang,
        "priority": ticket.priority,
        "status": ticket.status,
        "position": ahead + 1,
        "people_ahead": ahead,
        "estimated_wait_s": ticket.estimated_wait_s or 0,
        "status_url": url,
    }
    return jsonify(body), 201


def call_next(site: str, counter: str) -> Response | tuple[str, int]:
    site_id = queries.site_id(_db(), site)
    principal = _require(Can.OPERATE, site_id)
    _body("EmptyRequest", required=False)
    ticket = live.call_next(_db(), site=site, counter=counter, user_id=principal.user_id)
    if ticket is None:
        return "", 204
    return jsonify(_staff_ticket(ticket))


def get_ticket(ticket_id: int) -> Response:
    _require(Can.OPERATE, store.ticket_site_id(_db(), ticket_id))
    return jsonify(_staff_ticket(queries.ticket(_db(), ticket_id)))


def print_status(ticket_id: int) -> Response:
    site_id = store.ticket_site_id(_db(), ticket_id)
    principal: Principal | None = g.principal
    device = printing.ticket_device(_db(), ticket_id)
    if principal is None:
        raise ApiError(401, "unauthenticated", "this needs a bearer token")
    issued_here = principal.device_id is not None and principal.device_id == device
    if not issued_here:
        _require(Can.OPERATE, site_id)
    return jsonify({"status": _printing().status(ticket_id, device)})


def ticket_action(ticket_id: int, action: str) -> Response:
    if action not in openapi.ACTION_OPERATIONS:
        raise ApiError(404, "unknown_action", f"no ticket action '{action}'")
    principal = _require(Can.OPERATE, store.ticket_site_id(_db(), ticket_id))
    op_id, _summary, schema = openapi.ACTION_OPERATIONS[action]
    data = _body(schema or "EmptyRequest", required=op_id in ("finishTicket", "transferTicket"))
    ticket = live.act(
        _db(),
        ticket_id,
        Action(action),
        user_id=principal.user_id,
        outcome=data.get("outcome"),
        referral=data.get("referral"),
        service=data.get("service"),
        why=data.get("why", "left") if action == "cancel" else None,
    )
    return jsonify(_staff_ticket(ticket))
