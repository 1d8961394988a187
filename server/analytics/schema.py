"""What each report holds: its tables and their columns, the labels of codes, its errors.

The API's OpenAPI schemas for the reports are made from SPECS too, so a column added here
is documented there. Labels are English source text, translated where they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..i18n import N_
from ..queue.rules import Outcome, Priority

KINDS = (
    "reasons",
    "services",
    "languages",
    "heatmap",
    "waits",
    "outcomes",
    "indicators",
    "staffing",
    "unmet-demand",
)
WITHIN_S = 15 * 60  # "called within 15 minutes", the figure coordinators ask for
WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
OUTCOME_LABELS = {
    Outcome.SERVED: N_("Served here"),
    Outcome.REFERRED_INTERNAL: N_("Referred to an internal structure"),
    Outcome.REFERRED_EXTERNAL: N_("Referred to an external agency"),
    Outcome.APPOINTMENT: N_("Appointment booked"),
    "no_show": N_("No-show"),
    "left": N_("Left before being served"),
    "cancelled": N_("Cancelled by mistake"),
    "closed": N_("Still open at day end"),
    "open": N_("Still open"),
}
AGENCY_LABELS = {
    "tax_office": N_("Tax office (DOY)"),
    "efka": N_("Social security (e-EFKA)"),
    "dypa": N_("Employment service (DYPA)"),
    "asylum": N_("Asylum Service"),
    "migration_ministry": N_("Ministry of Migration"),
    "hospital": N_("Hospital"),
    "other": N_("Other agency"),
}
PRIORITY_LABELS = {
    Priority.NONE: N_("No priority"),
    Priority.DISABILITY: N_("Disability"),
    Priority.ELDERLY: N_("Elderly"),
    Priority.PREGNANCY: N_("Pregnancy"),
    Priority.WITH_INFANT: N_("With an infant"),
}


class ReportError(ValueError):
    """A report that cannot be made as asked: the API answers 400 with `code`. The message
    is `template % params`, English; pages show `gettext(template) % params`."""

    def __init__(self, code: str, template: str, **params: object) -> None:
        self.message = template % params
        super().__init__(self.message)
        self.code, self.template, self.params = code, template, params


# --- the shape of a report ----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # English source text; translated by whoever shows it
    type: str  # text | date | count | number | seconds | rate
    # a code beside its label ('referred_internal', 'tax_office'): exports keep it for
    # the programs that read them, the pages show the label to people instead
    code: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    # why rows are withheld (English source text, translated where shown); see privacy
    note: str | None = None


@dataclass(frozen=True)
class Report:
    kind: str
    sites: tuple[str, ...]
    first: date
    last: date
    timezone: str
    small_count: int
    tables: tuple[Table, ...]
    parameters: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def _c(key: str, label: str, type_: str) -> Column:
    return Column(key, label, type_)


def _code(key: str, label: str, type_: str = "text") -> Column:
    return Column(key, label, type_, code=True)


_SITE = _c("site", N_("Centre"), "text")
_SITE_LABEL = _c("site_label", N_("Centre name"), "text")
_LABEL = _c("label", N_("Label"), "text")
_VISITS = _c("visits", N_("Visits"), "count")
_SHARE = _c("share", N_("Share"), "rate")
_GROUP = _code("group", N_("Reason group"))
_LANG = _code("lang", N_("Language code"))
_WAIT = (
    _c("called", N_("Called"), "count"),
    _c("wait_median_s", N_("Median wait (s)"), "seconds"),
    _c("wait_p90_s", N_("90th percentile wait (s)"), "seconds"),
)
_SERVICE_TIME = (
    _c("served", N_("Served"), "count"),
    _c("service_median_s", N_("Median service time (s)"), "seconds"),
    _c("service_p90_s", N_("90th percentile service time (s)"), "seconds"),
)
_WITHIN = _c("within_15_min", N_("Called within 15 min"), "rate")
_REFERRAL = (
    _code("kind", N_("Referral")),
    _code("destination", N_("Destination")),
    _LABEL,
    _VISITS,
)

# kind -> tables as (name, title, columns): the API's schemas are made from this too
SPECS: dict[str, tuple[tuple[str, str, tuple[Column, ...]], ...]] = {
    "reasons": (
        ("groups", N_("Visits by reason group"), (_GROUP, _LABEL, _VISITS, _SHARE)),
        (
            "reasons",
            N_("Visits by reason"),
            (_GROUP, _code("reason", N_("Reason")), _LABEL, _VISITS),
        ),
        (
            "groups_by_language",
            N_("Reason groups by language"),
            (_GROUP, _LABEL, _LANG, _c("language", N_("Language"), "text"), _VISITS),
        ),
        (
            "groups_by_day",
            N_("Reason groups by day"),
            (_c("day", N_("Day"), "date"), _GROUP, _LABEL, _VISITS),
        ),
    ),
    "services": (
        (
            "by_service",
            N_("Visits by service"),
            (_SITE, _code("service", N_("Service")), _LABEL, _VISITS),
        ),
        (
            "by_priority",
            N_("Visits by priority kind"),
            (_code("priority", N_("Priority")), _LABEL, _VISITS, _SHARE),
        ),
        ("weekly", N_("Week by week"), (_c("week", N_("Week of"), "date"), _SITE, _VISITS)),
        ("monthly", N_("Month by month"), (_c("month", N_("Month"), "text"), _SITE, _VISITS)),
        (
            "sites",
            N_("Centres side by side"),
            (
                _SITE,
                _SITE_LABEL,
                _VISITS,
                _c("served", N_("Served"), "count"),
                _WAIT[1],
                _WAIT[2],
                _c("no_show_rate", N_("No-show rate"), "rate"),
                _c("left_rate", N_("Left before service rate"), "rate"),
            ),
        ),
    ),
    "languages": (("languages", N_("Visits by language"), (_LANG, _LABEL, _VISITS, _SHARE)),),
    "heatmap": (
        (
            "arrivals",
            N_("Arrivals by weekday and hour"),
            (
                _code("weekday", N_("Weekday (0 = Monday)"), "number"),
                _c("day", N_("Weekday"), "text"),
                _c("hour", N_("Hour"), "number"),
                _VISITS,
            ),
        ),
    ),
    "waits": (
        (
            "by_service",
            N_("Waiting and service times by service"),
            (_SITE, _code("service", N_("Service")), _LABEL, *_WAIT, _WITHIN, *_SERVICE_TIME),
        ),
        (
            "by_hour",
            N_("Waiting and service times by hour of arrival"),
            (_c("hour", N_("Hour"), "number"), *_WAIT, _WITHIN, *_SERVICE_TIME),
        ),
    ),
    "outcomes": (
        (
            "endings",
            N_("How visits ended"),
            (_code("ending", N_("Ending")), _LABEL, _VISITS, _SHARE),
        ),
        ("referrals", N_("Referrals by destination"), _REFERRAL),
        (
            "rates",
            N_("No-show and left-before-service rates"),
            (
                _SITE,
                _SITE_LABEL,
                _VISITS,
                _c("no_show", N_("No-show"), "count"),
                _c("no_show_rate", N_("No-show rate"), "rate"),
                _c("left", N_("Left before service"), "count"),
                _c("left_rate", N_("Left before service rate"), "rate"),
            ),
        ),
    ),
    "indicators": (
        (
            "figures",
            N_("Key figures"),
            (_code("indicator", N_("Indicator")), _LABEL, _c("value", N_("Value"), "number")),
        ),
        (
            "people_by_group",
            N_("People by reason group"),
            (_GROUP, _LABEL, _VISITS, _c("served", N_("Served"), "count")),
        ),
        ("referrals", N_("Referrals by destination"), _REFERRAL),
        ("languages", N_("Languages served"), (_LANG, _LABEL, _VISITS)),
        ("waits", N_("Waiting times by centre"), (_SITE, _SITE_LABEL, *_WAIT, _WITHIN)),
    ),
    "staffing": (
        (
            "hours",
            N_("Counters needed and present, per hour of the week"),
            (
                _SITE,
                _code("weekday", N_("Weekday (0 = Monday)"), "number"),
                _c("day", N_("Weekday"), "text"),
                _c("hour", N_("Hour"), "number"),
                _c("arrivals_per_hour", N_("Arrivals per hour"), "number"),
                _c("service_min", N_("Mean service time (min)"), "number"),
                _c("load", N_("Load (erlangs)"), "number"),
                _c("needed", N_("Counters needed"), "number"),
                _c("present", N_("Counters present"), "number"),
                _c("gap", N_("Missing counters"), "number"),
            ),
        ),
    ),
    "unmet-demand": (
        (
            "by_language",
            N_("Languages, mediators and interpreters"),
            (
                _LANG,
                _c("language", N_("Language"), "text"),
                _VISITS,
                _WAIT[1],
                _c("needing", N_("Needed a mediator"), "count"),
                _c("with_mediator", N_("A mediator joined"), "count"),
                _c("asked", N_("Counter asked for one"), "count"),
                _c("asked_wait_median_s", N_("Median wait for a mediator (s)"), "seconds"),
                _c("without_mediator", N_("Served without one"), "count"),
                _c("mediators_needed", N_("Mediators needed (busiest hour)"), "number"),
            ),
        ),
        (
            "by_hour",
            N_("Mediators needed per language and hour of the week"),
            (
                _LANG,
                _c("language", N_("Language"), "text"),
                _code("weekday", N_("Weekday (0 = Monday)"), "number"),
                _c("day", N_("Weekday"), "text"),
                _c("hour", N_("Hour"), "number"),
                _c("needing", N_("Needed a mediator"), "count"),
                _c("arrivals_per_hour", N_("Arrivals per hour"), "number"),
                _c("service_min", N_("Mean service time (min)"), "number"),
                _c("mediators_needed", N_("Mediators needed"), "number"),
            ),
        ),
    ),
}
