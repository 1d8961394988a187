"""Every URL of the status page. `/s/<token>` is printed on tickets: it never changes."""

from flask import Blueprint

from . import views

bp = Blueprint(
    "status",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/s/static",
)

bp.add_url_rule("/s/<token>", view_func=views.page, methods=["GET"])
