"""What makes a configuration valid: the one set of rules for the TOML files and the admin forms.

A configuration is a document (the parsed TOML: reasons, and sites with their services and
counters). `check` returns every problem with the document at once, each with the path of
the value it is about, so the command line can print them all and an admin form can show
each next to its field, in the reader's language. The shape (tables, lists, types) is
checked first against a schema; the meaning (references, uniqueness, formats) only once
the shape is right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..i18n import LANGUAGES, N_

REQUIRED_LANGS = ("el", "en")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
PREFIX = re.compile(r"[A-Z]")
OVERDUE = ("call_first", "alert")  # what a wait past the service's maximum does
# days a site keeps ticket-level detail (server/retention.py); 0 keeps only the day's
# aggregates, and ten years is as long as a retention limit can mean anything
RETENTION_DAYS_MAX = 3650
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# the pictograms the server ships (and the kiosk and the admin pages show), by name
PICTOGRAM_DIR = Path(__file__).resolve().parents[1] / "web" / "static" / "pictograms"
PICTOGRAMS = frozenset(p.stem for p in PICTOGRAM_DIR.glob("*.svg"))

Where = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document: where, and a message to translate.

    `message` is English source text with %(name)s placeholders (the `messages` catalog
    translates it); `where` names the place for someone reading the file, slugs included.
    """

    path: Where
    where: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, gettext: Any = None) -> str:
        """The message alone, translated by `gettext` if given: what a form shows."""
        template = gettext(self.message) if gettext else self.message
        return template % self.params if self.params else template

    def __str__(self) -> str:
        return f"{self.where}: {self.text()}"


class ConfigError(ValueError):
    """The document is not a valid configuration; `problems` lists why, as text."""

    def __init__(self, found: list[Problem]) -> None:
        self.found = found
        self.problems = [str(p) for p in found]
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(self.problems))


_TEXT = {"type": "string", "minLength": 1}
_LABELS = {"type": "object", "additionalProperties": _TEXT}
_MINUTES = {"type": "integer", "minimum": 1}
_CODES = {"type": "array", "items": _TEXT}
SERVICE_SCHEMA = {
    "type": "object",
    "required": ["slug", "labels", "reasons"],
    "properties": {
        "slug": _TEXT,
        "prefix": _TEXT,
        "private": {"type": "boolean"},
        "numbers_from": _TEXT,
        "labels": _LABELS,
        "reasons": {**_CODES, "minItems": 1},
        "max_wait_min": _MINUTES,
        "when_overdue": {"enum": list(OVERDUE)},
        "default_service_min": _MINUTES,
    },
    "additionalProperties": False,
}
COUNTER_SCHEMA = {
    "type": "object",
    "required": ["slug", "labels", "services"],
    "properties": {
        "slug": _TEXT,
        "labels": _LABELS,
        "private": {"type": "boolean"},
        "services": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "integer", "minimum": 1},
        },
    },
    "additionalProperties": False,
}
REASON_SCHEMA = {
    "type": "object",
    "required": ["code", "pictogram", "labels"],
    "properties": {
        "code": _TEXT,
        "parent": _TEXT,
        "pictogram": _TEXT,
        "sensitive": {"type": "boolean"},
        "labels": _LABELS,
    },
    "additionalProperties": False,
}
SITE_SCHEMA = {
    "type": "object",
    "required": ["slug", "name", "address", "timezone", "services"],
    "properties": {
        "slug": _TEXT,
        "name": _LABELS,
        "address": _LABELS,
        "timezone": _TEXT,
        "hours": {"type": "object", "additionalProperties": _TEXT},
        "priority_max_in_row": {"type": "integer", "minimum": 0},
        "retention_days": {"type": "integer", "minimum": 0, "maximum": RETENTION_DAYS_MAX},
        "reasons_off": _CODES,
        "phone_languages": _CODES,
        "closures": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["from", "to"],
                "properties": {"from": _TEXT, "to": _TEXT},
                "additionalProperties": False,
            },
        },
        "messages": {"type": "array", "items": _LABELS},
        "services": {"type": "array", "minItems": 1, "items": SERVICE_SCHEMA},
        "counters": {"type": "array", "items": COUNTER_SCHEMA},
    },
    "additionalProperties": False,
}
PERSON_SCHEMA = {
    "type": "object",
    "required": ["username", "languages"],
    "properties": {"username": _TEXT, "languages": {**_CODES, "minItems": 1}},
    "additionalProperties": False,
}
STRUCTURE = {
    "type": "object",
    "properties": {
        "reasons": {"type": "array", "items": REASON_SCHEMA},
        "sites": {"type": "array", "minItems": 1, "items": SITE_SCHEMA},
        # the languages existing staff accounts speak with visitors (no account is made here)
        "staff": {"type": "array", "items": PERSON_SCHEMA},
    },
    "required": ["sites"],
    "additionalProperties": False,
}

