"""The workstation's JSON calls: its state, the counter's shift, and actions on tickets.

Every call is a staff session with the page's CSRF token (checked for all form and fetch
posts by server.web.csrf). Errors come back as `{"error": {code, message}}` with a 4xx
status, and a refused action changes nothing, as in the REST API.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from server import counters, desk, live, printing, queries, store
from server.api.handlers import status_url
from server.auth import Can
from server.engine import Action, CounterEventType
from server.store import StoreError
from server.web import i18n_pages

from .access import db, site_for

TICKET_ACTIONS = {
    a.value: a
    for a in (
        Action.RECALL,
        Action.START,
        Action.FINISH,
        Action.NO_SHOW,
        Action.RETURN,
        Action.TRANSFER,
        Action.CANCEL,
    )
}


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message}}), status


def json_errors(exc: Exception) -> tuple[Response, int] | HTTPException:
    """Blueprint error handler: the workstation's fetch calls get JSON, pages their page."""
    if isinstance(exc, StoreError):
        return _error(exc.status, exc.code, exc.message)
    if isinstance(exc, HTTPException):
        if request.accept_mimetypes.best != "application/json":
            return exc
        code = (exc.name or "error").lower().replace(" ", "_")
        return _error(exc.code or 500, code, exc.description or "")
    raise exc


def _printing() -> printing.Printing:
    return current_app.extensions["seira.printing"]


def _screen(site: str, counter: str) -> Response:
    where = desk.place(db(), site, counter)
    return jsonify(desk.counter_screen(db(), where, i18n_pages.lang(), _printing()))


def state(site: str, counter: str) -> Response:
    site_for(site, Can.OPERATE)
    return _screen(site, counter)


def _shift(site: str, counter: str, event: CounterEventType) -> Response:
    found, staff = site_for(site, Can.OPERATE)
    counters.record(db(), site=site, counter=counter, event=event, user_id=staff.user_id)
    hub = current_app.extensions.get("seira.hub")
    if hub is not None:
        hub.queue_changed(found.id)
    return _screen(site, counter)


def open_counter(site: str, counter: str) -> Response:
    """From the choose page's form: open the counter and go to its workstation."""
    screen = _shift(site, counter, CounterEventType.OPENED)
    if request.accept_mimetypes.best == "application/json":
        return screen
    return redirect(url_for("counter.workstation", site=site, counter=counter))


def pause(site: str, counter: str) -> Response:
    return _shift(site, counter, CounterEventType.PAUSED)


def resume(site: str, counter: str) -> Response:
    return _shift(site, counter, CounterEventType.RESUMED)


def close(site: str, counter: str) -> Response:
    return _shift(site, counter, CounterEventType.CLOSED)


def call_next(site: str, counter: str) -> Response | tuple[Response, int]:
    _found, staff = site_for(site, Can.OPERATE)
    ticket = live.call_next(db(), site=site, counter=counter, user_id=staff.user_id)
    if ticket is None:
        return _error(409, "nobody_waiting", i18n_pages.gettext("Nobody is waiting."))
    return _screen(site, counter)


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _reprint(site: str, counter: str, ticket_id: int) -> Response | tuple[Response, int]:
    """Print the ticket again on the printer of the kiosk that issued it."""
    ticket = queries.ticket(db(), ticket_id)
    device = printing.ticket_device(db(), ticket_id)
    outcome = _printing().print_ticket(ticket_id, status_url(ticket.public_token), device)
    if outcome == printing.PrintStatus.NONE:
        message = i18n_pages.gettext("The kiosk that issued this ticket has no printer.")
        return _error(409, "no_printer", message)
    return _screen(site, counter)


def ticket_action(
    site: str, counter: str, ticket_id: int, action: str
) -> Response | tuple[Response, int]:
    found, staff = site_for(site, Can.OPERATE)
    if action not in TICKET_ACTIONS and action != "reprint":
        return _error(404, "unknown_action", f"no ticket action '{action}'")
    if store.ticket_site_id(db(), ticket_id) != found.id:
        return _error(404, "not_found", f"no ticket {ticket_id} at this site")
    if action == "reprint":
        return _reprint(site, counter, ticket_id)
    data = _body()
    live.act(
        db(),
        ticket_id,
        TICKET_ACTIONS[action],
        user_id=staff.user_id,
        outcome=data.get("outcome"),
        referral=data.get("referral") or None,
        service=data.get("service"),
        why="left" if action == Action.CANCEL else None,
    )
    return _screen(site, counter)
