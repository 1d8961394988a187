"""Every URL of the JSON API, in one screen. Handlers live in `handlers.py`."""

from flask import Blueprint

from . import handlers as h
from . import openapi, reports

# only the actions there are: /tickets/<id>/print is not one (its Allow header says GET)
ACTION = "<any({}):action>".format(",".join(f'"{a}"' for a in openapi.ACTION_OPERATIONS))

bp = Blueprint("api", __name__)
bp.before_request(h.load_principal)

_RULES = [
    # public
    ("/health", h.health, ["GET"]),
    ("/openapi.json", h.openapi_document, ["GET"]),
    ("/auth/token", h.sign_in, ["POST"]),
    ("/pairings", h.request_pairing, ["POST"]),  # a kiosk or display waiting for an admin
    ("/sites", h.list_sites, ["GET"]),
    ("/tickets/status/<token>", h.ticket_status, ["GET"]),
    # kiosks, displays and staff of a site
    ("/sites/<site>/services", h.list_services, ["GET"]),
    ("/sites/<site>/opening", h.site_opening, ["GET"]),
    ("/sites/<site>/counters", h.list_counters, ["GET"]),
    ("/sites/<site>/queue", h.site_queue, ["GET"]),
    ("/sites/<site>/tickets", h.issue_ticket, ["POST"]),
    # counter staff (and the kiosk that issued a ticket, for its print status)
    ("/sites/<site>/counters/<counter>/call-next", h.call_next, ["POST"]),
    ("/tickets/<int:ticket_id>", h.get_ticket, ["GET"]),
    ("/tickets/<int:ticket_id>/print", h.print_status, ["GET"]),
    (f"/tickets/<int:ticket_id>/{ACTION}", h.ticket_action, ["POST"]),
    ("/tickets/<int:ticket_id>/mediator-request", h.ask_for_mediator, ["POST"]),
    ("/sites/<site>/counters/<counter>/alarm", h.raise_alarm, ["POST"]),
    ("/sites/<site>/alarms", h.list_alarms, ["GET"]),
    ("/sites/<site>/alarms/<int:alarm_id>/acknowledge", h.acknowledge_alarm, ["POST"]),
    # mediators (and the counter staff who follow them)
    ("/sites/<site>/mediators", h.list_mediators, ["GET"]),
    ("/sites/<site>/mediators/me", h.set_mediator_state, ["PUT"]),
    ("/sites/<site>/mediator-requests/<int:ticket_id>/accept", h.accept_request, ["POST"]),
    # supervisors and admins
    ("/reports/<kind>", reports.report, ["GET"]),
]

for rule, view, methods in _RULES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
