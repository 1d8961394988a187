"""Transactions on the queue: one function for each thing that happens to a ticket.

Each function writes in one short transaction: it asks the pure engine what is allowed
and who is next, updates the ticket and appends exactly one event per transition. A
request that cannot be honoured raises a StoreError (with an HTTP-like status) inside
that transaction, which rolls back, so a refused request changes nothing. Positions and
wait estimates are read after the commit, outside the write lock.

Configuration comes from the in-memory catalog, the SQL from `queue_sql`: issuing a
ticket is a handful of small indexed statements.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from . import catalog, engine
from . import queue_sql as sql
from .catalog import Catalog, CounterInfo, ServiceInfo, SiteInfo
from .db import Database
from .engine import Action, EventType, Outcome, Priority, Status
from .models import Site, utcnow

Row = dict[str, Any]  # a ticket row as column -> value


class StoreError(Exception):
    """A request the queue cannot honour; `status` and `code` become the API's error."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(StoreError):
    status = 404
    code = "not_found"


class Conflict(StoreError):
    status = 409
    code = "conflict"


class Invalid(StoreError):
    status = 422
    code = "invalid"


@dataclass(frozen=True)
class TicketView:
    """A ticket as the API and the features see it (the reason only for staff views)."""

    id: int
    site: str
    number: str
    service: str
    reason: str
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


# --- catalog lookups ---------------------------------------------------------------------


def site_info(cat: Catalog, slug: str) -> SiteInfo:
    site = cat.site(slug)
    if site is None:
        raise NotFound(f"no site '{slug}'")
    return site


def service_info(cat: Catalog, site: SiteInfo, slug: str) -> ServiceInfo:
    service = cat.service(site.id, slug)
    if service is None:
        raise NotFound(f"no service '{slug}' at site '{site.slug}'")
    return service


def counter_info(cat: Catalog, site: SiteInfo, slug: str) -> CounterInfo:
    counter = cat.counter(site.id, slug)
    if counter is None:
        raise NotFound(f"no counter '{slug}' at site '{site.slug}'")
    return counter


# (database URL, service id) -> (monotonic time, typical seconds): service times drift over
# minutes, and reading the last visits for every ticket would cost a query each time.
_typical: dict[tuple[str, int], tuple[float, float]] = {}
TYPICAL_TTL_S = 30.0


def _typical_seconds(conn: Connection, service: ServiceInfo) -> float:
    key = (str(conn.engine.url), service.id)
    cached = _typical.get(key)
    if cached and time.monotonic() - cached[0] < TYPICAL_TTL_S:
        return cached[1]
    recent = [
        (end - start).total_seconds()
        for start, end in conn.execute(sql.RECENT_SERVICE, {"service_id": service.id})
        if start and end
    ]
    typical = engine.typical_service_seconds(recent, service.default_service_min * 60.0)
    _typical[key] = (time.monotonic(), typical)
    return typical


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
        wait = engine.estimated_wait_seconds(ahead, typical, service.counters_serving)
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
    )


def _load(conn: Connection, ticket_id: int) -> Row:
    row = conn.execute(sql.TICKET_FOR_UPDATE, {"ticket_id": ticket_id}).mappings().first()
    if row is None:
        raise NotFound(f"no ticket {ticket_id}")
    return dict(row)


def _transition(t: Row, action: Action) -> tuple[Status, EventType]:
    try:
        return engine.transition(Status(t["status"]), action)
    except engine.TransitionError as exc:
        raise Conflict(str(exc), "invalid_transition") from None


