"""The audit log, for administrators: who changed what and when, filtered, and as CSV."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Response, render_template, request

from server import audit, catalog
from server.errors import BadRequest
from server.extensions import db
from server.web import i18n_pages, staff_required

from .views import Page, require_administrator

SHOWN = 500
ATHENS = ZoneInfo("Europe/Athens")


def _day(name: str) -> datetime | None:
    """A date field (YYYY-MM-DD) as the start of that day in Athens, in UTC."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d")
    except ValueError:
        raise BadRequest(i18n_pages.gettext("Enter a date like 2026-12-31."), "bad_date") from None
    return day.replace(tzinfo=ATHENS)


def _wanted() -> audit.Filter:
    sites = catalog.current(db()).sites
    slug = request.args.get("site", "").strip()
    if slug and slug not in sites:
        raise BadRequest(f"no site '{slug}'", "bad_site")
    until = _day("until")
    return audit.Filter(
        site_ids=(sites[slug].id,) if slug else None,
        action=request.args.get("action", "").strip() or None,
        actor=request.args.get("actor", "").strip() or None,
        since=_day("since"),
        until=until + timedelta(days=1) if until else None,
    )


def _value(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


@staff_required
def log() -> Page | Response:
    require_administrator()
    wanted = _wanted()
    rows = audit.entries(db(), wanted, SHOWN)
    sites = catalog.current(db()).sites
    slugs = {site.id: site.slug for site in sites.values()}
    if request.args.get("format") == "csv":
        response = Response(audit.to_csv(rows, slugs), content_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="seira-audit.csv"'
        return response
    shown = [
        {
            "at": row.at.astimezone(ATHENS).strftime("%Y-%m-%d %H:%M:%S"),
            "actor": row.actor,
            "site": slugs.get(row.site_id or 0, ""),
            "action": row.action,
            "target": row.target,
            "before": _value(row.before),
            "after": _value(row.after),
        }
        for row in rows
    ]
    return render_template(
        "admin/audit.html",
        rows=shown,
        sites=sorted(slugs.values()),
        args=request.args,
        limit=SHOWN,
        csv_query={**request.args.to_dict(), "format": "csv"},
    )
