"""Who staffs which counter: opening, pausing, resuming and closing, as append-only events.

A counter's state is its latest `counter_events` row of the local day (the rule is
`engine.counter_state`); a call opens or resumes the counter it is made at (store.call_next).
The staffing report counts present counters from the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from . import catalog, engine
from .db import Database
from .engine import CounterEventType, CounterState
from .models import CounterEvent, User, utcnow
from .store import NotFound, counter_info, site_info


@dataclass(frozen=True)
class Staffing:
    """One counter's state today: who holds it and since when."""

    counter: str
    state: CounterState
    user: str | None
    since: datetime | None


def record(
    db: Database,
    *,
    site: str,
    counter: str,
    event: CounterEventType,
    user_id: int | None,
    now: datetime | None = None,
) -> None:
    """Append one counter event; unknown site or counter raises NotFound."""
    cat = catalog.current(db)
    site_row = site_info(cat, site)
    counter_row = counter_info(cat, site_row, counter)
    with db.transaction() as conn:
        conn.execute(
            insert(CounterEvent).values(
                site_id=site_row.id,
                counter_id=counter_row.id,
                user_id=user_id,
                type=event.value,
                at=now or utcnow(),
            )
        )


def staffing(db: Database, site: str, now: datetime | None = None) -> list[Staffing]:
    """Every active counter of the site with its state today, in the site's order."""
    now = now or utcnow()
    cat = catalog.current(db)
    site_row = cat.site(site)
    if site_row is None:
        raise NotFound(f"no site '{site}'")
    since = engine.day_start_utc(engine.service_day(now, site_row.timezone), site_row.timezone)
    with db.read() as s:
        today = s.execute(  # a handful of rows a day; the last of each counter decides
            select(CounterEvent.counter_id, CounterEvent.type, CounterEvent.at, User.username)
            .outerjoin(User, User.id == CounterEvent.user_id)
            .where(
                CounterEvent.site_id == site_row.id,
                CounterEvent.at >= since,
                CounterEvent.at <= now,
            )
            .order_by(CounterEvent.at, CounterEvent.id)
        ).all()
    found = {row.counter_id: row for row in today}
    out = []
    for counter in cat.counters_of(site_row.id):
        row = found.get(counter.id)
        if row is None:
            out.append(Staffing(counter.slug, CounterState.SIGNED_OUT, None, None))
            continue
        state = engine.counter_state(CounterEventType(row.type))
        user = None if state is CounterState.SIGNED_OUT else row.username
        out.append(Staffing(counter.slug, state, user, row.at))
    return out
