"""Retention (server/retention.py): tickets older than their site's limit are anonymised by
the scheduled sweep and by `seira purge`, and every report of any period adds up exactly
as before; newer tickets are untouched; `0` keeps only what the reports need from the day
after; status links work on their ticket's day only.

The history is a real one: the synthetic generator's days (calls, returns, transfers,
no-shows, visitors who left, referrals, desks' shifts) plus visits made through the
queue's own transactions at the awkward moments: just before and just after midnight in
Athens (another day in UTC), in the hour that repeats when summer time ends, with staff
members on the events and a printer's error message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from server import audit, migrate, retention, siteconfig
from server.analytics import reports
from server.analytics.history import generate
from server.db import Database
from server.housekeeping import start_housekeeping
from server.models import AuditEntry, Event, Site, Ticket, User, utcnow
from server.queue import sql, transactions
from server.queue.rules import Action, EventType
from tests.test_cli import seira

ATHENS = ZoneInfo("Europe/Athens")
SITES = ("thess-east", "thess-west")
TODAY = utcnow().astimezone(ATHENS).date()
HISTORY_DAYS = 30
KEPT_DAYS = 15  # the sweep below runs as if on the day that keeps the last 15 days whole
TIMES = ("issued_at", "queued_at", "called_at", "started_at", "ended_at")


def athens(day: date, hour: int, minute: int, fold: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, 17, 250_000, ATHENS, fold=fold)


def sweep_time(kept_days: int) -> datetime:
    """An instant at which a 90-day limit keeps whole only the last `kept_days` days."""
    return utcnow() + timedelta(days=90 - kept_days)


def user_id(db: Database, username: str) -> int:
    with db.read() as s:
        return s.scalar(select(User.id).where(User.username == username))


def visit(
    db: Database,
    at: datetime,
    *,
    service: str = "general",
    reason: str = "other",
    lang: str = "ar",
    counter: str = "desk-1",
    outcome: str = "referred_external",
    staff: int | None = None,
) -> int:
    """A visit through the queue's transactions: issued at `at`, called 7 min 30.6 s later
    by `staff`, served, finished with `outcome` (and a referral) 19 min 10.9 s after that."""
    ticket = transactions.issue_ticket(
        db, site="thess-east", service=service, reason=reason, lang=lang, now=at
    )
    called = transactions.call_next(
        db, site="thess-east", counter=counter, user_id=staff, now=at + timedelta(seconds=450.6)
    ).ticket
    assert called is not None and called.id == ticket.id
    transactions.act(db, ticket.id, Action.START, user_id=staff, now=at + timedelta(seconds=460))
    referral = {"referred_external": "efka", "referred_internal": "housing"}.get(outcome)
    transactions.act(
        db,
        ticket.id,
        Action.FINISH,
        user_id=staff,
        outcome=outcome,
        referral=referral,
        now=at + timedelta(seconds=1600.9),
    )
    return ticket.id


def printer_failed(db: Database, ticket_id: int, at: datetime) -> None:
    """The event the printing module writes when a kiosk's printer refuses a ticket."""
    with db.transaction() as conn:
        site_id, service_id, device_id = conn.execute(
            select(Ticket.site_id, Ticket.service_id, Ticket.device_id).where(
                Ticket.id == ticket_id
            )
        ).one()
        conn.execute(
            sql.INSERT_EVENT,
            {
                "ticket_id": ticket_id,
                "site_id": site_id,
                "service_id": service_id,
                "type": EventType.PRINT_FAILED.value,
                "at": at,
                "counter_id": None,
                "user_id": None,
                "payload": {"device": device_id, "error": "out of paper near the door"},
            },
        )


