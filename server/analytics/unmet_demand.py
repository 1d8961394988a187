"""The unmet-demand report: per visitor language, the visits that needed a mediator or an
interpreter, how long they waited for one, those served without one, and how many
mediators the Erlang C model says would have met the centre's target, per hour of the week.

A visit needed a mediator when one was joined to it (`mediator_joined`), when its counter
asked for one (`mediator_requested`), or when staff said at the end that it had none
though it needed one (`finished` with `without_mediator`). Those are a few events per
day; they are read from the log, then folded per language and local hour. The model is
the staffing forecast's (`erlang`), with the mediators as the servers: the needing visits
of a language arrive at random, each holds a mediator for the visit's time at the counter.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from ..queue.rules import EventType
from . import erlang
from .measures import count_by, service_source, wait_fields, waits_by
from .schema import WEEKDAYS, Table
from .scope import Ctx, E, T, seconds, table
from .staffing import service_target

DEFAULT_SERVICE_S = 20 * 60  # a mediated visit, when none of the period was finished


@dataclass
class _Need:
    """What the log says of one visit that needed a mediator."""

    lang: str
    issued_at: datetime
    service_s: float | None
    joined: bool = False
    asked_at: datetime | None = None  # the first request
    answered_s: float | None = None  # from the first request to the join that followed
    without: bool = False


def _needs(ctx: Ctx) -> dict[int, _Need]:
    """The visits of the scope that needed a mediator, by ticket id."""
    without = E.c.payload["without_mediator"].as_boolean()
    mediated = [EventType.MEDIATOR_JOINED, EventType.MEDIATOR_REQUESTED]
    s = ctx.scope
    rows = ctx.rows(
        select(E.c.ticket_id, E.c.type, E.c.at)
        .join_from(E, T, T.c.id == E.c.ticket_id)
        .where(
            E.c.service_id.in_(s.service_ids),
            or_(E.c.type.in_(mediated), (E.c.type == EventType.FINISHED) & without),
            *ctx.visits(),
            E.c.at >= s.start,
        )
        .order_by(E.c.ticket_id, E.c.at, E.c.id)
    )
    steps: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for ticket_id, type_, at in rows:
        steps[ticket_id].append((at, type_))
    if not steps:
        return {}
    began = func.coalesce(T.c.started_at, T.c.called_at)
    tickets = ctx.rows(
        select(T.c.id, T.c.lang, T.c.issued_at, began, T.c.ended_at).where(
            T.c.id.in_(sorted(steps))
        )
    )
    needs = {}
    for ticket_id, lang, issued_at, start, end in tickets:
        need = _Need(lang, issued_at, (end - start).total_seconds() if start and end else None)
        for at, type_ in steps[ticket_id]:
            if type_ == EventType.MEDIATOR_JOINED:
                need.joined = True
                if need.asked_at is not None and need.answered_s is None:
                    need.answered_s = (at - need.asked_at).total_seconds()
            elif type_ == EventType.MEDIATOR_REQUESTED:
                need.asked_at = need.asked_at or at
            else:
                need.without = True
        needs[ticket_id] = need
    return needs


def _service_s(needs: list[_Need], ctx: Ctx) -> float:
    """The mean time a mediated visit holds its mediator: that of the needing visits
    finished in the period, else of every finished visit, else DEFAULT_SERVICE_S."""
    held = [n.service_s for n in needs if n.service_s and n.service_s > 0]
    if held:
        return sum(held) / len(held)
    source = service_source(ctx)
    mean = ctx.conn.execute(select(func.avg(source.c.service_s))).scalar()
    return float(mean) if mean else float(DEFAULT_SERVICE_S)


def unmet_demand_report(ctx: Ctx) -> list[Table]:
    target, within_s = service_target(ctx)
    names, tr, scope = ctx.names, ctx.names.tr, ctx.scope
    zone = ZoneInfo(scope.timezone)
    visits = dict(count_by(ctx, T.c.lang))
    waits = waits_by(ctx, ["lang"])
    needs = list(_needs(ctx).values())
    # the days each weekday of the period had visits: an hour's rate is per such day
    days: dict[int, int] = defaultdict(int)
    for (day,) in ctx.rows(select(T.c.service_day).distinct().where(*ctx.visits())):
        days[day.weekday()] += 1
    by_lang: dict[str, list[_Need]] = defaultdict(list)
    arrivals: dict[tuple[str, int, int], int] = defaultdict(int)
    for need in needs:
        by_lang[need.lang].append(need)
        local = need.issued_at.astimezone(zone)
        arrivals[(need.lang, local.weekday(), local.hour)] += 1

    hour_rows, peak = [], defaultdict(int)
    for (lang, weekday, hour), n in sorted(arrivals.items()):
        service_s = _service_s(by_lang[lang], ctx)
        rate = n / days[weekday] if days[weekday] else float(n)
        needed = erlang.counters_needed(rate, service_s, target, within_s)
        peak[lang] = max(peak[lang], needed)
        hour_rows.append(
            {
                "lang": lang,
                "language": names.language_label(lang),
                "weekday": weekday,
                "day": tr(WEEKDAYS[weekday]),
                "hour": hour,
                "needing": n,
                "arrivals_per_hour": round(rate, 2),
                "service_min": round(service_s / 60, 1),
                "mediators_needed": needed,
            }
        )
    lang_rows = []
    for lang in sorted(set(visits) | set(by_lang), key=lambda x: (-visits.get(x, 0), x)):
        mine = by_lang.get(lang, [])
        answered = [n.answered_s for n in mine if n.answered_s is not None]
        lang_rows.append(
            {
                "lang": lang,
                "language": names.language_label(lang),
                "visits": visits.get(lang, 0),
                "wait_median_s": wait_fields(waits.get((lang,)))["wait_median_s"],
                "needing": len(mine),
                "with_mediator": sum(n.joined for n in mine),
                "asked": sum(n.asked_at is not None for n in mine),
                "asked_wait_median_s": seconds(median(answered)) if answered else None,
                "without_mediator": sum(n.without for n in mine),
                "mediators_needed": peak.get(lang, 0),
            }
        )
    return [
        table("unmet-demand", "by_language", lang_rows),
        table("unmet-demand", "by_hour", hour_rows),
    ]


def needing_counts(ctx: Ctx) -> tuple[int, int]:
    """For the monthly indicators: visits that needed a mediator, and those served
    without one."""
    needs = list(_needs(ctx).values())
    return len(needs), sum(n.without for n in needs)
