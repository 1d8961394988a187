"""Every visible string of the staff pages and the display is translated, and the catalogs
match what the sources use: a new string without its translation fails here."""

from __future__ import annotations

import pytest

from server import announce, i18n, translations


@pytest.mark.parametrize("name", sorted(translations.DOMAINS))
def test_catalogs_translate_every_message_the_sources_use(name: str) -> None:
    domain = translations.DOMAINS[name]
    assert len(translations.extract(domain)) > 5
    assert translations.missing(domain) == {}


def test_the_call_is_announced_in_every_language_with_greek_first() -> None:
    for code, language in i18n.LANGUAGES.items():
        said = announce.phrases(
            "A023", {"el": "Γκισέ 3", "en": "Desk 3"}, code, lambda c: c != "ti"
        )
        assert said[0].lang == "el"
        assert said[0].text == "Εισιτήριο Α 23, γκισέ 3"  # a number, not "zero twenty-three"
        expected = "en" if code == "ti" else code
        assert said[-1].lang == expected
        assert "23" in said[-1].text and "3" in said[-1].text, (code, language)
        if code not in ("el", "en"):
            assert said[-1].text != announce.phrase("A023", {}, "en").text, code


def test_a_counter_without_a_number_is_named_by_its_label() -> None:
    said = announce.phrase("K007", {"el": "ΚΕΜ", "en": "Integration desk"}, "el")
    assert said.text == "Εισιτήριο Κ 7, γκισέ ΚΕΜ"


def test_missing_catalogs_fall_back_to_the_english_source() -> None:
    assert i18n.translations("el", "no-such-domain").gettext("Ticket") == "Ticket"
    assert i18n.language("xx").code == "el"
    assert i18n.is_rtl("ar") and i18n.is_rtl("fa_AF") and not i18n.is_rtl("ku")


def test_counters_keep_the_digits_of_the_signs_on_the_desks() -> None:
    """'Desk 3' may be 'باجه 3', never 'باجه ۳': the sign on the desk shows 3."""
    for code in i18n.LANGUAGES:
        text = i18n.translations(code, "visitors").gettext("Desk 3")
        assert "3" in text, (code, text)
