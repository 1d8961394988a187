"""The messages of the `visitors` gettext domain, and the command that keeps catalogs current.

Visitors see three kinds of text: the kiosk's (`t("...")` in its scripts, `data-t="..."` in
its template), the status page's (`_()` in its templates) and the labels of the site files
(reasons, services, counters: Greek and English there, every other language here).

    python -m kiosk.messages    # write locales/visitors.pot, update every visitors.po
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from server import i18n

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "server" / "sites"
POT = i18n.LOCALES_DIR / "visitors.pot"
DOMAIN = "visitors"
DATA_T = re.compile(rb'data-t="([^"]+)"')


def extract_data_t(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction method: the English text of every `data-t="..."` attribute."""
    for lineno, line in enumerate(fileobj, start=1):
        for found in DATA_T.finditer(line):
            yield lineno, "_", found.group(1).decode(), []


# (folder, babel method map, keywords)
SOURCES: list[tuple[Path, list[tuple[str, Any]], dict[str, Any]]] = [
    (ROOT / "kiosk" / "static", [("*.js", "javascript")], {"t": None}),
    (ROOT / "kiosk" / "templates", [("**.html", extract_data_t)], {"_": None}),
    (ROOT / "status" / "templates", [("**.html", "jinja2")], {"_": None}),
]


def site_labels() -> Iterator[tuple[str, str]]:
    """(English label, where) for each reason, service and counter of every site file."""
    for path in sorted(SITES.glob("*.toml")):
        config = tomllib.loads(path.read_text(encoding="utf-8"))
        where = f"server/sites/{path.name}"
        for reason in config.get("reasons", []):
            yield reason["labels"]["en"], f"{where}:{reason['code']}"
        for site in config.get("sites", []):
            for kind in ("services", "counters"):
                for item in site.get(kind, []):
                    yield item["labels"]["en"], f"{where}:{site['slug']}/{item['slug']}"


def messages() -> Catalog:
    """Every message of the domain, with where it comes from."""
    catalog = Catalog(domain=DOMAIN, project="Seira", charset="utf-8")
    for folder, methods, keywords in SOURCES:
        for filename, lineno, message, comments, _context in extract_from_dir(
            str(folder), methods, keywords=keywords
        ):
            where = (folder / filename).relative_to(ROOT).as_posix()
            catalog.add(message, locations=[(where, lineno)], auto_comments=comments)
    for text, where in site_labels():
        catalog.add(text, locations=[(where, None)])
    return catalog


def catalog_path(lang: str) -> Path:
    return i18n.LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def main() -> None:
    template = messages()
    with POT.open("wb") as out:
        write_po(out, template, width=100, omit_header=False)
    for lang in i18n.LANGUAGES:
        path = catalog_path(lang)
        if not path.exists():
            continue  # a new language starts from a copy of the .pot (see locales/README.md)
        with path.open("rb") as po:
            catalog = read_po(po, locale=lang, domain=DOMAIN)
        catalog.update(template, update_header_comment=False)
        with path.open("wb") as out:
            write_po(out, catalog, width=100, ignore_obsolete=True)


if __name__ == "__main__":
    main()
