"""One function per report kind: SQL over the event log in, plain tables out.

A visit is a ticket, dated by its service day (the site's local day of issue, stored on
the ticket when it was issued). Counts and dimensions (reason, language, priority,
service) come from the ticket row, which the store keeps as the fold of its events in the
same transaction; what only the log knows comes from the events: the first call (a
returned ticket is called again, and its row keeps only the last call), outcomes and
referrals (`finished` payloads) and why a visitor left (`cancelled` payloads). Every query
walks an index range (tickets by service and day, events by service, type and time) and
returns grouped rows only; for percentiles, the counts of each distinct duration
(see `sql.distribution`).

Codes stay codes in SQL; labels are added here, in the reader's language, from the
configuration tables. Small counts are masked here, once, for every output format.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from sqlalchemy import Connection, case, func, select

from .. import i18n
from ..i18n import N_
from ..models import CounterEvent, Event, Reason, Service, Site, Ticket
from ..queue.rules import EXTERNAL_AGENCIES, EventType, Outcome, Priority, Status
from . import erlang, privacy
from .periods import (
    PeriodError,
    check_range,
    day_bounds,
    days_in,
    offset_segments,
    week_start,
)
from .sql import (
    Summary,
    distribution,
    epoch,
    local_day,
    local_hour,
    local_seconds,
    summaries,
    summarise,
    weekday_of_day_number,
)

T = Ticket.__table__
E = Event.__table__
CE = CounterEvent.__table__


KINDS = (
    "reasons",
    "services",
    "languages",
    "heatmap",
    "waits",
    "outcomes",
    "indicators",
    "staffing",
)
WITHIN_S = 15 * 60  # "called within 15 minutes", the figure coordinators ask for
WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
OUTCOME_LABELS = {
    Outcome.SERVED: N_("Served here"),
    Outcome.REFERRED_INTERNAL: N_("Referred to an internal structure"),
    Outcome.REFERRED_EXTERNAL: N_("Referred to an external agency"),
    Outcome.APPOINTMENT: N_("Appointment booked"),
    "no_show": N_("No-show"),
    "left": N_("Left before being served"),
    "cancelled": N_("Cancelled by mistake"),
    "closed": N_("Still open at day end"),
    "open": N_("Still open"),
}
AGENCY_LABELS = {
    "tax_office": N_("Tax office (DOY)"),
    "efka": N_("Social security (e-EFKA)"),
    "dypa": N_("Employment service (DYPA)"),
    "asylum": N_("Asylum Service"),
    "migration_ministry": N_("Ministry of Migration"),
    "hospital": N_("Hospital"),
    "other": N_("Other agency"),
}
PRIORITY_LABELS = {
    Priority.NONE: N_("No priority"),
    Priority.DISABILITY: N_("Disability"),
    Priority.ELDERLY: N_("Elderly"),
    Priority.PREGNANCY: N_("Pregnancy"),
    Priority.WITH_INFANT: N_("With an infant"),
}


class ReportError(ValueError):
    """A report that cannot be made as asked: the API answers 400 with `code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


# --- the shape of a report ----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # English source text; translated by whoever shows it
    type: str  # text | date | count | number | seconds | rate


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class Report:
    kind: str
    sites: tuple[str, ...]
    first: date
    last: date
    timezone: str
    small_count: int
    tables: tuple[Table, ...]
    parameters: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def _c(key: str, label: str, type_: str) -> Column:
    return Column(key, label, type_)


_SITE = _c("site", N_("Centre"), "text")
_SITE_LABEL = _c("site_label", N_("Centre name"), "text")
_LABEL = _c("label", N_("Label"), "text")
_VISITS = _c("visits", N_("Visits"), "count")
_SHARE = _c("share", N_("Share"), "rate")
_GROUP = _c("group", N_("Reason group"), "text")
_LANG = _c("lang", N_("Language code"), "text")
_WAIT = (
    _c("called", N_("Called"), "count"),
    _c("wait_median_s", N_("Median wait (s)"), "seconds"),
    _c("wait_p90_s", N_("90th percentile wait (s)"), "seconds"),
)
_SERVICE_TIME = (
    _c("served", N_("Served"), "count"),
    _c("service_median_s", N_("Median service time (s)"), "seconds"),
    _c("service_p90_s", N_("90th percentile service time (s)"), "seconds"),
)
_WITHIN = _c("within_15_min", N_("Called within 15 min"), "rate")
_REFERRAL = (
    _c("kind", N_("Referral"), "text"),
    _c("destination", N_("Destination"), "text"),
    _LABEL,
    _VISITS,
)

# kind -> tables as (name, title, columns): the API's schemas are made from this too
SPECS: dict[str, tuple[tuple[str, str, tuple[Column, ...]], ...]] = {
    "reasons": (
        ("groups", N_("Visits by reason group"), (_GROUP, _LABEL, _VISITS, _SHARE)),
        (
            "reasons",
            N_("Visits by reason"),
            (_GROUP, _c("reason", N_("Reason"), "text"), _LABEL, _VISITS),
        ),
        (
            "groups_by_language",
            N_("Reason groups by language"),
            (_GROUP, _LABEL, _LANG, _c("language", N_("Language"), "text"), _VISITS),
        ),
        (
            "groups_by_day",
            N_("Reason groups by day"),
            (_c("day", N_("Day"), "date"), _GROUP, _LABEL, _VISITS),
        ),
    ),
    "services": (
        (
            "by_service",
            N_("Visits by service"),
            (_SITE, _c("service", N_("Service"), "text"), _LABEL, _VISITS),
        ),
        (
            "by_priority",
            N_("Visits by priority kind"),
            (_c("priority", N_("Priority"), "text"), _LABEL, _VISITS, _SHARE),
        ),
        ("weekly", N_("Week by week"), (_c("week", N_("Week of"), "date"), _SITE, _VISITS)),
        ("monthly", N_("Month by month"), (_c("month", N_("Month"), "text"), _SITE, _VISITS)),
        (
            "sites",
            N_("Centres side by side"),
            (
                _SITE,
                _SITE_LABEL,
                _VISITS,
                _c("served", N_("Served"), "count"),
                _WAIT[1],
                _WAIT[2],
                _c("no_show_rate", N_("No-show rate"), "rate"),
                _c("left_rate", N_("Left before service rate"), "rate"),
            ),
        ),
    ),
    "languages": (("languages", N_("Visits by language"), (_LANG, _LABEL, _VISITS, _SHARE)),),
    "heatmap": (
        (
            "arrivals",
            N_("Arrivals by weekday and hour"),
            (
                _c("weekday", N_("Weekday (0 = Monday)"), "number"),
                _c("day", N_("Weekday"), "text"),
                _c("hour", N_("Hour"), "number"),
                _VISITS,
            ),
        ),
    ),
    "waits": (
        (
            "by_service",
            N_("Waiting and service times by service"),
            (_SITE, _c("service", N_("Service"), "text"), _LABEL, *_WAIT, _WITHIN, *_SERVICE_TIME),
        ),
        (
            "by_hour",
            N_("Waiting and service times by hour of arrival"),
            (_c("hour", N_("Hour"), "number"), *_WAIT, _WITHIN, *_SERVICE_TIME),
        ),
    ),
    "outcomes": (
        (
            "endings",
            N_("How visits ended"),
            (_c("ending", N_("Ending"), "text"), _LABEL, _VISITS, _SHARE),
        ),
        ("referrals", N_("Referrals by destination"), _REFERRAL),
        (
            "rates",
            N_("No-show and left-before-service rates"),
            (
                _SITE,
                _SITE_LABEL,
                _VISITS,
                _c("no_show", N_("No-show"), "count"),
                _c("no_show_rate", N_("No-show rate"), "rate"),
                _c("left", N_("Left before service"), "count"),
                _c("left_rate", N_("Left before service rate"), "rate"),
            ),
        ),
    ),
    "indicators": (
        (
            "figures",
            N_("Key figures"),
            (_c("indicator", N_("Indicator"), "text"), _LABEL, _c("value", N_("Value"), "number")),
        ),
        (
            "people_by_group",
            N_("People by reason group"),
            (_GROUP, _LABEL, _VISITS, _c("served", N_("Served"), "count")),
        ),
        ("referrals", N_("Referrals by destination"), _REFERRAL),
        ("languages", N_("Languages served"), (_LANG, _LABEL, _VISITS)),
        ("waits", N_("Waiting times by centre"), (_SITE, _SITE_LABEL, *_WAIT, _WITHIN)),
    ),
    "staffing": (
        (
            "hours",
            N_("Counters needed and present, per hour of the week"),
            (
                _SITE,
                _c("weekday", N_("Weekday (0 = Monday)"), "number"),
                _c("day", N_("Weekday"), "text"),
                _c("hour", N_("Hour"), "number"),
                _c("arrivals_per_hour", N_("Arrivals per hour"), "number"),
                _c("service_min", N_("Mean service time (min)"), "number"),
                _c("load", N_("Load (erlangs)"), "number"),
                _c("needed", N_("Counters needed"), "number"),
                _c("present", N_("Counters present"), "number"),
                _c("gap", N_("Missing counters"), "number"),
            ),
        ),
    ),
}


# --- what a report is about ----------------------------------------------------------------


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
        raise ReportError("bad_range", str(exc)) from None
    sites = conn.execute(
        select(Site.id, Site.slug, Site.timezone).where(Site.id.in_(site_ids)).order_by(Site.slug)
    ).all()
    if not sites:
        raise ReportError("no_sites", "no site to report on")
    zones = {tz for _, _, tz in sites}
    if len(zones) > 1:
        raise ReportError(
            "mixed_timezones",
            "these centres keep different time zones: report on them one at a time",
        )
    timezone = zones.pop()
    service_ids = (
        conn.execute(
            select(Service.id)
            .where(Service.site_id.in_([s[0] for s in sites]))
            .order_by(Service.id)
        )
        .scalars()
        .all()
    )
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
    )


@dataclass(frozen=True)
class Names:
    """Labels of sites, services, reasons and languages in one language, inactive ones too."""

    lang: str
    tr: Callable[[str], str]
    sites: dict[int, tuple[str, dict[str, str]]]
    services: dict[int, tuple[int, str, dict[str, str]]]
    reasons: dict[str, tuple[str | None, bool, dict[str, str], int]]

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
        reasons = {
            code: (parent, sensitive, labels, pos)
            for code, parent, sensitive, labels, pos in conn.execute(
                select(
                    Reason.code,
                    Reason.parent_code,
                    Reason.sensitive,
                    Reason.labels,
                    Reason.position,
                )
            )
        }
        return Names(lang, tr, sites, services, reasons)

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

    def rows(self, stmt: Any) -> list[Any]:
        return list(self.conn.execute(stmt).all())


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _table(kind: str, name: str, rows: list[dict[str, Any]]) -> Table:
    spec = next(s for s in SPECS[kind] if s[0] == name)
    keys = [c.key for c in spec[2]]
    return Table(name, spec[1], spec[2], [{k: row.get(k) for k in keys} for row in rows])


# --- shared queries ---------------------------------------------------------------------


def _count_by(ctx: Ctx, *cols: Any, where: tuple[Any, ...] = ()) -> list[Any]:
    return ctx.rows(select(*cols, func.count()).where(*ctx.visits(), *where).group_by(*cols))


def _wait_source(ctx: Ctx, by_hour: bool = False) -> Any:
    """Per visit called at least once: site, first queue, hour of arrival, seconds waited.

    The ticket row keeps its call time until a return or a transfer clears it; for those
    few visits the first `called` event is looked up in the log (by ix_events_ticket), so
    the wait is always until the first call, without grouping every call of the period.
    """
    s = ctx.scope
    moved = select(E.c.ticket_id).where(
        E.c.service_id.in_(s.service_ids),
        E.c.type.in_([EventType.RETURNED, EventType.TRANSFERRED]),
        E.c.at >= s.start,
        E.c.at < s.end + timedelta(days=1),
    )
    logged = E.alias("logged")
    first_logged = (
        select(func.min(logged.c.at))
        .where(logged.c.ticket_id == T.c.id, logged.c.type == EventType.CALLED)
        .scalar_subquery()
    )
    called = case((T.c.id.in_(moved), first_logged), else_=T.c.called_at)
    hour = [local_hour(local_seconds(T.c.issued_at, s.segments)).label("hour")] if by_hour else []
    return (
        select(
            T.c.site_id,
            T.c.origin_service_id.label("service_id"),
            *hour,
            (epoch(called) - epoch(T.c.issued_at)).label("wait_s"),
        )
        .where(*ctx.visits(), called.is_not(None))
        .subquery()
    )


def _service_source(ctx: Ctx, by_hour: bool = False) -> Any:
    """Per finished visit: site, service, hour of arrival, seconds at the counter."""
    began = func.coalesce(T.c.started_at, T.c.called_at)
    arrival = local_seconds(T.c.issued_at, ctx.scope.segments)
    hour = [local_hour(arrival).label("hour")] if by_hour else []
    return (
        select(
            T.c.site_id,
            T.c.service_id,
            *hour,
            (epoch(T.c.ended_at) - epoch(began)).label("service_s"),
        )
        .where(*ctx.visits(), T.c.status == Status.DONE, began.is_not(None))
        .subquery()
    )


def _waits_by_site_and_all(ctx: Ctx) -> tuple[dict[int, Summary], Summary | None]:
    """Per site and over all sites, from one pass: the sites' distributions add up."""
    rows = ctx.rows(distribution(_wait_source(ctx), ["site_id"], "wait_s"))
    merged: dict[Any, int] = defaultdict(int)
    for _site, value, n in rows:
        merged[value] += n
    per_site = {key[0]: found for key, found in summaries(rows, 1, WITHIN_S).items()}
    return per_site, summarise(list(merged.items()), WITHIN_S)


def _waits_by(ctx: Ctx, keys: list[str]) -> dict[tuple[Any, ...], Summary]:
    stmt = distribution(_wait_source(ctx, "hour" in keys), keys, "wait_s")
    return summaries(ctx.rows(stmt), len(keys), WITHIN_S)


def _service_by(ctx: Ctx, keys: list[str]) -> dict[tuple[Any, ...], Summary]:
    stmt = distribution(_service_source(ctx, "hour" in keys), keys, "service_s")
    return summaries(ctx.rows(stmt), len(keys))


def _wait_fields(found: Summary | None) -> dict[str, Any]:
    if found is None:
        return {"called": 0, "wait_median_s": None, "wait_p90_s": None, "within_15_min": None}
    return {
        "called": int(found.n),
        "wait_median_s": _seconds(found.p50),
        "wait_p90_s": _seconds(found.p90),
        "within_15_min": _share(found.within, found.n),
    }


def _service_fields(found: Summary | None) -> dict[str, Any]:
    if found is None:
        return {"served": 0, "service_median_s": None, "service_p90_s": None}
    return {
        "served": int(found.n),
        "service_median_s": _seconds(found.p50),
        "service_p90_s": _seconds(found.p90),
    }


def _rates(ctx: Ctx, by_status: list[Any] | None = None) -> dict[int, dict[str, int]]:
    """Per site: visits, no-shows (tickets that ended as no-show) and visitors who left.

    `by_status` is (site, status, count) when the caller has already counted them.
    """
    out: dict[int, dict[str, int]] = defaultdict(lambda: {"visits": 0, "no_show": 0, "left": 0})
    if by_status is None:
        by_status = _count_by(ctx, T.c.site_id, T.c.status)
    for site_id, status, n in by_status:
        out[site_id]["visits"] += n
        if status == Status.NO_SHOW:
            out[site_id]["no_show"] += n
    why = E.c.payload["why"].as_string()
    left = ctx.rows(
        select(T.c.site_id, func.count())
        .join_from(E, T, T.c.id == E.c.ticket_id)
        .where(*ctx.events(EventType.CANCELLED), why == "left")
        .group_by(T.c.site_id)
    )
    for site_id, n in left:
        out[site_id]["left"] += n
    return out


def _destination_order(names: Names, internal: bool, dest: str) -> tuple[int, int]:
    if internal:
        return names.reason_order(dest)
    return (0, EXTERNAL_AGENCIES.index(dest) if dest in EXTERNAL_AGENCIES else 99)


def _referrals(ctx: Ctx) -> list[dict[str, Any]]:
    outcome = E.c.payload["outcome"].as_string()
    referral = E.c.payload["referral"].as_string()
    found = ctx.rows(
        select(outcome, referral, func.count())
        .join_from(E, T, T.c.id == E.c.ticket_id)
        .where(
            *ctx.events(EventType.FINISHED),
            outcome.in_([Outcome.REFERRED_INTERNAL, Outcome.REFERRED_EXTERNAL]),
        )
        .group_by(outcome, referral)
    )
    names, tr = ctx.names, ctx.names.tr
    rows = []
    for out, dest, n in found:
        internal = out == Outcome.REFERRED_INTERNAL
        dest = dest or "other"
        label = names.reason_label(dest) if internal else tr(AGENCY_LABELS.get(dest, dest))
        visits = privacy.mask(n, ctx.minimum) if internal and names.sensitive(dest) else n
        rows.append(
            {
                "kind": "internal" if internal else "external",
                "destination": dest,
                "label": label,
                "visits": visits,
                "_order": (not internal, _destination_order(names, internal, dest)),
            }
        )
    rows.sort(key=lambda r: r.pop("_order"))
    return rows


def _group_counts(ctx: Ctx, rows: list[Any]) -> dict[str, int]:
    groups: dict[str, int] = defaultdict(int)
    for code, n in rows:
        groups[ctx.names.group(code)] += n
    return groups


def _mask_sensitive(ctx: Ctx, code: str, n: int) -> int | str:
    return privacy.mask(n, ctx.minimum) if ctx.names.sensitive(code) else n


# --- the reports -------------------------------------------------------------------------


def _reasons(ctx: Ctx) -> list[Table]:
    names = ctx.names
    by_reason = _count_by(ctx, T.c.reason_code)
    total = sum(n for _, n in by_reason)
    groups = _group_counts(ctx, by_reason)
    group_rows = []
    for code in sorted(groups, key=names.reason_order):
        visits = _mask_sensitive(ctx, code, groups[code])
        group_rows.append(
            {
                "group": code,
                "label": names.reason_label(code),
                "visits": visits,
                "share": None if privacy.is_masked(visits) else _share(groups[code], total),
            }
        )
    reason_rows = [
        {
            "group": names.group(code),
            "reason": code,
            "label": names.reason_label(code),
            "visits": _mask_sensitive(ctx, code, n),
        }
        for code, n in sorted(by_reason, key=lambda r: names.reason_order(r[0]))
    ]
    by_lang: dict[tuple[str, str], int] = defaultdict(int)
    for code, lang, n in _count_by(ctx, T.c.reason_code, T.c.lang):
        by_lang[(names.group(code), lang)] += n
    lang_rows = privacy.mask_rows(
        [
            {
                "group": g,
                "label": names.reason_label(g),
                "lang": lang,
                "language": names.language_label(lang),
                "visits": n,
            }
            for (g, lang), n in sorted(
                by_lang.items(), key=lambda kv: (names.reason_order(kv[0][0]), -kv[1])
            )
        ],
        ["visits"],
        ctx.minimum,
    )
    by_day: dict[tuple[date, str], int] = defaultdict(int)
    for code, day, n in _count_by(ctx, T.c.reason_code, T.c.service_day):
        by_day[(day, names.group(code))] += n
    day_rows = privacy.mask_rows(
        [
            {"day": day, "group": g, "label": names.reason_label(g), "visits": n}
            for (day, g), n in sorted(
                by_day.items(), key=lambda kv: (kv[0][0], names.reason_order(kv[0][1]))
            )
        ],
        ["visits"],
        ctx.minimum,
    )
    return [
        _table("reasons", "groups", group_rows),
        _table("reasons", "reasons", reason_rows),
        _table("reasons", "groups_by_language", lang_rows),
        _table("reasons", "groups_by_day", day_rows),
    ]


def _services(ctx: Ctx) -> list[Table]:
    names, tr = ctx.names, ctx.names.tr
    service_rows = [
        {
            "site": names.site(names.services[sid][0]),
            "service": names.service(sid),
            "label": names.service_label(sid),
            "visits": n,
        }
        for sid, n in sorted(_count_by(ctx, T.c.service_id))
    ]
    by_priority = dict(_count_by(ctx, T.c.priority))
    total = sum(by_priority.values())
    priority_rows = [
        {
            "priority": p.value,
            "label": tr(PRIORITY_LABELS[p]),
            "visits": by_priority[p],
            "share": _share(by_priority[p], total),
        }
        for p in Priority
        if by_priority.get(p)
    ]
    per_day = _count_by(ctx, T.c.service_day, T.c.site_id)
    weekly: dict[tuple[date, int], int] = defaultdict(int)
    monthly: dict[tuple[str, int], int] = defaultdict(int)
    for day, site_id, n in per_day:
        weekly[(week_start(day), site_id)] += n
        monthly[(day.strftime("%Y-%m"), site_id)] += n
    week_rows = [
        {"week": w, "site": names.site(s), "visits": n} for (w, s), n in sorted(weekly.items())
    ]
    month_rows = [
        {"month": m, "site": names.site(s), "visits": n} for (m, s), n in sorted(monthly.items())
    ]
    rates = _rates(ctx)
    waits = {key[0]: row for key, row in _waits_by(ctx, ["site_id"]).items()}
    served = _service_by(ctx, ["site_id"])
    site_rows = []
    for site_id in ctx.scope.site_ids:
        r = rates.get(site_id, {"visits": 0, "no_show": 0, "left": 0})
        w = _wait_fields(waits.get(site_id))
        site_rows.append(
            {
                "site": names.site(site_id),
                "site_label": names.site_label(site_id),
                "visits": r["visits"],
                "served": _service_fields(served.get((site_id,)))["served"],
                "wait_median_s": w["wait_median_s"],
                "wait_p90_s": w["wait_p90_s"],
                "no_show_rate": _share(r["no_show"], r["visits"]),
                "left_rate": _share(r["left"], r["visits"]),
            }
        )
    return [
        _table("services", "by_service", service_rows),
        _table("services", "by_priority", priority_rows),
        _table("services", "weekly", week_rows),
        _table("services", "monthly", month_rows),
        _table("services", "sites", site_rows),
    ]


def _languages(ctx: Ctx) -> list[Table]:
    found = sorted(_count_by(ctx, T.c.lang), key=lambda r: (-r[1], r[0]))
    total = sum(n for _, n in found)
    rows = [
        {
            "lang": lang,
            "label": ctx.names.language_label(lang),
            "visits": n,
            "share": _share(n, total),
        }
        for lang, n in found
    ]
    return [_table("languages", "languages", rows)]


def _arrivals(ctx: Ctx, site_id: int | None = None) -> list[Any]:
    """(weekday, hour, visits) of arrivals, in local time."""
    arrival = local_seconds(T.c.issued_at, ctx.scope.segments)
    weekday = weekday_of_day_number(local_day(arrival))
    hour = local_hour(arrival)
    where = () if site_id is None else (T.c.site_id == site_id,)
    return sorted(_count_by(ctx, weekday, hour, where=where))


def _heatmap(ctx: Ctx) -> list[Table]:
    tr = ctx.names.tr
    rows = [
        {"weekday": wd, "day": tr(WEEKDAYS[wd]), "hour": h, "visits": n}
        for wd, h, n in _arrivals(ctx)
    ]
    return [_table("heatmap", "arrivals", rows)]


def _waits(ctx: Ctx) -> list[Table]:
    names = ctx.names
    waits = _waits_by(ctx, ["service_id"])
    served = _service_by(ctx, ["service_id"])
    service_ids = sorted({k[0] for k in waits} | {k[0] for k in served})
    by_service = [
        {
            "site": names.site(names.services[sid][0]),
            "service": names.service(sid),
            "label": names.service_label(sid),
            **_wait_fields(waits.get((sid,))),
            **_service_fields(served.get((sid,))),
        }
        for sid in service_ids
    ]
    hourly_waits = _waits_by(ctx, ["hour"])
    hourly_served = _service_by(ctx, ["hour"])
    hours = sorted({k[0] for k in hourly_waits} | {k[0] for k in hourly_served})
    by_hour = [
        {
            "hour": h,
            **_wait_fields(hourly_waits.get((h,))),
            **_service_fields(hourly_served.get((h,))),
        }
        for h in hours
    ]
    return [_table("waits", "by_service", by_service), _table("waits", "by_hour", by_hour)]


def _outcomes(ctx: Ctx) -> list[Table]:
    tr, names = ctx.names.tr, ctx.names
    statuses = dict(_count_by(ctx, T.c.status))
    total = sum(statuses.values())
    outcome = E.c.payload["outcome"].as_string()
    finished = dict(
        ctx.rows(
            select(outcome, func.count())
            .join_from(E, T, T.c.id == E.c.ticket_id)
            .where(*ctx.events(EventType.FINISHED))
            .group_by(outcome)
        )
    )
    why = E.c.payload["why"].as_string()
    cancelled = dict(
        ctx.rows(
            select(why, func.count())
            .join_from(E, T, T.c.id == E.c.ticket_id)
            .where(*ctx.events(EventType.CANCELLED))
            .group_by(why)
        )
    )
    endings = {
        **{o.value: finished.get(o.value, 0) for o in Outcome},
        "no_show": statuses.get(Status.NO_SHOW, 0),
        "left": cancelled.get("left", 0),
        "cancelled": sum(n for w, n in cancelled.items() if w != "left"),
        "closed": statuses.get(Status.CLOSED, 0),
        "open": sum(statuses.get(s, 0) for s in (Status.WAITING, Status.CALLED, Status.SERVING)),
    }
    ending_rows = [
        {"ending": k, "label": tr(OUTCOME_LABELS[k]), "visits": n, "share": _share(n, total)}
        for k, n in endings.items()
        if n
    ]
    rates = _rates(ctx)
    rate_rows = []
    for site_id in ctx.scope.site_ids:
        r = rates.get(site_id, {"visits": 0, "no_show": 0, "left": 0})
        rate_rows.append(
            {
                "site": names.site(site_id),
                "site_label": names.site_label(site_id),
                **r,
                "no_show_rate": _share(r["no_show"], r["visits"]),
                "left_rate": _share(r["left"], r["visits"]),
            }
        )
    return [
        _table("outcomes", "endings", ending_rows),
        _table("outcomes", "referrals", _referrals(ctx)),
        _table("outcomes", "rates", rate_rows),
    ]


def _indicators(ctx: Ctx) -> list[Table]:
    names, tr = ctx.names, ctx.names.tr
    found = _count_by(ctx, T.c.site_id, T.c.reason_code, T.c.status)  # one pass for three tables
    visits = _group_counts(ctx, [(code, n) for _, code, _, n in found])
    served = _group_counts(ctx, [(code, n) for _, code, st, n in found if st == Status.DONE])
    group_rows = [
        {
            "group": g,
            "label": names.reason_label(g),
            "visits": _mask_sensitive(ctx, g, visits[g]),
            "served": _mask_sensitive(ctx, g, served.get(g, 0)),
        }
        for g in sorted(visits, key=names.reason_order)
    ]
    langs = sorted(_count_by(ctx, T.c.lang), key=lambda r: (-r[1], r[0]))
    lang_rows = [
        {"lang": lang, "label": names.language_label(lang), "visits": n} for lang, n in langs
    ]
    referrals = _referrals(ctx)
    waits, overall = _waits_by_site_and_all(ctx)
    wait_rows = [
        {"site": names.site(s), "site_label": names.site_label(s), **_wait_fields(waits.get(s))}
        for s in ctx.scope.site_ids
    ]
    w = _wait_fields(overall)
    rates = _rates(ctx, [(site, st, n) for site, _, st, n in found])
    total = sum(r["visits"] for r in rates.values())
    no_show = sum(r["no_show"] for r in rates.values())
    left = sum(r["left"] for r in rates.values())
    n_referred = sum(r["visits"] for r in referrals if isinstance(r["visits"], int))
    figures = [
        ("visits", N_("Visits"), total),
        ("served", N_("Visits served (finished)"), sum(served.values())),
        ("referred", N_("Referrals made"), n_referred),
        ("languages", N_("Languages served"), len(lang_rows)),
        ("wait_median_s", N_("Median wait (s)"), w["wait_median_s"]),
        ("wait_p90_s", N_("90th percentile wait (s)"), w["wait_p90_s"]),
        ("within_15_min", N_("Called within 15 min"), w["within_15_min"]),
        ("no_show_rate", N_("No-show rate"), _share(no_show, total)),
        ("left_rate", N_("Left before service rate"), _share(left, total)),
    ]
    figure_rows = [{"indicator": k, "label": tr(label), "value": v} for k, label, v in figures]
    return [
        _table("indicators", "figures", figure_rows),
        _table("indicators", "people_by_group", group_rows),
        _table("indicators", "referrals", referrals),
        _table("indicators", "languages", lang_rows),
        _table("indicators", "waits", wait_rows),
    ]


# --- staffing ---------------------------------------------------------------------------


def staffed_seconds(
    events: list[tuple[int, str, datetime]], start: datetime, end: datetime, timezone: str
) -> dict[tuple[date, int], float]:
    """Counter-seconds staffed per (local day, hour): a counter is staffed from `opened` or
    `resumed` until `paused` or `closed` (or the end of the range).

    `events` are (counter id, type, UTC time), in order. A counter whose first event in
    the range is a pause or a close was staffed since the start of the range.
    """
    zone = ZoneInfo(timezone)
    since: dict[int, datetime | None] = {}
    intervals: list[tuple[datetime, datetime]] = []
    for counter, type_, at in events:
        if type_ in ("opened", "resumed"):
            if since.get(counter) is None:
                since[counter] = at
        elif type_ in ("paused", "closed"):
            began = since.get(counter, start)
            if began is not None and at > began:
                intervals.append((max(began, start), min(at, end)))
            since[counter] = None
    intervals += [(max(began, start), end) for began in since.values() if began is not None]
    out: dict[tuple[date, int], float] = defaultdict(float)
    for begin, finish in intervals:
        cursor = begin
        while cursor < finish:
            local = cursor.astimezone(zone)
            next_hour = (
                local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            ).astimezone(cursor.tzinfo)
            step_end = min(next_hour, finish)
            out[(local.date(), local.hour)] += (step_end - cursor).total_seconds()
            cursor = step_end
    return out


def _open_hours(hours: dict[str, str]) -> dict[int, range]:
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    out = {}
    for i, name in enumerate(days):
        if name in hours:
            opens, closes = hours[name].split("-")
            close_h, close_m = int(closes[:2]), int(closes[3:])
            out[i] = range(int(opens[:2]), close_h + (1 if close_m else 0))
    return out


def _staffing(ctx: Ctx) -> list[Table]:
    target = float(ctx.options.get("target", 0.8))
    within_s = float(ctx.options.get("within_min", 15)) * 60
    if not 0 < target < 1 or within_s <= 0:
        raise ReportError("bad_target", "target must be between 0 and 1, within_min above 0")
    names, tr, scope = ctx.names, ctx.names.tr, ctx.scope
    rows = []
    for site_id in scope.site_ids:
        hours = ctx.conn.execute(select(Site.hours).where(Site.id == site_id)).scalar() or {}
        open_hours = _open_hours(hours)
        arrivals = {(wd, h): n for wd, h, n in _arrivals(ctx, site_id)}
        days = (
            ctx.conn.execute(
                select(T.c.service_day).distinct().where(*ctx.visits(), T.c.site_id == site_id)
            )
            .scalars()
            .all()
        )
        days_per_weekday: dict[int, int] = defaultdict(int)
        for day in days:
            days_per_weekday[day.weekday()] += 1
        source = _service_source(ctx)
        mean = ctx.conn.execute(
            select(func.avg(source.c.service_s)).where(source.c.site_id == site_id)
        ).scalar()
        if mean is None:  # no finished visit yet: the configured typical durations
            mean = 60 * (
                ctx.conn.execute(
                    select(func.avg(Service.default_service_min)).where(Service.site_id == site_id)
                ).scalar()
                or 10
            )
        service_s = float(mean)
        counter_events = [
            (c, t, at)
            for c, t, at in ctx.conn.execute(
                select(CE.c.counter_id, CE.c.type, CE.c.at)
                .where(CE.c.site_id == site_id, CE.c.at >= scope.start, CE.c.at < scope.end)
                .order_by(CE.c.at, CE.c.id)
            )
        ]
        staffed = staffed_seconds(counter_events, scope.start, scope.end, scope.timezone)
        weekdays_in_range: dict[int, int] = defaultdict(int)
        for day in days_in(scope.first, scope.last):
            weekdays_in_range[day.weekday()] += 1
        present: dict[tuple[int, int], float] = defaultdict(float)
        for (day, hour), secs in staffed.items():
            present[(day.weekday(), hour)] += secs / 3600.0
        slots = {(wd, h) for wd, hs in open_hours.items() for h in hs} | set(arrivals)
        for wd, h in sorted(slots):
            n_days = days_per_weekday.get(wd, 0)
            rate = arrivals.get((wd, h), 0) / n_days if n_days else 0.0
            needed = erlang.counters_needed(rate, service_s, target, within_s)
            here = present.get((wd, h), 0.0) / weekdays_in_range[wd] if weekdays_in_range[wd] else 0
            rows.append(
                {
                    "site": names.site(site_id),
                    "weekday": wd,
                    "day": tr(WEEKDAYS[wd]),
                    "hour": h,
                    "arrivals_per_hour": round(rate, 2),
                    "service_min": round(service_s / 60, 1),
                    "load": round(rate * service_s / 3600, 2),
                    "needed": needed,
                    "present": round(here, 2),
                    "gap": round(max(0.0, needed - here), 2),
                }
            )
    ctx.options["target"], ctx.options["within_min"] = target, within_s / 60
    return [_table("staffing", "hours", rows)]


BUILDERS: dict[str, Callable[[Ctx], list[Table]]] = {
    "reasons": _reasons,
    "services": _services,
    "languages": _languages,
    "heatmap": _heatmap,
    "waits": _waits,
    "outcomes": _outcomes,
    "indicators": _indicators,
    "staffing": _staffing,
}


def compute(
    conn: Connection,
    kind: str,
    site_ids: list[int],
    first: date,
    last: date,
    *,
    lang: str = "en",
    minimum: int = privacy.DEFAULT_THRESHOLD,
    **options: Any,
) -> Report:
    """The report `kind` for the sites and local days [first, last], labelled in `lang`."""
    if kind not in BUILDERS:
        raise ReportError("bad_kind", f"no report '{kind}': one of {', '.join(KINDS)}")
    scope = make_scope(conn, site_ids, first, last)
    ctx = Ctx(conn, scope, Names.load(conn, lang), minimum, dict(options))
    tables = BUILDERS[kind](ctx)
    return Report(
        kind,
        scope.site_slugs,
        first,
        last,
        scope.timezone,
        minimum,
        tuple(tables),
        {k: v for k, v in ctx.options.items() if kind == "staffing"},
    )
