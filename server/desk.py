"""What a counter's screen and the supervisor's live view read.

Staff see numbers, waiting times, languages and priority kinds. A visit reason appears
only as its label, never for a sensitive reason in a list; the ticket being served at the
counter shows its reason to that counter alone, marked confidential when sensitive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from . import catalog, counters, engine, queries
from .catalog import Catalog, SiteInfo
from .db import Database
from .engine import Status
from .models import Ticket, utcnow
from .printing import Printing
from .store import NotFound

LIST_LIMIT = 60  # per service: more than any centre's waiting room


@dataclass(frozen=True)
class Place:
    site: SiteInfo
    counter_id: int
    counter_slug: str
    service_ids: list[int]


def place(db: Database, site: str, counter: str) -> Place:
    cat = catalog.current(db)
    site_row = cat.site(site)
    if site_row is None:
        raise NotFound(f"no site '{site}'")
    counter_row = cat.counter(site_row.id, counter)
    if counter_row is None:
        raise NotFound(f"no counter '{counter}' at {site}")
    return Place(site_row, counter_row.id, counter_row.slug, list(counter_row.weights))


def _reason(cat: Catalog, code: str, lang: str, in_list: bool) -> dict[str, Any] | None:
    reason = cat.reasons.get(code)
    if reason is None:
        return None
    if reason.sensitive and in_list:
        return None
    parent = cat.reasons.get(reason.parent or "")
    return {
        "code": code,
        "label": queries.label(reason.labels, lang),
        "group": queries.label(parent.labels, lang) if parent else None,
        "sensitive": reason.sensitive,
    }


def _ticket(t: Ticket, cat: Catalog, lang: str, now: datetime, in_list: bool) -> dict[str, Any]:
    service = cat.services.get(t.service_id)
    return {
        "id": t.id,
        "number": t.code,
        "service": service.slug if service else "",
        "service_label": queries.label(service.labels, lang) if service else "",
        "lang": t.lang,
        "priority": t.priority,
        "status": t.status,
        "reason": _reason(cat, t.reason_code, lang, in_list),
        "waited_s": max(0, int((now - t.queued_at).total_seconds())),
        "called_at": t.called_at,
        "started_at": t.started_at,
        "actions": [a.value for a in engine.allowed_actions(Status(t.status))],
    }


def _failures(printing: Printing | None, site_id: int, since: datetime) -> list[dict[str, Any]]:
    if printing is None:
        return []
    return [
        {"id": f.ticket_id, "number": f.number, "at": f.at, "error": f.error}
        for f in printing.failures(site_id, since)
    ]


def counter_screen(
    db: Database, where: Place, lang: str, printing: Printing | None = None
) -> dict[str, Any]:
    """The counter's own ticket, its state, and the waiting list of each service it serves."""
    now = utcnow()
    cat = catalog.current(db)
    today = engine.service_day(now, where.site.timezone)
    with db.read() as s:
        current = s.scalar(
            select(Ticket).where(
                Ticket.counter_id == where.counter_id,
                Ticket.status.in_([Status.CALLED, Status.SERVING]),
            )
        )
        lists = []
        for service_id in where.service_ids:
            waiting = s.scalars(
                select(Ticket)
                .where(
                    Ticket.service_id == service_id,
                    Ticket.service_day == today,
                    Ticket.status == Status.WAITING,
                )
                .order_by(Ticket.priority == engine.Priority.NONE, Ticket.queued_at)
                .limit(LIST_LIMIT)
            ).all()
            service = cat.services[service_id]
            lists.append(
                {
                    "service": service.slug,
                    "label": queries.label(service.labels, lang),
                    "max_wait_s": service.max_wait_min * 60,
                    "tickets": [_ticket(t, cat, lang, now, in_list=True) for t in waiting],
                }
            )
        state = next(
            (
                x
                for x in counters.staffing(db, where.site.slug, now)
                if x.counter == where.counter_slug
            ),
            None,
        )
        since = engine.day_start_utc(today, where.site.timezone)
        return {
            "print_failures": _failures(printing, where.site.id, since),
            "counter": where.counter_slug,
            "state": state.state.value if state else engine.CounterState.SIGNED_OUT.value,
            "current": _ticket(current, cat, lang, now, in_list=False) if current else None,
            "services": lists,
            "at": now,
        }


def site_overview(
    db: Database, site: str, lang: str, printing: Printing | None = None
) -> dict[str, Any]:
    """Every service's waiting count and longest wait, every counter's state and ticket."""
    now = utcnow()
    cat = catalog.current(db)
    site_row = cat.site(site)
    if site_row is None:
        raise NotFound(f"no site '{site}'")
    queue = queries.queue(db, site_row.id, lang, now)
    limits = {s.slug: s.max_wait_min * 60 for s in cat.services_of(site_row.id)}
    staffing = {x.counter: x for x in counters.staffing(db, site, now)}
    services = [
        {**s, "max_wait_s": limits[s["service"]], "over": s["oldest_wait_s"] > limits[s["service"]]}
        for s in queue["services"]
    ]
    out_counters = []
    for c in queue["counters"]:
        staffed = staffing.get(c["counter"])
        ticket = c["ticket"]
        out_counters.append(
            {
                **c,
                "state": staffed.state.value if staffed else "signed_out",
                "user": staffed.user if staffed else None,
                "state_since": staffed.since if staffed else None,
                "ticket_for_s": (
                    int((now - ticket["since"]).total_seconds())
                    if ticket and ticket["since"]
                    else None
                ),
            }
        )
    since = engine.day_start_utc(engine.service_day(now, site_row.timezone), site_row.timezone)
    return {
        "services": services,
        "counters": out_counters,
        "print_failures": _failures(printing, site_row.id, since),
        "at": now,
    }
