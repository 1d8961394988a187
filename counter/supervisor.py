"""The supervisor's live view of one centre: queues, waits over their limit, counters,
mediators and the counters' requests for one, the waiting per language."""

from __future__ import annotations

from flask import Response, jsonify, render_template

from server import catalog, i18n
from server.api.bodies import reader
from server.auth import Can
from server.extensions import db, desk
from server.web import current_staff, i18n_pages, print_labels, staff_required

from . import labels


@staff_required
def live(site: str) -> str:
    found = desk().site(current_staff(), site, Can.REPORTS)
    lang = i18n_pages.lang()
    cat = catalog.current(db())
    return render_template(
        "counter/supervisor.html",
        site=found,
        site_name=i18n.label(found.name, lang),
        words={
            "states": labels.translated(labels.STATES),
            "statuses": labels.translated(labels.STATUSES),
            "services": {s.slug: i18n.label(s.labels, lang) for s in cat.services_of(found.id)},
            "prints": print_labels.words(),
            "faults": labels.translated(labels.FAULTS),
            "languages": labels.languages(),
            "mediator_states": labels.translated(labels.MEDIATOR_STATES),
        },
    )


def acknowledge(site: str, alarm_id: int) -> Response:
    body = reader("EmptyRequest", required=False)
    desk().acknowledge_alarm(current_staff(), site, alarm_id, i18n_pages.lang(), body)
    return state(site)


def state(site: str) -> Response:
    """The live view's data, and whether the database takes writes (a fault code or
    None): a fault stops every desk, so the supervisor sees it while it lasts."""
    overview = desk().site_overview(current_staff(), site, i18n_pages.lang())
    return jsonify({**overview, "database_fault": db().write_fault()})
