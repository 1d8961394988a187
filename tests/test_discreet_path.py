"""The discreet path in the store and the configuration, on SQLite and PostgreSQL: a
private service's tickets take another service's numbers (nothing in the number tells
them apart), are never called aloud, and are called only at a private counter by staff
trained for the sensitive reasons, however long they wait.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server import auth, siteconfig
from server.db import Database
from server.models import Ticket
from server.printing import Printing
from server.queue import transactions
from server.queue.rules import Action
from server.siteconfig.rules import check
from tests.conftest import CONFIG

EAST = "thess-east"
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 10:00 in Athens, a Monday


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def issue(db: Database, service: str, reason: str, minute: float, quiet: bool = False) -> int:
    return transactions.issue_ticket(
        db, site=EAST, service=service, reason=reason, lang="ar", quiet=quiet, now=at(minute)
    ).id


def call(db: Database, counter: str, trained: bool, minute: float) -> int | None:
    user = auth.add_user(db, f"staff-{counter}", "a long sandbox password", "staff", EAST)
    done = transactions.call_next(
        db, site=EAST, counter=counter, user_id=user, trained=trained, now=at(minute)
    )
    if done.ticket is None:
        return None
    transactions.act(
        db, done.ticket.id, Action.FINISH, user_id=user, outcome="served", now=at(minute)
    )
    return done.ticket.id


def row(db: Database, ticket_id: int) -> Ticket:
    with db.read() as s:
        found = s.scalar(select(Ticket).where(Ticket.id == ticket_id))
        assert found is not None
        s.expunge(found)
        return found


def test_private_tickets_take_the_reception_numbers_and_are_quiet(store: Database) -> None:
    first = issue(store, "general", "other", 0)
    private = issue(store, "private", "private", 1)
    last = issue(store, "general", "health", 2)
    codes = [row(store, t).code for t in (first, private, last)]
    assert codes == ["A001", "A002", "A003"]  # one line of numbers: nothing tells them apart
    assert row(store, private).quiet is True  # a private service's tickets always are
    assert row(store, first).quiet is False
    assert row(store, issue(store, "benefits", "benefits", 3, quiet=True)).quiet is True


def test_only_a_private_counter_with_trained_staff_calls_a_private_ticket(store: Database) -> None:
    private = issue(store, "private", "private", 0)
    # desk-1 does not serve it; desk-3 is private but its caller is not trained
    assert call(store, "desk-1", trained=True, minute=1) is None
    assert call(store, "desk-3", trained=False, minute=2) is None
    # nor when it is long overdue: the rule is who may hear it, not how long it waited
    assert call(store, "desk-3", trained=False, minute=120) is None
    assert call(store, "desk-3", trained=True, minute=121) == private


def test_the_printed_ticket_names_no_service_for_a_sensitive_reason(store: Database) -> None:
    social = issue(store, "social-work", "social_support", 0)
    protection = issue(store, "social-work", "protection.women", 1)
    private = issue(store, "private", "private", 2)
    url = "https://seira.example/s/x"
    assert Printing.printed_ticket(store, social, url).service_el == "Κοινωνική υπηρεσία"
    for ticket in (protection, private):
        printed = Printing.printed_ticket(store, ticket, url)
        assert printed.service_el == "" and printed.service == ""


def test_the_configuration_keeps_private_services_to_private_counters() -> None:
    data = siteconfig.parse(CONFIG)
    assert check(data) == []
    site = data["sites"][0]
    broken = copy.deepcopy(data)
    broken["sites"][0]["counters"][0]["services"]["private"] = 1  # desk-1 is not private
    assert [p.where for p in check(broken)] == [
        "sites[0] (thess-east) counters[0] (desk-1) services.private"
    ]
    for numbers_from in ("nowhere", "private"):
        bad = copy.deepcopy(data)
        service = next(s for s in bad["sites"][0]["services"] if s["slug"] == "private")
        service["numbers_from"] = numbers_from
        assert any("numbers_from" in p.where for p in check(bad)), numbers_from
    mismatched = copy.deepcopy(data)
    service = next(s for s in mismatched["sites"][0]["services"] if s["slug"] == "private")
    service["prefix"] = "P"
    assert any(p.where.endswith("(private) prefix") for p in check(mismatched))
    assert site["services"][0]["prefix"] == "A"


def test_the_export_gives_back_what_was_loaded(db: Database) -> None:
    exported = siteconfig.export(db)
    service = next(s for s in exported["sites"][0]["services"] if s["slug"] == "private")
    assert service["numbers_from"] == "general" and service["private"] is True
    assert "prefix" not in service
    desk3 = next(c for c in exported["sites"][0]["counters"] if c["slug"] == "desk-3")
    assert desk3["private"] is True
    assert check(exported) == []
