"""What staff screens show: a counter's workstation, a mediator's page and the
supervisor's live view.

Staff see numbers, waiting times, languages and priority kinds. A visit reason appears
only as its label, never for a sensitive reason in a list; the ticket at a counter shows
its reason, marked confidential when sensitive, and a sensitive one only to those who may
know it (server/need_to_know.py: the one serving it, supervisors, trained staff).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from .. import catalog, i18n
from ..catalog import Catalog, CounterInfo, SiteInfo
from ..db import Database
from ..models import Ticket, utcnow
from . import mediation, reads, rules, transactions
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
    db: Database,
    site: SiteInfo,
    counter: CounterInfo,
    lang: str,
    knows_sensitive: bool,
    speaks: frozenset[str] = frozenset(),
    trained: bool = False,
) -> dict[str, Any]:
    """The counter's own ticket, its shift, and the waiting list of each service it serves;
    the ticket's sensitive reason only if the viewer `knows_sensitive` there. The ticket
    says whether the viewer `speaks` its language (or the centre covers it by phone),
    and which mediator is joined to it or whether one was asked for."""
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
        # a private service's line is seen only where it is called (rules.serves_private)
        for service_id in transactions.callable_weights(cat, counter, trained):
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
        ticket = None
        if current is not None:
            ticket = _ticket(current, cat, lang, now, hide_sensitive=not knows_sensitive)
            needs = rules.needs_mediator(current.lang, speaks, site.phone_languages)
            ticket.update(speaks=not needs, mediator=_mediator_of(db, site, current.id, now))
        return {
            "counter": counter.slug,
            "state": (staffed.state if staffed else CounterState.SIGNED_OUT).value,
            "current": ticket,
            "services": lists,
            "at": now,
        }


def _mediator_of(db: Database, site: SiteInfo, ticket_id: int, now: datetime) -> dict | None:
    """Who is joined to the visit ({"state": "joined", "user"}), or since when one was
    asked for ({"state": "requested", "since"}), or None."""
    joined = next((m for m in mediation.mediators(db, site, now) if m.ticket_id == ticket_id), None)
    if joined is not None:
        return {"state": "joined", "user": joined.username, "since": joined.since}
    asked = next((r for r in mediation.requests(db, site, now) if r["id"] == ticket_id), None)
    return None if asked is None else {"state": "requested", "since": asked["asked_at"]}


def waiting_by_language(db: Database, site: SiteInfo, now: datetime) -> list[dict[str, Any]]:
    """How many wait today per visitor language, and the longest wait, most first."""
    today = rules.service_day(now, site.timezone)
    with db.read() as s:
        rows = s.execute(
            select(Ticket.lang, func.count(), func.min(Ticket.queued_at))
            .where(
                Ticket.site_id == site.id,
                Ticket.service_day == today,
                Ticket.status == Status.WAITING,
            )
            .group_by(Ticket.lang)
        ).all()
    return sorted(
        (
            {
                "lang": lang,
                "waiting": n,
                "oldest_wait_s": max(0, int((now - oldest).total_seconds())),
            }
            for lang, n, oldest in rows
        ),
        key=lambda x: (-x["waiting"], x["lang"]),
    )


def _counter(cat: Catalog, counter_id: int | None, lang: str) -> dict[str, Any]:
    counter = cat.counters.get(counter_id) if counter_id is not None else None
    if counter is None:
        return {"counter": None, "counter_label": None}
    return {"counter": counter.slug, "counter_label": i18n.label(counter.labels, lang)}


def _mediators(db: Database, present: list[mediation.Mediator], lang: str) -> list[dict[str, Any]]:
    """Mediators for staff screens: state, languages, the visit and counter they joined."""
    cat = catalog.current(db)
    joined = [m.ticket_id for m in present if m.ticket_id is not None]
    tickets: dict[int, Any] = {}
    if joined:
        with db.read() as s:
            rows = s.execute(
                select(Ticket.id, Ticket.code, Ticket.lang).where(Ticket.id.in_(joined))
            )
            tickets = {row.id: row for row in rows}
    return [
        {
            "user": m.username,
            "languages": list(m.languages),
            "state": m.state.value,
            "since": m.since,
            "ticket": tickets[m.ticket_id].code if m.ticket_id in tickets else None,
            "ticket_lang": tickets[m.ticket_id].lang if m.ticket_id in tickets else None,
            **_counter(cat, m.counter_id, lang),
        }
        for m in present
    ]


def _requests(db: Database, site: SiteInfo, now: datetime, lang: str) -> list[dict[str, Any]]:
    """The counters' unanswered requests for a mediator, oldest first."""
    cat = catalog.current(db)
    return [
        {
            "id": r["id"],
            "number": r["code"],
            "lang": r["lang"],
            "asked_at": r["asked_at"],
            "waited_s": max(0, int((now - r["asked_at"]).total_seconds())),
            **_counter(cat, r["counter_id"], lang),
        }
        for r in mediation.requests(db, site, now)
    ]


def mediator_board(
    db: Database, site: SiteInfo, lang: str, present: list[mediation.Mediator] | None = None
) -> dict[str, Any]:
    """The site's mediators now (`present`, if the caller read them already), the counters'
    unanswered requests for one, and how many wait per language: what mediators, counters
    and supervisors see of interpreting."""
    now = utcnow()
    present = mediation.mediators(db, site, now) if present is None else present
    return {
        "mediators": _mediators(db, present, lang),
        "requests": _requests(db, site, now, lang),
        "languages": waiting_by_language(db, site, now),
        "at": now,
    }


def mediator_screen(db: Database, site: SiteInfo, user_id: int, lang: str) -> dict[str, Any]:
    """A mediator's page: the board, and their own state and visit."""
    present = mediation.mediators(db, site)
    board = mediator_board(db, site, lang, present)
    me = next(
        (
            shown
            for m, shown in zip(present, board["mediators"], strict=True)
            if m.user_id == user_id
        ),
        None,
    )
    away = {"state": rules.MediatorState.AWAY.value, "ticket": None, "ticket_lang": None}
    return {"me": me or away, **board}


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
    return {**mediator_board(db, site, lang), "services": services, "counters": out_counters}


def day_start(site: SiteInfo, now: datetime | None = None) -> datetime:
    """When the site's local day began: what "today" means on staff screens."""
    zone = site.timezone
    return rules.day_start_utc(rules.service_day(now or utcnow(), zone), zone)
