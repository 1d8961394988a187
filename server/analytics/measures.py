"""The figures several reports share: counts, waits and service times, rates, referrals.

Each is one grouped query over an index range (tickets by service and day, events by
service, type and time); percentiles come from the counts of each distinct duration
(`sql.distribution`). Figures split by reason are protected in `reason_figures`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select

from ..queue.rules import EXTERNAL_AGENCIES, EventType, Outcome, Status
from .schema import AGENCY_LABELS, WITHIN_S
from .scope import Ctx, E, T, seconds, share
from .sql import (
    Summary,
    distribution,
    epoch,
    local_day,
    local_hour,
    local_seconds,
    summaries,
    summarise,
    weekday_of_day_number,
)

if TYPE_CHECKING:
    from .reason_figures import ReasonFigures


def count_by(ctx: Ctx, *cols: Any, where: tuple[Any, ...] = ()) -> list[Any]:
    return ctx.rows(select(*cols, func.count()).where(*ctx.visits(), *where).group_by(*cols))


def wait_source(ctx: Ctx, by_hour: bool = False) -> Any:
    """Per visit called at least once: site, first queue, language, hour of arrival,
    seconds waited.

    The ticket row keeps its call time until a return or a transfer clears it; for those
    few visits the first `called` event is looked up in the log (by ix_events_ticket), so
    the wait is always until the first call, without grouping every call of the period.
    """
    s = ctx.scope
    moved = select(E.c.ticket_id).where(
        E.c.service_id.in_(s.service_ids),
        E.c.type.in_([EventType.RETURNED, EventType.TRANSFERRED]),
        E.c.at >= s.start,
        E.c.at < s.end + timedelta(days=1),
    )
    logged = E.alias("logged")
    first_logged = (
        select(func.min(logged.c.at))
        .where(logged.c.ticket_id == T.c.id, logged.c.type == EventType.CALLED)
        .scalar_subquery()
    )
    called = case((T.c.id.in_(moved), first_logged), else_=T.c.called_at)
    hour = [local_hour(local_seconds(T.c.issued_at, s.segments)).label("hour")] if by_hour else []
    return (
        select(
            T.c.site_id,
            ctx.reported(T.c.origin_service_id).label("service_id"),
            T.c.lang,
            *hour,
            (epoch(called) - epoch(T.c.issued_at)).label("wait_s"),
        )
        .where(*ctx.visits(), called.is_not(None))
        .subquery()
    )


def service_source(ctx: Ctx, by_hour: bool = False) -> Any:
    """Per finished visit: site, service, hour of arrival, seconds at the counter."""
    began = func.coalesce(T.c.started_at, T.c.called_at)
    arrival = local_seconds(T.c.issued_at, ctx.scope.segments)
    hour = [local_hour(arrival).label("hour")] if by_hour else []
    return (
        select(
            T.c.site_id,
            ctx.reported(T.c.service_id).label("service_id"),
            *hour,
            (epoch(T.c.ended_at) - epoch(began)).label("service_s"),
        )
        .where(*ctx.visits(), T.c.status == Status.DONE, began.is_not(None))
        .subquery()
    )


def waits_by_site_and_all(ctx: Ctx) -> tuple[dict[int, Summary], Summary | None]:
    """Per site and over all sites, from one pass: the sites' distributions add up."""
    rows = ctx.rows(distribution(wait_source(ctx), ["site_id"], "wait_s"))
    merged: dict[Any, int] = defaultdict(int)
    for _site, value, n in rows:
        merged[value] += n
    per_site = {key[0]: found for key, found in summaries(rows, 1, WITHIN_S).items()}
    return per_site, summarise(list(merged.items()), WITHIN_S)


def waits_by(ctx: Ctx, keys: list[str]) -> dict[tuple[Any, ...], Summary]:
    stmt = distribution(wait_source(ctx, "hour" in keys), keys, "wait_s")
    return summaries(ctx.rows(stmt), len(keys), WITHIN_S)


def service_by(ctx: Ctx, keys: list[str]) -> dict[tuple[Any, ...], Summary]:
    stmt = distribution(service_source(ctx, "hour" in keys), keys, "service_s")
    return summaries(ctx.rows(stmt), len(keys))


