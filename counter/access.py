"""Who may use a site's counters or watch it: checked on every staff page and JSON call."""

from __future__ import annotations

from flask import abort, current_app

from server import catalog
from server.auth import Can, Principal
from server.catalog import SiteInfo
from server.db import Database
from server.web import current_staff


def db() -> Database:
    return current_app.extensions["seira.db"]


def site_for(slug: str, capability: Can) -> tuple[SiteInfo, Principal]:
    """The site, if it exists and the signed-in staff member holds `capability` there."""
    staff = current_staff()
    if staff is None:
        abort(401)
    site = catalog.current(db()).site(slug)
    if site is None:
        abort(404)
    if not staff.can(capability, site.id):
        abort(403)
    return site, staff
