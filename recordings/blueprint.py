"""Every URL of the recording pages: the languages, one language's phrases, each phrase."""

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from server.errors import Refused
from server.web.errors import for_pages

from . import views

bp = Blueprint(
    "recordings",
    __name__,
    url_prefix="/recordings",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

_RULES = [
    ("/", views.index, ["GET"]),
    ("/<lang>", views.language, ["GET"]),
    ("/<lang>/phrase", views.play, ["GET"]),  # ?key=...
    ("/<lang>/phrase", views.save, ["POST"]),  # ?key=..., the WAV as the body
    ("/<lang>/phrase/delete", views.remove, ["POST"]),  # ?key=...
]

for rule, view, methods in _RULES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
bp.register_error_handler(Refused, for_pages)
bp.register_error_handler(HTTPException, for_pages)
