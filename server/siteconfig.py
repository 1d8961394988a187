"""Load a TOML description of sites, services, visit reasons and counters into the database.

The file describes the whole deployment. It is checked as a whole first and refused with
every problem listed, so a typo never half-applies. Loading is an upsert keyed on the
stable codes and slugs; what the file no longer names is deactivated, never deleted,
because tickets and events refer to it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import catalog
from .db import Database
from .models import Counter, CounterService, Reason, Service, ServiceReason, Site

REQUIRED_LANGS = ("el", "en")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


class ConfigError(ValueError):
    """The file does not describe a valid configuration; `problems` lists why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(problems))
        self.problems = problems


_TEXT = {"type": "string", "minLength": 1}
_LABELS = {"type": "object", "additionalProperties": _TEXT}
_MINUTES = {"type": "integer", "minimum": 1}
_STRUCTURE = {
    "type": "object",
    "properties": {
        "reasons": {
            "type": "array",
            "items": {
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
            },
        },
        "sites": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["slug", "name", "address", "timezone", "services"],
                "properties": {
                    "slug": _TEXT,
                    "name": _LABELS,
                    "address": _LABELS,
                    "timezone": _TEXT,
                    "hours": {"type": "object", "additionalProperties": _TEXT},
                    "priority_max_in_row": {"type": "integer", "minimum": 0},
                    "services": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["slug", "prefix", "labels", "reasons"],
                            "properties": {
                                "slug": _TEXT,
                                "prefix": _TEXT,
                                "labels": _LABELS,
                                "reasons": {"type": "array", "minItems": 1, "items": _TEXT},
                                "max_wait_min": _MINUTES,
                                "default_service_min": _MINUTES,
                            },
                            "additionalProperties": False,
                        },
                    },
                    "counters": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["slug", "labels", "services"],
                            "properties": {
                                "slug": _TEXT,
                                "labels": _LABELS,
                                "services": {
                                    "type": "object",
                                    "minProperties": 1,
                                    "additionalProperties": {"type": "integer", "minimum": 1},
                                },
                            },
                            "additionalProperties": False,
                        },
                    },
                },
                "additionalProperties": False,
            },
        },
    },
    "required": ["sites"],
    "additionalProperties": False,
}


def _where(data: Any, path: list[Any]) -> str:
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


def _structure_problems(data: Any) -> list[str]:
    errors = Draft202012Validator(_STRUCTURE).iter_errors(data)
    return [
        f"{_where(data, list(e.absolute_path))}: {e.message}"
        for e in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
    ]


def _labels(value: dict[str, str], where: str, problems: list[str]) -> None:
    missing = [lang for lang in REQUIRED_LANGS if lang not in value]
    if missing:
        problems.append(f"{where}: labels lack {', '.join(missing)}")


def _check_reasons(reasons: list[dict], problems: list[str]) -> dict[str, dict]:
    by_code: dict[str, dict] = {}
    for i, r in enumerate(reasons):
        code = r["code"]
        where = f"reasons[{i}] ({code})"
        if not _CODE.match(code):
            problems.append(f"{where}: code must look like 'group' or 'group.item'")
            continue
        if code in by_code:
            problems.append(f"{where}: duplicate code")
        by_code[code] = r
        _labels(r["labels"], where, problems)
    for code, r in by_code.items():
        parent = r.get("parent")
        if parent is None:
            continue
        if parent not in by_code or by_code[parent].get("parent") is not None:
            problems.append(f"reason {code}: parent '{parent}' is not a group of this file")
        elif not code.startswith(parent + "."):
            problems.append(f"reason {code}: a child's code starts with its group's code")
    return by_code


def _check_hours(where: str, hours: dict[str, str], problems: list[str]) -> None:
    for day, span in hours.items():
        match = _HOURS.match(span)
        if day not in DAYS or not match:
            problems.append(
                f"{where}: hours entry {day} = {span!r} is not like mon = '08:00-15:00'"
            )
        elif span[:5] >= span[6:]:
            problems.append(f"{where}: hours entry {day} = {span!r} closes before it opens")


