"""API handlers: who asks, what they send, which front-desk method answers, as JSON.

Handlers hold no queue logic and no permission rules: each reads the request, calls one
method of the front desk (`server/frontdesk.py`) and shapes its answer as the OpenAPI
document says. A refusal (`server.errors`) becomes the JSON error by `errors.py`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from .. import auth
from ..auth import Can
from ..db import fault_of
from ..errors import Forbidden, Unauthenticated
from ..extensions import db, desk, public_base
from ..queue.reads import TicketView
from ..queue.rules import Action, MediatorEventType
from . import openapi
from .bodies import action_reader, json_body, lang, reader


def load_principal() -> None:
    """Before each API request: resolve the bearer token, if any, into g.principal."""
    g.principal = None
    header = request.headers.get("Authorization")
    if header is None:
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("use 'Authorization: Bearer <token>'", "bad_authorization")
    principal = auth.authenticate(db(), token.strip())
    if principal is None:
        raise Unauthenticated("unknown, expired or revoked token", "invalid_token")
    g.principal = principal


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


# --- public ---------------------------------------------------------------------------------


def health() -> tuple[Response, int]:
    """Whether the database answers and takes writes (a real write, rate-limited: see
    Database.write_fault); 503 with the fault's code when it does not, for a supervisor
    or a monitoring check to see."""
    database = db()
    try:
        with database.connect() as conn:
            revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError as exc:
        fault = fault_of(exc) or "database_unavailable"
        body = {"status": "degraded", "database": "unavailable", "fault": fault, "schema": ""}
        return jsonify(body), 503
    fault = database.write_fault()
    if fault is None:
        return jsonify({"status": "ok", "database": "ok", "schema": revision or ""}), 200
    body = {"status": "degraded", "database": "not_writable", "fault": fault, "schema": revision}
    return jsonify(body), 503


def openapi_document() -> Response:
    return jsonify(openapi.DOCUMENT)


def sign_in() -> Response:
    data = json_body("SignIn")
    try:
        token, expires, principal = auth.sign_in(
            db(), data["username"], data["password"], request.remote_addr or ""
        )
    except auth.AuthError as exc:
        raise Unauthenticated(str(exc), "invalid_credentials") from None
    if principal.must_change_password:
        raise Forbidden(
            "choose your own password first, on the staff sign-in page",
            "password_change_required",
        )
    site_slugs = [site["slug"] for site in desk().sites("en", principal.site_ids)]
    return jsonify(
        {
            "token": token,
            "token_type": "Bearer",
            "expires_at": expires,
            "user": {"username": principal.name, "sites": site_slugs},
        }
    )


def request_pairing() -> Response:
    data = json_body("PairingRequest")
    state = desk().request_pairing(data["kind"], data["site"], data["secret"])
    body: dict[str, Any] = {"status": state.status}
    if state.code:
        body.update(code=state.code, expires_at=state.expires_at)
    if state.device:
        body["device"] = state.device
    return jsonify(body)


def list_sites() -> Response:
    return jsonify(desk().sites(lang()))


def ticket_status(token: str) -> Response:
    return jsonify(desk().ticket_status(token))


# --- kiosks, displays and staff --------------------------------------------------------------


def list_services(site: str) -> Response:
    return jsonify(desk().services(g.principal, site, lang()))


def site_opening(site: str) -> Response:
    return jsonify(desk().opening(g.principal, site))


def list_counters(site: str) -> Response:
    return jsonify(desk().counters(g.principal, site, lang()))


def site_queue(site: str) -> Response:
    return jsonify(desk().queue(g.principal, site, lang()))


def issue_ticket(site: str) -> tuple[Response, int]:
    issued = desk().issue_ticket(g.principal, site, reader("IssueRequest"), public_base())
    ticket = issued.ticket
    ahead = ticket.people_ahead or 0
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
        "status_url": issued.status_url,
        "quiet": ticket.quiet,
    }
    return jsonify(body), 201


def call_next(site: str, counter: str) -> Response | tuple[str, int]:
    body = reader("EmptyRequest", required=False)
    ticket = desk().call_next(g.principal, site, counter, body)
    if ticket is None:
        return "", 204
    return jsonify(_staff_ticket(ticket))


def get_ticket(ticket_id: int) -> Response:
    return jsonify(_staff_ticket(desk().ticket(g.principal, ticket_id)))


def print_status(ticket_id: int) -> Response:
    return jsonify({"status": desk().print_status(g.principal, ticket_id)})


def ticket_action(ticket_id: int, action: str) -> Response:
    ticket = desk().act(g.principal, ticket_id, Action(action), action_reader(action))
    return jsonify(_staff_ticket(ticket))


# --- mediators and silent alarms ---------------------------------------------------------


def list_mediators(site: str) -> Response:
    return jsonify(desk().mediator_board(g.principal, site, lang()))


def set_mediator_state(site: str) -> Response:
    desk().site(g.principal, site, Can.MEDIATE)  # a stranger's body is never read
    state = json_body("MediatorStateRequest")["state"]
    desk().mediator_state(g.principal, site, MediatorEventType(state))
    return list_mediators(site)


def accept_request(site: str, ticket_id: int) -> Response:
    desk().accept_request(g.principal, site, ticket_id)
    return list_mediators(site)


def ask_for_mediator(ticket_id: int) -> Response:
    reader("EmptyRequest", required=False)()
    return list_mediators(desk().ask_mediator(g.principal, ticket_id))


def raise_alarm(site: str, counter: str) -> tuple[Response, int]:
    body = reader("EmptyRequest", required=False)
    return jsonify(desk().raise_alarm(g.principal, site, counter, lang(), body)), 201


def list_alarms(site: str) -> Response:
    return jsonify(desk().alarms(g.principal, site, lang()))


def acknowledge_alarm(site: str, alarm_id: int) -> Response:
    body = reader("EmptyRequest", required=False)
    return jsonify(desk().acknowledge_alarm(g.principal, site, alarm_id, lang(), body))
