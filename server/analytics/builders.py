"""The reports, one builder each: a context in, the report's tables out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select

from ..i18n import N_
from ..queue.rules import OPEN_STATUSES, EventType, Outcome, Priority, Status
from . import privacy
from .measures import (
    arrivals_by_hour,
    count_by,
    rates_by_site,
    referral_counts,
    referral_rows,
    service_by,
    service_fields,
    wait_fields,
    waits_by,
    waits_by_site_and_all,
)
from .periods import week_start
from .reason_figures import ReasonFigures, reason_figures
from .schema import OUTCOME_LABELS, PRIORITY_LABELS, WEEKDAYS, Table
from .scope import Ctx, E, T, share, table
from .staffing import staffing_report
from .unmet_demand import needing_counts, unmet_demand_report

WITHHELD = N_(
    "Figures by visit reason are shown for one centre and one whole calendar month at a "
    "time, so that small counts cannot be worked out by comparing overlapping periods or "
    "several centres."
)


def _published(ctx: Ctx) -> bool:
    scope = ctx.scope
    return privacy.reason_split_published(scope.site_ids, scope.first, scope.last)


def _split(ctx: Ctx, referred: dict[tuple[bool, str], int]) -> ReasonFigures | None:
    """The protected figures by reason, when the report's scope may show them."""
    return reason_figures(ctx, referred) if _published(ctx) else None


def _reasons(ctx: Ctx) -> list[Table]:
    names = ctx.names
    if not _published(ctx):
        tables = ("groups", "reasons", "groups_by_language", "groups_by_day")
        return [table("reasons", name, [], WITHHELD) for name in tables]
    split = reason_figures(ctx, referral_counts(ctx))
    group_rows = []
    for g in split.groups:
        visits = split("visits", g)
        group_rows.append(
            {
                "group": g,
                "label": names.reason_label(g),
                "visits": visits,
                "share": None if privacy.is_hidden(visits) else share(visits, split.total),
            }
        )
    reason_rows = [
        {"group": names.group(r), "reason": r, "label": names.reason_label(r),
         "visits": split("reason", r)}
        for r in split.reasons
    ]  # fmt: skip
    lang_rows = [
        {"group": g, "label": names.reason_label(g), "lang": lang,
         "language": names.language_label(lang), "visits": split("language", g, lang)}
        for g in split.groups for lang in split.languages
    ]  # fmt: skip
    day_rows = [
        {"day": d, "group": g, "label": names.reason_label(g), "visits": split("day", d, g)}
        for d in split.days for g in split.groups
    ]  # fmt: skip
    return [
        table("reasons", "groups", group_rows),
        table("reasons", "reasons", reason_rows),
        table("reasons", "groups_by_language", lang_rows),
        table("reasons", "groups_by_day", day_rows),
    ]


def _services(ctx: Ctx) -> list[Table]:
    names, tr = ctx.names, ctx.names.tr
    service_rows = [
        {
            "site": names.site(names.services[sid][0]),
            "service": names.service(sid),
            "label": names.service_label(sid),
            "visits": n,
        }
        for sid, n in sorted(count_by(ctx, ctx.reported(T.c.service_id)))
    ]
    by_priority = dict(count_by(ctx, T.c.priority))
    total = sum(by_priority.values())
    priority_rows = [
        {
            "priority": p.value,
            "label": tr(PRIORITY_LABELS[p]),
            "visits": by_priority[p],
            "share": share(by_priority[p], total),
        }
        for p in Priority
        if by_priority.get(p)
    ]
    per_day = count_by(ctx, T.c.service_day, T.c.site_id)
    weekly: dict[tuple[date, int], int] = defaultdict(int)
    monthly: dict[tuple[str, int], int] = defaultdict(int)
    for day, site_id, n in per_day:
        weekly[(week_start(day), site_id)] += n
        monthly[(day.strftime("%Y-%m"), site_id)] += n
    week_rows = [
        {"week": w, "site": names.site(s), "visits": n} for (w, s), n in sorted(weekly.items())
    ]
    month_rows = [
        {"month": m, "site": names.site(s), "visits": n} for (m, s), n in sorted(monthly.items())
    ]
    rates = rates_by_site(ctx)
    waits = {key[0]: row for key, row in waits_by(ctx, ["site_id"]).items()}
    served = service_by(ctx, ["site_id"])
    site_rows = []
    for site_id in ctx.scope.site_ids:
        r = rates.get(site_id, {"visits": 0, "no_show": 0, "left": 0})
        w = wait_fields(waits.get(site_id))
        site_rows.append(
            {
                "site": names.site(site_id),
                "site_label": names.site_label(site_id),
                "visits": r["visits"],
                "served": service_fields(served.get((site_id,)))["served"],
                "wait_median_s": w["wait_median_s"],
                "wait_p90_s": w["wait_p90_s"],
                "no_show_rate": share(r["no_show"], r["visits"]),
                "left_rate": share(r["left"], r["visits"]),
            }
        )
    return [
        table("services", "by_service", service_rows),
        table("services", "by_priority", priority_rows),
        table("services", "weekly", week_rows),
        table("services", "monthly", month_rows),
        table("services", "sites", site_rows),
    ]