def _apply(
    conn: Connection,
    t: Row,
    action: Action,
    now: datetime,
    *,
    user_id: int | None,
    counter_id: int | None = None,
    changes: Row | None = None,
    payload: dict[str, Any] | None = None,
) -> Row:
    """Move the ticket with the engine's transition and append its one event.

    Returns the ticket as it now is. `changes` carries extra columns (a transfer's service).
    """
    new_status, event_type = _transition(t, action)
    event_counter = t["counter_id"] if counter_id is None else counter_id
    new: Row = {"status": new_status, **(changes or {})}
    if action is Action.CALL:
        new.update(counter_id=counter_id, called_at=now, started_at=None)
    elif action is Action.START:
        new["started_at"] = now
    elif action in (Action.RETURN, Action.TRANSFER):
        new.update(counter_id=None, called_at=None, started_at=None, ended_at=None)
        if action is Action.RETURN:
            new["queued_at"] = now  # back of the line; a transfer keeps its place in time
    elif new_status not in engine.OPEN_STATUSES:
        new["ended_at"] = now
    conn.execute(update(sql.T).where(sql.T.c.id == t["id"]).values(**new))
    updated = {**t, **new}
    conn.execute(
        sql.INSERT_EVENT,
        {
            "ticket_id": t["id"],
            "site_id": t["site_id"],
            "service_id": updated["service_id"],
            "type": event_type.value,
            "at": now,
            "counter_id": event_counter,
            "user_id": user_id,
            "payload": payload or {},
        },
    )
    return updated


# --- the transactions ------------------------------------------------------------------------


def issue_ticket(
    db: Database,
    *,
    site: str,
    service: str,
    reason: str,
    lang: str,
    priority: str = Priority.NONE,
    device_id: int | None = None,
    user_id: int | None = None,
    now: datetime | None = None,
) -> TicketView:
    """Give a visitor the next number of a service and put them in the queue."""
    now = now or utcnow()
    cat = catalog.current(db)
    site_row = site_info(cat, site)
    service_row = service_info(cat, site_row, service)
    if reason not in service_row.reasons:
        raise Invalid(f"service '{service}' does not cover reason '{reason}'", "unknown_reason")
    try:
        priority = Priority(priority)
    except ValueError:
        raise Invalid(f"unknown priority '{priority}'", "bad_priority") from None
    new = NewTicket(
        site_id=site_row.id,
        service=service_row,
        day=engine.service_day(now, site_row.timezone),
        reason=reason,
        lang=lang,
        priority=priority,
        device_id=device_id,
        user_id=user_id,
        now=now,
    )
    with db.connect() as conn:
        with db.writing(conn):
            row = write_ticket(conn, new)
        return view(conn, row, cat)  # position and estimate: reads after the commit


@dataclass(frozen=True)
class NewTicket:
    """A ticket checked and ready to be numbered and written."""

    site_id: int
    service: ServiceInfo
    day: date
    reason: str
    lang: str
    priority: Priority
    device_id: int | None
    user_id: int | None
    now: datetime


def write_ticket(conn: Connection, new: NewTicket) -> Row:
    """Inside the caller's write transaction: number the ticket, insert it, log `issued`.

    The number is taken in the same transaction, so a ticket that fails to be written
    takes no number, and numbers stay gap-free in the order tickets are written.
    """
    number = int(
        conn.execute(
            sql.TAKE_NUMBER[conn.dialect.name], {"service_id": new.service.id, "day": new.day}
        ).scalar_one()
    )
    ticket: Row = {
        "site_id": new.site_id,
        "service_id": new.service.id,
        "origin_service_id": new.service.id,
        "reason_code": new.reason,
        "lang": new.lang,
        "priority": new.priority.value,
        "number": number,
        "code": engine.format_number(new.service.prefix, number),
        "service_day": new.day,
        "public_token": secrets.token_urlsafe(16),
        "status": Status.WAITING.value,
        "counter_id": None,
        "device_id": new.device_id,
        "issued_at": new.now,
        "queued_at": new.now,
        "called_at": None,
        "started_at": None,
        "ended_at": None,
    }
    ticket["id"] = int(conn.execute(sql.INSERT_TICKET, ticket).scalar_one())
    conn.execute(
        sql.INSERT_EVENT,
        {
            "ticket_id": ticket["id"],
            "site_id": new.site_id,
            "service_id": new.service.id,
            "type": EventType.ISSUED.value,
            "at": new.now,
            "counter_id": None,
            "user_id": new.user_id,
            "payload": {"reason": new.reason, "lang": new.lang, "priority": new.priority.value},
        },
    )
    return ticket


