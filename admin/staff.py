"""The people of a site: add someone, change their role, reset their password, disable
them. A temporary password is shown once, on the page that made it, and never again."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from server import accounts, i18n
from server.auth import Role
from server.catalog import SiteInfo
from server.errors import Refused
from server.extensions import db
from server.web import i18n_pages, staff_required

from .views import Page, configurable, who


def _page(found: SiteInfo, status: int = 200, **shown: object) -> Page:
    people = accounts.people(db(), [found.id])
    page = render_template(
        "admin/staff.html",
        site=found,
        site_name=i18n.label(found.name, i18n_pages.lang()),
        people=[
            {
                "person": p,
                "role": p.roles.get(found.id),
                "manageable": accounts.may_manage(who(), db(), p),
            }
            for p in people
        ],
        roles=[r.value for r in Role if accounts.may_grant(who(), db(), found.id, r.value)],
        languages=i18n.LANGUAGES,
        **shown,
    )
    return (page, status) if status != 200 else page


@staff_required
def staff(site: str) -> Page:
    found = configurable(site)
    if request.method == "GET":
        return _page(found)
    username = request.form.get("username", "").strip()
    role = request.form.get("role", "")
    try:
        password = accounts.create(db(), who(), username, found.id, role)
    except Refused as exc:
        return _page(found, 422, problem=exc.code, username=username)
    return _page(found, temporary={"username": username, "password": password})


def _person(found: SiteInfo, user_id: int) -> accounts.Person:
    person = accounts.person(db(), user_id)
    if found.id not in person.roles:
        raise Refused("this person has no role at this centre", "not_here", status=404)
    return person


@staff_required
def role(site: str, user_id: int) -> Page:
    found = configurable(site)
    _person(found, user_id)
    chosen = request.form.get("role", "")
    accounts.set_role(db(), who(), user_id, found.id, None if chosen == "none" else chosen)
    flash(i18n_pages.gettext("The role is changed. The person signs in again."))
    return redirect(url_for("admin.staff", site=found.slug))


@staff_required
def reset(site: str, user_id: int) -> Page:
    found = configurable(site)
    person = _person(found, user_id)
    password = accounts.reset_password(db(), who(), user_id)
    return _page(found, temporary={"username": person.username, "password": password})


@staff_required
def active(site: str, user_id: int) -> Page:
    found = configurable(site)
    _person(found, user_id)
    accounts.set_active(db(), who(), user_id, request.form.get("active") == "1")
    flash(i18n_pages.gettext("Saved."))
    return redirect(url_for("admin.staff", site=found.slug))


@staff_required
def trained(site: str, user_id: int) -> Page:
    """Whether the person may see sensitive visit reasons on every ticket here."""
    found = configurable(site)
    _person(found, user_id)
    accounts.set_trained(db(), who(), user_id, found.id, request.form.get("trained") == "1")
    flash(i18n_pages.gettext("Saved."))
    return redirect(url_for("admin.staff", site=found.slug))


@staff_required
def languages(site: str, user_id: int) -> Page:
    """The languages the person speaks with visitors: whom their counter calls."""
    found = configurable(site)
    _person(found, user_id)
    try:
        accounts.set_languages(db(), who(), user_id, request.form.getlist("languages"))
    except Refused as exc:
        return _page(found, 422, problem=exc.code)
    flash(i18n_pages.gettext("Saved."))
    return redirect(url_for("admin.staff", site=found.slug))
