"""When a centre is open: its weekly hours, the days it is closed, and when it next opens.

Pure functions of a site's configuration and an instant, so that the kiosk's "closed"
screen, the refusal to issue outside hours and the sweep at closing all follow one rule.
A site with no hours at all is always open (the hours are then simply not known).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOOK_AHEAD_DAYS = 62  # how far `next_opening` looks: past the longest closure a centre has


@dataclass(frozen=True)
class Hours:
    """A site's calendar: `weekly` maps mon..sun to "HH:MM-HH:MM"; `closures` are
    {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"} spans, both days included."""

    weekly: Mapping[str, str]
    closures: Iterable[Mapping[str, str]]
    timezone: str

    def closed_on(self, day: date) -> bool:
        iso = day.isoformat()
        return any(c["from"] <= iso <= c["to"] for c in self.closures)

    def span(self, day: date) -> tuple[datetime, datetime] | None:
        """Opening and closing instants (UTC) of a local day, or None if closed all day."""
        if self.closed_on(day):
            return None
        text = self.weekly.get(DAYS[day.weekday()])
        if not text:
            return None
        opens, closes = (time.fromisoformat(part) for part in text.split("-"))
        zone = ZoneInfo(self.timezone)
        return (
            datetime.combine(day, opens, zone).astimezone(UTC),
            datetime.combine(day, closes, zone).astimezone(UTC),
        )

    def local_day(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.timezone)).date()


def is_open(hours: Hours, now: datetime) -> bool:
    if not hours.weekly:
        return not hours.closed_on(hours.local_day(now))
    span = hours.span(hours.local_day(now))
    return span is not None and span[0] <= now < span[1]


def closing_time(hours: Hours, day: date) -> datetime | None:
    """When the local `day` ends for the front desk: its closing time, if it has hours."""
    span = hours.span(day) if hours.weekly else None
    return None if span is None else span[1]


def next_opening(hours: Hours, now: datetime) -> datetime | None:
    """The next instant the site opens after `now`; None if no hours or none in sight."""
    if not hours.weekly:
        return None
    day = hours.local_day(now)
    for offset in range(LOOK_AHEAD_DAYS):
        span = hours.span(day + timedelta(days=offset))
        if span is not None and span[0] > now:
            return span[0]
    return None
