"""A realistic synthetic history of a site, for the demo and the report benchmark.

Visitors arrive on weekdays between 08:00 and 15:00 (Europe/Athens), more on Mondays and
mid-mornings and fewer in August, with the reason and language mix of a Community Centre.
Each day is simulated as one line per service in front of pooled desks: a visitor is
called when a desk is free, or leaves if the wait outlasts their patience; some do not
answer the call, some are transferred, the rest finish with an outcome and maybe a
referral. Tickets, their events (with the payloads the store writes), the numbering rows
and the desks' sign-ins are inserted in bulk, one transaction per chunk of days. The same
seed gives the same history (apart from the secret
public tokens, which are always random). Only days before today are written, and a day that already
has tickets at the site is left alone, so the numbering stays unique.
"""

from __future__ import annotations

import heapq
import math
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select

from .. import catalog
from ..catalog import ServiceInfo, SiteInfo
from ..db import Database
from ..models import CounterEvent, Event, Ticket, TicketNumber, utcnow
from ..queue.rules import EXTERNAL_AGENCIES, EventType, Outcome, Priority, Status, format_number

T, E, N, CE = (m.__table__ for m in (Ticket, Event, TicketNumber, CounterEvent))

# relative weights: how often each reason group brings people to a Community Centre
GROUP_WEIGHTS = {
    "benefits": 26, "basic_needs": 16, "social_support": 12, "integration": 10, "legal": 8,
    "referral": 8, "housing": 6, "health": 5, "disability": 4, "other": 4, "protection": 1,
    "private": 1,
}  # fmt: skip
LANGUAGE_WEIGHTS = {
    "el": 52, "ar": 11, "fa": 6, "en": 5, "uk": 5, "sq": 4, "ur": 3, "fa_AF": 3, "ps": 2,
    "ku": 2, "ru": 2, "fr": 2, "bn": 1, "so": 1, "ti": 1,
}  # fmt: skip
PRIORITY_WEIGHTS = {
    Priority.NONE: 88, Priority.ELDERLY: 6, Priority.DISABILITY: 3, Priority.PREGNANCY: 1.5,
    Priority.WITH_INFANT: 1.5,
}  # fmt: skip
WEEKDAY_FACTOR = (1.25, 1.05, 1.0, 0.95, 0.75)  # Monday ... Friday
MONTH_FACTOR = (1.0, 1.05, 1.05, 1.0, 1.0, 0.95, 0.85, 0.55, 1.1, 1.1, 1.05, 0.85)
# arrivals per half hour from 08:00 to 15:00: a mid-morning peak
HALF_HOURS = (1.0, 1.6, 2.0, 2.1, 2.0, 1.8, 1.6, 1.4, 1.2, 1.0, 0.9, 0.7, 0.5, 0.3)
HOLIDAYS = {(1, 1), (1, 6), (3, 25), (5, 1), (8, 15), (10, 28), (12, 25), (12, 26)}
NO_SHOW, TRANSFER = 0.04, 0.03
ENDINGS = {  # how a finished visit ends
    Outcome.SERVED: 58, Outcome.REFERRED_INTERNAL: 14, Outcome.REFERRED_EXTERNAL: 16,
    Outcome.APPOINTMENT: 12,
}  # fmt: skip
MEAN_PATIENCE_MIN = 75
CHUNK_TICKETS = 20_000  # tickets per transaction


@dataclass
class Stats:
    days: int = 0
    skipped_days: int = 0
    tickets: int = 0
    events: int = 0
    counter_events: int = 0


def _chooser(rng: random.Random, weights: dict[Any, float]) -> Callable[[], Any]:
    keys, cum = list(weights), []
    total = 0.0
    for k in keys:
        total += weights[k]
        cum.append(total)
    return lambda: keys[min(len(keys) - 1, _bisect(cum, rng.random() * total))]


def _bisect(cum: list[float], x: float) -> int:
    lo, hi = 0, len(cum)
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def history_days(end: date, days: int) -> list[date]:
    """Open weekdays among the `days` calendar days ending with `end`."""
    first = end - timedelta(days=days - 1)
    out = []
    for i in range(days):
        day = first + timedelta(days=i)
        if day.weekday() < 5 and (day.month, day.day) not in HOLIDAYS:
            out.append(day)
    return out


