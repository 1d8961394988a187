"""An in-memory snapshot of the configuration: sites, services, reasons and counters.

Configuration changes a few times a year, but every ticket and call needs it, so the hot
paths read this snapshot instead of the tables. It is reloaded when older than a few
seconds (a `seira config load` from another process shows within that time) and at once
after a load in this process.

The `require_*` lookups are the one place that says "no such site" (or service, or
counter); the `*_in` functions are the configuration as kiosks and displays read it, in
a language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from . import bus, i18n
from .cache import TTLCache
from .db import Database, PerDatabase
from .errors import NotFound
from .models import Counter, CounterService, Reason, Service, ServiceReason, Site
from .queue import opening

TTL_S = 5.0
# With a Redis, every change made through any process or command is announced to all of
# them (server/bus.py), so the snapshot is read again less often: a country's takes
# 50-100 ms of a worker's processor, every request of the worker waiting meanwhile.
SHARED_TTL_S = 60.0


@dataclass(frozen=True)
class SiteInfo:
    id: int
    slug: str
    name: dict[str, str]
    address: dict[str, str]
    timezone: str
    hours: dict[str, str]
    priority_max_in_row: int
    closures: tuple[dict[str, str], ...] = ()
    messages: tuple[dict[str, str], ...] = ()
    phone_languages: frozenset[str] = frozenset()  # covered by phone interpretation

    @property
    def calendar(self) -> opening.Hours:
        """Its opening hours and closures, for the rules of `queue.opening`."""
        return opening.Hours(self.hours, self.closures, self.timezone)


@dataclass(frozen=True)
class ServiceInfo:
    id: int
    site_id: int
    slug: str
    prefix: str
    labels: dict[str, str]
    max_wait_min: int
    default_service_min: int
    reasons: frozenset[str]
    counters_serving: int
    when_overdue: str = "call_first"
    private: bool = False  # called only at private counters, by staff trained for it
    numbered_by: int = 0  # the service whose numbers its tickets take (its own id, mostly)


@dataclass(frozen=True)
class CounterInfo:
    id: int
    site_id: int
    slug: str
    labels: dict[str, str]
    weights: dict[int, int]  # service id -> weight, active services only
    private: bool = False  # nobody else hears the visit: it may serve private services


@dataclass(frozen=True)
class ReasonInfo:
    code: str
    parent: str | None
    pictogram: str
    sensitive: bool
    labels: dict[str, str]
    position: int


@dataclass(frozen=True)
class Catalog:
    """Active configuration only; lookups by slug within a site, or by id."""

    sites: dict[str, SiteInfo] = field(default_factory=dict)
    services: dict[int, ServiceInfo] = field(default_factory=dict)
    counters: dict[int, CounterInfo] = field(default_factory=dict)
    reasons: dict[str, ReasonInfo] = field(default_factory=dict)
    # by site, in the order above: every request looks up its site's, among hundreds
    _site_ids: dict[int, SiteInfo] = field(init=False, repr=False, compare=False)
    _services_of: dict[int, list[ServiceInfo]] = field(init=False, repr=False, compare=False)
    _counters_of: dict[int, list[CounterInfo]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        services: dict[int, list[ServiceInfo]] = {}
        for svc in self.services.values():
            services.setdefault(svc.site_id, []).append(svc)
        counters: dict[int, list[CounterInfo]] = {}
        for c in self.counters.values():
            counters.setdefault(c.site_id, []).append(c)
        object.__setattr__(self, "_site_ids", {s.id: s for s in self.sites.values()})
        object.__setattr__(self, "_services_of", services)
        object.__setattr__(self, "_counters_of", counters)

    def site(self, slug: str) -> SiteInfo | None:
        return self.sites.get(slug)

    def site_by_id(self, site_id: int) -> SiteInfo | None:
        return self._site_ids.get(site_id)

    def services_of(self, site_id: int) -> list[ServiceInfo]:
        return list(self._services_of.get(site_id, ()))

    def service(self, site_id: int, slug: str) -> ServiceInfo | None:
        return next((s for s in self.services_of(site_id) if s.slug == slug), None)

    def counters_of(self, site_id: int) -> list[CounterInfo]:
        return list(self._counters_of.get(site_id, ()))

    def counter(self, site_id: int, slug: str) -> CounterInfo | None:
        return next((c for c in self.counters_of(site_id) if c.slug == slug), None)

    def require_site(self, slug: str) -> SiteInfo:
        site = self.site(slug)
        if site is None:
            raise NotFound(f"no site '{slug}'")
        return site

    def require_service(self, site: SiteInfo, slug: str) -> ServiceInfo:
        service = self.service(site.id, slug)
        if service is None:
            raise NotFound(f"no service '{slug}' at site '{site.slug}'")
        return service

    def require_counter(self, site: SiteInfo, slug: str) -> CounterInfo:
        counter = self.counter(site.id, slug)
        if counter is None:
            raise NotFound(f"no counter '{slug}' at site '{site.slug}'")
        return counter

    def sensitive(self, reason_code: str | None) -> bool:
        """A reason marked sensitive, or one in a sensitive group."""
        reason = self.reasons.get(reason_code or "")
        if reason is None:
            return False
        parent = self.reasons.get(reason.parent or "")
        return reason.sensitive or bool(parent and parent.sensitive)

    def named_in_public(self, service: ServiceInfo | None, reason_code: str | None) -> bool:
        """Whether what the waiting room and the visitor's own paper and phone show may
        name the ticket's service: not for a sensitive reason (the service that covers
        protection would tell why they came), nor for a private service."""
        return service is not None and not service.private and not self.sensitive(reason_code)

    def reason_groups(self) -> list[ReasonInfo]:
        """The top level of the visit-reason taxonomy, in the configuration's order."""
        groups = (r for r in self.reasons.values() if r.parent is None)
        return sorted(groups, key=lambda r: r.position)


