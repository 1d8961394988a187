"""The report pages: a period and centre picker, a tab per report, charts beside the tables,
the printable monthly indicators and the staffing forecast. Supervisors and admins only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from babel.numbers import format_decimal, format_percent
from flask import Response, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from server import catalog, i18n
from server.analytics import charts, export, params, privacy
from server.analytics.periods import PeriodError, month_bounds, parse_month
from server.analytics.reports import WEEKDAYS, Report, ReportError, Table, compute
from server.auth import Can
from server.extensions import db
from server.web import i18n_pages, staff_required
from server.web.session import sites_where

TABS = ("reasons", "services", "languages", "heatmap", "waits", "outcomes", "unmet-demand")
COLLAPSE_ROWS = 40  # longer tables start folded, under their chart


def _(message: str, **variables: Any) -> str:
    return i18n_pages.gettext(message, **variables)


def _explained(exc: ReportError | PeriodError) -> str:
    """Why a report cannot be made, in the reader's language."""
    return _(exc.template, **exc.params)


def _site_ids(site: str) -> list[int]:
    """The sites of the page, or 403 when the signed-in person may not see their reports."""
    allowed = sites_where(Can.REPORTS)
    if site == "all":
        if not allowed:
            abort(403)
        return allowed
    found = catalog.current(db()).require_site(site)
    if found.id not in allowed:
        abort(403)
    return [found.id]


def _site_choices() -> list[dict[str, str]]:
    lang = i18n_pages.lang()
    allowed = set(sites_where(Can.REPORTS))
    sites = [
        {"slug": s.slug, "label": i18n.label(s.name, lang)}
        for s in sorted(catalog.current(db()).sites.values(), key=lambda s: s.slug)
        if s.id in allowed
    ]
    return ([{"slug": "all", "label": _("All my centres")}] if len(sites) > 1 else []) + sites


def _compute(kind: str, site_ids: list[int], first: date, last: date, **options: Any) -> Report:
    with db().connect() as conn:
        return compute(
            conn,
            kind,
            site_ids,
            first,
            last,
            lang=i18n_pages.lang(),
            minimum=privacy.threshold(current_app.config.get("REPORTS_MIN_COUNT")),
            **options,
        )


def display(value: Any, type_: str) -> str:
    """A cell as people read it, in the reader's locale: minutes and seconds, percentages,
    decimals with the locale's separator (12,5 in Greek), "–" for nothing."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    locale = i18n_pages.lang()
    if type_ == "seconds":
        seconds = round(value)
        return f"{seconds // 60}:{seconds % 60:02d}"
    if type_ == "rate":
        return format_percent(value, "#,##0.0 %", locale=locale)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return format_decimal(value, "#,##0.##", locale=locale)
    if isinstance(value, int):
        return format_decimal(value, "#,##0", locale=locale)
    return str(value)


def _shown(table: Table) -> dict[str, Any]:
    """A table as people read it: labels, never the codes beside them."""
    columns = [c for c in table.columns if not c.code]
    return {
        "name": table.name,
        "title": _(table.title),
        "columns": [{"label": _(c.label), "num": c.type != "text"} for c in columns],
        "rows": [[display(row[c.key], c.type) for c in columns] for row in table.rows],
        "collapsed": len(table.rows) > COLLAPSE_ROWS,
        "note": _(table.note) if table.note else None,
    }


def last_month() -> tuple[date, date]:
    """The last whole calendar month: figures by visit reason are shown by month."""
    this_month = (params.yesterday() + timedelta(days=1)).replace(day=1)
    return month_bounds(this_month - timedelta(days=1))


def whole_months(report: Report, limit: int = 12) -> list[str]:
    """The calendar months (YYYY-MM) a withheld report's period touches, latest last."""
    months = []
    day = report.first.replace(day=1)
    while day <= report.last:
        months.append(day.strftime("%Y-%m"))
        day = month_bounds(day)[1] + timedelta(days=1)
    return months[-limit:]


def _bars(table: Table, label: str = "label", value: str = "visits") -> Markup:
    title = _(table.title)
    return charts.bars(title, _("Bar chart: %(what)s", what=title),
                       [(str(r[label]), r[value]) for r in table.rows])  # fmt: skip


