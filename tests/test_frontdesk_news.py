"""What the front desk announces after a commit: only what changed.

Every piece of news makes the hub send the site's summary to every display, counter page
and phone of the site, and each phone then asks for its status again. A quiet counter
calls every few seconds and mostly hears "nobody waits": announcing those calls cost a
central service with 250 centres most of its live traffic (bench/country.py).
"""

from __future__ import annotations

from sqlalchemy import select

from server import auth, catalog
from server.db import Database
from server.frontdesk import FrontDesk
from server.models import User
from server.queue import transactions
from server.queue.news import Called, News, QueueChanged
from server.queue.rules import CounterEventType

EAST = "thess-east"


def _desk(db: Database) -> tuple[FrontDesk, list[News], auth.Principal]:
    heard: list[News] = []
    with db.read() as s:
        user = s.scalar(select(User).where(User.username == "maria"))
    assert user is not None
    token, _ = auth.grant_token(db, user.id)
    who = auth.authenticate(db, token)
    assert who is not None
    return FrontDesk(db, publish=heard.append), heard, who


def test_a_call_that_finds_nobody_is_announced_only_when_it_opened_the_shift(
    db: Database,
) -> None:
    desk, heard, who = _desk(db)
    east = catalog.current(db).site(EAST).id
    assert desk.call_next(who, EAST, "desk-1") is None  # the counter's first call opens it
    assert heard == [QueueChanged(east)]
    heard.clear()
    for _ in range(3):  # a counter at work that finds nobody changed nothing
        assert desk.call_next(who, EAST, "desk-1") is None
    assert heard == []
    desk.shift(who, EAST, "desk-1", CounterEventType.PAUSED)
    assert heard == [QueueChanged(east)]
    heard.clear()
    assert desk.call_next(who, EAST, "desk-1") is None  # calling resumes the paused shift
    assert heard == [QueueChanged(east)]


def test_a_call_that_finds_somebody_is_announced_as_a_call(db: Database) -> None:
    desk, heard, who = _desk(db)
    east = catalog.current(db).site(EAST).id
    transactions.issue_ticket(db, site=EAST, service="general", reason="other", lang="ar")
    called = desk.call_next(who, EAST, "desk-1")
    assert called is not None
    assert [type(n) for n in heard] == [Called]
    assert heard[0].site_id == east and heard[0].ticket.id == called.id  # type: ignore[union-attr]
