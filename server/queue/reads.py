"""What the queue says when asked: a ticket, its public status, a site's waiting summary,
who staffs each counter. Nothing here writes.

Public views (a ticket's status page) and what displays get never include the visit
reason. Positions and waits are estimates computed with the rules' own definitions
(`rules.people_ahead` in SQL, `rules.estimated_wait_seconds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from .. import catalog, i18n
from ..cache import TTLCache
from ..catalog import Catalog, ServiceInfo
from ..db import Database
from ..errors import NotFound
from ..models import CounterEvent, User, utcnow
from . import mediation, rules, sql
from .rules import AT_COUNTER, CounterEventType, CounterState, Priority, Status

Row = dict[str, Any]  # a ticket row as column -> value


@dataclass(frozen=True)
class Logged:
    """The event a change of a ticket wrote: a call is announced with its id and time."""

    id: int
    type: str
    at: datetime


@dataclass(frozen=True)
class TicketView:
    """A ticket as the API and the features see it (the reason only for staff views)."""

    id: int
    site: str
    number: str
    service: str
    reason: str | None  # None for a caller who may not know it (server/need_to_know.py)
    lang: str
    priority: str
    status: str
    public_token: str
    counter: str | None
    issued_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    people_ahead: int | None = None
    estimated_wait_s: int | None = None
    logged: Logged | None = None  # the event of the change that returned it, if one did
    quiet: bool = False  # never called aloud


# Service times drift over minutes, and reading the last visits for every ticket would
# cost a query each time: (database URL, service id) -> typical seconds, for 30 seconds.
_typical: TTLCache[tuple[str, int], float] = TTLCache(30.0)


def _typical_seconds(conn: Connection, service: ServiceInfo) -> float:
    def load() -> float:
        recent = [
            (end - start).total_seconds()
            for start, end in conn.execute(sql.RECENT_SERVICE, {"service_id": service.id})
            if start and end
        ]
        return rules.typical_service_seconds(recent, service.default_service_min * 60.0)

    return _typical.get((str(conn.engine.url), service.id), load)


# Who is at work and in which languages, for the estimates of a site's waiting visitors:
# (database URL, site id) -> (languages at each counter at work, by counter id; languages
# of each mediator on duty), for 5 seconds (a status page is fetched at every move).
_staffing: TTLCache[tuple[str, int], tuple[dict[int, frozenset[str]], list[frozenset[str]]]]
_staffing = TTLCache(5.0)


def _counters_for(conn: Connection, cat: Catalog, t: Row, service: ServiceInfo) -> int:
    """rules.counters_for for a waiting ticket, from who is at work now."""
    site = cat.site_by_id(t["site_id"])
    if site is None:
        return service.counters_serving

    def load() -> tuple[dict[int, frozenset[str]], list[frozenset[str]]]:
        now = utcnow()
        since = rules.day_start_utc(rules.service_day(now, site.timezone), site.timezone)
        params = {"site_id": site.id, "since": since, "now": now}
        rows = conn.execute(sql.LANGUAGES_AT_COUNTERS, params)
        counters = {cid: frozenset(langs or ()) for cid, langs in rows}
        on_duty = [
            frozenset(m.languages)
            for m in mediation.present(conn, site, now)
            if m.state is not rules.MediatorState.AWAY
        ]
        return counters, on_duty

    counters, mediators = _staffing.get((str(conn.engine.url), site.id), load)
    at_work = [
        langs
        for cid, langs in counters.items()
        if cid in cat.counters and service.id in cat.counters[cid].weights
    ]
    return rules.counters_for(
        t["lang"], at_work, mediators, site.phone_languages, service.counters_serving
    )


def _people_ahead(conn: Connection, t: Row) -> int:
    params = {
        "service_id": t["service_id"],
        "day": t["service_day"],
        "ticket_id": t["id"],
        "queued_at": t["queued_at"],
    }
    stmt = sql.AHEAD_OF_NORMAL if t["priority"] == Priority.NONE else sql.AHEAD_OF_PRIORITY
    return int(conn.execute(stmt, params).scalar() or 0)


def view(conn: Connection, t: Row, cat: Catalog, with_estimate: bool = True) -> TicketView:
    """The ticket as plain data, with position and estimate while it waits."""
    service = cat.services.get(t["service_id"])
    site = cat.site_by_id(t["site_id"])
    counter = cat.counters.get(t["counter_id"]) if t["counter_id"] else None
    ahead = wait = None
    if with_estimate and t["status"] == Status.WAITING and service is not None:
        ahead = _people_ahead(conn, t)
        typical = _typical_seconds(conn, service)
        counters = _counters_for(conn, cat, t, service)
        wait = rules.estimated_wait_seconds(ahead, typical, counters)
    return TicketView(
        id=t["id"],
        site=site.slug if site else "",
        number=t["code"],
        service=service.slug if service else "",
        reason=t["reason_code"],
        lang=t["lang"],
        priority=t["priority"],
        status=t["status"],
        public_token=t["public_token"],
        counter=counter.slug if counter else None,
        issued_at=t["issued_at"],
        called_at=t["called_at"],
        started_at=t["started_at"],
        ended_at=t["ended_at"],
        people_ahead=ahead,
        estimated_wait_s=wait,
        logged=t.get("logged"),
        quiet=bool(t.get("quiet", False)),
    )


# --- one ticket ------------------------------------------------------------------------------


def _ticket_row(db: Database, where: Any, cat: Catalog) -> tuple[Row, TicketView]:
    with db.connect() as conn:
        row = conn.execute(select(sql.T).where(where)).mappings().first()
        if row is None:
            raise NotFound("no such ticket")
        return dict(row), view(conn, dict(row), cat)


def ticket(db: Database, ticket_id: int) -> TicketView:
    return _ticket_row(db, sql.T.c.id == ticket_id, catalog.current(db))[1]


def ticket_site_id(db: Database, ticket_id: int) -> int:
    """The site a ticket belongs to, for the caller's permission check."""
    if not 0 < ticket_id < 2**63:  # beyond what a row id can be: no such ticket
        raise NotFound(f"no ticket {ticket_id}")
    with db.connect() as conn:
        site_id = conn.execute(select(sql.T.c.site_id).where(sql.T.c.id == ticket_id)).scalar()
    if site_id is None:
        raise NotFound(f"no ticket {ticket_id}")
    return int(site_id)


