"""Every URL of the language pages: the overview, a language's strings, its phrases."""

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from server.errors import Refused
from server.web.errors import for_pages

from . import views

bp = Blueprint(
    "languages",
    __name__,
    url_prefix="/languages",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

_RULES = [
    ("/", views.index, ["GET"]),
    # the translations, for interpreters to review, and back (admins)
    ("/<lang>/strings.<fmt>", views.export_strings, ["GET"]),
    ("/<lang>/strings", views.import_strings, ["POST"]),
    # recorded phrases, for a language the speech engine cannot say
    ("/<lang>/phrases", views.phrases, ["GET"]),
    ("/<lang>/phrase", views.play, ["GET"]),  # ?key=...
    ("/<lang>/phrase", views.save, ["POST"]),  # ?key=..., the WAV as the body
    ("/<lang>/phrase/delete", views.remove, ["POST"]),  # ?key=...
]

for rule, view, methods in _RULES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
bp.register_error_handler(Refused, for_pages)
bp.register_error_handler(HTTPException, for_pages)