def _load(db: Database) -> Catalog:
    # plain rows, not ORM objects: a country's configuration is thousands of rows, read
    # again every TTL_S seconds
    with db.connect() as conn:

        def active(model: Any, *order: Any) -> list[Any]:
            table = model.__table__
            return conn.execute(
                select(table).where(table.c.active.is_(True)).order_by(*order)
            ).all()

        sites = active(Site)
        services = active(Service, Service.position)
        counters = active(Counter, Counter.position)
        reasons = active(Reason, Reason.position)
        covers = conn.execute(select(ServiceReason.service_id, ServiceReason.reason_code)).all()
        links = conn.execute(
            select(CounterService.counter_id, CounterService.service_id, CounterService.weight)
        ).all()
    site_ids = {site.id for site in sites}
    reason_codes = {r.code for r in reasons}
    service_ids = {svc.id for svc in services if svc.site_id in site_ids}
    counter_ids = {c.id for c in counters if c.site_id in site_ids}
    weights: dict[int, dict[int, int]] = {cid: {} for cid in counter_ids}
    serving: dict[int, int] = {sid: 0 for sid in service_ids}
    for counter_id, service_id, weight in links:
        if counter_id in counter_ids and service_id in service_ids:
            weights[counter_id][service_id] = weight
            serving[service_id] += 1
    children: dict[str, set[str]] = {}
    for r in reasons:
        if r.parent_code:
            children.setdefault(r.parent_code, set()).add(r.code)

    def expand(codes: Iterable[str]) -> set[str]:
        """A group stands for itself and its active children."""
        found = {code for code in codes if code in reason_codes}
        return found.union(*(children.get(code, set()) for code in found))

    off = {site.id: expand(site.reasons_off or []) for site in sites}
    written: dict[int, list[str]] = {sid: [] for sid in service_ids}
    for service_id, code in covers:
        if service_id in service_ids:
            written[service_id].append(code)
    site_of = {svc.id: svc.site_id for svc in services}
    by_slug = {(svc.site_id, svc.slug): svc.id for svc in services if svc.id in service_ids}
    covered = {sid: expand(codes) - off[site_of[sid]] for sid, codes in written.items()}
    return Catalog(
        sites={
            site.slug: SiteInfo(
                site.id,
                site.slug,
                dict(site.name),
                dict(site.address),
                site.timezone,
                dict(site.hours),
                site.priority_max_in_row,
                tuple(dict(c) for c in site.closures or []),
                tuple(dict(m) for m in site.messages or []),
                frozenset(site.phone_languages or []),
            )
            for site in sites
        },
        services={
            svc.id: ServiceInfo(
                svc.id,
                svc.site_id,
                svc.slug,
                svc.prefix,
                dict(svc.labels),
                svc.max_wait_min,
                svc.default_service_min,
                frozenset(covered[svc.id]),
                serving[svc.id],
                svc.when_overdue,
                svc.private,
                by_slug.get((svc.site_id, svc.numbers_from or ""), svc.id),
            )
            for svc in services
            if svc.id in service_ids
        },
        counters={
            c.id: CounterInfo(c.id, c.site_id, c.slug, dict(c.labels), weights[c.id], c.private)
            for c in counters
            if c.id in counter_ids
        },
        reasons={
            r.code: ReasonInfo(
                r.code, r.parent_code, r.pictogram, r.sensitive, dict(r.labels), r.position
            )
            for r in reasons
        },
    )


