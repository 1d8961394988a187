"""The queue's SQL, built once at import: each statement is the set-based twin of a rule
in `rules.py`, and tests check that the two agree.

Every statement is a short indexed lookup (see the ix_tickets_* indexes in models.py),
so the cost of issuing and calling does not grow with the length of the line.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    bindparam,
    func,
    insert,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from ..models import (
    Counter,
    CounterEvent,
    Event,
    MediatorEvent,
    Site,
    Ticket,
    TicketNumber,
    User,
)
from .rules import AT_COUNTER, Priority, Status

T = Ticket.__table__
E = Event.__table__
RECENT_SERVICE_TIMES = 25  # finished visits that make a service's typical duration

PRIORITY_KINDS = [p.value for p in Priority if p is not Priority.NONE]
_QUEUED = bindparam("queued_at")


def _one_of(column: Any, codes: list[str]) -> Any:
    """`column IN ('a', 'b')` with our own codes written into the SQL: an expanding
    parameter would make SQLAlchemy render the statement anew at every execution."""
    assert all(code.replace("_", "").isalpha() for code in codes)
    return column.in_([literal_column(f"'{code}'") for code in codes])


def _count_waiting(*conditions: Any) -> Any:
    """COUNT of waiting tickets of one service and day: a range of ix_tickets_queue."""
    return (
        select(func.count())
        .where(
            T.c.service_id == bindparam("service_id"),
            T.c.service_day == bindparam("day"),
            T.c.status == Status.WAITING,
            *conditions,
        )
        .scalar_subquery()
    )


def _earlier_in(priority_condition: Any) -> Any:
    """Tickets of a class queued before (queued_at, id): two index ranges, no OR to scan."""
    return _count_waiting(priority_condition, T.c.queued_at < _QUEUED) + _count_waiting(
        priority_condition, T.c.queued_at == _QUEUED, T.c.id < bindparam("ticket_id")
    )


_IS_PRIORITY = _one_of(T.c.priority, PRIORITY_KINDS)
# rules.people_ahead in SQL (a test checks the two agree): a priority ticket has the
# earlier priority tickets ahead; a normal one every priority ticket and the earlier normal.
AHEAD_OF_PRIORITY = select(_earlier_in(_IS_PRIORITY))
AHEAD_OF_NORMAL = select(_count_waiting(_IS_PRIORITY) + _earlier_in(T.c.priority == Priority.NONE))

RECENT_SERVICE = (
    select(T.c.called_at, T.c.ended_at)
    .where(T.c.service_id == bindparam("service_id"), T.c.status == Status.DONE)
    .order_by(T.c.ended_at.desc())
    .limit(RECENT_SERVICE_TIMES)
)


@lru_cache(maxsize=256)
def heads_statement(kept: tuple[frozenset[str], ...]) -> Any:
    """rules.heads in SQL, for the services bound as s0, s1, ... : per (service, priority
    class) the oldest waiting ticket and, where the service's tickets may wait in some
    languages for somebody else (`kept[i]`, see rules.Speakers.kept), the oldest not in
    one of those.

    One indexed LIMIT 1 lookup per pair (two with languages), so the cost does not grow
    with the queue. Cached per set of kept languages: a centre has few.
    """
    parts = []
    for i, languages in enumerate(kept):
        fits_all = [None] + ([~_one_of(T.c.lang, sorted(languages))] if languages else [])
        for in_class in (T.c.priority == Priority.NONE, _IS_PRIORITY):
            for fits in fits_all:
                parts.append(
                    select(T.c.id, T.c.service_id, T.c.priority, T.c.queued_at, T.c.lang)
                    .where(
                        T.c.service_id == bindparam(f"s{i}"),
                        T.c.service_day == bindparam("day"),
                        T.c.status == Status.WAITING,
                        in_class,
                        *([] if fits is None else [fits]),
                    )
                    .order_by(T.c.queued_at, T.c.id)
                    .limit(1)
                    .subquery()
                )
    return union_all(*(select(part) for part in parts))


BUSY = select(T.c.code).where(
    T.c.counter_id == bindparam("counter_id"), _one_of(T.c.status, sorted(AT_COUNTER))
)
STREAK = select(Counter.__table__.c.priority_streak).where(
    Counter.__table__.c.id == bindparam("counter_id")
)
SET_STREAK = (
    update(Counter.__table__)
    .where(Counter.__table__.c.id == bindparam("counter_id"))
    .values(priority_streak=bindparam("streak"))
)
_CE = CounterEvent.__table__
# A counter's shift as of `now`: its latest event of the day at or before that instant, in
# the order the staffing report reads them (time, then id).
LAST_SHIFT_EVENT = (
    select(_CE.c.type)
    .where(
        _CE.c.counter_id == bindparam("counter_id"),
        _CE.c.at >= bindparam("since"),
        _CE.c.at <= bindparam("now"),
    )
    .order_by(_CE.c.at.desc(), _CE.c.id.desc())
    .limit(1)
)
INSERT_SHIFT_EVENT = insert(_CE)
_U = User.__table__
LANGUAGES_OF = select(_U.c.languages).where(_U.c.id == bindparam("user_id"))
# the staff at the site's counters now, and the languages they speak: each counter's
# latest event of the day, unless it closed the counter (a paused counter's staff are
# still at work)
_LATEST_SHIFT_EVENTS = (
    select(func.max(_CE.c.id))
    .where(
        _CE.c.site_id == bindparam("site_id"),
        _CE.c.at >= bindparam("since"),
        _CE.c.at <= bindparam("now"),
    )
    .group_by(_CE.c.counter_id)
)
LANGUAGES_AT_COUNTERS = (
    select(_CE.c.counter_id, _U.c.languages)
    .join(_CE, _CE.c.user_id == _U.c.id)
    .where(_CE.c.id.in_(_LATEST_SHIFT_EVENTS), _CE.c.type != "closed")
)
_ME = MediatorEvent.__table__
# each mediator's latest event of the day at the site, with their name and languages
MEDIATORS_NOW = (
    select(
        _ME.c.id,
        _ME.c.user_id,
        _U.c.username,
        _U.c.languages,
        _ME.c.type,
        _ME.c.at,
        _ME.c.ticket_id,
        _ME.c.counter_id,
    )
    .join(_U, _U.c.id == _ME.c.user_id)
    .where(
        _ME.c.id.in_(
            select(func.max(_ME.c.id))
            .where(
                _ME.c.site_id == bindparam("site_id"),
                _ME.c.at >= bindparam("since"),
                _ME.c.at <= bindparam("now"),
            )
            .group_by(_ME.c.user_id)
        )
    )
    .order_by(_U.c.username)
)
INSERT_MEDIATOR_EVENT = insert(_ME)
# who is joined to a ticket's visit: their 'joined' rows (still joined if it is their latest)
JOINED_TO = select(_ME.c.id, _ME.c.user_id).where(
    _ME.c.ticket_id == bindparam("ticket_id"), _ME.c.type == "joined"
)
_REQUEST = E.alias("request")
_JOIN = E.alias("joined")
# the site's requests for a mediator not answered yet: asked since the ticket was called,
# no mediator joined since, and the ticket still at its counter
OPEN_REQUESTS = (
    select(T.c.id, T.c.code, T.c.lang, T.c.counter_id, func.max(_REQUEST.c.at).label("asked_at"))
    .join(_REQUEST, _REQUEST.c.ticket_id == T.c.id)
    .where(
        _REQUEST.c.site_id == bindparam("site_id"),
        _REQUEST.c.at >= bindparam("since"),
        _REQUEST.c.type == "mediator_requested",
        _one_of(T.c.status, sorted(AT_COUNTER)),
        _REQUEST.c.at >= T.c.called_at,
        ~select(_JOIN.c.id)
        .where(
            _JOIN.c.ticket_id == T.c.id,
            _JOIN.c.type == "mediator_joined",
            _JOIN.c.id > _REQUEST.c.id,
        )
        .exists(),
    )
    .group_by(T.c.id, T.c.code, T.c.lang, T.c.counter_id)
    .order_by("asked_at")
)
LOCK_SITE = (
    select(Site.__table__.c.id).where(Site.__table__.c.id == bindparam("site_id")).with_for_update()
)
TICKET_FOR_UPDATE = select(T).where(T.c.id == bindparam("ticket_id")).with_for_update()
INSERT_TICKET = insert(T).returning(T.c.id)
INSERT_EVENT = insert(E)
_NUMBER = TicketNumber.__table__


def _number_statement(dialect: str) -> Any:
    """Take the next number of (service, day), in the ticket's own transaction: the row's
    lock makes numbers gap-free however many kiosks issue at once. Returns the number."""
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    new = insert_(_NUMBER).values(
        service_id=bindparam("service_id"), day=bindparam("day"), last_number=1
    )
    return new.on_conflict_do_update(
        index_elements=["service_id", "day"], set_={"last_number": _NUMBER.c.last_number + 1}
    ).returning(_NUMBER.c.last_number)


TAKE_NUMBER = {d: _number_statement(d) for d in ("sqlite", "postgresql")}
