"""URLs every page shares: speech, fonts and the common static files."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask

from . import csrf, fonts_view, i18n_pages, security, speech_view
from .session import SessionInterface

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/web",
)

_RULES = [
    ("/speech", speech_view.speech, ["POST"]),
    ("/fonts/<path:filename>", fonts_view.font, ["GET"]),
]

for rule, view, methods in _RULES:
    bp.add_url_rule(rule, view_func=view, methods=methods)


SHOWN_ZONE = ZoneInfo("Europe/Athens")


def athens(moment: datetime | None) -> str:
    """A stored UTC time as staff read it: Athens time, 24-hour clock."""
    return "" if moment is None else moment.astimezone(SHOWN_ZONE).strftime("%Y-%m-%d %H:%M")


def init_app(app: Flask) -> None:
    """Security headers and limits, CSRF on every form post, `_()` in every template."""
    app.jinja_env.filters["athens"] = athens
    security.init_app(app)
    app.session_interface = SessionInterface()
    csrf.init_app(app)
    i18n_pages.init_app(app)
    app.register_blueprint(bp)