def call_next(
    db: Database, *, site: str, counter: str, user_id: int | None, now: datetime | None = None
) -> TicketView | None:
    """Call the ticket the engine picks for this counter, or None when nobody waits.

    The site row is locked (PostgreSQL) or the write lock held (SQLite) for the whole
    choice, so two counters calling at once never get the same ticket.
    """
    now = now or utcnow()
    cat = catalog.current(db)
    site_row = site_info(cat, site)
    counter_row = counter_info(cat, site_row, counter)
    services = {sid: cat.services[sid] for sid in counter_row.weights}
    policy = engine.Policy(
        priority_max_in_row=site_row.priority_max_in_row,
        max_wait={sid: timedelta(minutes=svc.max_wait_min) for sid, svc in services.items()},
    )
    today = engine.service_day(now, site_row.timezone)
    if not services:
        return None
    with db.transaction() as conn:
        if not db.is_sqlite:
            conn.execute(sql.LOCK_SITE, {"site_id": site_row.id})
        busy = conn.execute(sql.BUSY, {"counter_id": counter_row.id}).scalar()
        if busy:
            raise Conflict(
                f"counter '{counter}' is still serving {busy}: finish, return or mark it first",
                "counter_busy",
            )
        params: dict[str, Any] = {f"s{i}": sid for i, sid in enumerate(services)}
        rows = conn.execute(sql.heads_statement(len(services)), {"day": today, **params})
        waiting = [
            engine.Waiting(tid, sid, prio != Priority.NONE, queued)
            for tid, sid, prio, queued in rows
        ]
        _open_for_the_call(conn, site_row, counter_row, user_id, now)
        streak = int(conn.execute(sql.STREAK, {"counter_id": counter_row.id}).scalar() or 0)
        choice = engine.choose_next(waiting, counter_row.weights, now, streak, policy)
        if choice is None:
            return None
        ticket = _load(conn, choice.ticket.id)
        ticket = _apply(conn, ticket, Action.CALL, now, user_id=user_id, counter_id=counter_row.id)
        if choice.streak != streak:
            conn.execute(sql.SET_STREAK, {"counter_id": counter_row.id, "streak": choice.streak})
        return view(conn, ticket, cat, with_estimate=False)


def _open_for_the_call(
    conn: Connection, site: SiteInfo, counter: CounterInfo, user_id: int | None, now: datetime
) -> None:
    """A counter that calls is at work: open or resume its shift in the call's transaction."""
    since = engine.day_start_utc(engine.service_day(now, site.timezone), site.timezone)
    params = {"counter_id": counter.id, "since": since, "now": now}
    last = conn.execute(sql.LAST_SHIFT_EVENT, params).scalar()
    state = engine.counter_state(None if last is None else engine.CounterEventType(last))
    event = engine.shift_for_call(state)
    if event is not None:
        conn.execute(
            sql.INSERT_SHIFT_EVENT,
            {
                "site_id": site.id,
                "counter_id": counter.id,
                "user_id": user_id,
                "type": event.value,
                "at": now,
            },
        )


def ticket_site_id(db: Database, ticket_id: int) -> int:
    """The site a ticket belongs to, for the caller's permission check."""
    if not 0 < ticket_id < 2**63:  # beyond what a row id can be: no such ticket
        raise NotFound(f"no ticket {ticket_id}")
    with db.connect() as conn:
        site_id = conn.execute(select(sql.T.c.site_id).where(sql.T.c.id == ticket_id)).scalar()
    if site_id is None:
        raise NotFound(f"no ticket {ticket_id}")
    return int(site_id)


