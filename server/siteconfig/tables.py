"""A configuration document written into the tables, and read back out of them.

Writing is an upsert keyed on the stable codes and slugs. A document describes the sites
it names completely: their services and counters that it no longer names are
deactivated, never deleted, because tickets and events refer to them; sites it does not
name are left as they are. Its `reasons`, when present, are the whole taxonomy of the
deployment (the reasons are shared by every site): a reason it no longer names is
deactivated the same way.

A service's reasons are kept as written (usually groups); the catalog expands a group
into its active children, so a reason added to a group later is offered at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import (
    Counter,
    CounterService,
    Membership,
    Reason,
    Service,
    ServiceReason,
    Site,
    User,
)

SERVICE_DEFAULTS = {"max_wait_min": 45, "when_overdue": "call_first", "default_service_min": 10}
SITE_DEFAULTS = {"priority_max_in_row": 2, "retention_days": 90}


def _write_reasons(s: Session, reasons: list[dict]) -> None:
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


def _write_site(s: Session, data: dict) -> None:
    site = s.scalar(select(Site).where(Site.slug == data["slug"])) or Site(slug=data["slug"])
    site.name, site.address = dict(data["name"]), dict(data["address"])
    site.timezone = data["timezone"]
    site.hours = dict(data.get("hours") or {})
    site.priority_max_in_row = data.get("priority_max_in_row", SITE_DEFAULTS["priority_max_in_row"])
    site.retention_days = data.get("retention_days", SITE_DEFAULTS["retention_days"])
    site.reasons_off = list(data.get("reasons_off") or [])
    site.phone_languages = list(data.get("phone_languages") or [])
    site.closures = [dict(c) for c in data.get("closures") or []]
    site.messages = [dict(m) for m in data.get("messages") or []]
    site.active = True
    s.add(site)
    s.flush()

    services = {
        svc.slug: svc for svc in s.scalars(select(Service).where(Service.site_id == site.id))
    }
    for svc in services.values():
        svc.active = False
    s.flush()  # frees prefixes of retired services
    prefixes = {e["slug"]: e.get("prefix") for e in data["services"]}
    for position, entry in enumerate(data["services"]):
        svc = services.get(entry["slug"]) or Service(site_id=site.id, slug=entry["slug"])
        svc.numbers_from = entry.get("numbers_from")
        svc.prefix = prefixes[svc.numbers_from] if svc.numbers_from else entry["prefix"]
        svc.private = bool(entry.get("private", False))
        svc.labels = dict(entry["labels"])
        svc.max_wait_min = entry.get("max_wait_min", SERVICE_DEFAULTS["max_wait_min"])
        svc.when_overdue = entry.get("when_overdue", SERVICE_DEFAULTS["when_overdue"])
        svc.default_service_min = entry.get(
            "default_service_min", SERVICE_DEFAULTS["default_service_min"]
        )
        svc.position, svc.active = position, True
        svc.reason_links = [
            ServiceReason(reason_code=code) for code in dict.fromkeys(entry["reasons"])
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
        ctr.private = bool(entry.get("private", False))
        ctr.position, ctr.active = position, True
        ctr.service_links = [
            CounterService(service_id=services[slug].id, weight=weight)
            for slug, weight in entry["services"].items()
        ]
        s.add(ctr)
    s.flush()


def write(s: Session, data: dict[str, Any]) -> None:
    """Apply a valid document inside the caller's transaction."""
    if "reasons" in data:
        _write_reasons(s, data["reasons"])
    for site in data["sites"]:
        _write_site(s, site)


def _reason(row: Reason) -> dict[str, Any]:
    out: dict[str, Any] = {"code": row.code}
    if row.parent_code:
        out["parent"] = row.parent_code
    out.update(pictogram=row.pictogram, sensitive=row.sensitive, labels=dict(row.labels))
    return out


def _weights(ctr: Counter, services: list[Service]) -> dict[str, int]:
    """A counter's weights by service slug, in the services' order."""
    weight = {link.service_id: link.weight for link in ctr.service_links}
    return {svc.slug: weight[svc.id] for svc in services if svc.id in weight}


def exists(s: Session, slug: str) -> bool:
    """Whether an active site has this slug."""
    return s.scalar(select(Site.id).where(Site.slug == slug, Site.active.is_(True))) is not None


def read(s: Session, slugs: list[str]) -> dict[str, Any]:
    """The document for these active sites, with the whole taxonomy: what `write` takes."""
    reasons = s.scalars(
        select(Reason).where(Reason.active.is_(True)).order_by(Reason.position)
    ).all()
    position = {r.code: r.position for r in reasons}
    sites = []
    for slug in slugs:
        site = s.scalar(select(Site).where(Site.slug == slug, Site.active.is_(True)))
        if site is None:
            raise KeyError(slug)
        services = [svc for svc in site.services if svc.active]
        entry: dict[str, Any] = {
            "slug": site.slug,
            "name": dict(site.name),
            "address": dict(site.address),
            "timezone": site.timezone,
            "hours": dict(site.hours),
            "priority_max_in_row": site.priority_max_in_row,
            "retention_days": site.retention_days,
        }
        for optional in ("reasons_off", "phone_languages", "closures", "messages"):
            if getattr(site, optional):
                entry[optional] = list(getattr(site, optional))
        entry["services"] = [
            {
                "slug": svc.slug,
                **({"numbers_from": svc.numbers_from} if svc.numbers_from else {}),
                **({} if svc.numbers_from else {"prefix": svc.prefix}),
                **({"private": True} if svc.private else {}),
                "labels": dict(svc.labels),
                "reasons": sorted(
                    (link.reason_code for link in svc.reason_links),
                    key=lambda code: position.get(code, len(position)),
                ),
                "max_wait_min": svc.max_wait_min,
                "when_overdue": svc.when_overdue,
                "default_service_min": svc.default_service_min,
            }
            for svc in services
        ]
        entry["counters"] = [
            {
                "slug": ctr.slug,
                **({"private": True} if ctr.private else {}),
                "labels": dict(ctr.labels),
                "services": _weights(ctr, services),
            }
            for ctr in site.counters
            if ctr.active
        ]
        sites.append(entry)
    return {"reasons": [_reason(r) for r in reasons], "sites": sites}


def read_staff(s: Session, slugs: list[str]) -> list[dict[str, Any]]:
    """The languages of everyone with a role at one of these sites, by username."""
    users = s.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .join(Site, Site.id == Membership.site_id)
        .where(Site.slug.in_(slugs))
        .distinct()
        .order_by(User.username)
    ).all()
    return [{"username": u.username, "languages": list(u.languages or [])} for u in users]