def _check_site(i: int, site: dict, reasons: dict[str, dict], problems: list[str]) -> None:
    where = f"sites[{i}] ({site['slug']})"
    if not _SLUG.match(site["slug"]):
        problems.append(f"{where}: slug must be lowercase letters, digits and dashes")
    _labels(site["name"], f"{where} name", problems)
    _labels(site["address"], f"{where} address", problems)
    try:
        ZoneInfo(site["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{where}: unknown timezone {site['timezone']!r}")
    _check_hours(where, site.get("hours", {}), problems)

    slugs, prefixes = set(), set()
    for j, svc in enumerate(site["services"]):
        sw = f"{where} services[{j}] ({svc['slug']})"
        if not _SLUG.match(svc["slug"]) or svc["slug"] in slugs:
            problems.append(f"{sw}: slug malformed or repeated")
        slugs.add(svc["slug"])
        prefix = svc["prefix"]
        if not re.fullmatch(r"[A-Z]", prefix) or prefix in prefixes:
            problems.append(f"{sw}: prefix must be one capital Latin letter, unique in the site")
        prefixes.add(prefix)
        _labels(svc["labels"], sw, problems)
        for code in svc["reasons"]:
            if code not in reasons:
                problems.append(f"{sw}: unknown reason '{code}'")

    counter_slugs: set[str] = set()
    for j, ctr in enumerate(site.get("counters", [])):
        cw = f"{where} counters[{j}] ({ctr['slug']})"
        if not _SLUG.match(ctr["slug"]) or ctr["slug"] in counter_slugs:
            problems.append(f"{cw}: slug malformed or repeated")
        counter_slugs.add(ctr["slug"])
        _labels(ctr["labels"], cw, problems)
        for svc_slug in ctr["services"]:
            if svc_slug not in slugs:
                problems.append(f"{cw}: unknown service '{svc_slug}'")


def parse(path: str | Path) -> dict[str, Any]:
    """Read and check a configuration file; raise ConfigError listing every problem.

    The shape (tables, lists, types) is checked first against a schema; the meaning
    (references, uniqueness, formats) only once the shape is right.
    """
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    problems = _structure_problems(data)
    if problems:
        raise ConfigError(problems)
    reasons = _check_reasons(data.get("reasons", []), problems)
    seen: set[str] = set()
    for i, site in enumerate(data["sites"]):
        if site["slug"] in seen:
            problems.append(f"sites[{i}] ({site['slug']}): duplicate site slug")
        seen.add(site["slug"])
        _check_site(i, site, reasons, problems)
    if problems:
        raise ConfigError(problems)
    return data


def _expand(codes: list[str], reasons: dict[str, dict]) -> set[str]:
    """A group code stands for the group and all its children."""
    out: set[str] = set()
    for code in codes:
        out.add(code)
        out.update(c for c, r in reasons.items() if r.get("parent") == code)
    return out


def _upsert_reasons(s: Session, reasons: list[dict]) -> None:
    existing = {r.code: r for r in s.scalars(select(Reason))}
    s.execute(update(Reason).values(active=False))
    # groups first, so children's foreign keys find their parent
    ordered = sorted(enumerate(reasons), key=lambda ir: ir[1].get("parent") is not None)
    for position, r in ordered:
        row = existing.get(r["code"]) or Reason(code=r["code"])
        row.parent_code = r.get("parent")
        row.pictogram = r["pictogram"]
        row.sensitive = bool(r.get("sensitive", False))
        row.labels = dict(r["labels"])
        row.position = position
        row.active = True
        s.add(row)
        s.flush()


def _upsert_site(s: Session, data: dict, reasons: dict[str, dict]) -> None:
    site = s.scalar(select(Site).where(Site.slug == data["slug"])) or Site(slug=data["slug"])
    site.name, site.address = dict(data["name"]), dict(data["address"])
    site.timezone = data["timezone"]
    site.hours = dict(data.get("hours") or {})
    site.priority_max_in_row = data.get("priority_max_in_row", 2)
    site.active = True
    s.add(site)
    s.flush()

    services = {
        svc.slug: svc for svc in s.scalars(select(Service).where(Service.site_id == site.id))
    }
    for svc in services.values():
        svc.active = False
    s.flush()  # frees prefixes of retired services
    for position, entry in enumerate(data["services"]):
        svc = services.get(entry["slug"]) or Service(site_id=site.id, slug=entry["slug"])
        svc.prefix = entry["prefix"]
        svc.labels = dict(entry["labels"])
        svc.max_wait_min = entry.get("max_wait_min", 45)
        svc.default_service_min = entry.get("default_service_min", 10)
        svc.position, svc.active = position, True
        svc.reason_links = [
            ServiceReason(reason_code=code) for code in sorted(_expand(entry["reasons"], reasons))
        ]
        s.add(svc)
        services[svc.slug] = svc
    s.flush()

    counters = {c.slug: c for c in s.scalars(select(Counter).where(Counter.site_id == site.id))}
    for ctr in counters.values():
        ctr.active = False
    for position, entry in enumerate(data.get("counters") or []):
        ctr = counters.get(entry["slug"]) or Counter(site_id=site.id, slug=entry["slug"])
        ctr.labels = dict(entry["labels"])
        ctr.position, ctr.active = position, True
        ctr.service_links = [
            CounterService(service_id=services[slug].id, weight=weight)
            for slug, weight in entry["services"].items()
        ]
        s.add(ctr)
    s.flush()


def load(db: Database, path: str | Path) -> dict[str, int]:
    """Check the file, then apply it in one transaction; returns what it holds."""
    data = parse(path)
    reasons = {r["code"]: r for r in data.get("reasons") or []}
    with db.write() as s:
        _upsert_reasons(s, data.get("reasons") or [])
        named = [site["slug"] for site in data["sites"]]
        retired = select(Site.id).where(Site.slug.not_in(named))
        s.execute(update(Site).where(Site.slug.not_in(named)).values(active=False))
        s.execute(update(Service).where(Service.site_id.in_(retired)).values(active=False))
        s.execute(update(Counter).where(Counter.site_id.in_(retired)).values(active=False))
        for site in data["sites"]:
            _upsert_site(s, site, reasons)
    catalog.invalidate(db)
    return {
        "sites": len(data["sites"]),
        "services": sum(len(site["services"]) for site in data["sites"]),
        "counters": sum(len(site.get("counters") or []) for site in data["sites"]),
        "reasons": len(reasons),
    }