def _languages(ctx: Ctx) -> list[Table]:
    found = sorted(count_by(ctx, T.c.lang), key=lambda r: (-r[1], r[0]))
    total = sum(n for _, n in found)
    rows = [
        {
            "lang": lang,
            "label": ctx.names.language_label(lang),
            "visits": n,
            "share": share(n, total),
        }
        for lang, n in found
    ]
    return [table("languages", "languages", rows)]


def _heatmap(ctx: Ctx) -> list[Table]:
    tr = ctx.names.tr
    rows = [
        {"weekday": wd, "day": tr(WEEKDAYS[wd]), "hour": h, "visits": n}
        for wd, h, n in arrivals_by_hour(ctx)
    ]
    return [table("heatmap", "arrivals", rows)]


def _waits(ctx: Ctx) -> list[Table]:
    names = ctx.names
    waits = waits_by(ctx, ["service_id"])
    served = service_by(ctx, ["service_id"])
    service_ids = sorted({k[0] for k in waits} | {k[0] for k in served})
    by_service = [
        {
            "site": names.site(names.services[sid][0]),
            "service": names.service(sid),
            "label": names.service_label(sid),
            **wait_fields(waits.get((sid,))),
            **service_fields(served.get((sid,))),
        }
        for sid in service_ids
    ]
    hourly_waits = waits_by(ctx, ["hour"])
    hourly_served = service_by(ctx, ["hour"])
    hours = sorted({k[0] for k in hourly_waits} | {k[0] for k in hourly_served})
    by_hour = [
        {
            "hour": h,
            **wait_fields(hourly_waits.get((h,))),
            **service_fields(hourly_served.get((h,))),
        }
        for h in hours
    ]
    return [table("waits", "by_service", by_service), table("waits", "by_hour", by_hour)]


def _outcomes(ctx: Ctx) -> list[Table]:
    tr, names = ctx.names.tr, ctx.names
    referred = referral_counts(ctx)
    statuses = dict(count_by(ctx, T.c.status))
    total = sum(statuses.values())
    outcome = E.c.payload["outcome"].as_string()
    finished = dict(
        ctx.rows(
            select(outcome, func.count())
            .join_from(E, T, T.c.id == E.c.ticket_id)
            .where(*ctx.events(EventType.FINISHED))
            .group_by(outcome)
        )
    )
    why = E.c.payload["why"].as_string()
    cancelled = dict(
        ctx.rows(
            select(why, func.count())
            .join_from(E, T, T.c.id == E.c.ticket_id)
            .where(*ctx.events(EventType.CANCELLED))
            .group_by(why)
        )
    )
    endings = {
        **{o.value: finished.get(o.value, 0) for o in Outcome},
        "no_show": statuses.get(Status.NO_SHOW, 0),
        "left": cancelled.get("left", 0),
        "cancelled": sum(n for w, n in cancelled.items() if w != "left"),
        "closed": statuses.get(Status.CLOSED, 0),
        "open": sum(statuses.get(s, 0) for s in OPEN_STATUSES),
    }
    ending_rows = [  # every ending, zeros too: referrals to the groups add up to one
        {"ending": k, "label": tr(OUTCOME_LABELS[k]), "visits": n, "share": share(n, total)}
        for k, n in endings.items()
    ]
    rates = rates_by_site(ctx)
    rate_rows = []
    for site_id in ctx.scope.site_ids:
        r = rates.get(site_id, {"visits": 0, "no_show": 0, "left": 0})
        rate_rows.append(
            {
                "site": names.site(site_id),
                "site_label": names.site_label(site_id),
                **r,
                "no_show_rate": share(r["no_show"], r["visits"]),
                "left_rate": share(r["left"], r["visits"]),
            }
        )
    return [
        table("outcomes", "endings", ending_rows),
        _referrals("outcomes", ctx, referred, _split(ctx, referred)),
        table("outcomes", "rates", rate_rows),
    ]


