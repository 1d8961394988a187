"""Language-aware calling in the store, on SQLite and PostgreSQL: a counter skips a ticket
whose language another person on duty speaks, without its losing its place; the SQL that
fetches the heads of the queue agrees with the rules (server/queue/rules.py, Speakers).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from server import auth
from server.db import Database
from server.models import Ticket, User, utcnow
from server.queue import rules, sql, transactions
from server.queue.rules import Action, CounterEventType, Priority, Speakers, Status

EAST = "thess-east"
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 10:00 in Athens, a Monday


def staff(db: Database, username: str, languages: list[str]) -> int:
    user_id = auth.add_user(db, username, "a long sandbox password", "staff", EAST)
    with db.write() as s:
        s.execute(update(User).where(User.id == user_id).values(languages=languages))
    return user_id


def issue(db: Database, lang: str, minute: int) -> int:
    return transactions.issue_ticket(
        db,
        site=EAST,
        service="general",
        reason="other",
        lang=lang,
        now=T0 + timedelta(minutes=minute),
    ).id


def call(db: Database, counter: str, user_id: int, minute: int) -> int | None:
    done = transactions.call_next(
        db, site=EAST, counter=counter, user_id=user_id, now=T0 + timedelta(minutes=minute)
    )
    if done.ticket is None:
        return None
    transactions.act(
        db,
        done.ticket.id,
        Action.FINISH,
        user_id=user_id,
        outcome="served",
        now=T0 + timedelta(minutes=minute, seconds=30),
    )
    return done.ticket.id


def shift(db: Database, counter: str, event: CounterEventType, user_id: int, minute: int) -> None:
    when = T0 + timedelta(minutes=minute)
    transactions.record_shift(
        db, site=EAST, counter=counter, event=event, user_id=user_id, now=when
    )


def test_a_ticket_waits_for_the_colleague_who_speaks_its_language(store: Database) -> None:
    greek = staff(store, "eleni", ["el"])
    farsi = staff(store, "dariush", ["el", "fa"])
    fa, el, ps = issue(store, "fa", 0), issue(store, "el", 1), issue(store, "ps", 2)
    shift(store, "desk-2", CounterEventType.OPENED, farsi, 3)
    # the Farsi speaker is kept for the colleague who speaks Farsi; the Pashto speaker,
    # whose language nobody here speaks, is called in turn by anyone
    assert call(store, "desk-1", greek, 4) == el
    assert call(store, "desk-1", greek, 5) == ps
    assert call(store, "desk-1", greek, 6) is None
    with store.read() as s:
        assert s.scalar(select(Ticket.status).where(Ticket.id == fa)) == Status.WAITING
    later = issue(store, "fa", 7)
    assert call(store, "desk-2", farsi, 8) == fa  # first of its line: its place was kept
    # once the Farsi speaker's counter closes, nobody on duty speaks Farsi: anyone calls
    shift(store, "desk-2", CounterEventType.CLOSED, farsi, 9)
    assert call(store, "desk-1", greek, 10) == later


def test_a_colleague_at_a_counter_of_other_services_is_not_waited_for(store: Database) -> None:
    greek = staff(store, "eleni", ["el"])
    farsi = staff(store, "dariush", ["el", "fa"])
    shift(store, "desk-1", CounterEventType.OPENED, farsi, 0)  # general and benefits only
    social = transactions.issue_ticket(
        store, site=EAST, service="social-work", reason="social_support", lang="fa", now=T0
    ).id
    general = issue(store, "fa", 1)
    # desk-3 serves social-work, which the Farsi speaker's desk-1 never calls: no waiting
    # for them there; the Farsi visitor of the reception does wait for desk-1
    assert call(store, "desk-3", greek, 2) == social
    assert call(store, "desk-3", greek, 3) is None
    assert call(store, "desk-1", farsi, 4) == general


def test_a_visitor_is_told_the_wait_for_the_counters_that_speak_their_language(
    store: Database,
) -> None:
    now = utcnow()  # the estimate reads who is at work now
    greek = [staff(store, name, ["el"]) for name in ("eleni", "nikos")]
    farsi = staff(store, "dariush", ["el", "fa"])
    for desk, user in (("desk-1", greek[0]), ("desk-2", greek[1]), ("desk-3", farsi)):
        transactions.record_shift(
            store, site=EAST, counter=desk, event=CounterEventType.OPENED, user_id=user, now=now
        )
    for _ in range(6):  # six ahead in the reception's line
        transactions.issue_ticket(
            store, site=EAST, service="general", reason="other", lang="el", now=now
        )

    def estimate(lang: str) -> int | None:
        return transactions.issue_ticket(
            store, site=EAST, service="general", reason="other", lang=lang, now=now
        ).estimated_wait_s

    # the reception has three counters, and only desk-3 speaks Farsi: 6 x 8 min over 1, not 3
    assert estimate("el") == 6 * 8 * 60 // 3
    assert estimate("fa") == 7 * 8 * 60  # the Greek ticket above is ahead now too


def test_an_overdue_ticket_is_called_whatever_its_language(store: Database) -> None:
    greek = staff(store, "eleni", ["el"])
    farsi = staff(store, "dariush", ["fa"])
    fa = issue(store, "fa", 0)
    el = issue(store, "el", 1)
    shift(store, "desk-2", CounterEventType.PAUSED, farsi, 0)
    assert call(store, "desk-1", greek, 2) == el  # kept for the paused colleague
    assert call(store, "desk-1", greek, 3) is None
    # past general's maximum wait (45 minutes in the demo centres), anyone calls it
    assert call(store, "desk-1", greek, 46) == fa


LANGS = ("el", "fa", "ar", "ps")


def test_the_sql_heads_agree_with_the_rules(store: Database) -> None:
    """Random queues of three services, two classes and four languages, and random
    speakers: choose_next over the rows the SQL fetches is choose_next over every
    waiting ticket."""
    rng = random.Random(7)
    services = ["general", "benefits", "social-work"]
    reasons = {
        "general": "other",
        "benefits": "benefits.min_income",
        "social-work": "social_support",
    }
    for i in range(60):
        service = rng.choice(services)
        transactions.issue_ticket(
            store,
            site=EAST,
            service=service,
            reason=reasons[service],
            lang=rng.choice(LANGS),
            priority=rng.choice([Priority.NONE, Priority.NONE, "elderly"]),
            now=T0 + timedelta(seconds=i * 37 % 1800),
        )
    with store.read() as s:
        rows = s.execute(
            select(Ticket.id, Ticket.service_id, Ticket.priority, Ticket.queued_at, Ticket.lang)
        ).all()
    everyone = [rules.Waiting(r[0], r[1], r[2] != Priority.NONE, r[3], r[4]) for r in rows]
    service_ids = sorted({w.service for w in everyone})
    day = rules.service_day(T0, "Europe/Athens")
    for _ in range(40):
        here = frozenset(rng.sample(LANGS, rng.randint(0, 2)))
        anywhere = frozenset(rng.sample(LANGS, rng.randint(0, 2)))
        at_counters = frozenset(
            (sid, lang) for sid in service_ids for lang in rng.sample(LANGS, rng.randint(0, 2))
        )
        speakers = Speakers(here, anywhere, at_counters)
        weights = {sid: rng.randint(0, 3) for sid in service_ids}
        now = T0 + timedelta(minutes=rng.randint(0, 120))
        policy = rules.Policy(default_max_wait=timedelta(minutes=rng.choice([20, 45, 600])))
        params = {f"s{i}": sid for i, sid in enumerate(service_ids)}
        with store.engine.connect() as conn:
            statement = sql.heads_statement(tuple(speakers.kept(sid) for sid in service_ids))
            fetched = [
                rules.Waiting(tid, sid, prio != Priority.NONE, queued, lang)
                for tid, sid, prio, queued, lang in conn.execute(statement, {"day": day, **params})
            ]
        assert choose(fetched, weights, now, policy, speakers) == choose(
            everyone, weights, now, policy, speakers
        ), (speakers, weights, now)


def choose(waiting: list[rules.Waiting], weights: dict, now: datetime, policy, speakers):  # type: ignore[no-untyped-def]
    choice = rules.choose_next(waiting, weights, now, 0, policy, speakers)
    return None if choice is None else choice.ticket.id
