"""Opening hours: the rule (pure), the kiosk refused outside them, and the sweep at closing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from server import auth, catalog
from server.auth import authenticate
from server.db import Database
from server.errors import Conflict
from server.frontdesk import FrontDesk
from server.models import Site, Ticket, User
from server.queue import opening, transactions
from server.queue.opening import Hours

WEEKDAYS = {day: "08:00-15:00" for day in ("mon", "tue", "wed", "thu", "fri")}
ATHENS = "Europe/Athens"
# Wednesday 2 December 2026: Athens is UTC+2 in winter
WED_0900 = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


def test_weekly_hours_in_the_sites_own_time() -> None:
    hours = Hours(WEEKDAYS, [], ATHENS)
    assert opening.is_open(hours, WED_0900)
    assert not opening.is_open(hours, datetime(2026, 12, 2, 5, 59, tzinfo=UTC))  # 07:59
    assert opening.is_open(hours, datetime(2026, 12, 2, 6, 0, tzinfo=UTC))  # 08:00
    assert not opening.is_open(hours, datetime(2026, 12, 2, 13, 0, tzinfo=UTC))  # 15:00
    assert not opening.is_open(hours, datetime(2026, 12, 5, 9, 0, tzinfo=UTC))  # Saturday
    assert opening.closing_time(hours, date(2026, 12, 2)) == datetime(
        2026, 12, 2, 13, 0, tzinfo=UTC
    )
    friday_evening = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    assert opening.next_opening(hours, friday_evening) == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 5, 30, tzinfo=UTC)  # 08:30 in Athens, UTC+3
    assert opening.is_open(hours, summer)


def test_closures_and_sites_without_hours() -> None:
    holidays = [
        {"from": "2026-12-24", "to": "2026-12-26"},
        {"from": "2027-01-01", "to": "2027-01-01"},
    ]
    hours = Hours(WEEKDAYS, holidays, ATHENS)
    christmas_eve = datetime(2026, 12, 24, 8, 0, tzinfo=UTC)  # a Thursday, 10:00
    assert not opening.is_open(hours, christmas_eve)
    assert opening.next_opening(hours, christmas_eve) == datetime(2026, 12, 28, 6, 0, tzinfo=UTC)
    assert opening.closing_time(hours, date(2026, 12, 25)) is None
    always = Hours({}, [], ATHENS)
    assert opening.is_open(always, christmas_eve) and opening.next_opening(always, WED_0900) is None
    assert not opening.is_open(Hours({}, holidays, ATHENS), christmas_eve)


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    )
)
def test_whenever_it_is_closed_it_opens_next_at_an_open_instant(now: datetime) -> None:
    hours = Hours(WEEKDAYS, [{"from": "2026-12-24", "to": "2027-01-06"}], ATHENS)
    if opening.is_open(hours, now):
        return
    nxt = opening.next_opening(hours, now)
    assert nxt is not None and nxt > now
    assert opening.is_open(hours, nxt)
    assert not opening.is_open(hours, nxt - timedelta(minutes=1))


def _kiosk(db: Database) -> tuple[FrontDesk, object]:
    token = auth.add_device(db, "thess-east", "kiosk", "door")
    return FrontDesk(db), authenticate(db, token)


def _set(db: Database, **columns: object) -> None:
    with db.write() as s:
        s.execute(update(Site).where(Site.slug == "thess-east").values(**columns))
    catalog.invalidate(db)


BODY = lambda: {"service": "general", "reason": "other", "lang": "ar"}  # noqa: E731


def test_a_kiosk_is_refused_outside_hours_and_staff_are_not(db: Database) -> None:
    desk, kiosk = _kiosk(db)
    _set(db, hours={}, closures=[{"from": "2000-01-01", "to": "2100-12-31"}])  # closed now
    state = desk.opening(kiosk, "thess-east")
    assert state == {"open": False, "closes_at": None, "opens_at": None}
    with pytest.raises(Conflict) as info:
        desk.issue_ticket(kiosk, "thess-east", BODY, "http://x")
    assert info.value.code == "closed"
    with db.read() as s:
        assert s.scalars(select(Ticket)).all() == []
    # a member of staff may still give a ticket at the counter
    from sqlalchemy import select as sel

    from server import auth

    with db.read() as s:
        eleni = s.scalar(sel(User.id).where(User.username == "eleni"))
    staff = authenticate(db, auth.grant_token(db, eleni)[0])
    assert desk.issue_ticket(staff, "thess-east", BODY, "http://x").ticket.number == "A001"
    _set(db, hours={d: "00:00-23:59" for d in opening.DAYS}, closures=[])
    assert desk.opening(kiosk, "thess-east")["open"] is True
    assert desk.issue_ticket(kiosk, "thess-east", BODY, "http://x").ticket.number == "A002"
    assert FrontDesk(db, opening_hours=False).opening(kiosk, "thess-east")["open"] is True


def test_the_days_tickets_are_closed_an_hour_after_closing(db: Database) -> None:
    transactions.issue_ticket(db, site="thess-east", service="general", reason="other", lang="el")
    with db.read() as s:
        day = s.scalar(select(Ticket.service_day))
    closes = datetime.combine(day, datetime.min.time(), UTC).replace(hour=13)  # 15:00 Athens
    _set(db, hours={d: "08:00-15:00" for d in opening.DAYS})
    assert transactions.close_day(db, now=closes + timedelta(minutes=59), at_closing=True) == 0
    assert transactions.close_day(db, now=closes + timedelta(hours=2), at_closing=False) == 0
    assert transactions.close_day(db, now=closes + timedelta(hours=1), at_closing=True) == 1
    with db.read() as s:
        assert s.scalar(select(Ticket.status)) == "closed"
