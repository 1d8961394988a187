"""Every message visitors can see is translated into every kiosk language."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from server import i18n, translations

ARABIC_PLURALS = (
    "(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 && n%100<=99 ? 4 : 5)"
)


@pytest.fixture(scope="module")
def expected() -> set[str]:
    return {m.id for m in translations.extract(translations.DOMAINS["visitors"]) if m.id}


def test_extraction_finds_kiosk_status_page_and_site_labels(expected: set[str]) -> None:
    assert "Touch your language" in expected  # kiosk.js
    assert "Why are you here today?" in expected  # kiosk template (data-t)
    assert "It is your turn! Please go to:" in expected  # status page template
    assert "Support for women" in expected  # a reason of the site file
    assert "Social services" in expected and "Desk 3" in expected  # service, counter
    labels = [text for text, _where in translations.site_labels()]
    assert len(set(labels)) >= 51 + 3


def test_template_is_current(expected: set[str]) -> None:
    with (i18n.LOCALES_DIR / "visitors.pot").open("rb") as pot:
        assert {m.id for m in read_po(pot) if m.id} == expected


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_every_message_is_translated(lang: str, expected: set[str]) -> None:
    with translations.po_path("visitors", lang).open("rb") as po:
        catalog = read_po(po, locale=lang, domain="visitors")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert not expected - translated, sorted(expected - translated)
    assert catalog.plural_forms.startswith(f"nplurals={catalog.num_plurals};")
    if lang == "ar":
        assert catalog.num_plurals == 6 and catalog.plural_expr == ARABIC_PLURALS


def test_labels_come_from_the_catalog_beyond_greek_and_english() -> None:
    labels = {"el": "Υγεία", "en": "Health"}
    assert i18n.label(labels, "el") == "Υγεία"
    assert i18n.label(labels, "en") == "Health"
    assert i18n.label(labels, "ar") == "الصحة"
    assert i18n.label(labels, "ti") == "ጥዕና"
    assert i18n.label({"el": "Κάτι", "en": "Not in any catalog"}, "fr") == "Not in any catalog"
    assert i18n.label(labels, "xx") == "Health"