def _finish_payload(cat: Catalog, outcome: str | None, referral: str | None) -> dict:
    if outcome is None:
        raise Invalid("finish needs an outcome", "missing_outcome")
    try:
        outcome_value = Outcome(outcome)
    except ValueError:
        raise Invalid(f"unknown outcome '{outcome}'", "bad_outcome") from None
    if outcome_value is Outcome.REFERRED_EXTERNAL:
        if referral not in engine.EXTERNAL_AGENCIES:
            raise Invalid(
                f"an external referral needs one of: {', '.join(engine.EXTERNAL_AGENCIES)}",
                "bad_referral",
            )
    elif outcome_value is Outcome.REFERRED_INTERNAL:
        group = cat.reasons.get(referral or "")
        if group is None or group.parent is not None:
            raise Invalid("an internal referral needs a reason group code", "bad_referral")
    elif referral is not None:
        raise Invalid("a referral is only recorded with a referred outcome", "bad_referral")
    payload = {"outcome": outcome_value.value}
    if referral is not None:
        payload["referral"] = referral
    return payload


def act(
    db: Database,
    ticket_id: int,
    action: Action,
    *,
    user_id: int | None,
    outcome: str | None = None,
    referral: str | None = None,
    service: str | None = None,
    why: str | None = None,
    now: datetime | None = None,
) -> TicketView:
    """Recall, start, finish, no-show, return, transfer or cancel one ticket."""
    if action in (Action.CALL, Action.CLOSE_DAY):
        raise Invalid(f"'{action.value}' is not a ticket action", "bad_action")
    now = now or utcnow()
    cat = catalog.current(db)
    payload: dict[str, Any] = {}
    if action is Action.FINISH:
        payload = _finish_payload(cat, outcome, referral)
    elif action is Action.CANCEL:
        payload = {"why": why or "left"}
    elif action is Action.TRANSFER and not service:
        raise Invalid("transfer needs a service", "missing_service")
    with db.connect() as conn:
        with db.writing(conn):
            ticket = _act_in_transaction(
                conn, cat, ticket_id, action, user_id, payload, service, now
            )
        return view(conn, ticket, cat)


def _act_in_transaction(
    conn: Connection,
    cat: Catalog,
    ticket_id: int,
    action: Action,
    user_id: int | None,
    payload: dict[str, Any],
    service: str | None,
    now: datetime,
) -> Row:
    """Inside the write transaction: check and apply one action to one ticket."""
    changes: Row = {}
    ticket = _load(conn, ticket_id)
    if action is Action.TRANSFER:
        site_row = cat.site_by_id(ticket["site_id"])
        if site_row is None:
            raise NotFound("the ticket's site is no longer active")
        target = service_info(cat, site_row, service or "")
        if target.id == ticket["service_id"]:
            raise Conflict("the ticket is already in that service", "same_service")
        old = cat.services.get(ticket["service_id"])
        payload = {"from_service": old.slug if old else None, "to_service": target.slug}
        changes = {"service_id": target.id}
    ticket = _apply(conn, ticket, action, now, user_id=user_id, changes=changes, payload=payload)
    return ticket


def close_day(db: Database, now: datetime | None = None) -> int:
    """Close every ticket still open from an earlier local day; returns how many.

    Nothing is deleted: each gets a `closed_at_day_end` event and status 'closed'.
    """
    now = now or utcnow()
    closed = 0
    with db.transaction() as conn:
        for site_id, timezone in conn.execute(select(Site.id, Site.timezone)).all():
            today = engine.service_day(now, timezone)
            stale = (
                conn.execute(
                    select(sql.T).where(
                        sql.T.c.site_id == site_id,
                        sql.T.c.status.in_(list(engine.OPEN_STATUSES)),
                        sql.T.c.service_day < today,
                    )
                )
                .mappings()
                .all()
            )
            for ticket in stale:
                _apply(conn, dict(ticket), Action.CLOSE_DAY, now, user_id=None)
            closed += len(stale)
    return closed
