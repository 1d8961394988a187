"""How far each language is, and a language's strings for its interpreters to review.

`status()` is locales/STATUS.md: per language and domain the share translated, whether a
native speaker has reviewed the catalog (the line "# Native review: ..." in each `.po`
header, "no" until someone has), and how the language is heard. `export` writes a
language's strings beside the English source as CSV or XLSX for a centre's interpreters;
`import_reviewed` takes the reviewed file back, changing only the translations, and can
record who reviewed them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from openpyxl import Workbook, load_workbook

from . import translations
from .i18n import LANGUAGES, LOCALES_DIR

STATUS_PATH = LOCALES_DIR / "STATUS.md"
COLUMNS = ("domain", "english", "plural_form", "translation", "used_in")


class ReviewError(ValueError):
    """A reviewed file that cannot be taken back: a wrong language, column or message."""


# --- STATUS.md -------------------------------------------------------------------------------


def _share(domain: translations.Domain, lang: str, wanted: Catalog) -> str:
    catalog = translations.read(domain.name, lang)
    needed = [m.id for m in wanted if m.id]
    if lang == "en":
        return "source"
    if lang not in domain.languages and not translations.MUST_HAVE.get(domain.name):
        return "not needed"
    if catalog is None:
        return f"0 / {len(needed)}"
    done = 0
    for msgid in needed:
        found = catalog.get(msgid)
        done += found is not None and not found.fuzzy and translations.is_translated(found.string)
    extra = "" if lang in domain.languages else " (the call and messages: all)"
    return f"{done} / {len(needed)}{extra}"


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def translated_share(lang: str) -> str:
    """'97 / 97': the messages translated, of those the language must have, all domains."""
    done = needed = 0
    for domain in translations.DOMAINS.values():
        wanted = translations.extract(domain)
        catalog = translations.read(domain.name, lang)
        for msgid in translations.required(domain, lang, wanted):
            needed += 1
            found = catalog.get(msgid) if catalog is not None else None
            if found is not None and not found.fuzzy:
                done += translations.is_translated(found.string)
    return f"{done} / {needed}"


def review(lang: str) -> str:
    if lang == "en":
        return "source"
    seen = {
        translations.review_of(c)
        for d in translations.DOMAINS
        if (c := translations.read(d, lang)) is not None
    }
    return ", ".join(sorted(seen)) or "no"


def _voice(lang: str) -> str:
    language = LANGUAGES[lang]
    if language.voice:
        return f"espeak-ng ({language.voice})"
    return (
        "none: only what an interpreter records (/languages); without it the kiosk does not"
        " read aloud and calls are said in Greek and English"
    )


def status() -> str:
    """locales/STATUS.md, made from the catalogs and the sources as they are."""
    domains = list(translations.DOMAINS.values())
    wanted = {d.name: translations.extract(d) for d in domains}
    head = ["language", *(d.name for d in domains), "native review", "voice"]
    lines = [
        "# Translations: where each language stands",
        "",
        "Written by `seira i18n update`; do not edit by hand. Counts are messages translated",
        "of those the sources use. The review is the line `# Native review:` of each `.po`",
        "header (`seira i18n import ... --reviewer NAME` sets it).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for lang, language in LANGUAGES.items():
        cells = [f"{language.english} (`{lang}`)"]
        cells += [_share(d, lang, wanted[d.name]) for d in domains]
        cells += [review(lang), _voice(lang)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_status() -> Path:
    STATUS_PATH.write_text(status(), encoding="utf-8")
    return STATUS_PATH


# --- export for review, import of the reviewed file ------------------------------------


def _row(*values: Any) -> dict[str, Any]:
    return dict(zip(COLUMNS, values, strict=True))


def rows_of(lang: str) -> list[dict[str, Any]]:
    """Every message a language translates, beside its English source: one row each, one
    per form for plurals."""
    if lang not in LANGUAGES or lang == "en":
        raise ReviewError(f"'{lang}' is not a language to review")
    rows: list[dict[str, Any]] = []
    for domain in translations.DOMAINS.values():
        catalog = translations.read(domain.name, lang)
        if catalog is None:
            continue
        for message in catalog:
            if not message.id:
                continue
            used = " ".join(f"{path}:{line}" if line else path for path, line in message.locations)
            if isinstance(message.id, tuple):
                forms = list(message.string) if message.string else [""] * catalog.num_plurals
                for i, form in enumerate(forms):
                    english = message.id[0] if i == 0 else message.id[1]
                    rows.append(_row(domain.name, english, i, form, used))
            else:
                rows.append(_row(domain.name, message.id, "", message.string, used))
    return rows


def export(lang: str, fmt: str) -> bytes:
    """A language's strings as CSV (UTF-8) or XLSX, for interpreters to review."""
    rows = rows_of(lang)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode("utf-8")
    if fmt == "xlsx":
        book = Workbook()
        sheet = book.active
        sheet.title = lang
        sheet.append(list(COLUMNS))
        for row in rows:
            sheet.append([row[c] for c in COLUMNS])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    raise ReviewError(f"format '{fmt}': csv or xlsx")


def read_rows(data: bytes, fmt: str) -> list[dict[str, Any]]:
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(data), read_only=True).active
        values = list(sheet.iter_rows(values_only=True))
        head = [str(v) for v in values[0]]
        return [
            dict(zip(head, ("" if v is None else v for v in row), strict=False))
            for row in values[1:]
        ]
    raise ReviewError(f"format '{fmt}': csv or xlsx")


def import_reviewed(
    lang: str,
    rows: Iterable[dict[str, Any]],
    reviewer: str | None = None,
    today: date | None = None,
) -> int:
    """Take a reviewed file back: each row's translation replaces the catalog's (the English
    source is the key; nothing else is read). Returns how many translations changed.
    The whole file is checked before any catalog is written."""
    rows = list(rows)
    if rows and set(COLUMNS) - set(rows[0]):
        raise ReviewError(f"the file needs the columns {', '.join(COLUMNS)}")
    catalogs: dict[str, Catalog] = {}
    changed = 0
    for n, row in enumerate(rows, start=2):
        name = str(row["domain"])
        if name not in translations.DOMAINS:
            raise ReviewError(f"row {n}: no domain '{name}'")
        catalog = catalogs.get(name) or translations.read(name, lang)
        if catalog is None:
            raise ReviewError(f"row {n}: '{lang}' has no {name} catalog")
        catalogs[name] = catalog
        english, text = str(row["english"]), str(row["translation"] or "")
        form = str(row["plural_form"] or "")
        message = catalog.get(english) if form in ("", "0") else None
        if message is None:
            message = next(
                (m for m in catalog if isinstance(m.id, tuple) and english in m.id), None
            )
        if message is None:
            raise ReviewError(f"row {n}: '{english}' is not a message of {name}")
        if isinstance(message.id, tuple):
            forms = list(message.string) if message.string else [""] * catalog.num_plurals
            i = int(form or 0)
            if forms[i] != text:
                forms[i] = text
                changed += 1
            message.string = tuple(forms)
        elif message.string != text:
            message.string = text
            changed += 1
        message.flags.discard("fuzzy")
    problems = {name: translations.wrong_placeholders(c) for name, c in catalogs.items()}
    if any(problems.values()):
        raise ReviewError(f"placeholders differ from the English in: {problems}")
    for name, catalog in catalogs.items():
        if reviewer:
            when = (today or date.today()).isoformat()
            translations.set_review(catalog, f"{when} by {reviewer}")
        translations.write(catalog, translations.po_path(name, lang))
    return changed
