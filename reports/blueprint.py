"""Every URL of the report pages, in one screen. Views live in `views.py`.

The blueprint is named "reports", so its pages translate with the `reports` gettext
domain (see server/web/i18n_pages.py).
"""

from flask import Blueprint

from . import views

bp = Blueprint(
    "reports",
    __name__,
    url_prefix="/reports",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

_RULES = [
    ("/", views.index, ["GET"]),
    ("/<site>", views.overview, ["GET"]),
    ("/<site>/indicators", views.indicators, ["GET"]),
    ("/<site>/staffing", views.staffing, ["GET"]),
    ("/<site>/export/<kind>.<fmt>", views.download, ["GET"]),
]

for rule, view, methods in _RULES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
