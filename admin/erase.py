"""Erasing one visit on the visitor's request: found by the number on their ticket and its
day, shown, then anonymised at once, as the retention sweep would (`server.retention`).

The ticket is anonymised rather than deleted: the visit still counts in every report of
its period, and nothing that points to the visitor is left (number, status link, exact
times, who served them). Its status link then answers like one that never was. Both steps
are posts, so that a number and a day never travel in a URL or an access log line.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from server import catalog, i18n, need_to_know, retention
from server.catalog import SiteInfo
from server.extensions import db
from server.i18n import N_
from server.models import utcnow
from server.queue.rules import OPEN_STATUSES, service_day
from server.web import i18n_pages, staff_required

from . import forms
from .views import Page, configurable, who

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REFUSED = {  # retention.EraseError codes, in words
    "not_found": N_("No ticket with this number on that day at this centre."),
    "open": N_("This ticket is still in the queue: finish or cancel it at a counter first."),
}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if DAY.match(text) else None
    except ValueError:
        return None


def _shown(found: SiteInfo, ticket: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of a ticket; the reason only to someone who may know it
    (`server.need_to_know`: a sensitive one to the site's supervisors, administrators
    and trained staff; the ticket is at no counter any more)."""
    cat = catalog.current(db())
    lang = i18n_pages.lang()
    service = cat.services.get(ticket["service_id"])
    reason = cat.reasons.get(ticket["reason_code"])
    visible = need_to_know.may_know_reason(
        db(), cat, who(), found.id, ticket["reason_code"], counter=None
    )
    language = i18n.LANGUAGES.get(ticket["lang"])
    return {
        "id": ticket["id"],
        "number": ticket["code"],
        "issued_at": ticket["issued_at"],
        "service": i18n.label(service.labels, lang) if service else "",
        "language": language.native if language else ticket["lang"],
        "reason": i18n.label(reason.labels, lang) if reason and visible else None,
    }


def _page(found: SiteInfo, errors: forms.Errors | None = None, **shown: Any) -> Page:
    page = render_template(
        "admin/erase.html",
        site=found,
        site_name=i18n.label(found.name, i18n_pages.lang()),
        today=service_day(utcnow(), found.timezone).isoformat(),
        errors=errors or forms.Errors(),
        **shown,
    )
    return (page, 422) if errors else page


def _find(found: SiteInfo, errors: forms.Errors) -> list[dict[str, Any]]:
    """The form's tickets: the number and day checked, each problem by its field."""
    number = retention.parse_number(request.form.get("number", ""))
    day = _day(request.form.get("day", "").strip())
    if number is None:
        errors.fields["number"] = i18n_pages.gettext(
            "Write the number as the ticket shows it, like A023."
        )
    if day is None:
        errors.fields["day"] = i18n_pages.gettext("write a date like 2026-12-25")
    if number is None or day is None:
        return []
    tickets = retention.find(db(), found.id, *number, day)
    waiting = [t for t in tickets if t["status"] in OPEN_STATUSES]
    problem = "not_found" if not tickets else "open" if len(waiting) == len(tickets) else None
    if problem:
        errors.fields["number"] = i18n_pages.gettext(REFUSED[problem])
    return [t for t in tickets if t not in waiting]


@staff_required
def erase(site: str) -> Page:
    found = configurable(site)
    typed = {"number": "", "day": ""}
    if request.method == "GET":
        return _page(found, typed=typed)
    typed = {name: request.form.get(name, "").strip() for name in typed}
    errors = forms.Errors()
    tickets = _find(found, errors)
    chosen = request.form.get("ticket", type=int)
    if errors or chosen is None:  # the first step: show what would be erased
        return _page(found, errors, typed=typed, tickets=[_shown(found, t) for t in tickets])
    if chosen not in {t["id"] for t in tickets}:
        errors.fields["number"] = i18n_pages.gettext(REFUSED["not_found"])
        return _page(found, errors, typed=typed)
    try:
        retention.erase(db(), who().actor, found.id, chosen)
    except retention.EraseError as exc:
        errors.fields["number"] = i18n_pages.gettext(REFUSED[exc.code])
        return _page(found, errors, typed=typed)
    flash(i18n_pages.gettext("Erased: its number, status link and exact times are gone."))
    return redirect(url_for("admin.erase", site=found.slug))
