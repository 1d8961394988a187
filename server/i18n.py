"""Languages and translations, without Flask: pages, printed tickets and speech share them.

Catalogs are the gettext `.po` files under `locales/<lang>/LC_MESSAGES/<domain>.po`, one
domain per feature so that each feature's strings live beside each other. They are
compiled in memory on first use, so no generated `.mo` file is kept in the repository.
A missing catalog or message falls back to the English source text.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
TIMEZONE = "Europe/Athens"


@dataclass(frozen=True)
class Language:
    """A language a visitor can choose: its code, its own name, direction and voice."""

    code: str  # a Babel locale code: "el", "fa_AF", "ckb"
    native: str  # the language's name in its own script
    english: str
    voice: str | None  # the espeak-ng voice, or None when there is none

    @property
    def rtl(self) -> bool:
        return Locale.parse(self.code).text_direction == "rtl"

    @property
    def dir(self) -> str:
        return "rtl" if self.rtl else "ltr"


# The order is the kiosk's: the local language, English, then by how often centres hear them.
LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in [
        Language("el", "Ελληνικά", "Greek", "el"),
        Language("en", "English", "English", "en"),
        Language("ar", "العربية", "Arabic", "ar"),
        Language("fa", "فارسی", "Farsi", "fa"),
        Language("fa_AF", "دری", "Dari", "fa"),
        Language("ur", "اردو", "Urdu", "ur"),
        Language("ps", "پښتو", "Pashto", None),
        Language("ku", "Kurmancî", "Kurdish (Kurmanji)", "ku"),
        Language("ckb", "کوردیی ناوەندی", "Kurdish (Sorani)", None),
        Language("fr", "Français", "French", "fr"),
        Language("uk", "Українська", "Ukrainian", "uk"),
        Language("ru", "Русский", "Russian", "ru"),
        Language("sq", "Shqip", "Albanian", "sq"),
        Language("bn", "বাংলা", "Bengali", "bn"),
        Language("so", "Soomaali", "Somali", None),
        Language("ti", "ትግርኛ", "Tigrinya", None),
    ]
}
DEFAULT = "el"


def spoken(codes: list[str]) -> list[str]:
    """The languages a staff member speaks, in the kiosk's order; ValueError if none is
    given or a code is not one of LANGUAGES."""
    unknown = sorted(set(codes) - set(LANGUAGES))
    if unknown or not codes:
        known = ", ".join(LANGUAGES)
        raise ValueError(f"languages are one or more of {known}, not {', '.join(unknown)}")
    return [code for code in LANGUAGES if code in set(codes)]


def language(code: str | None) -> Language:
    """The language for a code, or Greek for an unknown one (never an error for a visitor)."""
    return LANGUAGES.get(code or "", LANGUAGES[DEFAULT])


def is_rtl(code: str) -> bool:
    return language(code).rtl


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Mark a message for extraction where it is defined; it is translated where shown."""
    return message


_cache: dict[tuple[str, str], NullTranslations] = {}
_lock = threading.Lock()


def translations(lang: str, domain: str = "messages") -> NullTranslations:
    """The catalog of `domain` in `lang`; English source text where a message is missing."""
    key = (lang, domain)
    found = _cache.get(key)
    if found is None:
        with _lock:
            found = _cache.get(key) or _load(lang, domain)
            _cache[key] = found
    return found


def _load(lang: str, domain: str) -> NullTranslations:
    path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=lang, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=domain)


FALLBACK_LANGS = ("en", "el")


def label(labels: dict[str, str], lang: str) -> str:
    """A configured name (a site, service, reason, counter) in `lang`: a visitor always
    sees words.

    Site files hold Greek and English only; other languages translate the English label
    through the `visitors` catalog, so translators work in one place (the .po files).
    Without either: English, else Greek, else any label there is.
    """
    for candidate in (lang, lang.split("_")[0]):
        if candidate in labels:
            return labels[candidate]
    if "en" in labels and lang in LANGUAGES:
        return translations(lang, "visitors").gettext(labels["en"])
    for candidate in FALLBACK_LANGS:
        if candidate in labels:
            return labels[candidate]
    return next(iter(labels.values()), "")


def forget() -> None:
    """Drop compiled catalogs (tests that edit a catalog, or a reload)."""
    with _lock:
        _cache.clear()