def awkward_visits(db: Database) -> dict[str, int]:
    """Visits at the moments an anonymisation gets wrong most easily, all old enough."""
    eleni = user_id(db, "eleni")
    late_day = TODAY - timedelta(days=20)
    # the last Sunday of October: 03:00-04:00 happens twice in Athens
    autumn = max(
        date(TODAY.year - 1, 10, d)
        for d in range(25, 32)
        if date(TODAY.year - 1, 10, d).weekday() == 6
    )
    found = {
        # 23:52 in Athens is 21:52 or 20:52 UTC: the same day in both
        "before_midnight": visit(db, athens(late_day, 23, 52), staff=eleni),
        # 00:41 in Athens is the evening before in UTC
        "after_midnight": visit(db, athens(late_day + timedelta(days=1), 0, 41), lang="fa"),
        # the second 03:20 of the night the clocks go back (EET, not EEST)
        "repeated_hour": visit(
            db,
            athens(autumn, 3, 20, fold=1),
            service="social-work",
            reason="protection.women",
            counter="desk-3",
            outcome="referred_internal",
            staff=eleni,
        ),  # fmt: skip
        "no_staff": visit(db, athens(late_day, 11, 5), outcome="served"),
    }
    printer_failed(db, found["no_staff"], athens(late_day, 11, 5) + timedelta(seconds=2))
    # a visitor who left, and one returned to the line, then called again and served
    left = transactions.issue_ticket(
        db, site="thess-east", service="benefits", reason="benefits", lang="uk",
        now=athens(late_day, 9, 33),
    )  # fmt: skip
    transactions.act(db, left.id, Action.CANCEL, user_id=None, why="left",
                     now=athens(late_day, 10, 2))  # fmt: skip
    found["left"] = left.id
    start = athens(late_day, 12, 14)
    back = transactions.issue_ticket(
        db, site="thess-east", service="general", reason="health", lang="so", now=start
    )
    for minutes, step in ((3, Action.CALL), (4, Action.RETURN), (9, Action.CALL), (10, None)):
        moment = start + timedelta(minutes=minutes, seconds=0.4)
        if step is Action.CALL:
            transactions.call_next(
                db, site="thess-east", counter="desk-2", user_id=eleni, now=moment
            )
        elif step is Action.RETURN:
            transactions.act(db, back.id, Action.RETURN, user_id=eleni, now=moment)
        else:
            transactions.act(
                db, back.id, Action.FINISH, user_id=eleni, outcome="appointment", now=moment
            )
    found["returned"] = back.id
    return found


@pytest.fixture
def history(db: Database) -> dict[str, int]:
    for i, site in enumerate(SITES):
        generate(db, site, HISTORY_DAYS, per_day=12, seed=i)
    return awkward_visits(db)


def site_ids(db: Database) -> list[int]:
    with db.read() as s:
        return list(s.scalars(select(Site.id).where(Site.slug.in_(SITES)).order_by(Site.id)))


def every_report(db: Database, first: date, last: date) -> dict[str, Any]:
    """Every kind of report, for the sites together and each alone, for these days."""
    ids = site_ids(db)
    out = {}
    with db.connect() as conn:
        for kind in reports.KINDS:
            for scope in [ids, *[[i] for i in ids]]:
                report = reports.compute(conn, kind, scope, first, last)
                out[f"{kind} {scope}"] = report.tables
    return out


def periods() -> list[tuple[date, date]]:
    """The whole history, its anonymised part, one day of it, and a calendar month."""
    first = TODAY - timedelta(days=400)
    cut = TODAY - timedelta(days=KEPT_DAYS)
    late_day = TODAY - timedelta(days=20)
    month = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
    return [
        (first, TODAY),
        (first, cut - timedelta(days=1)),
        (late_day, late_day),
        (late_day + timedelta(days=1), late_day + timedelta(days=1)),
        (month, TODAY.replace(day=1) - timedelta(days=1)),
    ]


def rows(db: Database) -> tuple[dict[int, dict], dict[int, list[dict]]]:
    with db.connect() as conn:
        tickets = {r["id"]: dict(r) for r in conn.execute(select(sql.T)).mappings()}
        events: dict[int, list[dict]] = {}
        for r in conn.execute(select(Event.__table__).order_by(Event.id)).mappings():
            events.setdefault(r["ticket_id"], []).append(dict(r))
    return tickets, events


