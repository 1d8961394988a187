"""What the waiting room hears and reads when a ticket is called.

"A023" is said as a letter and a number ("A, twenty-three"), never digit by digit, first
in Greek and then in the ticket's language; a language without a voice is followed by
English instead. The display writes the call in Greek and English, and in the ticket's
language too. The words come from the `display` gettext catalogs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from . import i18n

_CODE = re.compile(r"^(?P<prefix>\D*)(?P<number>\d+)$")
_DIGITS = re.compile(r"\d+")
# Latin prefixes that Greek readers know as Greek capitals (the display shows "Α023")
_GREEK_LOOKALIKE = str.maketrans("ABEZHIKMNOPTYX", "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ")


@dataclass(frozen=True)
class Phrase:
    lang: str
    text: str


def _spoken_code(code: str, lang: str) -> str:
    """'A023' -> 'A 23' (Greek: 'Α 23'), so that engines read the number as a number."""
    match = _CODE.match(code)
    if match is None:
        return code
    prefix = match["prefix"]
    if lang == "el":
        prefix = prefix.translate(_GREEK_LOOKALIKE)
    return f"{prefix} {int(match['number'])}".strip()


def _counter_words(labels: dict[str, str], lang: str) -> str:
    """The counter as the phrase needs it: its number where it has one, else its label."""
    for source in (labels.get(lang), labels.get("en"), labels.get("el")):
        digits = _DIGITS.search(source or "")
        if digits:
            return digits.group()
    return labels.get(lang) or labels.get("el") or next(iter(labels.values()), "")


def phrase(code: str, counter_labels: dict[str, str], lang: str) -> Phrase:
    text = i18n.translations(lang, "display").gettext("Ticket %(number)s, counter %(counter)s")
    words = {"number": _spoken_code(code, lang), "counter": _counter_words(counter_labels, lang)}
    return Phrase(lang, text % words)


def written(counter_labels: dict[str, str], lang: str) -> dict[str, str]:
    """The display's words for a call in the ticket's own language and direction, shown
    under the Greek and English: "Ticket", "Go to", and the counter's name."""
    words = i18n.translations(lang, "display")
    return {
        "lang": lang,
        "dir": i18n.language(lang).dir,
        "ticket": words.gettext("Ticket"),
        "go_to": words.gettext("Go to"),
        "counter": i18n.label(counter_labels, lang),
    }


def phrases(
    code: str, counter_labels: dict[str, str], lang: str, can_speak: Callable[[str], bool]
) -> list[Phrase]:
    """Greek first, then the visitor's language, or English when it has no voice."""
    wanted = ["el", lang if can_speak(lang) else "en"]
    return [phrase(code, counter_labels, each) for each in dict.fromkeys(wanted)]
