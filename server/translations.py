"""Keeping the gettext catalogs whole: which files feed which domain, extraction, checks.

One workflow for every domain (`seira i18n update`, `seira i18n check`, `make i18n`):

    messages  staff pages                   server/web, staff/, counter/,     Greek
                                            languages/, admin/, server/siteconfig/
    display   the wall display, its calls   display/, server/announce.py      Greek (*)
    reports   report pages and exports      reports/, server/analytics/       Greek
    printers  the printed ticket            printers/                         all 16
    visitors  kiosk, status page, labels    kiosk/, status/, server/sites/    all 16

(*) and, in every language, what the display shows and says of a call (MUST_HAVE).
English is the source text everywhere. `update` rewrites `locales/<domain>.pot` from the
sources and merges it into every `<lang>/LC_MESSAGES/<domain>.po`; `missing` and
`placeholder_problems` are what `check` and the tests report.
"""

from __future__ import annotations

import io
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract as extract_one
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from .i18n import LANGUAGES, LOCALES_DIR

ROOT = LOCALES_DIR.parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "t_en": None,  # display: the English line under each Greek label
    "_in": (2,),  # display: a message in a given language
}
DATA_T = re.compile(rb'data-t(?:-label)?="([^"]+)"')


def extract_data_t(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction method: the English text of every `data-t="..."` (and
    `data-t-label`) attribute, which the kiosk's script translates in the page."""
    for lineno, line in enumerate(fileobj, start=1):
        for found in DATA_T.finditer(line):
            yield lineno, "_", found.group(1).decode(), []


PYTHON_AND_TEMPLATES = (("**.py", "python"), ("**.html", "jinja2"), ("**.js", "ignore"))
TEMPLATE_OPTIONS = {"**.html": {"extensions": "jinja2.ext.i18n"}}


@dataclass(frozen=True)
class Source:
    """Files of one kind that feed a domain: a folder (or a file) and how to read it."""

    path: str  # relative to the repository root
    methods: tuple[tuple[str, Any], ...] = PYTHON_AND_TEMPLATES
    keywords: dict[str, Any] = field(default_factory=lambda: KEYWORDS)


@dataclass(frozen=True)
class Domain:
    name: str
    sources: tuple[Source, ...]
    languages: tuple[str, ...]  # every language that must translate it all
    site_labels: bool = False  # also the English labels of server/sites/*.toml


STAFF = ("el",)  # staff pages are Greek, with English as the source text
VISITORS = tuple(code for code in LANGUAGES if code != "en")
DOMAINS = {
    d.name: d
    for d in [
        Domain(
            "messages",
            (
                Source("server/web"),
                Source("staff"),
                Source("counter"),
                Source("languages"),
                Source("admin"),
                Source("server/siteconfig"),  # the configuration's rules, for admin forms
            ),
            STAFF,
        ),
        Domain("display", (Source("display"), Source("server/announce.py")), STAFF),
        Domain(
            "reports",
            (
                Source("reports"),
                Source("server/analytics", keywords={**KEYWORDS, "tr": None}),
                Source("server/web/templates"),  # the layout the report pages are drawn in
            ),
            STAFF,
        ),
        Domain("printers", (Source("printers"),), VISITORS),
        Domain(
            "visitors",
            (
                Source("kiosk/static", (("*.js", "javascript"),), {"t": None, "N_": None}),
                Source("kiosk/templates", (("**.html", extract_data_t),), {"_": None}),
                Source("status/templates", (("**.html", "jinja2"),), {"_": None}),
            ),
            VISITORS,
            site_labels=True,
        ),
    ]
}
# What the display shows and says of a call, and its information messages: in every
# visitor language, whatever else of the domain is translated there.
MUST_HAVE = {
    "display": (
        "Ticket %(number)s, counter %(counter)s",
        "Ticket",
        "Go to",
        "Keep your ticket. Your number will appear on this screen and be announced.",
        "Follow your turn on your phone: scan the code on your ticket.",
    )
}


# --- extraction ------------------------------------------------------------------------------


def site_labels() -> Iterator[tuple[str, str]]:
    """(English label, where) for each reason, service and counter of every site file.

    The site files hold Greek and English; every other language is looked up here."""
    for path in sorted((ROOT / "server" / "sites").glob("*.toml")):
        config = tomllib.loads(path.read_text(encoding="utf-8"))
        where = f"server/sites/{path.name}"
        for reason in config.get("reasons", []):
            yield reason["labels"]["en"], f"{where}:{reason['code']}"
        for site in config.get("sites", []):
            for kind in ("services", "counters"):
                for item in site.get(kind, []):
                    yield item["labels"]["en"], f"{where}:{site['slug']}/{item['slug']}"


def _found(source: Source) -> Iterator[tuple[str, int, Any, list[str], str | None]]:
    path = ROOT / source.path
    if path.is_file():
        with path.open("rb") as fileobj:
            for lineno, message, comments, context in extract_one(
                "python", fileobj, source.keywords
            ):
                yield source.path, lineno, message, comments, context
        return
    for filename, lineno, message, comments, context in extract_from_dir(
        str(path), source.methods, TEMPLATE_OPTIONS, source.keywords
    ):
        yield (Path(source.path) / filename).as_posix(), lineno, message, comments, context


def extract(domain: Domain) -> Catalog:
    """Every message the domain's sources use, with where they are used."""
    catalog = Catalog(project="Seira", domain=domain.name, fuzzy=False)
    for source in domain.sources:
        for filename, lineno, message, comments, context in _found(source):
            msgid: Any = message
            if isinstance(message, tuple):
                msgid = (message[0], message[1]) if message[1] else message[0]
            catalog.add(
                msgid, locations=[(filename, lineno)], auto_comments=comments, context=context
            )
    if domain.site_labels:
        for text, where in site_labels():
            catalog.add(text, locations=[(where, None)])
    return catalog


# --- catalogs ----------------------------------------------------------------------------------


def po_path(domain: str, lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def read(domain: str, lang: str) -> Catalog | None:
    path = po_path(domain, lang)
    if not path.exists():
        return None
    with path.open("rb") as po:
        return read_po(po, locale=lang, domain=domain)


def languages_of(domain: Domain) -> list[str]:
    """The languages that have, or must have, a catalog of the domain."""
    present = {p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{domain.name}.po")}
    return sorted(set(domain.languages) | present)


def required(domain: Domain, lang: str, wanted: Catalog) -> list[Any]:
    if lang in domain.languages:
        return [m.id for m in wanted if m.id]
    return list(MUST_HAVE.get(domain.name, ()))


def is_translated(text: Any) -> bool:
    return bool(text) and (not isinstance(text, tuple) or all(text))


def missing(domain: Domain) -> dict[str, list[str]]:
    """Language -> messages without a translation (required languages, required messages)."""
    wanted = extract(domain)
    out: dict[str, list[str]] = {}
    for lang in languages_of(domain):
        catalog = read(domain.name, lang)
        gaps = []
        for msgid in required(domain, lang, wanted):
            found = catalog.get(msgid) if catalog is not None else None
            if found is None or found.fuzzy or not is_translated(found.string):
                gaps.append(msgid if isinstance(msgid, str) else msgid[0])
        if gaps:
            out[lang] = gaps
    return out


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def wrong_placeholders(catalog: Catalog) -> list[str]:
    """The messages whose translation drops, adds or renames a placeholder (%(number)s).

    A plural form that states its number in words (a singular, an Arabic dual) may drop
    it; the last form, used for the general case, must keep every placeholder.
    """
    problems = []
    for message in catalog:
        if not message.id or not is_translated(message.string):
            continue
        if isinstance(message.id, tuple):
            wanted = placeholders(message.id[1])
            forms = list(message.string)
            ok = all(placeholders(f) <= wanted for f in forms)
            ok = ok and placeholders(forms[-1]) == wanted
        else:
            ok = placeholders(message.string) == placeholders(message.id)
        if not ok:
            problems.append(message.id if isinstance(message.id, str) else message.id[0])
    return problems


def placeholder_problems(domain: Domain) -> dict[str, list[str]]:
    """Language -> wrong_placeholders of its catalog of the domain."""
    out = {}
    for lang in languages_of(domain):
        catalog = read(domain.name, lang)
        if catalog is not None and (problems := wrong_placeholders(catalog)):
            out[lang] = problems
    return out


# Whether a native speaker has reviewed a catalog: a line of its header, kept by every update.
REVIEW_LINE = re.compile(r"^# Native review: (.*)$", re.M)


def review_of(catalog: Catalog) -> str:
    found = REVIEW_LINE.search(catalog.header_comment or "")
    return found.group(1).strip() if found else "no"


def set_review(catalog: Catalog, text: str) -> None:
    comment = (catalog.header_comment or "").strip("\n")
    line = f"# Native review: {text}"
    if REVIEW_LINE.search(comment):
        comment = REVIEW_LINE.sub(line, comment)
    else:
        comment = comment.rstrip("#").rstrip("\n") + f"\n{line}\n#"
    catalog.header_comment = comment


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
    if lang and not REVIEW_LINE.search(catalog.header_comment or ""):
        set_review(catalog, "no")
    if lang in PLURAL_FORMS:
        catalog.mime_headers = [(k, v) for k, v in catalog.mime_headers if k != "Plural-Forms"] + [
            ("Plural-Forms", PLURAL_FORMS[lang])
        ]


_CREATED = re.compile(rb'^"POT-Creation-Date: .*\\n"\n', re.MULTILINE)


def _store(path: Path, text: bytes) -> bool:
    """Write a catalog unless only its creation date would change: an update that finds
    nothing new leaves every file as it was, and a commit shows only real changes."""
    if path.exists() and _CREATED.sub(b"", path.read_bytes()) == _CREATED.sub(b"", text):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)
    return True


def _rendered(catalog: Catalog, **options: Any) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=100, **options)
    return out.getvalue()


def write(catalog: Catalog, path: Path) -> bool:
    return _store(path, _rendered(catalog, ignore_obsolete=True, include_previous=False))


def update(domain: Domain) -> list[Path]:
    """Write the template and merge it into every catalog the domain has or needs;
    returns the files that changed."""
    template = extract(domain)
    _headers(template)
    pot = LOCALES_DIR / f"{domain.name}.pot"
    written = [pot] if _store(pot, _rendered(template, omit_header=False)) else []
    for lang in languages_of(domain):
        catalog = read(domain.name, lang) or Catalog(locale=lang, domain=domain.name)
        # no guesses from similar messages: a wrong guess reads as a translation
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        _headers(catalog)
        path = po_path(domain.name, lang)
        if write(catalog, path):
            written.append(path)
    return written


def all_missing(domains: Iterable[Domain] | None = None) -> dict[str, dict[str, list[str]]]:
    return {d.name: missing(d) for d in (domains or DOMAINS.values())}