def whole(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


# --- the sweep -------------------------------------------------------------------------------


def test_old_tickets_are_anonymised_and_every_report_adds_up_as_before(
    db: Database, history: dict[str, int]
) -> None:
    before_reports = {p: every_report(db, *p) for p in periods()}
    tickets, events = rows(db)
    cut = TODAY - timedelta(days=KEPT_DAYS)
    old = {i for i, t in tickets.items() if t["service_day"] < cut}
    assert len(old) > 100 and len(tickets) - len(old) > 100

    done = retention.purge(db, now=sweep_time(KEPT_DAYS))

    for period, before in before_reports.items():  # first of all: the figures
        assert every_report(db, *period) == before, period
    assert {p.site: p.before for p in done} == {site: cut for site in SITES}
    assert sum(p.tickets for p in done) == len(old)
    after_tickets, after_events = rows(db)
    for tid, t in tickets.items():
        now, then = after_tickets[tid], events.get(tid, [])
        if tid not in old:  # newer: not a byte changed
            assert now == t and after_events.get(tid, []) == then
            continue
        assert now["anonymised"] and now["public_token"] is None
        assert now["code"] is None and now["number"] is None
        local = now["issued_at"].astimezone(ATHENS)
        original = t["issued_at"].astimezone(ATHENS)
        assert (local.minute, local.second, local.microsecond) == (0, 0, 0)
        assert local.date() == original.date() == t["service_day"]
        assert local.hour == original.hour
        shift = whole(t["issued_at"]) - now["issued_at"]
        assert timedelta(0) <= shift < timedelta(hours=1)
        for column in TIMES:  # every time moved by the same whole seconds
            assert now[column] == (t[column] and whole(t[column]) - shift)
        for key in ("site_id", "service_id", "origin_service_id", "reason_code", "lang"):
            assert now[key] == t[key]
        assert (now["priority"], now["status"], now["counter_id"]) == (
            t["priority"],
            t["status"],
            t["counter_id"],
        )
        assert len(after_events[tid]) == len(then)
        for e_now, e_then in zip(after_events[tid], then, strict=True):
            assert e_now["anonymised"] and e_now["user_id"] is None
            assert e_now["at"] == whole(e_then["at"]) - shift
            assert (e_now["type"], e_now["counter_id"]) == (e_then["type"], e_then["counter_id"])
            assert "error" not in e_now["payload"]
            assert e_now["payload"] == {
                k: v for k, v in e_then["payload"].items() if k in retention.KEPT_PAYLOAD
            }
    # the awkward ones kept their local day and hour, in Athens
    for name in ("before_midnight", "after_midnight", "repeated_hour"):
        t, now = tickets[history[name]], after_tickets[history[name]]
        assert now["issued_at"].astimezone(ATHENS).strftime("%Y-%m-%d %H") == t[
            "issued_at"
        ].astimezone(ATHENS).strftime("%Y-%m-%d %H")
    staffed = [e for e in events[history["before_midnight"]] if e["user_id"]]
    assert staffed and not any(e["user_id"] for e in after_events[history["before_midnight"]])
    printed = [e for e in events[history["no_staff"]] if e["type"] == EventType.PRINT_FAILED]
    assert printed[0]["payload"]["error"]

    # and a second sweep finds nothing more to do
    assert retention.purge(db, now=sweep_time(KEPT_DAYS)) == []


def test_the_audit_log_says_how_many_never_which(db: Database, history: dict[str, int]) -> None:
    tickets, _ = rows(db)
    done = retention.purge(db, now=sweep_time(KEPT_DAYS))
    with db.read() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "tickets.anonymised")
        ).all()
    assert {e.target for e in entries} == {f"{site}/tickets" for site in SITES}
    assert {e.actor for e in entries} == {"retention"}
    assert sum(e.after["tickets"] for e in entries) == sum(p.tickets for p in done)
    assert {tuple(sorted(e.after)) for e in entries} == {("before", "days_kept", "tickets")}
    logged = json.dumps([[e.target, e.before, e.after] for e in entries])
    for t in tickets.values():
        assert t["public_token"] not in logged and f'"{t["code"]}"' not in logged


def test_zero_days_keeps_only_aggregates_once_the_day_is_over(db: Database) -> None:
    data = siteconfig.export(db, "thess-east")
    data["sites"][0]["retention_days"] = 0
    siteconfig.load_data(db, data)
    yesterday = visit(db, utcnow() - timedelta(days=1))
    today = transactions.issue_ticket(
        db, site="thess-east", service="general", reason="other", lang="el"
    )
    west = transactions.issue_ticket(
        db, site="thess-west", service="general", reason="other", lang="el",
        now=utcnow() - timedelta(days=1),
    )  # fmt: skip
    tickets, _ = rows(db)

    retention.purge(db)

    after, _ = rows(db)
    assert after[yesterday]["anonymised"] and after[yesterday]["public_token"] is None
    assert after[today.id] == tickets[today.id]  # today's visitor still waits with their link
    # the west centre keeps 90 days: its ticket of yesterday was only closed at the day's end
    assert not after[west.id]["anonymised"] and after[west.id]["status"] == "closed"
    assert after[west.id]["public_token"] == tickets[west.id]["public_token"]


def test_the_server_sweeps_by_itself(db: Database) -> None:
    # at noon in Athens on days counted by the calendar: 91 days of 24 hours back from
    # late evening is only 90 service days back when summer time lies in between
    old = visit(db, athens(TODAY - timedelta(days=91), 12, 0))
    recent = visit(db, athens(TODAY - timedelta(days=89), 12, 0))
    stop = start_housekeeping(db, checkpoint_every_s=0.05, sweep_every_s=0.1, purge_every_s=0.1)
    try:
        deadline = time.monotonic() + 10
        while not rows(db)[0][old]["anonymised"]:
            assert time.monotonic() < deadline, "the sweep never ran"
            time.sleep(0.05)
    finally:
        stop.set()
    assert not rows(db)[0][recent]["anonymised"]
    with db.read() as s:
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.actor, entry.after["tickets"]) == (
        "tickets.anonymised",
        "retention",
        1,
    )


