"""Mediators and interpreters in the queue: who is free, the visits they join, and the
counters' requests for one.

A mediator belongs to no counter. Their day is a list of events (`mediator_events`, read
like a counter's shift: the latest of the day says where they are): available, busy,
joined to a visit, away. The calling engine counts a free mediator's languages as the
calling counter's own (`rules.Speakers`); a call that needs one joins the mediator who has
been free longest, in the call's own transaction, so two counters never take the same
one. A counter may also ask for a mediator for the visitor in front of it, and any
mediator of the centre may accept. When the visit leaves the counter, the mediator joined
to it is free again; they may also leave a call themselves.

Each join and each request is also an event of the ticket (`mediator_joined`,
`mediator_requested`): what the unmet-demand report counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from .. import catalog
from ..catalog import SiteInfo
from ..db import Database
from ..errors import Conflict, NotFound
from ..models import utcnow
from . import rules, sql
from .rules import AT_COUNTER, EventType, MediatorEventType, MediatorState


@dataclass(frozen=True)
class Mediator:
    """A mediator of the site as of now, and the visit they are joined to, if any."""

    user_id: int
    username: str
    languages: tuple[str, ...]
    state: MediatorState
    since: datetime
    ticket_id: int | None = None
    counter_id: int | None = None


def _since(site: SiteInfo, now: datetime) -> datetime:
    return rules.day_start_utc(rules.service_day(now, site.timezone), site.timezone)


def present(conn: Connection, site: SiteInfo, now: datetime) -> list[Mediator]:
    """Every mediator who has been at the site today, by name, with their state now."""
    params = {"site_id": site.id, "since": _since(site, now), "now": now}
    out = []
    for row in conn.execute(sql.MEDIATORS_NOW, params):
        event = MediatorEventType(row.type)
        joined = event is MediatorEventType.JOINED
        out.append(
            Mediator(
                row.user_id,
                row.username,
                tuple(row.languages or ()),
                rules.mediator_state(event),
                row.at,
                row.ticket_id if joined else None,
                row.counter_id if joined else None,
            )
        )
    return out


def free_for(mediators: Iterable[Mediator], lang: str | None) -> Mediator | None:
    """The free mediator who speaks `lang` and has waited longest for a call."""
    fits = [m for m in mediators if m.state is MediatorState.AVAILABLE and lang in m.languages]
    return min(fits, key=lambda m: (m.since, m.user_id), default=None)


def speakers(
    caller: Iterable[str],
    at_counters: Iterable[tuple[int, str]],
    mediators: Iterable[Mediator],
    site: SiteInfo,
) -> rules.Speakers:
    """The languages of one call (see rules.Speakers): here, the caller's, the free
    mediators' and those covered by phone; on duty for any service, those of every
    mediator not away; and (service id, language) for the staff at the counters at work."""
    mediators = list(mediators)
    free = {lang for m in mediators if m.state is MediatorState.AVAILABLE for lang in m.languages}
    working = {lang for m in mediators if m.state is not MediatorState.AWAY for lang in m.languages}
    here = frozenset(caller) | free | site.phone_languages
    return rules.Speakers(here, frozenset(working), frozenset(at_counters))


def join(
    conn: Connection, mediator_id: int, ticket: dict[str, Any], now: datetime, via: str
) -> None:
    """Join a mediator to the visit at the ticket's counter: their event and the ticket's."""
    conn.execute(
        sql.INSERT_MEDIATOR_EVENT,
        {
            "site_id": ticket["site_id"],
            "user_id": mediator_id,
            "type": MediatorEventType.JOINED.value,
            "at": now,
            "ticket_id": ticket["id"],
            "counter_id": ticket["counter_id"],
        },
    )
    _ticket_event(conn, ticket, EventType.MEDIATOR_JOINED, mediator_id, now, {"via": via})


def release(conn: Connection, site: SiteInfo, ticket_id: int, now: datetime) -> None:
    """The visit left its counter: whoever is still joined to it is free again."""
    still = {m.user_id for m in present(conn, site, now) if m.ticket_id == ticket_id}
    for user_id in sorted(still):
        _insert(conn, site.id, user_id, MediatorEventType.AVAILABLE, now)


def _insert(
    conn: Connection, site_id: int, user_id: int, event: MediatorEventType, now: datetime
) -> None:
    conn.execute(
        sql.INSERT_MEDIATOR_EVENT,
        {
            "site_id": site_id,
            "user_id": user_id,
            "type": event.value,
            "at": now,
            "ticket_id": None,
            "counter_id": None,
        },
    )


def _ticket_event(
    conn: Connection,
    ticket: dict[str, Any],
    event: EventType,
    user_id: int | None,
    now: datetime,
    payload: dict[str, Any],
) -> None:
    conn.execute(
        sql.INSERT_EVENT,
        {
            "ticket_id": ticket["id"],
            "site_id": ticket["site_id"],
            "service_id": ticket["service_id"],
            "type": event.value,
            "at": now,
            "counter_id": ticket["counter_id"],
            "user_id": user_id,
            "payload": payload,
        },
    )


# --- the transactions ------------------------------------------------------------------------


def set_state(
    db: Database,
    *,
    site: str,
    user_id: int,
    event: MediatorEventType,
    now: datetime | None = None,
) -> None:
    """A mediator says they are available, busy or away. Leaving a call they are joined
    to is saying so too: the counter then sees the visit without them."""
    if event is MediatorEventType.JOINED:
        raise ValueError("a mediator joins a visit by a call or a request")
    site_row = catalog.current(db).require_site(site)
    with db.transaction() as conn:
        _insert(conn, site_row.id, user_id, event, now or utcnow())


def _at_counter(conn: Connection, ticket_id: int, site: SiteInfo) -> dict[str, Any]:
    row = conn.execute(sql.TICKET_FOR_UPDATE, {"ticket_id": ticket_id}).mappings().first()
    if row is None or row["site_id"] != site.id:
        raise NotFound(f"no ticket {ticket_id} at this site")
    if row["status"] not in AT_COUNTER:
        raise Conflict(f"ticket {row['code']} is not at a counter", "not_at_counter")
    return dict(row)


def ask(
    db: Database, *, site: str, ticket_id: int, user_id: int | None, now: datetime | None = None
) -> bool:
    """The counter serving the ticket asks for a mediator; False if it already waits for
    one (asking twice is asking once). Refused while a mediator is joined to the visit."""
    now = now or utcnow()
    site_row = catalog.current(db).require_site(site)
    with db.transaction() as conn:
        ticket = _at_counter(conn, ticket_id, site_row)
        if any(m.ticket_id == ticket_id for m in present(conn, site_row, now)):
            raise Conflict("a mediator is already joined to this visit", "mediator_joined")
        if any(r["id"] == ticket_id for r in _open_requests(conn, site_row, now)):
            return False
        _ticket_event(conn, ticket, EventType.MEDIATOR_REQUESTED, user_id, now, {})
        return True


def accept(
    db: Database, *, site: str, ticket_id: int, user_id: int, now: datetime | None = None
) -> None:
    """A mediator takes a counter's request and is joined to the visit.

    Refused if the request is gone (another mediator took it, or the visit left the
    counter) or if they are still joined to another visit. The site is locked as for a
    call, so a call cannot take the same mediator at the same instant."""
    now = now or utcnow()
    site_row = catalog.current(db).require_site(site)
    with db.transaction() as conn:
        if not db.is_sqlite:
            conn.execute(sql.LOCK_SITE, {"site_id": site_row.id})
        ticket = _at_counter(conn, ticket_id, site_row)
        if not any(r["id"] == ticket_id for r in _open_requests(conn, site_row, now)):
            raise Conflict("nobody asks for a mediator for this visit now", "no_request")
        me = next((m for m in present(conn, site_row, now) if m.user_id == user_id), None)
        if me is not None and me.ticket_id is not None:
            raise Conflict(
                "you are still joined to another visit: leave it first", "mediator_joined"
            )
        join(conn, user_id, ticket, now, via="request")


def _open_requests(conn: Connection, site: SiteInfo, now: datetime) -> list[dict[str, Any]]:
    params = {"site_id": site.id, "since": _since(site, now)}
    return [dict(row) for row in conn.execute(sql.OPEN_REQUESTS, params).mappings()]


def requests(db: Database, site: SiteInfo, now: datetime | None = None) -> list[dict[str, Any]]:
    """The site's unanswered requests, oldest first: ticket id and number, language,
    counter id and when it was asked."""
    with db.connect() as conn:
        return _open_requests(conn, site, now or utcnow())


def mediators(db: Database, site: SiteInfo, now: datetime | None = None) -> list[Mediator]:
    """The site's mediators of today, as they are now."""
    with db.connect() as conn:
        return present(conn, site, now or utcnow())
