"""The supervisor's live view of one centre: queues, waits over their limit, counters."""

from __future__ import annotations

from flask import Response, current_app, jsonify, render_template

from server import catalog, desk, queries
from server.auth import Can
from server.web import i18n_pages, staff_required

from . import labels
from .access import db, site_for


@staff_required
def live(site: str) -> str:
    found, _staff = site_for(site, Can.REPORTS)
    lang = i18n_pages.lang()
    cat = catalog.current(db())
    return render_template(
        "counter/supervisor.html",
        site=found,
        site_name=queries.label(found.name, lang),
        words={
            "states": labels.translated(labels.STATES),
            "statuses": labels.translated(labels.STATUSES),
            "services": {s.slug: queries.label(s.labels, lang) for s in cat.services_of(found.id)},
        },
    )


def state(site: str) -> Response:
    site_for(site, Can.REPORTS)
    printing = current_app.extensions["seira.printing"]
    return jsonify(desk.site_overview(db(), site, i18n_pages.lang(), printing))
