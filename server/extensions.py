"""What the app holds for its requests, one accessor each: the database, the front desk
and the speech engine (the app factory puts them in place), and the address phones reach
the server at. The realtime hub's namespaces are handed their hub when they are made."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, request

if TYPE_CHECKING:
    from .db import Database
    from .frontdesk import FrontDesk
    from .speech import Speech


def db() -> Database:
    return current_app.extensions["seira.db"]


def desk() -> FrontDesk:
    return current_app.extensions["seira.desk"]


def speech() -> Speech:
    return current_app.extensions["seira.speech"]


def public_base() -> str:
    """The address phones use for status pages: SEIRA_PUBLIC_URL, else the one asked.

    The scheme and Host header as sent, in ASCII for the QR code: request.host_url would
    convert them to an IRI, a noticeable cost when kiosks issue at full speed.
    """
    return current_app.config.get("PUBLIC_URL") or f"{request.scheme}://{request.host}"
