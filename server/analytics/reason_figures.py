"""One centre's month of visits split by visit reason: every such figure that any report
shows, protected together.

The reasons report (groups, reasons, groups by language, groups by day), the monthly
indicators (visits and visits served by group) and the referrals to the centre's own
services (by the reason group they go to) split the same visits by reason, and other
reports publish their totals for the same centre and month: the visits of each day and
of each language, of each service, the visits each service finished, the referrals made.
All of it goes into one `suppression.protect`, so every report shows the same hidden
cells and none can be worked out from another.

Visits by service and reason are never shown, but they tie the figures: a service that
covers only a few reasons publishes their sum (the services report), and the routing
makes the other cells of that service known zeros. They enter as `unseen` cells (the
reasons a service covers, and any that a transfer brought to it), so a hidden count that
"social work minus its other reasons" would give back is protected too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from .. import i18n
from ..models import ServiceReason
from ..queue.rules import Status
from . import privacy, suppression
from .measures import count_by
from .periods import days_in
from .scope import Ctx, T

Key = tuple[Any, ...]


@dataclass(frozen=True)
class ReasonFigures:
    """The protected figures, by kind: `visits`/`served`/`referred` (group), `reason`
    (code), `language` (group, lang), `day` (day, group); and the rows each table has."""

    groups: tuple[str, ...]
    reasons: tuple[str, ...]
    languages: tuple[str, ...]
    days: tuple[date, ...]
    figures: dict[Key, int | str]
    total: int  # every visit of the month: other reports publish it anyway

    def __call__(self, kind: str, *key: Any) -> int | str:
        return self.figures[(kind, *key)]


def _rows_of(ctx: Ctx, found: list[Any], referred: dict[str, int]) -> tuple[list[str], ...]:
    """Every group, reason and language of the catalog (zeros included), then any other
    code the visits carry, in the order the reports list them."""
    names = ctx.names
    codes = {code for code, *_ in found}
    active = names.active
    parents = {names.group(c) for c in active if names.group(c) != c}
    groups = {c for c in active if names.group(c) == c} | {names.group(c) for c in codes}
    groups |= set(referred)
    reasons = {c for c in active if c not in parents} | codes
    langs = list(i18n.LANGUAGES) + sorted({lang for _, lang, *_ in found} - set(i18n.LANGUAGES))
    return (
        sorted(groups, key=lambda c: (names.reason_order(c), c)),
        sorted(reasons, key=lambda c: (names.reason_order(c), c)),
        langs,
    )


def _tally(ctx: Ctx, found: list[Any]) -> dict[Key, int]:
    """The month's visits counted every way a figure or a published total needs."""
    counts: dict[Key, int] = defaultdict(int)
    for code, lang, day, service, status, n in found:
        g = ctx.names.group(code)
        done = n if status == Status.DONE else 0
        for key, value in (
            (("reason", code), n), (("language", g, lang), n), (("day", day, g), n),
            (("service", service, g), n), (("service_served", service, g), done),
            (("lang_total", lang), n), (("day_total", day), n), (("service_total", service), n),
            (("service_served_total", service), done), (("served", g), done),
        ):  # fmt: skip
            counts[key] += value
    return counts


def _small(ctx: Ctx, values: dict[Key, int]) -> set[Key]:
    """The figures hidden for what they are: a sensitive reason's below the threshold,
    zeros too ("x" must not tell a day with such a visit from a day without), and any
    other reason's from 1 to the threshold when crossed with a language or a day."""
    minimum = ctx.minimum
    if minimum <= 1:
        return set()
    group_at = {"visits": 1, "served": 1, "referred": 1, "reason": 1, "language": 1, "day": 2}
    return {
        key
        for key, value in values.items()
        if (value < minimum and ctx.names.sensitive(key[group_at[key[0]]]))
        or (key[0] in ("language", "day") and 0 < value < minimum)
    }


