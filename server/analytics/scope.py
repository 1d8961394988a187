"""What a report is about (its sites, local days and UTC bounds), the labels it shows in
the reader's language, and the context every builder reads from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from babel import Locale
from sqlalchemy import Connection, case, select

from .. import i18n
from ..i18n import N_
from ..models import Event, Reason, Service, Site, Ticket
from ..queue.rules import EventType
from .periods import PeriodError, check_range, day_bounds, offset_segments
from .schema import SPECS, ReportError, Table

T = Ticket.__table__
E = Event.__table__


@dataclass(frozen=True)
class Scope:
    """The sites and local days a report covers, and their UTC bounds."""

    site_ids: tuple[int, ...]
    site_slugs: tuple[str, ...]
    service_ids: tuple[int, ...]
    first: date
    last: date
    timezone: str
    start: datetime
    end: datetime
    # service id -> the service it is reported as: a private service that takes another's
    # numbers is counted as that one everywhere, or its total would give away how many
    # chose the discreet path (see reason_figures); every other service as itself
    reported: dict[int, int] = field(default_factory=dict)

    @property
    def reported_ids(self) -> tuple[int, ...]:
        """The services reports show, by id."""
        return tuple(sorted({self.reported.get(s, s) for s in self.service_ids}))

    @cached_property
    def segments(self) -> list[Any]:
        # a day of margin each side: a ticket of the last day may be called after midnight
        return offset_segments(
            self.start - timedelta(days=1), self.end + timedelta(days=1), self.timezone
        )


def make_scope(conn: Connection, site_ids: list[int], first: date, last: date) -> Scope:
    try:
        check_range(first, last)
    except PeriodError as exc:
        raise ReportError("bad_range", exc.template, **exc.params) from None
    sites = conn.execute(
        select(Site.id, Site.slug, Site.timezone).where(Site.id.in_(site_ids)).order_by(Site.slug)
    ).all()
    if not sites:
        raise ReportError("no_sites", N_("no site to report on"))
    zones = {tz for _, _, tz in sites}
    if len(zones) > 1:
        raise ReportError(
            "mixed_timezones",
            N_("these centres keep different time zones: report on them one at a time"),
        )
    timezone = zones.pop()
    services = conn.execute(
        select(Service.id, Service.site_id, Service.slug, Service.private, Service.numbers_from)
        .where(Service.site_id.in_([s[0] for s in sites]))
        .order_by(Service.id)
    ).all()
    service_ids = [svc.id for svc in services]
    by_slug = {(svc.site_id, svc.slug): svc.id for svc in services}
    reported = {
        svc.id: by_slug[(svc.site_id, svc.numbers_from)]
        for svc in services
        if svc.private and (svc.site_id, svc.numbers_from) in by_slug
    }
    start, end = day_bounds(first, last, timezone)
    return Scope(
        tuple(s[0] for s in sites),
        tuple(s[1] for s in sites),
        tuple(service_ids),
        first,
        last,
        timezone,
        start,
        end,
        reported,
    )


@dataclass(frozen=True)
class Names:
    """Labels of sites, services, reasons and languages in one language, inactive ones too."""

    lang: str
    tr: Callable[[str], str]
    sites: dict[int, tuple[str, dict[str, str]]]
    services: dict[int, tuple[int, str, dict[str, str]]]
    reasons: dict[str, tuple[str | None, bool, dict[str, str], int]]
    active: frozenset[str]  # reason codes offered now: the rows every reason table has

    @staticmethod
    def load(conn: Connection, lang: str) -> Names:
        tr = i18n.translations(lang, "reports").gettext
        sites = {
            i: (slug, name) for i, slug, name in conn.execute(select(Site.id, Site.slug, Site.name))
        }
        services = {
            i: (site, slug, labels)
            for i, site, slug, labels in conn.execute(
                select(Service.id, Service.site_id, Service.slug, Service.labels)
            )
        }
        found = conn.execute(
            select(
                Reason.code,
                Reason.parent_code,
                Reason.sensitive,
                Reason.labels,
                Reason.position,
                Reason.active,
            )
        ).all()
        reasons = {code: (up, sens, labels, pos) for code, up, sens, labels, pos, _ in found}
        active = frozenset(code for code, *_, is_active in found if is_active)
        return Names(lang, tr, sites, services, reasons, active)

    def _pick(self, labels: dict[str, str], fallback: str) -> str:
        return labels.get(self.lang) or labels.get("en") or labels.get("el") or fallback

    def site(self, site_id: int) -> str:
        return self.sites[site_id][0]

    def site_label(self, site_id: int) -> str:
        slug, name = self.sites[site_id]
        return self._pick(name, slug)

    def service(self, service_id: int) -> str:
        return self.services[service_id][1]

    def service_label(self, service_id: int) -> str:
        _, slug, labels = self.services[service_id]
        return self._pick(labels, slug)

    def group(self, code: str) -> str:
        parent = self.reasons.get(code, (None,))[0]
        return parent or code

    def reason_label(self, code: str) -> str:
        found = self.reasons.get(code)
        return self._pick(found[2], code) if found else code

    def sensitive(self, code: str) -> bool:
        found = self.reasons.get(code)
        return bool(found and found[1]) or bool(
            self.group(code) != code and self.sensitive(self.group(code))
        )

    def reason_order(self, code: str) -> tuple[int, int]:
        group = self.reasons.get(self.group(code), (None, False, {}, 999))[3]
        return group, self.reasons.get(code, (None, False, {}, 999))[3]

    def language_label(self, code: str) -> str:
        try:
            return Locale.parse(code).get_display_name(self.lang) or code
        except (ValueError, TypeError):
            return i18n.LANGUAGES[code].english if code in i18n.LANGUAGES else code


@dataclass(frozen=True)
class Ctx:
    conn: Connection
    scope: Scope
    names: Names
    minimum: int
    options: dict[str, Any]

    def visits(self) -> list[Any]:
        """WHERE of the visits in scope: a range of ix_tickets_queue per service."""
        s = self.scope
        return [
            T.c.service_id.in_(s.service_ids),
            T.c.service_day >= s.first,
            T.c.service_day <= s.last,
        ]

    def events(self, type_: EventType) -> list[Any]:
        """WHERE of events of one type for those visits: ix_events_service_type_at ranges."""
        s = self.scope
        return [
            E.c.service_id.in_(s.service_ids),
            E.c.type == type_,
            E.c.at >= s.start,
            E.c.at < s.end + timedelta(days=1),
            T.c.service_day >= s.first,
            T.c.service_day <= s.last,
        ]

    def reported(self, column: Any) -> Any:
        """A service id column as reports show it (Scope.reported), labelled as itself."""
        mapping = self.scope.reported
        if not mapping:
            return column
        return case(mapping, value=column, else_=column).label(column.key)

    def rows(self, stmt: Any) -> list[Any]:
        return list(self.conn.execute(stmt).all())


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def table(kind: str, name: str, rows: list[dict[str, Any]], note: str | None = None) -> Table:
    spec = next(s for s in SPECS[kind] if s[0] == name)
    keys = [c.key for c in spec[2]]
    return Table(name, spec[1], spec[2], [{k: row.get(k) for k in keys} for row in rows], note)
