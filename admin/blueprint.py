"""Every URL of the admin area: a site's settings, services, counters and file, its
devices and people, erasing a visit on request; the reasons all sites share; the audit log."""

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from server.errors import Refused
from server.web.errors import for_pages

from . import audit_log, devices, erase, printers, reasons, staff, views

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

_RULES = [
    ("/", views.index, ["GET"]),
    ("/audit", audit_log.log, ["GET"]),  # ?site, action, actor, since, until, format=csv
    ("/sites/new", views.new_site, ["GET", "POST"]),
    ("/reasons/", reasons.reasons, ["GET"]),
    ("/reasons/new", reasons.reason, ["GET", "POST"]),
    ("/reasons/<code>", reasons.reason, ["GET", "POST"]),
    ("/<site>/", views.site, ["GET", "POST"]),
    ("/<site>/config.toml", views.export_file, ["GET"]),
    ("/<site>/config", views.import_file, ["POST"]),
    ("/<site>/messages", views.messages, ["GET", "POST"]),
    ("/<site>/devices", devices.devices, ["GET", "POST"]),  # ?code= from a device's QR code
    ("/<site>/devices/revoke", devices.revoke, ["POST"]),
    ("/<site>/devices/<int:device_id>/printer", printers.printer, ["GET", "POST"]),
    ("/<site>/devices/<int:device_id>/printer/test", printers.test, ["POST"]),
    ("/<site>/staff", staff.staff, ["GET", "POST"]),
    ("/<site>/staff/<int:user_id>/role", staff.role, ["POST"]),
    ("/<site>/staff/<int:user_id>/reset", staff.reset, ["POST"]),
    ("/<site>/staff/<int:user_id>/active", staff.active, ["POST"]),
    ("/<site>/staff/<int:user_id>/trained", staff.trained, ["POST"]),
    ("/<site>/staff/<int:user_id>/languages", staff.languages, ["POST"]),
    ("/<site>/erase", erase.erase, ["GET", "POST"]),  # one visit, on the visitor's request
    ("/<site>/services/new", views.service, ["GET", "POST"]),
    ("/<site>/services/<slug>", views.service, ["GET", "POST"]),
    ("/<site>/services/<slug>/retire", views.retire_service, ["POST"]),
    ("/<site>/counters/new", views.counter, ["GET", "POST"]),
    ("/<site>/counters/<slug>", views.counter, ["GET", "POST"]),
    ("/<site>/counters/<slug>/retire", views.retire_counter, ["POST"]),
]

for rule, view, methods in _RULES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
bp.register_error_handler(Refused, for_pages)
bp.register_error_handler(HTTPException, for_pages)
