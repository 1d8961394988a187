"""Every URL of the counter workstation, the mediator's page and the supervisor's live view."""

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from server.api.openapi import ACTION_OPERATIONS
from server.errors import Refused
from server.web.errors import for_pages

from . import actions, mediator, supervisor, views

bp = Blueprint(
    "counter",
    __name__,
    url_prefix="/counter",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
supervisor_bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")
mediator_bp = Blueprint("mediator", __name__, url_prefix="/mediator")

# the ticket actions there are, and a reprint: any other word is an unknown URL
ACTION = "<any({}):action>".format(",".join(f'"{a}"' for a in [*ACTION_OPERATIONS, "reprint"]))
_COUNTER_RULES = [
    # pages
    ("/<site>", views.choose, ["GET"]),
    ("/<site>/<counter>", views.workstation, ["GET"]),
    # the workstation's JSON, posted with the page's CSRF token
    ("/<site>/<counter>/state", actions.state, ["GET"]),
    ("/<site>/<counter>/open", actions.open_counter, ["POST"]),
    ("/<site>/<counter>/pause", actions.pause, ["POST"]),
    ("/<site>/<counter>/resume", actions.resume, ["POST"]),
    ("/<site>/<counter>/close", actions.close, ["POST"]),
    ("/<site>/<counter>/call-next", actions.call_next, ["POST"]),
    ("/<site>/<counter>/alarm", actions.alarm, ["POST"]),
    (f"/<site>/<counter>/tickets/<int:ticket_id>/{ACTION}", actions.ticket_action, ["POST"]),
    ("/<site>/<counter>/tickets/<int:ticket_id>/ask-mediator", actions.ask_mediator, ["POST"]),
]
_MEDIATOR_RULES = [
    ("/<site>", mediator.page, ["GET"]),
    ("/<site>/state", mediator.state, ["GET"]),
    ("/<site>/available", mediator.available, ["POST"]),
    ("/<site>/busy", mediator.busy, ["POST"]),
    ("/<site>/away", mediator.away, ["POST"]),
    ("/<site>/requests/<int:ticket_id>/accept", mediator.accept, ["POST"]),
]
_SUPERVISOR_RULES = [
    ("/<site>", supervisor.live, ["GET"]),
    ("/<site>/state", supervisor.state, ["GET"]),
    ("/<site>/alarms/<int:alarm_id>/acknowledge", supervisor.acknowledge, ["POST"]),
]

for rule, view, methods in _COUNTER_RULES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
for rule, view, methods in _SUPERVISOR_RULES:
    supervisor_bp.add_url_rule(rule, view_func=view, methods=methods)
for rule, view, methods in _MEDIATOR_RULES:
    mediator_bp.add_url_rule(rule, view_func=view, methods=methods)
for blueprint in (
    bp,
    supervisor_bp,
    mediator_bp,
):  # fetch calls get JSON errors, pages an error page
    blueprint.register_error_handler(Refused, for_pages)
    blueprint.register_error_handler(HTTPException, for_pages)
