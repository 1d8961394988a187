"""The staffing forecast: counters needed per weekday and hour (Erlang C), beside the
counters actually staffed, read from the counters' shifts (`counter_events`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..i18n import N_
from ..models import CounterEvent, Service, Site
from . import erlang
from .measures import arrivals_by_hour, service_source
from .periods import days_in
from .schema import WEEKDAYS, ReportError, Table
from .scope import Ctx, T, table

CE = CounterEvent.__table__


def staffed_seconds(
    events: list[tuple[int, str, datetime]], start: datetime, end: datetime, timezone: str
) -> dict[tuple[date, int], float]:
    """Counter-seconds staffed per (local day, hour): a counter is staffed from `opened` or
    `resumed` until `paused` or `closed` (or the end of the range).

    `events` are (counter id, type, UTC time), in order. A counter whose first event in
    the range is a pause or a close was staffed since the start of the range.
    """
    zone = ZoneInfo(timezone)
    since: dict[int, datetime | None] = {}
    intervals: list[tuple[datetime, datetime]] = []
    for counter, type_, at in events:
        if type_ in ("opened", "resumed"):
            if since.get(counter) is None:
                since[counter] = at
        elif type_ in ("paused", "closed"):
            began = since.get(counter, start)
            if began is not None and at > began:
                intervals.append((max(began, start), min(at, end)))
            since[counter] = None
    intervals += [(max(began, start), end) for began in since.values() if began is not None]
    out: dict[tuple[date, int], float] = defaultdict(float)
    for begin, finish in intervals:
        cursor = begin
        while cursor < finish:
            local = cursor.astimezone(zone)
            next_hour = (
                local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            ).astimezone(cursor.tzinfo)
            step_end = min(next_hour, finish)
            out[(local.date(), local.hour)] += (step_end - cursor).total_seconds()
            cursor = step_end
    return out


def _open_hours(hours: dict[str, str]) -> dict[int, range]:
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    out = {}
    for i, name in enumerate(days):
        if name in hours:
            opens, closes = hours[name].split("-")
            close_h, close_m = int(closes[:2]), int(closes[3:])
            out[i] = range(int(opens[:2]), close_h + (1 if close_m else 0))
    return out


def service_target(ctx: Ctx) -> tuple[float, float]:
    """The share to call within so many seconds that staffing plans for (80 % within
    15 minutes unless asked otherwise), as the report's parameters say it after."""
    target = float(ctx.options.get("target", 0.8))
    within_s = float(ctx.options.get("within_min", 15)) * 60
    if not 0 < target < 1 or within_s <= 0:
        raise ReportError("bad_target", N_("target must be between 0 and 1, within_min above 0"))
    ctx.options["target"], ctx.options["within_min"] = target, within_s / 60
    return target, within_s


def staffing_report(ctx: Ctx) -> list[Table]:
    target, within_s = service_target(ctx)
    names, tr, scope = ctx.names, ctx.names.tr, ctx.scope
    rows = []
    for site_id in scope.site_ids:
        hours = ctx.conn.execute(select(Site.hours).where(Site.id == site_id)).scalar() or {}
        open_hours = _open_hours(hours)
        arrivals = {(wd, h): n for wd, h, n in arrivals_by_hour(ctx, site_id)}
        days = (
            ctx.conn.execute(
                select(T.c.service_day).distinct().where(*ctx.visits(), T.c.site_id == site_id)
            )
            .scalars()
            .all()
        )
        days_per_weekday: dict[int, int] = defaultdict(int)
        for day in days:
            days_per_weekday[day.weekday()] += 1
        source = service_source(ctx)
        mean = ctx.conn.execute(
            select(func.avg(source.c.service_s)).where(source.c.site_id == site_id)
        ).scalar()
        if mean is None:  # no finished visit yet: the configured typical durations
            mean = 60 * (
                ctx.conn.execute(
                    select(func.avg(Service.default_service_min)).where(Service.site_id == site_id)
                ).scalar()
                or 10
            )
        service_s = float(mean)
        counter_events = [
            (c, t, at)
            for c, t, at in ctx.conn.execute(
                select(CE.c.counter_id, CE.c.type, CE.c.at)
                .where(CE.c.site_id == site_id, CE.c.at >= scope.start, CE.c.at < scope.end)
                .order_by(CE.c.at, CE.c.id)
            )
        ]
        staffed = staffed_seconds(counter_events, scope.start, scope.end, scope.timezone)
        weekdays_in_range: dict[int, int] = defaultdict(int)
        for day in days_in(scope.first, scope.last):
            weekdays_in_range[day.weekday()] += 1
        present: dict[tuple[int, int], float] = defaultdict(float)
        for (day, hour), secs in staffed.items():
            present[(day.weekday(), hour)] += secs / 3600.0
        slots = {(wd, h) for wd, hs in open_hours.items() for h in hs} | set(arrivals)
        for wd, h in sorted(slots):
            n_days = days_per_weekday.get(wd, 0)
            rate = arrivals.get((wd, h), 0) / n_days if n_days else 0.0
            needed = erlang.counters_needed(rate, service_s, target, within_s)
            here = present.get((wd, h), 0.0) / weekdays_in_range[wd] if weekdays_in_range[wd] else 0
            rows.append(
                {
                    "site": names.site(site_id),
                    "weekday": wd,
                    "day": tr(WEEKDAYS[wd]),
                    "hour": h,
                    "arrivals_per_hour": round(rate, 2),
                    "service_min": round(service_s / 60, 1),
                    "load": round(rate * service_s / 3600, 2),
                    "needed": needed,
                    "present": round(here, 2),
                    "gap": round(max(0.0, needed - here), 2),
                }
            )
    return [table("staffing", "hours", rows)]
