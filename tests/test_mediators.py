"""Mediators in the store, on SQLite and PostgreSQL: a free mediator's languages count at
every counter, a call that needs one joins them, a counter may ask for one and a mediator
accept, and the visit's end frees them (server/queue/mediation.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from server import catalog
from server.db import Database
from server.errors import Conflict
from server.models import Event, MediatorEvent, Site, Ticket
from server.queue import mediation, transactions
from server.queue.rules import Action, CounterEventType, MediatorEventType, MediatorState, Status
from tests.conftest import person

EAST = "thess-east"
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 10:00 in Athens, a Monday


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def issue(db: Database, lang: str, minute: float) -> int:
    return transactions.issue_ticket(
        db, site=EAST, service="general", reason="other", lang=lang, now=at(minute)
    ).id


def call(db: Database, counter: str, user_id: int, minute: float) -> int | None:
    done = transactions.call_next(db, site=EAST, counter=counter, user_id=user_id, now=at(minute))
    return None if done.ticket is None else done.ticket.id


def finish(db: Database, ticket_id: int, user_id: int, minute: float) -> None:
    transactions.act(
        db, ticket_id, Action.FINISH, user_id=user_id, outcome="served", now=at(minute)
    )


def mediator(db: Database, user_id: int, event: MediatorEventType, minute: float) -> None:
    mediation.set_state(db, site=EAST, user_id=user_id, event=event, now=at(minute))


def state(db: Database, user_id: int, minute: float) -> mediation.Mediator | None:
    site = catalog.current(db).require_site(EAST)
    return next(
        (m for m in mediation.mediators(db, site, at(minute)) if m.user_id == user_id), None
    )


def ticket_events(db: Database, ticket_id: int) -> list[tuple[str, int | None]]:
    with db.read() as s:
        rows = s.execute(
            select(Event.type, Event.user_id).where(Event.ticket_id == ticket_id).order_by(Event.id)
        )
        return [tuple(row) for row in rows]


def test_a_ticket_waits_for_a_mediator_and_is_called_with_them_joined(store: Database) -> None:
    greek = person(store, "eleni", "staff", ["el"])
    amal = person(store, "amal", "mediator", ["ar", "el"])
    ar, el = issue(store, "ar", 0), issue(store, "el", 1)
    mediator(store, amal, MediatorEventType.BUSY, 1.5)  # on duty, not free: Arabic waits
    assert call(store, "desk-1", greek, 2) == el
    finish(store, el, greek, 3)
    assert call(store, "desk-1", greek, 4) is None
    with store.read() as s:
        assert s.scalar(select(Ticket.status).where(Ticket.id == ar)) == Status.WAITING

    mediator(store, amal, MediatorEventType.AVAILABLE, 5)
    assert call(store, "desk-1", greek, 6) == ar  # called at once, and the mediator joined
    joined = state(store, amal, 6)
    assert joined is not None and joined.state is MediatorState.BUSY and joined.ticket_id == ar
    assert ("mediator_joined", amal) in ticket_events(store, ar)

    finish(store, ar, greek, 12)  # the visit is over: the mediator is free again
    freed = state(store, amal, 12)
    assert freed is not None and freed.state is MediatorState.AVAILABLE and freed.ticket_id is None


def test_one_mediator_is_joined_to_one_call_at_a_time(store: Database) -> None:
    eleni = person(store, "eleni", "staff", ["el"])
    nikos = person(store, "nikos", "staff", ["el"])
    amal = person(store, "amal", "mediator", ["ar"])
    first, second = issue(store, "ar", 0), issue(store, "ar", 1)
    mediator(store, amal, MediatorEventType.AVAILABLE, 1)
    assert call(store, "desk-1", eleni, 2) == first
    # the only Arabic speaker is now busy at desk-1: desk-2 does not take the second
    assert call(store, "desk-2", nikos, 2) is None
    finish(store, first, eleni, 9)
    assert call(store, "desk-2", nikos, 10) == second
    assert state(store, amal, 10).ticket_id == second


def test_a_counter_asks_for_a_mediator_and_one_accepts(store: Database) -> None:
    greek = person(store, "eleni", "staff", ["el"])
    amal = person(store, "amal", "mediator", ["ar"])
    sami = person(store, "sami", "mediator", ["ar", "ku"])
    ticket = issue(store, "el", 0)  # chose Greek at the kiosk, but speaks Kurdish best
    mediator(store, amal, MediatorEventType.AVAILABLE, 0)
    mediator(store, sami, MediatorEventType.BUSY, 0)
    assert call(store, "desk-1", greek, 1) == ticket
    assert state(store, amal, 1).ticket_id is None  # Greek is spoken here: nobody joined
    site = catalog.current(store).require_site(EAST)

    def ask(minute: float) -> bool:
        return mediation.ask(store, site=EAST, ticket_id=ticket, user_id=greek, now=at(minute))

    assert ask(2) is True
    assert ask(2.5) is False  # asking twice is asking once
    (request,) = mediation.requests(store, site, at(3))
    assert request["id"] == ticket and request["lang"] == "el"

    mediation.accept(store, site=EAST, ticket_id=ticket, user_id=sami, now=at(3))
    assert state(store, sami, 3).ticket_id == ticket
    assert mediation.requests(store, site, at(3)) == []
    with pytest.raises(Conflict) as gone:
        mediation.accept(store, site=EAST, ticket_id=ticket, user_id=amal, now=at(3.5))
    assert gone.value.code == "no_request"
    with pytest.raises(Conflict) as joined:
        ask(4)
    assert joined.value.code == "mediator_joined"
    assert [t for t, _ in ticket_events(store, ticket)][-2:] == [
        "mediator_requested",
        "mediator_joined",
    ]


def test_a_mediator_joined_elsewhere_cannot_accept(store: Database) -> None:
    greek = person(store, "eleni", "staff", ["el"])
    nikos = person(store, "nikos", "staff", ["el"])
    amal = person(store, "amal", "mediator", ["ar"])
    ar, el = issue(store, "ar", 0), issue(store, "el", 0.5)
    mediator(store, amal, MediatorEventType.AVAILABLE, 0.5)
    assert call(store, "desk-1", greek, 1) == ar
    assert call(store, "desk-2", nikos, 1) == el
    mediation.ask(store, site=EAST, ticket_id=el, user_id=nikos, now=at(2))
    with pytest.raises(Conflict) as busy:
        mediation.accept(store, site=EAST, ticket_id=el, user_id=amal, now=at(3))
    assert busy.value.code == "mediator_joined"
    # leaving the call frees them for the request
    mediator(store, amal, MediatorEventType.AVAILABLE, 4)
    mediation.accept(store, site=EAST, ticket_id=el, user_id=amal, now=at(5))
    assert state(store, amal, 5).ticket_id == el


def test_phone_interpretation_languages_are_called_anywhere(store: Database) -> None:
    with store.write() as s:
        s.execute(update(Site).where(Site.slug == EAST).values(phone_languages=["so"]))
    catalog.invalidate(store)
    greek = person(store, "eleni", "staff", ["el"])
    hodan = person(store, "hodan", "mediator", ["so"])
    so = issue(store, "so", 0)
    mediator(store, hodan, MediatorEventType.BUSY, 0)  # on duty, but the phone covers Somali
    assert call(store, "desk-1", greek, 1) == so
    assert ("mediator_joined", hodan) not in ticket_events(store, so)


def test_a_mediator_is_away_until_they_say_otherwise_each_day(store: Database) -> None:
    greek = person(store, "eleni", "staff", ["el"])
    amal = person(store, "amal", "mediator", ["ar"])
    mediator(store, amal, MediatorEventType.AVAILABLE, -24 * 60)  # yesterday
    assert state(store, amal, 0) is None
    ar = issue(store, "ar", 0)
    shift_of_arabic_colleague = person(store, "rania", "staff", ["ar"])
    transactions.record_shift(
        store,
        site=EAST,
        counter="desk-2",
        event=CounterEventType.PAUSED,
        user_id=shift_of_arabic_colleague,
        now=at(0),
    )
    assert call(store, "desk-1", greek, 1) is None  # kept for the Arabic-speaking colleague
    with store.read() as s:
        assert s.scalar(select(MediatorEvent.id).where(MediatorEvent.ticket_id == ar)) is None
