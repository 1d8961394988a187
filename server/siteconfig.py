"""Load a TOML description of sites, services, visit reasons and counters into the database.

The file is checked as a whole first and refused with every problem listed, so a typo
never half-applies. Loading is an upsert keyed on the stable codes and slugs; what the file
no longer names is deactivated, never deleted, because tickets and events refer to it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def _labels(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
        problems.append(f"{where}: labels must be a table of language code -> text")
        return
    missing = [lang for lang in REQUIRED_LANGS if lang not in value]
    if missing:
        problems.append(f"{where}: labels lack {', '.join(missing)}")


def _check_reasons(reasons: list[dict], problems: list[str]) -> dict[str, dict]:
    by_code: dict[str, dict] = {}
    for i, r in enumerate(reasons):
        code = r.get("code")
        where = f"reasons[{i}] ({code})"
        if not isinstance(code, str) or not _CODE.match(code):
            problems.append(f"{where}: code must look like 'group' or 'group.item'")
            continue
        if code in by_code:
            problems.append(f"{where}: duplicate code")
        by_code[code] = r
        if not isinstance(r.get("pictogram"), str):
            problems.append(f"{where}: pictogram name missing")
        if not isinstance(r.get("sensitive", False), bool):
            problems.append(f"{where}: sensitive must be true or false")
        _labels(r.get("labels"), where, problems)
    for code, r in by_code.items():
        parent = r.get("parent")
        if parent is None:
            continue
        if parent not in by_code or by_code[parent].get("parent") is not None:
            problems.append(f"reason {code}: parent '{parent}' is not a group of this file")
        elif not code.startswith(parent + "."):
            problems.append(f"reason {code}: a child's code starts with its group's code")
    return by_code


def _check_site(i: int, site: dict, reasons: dict[str, dict], problems: list[str]) -> None:
    where = f"sites[{i}] ({site.get('slug')})"
    if not isinstance(site.get("slug"), str) or not _SLUG.match(site["slug"]):
        problems.append(f"{where}: slug must be lowercase letters, digits and dashes")
    _labels(site.get("name"), f"{where} name", problems)
    _labels(site.get("address"), f"{where} address", problems)
    try:
        ZoneInfo(str(site.get("timezone", "")))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{where}: unknown timezone {site.get('timezone')!r}")
    for day, span in (site.get("hours") or {}).items():
        if day not in DAYS or not isinstance(span, str) or not _HOURS.match(span):
            problems.append(
                f"{where}: hours entry {day} = {span!r} is not like mon = '08:00-15:00'"
            )
    in_row = site.get("priority_max_in_row", 2)
    if not isinstance(in_row, int) or in_row < 0:
        problems.append(f"{where}: priority_max_in_row must be a whole number >= 0")

    services = site.get("services") or []
    if not services:
        problems.append(f"{where}: no services")
    slugs, prefixes = set(), set()
    for j, svc in enumerate(services):
        sw = f"{where} services[{j}] ({svc.get('slug')})"
        slug, prefix = svc.get("slug"), svc.get("prefix")
        if not isinstance(slug, str) or not _SLUG.match(slug) or slug in slugs:
            problems.append(f"{sw}: slug missing, malformed or repeated")
        slugs.add(slug)
        if not isinstance(prefix, str) or not re.fullmatch(r"[A-Z]", prefix) or prefix in prefixes:
            problems.append(f"{sw}: prefix must be one capital Latin letter, unique in the site")
        prefixes.add(prefix)
        _labels(svc.get("labels"), sw, problems)
        codes = svc.get("reasons") or []
        if not codes:
            problems.append(f"{sw}: covers no reasons")
        for code in codes:
            if code not in reasons:
                problems.append(f"{sw}: unknown reason '{code}'")
        for key in ("max_wait_min", "default_service_min"):
            value = svc.get(key, 1)
            if not isinstance(value, int) or value <= 0:
                problems.append(f"{sw}: {key} must be a positive whole number of minutes")

    counter_slugs: set[str] = set()
    counters = site.get("counters") or []
    for j, ctr in enumerate(counters):
        cw = f"{where} counters[{j}] ({ctr.get('slug')})"
        slug = ctr.get("slug")
        if not isinstance(slug, str) or not _SLUG.match(slug) or slug in counter_slugs:
            problems.append(f"{cw}: slug missing, malformed or repeated")
        counter_slugs.add(slug)
        _labels(ctr.get("labels"), cw, problems)
        served = ctr.get("services") or {}
        if not served:
            problems.append(f"{cw}: serves no service")
        for svc_slug, weight in served.items():
            if svc_slug not in slugs:
                problems.append(f"{cw}: unknown service '{svc_slug}'")
            if not isinstance(weight, int) or weight <= 0:
                problems.append(f"{cw}: weight of '{svc_slug}' must be a positive whole number")


def parse(path: str | Path) -> dict[str, Any]:
    """Read and check a configuration file; raise ConfigError listing every problem."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    problems: list[str] = []
    reasons = _check_reasons(data.get("reasons") or [], problems)
    sites = data.get("sites") or []
    if not sites:
        problems.append("no [[sites]]")
    for i, site in enumerate(sites):
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
        for site in data["sites"]:
            _upsert_site(s, site, reasons)
    catalog.invalidate(db)
    return {
        "sites": len(data["sites"]),
        "services": sum(len(site["services"]) for site in data["sites"]),
        "counters": sum(len(site.get("counters") or []) for site in data["sites"]),
        "reasons": len(reasons),
    }
