"""Reading a report request (query string) into a kind, a period and options.

Shared by the API and the pages, so both accept the same parameters and refuse the same
mistakes with the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from ..i18n import N_, TIMEZONE
from ..models import utcnow
from ..queue.rules import service_day
from .periods import PeriodError, check_range, parse_day, parse_month
from .schema import KINDS, ReportError

FORMATS = ("json", "csv", "xlsx")
DEFAULT_DAYS = 28  # four whole weeks: every weekday counts the same


def yesterday(timezone: str = TIMEZONE) -> date:
    return service_day(utcnow(), timezone) - timedelta(days=1)


def kind(value: str) -> str:
    if value not in KINDS:
        raise ReportError(
            "bad_kind",
            N_("no report '%(kind)s': one of %(kinds)s"),
            kind=value,
            kinds=", ".join(KINDS),
        )
    return value


def output_format(value: str | None) -> str:
    value = value or "json"
    if value not in FORMATS:
        raise ReportError(
            "bad_format", N_("format must be one of %(formats)s"), formats=", ".join(FORMATS)
        )
    return value


def period(args: Mapping[str, str], default_days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """`month=YYYY-MM`, or `from`/`to` (either may be left out: four weeks to yesterday).
    A month goes before from and to, but those are still checked: a wrong parameter is
    refused even where another one makes it unused."""
    try:
        for name in ("from", "to"):
            if args.get(name):
                parse_day(args[name])
        if args.get("month"):
            return parse_month(args["month"])
        last = parse_day(args["to"]) if args.get("to") else yesterday()
        first = (
            parse_day(args["from"]) if args.get("from") else last - timedelta(days=default_days - 1)
        )
        check_range(first, last)
    except PeriodError as exc:
        raise ReportError("bad_date", exc.template, **exc.params) from None
    return first, last


def options(args: Mapping[str, str]) -> dict[str, Any]:
    """The staffing target: `target` (share, default 0.8) within `within` minutes (15)."""
    try:
        target = float(args.get("target") or 0.8)
        within = float(args.get("within") or 15)
    except ValueError:
        raise ReportError("bad_target", N_("target and within must be numbers")) from None
    if not 0 < target < 1 or not 0 < within <= 24 * 60:
        raise ReportError("bad_target", N_("target must be between 0 and 1, within in minutes"))
    return {"target": target, "within_min": within}
