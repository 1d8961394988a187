"""Every URL of the kiosk.

The page is a shell: it authenticates with the kiosk token from the URL fragment
(`/kiosk/<site>#token=...`, never sent to the server) and talks to the JSON API.
"""

from flask import Blueprint

from . import views

bp = Blueprint(
    "kiosk",
    __name__,
    url_prefix="/kiosk",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

_RULES = [
    ("/<site>", views.page),
    ("/strings/<lang>.json", views.strings),
]

for rule, view in _RULES:
    bp.add_url_rule(rule, view_func=view, methods=["GET"])
