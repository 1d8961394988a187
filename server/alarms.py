"""Silent alarms: a staff member at a counter asks for help without a sound or a sign that
a visitor could see.

An alarm is raised at a counter and stays open until a supervisor acknowledges it; both
steps are rows of the append-only `alarm_events`. The front desk announces each step to
the site's staff pages only (Socket.IO /counter: counters, mediators, supervisors, on
every server process); displays, kiosks and status pages never hear of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, or_, select

from . import catalog
from .catalog import SiteInfo
from .db import Database
from .errors import Conflict, NotFound
from .models import AlarmEvent, User, utcnow
from .queue import rules

RAISED = "raised"
ACKNOWLEDGED = "acknowledged"
_A = AlarmEvent.__table__


@dataclass(frozen=True)
class Alarm:
    """An alarm of today: where and when it was raised, and by whom it was acknowledged."""

    id: int
    counter: str
    raised_at: datetime
    raised_by: str | None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None


def raise_alarm(
    db: Database, site: SiteInfo, counter: str, user_id: int | None, now: datetime | None = None
) -> Alarm:
    """Raise an alarm at one of the site's counters."""
    counter_row = catalog.current(db).require_counter(site, counter)
    values = {
        "site_id": site.id,
        "counter_id": counter_row.id,
        "type": RAISED,
        "alarm_id": None,
        "user_id": user_id,
        "at": now or utcnow(),
    }
    with db.transaction() as conn:
        alarm_id = conn.execute(insert(_A).values(**values)).inserted_primary_key[0]
    return _collect(db, _ALARM.where(_A.c.id == alarm_id))[0]


def acknowledge(
    db: Database, site: SiteInfo, alarm_id: int, user_id: int | None, now: datetime | None = None
) -> Alarm:
    """A supervisor acknowledges an open alarm of the site (of any day); acknowledging it
    again is refused (another supervisor was quicker)."""
    now = now or utcnow()
    with db.transaction() as conn:
        raised = conn.execute(
            select(_A.c.counter_id).where(
                _A.c.id == alarm_id, _A.c.site_id == site.id, _A.c.type == RAISED
            )
        ).first()
        if raised is None:
            raise NotFound(f"no alarm {alarm_id} at this site")
        done = conn.execute(
            select(_A.c.id).where(_A.c.alarm_id == alarm_id, _A.c.type == ACKNOWLEDGED)
        ).first()
        if done is not None:
            raise Conflict("this alarm is acknowledged already", "acknowledged")
        conn.execute(
            insert(_A).values(
                site_id=site.id,
                counter_id=raised.counter_id,
                type=ACKNOWLEDGED,
                alarm_id=alarm_id,
                user_id=user_id,
                at=now,
            )
        )
    return _collect(db, _ALARM.where(or_(_A.c.id == alarm_id, _A.c.alarm_id == alarm_id)))[0]


def today(db: Database, site: SiteInfo, now: datetime | None = None) -> list[Alarm]:
    """The site's alarms of its local day, the newest first, open or acknowledged."""
    now = now or utcnow()
    since = rules.day_start_utc(rules.service_day(now, site.timezone), site.timezone)
    return _collect(db, _ALARM.where(_A.c.site_id == site.id, _A.c.at >= since))


_ALARM = select(
    _A.c.id, _A.c.type, _A.c.alarm_id, _A.c.counter_id, _A.c.at, User.username
).outerjoin(User, User.id == _A.c.user_id)


def _collect(db: Database, query: Select[Any]) -> list[Alarm]:
    """Alarms from their rows: each raised one, with its acknowledgement if among them."""
    cat = catalog.current(db)
    with db.connect() as conn:
        rows = conn.execute(query.order_by(_A.c.id)).all()
    alarms: dict[int, Alarm] = {}
    for row in rows:
        if row.type == RAISED:
            counter = cat.counters.get(row.counter_id)
            alarms[row.id] = Alarm(row.id, counter.slug if counter else "", row.at, row.username)
        elif row.alarm_id in alarms:
            raised = alarms[row.alarm_id]
            alarms[row.alarm_id] = Alarm(
                raised.id, raised.counter, raised.raised_at, raised.raised_by, row.at, row.username
            )
    return sorted(alarms.values(), key=lambda a: a.id, reverse=True)