def _referrals(
    kind: str, ctx: Ctx, counts: dict[tuple[bool, str], int], split: ReasonFigures | None
) -> Table:
    """Referrals by destination: the internal ones by reason group only where figures by
    reason are shown (the same protected counts as every other table of the month)."""
    note = None if split is not None else WITHHELD
    return table(kind, "referrals", referral_rows(ctx, counts, split), note)


def _indicators(ctx: Ctx) -> list[Table]:
    names, tr = ctx.names, ctx.names.tr
    found = count_by(ctx, T.c.site_id, T.c.status)
    counts = referral_counts(ctx)
    split = _split(ctx, counts)
    group_rows = [
        {"group": g, "label": names.reason_label(g), "visits": split("visits", g),
         "served": split("served", g)}
        for g in (split.groups if split is not None else ())
    ]  # fmt: skip
    langs = sorted(count_by(ctx, T.c.lang), key=lambda r: (-r[1], r[0]))
    lang_rows = [
        {"lang": lang, "label": names.language_label(lang), "visits": n} for lang, n in langs
    ]
    referrals = _referrals("indicators", ctx, counts, split)
    waits, overall = waits_by_site_and_all(ctx)
    wait_rows = [
        {"site": names.site(s), "site_label": names.site_label(s), **wait_fields(waits.get(s))}
        for s in ctx.scope.site_ids
    ]
    w = wait_fields(overall)
    rates = rates_by_site(ctx, found)
    total = sum(r["visits"] for r in rates.values())
    no_show = sum(r["no_show"] for r in rates.values())
    left = sum(r["left"] for r in rates.values())
    served = sum(n for _, st, n in found if st == Status.DONE)
    needing, without_mediator = needing_counts(ctx)
    figures = [
        ("visits", N_("Visits"), total),
        ("served", N_("Visits served (finished)"), served),
        ("referred", N_("Referrals made"), sum(counts.values())),
        ("languages", N_("Languages served"), len(lang_rows)),
        ("wait_median_s", N_("Median wait (s)"), w["wait_median_s"]),
        ("wait_p90_s", N_("90th percentile wait (s)"), w["wait_p90_s"]),
        ("within_15_min", N_("Called within 15 min"), w["within_15_min"]),
        ("no_show_rate", N_("No-show rate"), share(no_show, total)),
        ("left_rate", N_("Left before service rate"), share(left, total)),
        ("needed_mediator", N_("Visits that needed a mediator or interpreter"), needing),
        ("without_mediator", N_("Served without the mediator they needed"), without_mediator),
    ]
    figure_rows = [{"indicator": k, "label": tr(label), "value": v} for k, label, v in figures]
    return [
        table("indicators", "figures", figure_rows),
        table("indicators", "people_by_group", group_rows, None if split else WITHHELD),
        referrals,
        table("indicators", "languages", lang_rows),
        table("indicators", "waits", wait_rows),
    ]


BUILDERS: dict[str, Callable[[Ctx], list[Table]]] = {
    "reasons": _reasons,
    "services": _services,
    "languages": _languages,
    "heatmap": _heatmap,
    "waits": _waits,
    "outcomes": _outcomes,
    "indicators": _indicators,
    "staffing": staffing_report,
    "unmet-demand": unmet_demand_report,
}