def test_seira_purge_from_the_command_line(db: Database, tmp_path: Path) -> None:
    old = visit(db, utcnow() - timedelta(days=95))
    recent = visit(db, utcnow() - timedelta(days=3))
    result = seira(db.url, tmp_path, "purge")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == [
        "thess-east: 1 tickets anonymised (kept 90 days)",
        "thess-west: 0 tickets anonymised (kept 90 days)",
    ]
    tickets, _ = rows(db)
    assert tickets[old]["anonymised"] and not tickets[recent]["anonymised"]
    with db.read() as s:
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.actor) == ("tickets.anonymised", "seira command")


def test_open_tickets_of_an_earlier_day_are_closed_then_anonymised(db: Database) -> None:
    left_open = transactions.issue_ticket(
        db, site="thess-east", service="general", reason="other", lang="el",
        now=utcnow() - timedelta(days=100),
    )  # fmt: skip
    retention.purge(db)
    t = rows(db)[0][left_open.id]
    assert t["status"] == "closed" and t["anonymised"]


# --- the event log stays append-only ---------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET at = '2020-01-01 00:00:00.000000' WHERE anonymised",  # twice
        "UPDATE events SET anonymised = 1, type = 'called' WHERE NOT anonymised",
        "UPDATE events SET anonymised = 1, counter_id = NULL WHERE counter_id IS NOT NULL",
        "UPDATE events SET anonymised = 1, at = '2999-01-01 00:00:00.000000'",
        'UPDATE events SET anonymised = 1, payload = \'{"error": "x"}\'',
        "DELETE FROM events WHERE anonymised",
    ],
)
def test_an_anonymised_event_is_written_once_and_nothing_else_passes(
    db: Database, statement: str
) -> None:
    visit(db, utcnow() - timedelta(days=100))
    visit(db, utcnow() - timedelta(days=1))
    retention.purge(db)
    before = rows(db)
    with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text(statement))
    assert rows(db) == before


def test_the_migration_keeps_every_ticket_and_event(db: Database) -> None:
    """Down to the schema before retention and up again: the tickets table is rebuilt on
    SQLite with the events pointing at it, and nothing is lost or left dangling."""
    visit(db, utcnow() - timedelta(days=2))
    visit(db, utcnow() - timedelta(days=1), lang="ps")
    before = rows(db)
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection
        raw.execute("PRAGMA foreign_keys=OFF")
        with connection.begin():
            command.downgrade(migrate._config(connection), "0009")
        raw.execute("PRAGMA foreign_keys=ON")
    assert migrate.upgrade(db) == migrate.head_revision()
    assert rows(db) == before
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


# --- status links ----------------------------------------------------------------------------


@pytest.fixture
def east_tickets(db: Database) -> Iterator[dict[str, Any]]:
    yesterday = transactions.issue_ticket(
        db, site="thess-east", service="general", reason="other", lang="ar",
        now=utcnow() - timedelta(days=1),
    )  # fmt: skip
    today = transactions.issue_ticket(
        db, site="thess-east", service="general", reason="other", lang="ar"
    )
    yield {"yesterday": yesterday, "today": today}


def test_a_status_link_answers_like_a_missing_one_after_its_day(
    client: FlaskClient, east_tickets: dict[str, Any]
) -> None:
    missing = client.get("/api/v1/tickets/status/no-such-token")
    assert missing.status_code == 404
    old = client.get(f"/api/v1/tickets/status/{east_tickets['yesterday'].public_token}")
    assert (old.status_code, old.get_json()) == (404, missing.get_json())
    today = client.get(f"/api/v1/tickets/status/{east_tickets['today'].public_token}")
    assert today.status_code == 200 and today.get_json()["number"] == "A001"

    headers = {"Accept-Language": "fa"}
    page = client.get(f"/s/{east_tickets['yesterday'].public_token}", headers=headers)
    unknown = client.get("/s/no-such-token", headers=headers)
    assert page.status_code == unknown.status_code == 404
    assert page.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert "این صفحه فقط در روزی کار می‌کند" in page.get_data(as_text=True)


def test_an_erased_ticket_of_today_has_no_status_link(client: FlaskClient, db: Database) -> None:
    ticket = visit(db, utcnow() - timedelta(minutes=40))
    token = rows(db)[0][ticket]["public_token"]
    assert client.get(f"/api/v1/tickets/status/{token}").status_code == 200
    retention.erase(db, audit.Actor("maria"), site_ids(db)[0], ticket)
    assert client.get(f"/api/v1/tickets/status/{token}").status_code == 404
    assert client.get(f"/s/{token}").status_code == 404