def issued_by_device(db: Database, device_id: int, since: datetime) -> list[datetime]:
    """When a kiosk issued its tickets after `since`, oldest first: for its issuing limit."""
    with db.connect() as conn:
        rows = conn.execute(
            select(sql.T.c.issued_at)
            .where(sql.T.c.device_id == device_id, sql.T.c.issued_at > since)
            .order_by(sql.T.c.issued_at)
        ).scalars()
        return list(rows)


def ticket_status(db: Database, public_token: str, now: datetime | None = None) -> dict[str, Any]:
    """What the visitor's phone may know: number, status, place, wait, counter. No reason.

    Only on the ticket's own day (`rules.status_link_open`): later, NotFound, as for a
    token that never was."""
    cat = catalog.current(db)
    row, current = _ticket_row(db, sql.T.c.public_token == public_token, cat)
    site = cat.site_by_id(row["site_id"])
    zone = site.timezone if site else i18n.TIMEZONE
    if not rules.status_link_open(row["service_day"], now or utcnow(), zone):
        raise NotFound("no such ticket")
    return status_of(current, cat)


def status_of(ticket: TicketView, cat: Catalog) -> dict[str, Any]:
    """The phone's view of a ticket as a change just left it (the hub sends it at once,
    without reading the ticket again); labels in the ticket's language."""
    lang = ticket.lang
    site = cat.site(ticket.site)
    counter = cat.counter(site.id, ticket.counter) if site and ticket.counter else None
    service = cat.service(site.id, ticket.service) if site else None
    return {
        "number": ticket.number,
        "status": ticket.status,
        "lang": lang,
        "site": i18n.label(site.name, lang) if site else "",
        # not for a sensitive reason or a private service: see Catalog.named_in_public
        "service": i18n.label(service.labels, lang)
        if service and cat.named_in_public(service, ticket.reason)
        else "",
        "people_ahead": ticket.people_ahead,
        "estimated_wait_s": ticket.estimated_wait_s,
        "counter": i18n.label(counter.labels, lang) if counter else None,
        "issued_at": ticket.issued_at,
        "called_at": ticket.called_at,
    }


