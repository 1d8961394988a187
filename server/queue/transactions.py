"""Every change to the queue, as one short transaction each: issue a ticket, call the next
visitor, act on a ticket, record a counter's shift, close yesterday's tickets.

Each function asks the rules (`rules.py`) what is allowed, what changes and who is next,
then writes the answer: the ticket's new columns and exactly one event per transition.
A request that cannot be honoured raises a `Refused` error before anything is written,
or inside the transaction, which then rolls back: a refused request changes nothing.
Positions and wait estimates are read after the commit, outside the write lock.

SQLite takes one writer at a time (`Database.writing`); on PostgreSQL the site's row is
locked while the next ticket is chosen, so two counters never call the same one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from .. import catalog
from ..catalog import Catalog, CounterInfo, SiteInfo
from ..db import Database
from ..errors import Conflict, Invalid, NotFound
from ..models import Site, utcnow
from . import mediation, opening, rules, sql
from .reads import Logged, Row, TicketView, view
from .rules import Action, CounterEventType, Lifecycle, Priority, Status, Step
from .writer import NewTicket, write_ticket

# how long after closing the day's open tickets are closed: the queue at closing is seen
CLOSING_GRACE = timedelta(hours=1)


def issue_ticket(
    db: Database,
    *,
    site: str,
    service: str,
    reason: str,
    lang: str,
    priority: str = Priority.NONE,
    quiet: bool = False,
    device_id: int | None = None,
    user_id: int | None = None,
    now: datetime | None = None,
) -> TicketView:
    """Give a visitor the next number of a service and put them in its line. A `quiet`
    ticket is never called aloud; every ticket of a private service is quiet."""
    now = now or utcnow()
    cat = catalog.current(db)
    site_row = cat.require_site(site)
    service_row = cat.require_service(site_row, service)
    if reason not in service_row.reasons:
        raise Invalid(f"service '{service}' does not cover reason '{reason}'", "unknown_reason")
    try:
        priority = Priority(priority)
    except ValueError:
        raise Invalid(f"unknown priority '{priority}'", "bad_priority") from None
    new = NewTicket(
        site_id=site_row.id,
        service=service_row,
        day=rules.service_day(now, site_row.timezone),
        reason=reason,
        lang=lang,
        priority=priority,
        device_id=device_id,
        user_id=user_id,
        now=now,
        quiet=quiet or service_row.private,
    )
    with db.connect() as conn:
        with db.writing(conn):
            row = write_ticket(conn, new)
        return view(conn, row, cat)


@dataclass(frozen=True)
class NextCall:
    """What a call-next did: the ticket called (None when nobody waits for the counter),
    and the shift event the call wrote (None when the counter was at work already).

    Most calls at a quiet counter change nothing at all; those need not be announced."""

    ticket: TicketView | None
    shift: CounterEventType | None


def call_next(
    db: Database,
    *,
    site: str,
    counter: str,
    user_id: int | None,
    trained: bool = False,
    now: datetime | None = None,
) -> NextCall:
    """Call the ticket the rules pick for this counter, if anybody waits for it.

    The counter must be free. A counter that calls is at work: its shift is opened or
    resumed in the same transaction (`rules.shift_for_call`). Private services count only
    at a private counter, for a caller `trained` for them (`rules.serves_private`). A call
    that needs a mediator joins the one free longest who speaks the visitor's language.
    """
    now = now or utcnow()
    cat = catalog.current(db)
    site_row = cat.require_site(site)
    counter_row = cat.require_counter(site_row, counter)
    weights = callable_weights(cat, counter_row, trained)
    services = {sid: cat.services[sid] for sid in weights}
    policy = rules.Policy(
        priority_max_in_row=site_row.priority_max_in_row,
        max_wait={
            sid: timedelta(minutes=svc.max_wait_min) if svc.when_overdue == "call_first" else None
            for sid, svc in services.items()
        },
    )
    today = rules.service_day(now, site_row.timezone)
    with db.transaction() as conn:
        if not db.is_sqlite:
            conn.execute(sql.LOCK_SITE, {"site_id": site_row.id})
        busy = conn.execute(sql.BUSY, {"counter_id": counter_row.id}).scalar()
        if busy:
            raise Conflict(
                f"counter '{counter}' is still serving {busy}: finish, return or mark it first",
                "counter_busy",
            )
        shift = _open_for_the_call(conn, site_row, counter_row, user_id, now)
        if not services:
            return NextCall(None, shift)
        caller, speakers, mediators = _languages(conn, cat, site_row, user_id, now)
        params: dict[str, Any] = {f"s{i}": sid for i, sid in enumerate(services)}
        statement = sql.heads_statement(tuple(speakers.kept(sid) for sid in services))
        waiting = [
            rules.Waiting(tid, sid, prio != Priority.NONE, queued, lang)
            for tid, sid, prio, queued, lang in conn.execute(statement, {"day": today, **params})
        ]
        streak = int(conn.execute(sql.STREAK, {"counter_id": counter_row.id}).scalar() or 0)
        choice = rules.choose_next(waiting, weights, now, streak, policy, speakers)
        if choice is None:
            return NextCall(None, shift)
        ticket = _load(conn, choice.ticket.id)
        step = rules.apply(_lifecycle(ticket), Action.CALL, now, counter=counter_row.id)
        ticket = _write(conn, ticket, step, now, user_id=user_id)
        if choice.streak != streak:
            conn.execute(sql.SET_STREAK, {"counter_id": counter_row.id, "streak": choice.streak})
        if user_id is not None and rules.needs_mediator(
            choice.ticket.lang, caller, site_row.phone_languages
        ):
            mediator = mediation.free_for(mediators, choice.ticket.lang)
            if mediator is not None:
                mediation.join(conn, mediator.user_id, ticket, now, via="call")
        return NextCall(view(conn, ticket, cat, with_estimate=False), shift)


def callable_weights(cat: Catalog, counter: CounterInfo, trained: bool) -> dict[int, int]:
    """The services (id -> weight) a counter calls from, for a caller trained or not."""
    private = rules.serves_private(counter.private, trained)
    return {s: w for s, w in counter.weights.items() if private or not cat.services[s].private}


def _languages(
    conn: Connection, cat: Catalog, site: SiteInfo, user_id: int | None, now: datetime
) -> tuple[frozenset[str], rules.Speakers, list[mediation.Mediator]]:
    """The languages of this call: the caller's own, the Speakers the rules weigh them
    with (see mediation.speakers), and the site's mediators. No caller (a script): no
    language is kept for anyone, and no mediator is joined."""
    if user_id is None:
        return frozenset(), rules.ANYONE, []
    caller = frozenset(conn.execute(sql.LANGUAGES_OF, {"user_id": user_id}).scalar() or [])
    since = rules.day_start_utc(rules.service_day(now, site.timezone), site.timezone)
    params = {"site_id": site.id, "since": since, "now": now}
    at_counters = set()  # (service, language) for every counter at work and its staff
    for counter_id, languages in conn.execute(sql.LANGUAGES_AT_COUNTERS, params):
        counter = cat.counters.get(counter_id)
        for service_id in counter.weights if counter else ():
            at_counters.update((service_id, lang) for lang in languages or ())
    mediators = mediation.present(conn, site, now)
    return caller, mediation.speakers(caller, at_counters, mediators, site), mediators


def _open_for_the_call(
    conn: Connection, site: SiteInfo, counter: CounterInfo, user_id: int | None, now: datetime
) -> CounterEventType | None:
    """Write the shift event a call implies, if any (its state as of the call's instant)."""
    since = rules.day_start_utc(rules.service_day(now, site.timezone), site.timezone)
    params = {"counter_id": counter.id, "since": since, "now": now}
    last = conn.execute(sql.LAST_SHIFT_EVENT, params).scalar()
    state = rules.counter_state(None if last is None else CounterEventType(last))
    event = rules.shift_for_call(state)
    if event is not None:
        _insert_shift_event(conn, site.id, counter.id, event, user_id, now)
    return event


def act(
    db: Database,
    ticket_id: int,
    action: Action,
    *,
    user_id: int | None,
    outcome: str | None = None,
    referral: str | None = None,
    without_mediator: bool = False,
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
        groups = [g.code for g in cat.reason_groups()]
        try:
            payload = rules.finish_record(outcome, referral, groups, without_mediator)
        except rules.OutcomeError as exc:
            raise Invalid(str(exc), exc.code) from None
    elif action is Action.CANCEL:
        payload = {"why": why or "left"}
    elif action is Action.TRANSFER and not service:
        raise Invalid("transfer needs a service", "missing_service")
    with db.connect() as conn:
        with db.writing(conn):
            ticket = _load(conn, ticket_id)
            target = None
            if action is Action.TRANSFER:
                target, payload = _transfer_target(cat, ticket, service or "")
            try:
                step = rules.apply(_lifecycle(ticket), action, now, service=target)
            except rules.TransitionError as exc:
                raise Conflict(str(exc), "invalid_transition") from None
            ticket = _write(conn, ticket, step, now, user_id=user_id, payload=payload)
            if step.before.status in rules.AT_COUNTER and step.after.status not in rules.AT_COUNTER:
                site_row = cat.site_by_id(ticket["site_id"])
                if site_row is not None:  # the visit left its counter, and its mediator
                    mediation.release(conn, site_row, ticket_id, now)
        return view(conn, ticket, cat)


def _transfer_target(cat: Catalog, ticket: Row, slug: str) -> tuple[int, dict[str, Any]]:
    """The service a ticket is transferred to, and what its event records."""
    site = cat.site_by_id(ticket["site_id"])
    if site is None:
        raise NotFound("the ticket's site is no longer active")
    target = cat.require_service(site, slug)
    if target.id == ticket["service_id"]:
        raise Conflict("the ticket is already in that service", "same_service")
    old = cat.services.get(ticket["service_id"])
    return target.id, {"from_service": old.slug if old else None, "to_service": target.slug}


def record_shift(
    db: Database,
    *,
    site: str,
    counter: str,
    event: CounterEventType,
    user_id: int | None,
    now: datetime | None = None,
) -> None:
    """Append one event of a counter's shift: opened, paused, resumed or closed."""
    cat = catalog.current(db)
    site_row = cat.require_site(site)
    counter_row = cat.require_counter(site_row, counter)
    with db.transaction() as conn:
        _insert_shift_event(conn, site_row.id, counter_row.id, event, user_id, now or utcnow())


def close_day(db: Database, now: datetime | None = None, at_closing: bool = False) -> int:
    """Close every ticket still open from an earlier local day; returns how many.

    With `at_closing`, also those of today once the site has been closed for
    CLOSING_GRACE (visitors already waiting at closing time are still seen). Nothing is
    deleted: each gets a `closed_at_day_end` event and status 'closed'.

    Safe to run twice at once (the server runs it in one process, server/leader.py, but
    `seira purge` runs it too, and a leader that lost its lock may not know yet): each
    ticket is closed once, with one event. On SQLite the two queue on the write lock, and
    the second reads after the first committed. On PostgreSQL the open tickets are
    locked as they are read (FOR UPDATE, in id order, so two never deadlock): the second
    waits for the first, then PostgreSQL reads each row again and drops those no longer
    open.
    """
    now = now or utcnow()
    closed = 0
    with db.transaction() as conn:
        sites = conn.execute(
            select(Site.id, Site.timezone, Site.hours, Site.closures).where(Site.active)
        ).all()
        for site_id, timezone, hours, closures in sites:
            today = rules.service_day(now, timezone)
            ends = opening.closing_time(opening.Hours(hours, closures or [], timezone), today)
            if at_closing and ends is not None and now >= ends + CLOSING_GRACE:
                today = today + timedelta(days=1)  # today's are over too
            stale = (
                conn.execute(
                    select(sql.T)
                    .where(
                        sql.T.c.site_id == site_id,
                        sql.T.c.status.in_(sorted(rules.OPEN_STATUSES)),
                        sql.T.c.service_day < today,
                    )
                    .order_by(sql.T.c.id)
                    .with_for_update()
                )
                .mappings()
                .all()
            )
            for ticket in stale:
                step = rules.apply(_lifecycle(dict(ticket)), Action.CLOSE_DAY, now)
                _write(conn, dict(ticket), step, now, user_id=None)
            closed += len(stale)
    return closed


# --- writing down what the rules decided ---------------------------------------------------


def _load(conn: Connection, ticket_id: int) -> Row:
    row = conn.execute(sql.TICKET_FOR_UPDATE, {"ticket_id": ticket_id}).mappings().first()
    if row is None:
        raise NotFound(f"no ticket {ticket_id}")
    return dict(row)


def _lifecycle(t: Row) -> Lifecycle:
    return Lifecycle(
        status=Status(t["status"]),
        service=t["service_id"],
        counter=t["counter_id"],
        queued_at=t["queued_at"],
        called_at=t["called_at"],
        started_at=t["started_at"],
        ended_at=t["ended_at"],
    )


def _write(
    conn: Connection,
    t: Row,
    step: Step,
    now: datetime,
    *,
    user_id: int | None,
    payload: dict[str, Any] | None = None,
) -> Row:
    """Store the ticket as the step left it and append the step's one event (its row then
    carries the event as `logged`)."""
    after = step.after
    new: Row = {
        "status": after.status.value,
        "service_id": after.service,
        "counter_id": after.counter,
        "queued_at": after.queued_at,
        "called_at": after.called_at,
        "started_at": after.started_at,
        "ended_at": after.ended_at,
    }
    conn.execute(update(sql.T).where(sql.T.c.id == t["id"]).values(**new))
    written = conn.execute(
        sql.INSERT_EVENT,
        {
            "ticket_id": t["id"],
            "site_id": t["site_id"],
            "service_id": after.service,
            "type": step.event.value,
            "at": now,
            "counter_id": step.counter,
            "user_id": user_id,
            "payload": payload or {},
        },
    )
    logged = Logged(written.inserted_primary_key[0], step.event.value, now)
    return {**t, **new, "logged": logged}


def _insert_shift_event(
    conn: Connection,
    site_id: int,
    counter_id: int,
    event: CounterEventType,
    user_id: int | None,
    at: datetime,
) -> None:
    conn.execute(
        sql.INSERT_SHIFT_EVENT,
        {
            "site_id": site_id,
            "counter_id": counter_id,
            "user_id": user_id,
            "type": event.value,
            "at": at,
        },
    )
