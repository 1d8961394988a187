"""The application factory: configuration, database, and the blueprints of every feature."""

from __future__ import annotations

import os
import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

from admin.blueprint import bp as admin_bp
from counter.blueprint import bp as counter_bp
from counter.blueprint import mediator_bp, supervisor_bp
from display.blueprint import bp as display_bp
from kiosk.blueprint import bp as kiosk_bp
from languages.blueprint import bp as languages_bp
from reports.blueprint import bp as reports_bp
from staff.blueprint import VIEWS as STAFF_VIEWS
from staff.blueprint import bp as staff_bp
from status.blueprint import bp as status_bp

from .api import bp as api_bp
from .api.errors import register as register_api_errors
from .db import Database
from .frontdesk import FrontDesk
from .realtime import init_app as init_realtime
from .speech import EspeakEngine, Speech
from .web import init_app as init_web

API_PREFIX = "/api/v1"


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 times ("2026-11-23T08:00:00Z") instead of Flask's HTTP-date format."""

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat().replace("+00:00", "Z")
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def _secret_key(instance: Path) -> str:
    """SEIRA_SECRET_KEY, or a random key kept in the instance folder across restarts."""
    if os.environ.get("SEIRA_SECRET_KEY"):
        return os.environ["SEIRA_SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(database: Database | str | None = None, **config: Any) -> Flask:
    """The WSGI app; `database` is a Database, a URL, or None for SEIRA_DATABASE_URL."""
    app = Flask(__name__, instance_path=str(Path("instance").resolve()))
    app.json = JSONProvider(app)
    app.json.sort_keys = False
    app.config.update(
        SECRET_KEY=_secret_key(Path(app.instance_path)),
        PUBLIC_URL=os.environ.get("SEIRA_PUBLIC_URL"),
        MESSAGE_QUEUE=os.environ.get("SEIRA_MESSAGE_QUEUE"),
        PROXIES=os.environ.get("SEIRA_PROXIES", "0"),  # reverse proxies in front: _behind_proxies
        # "enforce": kiosks issue only in opening hours and the day is swept at closing;
        # "ignore": for demonstrations and tests that run at any hour
        OPENING_HOURS=os.environ.get("SEIRA_OPENING_HOURS", "enforce"),
    )
    app.config.update(STAFF_VIEWS)
    app.config.update(config)
    db = database if isinstance(database, Database) else Database(database)
    app.extensions["seira.db"] = db
    app.register_blueprint(api_bp, url_prefix=API_PREFIX)
    register_api_errors(app, API_PREFIX)
    init_web(app)
    app.register_blueprint(display_bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(status_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(counter_bp)
    app.register_blueprint(supervisor_bp)
    app.register_blueprint(mediator_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(languages_bp)
    app.register_blueprint(admin_bp)
    app.extensions["seira.speech"] = Speech(
        EspeakEngine(), cache_dir=Path(app.instance_path) / "speech-cache"
    )
    hub = init_realtime(app, app.extensions["seira.speech"])
    app.extensions["seira.desk"] = FrontDesk(
        db, publish=hub.publish, opening_hours=app.config["OPENING_HOURS"] != "ignore"
    )
    _behind_proxies(app)
    return app


def _behind_proxies(app: Flask) -> None:
    """SEIRA_PROXIES=N: N reverse proxies (nginx) stand in front, and the client's address,
    scheme and host are the ones they pass on (X-Forwarded-For, -Proto, -Host). Without
    it every visitor would have the proxy's address, so that 20 wrong passwords from
    anyone would lock every sign-in of the centre. Left at 0 (no proxy), those headers
    are ignored: a client could otherwise name any address to escape its lockout."""
    value = str(app.config.get("PROXIES") or "0")
    if not value.isdigit():
        raise ValueError(f"SEIRA_PROXIES must be a number of proxies, not {value!r}")
    if int(value):
        n = int(value)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]
