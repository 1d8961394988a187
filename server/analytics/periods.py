"""Local calendar days of a site and the UTC instants that bound them, DST included.

Events are stored in UTC, but a coordinator thinks in local days and hours: an event at
23:30 UTC on a summer evening happened at 02:30 the next morning in Athens. Reports
therefore select by UTC bounds computed here, and bucket by local hour with the list of
UTC offsets that apply within the range (see `offset_segments`).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..i18n import N_

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
MAX_DAYS = 3700  # about ten years: beyond it a request is a mistake, not a report


class PeriodError(ValueError):
    """A date or month that cannot be read, or a range that makes no sense.

    `template` is the English message with its placeholders, so that pages can show it
    in the reader's language: `gettext(template) % params`.
    """

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template % params)
        self.template, self.params = template, params


def parse_day(text: str) -> date:
    """'2025-03-07' -> date; anything else is a PeriodError (no guessing of formats)."""
    if not _DAY.match(text or ""):
        raise PeriodError(N_("'%(text)s' is not a date of the form YYYY-MM-DD"), text=text)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(N_("'%(text)s' is not a real date"), text=text) from None


def parse_month(text: str) -> tuple[date, date]:
    """'2025-03' -> (first day, last day) of that month."""
    if not _MONTH.match(text or ""):
        raise PeriodError(N_("'%(text)s' is not a month of the form YYYY-MM"), text=text)
    year, month = int(text[:4]), int(text[5:])
    if not 1 <= month <= 12 or year < 1:
        raise PeriodError(N_("'%(text)s' is not a real month"), text=text)
    return month_bounds(date(year, month, 1))


def month_bounds(day: date) -> tuple[date, date]:
    """The first and last day of the month that holds `day`."""
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def check_range(first: date, last: date) -> None:
    if last < first:
        raise PeriodError(N_("the range ends before it starts"))
    if (last - first).days > MAX_DAYS:
        raise PeriodError(N_("a report covers at most %(days)s days"), days=MAX_DAYS)


def day_bounds(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """[local midnight starting `first`, local midnight after `last`) as UTC instants."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


def _offset(instant: datetime, zone: ZoneInfo) -> int:
    delta = instant.astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


@dataclass(frozen=True)
class Segment:
    """From `start` (UTC) on, until the next segment, local time is UTC + `offset_s`."""

    start: datetime
    offset_s: int


def offset_segments(start: datetime, end: datetime, timezone: str) -> list[Segment]:
    """The UTC offsets in force over [start, end), one segment per DST period.

    Steps a day at a time and finds each change to the minute by bisection, so three
    years cost about a thousand offset look-ups, whatever the zone's rules.
    """
    zone = ZoneInfo(timezone)
    segments = [Segment(start, _offset(start, zone))]
    day = timedelta(days=1)
    cursor = start
    while cursor < end:
        step_end = min(cursor + day, end)
        if _offset(step_end, zone) != segments[-1].offset_s:
            lo, hi = cursor, step_end  # offset(lo) is the old one, offset(hi) the new
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if _offset(mid, zone) == segments[-1].offset_s:
                    lo = mid
                else:
                    hi = mid
            change = hi.replace(second=0, microsecond=0)
            if _offset(change, zone) == segments[-1].offset_s:
                change += timedelta(minutes=1)
            segments.append(Segment(change, _offset(change, zone)))
        cursor = step_end
    return segments


def local_day_number(day: date) -> int:
    """Days since 1970-01-01: what the SQL buckets return for a local day."""
    return (day - date(1970, 1, 1)).days


def day_from_number(number: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(number))


def days_in(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week: weekly trends are keyed on it."""
    return day - timedelta(days=day.weekday())