# one snapshot per database (tests open many), remembered for TTL_S seconds, or
# SHARED_TTL_S when announcements are shared (as they are once a server has started)
_snapshots: PerDatabase[TTLCache[None, Catalog]] = PerDatabase(
    lambda _db: TTLCache(SHARED_TTL_S if bus.shared() else TTL_S)
)


def current(db: Database) -> Catalog:
    """The configuration as of at most TTL_S (or SHARED_TTL_S) seconds ago."""
    return _snapshots(db).get(None, lambda: _load(db))


def invalidate(db: Database) -> None:
    """Forget the snapshot, after a change of the configuration: here, and in every other
    process (server/bus.py), which each hold one database's snapshot."""
    _snapshots(db).forget()
    bus.announce("catalog")


def _forget_every_snapshot(_value: object) -> None:
    for cache in _snapshots.values():
        cache.forget()


bus.on("catalog", _forget_every_snapshot)


# --- the configuration as kiosks and displays read it -------------------------------------


def sites_in(cat: Catalog, lang: str, ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Active sites, all of them or those in `ids`."""
    found = sorted(cat.sites.values(), key=lambda s: s.slug)
    return [
        {
            "slug": site.slug,
            "name": i18n.label(site.name, lang),
            "address": i18n.label(site.address, lang),
            "timezone": site.timezone,
            "hours": site.hours,
        }
        for site in found
        if ids is None or site.id in ids
    ]


def services_in(cat: Catalog, site_id: int, lang: str) -> list[dict[str, Any]]:
    """Services with the reasons each covers, groups before their children, in file order."""
    out = []
    for svc in cat.services_of(site_id):
        reasons = sorted(
            (cat.reasons[code] for code in svc.reasons if code in cat.reasons),
            key=lambda r: r.position,
        )
        out.append(
            {
                "slug": svc.slug,
                "prefix": svc.prefix,
                "label": i18n.label(svc.labels, lang),
                "reasons": [
                    {
                        "code": r.code,
                        "parent": r.parent,
                        "pictogram": r.pictogram,
                        "sensitive": r.sensitive,
                        "label": i18n.label(r.labels, lang),
                    }
                    for r in reasons
                ],
            }
        )
    return out


def counters_in(cat: Catalog, site_id: int, lang: str) -> list[dict[str, Any]]:
    """Counters with the services each calls from, and their weights."""
    return [
        {
            "slug": c.slug,
            "label": i18n.label(c.labels, lang),
            "services": [
                {"service": svc.slug, "weight": c.weights[svc.id]}
                for svc in cat.services_of(site_id)
                if svc.id in c.weights
            ],
        }
        for c in cat.counters_of(site_id)
    ]