_TYPE_MESSAGES = {
    "integer": N_("must be a whole number"),
    "string": N_("must be text"),
    "boolean": N_("must be true or false"),
    "array": N_("must be a list"),
    "object": N_("must be a table of names and values"),
}


def where(data: Any, path: Where) -> str:
    """'sites[0] (thess-east) counters[2] (desk-3).services' for an error location."""
    out, node = "", data
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else None
            name = node.get("slug") or node.get("code") if isinstance(node, dict) else None
            if isinstance(name, str):
                out += f" ({name})"
        else:
            out += f"{'.' if out and not out.endswith(')') else ' ' if out else ''}{key}"
            node = node.get(key) if isinstance(node, dict) else None
    return out or "the file"


def _schema_problem(data: Any, error: ValidationError) -> Problem:
    """A schema error in words a coordinator reads, for the value it is about."""
    path: Where = tuple(error.absolute_path)
    kind, value = error.validator, error.validator_value
    message, params = error.message, {}
    if kind == "required":
        missing = next(name for name in value if name not in error.instance)
        path, message = (*path, missing), N_("is required")
    elif kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        message, params = N_("has unknown entries: %(names)s"), {"names": ", ".join(extra)}
    elif kind == "type" and value in _TYPE_MESSAGES:
        message = _TYPE_MESSAGES[value]
    elif kind == "minimum":
        message, params = N_("must be %(minimum)s or more"), {"minimum": value}
    elif kind == "maximum":
        message, params = N_("must be %(maximum)s or less"), {"maximum": value}
    elif kind in ("minItems", "minProperties"):
        message = N_("needs at least one entry")
    elif kind == "minLength":
        message = N_("must not be empty")
    elif kind == "enum":
        message, params = N_("must be one of: %(values)s"), {"values": ", ".join(map(str, value))}
    return Problem(path, where(data, path), message, params)


