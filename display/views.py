"""The display page: labels in Greek and English, information messages in many languages."""

from __future__ import annotations

from flask import g, render_template

from server import catalog, i18n
from server.extensions import db
from server.i18n import N_, label

# Languages the rotating information message cycles through, in this order.
INFO_LANGUAGES = ("el", "en", "ar", "fa", "ur", "ps", "ku", "fr", "uk", "ru", "sq")
INFO_MESSAGES = (
    N_("Keep your ticket. Your number will appear on this screen and be announced."),
    N_("Follow your turn on your phone: scan the code on your ticket."),
)


def _in(lang: str, message: str) -> str:
    return i18n.translations(lang, "display").gettext(message)


def board(site: str) -> str:
    cat = catalog.current(db())
    found = cat.require_site(site)
    g.lang = "el"
    messages = [
        {"lang": code, "dir": i18n.language(code).dir, "text": _in(code, message)}
        for message in INFO_MESSAGES
        for code in INFO_LANGUAGES
    ]
    services = [
        {"slug": s.slug, "prefix": s.prefix, "el": label(s.labels, "el")}
        for s in cat.services_of(found.id)
    ]
    return render_template(
        "display/board.html",
        site=found,
        site_name=label(found.name, "el"),
        site_name_en=label(found.name, "en"),
        messages=messages,
        services=services,
        t_en=lambda message: _in("en", message),
    )
