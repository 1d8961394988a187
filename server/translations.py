"""Keeping the gettext catalogs whole: which files feed which domain, extraction, checks.

`seira i18n extract` rewrites `locales/<domain>.pot` from the sources and merges new
messages into every `<lang>/LC_MESSAGES/<domain>.po`; `seira i18n check` lists messages
still untranslated. The tests run the same check, so a string added to a page without a
translation fails the build.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract as extract_python
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from .i18n import LOCALES_DIR

ROOT = LOCALES_DIR.parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "t_en": None,  # display: the English line under each Greek label
    "_in": (2,),  # display: a message in a given language
}


@dataclass(frozen=True)
class Domain:
    name: str
    sources: tuple[str, ...]  # folders, relative to the repository root
    languages: tuple[str, ...]  # every language that must translate it all


STAFF = ("el",)  # staff pages are Greek, with English as the source text
DOMAINS = {
    d.name: d
    for d in [
        Domain("messages", ("server/web", "staff", "counter"), STAFF),
        Domain("display", ("display", "server/announce.py"), ("el",)),
    ]
}
# The announcement and the information messages must exist in every spoken language.
FULLY_TRANSLATED = {
    "display": (
        "Ticket %(number)s, counter %(counter)s",
        "Ticket",
        "Go to",
        "Keep your ticket. Your number will appear on this screen and be announced.",
        "Follow your turn on your phone: scan the code on your ticket.",
    )
}

_METHODS = [("**.py", "python"), ("**.html", "jinja2"), ("**.js", "ignore")]
_OPTIONS = {"**.html": {"extensions": "jinja2.ext.i18n"}}


def extract(domain: Domain) -> Catalog:
    """Every message the domain's sources use, with where they are used."""
    catalog = Catalog(project="Seira", domain=domain.name, fuzzy=False)
    for source in domain.sources:
        path = ROOT / source
        if path.is_file():
            found = _extract_file(path)
        else:
            found = (
                (Path(source) / filename, lineno, message, comments, context)
                for filename, lineno, message, comments, context in extract_from_dir(
                    path, _METHODS, _OPTIONS, KEYWORDS
                )
            )
        for filename, lineno, message, comments, context in found:
            msgid = message if isinstance(message, str) else message[0]
            if isinstance(message, tuple) and message[1]:
                msgid = (message[0], message[1])
            catalog.add(
                msgid, locations=[(str(filename), lineno)], auto_comments=comments, context=context
            )
    return catalog


def _extract_file(path: Path) -> Iterator[tuple[Path, int, Any, list[str], str | None]]:
    with path.open("rb") as source:
        for lineno, message, comments, context in extract_python("python", source, KEYWORDS):
            yield path.relative_to(ROOT), lineno, message, comments, context


def po_path(domain: str, lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def read(domain: str, lang: str) -> Catalog | None:
    path = po_path(domain, lang)
    if not path.exists():
        return None
    with path.open("rb") as po:
        return read_po(po, locale=lang, domain=domain)


def _languages_with(domain: Domain) -> set[str]:
    return {p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{domain.name}.po")}


def missing(domain: Domain) -> dict[str, list[str]]:
    """Language -> messages without a translation (required languages, required messages)."""
    wanted = extract(domain)
    out: dict[str, list[str]] = {}
    all_languages = {
        p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{domain.name}.po")
    }
    for lang in sorted(set(domain.languages) | all_languages):
        catalog = read(domain.name, lang)
        required = (
            [m.id for m in wanted if m.id]
            if lang in domain.languages
            else list(FULLY_TRANSLATED.get(domain.name, ()))
        )
        gaps = []
        for msgid in required:
            found = catalog.get(msgid) if catalog is not None else None
            text = found.string if found is not None else None
            if not text or (isinstance(text, tuple) and not all(text)):
                gaps.append(msgid if isinstance(msgid, str) else msgid[0])
        if gaps:
            out[lang] = gaps
    return out


# Babel writes the Arabic "many" (11-99) and "other" (100+) forms swapped (Babel issue 816).
PLURAL_FORMS = {
    "ar": "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : "
    "n%100>=11 && n%100<=99 ? 4 : 5);",
}


def _headers(catalog: Catalog) -> None:
    catalog.project = "Seira"
    catalog.version = ""
    catalog.copyright_holder = "The Seira contributors"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "The Seira contributors"
    catalog.language_team = f"{catalog.locale} <seira-translations>" if catalog.locale else ""
    lang = str(catalog.locale) if catalog.locale else ""
    if lang in PLURAL_FORMS:
        catalog.mime_headers = [(k, v) for k, v in catalog.mime_headers if k != "Plural-Forms"] + [
            ("Plural-Forms", PLURAL_FORMS[lang])
        ]


def update(domain: Domain) -> list[Path]:
    """Write the template and merge it into every existing catalog of the domain."""
    template = extract(domain)
    _headers(template)
    written = []
    pot = LOCALES_DIR / f"{domain.name}.pot"
    with pot.open("wb") as out:
        write_po(out, template, omit_header=False, width=100)
    written.append(pot)
    for lang in sorted(set(domain.languages) | _languages_with(domain)):
        catalog = read(domain.name, lang) or Catalog(locale=lang, domain=domain.name)
        catalog.update(template, update_header_comment=False)
        _headers(catalog)
        path = po_path(domain.name, lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            write_po(out, catalog, width=100, ignore_obsolete=True, include_previous=False)
        written.append(path)
    return written