def _chart(report: Report, table: Table) -> Markup | None:
    """The picture that goes with a table, if any."""
    key = (report.kind, table.name)
    title = _(table.title)
    if key in {("reasons", "groups"), ("languages", "languages"), ("outcomes", "endings"),
               ("outcomes", "referrals"), ("indicators", "people_by_group"),
               ("indicators", "languages"), ("services", "by_priority")}:  # fmt: skip
        return _bars(table)
    if key == ("unmet-demand", "by_language"):
        items = [(str(r["language"]), r["needing"]) for r in table.rows if r["needing"]]
        what = _("Visits that needed a mediator or interpreter")
        return charts.bars(what, _("Bar chart: %(what)s", what=what), items)
    if key == ("services", "by_service"):
        items = [(f"{r['site']} · {r['label']}", r["visits"]) for r in table.rows]
        return charts.bars(title, _("Bar chart: %(what)s", what=title), items)
    if key in {("services", "weekly"), ("services", "monthly")}:
        x = "week" if table.name == "weekly" else "month"
        labels = sorted({display(r[x], "date") for r in table.rows})
        series = []
        for site in report.sites[:2]:
            values = {display(r[x], "date"): r["visits"] for r in table.rows if r["site"] == site}
            series.append((site, [values.get(label, 0) for label in labels]))
        every = max(1, len(labels) // 20)
        return charts.lines(title, _("Line chart: %(what)s", what=title), labels, series, every)
    if key == ("heatmap", "arrivals"):
        cells = {(r["weekday"], r["hour"]): r["visits"] for r in table.rows}
        hours = sorted({hour for _day, hour in cells}) or list(range(8, 15))
        hours = list(range(min(hours), max(hours) + 1))
        days = max((day for day, _hour in cells), default=4) + 1
        labels = [_(name) for name in WEEKDAYS[: max(days, 5)]]
        return charts.heatmap(title, _("Arrivals per weekday and hour, as numbers in a grid"),
                              labels, hours, cells)  # fmt: skip
    if key == ("waits", "by_hour"):
        labels = [f"{r['hour']:02d}:00" for r in table.rows]
        series = [
            (_("Median wait (min)"), [_minutes(r["wait_median_s"]) for r in table.rows]),
            (_("90th percentile wait (min)"), [_minutes(r["wait_p90_s"]) for r in table.rows]),
        ]
        return charts.lines(title, _("Line chart: %(what)s", what=title), labels, series)
    if key == ("waits", "by_service"):
        items = [(f"{r['site']} · {r['label']}", _minutes(r["wait_median_s"]))
                 for r in table.rows]  # fmt: skip
        return charts.bars(_("Median wait (min)"), _("Bar chart: median wait by service"), items)
    return None


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _page(template: str, report: Report | None, **context: Any) -> str:
    sections = []
    if report is not None:
        sections = [{**_shown(t), "chart": _chart(report, t)} for t in report.tables]
    legend = export.legend(report, _) if report is not None else ""
    return render_template(template, report=report, sections=sections, legend=legend,
                           site_choices=_site_choices(), **context)  # fmt: skip


@staff_required
def index() -> Response:
    choices = _site_choices()
    if not choices:
        abort(403)
    return redirect(url_for("reports.overview", site=choices[0]["slug"]))


@staff_required
def overview(site: str) -> str | tuple[str, int]:
    site_ids = _site_ids(site)
    tab = request.args.get("tab", TABS[0])
    if tab not in TABS:
        tab = TABS[0]
    try:
        if tab == "reasons" and not any(request.args.get(k) for k in ("from", "to", "month")):
            first, last = last_month()
        else:
            first, last = params.period(request.args)
        report = _compute(tab, site_ids, first, last)
    except ReportError as exc:
        page = _page(
            "reports/report.html",
            None,
            site=site,
            tab=tab,
            tabs=TABS,
            error=_explained(exc),
            first=request.args.get("from", ""),
            last=request.args.get("to", ""),
        )
        return page, 400
    return _page("reports/report.html", report, site=site, tab=tab, tabs=TABS, error=None,
                 first=first.isoformat(), last=last.isoformat(),
                 months=whole_months(report) if site != "all" else [])  # fmt: skip


@staff_required
def indicators(site: str) -> str | tuple[str, int]:
    site_ids = _site_ids(site)
    month = request.args.get("month") or params.yesterday().strftime("%Y-%m")
    try:
        first, last = parse_month(month)
    except PeriodError as exc:
        return _page("reports/indicators.html", None, site=site, month=month,
                     error=_explained(exc)), 400  # fmt: skip
    report = _compute("indicators", site_ids, first, last)
    return _page("reports/indicators.html", report, site=site, month=month, error=None)


@staff_required
def staffing(site: str) -> str | tuple[str, int]:
    site_ids = _site_ids(site)
    try:
        first, last = params.period(request.args, default_days=56)
        options = params.options(request.args)
        report = _compute("staffing", site_ids, first, last, **options)
    except ReportError as exc:
        return _page("reports/staffing.html", None, site=site, error=_explained(exc), charts=[],
                     first="", last="", target=80, within=15), 400  # fmt: skip
    table = report.table("hours")
    site_charts = []
    for slug in report.sites:
        rows = [r for r in table.rows if r["site"] == slug]
        labels = [f"{_(WEEKDAYS[r['weekday']])[:3]} {r['hour']:02d}" for r in rows]
        series = [(_("Counters needed"), [r["needed"] for r in rows]),
                  (_("Counters present"), [r["present"] for r in rows])]  # fmt: skip
        title = _("Counters needed and present: %(site)s", site=slug)
        site_charts.append(charts.lines(title, _("Line chart: %(what)s", what=title), labels,
                                        series, every=2))  # fmt: skip
    return _page("reports/staffing.html", report, site=site, error=None, charts=site_charts,
                 first=first.isoformat(), last=last.isoformat(),
                 target=round(options["target"] * 100), within=options["within_min"])  # fmt: skip


@staff_required
def download(site: str, kind: str, fmt: str) -> Response:
    """The page's report as CSV or XLSX, with the page's period and options."""
    site_ids = _site_ids(site)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    try:
        kind = params.kind(kind)
        first, last = params.period(request.args)
        options = params.options(request.args)  # checked for every kind, used by one
        options = options if kind in ("staffing", "unmet-demand") else {}
        report = _compute(kind, site_ids, first, last, **options)
    except ReportError as exc:
        abort(400, description=_explained(exc))
    body, mimetype, name = export.as_file(report, fmt, _)
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
