"""The counter pages: choose a counter, then the workstation itself."""

from __future__ import annotations

from flask import abort, render_template

from server import catalog, counters, queries
from server.auth import Can
from server.web import i18n_pages, staff_required

from . import labels
from .access import db, site_for


@staff_required
def choose(site: str) -> str:
    found, _staff = site_for(site, Can.OPERATE)
    lang = i18n_pages.lang()
    states = {x.counter: x for x in counters.staffing(db(), site)}
    cat = catalog.current(db())
    rows = [
        {
            "slug": c.slug,
            "label": queries.label(c.labels, lang),
            "services": [queries.label(cat.services[sid].labels, lang) for sid in c.weights],
            "state": states[c.slug].state.value,
            "user": states[c.slug].user,
        }
        for c in cat.counters_of(found.id)
    ]
    return render_template(
        "counter/choose.html",
        site=found,
        site_name=queries.label(found.name, lang),
        counters=rows,
        states=labels.translated(labels.STATES),
    )


@staff_required
def workstation(site: str, counter: str) -> str:
    found, _staff = site_for(site, Can.OPERATE)
    lang = i18n_pages.lang()
    cat = catalog.current(db())
    counter_row = cat.counter(found.id, counter)
    if counter_row is None:
        abort(404)
    groups = sorted((r for r in cat.reasons.values() if r.parent is None), key=lambda r: r.position)
    words = {
        "outcomes": labels.translated(labels.OUTCOMES),
        "agencies": labels.translated(labels.AGENCIES),
        "priorities": labels.translated(labels.PRIORITIES),
        "statuses": labels.translated(labels.STATUSES),
        "states": labels.translated(labels.STATES),
        "groups": {g.code: queries.label(g.labels, lang) for g in groups},
        "languages": labels.languages(),
        "services": {s.slug: queries.label(s.labels, lang) for s in cat.services_of(found.id)},
    }
    return render_template(
        "counter/workstation.html",
        site=found,
        site_name=queries.label(found.name, lang),
        counter=counter_row,
        counter_label=queries.label(counter_row.labels, lang),
        words=words,
    )
