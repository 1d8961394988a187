"""URLs every page shares: speech, fonts and the common static files."""

from flask import Blueprint, Flask

from . import csrf, fonts_view, i18n_pages, speech_view
from .session import SessionInterface

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/web",
)

_RULES = [
    ("/speech", speech_view.speech, ["GET"]),
    ("/fonts/<path:filename>", fonts_view.font, ["GET"]),
]

for rule, view, methods in _RULES:
    bp.add_url_rule(rule, view_func=view, methods=methods)


def init_app(app: Flask) -> None:
    """Session cookie settings, CSRF on every form post, `_()` in every template."""
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.session_interface = SessionInterface()
    csrf.init_app(app)
    i18n_pages.init_app(app)
    app.register_blueprint(bp)