# --- a site ----------------------------------------------------------------------------------


def queue_summary(
    db: Database, site_id: int, lang: str, now: datetime | None = None
) -> dict[str, Any]:
    """Waiting count and longest wait per service, and the ticket at each counter.

    This is what the API's queue, the displays' waiting counts and the counters' `queue`
    event are all made from.
    """
    now = now or utcnow()
    cat = catalog.current(db)
    # one query of the site's waiting and called tickets (a few dozen at most): the hub
    # makes a summary for each change of every site, so round trips count
    c = sql.T.c
    present = sorted({Status.WAITING, *AT_COUNTER})
    with db.connect() as conn:
        rows = conn.execute(
            select(c.service_id, c.status, c.queued_at, c.counter_id, c.code, c.called_at,
                   c.started_at)
            .where(c.site_id == site_id, c.status.in_(present))
        ).all()  # fmt: skip
    waiting: dict[int, tuple[int, datetime]] = {}  # service id -> how many, the oldest
    at_counter: dict[int, Any] = {}
    for t in rows:
        if t.status != Status.WAITING:
            at_counter[t.counter_id] = t
        elif t.service_id in waiting:
            count, oldest = waiting[t.service_id]
            waiting[t.service_id] = (count + 1, min(oldest, t.queued_at))
        else:
            waiting[t.service_id] = (1, t.queued_at)

    def oldest_wait(oldest: datetime | None) -> int:
        return 0 if oldest is None else max(0, int((now - oldest).total_seconds()))

    def serving(counter_id: int) -> dict[str, Any] | None:
        t = at_counter.get(counter_id)
        if t is None:
            return None
        svc = cat.services.get(t.service_id)
        return {
            "number": t.code,
            "service": svc.slug if svc else "",
            "status": t.status,
            "since": t.started_at or t.called_at,
        }

    return {
        "services": [
            {
                "service": svc.slug,
                "label": i18n.label(svc.labels, lang),
                "waiting": waiting.get(svc.id, (0, None))[0],
                "oldest_wait_s": oldest_wait(waiting.get(svc.id, (0, None))[1]),
                "private": svc.private,
            }
            for svc in cat.services_of(site_id)
        ],
        "counters": [
            {"counter": c.slug, "label": i18n.label(c.labels, lang), "ticket": serving(c.id)}
            for c in cat.counters_of(site_id)
        ],
    }


@dataclass(frozen=True)
class Staffing:
    """One counter's state today: who holds it and since when."""

    counter: str
    state: CounterState
    user: str | None
    since: datetime | None


def staffing(db: Database, site_id: int, now: datetime | None = None) -> list[Staffing]:
    """Every active counter of the site with its state now, in the site's order.

    The state is `rules.counter_state` of the counter's latest event of the local day up to
    now, by time and then id: the order in which a call reads it and the staffing report
    counts it.
    """
    now = now or utcnow()
    cat = catalog.current(db)
    site = cat.site_by_id(site_id)
    if site is None:
        raise NotFound(f"no site {site_id}")
    since = rules.day_start_utc(rules.service_day(now, site.timezone), site.timezone)
    with db.read() as s:
        today = s.execute(  # a handful of rows a day; the last of each counter decides
            select(CounterEvent.counter_id, CounterEvent.type, CounterEvent.at, User.username)
            .outerjoin(User, User.id == CounterEvent.user_id)
            .where(
                CounterEvent.site_id == site_id,
                CounterEvent.at >= since,
                CounterEvent.at <= now,
            )
            .order_by(CounterEvent.at, CounterEvent.id)
        ).all()
    latest = {row.counter_id: row for row in today}
    out = []
    for counter in cat.counters_of(site_id):
        row = latest.get(counter.id)
        if row is None:
            out.append(Staffing(counter.slug, CounterState.SIGNED_OUT, None, None))
            continue
        state = rules.counter_state(CounterEventType(row.type))
        user = None if state is CounterState.SIGNED_OUT else row.username
        out.append(Staffing(counter.slug, state, user, row.at))
    return out
