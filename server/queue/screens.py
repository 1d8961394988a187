"""What staff screens show: a counter's workstation and the supervisor's live view.

Staff see numbers, waiting times, languages and priority kinds. A visit reason appears
only as its label, never for a sensitive reason in a list; the ticket at a counter shows
its reason, marked confidential when sensitive, and a sensitive one only to those who may
know it (server/need_to_know.py: the one serving it, supervisors, trained staff).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from .. import catalog, i18n
from ..catalog import Catalog, CounterInfo, SiteInfo
from ..db import Database
from ..models import Ticket, utcnow
from . import reads, rules
from .rules import AT_COUNTER, CounterState, Priority, Status

LIST_LIMIT = 60  # per service: more than any centre's waiting room


def _reason(cat: Catalog, code: str, lang: str, hide_sensitive: bool) -> dict[str, Any] | None:
    reason = cat.reasons.get(code)
    if reason is None:
        return None
    if reason.sensitive and hide_sensitive:
        return None
    parent = cat.reasons.get(reason.parent or "")
    return {
        "code": code,
        "label": i18n.label(reason.labels, lang),
        "group": i18n.label(parent.labels, lang) if parent else None,
        "sensitive": reason.sensitive,
    }


def _ticket(
    t: Ticket, cat: Catalog, lang: str, now: datetime, hide_sensitive: bool
) -> dict[str, Any]:
    service = cat.services.get(t.service_id)
    return {
        "id": t.id,
        "number": t.code,
        "service": service.slug if service else "",
        "service_label": i18n.label(service.labels, lang) if service else "",
        "lang": t.lang,
        "priority": t.priority,
        "status": t.status,
        "reason": _reason(cat, t.reason_code, lang, hide_sensitive),
        "waited_s": max(0, int((now - t.queued_at).total_seconds())),
        "called_at": t.called_at,
        "started_at": t.started_at,
        "actions": [a.value for a in rules.allowed_actions(Status(t.status))],
    }


def counter_screen(
    db: Database, site: SiteInfo, counter: CounterInfo, lang: str, knows_sensitive: bool
) -> dict[str, Any]:
    """The counter's own ticket, its shift, and the waiting list of each service it serves;
    the ticket's sensitive reason only if the viewer `knows_sensitive` there."""
    now = utcnow()
    cat = catalog.current(db)
    today = rules.service_day(now, site.timezone)
    with db.read() as s:
        current = s.scalar(
            select(Ticket).where(
                Ticket.counter_id == counter.id, Ticket.status.in_(sorted(AT_COUNTER))
            )
        )
        lists = []
        for service_id in counter.weights:
            waiting = s.scalars(
                select(Ticket)
                .where(
                    Ticket.service_id == service_id,
                    Ticket.service_day == today,
                    Ticket.status == Status.WAITING,
                )
                .order_by(Ticket.priority == Priority.NONE, Ticket.queued_at)
                .limit(LIST_LIMIT)
            ).all()
            service = cat.services[service_id]
            lists.append(
                {
                    "service": service.slug,
                    "label": i18n.label(service.labels, lang),
                    "max_wait_s": service.max_wait_min * 60,
                    "tickets": [_ticket(t, cat, lang, now, hide_sensitive=True) for t in waiting],
                }
            )
        staffed = next(
            (x for x in reads.staffing(db, site.id, now) if x.counter == counter.slug), None
        )
        return {
            "counter": counter.slug,
            "state": (staffed.state if staffed else CounterState.SIGNED_OUT).value,
            "current": (
                _ticket(current, cat, lang, now, hide_sensitive=not knows_sensitive)
                if current
                else None
            ),
            "services": lists,
            "at": now,
        }


def site_overview(db: Database, site: SiteInfo, lang: str) -> dict[str, Any]:
    """Every service's waiting count and longest wait, every counter's shift and ticket."""
    now = utcnow()
    cat = catalog.current(db)
    queue = reads.queue_summary(db, site.id, lang, now)
    limits = {s.slug: s.max_wait_min * 60 for s in cat.services_of(site.id)}
    staffing = {x.counter: x for x in reads.staffing(db, site.id, now)}
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
                "state": staffed.state.value if staffed else CounterState.SIGNED_OUT.value,
                "user": staffed.user if staffed else None,
                "state_since": staffed.since if staffed else None,
                "ticket_for_s": (
                    int((now - ticket["since"]).total_seconds())
                    if ticket and ticket["since"]
                    else None
                ),
            }
        )
    return {"services": services, "counters": out_counters, "at": now}


def day_start(site: SiteInfo, now: datetime | None = None) -> datetime:
    """When the site's local day began: what "today" means on staff screens."""
    zone = site.timezone
    return rules.day_start_utc(rules.service_day(now or utcnow(), zone), zone)
