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
    group_counts,
    mask_sensitive,
    rates_by_site,
    referral_rows,
    service_by,
    service_fields,
    wait_fields,
    waits_by,
    waits_by_site_and_all,
)
from .periods import week_start
from .schema import OUTCOME_LABELS, PRIORITY_LABELS, WEEKDAYS, Table
from .scope import Ctx, E, T, share, table
from .staffing import staffing_report


def _reasons(ctx: Ctx) -> list[Table]:
    names = ctx.names
    by_reason = count_by(ctx, T.c.reason_code)
    total = sum(n for _, n in by_reason)
    groups = group_counts(ctx, by_reason)
    group_rows = []
    for code in sorted(groups, key=names.reason_order):
        visits = mask_sensitive(ctx, code, groups[code])
        group_rows.append(
            {
                "group": code,
                "label": names.reason_label(code),
                "visits": visits,
                "share": None if privacy.is_masked(visits) else share(groups[code], total),
            }
        )
    reason_rows = [
        {
            "group": names.group(code),
            "reason": code,
            "label": names.reason_label(code),
            "visits": mask_sensitive(ctx, code, n),
        }
        for code, n in sorted(by_reason, key=lambda r: names.reason_order(r[0]))
    ]
    by_lang: dict[tuple[str, str], int] = defaultdict(int)
    for code, lang, n in count_by(ctx, T.c.reason_code, T.c.lang):
        by_lang[(names.group(code), lang)] += n
    lang_rows = privacy.mask_rows(
        [
            {
                "group": g,
                "label": names.reason_label(g),
                "lang": lang,
                "language": names.language_label(lang),
                "visits": n,
            }
            for (g, lang), n in sorted(
                by_lang.items(), key=lambda kv: (names.reason_order(kv[0][0]), -kv[1])
            )
        ],
        ["visits"],
        ctx.minimum,
    )
    by_day: dict[tuple[date, str], int] = defaultdict(int)
    for code, day, n in count_by(ctx, T.c.reason_code, T.c.service_day):
        by_day[(day, names.group(code))] += n
    day_rows = privacy.mask_rows(
        [
            {"day": day, "group": g, "label": names.reason_label(g), "visits": n}
            for (day, g), n in sorted(
                by_day.items(), key=lambda kv: (kv[0][0], names.reason_order(kv[0][1]))
            )
        ],
        ["visits"],
        ctx.minimum,
    )
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
        for sid, n in sorted(count_by(ctx, T.c.service_id))
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
    ending_rows = [
        {"ending": k, "label": tr(OUTCOME_LABELS[k]), "visits": n, "share": share(n, total)}
        for k, n in endings.items()
        if n
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
        table("outcomes", "referrals", referral_rows(ctx)),
        table("outcomes", "rates", rate_rows),
    ]


def _indicators(ctx: Ctx) -> list[Table]:
    names, tr = ctx.names, ctx.names.tr
    found = count_by(ctx, T.c.site_id, T.c.reason_code, T.c.status)  # one pass for three tables
    visits = group_counts(ctx, [(code, n) for _, code, _, n in found])
    served = group_counts(ctx, [(code, n) for _, code, st, n in found if st == Status.DONE])
    group_rows = [
        {
            "group": g,
            "label": names.reason_label(g),
            "visits": mask_sensitive(ctx, g, visits[g]),
            "served": mask_sensitive(ctx, g, served.get(g, 0)),
        }
        for g in sorted(visits, key=names.reason_order)
    ]
    langs = sorted(count_by(ctx, T.c.lang), key=lambda r: (-r[1], r[0]))
    lang_rows = [
        {"lang": lang, "label": names.language_label(lang), "visits": n} for lang, n in langs
    ]
    referrals = referral_rows(ctx)
    waits, overall = waits_by_site_and_all(ctx)
    wait_rows = [
        {"site": names.site(s), "site_label": names.site_label(s), **wait_fields(waits.get(s))}
        for s in ctx.scope.site_ids
    ]
    w = wait_fields(overall)
    rates = rates_by_site(ctx, [(site, st, n) for site, _, st, n in found])
    total = sum(r["visits"] for r in rates.values())
    no_show = sum(r["no_show"] for r in rates.values())
    left = sum(r["left"] for r in rates.values())
    n_referred = sum(r["visits"] for r in referrals if isinstance(r["visits"], int))
    figures = [
        ("visits", N_("Visits"), total),
        ("served", N_("Visits served (finished)"), sum(served.values())),
        ("referred", N_("Referrals made"), n_referred),
        ("languages", N_("Languages served"), len(lang_rows)),
        ("wait_median_s", N_("Median wait (s)"), w["wait_median_s"]),
        ("wait_p90_s", N_("90th percentile wait (s)"), w["wait_p90_s"]),
        ("within_15_min", N_("Called within 15 min"), w["within_15_min"]),
        ("no_show_rate", N_("No-show rate"), share(no_show, total)),
        ("left_rate", N_("Left before service rate"), share(left, total)),
    ]
    figure_rows = [{"indicator": k, "label": tr(label), "value": v} for k, label, v in figures]
    return [
        table("indicators", "figures", figure_rows),
        table("indicators", "people_by_group", group_rows),
        table("indicators", "referrals", referrals),
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
}
