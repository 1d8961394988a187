"""Every catalog of every domain translates what the sources use, keeps the placeholders,
and counts plurals as CLDR does: a new string without its translation fails here."""

from __future__ import annotations

import gettext

import pytest
from babel.messages.catalog import Catalog

from server import announce, i18n, translations


@pytest.mark.parametrize("name", sorted(translations.DOMAINS))
def test_catalogs_translate_every_message_the_sources_use(name: str) -> None:
    domain = translations.DOMAINS[name]
    assert len(translations.extract(domain)) >= 5
    assert translations.missing(domain) == {}


def test_the_five_domains_are_one_workflow() -> None:
    assert set(translations.DOMAINS) == {"messages", "display", "reports", "printers", "visitors"}
    for name in ("printers", "visitors"):  # what visitors read, in every visitor language
        assert set(translations.DOMAINS[name].languages) == set(i18n.LANGUAGES) - {"en"}


@pytest.mark.parametrize("name", sorted(translations.DOMAINS))
def test_no_translation_drops_or_changes_a_placeholder(name: str) -> None:
    assert translations.placeholder_problems(translations.DOMAINS[name]) == {}


def test_a_dropped_or_renamed_placeholder_is_found() -> None:
    catalog = Catalog(locale="ar")
    catalog.add("Ticket %(number)s", "التذكرة")  # dropped
    catalog.add("Desk %(n)s", "المكتب %(m)s")  # renamed
    catalog.add("Go to %(counter)s", "توجّه إلى %(counter)s")  # kept
    catalog.add(
        ("%(num)s person", "%(num)s people"),
        ("لا أحد", "شخص واحد", "شخصان", "%(num)s أشخاص", "%(num)s شخصًا", "%(num)s شخص"),
    )  # the singular and the dual say their number in words: allowed
    catalog.add(("%(num)s day", "%(num)s days"), ("%(num)s", "%(num)s", "%(num)s", "x", "y", "z"))
    assert translations.wrong_placeholders(catalog) == [
        "Ticket %(number)s",
        "Desk %(n)s",
        "%(num)s day",
    ]


ARABIC = [n for n in sorted(translations.DOMAINS) if translations.po_path(n, "ar").exists()]


@pytest.mark.parametrize("name", ARABIC)
def test_arabic_counts_as_cldr_does(name: str) -> None:
    """Babel issue 816 writes the forms for 11-99 and 100+ swapped: 11 must take form 4,
    100 form 5."""
    catalog = translations.read(name, "ar")
    assert catalog is not None
    plural = gettext.c2py(catalog.plural_expr)
    assert [plural(n) for n in (0, 1, 2, 3, 10, 11, 99, 100, 101, 111, 1000)] == [
        0, 1, 2, 3, 3, 4, 4, 5, 5, 4, 5
    ]  # fmt: skip


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
