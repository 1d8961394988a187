"""The display page: labels in Greek and English, information messages in many languages."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, render_template

from server import catalog, i18n
from server.extensions import db
from server.i18n import N_, label

INFO_MESSAGES = (
    N_("Keep your ticket. Your number will appear on this screen and be announced."),
    N_("Follow your turn on your phone: scan the code on your ticket."),
)


def _in(lang: str, message: str) -> str:
    return i18n.translations(lang, "display").gettext(message)


def _site_message(labels: dict[str, str]) -> list[dict[str, str]]:
    """A centre's own message in every language it is written or translated in."""
    english = labels.get("en", "")
    return [
        {"lang": code, "dir": i18n.language(code).dir, "text": label(labels, code)}
        for code in i18n.LANGUAGES
        if code in labels or (english and label(labels, code) != english)
    ]


def _rotating(message: str) -> list[dict[str, str]]:
    """The message in every visitor language that has it, in the kiosk's order."""
    return [
        {"lang": code, "dir": i18n.language(code).dir, "text": _in(code, message)}
        for code in i18n.LANGUAGES
        if code == "en" or _in(code, message) != message
    ]


def _board(site: str) -> dict[str, Any]:
    """What the board shows of the configuration: the centre, its services, the messages."""
    cat = catalog.current(db())
    found = cat.require_site(site)
    return {
        "site": found,
        "site_name": label(found.name, "el"),
        "site_name_en": label(found.name, "en"),
        # the centre's own messages first, then what every display says
        "messages": [shown for labels in found.messages for shown in _site_message(labels)]
        + [shown for message in INFO_MESSAGES for shown in _rotating(message)],
        # a private service is not shown to the waiting room, nor is its waiting count
        "services": [
            {"slug": s.slug, "prefix": s.prefix, "el": label(s.labels, "el")}
            for s in cat.services_of(found.id)
            if not s.private
        ],
    }


def board(site: str) -> str:
    g.lang = "el"
    return render_template("display/board.html", **_board(site), t_en=lambda m: _in("en", m))


def configuration(site: str) -> Response:
    """The same, for a board already open to redraw after a change (nothing secret: the
    page itself shows it to the waiting room)."""
    shown = _board(site)
    shown.pop("site")
    response = jsonify(shown)
    response.headers["Cache-Control"] = "no-store"
    return response