def wait_fields(found: Summary | None) -> dict[str, Any]:
    if found is None:
        return {"called": 0, "wait_median_s": None, "wait_p90_s": None, "within_15_min": None}
    return {
        "called": int(found.n),
        "wait_median_s": seconds(found.p50),
        "wait_p90_s": seconds(found.p90),
        "within_15_min": share(found.within, found.n),
    }


def service_fields(found: Summary | None) -> dict[str, Any]:
    if found is None:
        return {"served": 0, "service_median_s": None, "service_p90_s": None}
    return {
        "served": int(found.n),
        "service_median_s": seconds(found.p50),
        "service_p90_s": seconds(found.p90),
    }


def rates_by_site(ctx: Ctx, by_status: list[Any] | None = None) -> dict[int, dict[str, int]]:
    """Per site: visits, no-shows (tickets that ended as no-show) and visitors who left.

    `by_status` is (site, status, count) when the caller has already counted them.
    """
    out: dict[int, dict[str, int]] = defaultdict(lambda: {"visits": 0, "no_show": 0, "left": 0})
    if by_status is None:
        by_status = count_by(ctx, T.c.site_id, T.c.status)
    for site_id, status, n in by_status:
        out[site_id]["visits"] += n
        if status == Status.NO_SHOW:
            out[site_id]["no_show"] += n
    why = E.c.payload["why"].as_string()
    left = ctx.rows(
        select(T.c.site_id, func.count())
        .join_from(E, T, T.c.id == E.c.ticket_id)
        .where(*ctx.events(EventType.CANCELLED), why == "left")
        .group_by(T.c.site_id)
    )
    for site_id, n in left:
        out[site_id]["left"] += n
    return out


def referral_counts(ctx: Ctx) -> dict[tuple[bool, str], int]:
    """Referrals made, by (internal?, destination): a reason group or an external agency."""
    outcome = E.c.payload["outcome"].as_string()
    referral = E.c.payload["referral"].as_string()
    found = ctx.rows(
        select(outcome, referral, func.count())
        .join_from(E, T, T.c.id == E.c.ticket_id)
        .where(
            *ctx.events(EventType.FINISHED),
            outcome.in_([Outcome.REFERRED_INTERNAL, Outcome.REFERRED_EXTERNAL]),
        )
        .group_by(outcome, referral)
    )
    counts: dict[tuple[bool, str], int] = defaultdict(int)
    for out, dest, n in found:
        counts[(out == Outcome.REFERRED_INTERNAL, dest or "other")] += n
    return counts


def referral_rows(
    ctx: Ctx, counts: dict[tuple[bool, str], int], internal: ReasonFigures | None
) -> list[dict[str, Any]]:
    """Every external agency (zeros too), then the internal groups with their protected
    counts, or none when figures by reason are withheld (see privacy)."""
    names, tr = ctx.names, ctx.names.tr
    agencies = list(EXTERNAL_AGENCIES) + sorted(
        {dest for inside, dest in counts if not inside} - set(EXTERNAL_AGENCIES)
    )
    rows: list[dict[str, Any]] = []
    if internal is not None:
        rows += [
            {"kind": "internal", "destination": g, "label": names.reason_label(g),
             "visits": internal("referred", g)}
            for g in internal.groups
        ]  # fmt: skip
    rows += [
        {"kind": "external", "destination": dest, "label": tr(AGENCY_LABELS.get(dest, dest)),
         "visits": counts.get((False, dest), 0)}
        for dest in agencies
    ]  # fmt: skip
    return rows


def group_counts(ctx: Ctx, rows: list[Any]) -> dict[str, int]:
    groups: dict[str, int] = defaultdict(int)
    for code, n in rows:
        groups[ctx.names.group(code)] += n
    return groups


def arrivals_by_hour(ctx: Ctx, site_id: int | None = None) -> list[Any]:
    """(weekday, hour, visits) of arrivals, in local time."""
    arrival = local_seconds(T.c.issued_at, ctx.scope.segments)
    weekday = weekday_of_day_number(local_day(arrival))
    hour = local_hour(arrival)
    where = () if site_id is None else (T.c.site_id == site_id,)
    return sorted(count_by(ctx, weekday, hour, where=where))