class _Checker:
    """Collects the problems of one document; each rule is one method."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.found: list[Problem] = []

    def add(self, path: Where, message: str, **params: Any) -> None:
        self.found.append(Problem(path, where(self.data, path), message, params))

    def labels(self, path: Where, value: dict[str, str]) -> None:
        for lang in REQUIRED_LANGS:
            if lang not in value:
                self.add((*path, lang), N_("a label in %(lang)s is required"), lang=lang)

    def reasons(self) -> dict[str, dict]:
        by_code: dict[str, dict] = {}
        for i, r in enumerate(self.data.get("reasons", [])):
            code = r["code"]
            if not CODE.match(code):
                self.add(("reasons", i, "code"), N_("a code looks like 'group' or 'group.item'"))
                continue
            if code in by_code:
                self.add(("reasons", i, "code"), N_("this code is used twice"))
            by_code[code] = r
            self.labels(("reasons", i, "labels"), r["labels"])
            if r["pictogram"] not in PICTOGRAMS:
                self.add(
                    ("reasons", i, "pictogram"),
                    N_("no pictogram '%(name)s' is shipped"),
                    name=r["pictogram"],
                )
        for i, r in enumerate(self.data.get("reasons", [])):
            parent, code = r.get("parent"), r["code"]
            if parent is None or code not in by_code:
                continue
            if parent not in by_code or by_code[parent].get("parent") is not None:
                self.add(
                    ("reasons", i, "parent"),
                    N_("parent '%(parent)s' is not a group of this file"),
                    parent=parent,
                )
            elif not code.startswith(parent + "."):
                self.add(("reasons", i, "code"), N_("a child's code starts with its group's code"))
        return by_code

    def hours(self, path: Where, hours: dict[str, str]) -> None:
        for day, span in hours.items():
            if day not in DAYS or not HOURS.match(span):
                self.add(
                    (*path, day),
                    N_("hours entry %(day)s = '%(span)s' is not like mon = '08:00-15:00'"),
                    day=day,
                    span=span,
                )
            elif span[:5] >= span[6:]:
                self.add(
                    (*path, day),
                    N_("hours entry %(day)s = '%(span)s' closes before it opens"),
                    day=day,
                    span=span,
                )

    def closure(self, path: Where, closure: dict[str, str]) -> None:
        days = {}
        for end in ("from", "to"):
            try:
                if not DATE.match(closure[end]):
                    raise ValueError(closure[end])
                days[end] = date.fromisoformat(closure[end])
            except ValueError:
                self.add((*path, end), N_("write a date like 2026-12-25"))
        if len(days) == 2 and days["from"] > days["to"]:
            self.add((*path, "to"), N_("the last day comes before the first"))

    def site(self, i: int, site: dict, reasons: dict[str, dict]) -> None:
        at: Where = ("sites", i)
        if not SLUG.match(site["slug"]):
            self.add((*at, "slug"), N_("use lowercase letters, digits and dashes"))
        self.labels((*at, "name"), site["name"])
        self.labels((*at, "address"), site["address"])
        try:
            ZoneInfo(site["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            self.add((*at, "timezone"), N_("unknown timezone '%(zone)s'"), zone=site["timezone"])
        self.hours((*at, "hours"), site.get("hours", {}))
        for j, closure in enumerate(site.get("closures", [])):
            self.closure((*at, "closures", j), closure)
        for j, message in enumerate(site.get("messages", [])):
            self.labels((*at, "messages", j), message)
        for j, code in enumerate(site.get("reasons_off", [])):
            if code not in reasons:
                self.add((*at, "reasons_off", j), N_("unknown reason '%(code)s'"), code=code)
        for j, code in enumerate(site.get("phone_languages", [])):
            if code not in LANGUAGES:
                self.add((*at, "phone_languages", j), N_("unknown language '%(code)s'"), code=code)

        slugs: set[str] = set()
        prefixes: set[str] = set()
        numbering = {svc["slug"]: svc for svc in site["services"] if "numbers_from" not in svc}
        for j, svc in enumerate(site["services"]):
            sp: Where = (*at, "services", j)
            if not SLUG.match(svc["slug"]) or svc["slug"] in slugs:
                self.add((*sp, "slug"), N_("malformed, or used twice"))
            slugs.add(svc["slug"])
            if "numbers_from" in svc:
                self.numbers_from(sp, svc, numbering)
            elif not PREFIX.fullmatch(svc.get("prefix", "")) or svc.get("prefix", "") in prefixes:
                self.add(
                    (*sp, "prefix"), N_("must be one capital Latin letter, unique in the site")
                )
            else:
                prefixes.add(svc["prefix"])
            self.labels((*sp, "labels"), svc["labels"])
            for k, code in enumerate(svc["reasons"]):
                if code not in reasons:
                    self.add((*sp, "reasons", k), N_("unknown reason '%(code)s'"), code=code)

        private = {svc["slug"] for svc in site["services"] if svc.get("private")}
        counter_slugs: set[str] = set()
        for j, ctr in enumerate(site.get("counters", [])):
            cp: Where = (*at, "counters", j)
            if not SLUG.match(ctr["slug"]) or ctr["slug"] in counter_slugs:
                self.add((*cp, "slug"), N_("malformed, or used twice"))
            counter_slugs.add(ctr["slug"])
            self.labels((*cp, "labels"), ctr["labels"])
            for svc_slug in ctr["services"]:
                if svc_slug not in slugs:
                    self.add(
                        (*cp, "services", svc_slug),
                        N_("unknown service '%(service)s'"),
                        service=svc_slug,
                    )
                elif svc_slug in private and not ctr.get("private"):
                    self.add(
                        (*cp, "services", svc_slug),
                        N_("'%(service)s' is private: only a private counter may serve it"),
                        service=svc_slug,
                    )

    def numbers_from(self, at: Where, svc: dict, numbering: dict[str, dict]) -> None:
        """A service that takes another's numbers: that one must number its own tickets
        and be open to all (or the shared numbers would tell which is which); the prefix is
        the other's."""
        other = numbering.get(svc["numbers_from"])
        if other is None or other is svc or other.get("private"):
            self.add(
                (*at, "numbers_from"),
                N_(
                    "must name another service of the site, not private, that numbers its "
                    "own tickets"
                ),
            )
        elif svc.get("prefix", other.get("prefix")) != other.get("prefix"):
            self.add((*at, "prefix"), N_("leave it out: the numbers are the other service's"))

    def staff(self) -> None:
        seen: set[str] = set()
        for i, person in enumerate(self.data.get("staff", [])):
            if person["username"] in seen:
                self.add(("staff", i, "username"), N_("this person is listed twice"))
            seen.add(person["username"])
            for j, code in enumerate(person["languages"]):
                if code not in LANGUAGES:
                    self.add(("staff", i, "languages", j), N_("unknown language '%(code)s'"),
                             code=code)  # fmt: skip

    def run(self) -> list[Problem]:
        self.staff()
        reasons = self.reasons()
        seen: set[str] = set()
        for i, site in enumerate(self.data["sites"]):
            if site["slug"] in seen:
                self.add(("sites", i, "slug"), N_("another site has this slug"))
            seen.add(site["slug"])
            self.site(i, site, reasons)
        return self.found


def check(data: Any) -> list[Problem]:
    """Every problem with a configuration document; an empty list means it is valid."""
    errors = Draft202012Validator(STRUCTURE).iter_errors(data)
    shape = [
        _schema_problem(data, e)
        for e in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
    ]
    return shape or _Checker(data).run()


def require_valid(data: Any) -> dict[str, Any]:
    """The document itself, or ConfigError listing everything wrong with it."""
    found = check(data)
    if found:
        raise ConfigError(found)
    return data
