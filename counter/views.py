"""The counter pages: choose a counter, then the workstation itself."""

from __future__ import annotations

from flask import render_template

from server import catalog, i18n
from server.auth import Can
from server.extensions import db, desk
from server.queue import reads
from server.web import current_staff, i18n_pages, print_labels, staff_required

from . import labels


@staff_required
def choose(site: str) -> str:
    found = desk().site(current_staff(), site, Can.OPERATE)
    lang = i18n_pages.lang()
    states = {x.counter: x for x in reads.staffing(db(), found.id)}
    cat = catalog.current(db())
    rows = [
        {
            "slug": c.slug,
            "label": i18n.label(c.labels, lang),
            "services": [i18n.label(cat.services[sid].labels, lang) for sid in c.weights],
            "state": states[c.slug].state.value,
            "user": states[c.slug].user,
        }
        for c in cat.counters_of(found.id)
    ]
    return render_template(
        "counter/choose.html",
        site=found,
        site_name=i18n.label(found.name, lang),
        counters=rows,
        states=labels.translated(labels.STATES),
    )


@staff_required
def workstation(site: str, counter: str) -> str:
    found = desk().site(current_staff(), site, Can.OPERATE)
    lang = i18n_pages.lang()
    cat = catalog.current(db())
    counter_row = cat.require_counter(found, counter)
    words = {
        "outcomes": labels.translated(labels.OUTCOMES),
        "agencies": labels.translated(labels.AGENCIES),
        "priorities": labels.translated(labels.PRIORITIES),
        "statuses": labels.translated(labels.STATUSES),
        "states": labels.translated(labels.STATES),
        "groups": {g.code: i18n.label(g.labels, lang) for g in cat.reason_groups()},
        "languages": labels.languages(),
        "services": {s.slug: i18n.label(s.labels, lang) for s in cat.services_of(found.id)},
        "prints": print_labels.words(),
        "faults": labels.translated(labels.FAULTS),
    }
    return render_template(
        "counter/workstation.html",
        site=found,
        site_name=i18n.label(found.name, lang),
        counter=counter_row,
        counter_label=i18n.label(counter_row.labels, lang),
        words=words,
    )
