"""The mediator's page: say whether one is free, see the counters' requests and accept
one, see the visit one is joined to and leave it. Its JSON calls are thin adapters over the
front desk, as the workstation's are, and answer with the page's data."""

from __future__ import annotations

from flask import Response, jsonify, render_template

from server import i18n
from server.api.bodies import reader
from server.auth import Can
from server.extensions import desk
from server.queue.rules import MediatorEventType
from server.web import current_staff, i18n_pages, staff_required

from . import labels


@staff_required
def page(site: str) -> str:
    found = desk().site(current_staff(), site, Can.MEDIATE)
    return render_template(
        "counter/mediator.html",
        site=found,
        site_name=i18n.label(found.name, i18n_pages.lang()),
        words={
            "languages": labels.languages(),
            "mediator_states": labels.translated(labels.MEDIATOR_STATES),
        },
    )


def _screen(site: str) -> Response:
    return jsonify(desk().mediator_screen(current_staff(), site, i18n_pages.lang()))


def state(site: str) -> Response:
    return _screen(site)


def _say(site: str, event: MediatorEventType) -> Response:
    desk().site(current_staff(), site, Can.MEDIATE)  # a stranger's body is never read
    reader("EmptyRequest", required=False)()
    desk().mediator_state(current_staff(), site, event)
    return _screen(site)


def available(site: str) -> Response:
    return _say(site, MediatorEventType.AVAILABLE)


def busy(site: str) -> Response:
    return _say(site, MediatorEventType.BUSY)


def away(site: str) -> Response:
    return _say(site, MediatorEventType.AWAY)


def accept(site: str, ticket_id: int) -> Response:
    desk().accept_request(current_staff(), site, ticket_id)
    return _screen(site)
