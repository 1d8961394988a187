"""The workstation's JSON calls: its screen, the counter's shift, and actions on tickets.

Each is a thin adapter over the front desk, the same methods the REST API calls, so an
action answers with the same status and the same error shape here as there: bodies are
checked against the same OpenAPI schemas, a call with nobody waiting is 204, a refusal is
`{"error": {code, message}}`. Every call is a staff session with the page's CSRF token
(checked for all form and fetch posts by server.web.csrf); each answers with the screen.
"""

from __future__ import annotations

from flask import Response, jsonify, redirect, request, url_for

from server.api.bodies import action_reader, reader
from server.auth import Can
from server.extensions import desk, public_base
from server.queue.rules import Action, CounterEventType
from server.web import current_staff, i18n_pages


def _screen(site: str, counter: str) -> Response:
    return jsonify(desk().counter_screen(current_staff(), site, counter, i18n_pages.lang()))


def state(site: str, counter: str) -> Response:
    return _screen(site, counter)


def _shift(site: str, counter: str, event: CounterEventType) -> Response:
    desk().shift(current_staff(), site, counter, event)
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


def call_next(site: str, counter: str) -> Response | tuple[str, int]:
    body = reader("EmptyRequest", required=False)
    if desk().call_next(current_staff(), site, counter, body) is None:
        return "", 204  # nobody waits for this counter, as the API answers
    return _screen(site, counter)


def alarm(site: str, counter: str) -> Response:
    """The silent alarm: the answer is the screen, which then lists it among the open ones."""
    body = reader("EmptyRequest", required=False)
    desk().raise_alarm(current_staff(), site, counter, i18n_pages.lang(), body)
    return _screen(site, counter)


def ask_mediator(site: str, counter: str, ticket_id: int) -> Response:
    staff = current_staff()
    desk().site(staff, site, Can.OPERATE)  # a stranger's body is never read
    reader("EmptyRequest", required=False)()
    desk().ask_mediator(staff, ticket_id, at_site=site)
    return _screen(site, counter)


def ticket_action(site: str, counter: str, ticket_id: int, action: str) -> Response:
    if action == "reprint":
        desk().reprint(current_staff(), ticket_id, public_base(), at_site=site)
    else:
        staff = current_staff()
        desk().act(staff, ticket_id, Action(action), action_reader(action), at_site=site)
    return _screen(site, counter)
