"""Read-only views of sites and queues, shaped for the API and the pages.

Nothing here writes. Public views (a ticket's status page) and display views never
include the visit reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from . import catalog, i18n
from .db import Database
from .engine import Status
from .models import Ticket, utcnow
from .store import NotFound, TicketView, view

FALLBACK_LANGS = ("en", "el")


def label(labels: dict[str, str], lang: str) -> str:
    """The label in `lang`, else English, else Greek: a visitor always sees words.

    Site files hold Greek and English only; other languages translate the English label
    through the `visitors` catalog, so translators work in one place (the .po files).
    """
    for candidate in (lang, lang.split("_")[0]):
        if candidate in labels:
            return labels[candidate]
    if "en" in labels and lang in i18n.LANGUAGES:
        return i18n.translations(lang, "visitors").gettext(labels["en"])
    for candidate in FALLBACK_LANGS:
        if candidate in labels:
            return labels[candidate]
    return next(iter(labels.values()), "")


def site_id(db: Database, slug: str) -> int:
    site = catalog.current(db).site(slug)
    if site is None:
        raise NotFound(f"no site '{slug}'")
    return site.id


def sites(db: Database, ids: list[int] | None, lang: str) -> list[dict[str, Any]]:
    """Active sites, all of them or those in `ids`."""
    found = sorted(catalog.current(db).sites.values(), key=lambda s: s.slug)
    return [
        {
            "slug": site.slug,
            "name": label(site.name, lang),
            "address": label(site.address, lang),
            "timezone": site.timezone,
            "hours": site.hours,
        }
        for site in found
        if ids is None or site.id in ids
    ]


def services(db: Database, site_id: int, lang: str) -> list[dict[str, Any]]:
    """Services with the reasons each covers, groups before their children, in file order."""
    cat = catalog.current(db)
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
                "label": label(svc.labels, lang),
                "reasons": [
                    {
                        "code": r.code,
                        "parent": r.parent,
                        "pictogram": r.pictogram,
                        "sensitive": r.sensitive,
                        "label": label(r.labels, lang),
                    }
                    for r in reasons
                ],
            }
        )
    return out


def counters(db: Database, site_id: int, lang: str) -> list[dict[str, Any]]:
    cat = catalog.current(db)
    return [
        {
            "slug": c.slug,
            "label": label(c.labels, lang),
            "services": [
                {"service": svc.slug, "weight": c.weights[svc.id]}
                for svc in cat.services_of(site_id)
                if svc.id in c.weights
            ],
        }
        for c in cat.counters_of(site_id)
    ]


def queue(db: Database, site_id: int, lang: str, now: datetime | None = None) -> dict[str, Any]:
    """Waiting count and longest wait per service, and what each counter is doing."""
    now = now or utcnow()
    cat = catalog.current(db)
    with db.read() as s:
        waiting = {
            service_id: (count, oldest)
            for service_id, count, oldest in s.execute(
                select(Ticket.service_id, func.count(), func.min(Ticket.queued_at))
                .where(Ticket.site_id == site_id, Ticket.status == Status.WAITING)
                .group_by(Ticket.service_id)
            )
        }
        at_counter = {
            t.counter_id: t
            for t in s.scalars(
                select(Ticket).where(
                    Ticket.site_id == site_id,
                    Ticket.status.in_([Status.CALLED, Status.SERVING]),
                )
            )
        }

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
                "label": label(svc.labels, lang),
                "waiting": waiting.get(svc.id, (0, None))[0],
                "oldest_wait_s": oldest_wait(waiting.get(svc.id, (0, None))[1]),
            }
            for svc in cat.services_of(site_id)
        ],
        "counters": [
            {"counter": c.slug, "label": label(c.labels, lang), "ticket": serving(c.id)}
            for c in cat.counters_of(site_id)
        ],
    }


_T = Ticket.__table__


def _ticket_row(db: Database, where: Any, cat: catalog.Catalog) -> tuple[dict, TicketView]:
    with db.connect() as conn:
        row = conn.execute(select(_T).where(where)).mappings().first()
        if row is None:
            raise NotFound("no such ticket")
        return dict(row), view(conn, dict(row), cat)


def ticket(db: Database, ticket_id: int) -> TicketView:
    return _ticket_row(db, _T.c.id == ticket_id, catalog.current(db))[1]


def ticket_status(db: Database, public_token: str) -> dict[str, Any]:
    """What the visitor's phone may know: number, status, place, wait, counter. No reason."""
    cat = catalog.current(db)
    row, current = _ticket_row(db, _T.c.public_token == public_token, cat)
    lang = current.lang
    counter = cat.counters.get(row["counter_id"]) if row["counter_id"] else None
    service = cat.services.get(row["service_id"])
    site = cat.site_by_id(row["site_id"])
    return {
        "number": current.number,
        "status": current.status,
        "lang": lang,
        "site": label(site.name, lang) if site else "",
        "service": label(service.labels, lang) if service else "",
        "people_ahead": current.people_ahead,
        "estimated_wait_s": current.estimated_wait_s,
        "counter": label(counter.labels, lang) if counter else None,
        "issued_at": current.issued_at,
        "called_at": current.called_at,
    }