class _Site:
    """What the simulation needs to know of a site, drawn from the catalog."""

    def __init__(self, cat: catalog.Catalog, site: SiteInfo, rng: random.Random) -> None:
        self.site = site
        self.zone = ZoneInfo(site.timezone)
        self.services = cat.services_of(site.id)
        if not self.services:
            raise ValueError(f"site '{site.slug}' has no active service")
        self.counters = [c.id for c in cat.counters_of(site.id)]
        by_group: dict[str, list[tuple[str, ServiceInfo]]] = {}
        for svc in self.services:
            for code in sorted(svc.reasons):
                info = cat.reasons.get(code)
                if info is None:
                    continue
                group = info.parent or code
                has_children = any(r.parent == code for r in cat.reasons.values())
                if info.parent is None and has_children:
                    continue  # visitors choose a reason inside a group when it has any
                by_group.setdefault(group, []).append((code, svc))
        weights = {g: GROUP_WEIGHTS.get(g, 2) for g in by_group}
        pick_group = _chooser(rng, weights)
        self.pick_reason = lambda: rng.choice(by_group[pick_group()])
        self.pick_lang = _chooser(rng, LANGUAGE_WEIGHTS)
        self.pick_priority = _chooser(rng, PRIORITY_WEIGHTS)
        self.pick_ending = _chooser(rng, ENDINGS)
        self.groups = sorted(g for g in by_group if g != "other")

    def utc(self, day: date, minutes: float) -> datetime:
        local = datetime.combine(day, time(), self.zone) + timedelta(minutes=minutes)
        return local.astimezone(UTC)


def _simulate_day(
    s: _Site, rng: random.Random, day: date, per_day: float, next_id: int
) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """One day's tickets, events, numbering rows and counter events."""
    expected = per_day * WEEKDAY_FACTOR[day.weekday()] * MONTH_FACTOR[day.month - 1]
    n = max(0, round(rng.gauss(expected, math.sqrt(max(expected, 1)))))
    arrivals = sorted(
        480 + 30 * _bisect(_HALF_CUM, rng.random() * _HALF_CUM[-1]) + rng.random() * 30
        for _ in range(n)
    )
    mean_service = sum(svc.default_service_min for svc in s.services) / len(s.services)
    desks = max(len(s.counters), math.ceil(n * mean_service / 420 / 0.8))
    free = [(480.0, i) for i in range(desks)]  # (free from minute, desk)
    heapq.heapify(free)
    numbers: dict[int, int] = {}
    tickets: list[dict] = []
    events: list[dict] = []

    def event(tid: int, svc: int, type_: str, minute: float, counter: int | None, payload: dict):
        events.append({"ticket_id": tid, "site_id": s.site.id, "service_id": svc, "type": type_,
                       "at": s.utc(day, minute), "counter_id": counter, "user_id": None,
                       "payload": payload})  # fmt: skip

    for minute in arrivals:
        reason, svc = s.pick_reason()
        lang, priority = s.pick_lang(), s.pick_priority()
        tid = next_id + len(tickets)
        numbers[svc.id] = number = numbers.get(svc.id, 0) + 1
        issued = s.utc(day, minute)
        ticket = {
            "id": tid, "site_id": s.site.id, "service_id": svc.id, "origin_service_id": svc.id,
            "reason_code": reason, "lang": lang, "priority": priority.value, "number": number,
            "code": format_number(svc.prefix, number), "service_day": day,
            "public_token": secrets.token_urlsafe(16),
            "counter_id": None, "device_id": None, "issued_at": issued, "queued_at": issued,
            "called_at": None, "started_at": None, "ended_at": None,
        }  # fmt: skip
        tickets.append(ticket)
        event(tid, svc.id, EventType.ISSUED, minute, None,
              {"reason": reason, "lang": lang, "priority": priority.value})  # fmt: skip
        free_at, desk = heapq.heappop(free)
        call = max(minute, free_at) + rng.random() * 0.5
        if call - minute > rng.expovariate(1 / MEAN_PATIENCE_MIN) or call > 15 * 60 + 30:
            heapq.heappush(free, (free_at, desk))
            gone = minute + min(call - minute, rng.uniform(5, 60))
            event(tid, svc.id, EventType.CANCELLED, gone, None, {"why": "left"})
            ticket.update(status=Status.CANCELLED.value, ended_at=s.utc(day, gone))
            continue
        counter = s.counters[desk % len(s.counters)] if s.counters else None
        event(tid, svc.id, EventType.CALLED, call, counter, {})
        ticket.update(counter_id=counter, called_at=s.utc(day, call))
        if rng.random() < NO_SHOW:
            gone = call + rng.uniform(1, 3)
            event(tid, svc.id, EventType.NO_SHOW, gone, counter, {})
            ticket.update(status=Status.NO_SHOW.value, ended_at=s.utc(day, gone))
            heapq.heappush(free, (gone, desk))
            continue
        serving = svc
        start = call + rng.uniform(0.3, 2)
        others = [o for o in s.services if o.id != svc.id and reason in o.reasons] or [
            o for o in s.services if o.id != svc.id
        ]
        if others and rng.random() < TRANSFER:
            serving = rng.choice(others)
            moved = call + rng.uniform(1, 4)
            event(tid, svc.id, EventType.TRANSFERRED, moved, counter,
                  {"from_service": svc.slug, "to_service": serving.slug})  # fmt: skip
            call = moved + rng.uniform(2, 15)
            event(tid, serving.id, EventType.CALLED, call, counter, {})
            start = call + rng.uniform(0.3, 2)
            ticket.update(service_id=serving.id, called_at=s.utc(day, call))
        event(tid, serving.id, EventType.STARTED, start, counter, {})
        duration = serving.default_service_min * math.exp(rng.gauss(0, 0.45))
        end = start + duration
        outcome = s.pick_ending()
        payload: dict[str, Any] = {"outcome": outcome.value}
        if outcome is Outcome.REFERRED_INTERNAL and s.groups:
            payload["referral"] = rng.choice(s.groups)
        elif outcome is Outcome.REFERRED_EXTERNAL:
            payload["referral"] = rng.choice(EXTERNAL_AGENCIES)
        else:
            payload["outcome"] = (  # an internal referral needs a group to go to
                Outcome.SERVED.value if outcome is Outcome.REFERRED_INTERNAL else outcome.value
            )
        event(tid, serving.id, EventType.FINISHED, end, counter, payload)
        ticket.update(status=Status.DONE.value, started_at=s.utc(day, start),
                      ended_at=s.utc(day, end))  # fmt: skip
        heapq.heappush(free, (end + rng.uniform(0, 1.5), desk))
    number_rows = [{"service_id": sid, "day": day, "last_number": last}
                   for sid, last in numbers.items()]  # fmt: skip
    return tickets, events, number_rows, _desk_sessions(s, rng, day)


