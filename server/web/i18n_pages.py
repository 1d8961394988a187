"""Translations in pages: `_()` and `ngettext()` in templates, per request language.

Each blueprint names its gettext domain (`DOMAINS`); staff pages use `messages` (Greek and
English), visitors' pages use `visitors` (every kiosk language). The request's language is
`g.lang`, set by the feature (a kiosk's chosen language, a ticket's language) or taken from
the staff member's choice in the session.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request, session

from .. import i18n

STAFF_LANGUAGES = ("el", "en")
DOMAINS = {"kiosk": "visitors", "status": "visitors", "display": "display", "reports": "reports"}


def domain() -> str:
    return g.get("i18n_domain") or DOMAINS.get(request.blueprint or "", "messages")


def lang() -> str:
    if "lang" not in g:
        chosen = session.get("lang")
        g.lang = chosen if chosen in STAFF_LANGUAGES else i18n.DEFAULT
    return g.lang


def gettext(message: str, **variables: Any) -> str:
    text = i18n.translations(lang(), domain()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = i18n.translations(lang(), domain()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.i18n")
    # Jinja's "newstyle" gettext formats the variables itself, escaping them
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n.translations(lang(), domain()).gettext(message),
        lambda singular, plural, n: i18n.translations(lang(), domain()).ngettext(
            singular, plural, n
        ),
        newstyle=True,
    )

    @app.context_processor
    def language_globals() -> dict[str, Any]:
        current = i18n.language(lang())
        return {
            "lang": current.code,
            "dir": current.dir,
            "html_lang": current.code.replace("_", "-"),
        }
