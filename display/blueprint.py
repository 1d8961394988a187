"""Every URL of the wall display."""

from flask import Blueprint

from . import views

bp = Blueprint(
    "display",
    __name__,
    url_prefix="/display",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# The page is a shell: it authenticates with the display token from the URL fragment
# (`/display/<site>#token=...`, never sent to the server) over Socket.IO.
bp.add_url_rule("/<site>", view_func=views.board, methods=["GET"])
bp.add_url_rule("/<site>/board.json", view_func=views.configuration, methods=["GET"])