_HALF_CUM = [sum(HALF_HOURS[: i + 1]) for i in range(len(HALF_HOURS))]


def _desk_sessions(s: _Site, rng: random.Random, day: date) -> list[dict]:
    """Each desk signs in around 08:00, often pauses late morning, signs out around 15:00."""
    rows = []
    for counter in s.counters:
        if rng.random() < 0.08:
            continue  # a desk left empty today (leave, training)
        marks = [("opened", 480 + rng.uniform(-5, 15))]
        if rng.random() < 0.6:
            pause = rng.uniform(630, 720)
            marks += [("paused", pause), ("resumed", pause + rng.uniform(15, 35))]
        marks.append(("closed", 900 + rng.uniform(0, 20)))
        rows += [{"site_id": s.site.id, "counter_id": counter, "user_id": None, "type": type_,
                  "at": s.utc(day, minute)} for type_, minute in marks]  # fmt: skip
    return rows


def generate(
    db: Database,
    site: str,
    days: int,
    per_day: float,
    *,
    seed: int = 1,
    end: date | None = None,
    progress: Callable[[Stats], None] | None = None,
) -> Stats:
    """Write `days` calendar days of history ending `end` (default: yesterday)."""
    cat = catalog.current(db)
    info = cat.require_site(site)
    today = utcnow().astimezone(ZoneInfo(info.timezone)).date()
    end = min(end or today - timedelta(days=1), today - timedelta(days=1))
    rng = random.Random(f"{seed}:{site}")  # each site its own, reproducible
    sim = _Site(cat, info, rng)
    wanted = history_days(end, days)
    if not wanted:
        return Stats()
    with db.connect() as conn:
        taken = set(conn.execute(
            select(N.c.day).distinct().where(
                N.c.service_id.in_([svc.id for svc in sim.services]),
                N.c.day >= wanted[0], N.c.day <= end)
        ).scalars())  # fmt: skip
    stats = Stats(skipped_days=sum(1 for d in wanted if d in taken))
    pending = [d for d in wanted if d not in taken]
    while pending:
        with db.transaction() as conn:
            if not db.is_sqlite:  # ids are given here: keep the store's inserts out meanwhile
                conn.exec_driver_sql("LOCK TABLE tickets IN EXCLUSIVE MODE")
            next_id = (conn.execute(select(T.c.id).order_by(T.c.id.desc()).limit(1)).scalar()
                       or 0) + 1  # fmt: skip
            chunk: tuple[list, list, list, list] = ([], [], [], [])
            while pending and len(chunk[0]) < CHUNK_TICKETS:
                day_rows = _simulate_day(sim, rng, pending.pop(0), per_day,
                                         next_id + len(chunk[0]))  # fmt: skip
                for bucket, rows in zip(chunk, day_rows, strict=True):
                    bucket.extend(rows)
                stats.days += 1
            _write(conn, *chunk)
        stats.tickets += len(chunk[0])
        stats.events += len(chunk[1])
        stats.counter_events += len(chunk[3])
        if progress:
            progress(stats)
    if not db.is_sqlite:
        _advance_sequences(db)
    return stats


def _write(conn: Connection, tickets: list, events: list, numbers: list, desks: list) -> None:
    """Plain multi-row inserts only: the event tables are append-only."""
    for table, rows in ((T, tickets), (N, numbers), (E, events), (CE, desks)):
        for i in range(0, len(rows), 5000):
            conn.execute(insert(table), rows[i : i + 5000])


def _advance_sequences(db: Database) -> None:
    """PostgreSQL: ticket ids were given explicitly, so move the id sequence past them."""
    with db.transaction() as conn:
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('tickets', 'id'), "
            "COALESCE((SELECT MAX(id) FROM tickets), 1))"
        )
