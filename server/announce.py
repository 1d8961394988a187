"""What the waiting room hears and reads when a ticket is called.

"A023" is said as a letter and a number ("A, twenty-three"), never digit by digit, first
in Greek and then in the ticket's language; a language the engine has no voice for is
said with the phrases an interpreter recorded for it, else followed by English. The
display writes the call in Greek and English, and in the ticket's language too. The words
come from the `display` gettext catalogs.
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
    """What to say, in a language. `keys`, for a language the engine cannot say, are the
    recorded phrases that say it, in order (see server/recordings.py)."""

    lang: str
    text: str
    keys: tuple[str, ...] = ()


def number_keys(n: int) -> list[str]:
    """A number as recorded words: 0-19 each, then tens and hundreds ("three hundred",
    "twenty", "three" for 323). Larger numbers are said digit by digit."""
    if n < 20:
        return [f"number:{n}"]
    if n < 100:
        tens, units = divmod(n, 10)
        return [f"number:{tens * 10}"] + ([f"number:{units}"] if units else [])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return [f"number:{hundreds * 100}"] + (number_keys(rest) if rest else [])
    return [f"number:{int(d)}" for d in str(n)]


NUMBER_WORDS = [*range(20), *range(20, 100, 10), *range(100, 1000, 100)]


def call_keys(code: str, counter_labels: dict[str, str]) -> tuple[str, ...] | None:
    """The recorded phrases that say a call: "ticket", the letter, the number, "counter",
    the counter's number; None for a code or a counter that has no number to say."""
    match = _CODE.match(code)
    counter = _counter_words(counter_labels, "en")
    if match is None or not counter.isdigit():
        return None
    letters = [f"letter:{c}" for c in match["prefix"]]
    number = number_keys(int(match["number"]))
    return ("call:ticket", *letters, *number, "call:counter", *number_keys(int(counter)))


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


def _never(_lang: str, _keys: tuple[str, ...]) -> bool:
    return False


def phrases(
    code: str,
    counter_labels: dict[str, str],
    lang: str,
    can_speak: Callable[[str], bool],
    recorded: Callable[[str, tuple[str, ...]], bool] = _never,
) -> list[Phrase]:
    """Greek first, then the visitor's language: by the speech engine, else by the phrases
    an interpreter recorded (`recorded(lang, keys)`: all of them are there), else English.
    """
    said = [phrase(code, counter_labels, "el")]
    keys = call_keys(code, counter_labels)
    if lang == "el":
        return said
    if can_speak(lang):
        return [*said, phrase(code, counter_labels, lang)]
    if keys is not None and recorded(lang, keys):
        return [*said, Phrase(lang, phrase(code, counter_labels, lang).text, keys)]
    return [*said, phrase(code, counter_labels, "en")]