def reason_figures(ctx: Ctx, referrals: dict[tuple[bool, str], int]) -> ReasonFigures:
    """The protected figures of the context's one centre and whole month; `referrals` are
    the month's, as `measures.referral_counts` gives them (the internal ones go to a group)."""
    names = ctx.names
    referred = {dest: n for (inside, dest), n in referrals.items() if inside}
    service = ctx.reported(T.c.service_id)  # a private service is counted as its public one
    found = count_by(ctx, T.c.reason_code, T.c.lang, T.c.service_day, service, T.c.status)
    groups, reasons, langs = _rows_of(ctx, found, referred)
    days = days_in(ctx.scope.first, ctx.scope.last)
    services = ctx.scope.reported_ids
    counts = _tally(ctx, found)
    in_group = {g: [r for r in reasons if names.group(r) == g] for g in groups}
    values: dict[Key, int] = {}  # the order is the order partners are picked in on a tie
    values.update({("visits", g): sum(counts[("reason", r)] for r in in_group[g]) for g in groups})
    values.update({("reason", r): counts[("reason", r)] for r in reasons})
    values.update({("language", g, lang): counts[("language", g, lang)]
                   for g in groups for lang in langs})  # fmt: skip
    values.update({("day", d, g): counts[("day", d, g)] for d in days for g in groups})
    values.update({("served", g): counts[("served", g)] for g in groups})
    values.update({("referred", g): referred.get(g, 0) for g in groups})
    fixed: dict[Key, int] = {  # what other reports publish for the same centre and month
        ("all",): sum(values[("visits", g)] for g in groups),
        ("all_served",): sum(values[("served", g)] for g in groups),
        ("all_referred",): sum(referred.values()),
        **{("lang_total", lang): counts[("lang_total", lang)] for lang in langs},
        **{("day_total", d): counts[("day_total", d)] for d in days},
        **{(k, s): counts[(k, s)] for s in services
           for k in ("service_total", "service_served_total")},
    }  # fmt: skip
    as_reported = ctx.scope.reported
    routed = {(as_reported.get(s, s), names.group(code)) for s, code in ctx.rows(
        select(ServiceReason.service_id, ServiceReason.reason_code)
        .where(ServiceReason.service_id.in_(ctx.scope.service_ids))
    )}  # fmt: skip
    unseen = {  # what a service's visits may hold: its reasons, and any a transfer brought
        (kind, s, g): counts[(kind, s, g)]
        for kind in ("service", "service_served")
        for s in services
        for g in groups
        if (s, g) in routed or counts[(kind, s, g)]
    }
    sums: list[suppression.Sum] = [
        (("all",), [("visits", g) for g in groups]),
        (("all_served",), [("served", g) for g in groups]),
        (("all_referred",), [("referred", g) for g in groups]),
    ]
    for g in groups:
        sums.append((("visits", g), [("reason", r) for r in in_group[g]]))
        sums.append((("visits", g), [("language", g, lang) for lang in langs]))
        sums.append((("visits", g), [("day", d, g) for d in days]))
        for kind, total in (("service", "visits"), ("service_served", "served")):
            sums.append(((total, g), [(kind, s, g) for s in services if (kind, s, g) in unseen]))
    sums += [(("lang_total", lang), [("language", g, lang) for g in groups]) for lang in langs]
    sums += [(("day_total", d), [("day", d, g) for g in groups]) for d in days]
    for kind, total in (("service", "service_total"), ("service_served", "service_served_total")):
        sums += [((total, s), [(kind, s, g) for g in groups if (kind, s, g) in unseen])
                 for s in services]  # fmt: skip
    sums = [(total, parts) for total, parts in sums if parts]  # nothing to tie otherwise
    hidden = suppression.protect(
        {**values, **fixed, **unseen}, sums, _small(ctx, values), ctx.minimum,
        fixed=fixed, unseen=unseen,
    )  # fmt: skip
    return ReasonFigures(
        tuple(groups),
        tuple(reasons),
        tuple(langs),
        tuple(days),
        {key: privacy.shown(value, key in hidden) for key, value in values.items()},
        fixed[("all",)],
    )
