"""Admin forms as edits of the configuration document, checked by the loader's own rules.

An admin form never writes a table. It changes one item (a site's settings, a service, a
counter, a reason) in the document `seira config export` would write, and hands the whole
document to the front desk, which checks it with `server.siteconfig.rules`, writes it and
logs it in one transaction. So a form accepts exactly what a TOML file may say, and a
change is applied whole or not at all.

Form fields are named by their place in the item: `prefix`, `labels.en`,
`services.general` (a counter's weight for a service), so that each problem the rules
find lands next to the field it is about.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from server import i18n, siteconfig
from server.siteconfig.rules import Problem, Where

LANGS = tuple(i18n.LANGUAGES)  # el and en first: the ones a label needs


def labels(form: MultiDict[str, str], name: str = "labels") -> dict[str, str]:
    """The `labels.<lang>` fields that were filled in."""
    found = {lang: form.get(f"{name}.{lang}", "").strip() for lang in LANGS}
    return {lang: text for lang, text in found.items() if text}


def number(form: MultiDict[str, str], name: str) -> int | str | None:
    """A whole number as typed; text that is not one is passed on for the rules to refuse
    in the reader's language; an empty field is left out (the default applies)."""
    raw = form.get(name, "").strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() else raw


def without_empty(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


@dataclass
class Errors:
    """What the rules found: per field name, and what belongs to no field of this form."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def field_names(relative: Where) -> list[str]:
    """`("labels", "en")` -> ["labels.en"]; `("closures", 1, "to")` -> ["closures.1.to",
    "closures.to"]: a field of one row of a list, and of the list as a whole."""
    exact = ".".join(str(part) for part in relative)
    whole = ".".join(str(part) for part in relative if not isinstance(part, int))
    return [exact] if exact == whole else [exact, whole]


def sort_out(problems: list[Problem], item: Where, gettext: Callable[[str], str]) -> Errors:
    """Problems of the item's fields go next to them; the others are shown above the form."""
    errors = Errors()
    for problem in problems:
        if problem.path[: len(item)] == item and len(problem.path) > len(item):
            for name in field_names(problem.path[len(item) :]):
                errors.fields.setdefault(name, problem.text(gettext))
        else:
            errors.general.append(f"{problem.where}: {problem.text(gettext)}")
    return errors


def check_item(data: dict[str, Any], item: Where, gettext: Callable[[str], str]) -> Errors:
    """Check a document with one item edited, reporting against that item.

    A rule about two items (a prefix used twice) names the later one; the edited item is
    moved to the end of its list for the check only, so the problem is reported on it."""
    *list_path, position = item
    checked = copy.deepcopy(data)
    node: Any = checked
    for key in list_path:
        node = node[key]
    assert isinstance(position, int)
    node.append(node.pop(position))
    return sort_out(siteconfig.check(checked), (*list_path, len(node) - 1), gettext)
