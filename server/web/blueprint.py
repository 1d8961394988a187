"""URLs shared by all pages: sign-in, sign-out, speech, and the staff home page."""

from flask import Blueprint, Flask

from . import csrf, i18n_pages, speech_view, views
from .session import SessionInterface

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/web",
)

_RULES = [
    ("/", views.home, ["GET"]),
    ("/signin", views.sign_in, ["GET", "POST"]),
    ("/signout", views.sign_out, ["POST"]),
    ("/speech", speech_view.speech, ["GET"]),
    ("/fonts/<path:filename>", views.font, ["GET"]),
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
