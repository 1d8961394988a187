"""The admin pages of a site: its settings, services and counters, and its TOML file.

Each page shows the item as the configuration document holds it, and each save edits that
document and hands it to the front desk (see `forms`). Supervisors configure their own
sites; what every site shares (the reasons, new sites, the audit log) is for
administrators of every site (`reasons.py`, `audit_log.py`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import available_timezones

from flask import Response, flash, redirect, render_template, request, url_for

from server import catalog, i18n, siteconfig
from server.auth import Can, Principal
from server.catalog import SiteInfo
from server.errors import BadRequest, Forbidden, NotFound
from server.extensions import db, desk
from server.siteconfig.rules import DAYS, Where
from server.web import current_staff, i18n_pages, staff_required
from server.web.session import sites_where

from . import forms

Page = str | Response | tuple[str, int]
CLOSURE_ROWS = 3  # empty rows offered for new closures
TIMEZONES = sorted(z for z in available_timezones() if z.startswith(("Europe/", "Asia/", "UTC")))


def who() -> Principal:
    staff = current_staff()
    assert staff is not None  # @staff_required
    return staff


def administrator() -> bool:
    """An administrator of every site: may change what all sites share."""
    every_site = [site.id for site in catalog.current(db()).sites.values()]
    return who().can_everywhere(Can.MANAGE, every_site)


def require_administrator() -> None:
    """Refuse (403) anyone but an administrator of every site."""
    if not administrator():
        raise Forbidden("only an administrator of every site may do this")


def configurable(slug: str) -> SiteInfo:
    """The site, once the signed-in person may configure it (else 403, or 404)."""
    return desk().site(who(), slug, Can.CONFIGURE)


def document(slug: str) -> dict[str, Any]:
    return siteconfig.export(db(), slug)


def _apply(data: dict[str, Any], item: Where, back: str) -> forms.Errors | Response:
    """Check the edited document against the item; apply it whole, or say what is wrong."""
    errors = forms.check_item(data, item, i18n_pages.gettext)
    if errors:
        return errors
    desk().configure(who(), data)
    flash(i18n_pages.gettext("Saved. Open kiosks, displays and counters show it now."))
    return redirect(back)


def _names(labels: dict[str, str]) -> dict[str, str]:
    """What visitors see in each language now: a translated English label where no label
    of the language is set (the placeholder of an empty field)."""
    return {lang: i18n.label(labels, lang) for lang in forms.LANGS} if labels else {}


@dataclass
class Edited:
    """One item of a list of the document, as its form shows and saves it: `done` is the
    redirect once saved; otherwise the page shows `item` with `errors`."""

    item: dict[str, Any]
    new: bool
    errors: forms.Errors
    done: Response | None = None


def edit_item(
    data: dict[str, Any],
    list_path: Where,
    key: str,
    value: str | None,
    blank: dict[str, Any],
    build: Callable[[dict[str, Any] | None], dict[str, Any]],
    back: str,
) -> Edited:
    """Show, or on POST save, the item of `data` at `list_path` whose `key` is `value` (a
    new one if None): `build(before)` reads it from the form, and the whole document is
    checked and applied by `_apply`."""
    items: Any = data
    for part in list_path:
        items = items[part]
    at = None
    if value is not None:
        at = next((i for i, item in enumerate(items) if item[key] == value), None)
        if at is None:
            raise NotFound(f"no '{value}' here")
    before = items[at] if at is not None else None
    if request.method != "POST":
        return Edited(before or blank, value is None, forms.Errors())
    item = build(before)
    if at is None:
        items.append(item)
        at = len(items) - 1
    else:
        items[at] = item
    outcome = _apply(data, (*list_path, at), back)
    if isinstance(outcome, Response):
        return Edited(item, value is None, forms.Errors(), outcome)
    return Edited(item, value is None, outcome)


# --- the admin home --------------------------------------------------------------------------


@staff_required
def index() -> Page:
    cat = catalog.current(db())
    lang = i18n_pages.lang()
    ids = set(sites_where(Can.CONFIGURE))
    sites = [
        {"slug": s.slug, "name": i18n.label(s.name, lang)}
        for s in sorted(cat.sites.values(), key=lambda s: s.slug)
        if s.id in ids
    ]
    if not sites:
        return render_template("admin/index.html", sites=[], administrator=False), 403
    return render_template("admin/index.html", sites=sites, administrator=administrator())


# --- a site's settings -----------------------------------------------------------------------


def _site_item(form: Any, before: dict[str, Any]) -> dict[str, Any]:
    hours = {}
    for day in DAYS:
        opens, closes = form.get(f"hours.{day}.opens", ""), form.get(f"hours.{day}.closes", "")
        if opens or closes:
            hours[day] = f"{opens}-{closes}"
    closures = []
    for row in range(len(before.get("closures", [])) + CLOSURE_ROWS):
        first = form.get(f"closures.{row}.from", "").strip()
        last = form.get(f"closures.{row}.to", "").strip() or first
        if first or last:
            closures.append({"from": first, "to": last})
    item = {
        **before,
        "closures": closures,
        "name": forms.labels(form, "name"),
        "address": forms.labels(form, "address"),
        "timezone": form.get("timezone", ""),
        "hours": hours,
        "priority_max_in_row": forms.number(form, "priority_max_in_row"),
        "retention_days": forms.number(form, "retention_days"),
        # the checkboxes say which are on; every reason listed and not ticked is off
        "reasons_off": [
            c for c in form.getlist("reasons_all") if c not in form.getlist("reasons_on")
        ],
    }
    for optional in ("reasons_off", "closures"):
        if not item[optional]:
            item.pop(optional)
    return forms.without_empty(item)


@staff_required
def site(site: str) -> Page:
    found = configurable(site)
    data = document(found.slug)
    entry = data["sites"][0]
    errors = forms.Errors()
    if request.method == "POST":
        entry = _site_item(request.form, entry)
        data["sites"][0] = entry
        outcome = _apply(data, ("sites", 0), url_for("admin.site", site=found.slug))
        if isinstance(outcome, Response):
            return outcome
        errors = outcome
    return _site_page(found, data, entry, errors)


def _site_page(found: SiteInfo, data: dict, entry: dict, errors: forms.Errors) -> Page:
    lang = i18n_pages.lang()
    groups = [r for r in data["reasons"] if "parent" not in r]
    page = render_template(
        "admin/site.html",
        site=found,
        site_name=i18n.label(found.name, lang),
        entry=entry,
        services=[
            {**svc, "label": i18n.label(svc["labels"], lang)}
            for svc in data["sites"][0]["services"]
        ],
        counters=[
            {**ctr, "label": i18n.label(ctr["labels"], lang)}
            for ctr in data["sites"][0]["counters"]
        ],
        reasons=[
            {
                **group,
                "label": i18n.label(group["labels"], lang),
                "children": [
                    {**r, "label": i18n.label(r["labels"], lang)}
                    for r in data["reasons"]
                    if r.get("parent") == group["code"]
                ],
            }
            for group in groups
        ],
        days=DAYS,
        closure_rows=len(entry.get("closures", [])) + CLOSURE_ROWS,
        timezones=TIMEZONES,
        langs=forms.LANGS,
        languages=i18n.LANGUAGES,
        errors=errors,
        administrator=administrator(),
    )
    return (page, 422) if errors else page


# --- services --------------------------------------------------------------------------------


def _service_item(form: Any, before: dict[str, Any] | None) -> dict[str, Any]:
    return forms.without_empty(
        {
            "slug": before["slug"] if before else form.get("slug", "").strip(),
            # with another service's numbers, the letter is that one's: none is asked
            "prefix": None if form.get("numbers_from") else form.get("prefix", "").strip(),
            "numbers_from": form.get("numbers_from") or None,
            "private": True if form.get("private") else None,
            "labels": forms.labels(form),
            "reasons": form.getlist("reasons"),
            "max_wait_min": forms.number(form, "max_wait_min"),
            "when_overdue": form.get("when_overdue") or None,
            "default_service_min": forms.number(form, "default_service_min"),
        }
    )


def _position(items: list[dict], slug: str | None) -> int | None:
    if slug is None:
        return None
    found = next((i for i, item in enumerate(items) if item["slug"] == slug), None)
    if found is None:
        raise NotFound(f"no '{slug}' here")
    return found


@staff_required
def service(site: str, slug: str | None = None) -> Page:
    found = configurable(site)
    data = document(found.slug)
    edited = edit_item(
        data,
        ("sites", 0, "services"),
        "slug",
        slug,
        {"reasons": []},
        lambda before: _service_item(request.form, before),
        url_for("admin.site", site=found.slug),
    )
    if edited.done:
        return edited.done
    lang = i18n_pages.lang()
    groups = [
        {**r, "label": i18n.label(r["labels"], lang)} for r in data["reasons"] if "parent" not in r
    ]
    page = render_template(
        "admin/service.html",
        site=found,
        site_name=i18n.label(found.name, lang),
        item=edited.item,
        new=edited.new,
        shown=_names(edited.item.get("labels", {})),
        groups=groups,
        numbering=[
            {"slug": svc["slug"], "label": i18n.label(svc["labels"], lang)}
            for svc in data["sites"][0]["services"]
            if svc["slug"] != edited.item.get("slug")
            and "numbers_from" not in svc
            and not svc.get("private")
        ],
        langs=forms.LANGS,
        languages=i18n.LANGUAGES,
        errors=edited.errors,
    )
    return (page, 422) if edited.errors else page


@staff_required
def retire_service(site: str, slug: str) -> Page:
    """Stop offering a service: its counters stop calling from it; its tickets stay."""
    found = configurable(site)
    data = document(found.slug)
    entry = data["sites"][0]
    at = _position(entry["services"], slug)
    assert at is not None
    entry["services"].pop(at)
    for counter in entry["counters"]:
        counter["services"].pop(slug, None)
    errors = forms.sort_out(siteconfig.check(data), (), i18n_pages.gettext)
    if errors:
        raise BadRequest("; ".join(errors.general), "not_retired")
    desk().configure(who(), data)
    flash(i18n_pages.gettext("The service is no longer offered."))
    return redirect(url_for("admin.site", site=found.slug))


# --- counters --------------------------------------------------------------------------------


def _counter_item(form: Any, before: dict[str, Any] | None, services: list[dict]) -> dict:
    weights = {}
    for svc in services:
        weight = forms.number(form, f"services.{svc['slug']}")
        if weight is not None:
            weights[svc["slug"]] = weight
    return forms.without_empty(
        {
            "slug": before["slug"] if before else form.get("slug", "").strip(),
            "private": True if form.get("private") else None,
            "labels": forms.labels(form),
            "services": weights,
        }
    )


@staff_required
def counter(site: str, slug: str | None = None) -> Page:
    found = configurable(site)
    data = document(found.slug)
    services = data["sites"][0]["services"]
    edited = edit_item(
        data,
        ("sites", 0, "counters"),
        "slug",
        slug,
        {"services": {}},
        lambda before: _counter_item(request.form, before, services),
        url_for("admin.site", site=found.slug),
    )
    if edited.done:
        return edited.done
    lang = i18n_pages.lang()
    page = render_template(
        "admin/counter.html",
        site=found,
        site_name=i18n.label(found.name, lang),
        item=edited.item,
        new=edited.new,
        shown=_names(edited.item.get("labels", {})),
        services=[
            {**svc, "label": i18n.label(svc["labels"], lang), "prefix": _prefix(services, svc)}
            for svc in services
        ],
        langs=forms.LANGS,
        languages=i18n.LANGUAGES,
        errors=edited.errors,
    )
    return (page, 422) if edited.errors else page


def _prefix(services: list[dict], svc: dict) -> str:
    """A service's ticket letter: its own, or that of the service whose numbers it takes."""
    numbering = next((o for o in services if o["slug"] == svc.get("numbers_from")), svc)
    return str(numbering.get("prefix", ""))


@staff_required
def retire_counter(site: str, slug: str) -> Page:
    found = configurable(site)
    data = document(found.slug)
    counters = data["sites"][0]["counters"]
    at = _position(counters, slug)
    assert at is not None
    counters.pop(at)
    desk().configure(who(), data)
    flash(i18n_pages.gettext("The counter is no longer in use."))
    return redirect(url_for("admin.site", site=found.slug))


# --- the site's file -------------------------------------------------------------------------


@staff_required
def export_file(site: str) -> Response:
    found = configurable(site)
    response = Response(siteconfig.dumps(document(found.slug)), content_type="application/toml")
    response.headers["Content-Disposition"] = f'attachment; filename="seira-{found.slug}.toml"'
    return response


@staff_required
def import_file(site: str) -> Page:
    """A site's TOML file back: checked whole, applied whole, or refused with every problem."""
    found = configurable(site)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest(i18n_pages.gettext("Choose a configuration file."), "missing_file")
    try:
        data = tomllib.loads(upload.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(str(exc), "bad_file") from None
    problems = siteconfig.check(data)
    if not problems and [s["slug"] for s in data["sites"]] != [found.slug]:
        raise BadRequest(
            i18n_pages.gettext("The file must describe this site, and only this site."),
            "other_site",
        )
    if problems:
        errors = forms.sort_out(problems, ("nowhere",), i18n_pages.gettext)
        current = document(found.slug)
        return _site_page(found, current, current["sites"][0], errors)
    desk().configure(who(), data)
    flash(i18n_pages.gettext("The file was loaded."))
    return redirect(url_for("admin.site", site=found.slug))


# --- the displays' information messages ------------------------------------------------------


@staff_required
def messages(site: str) -> Page:
    """The centre's own messages for its displays, each in as many languages as written;
    a message with every field emptied is removed."""
    found = configurable(site)
    data = document(found.slug)
    entry = data["sites"][0]
    current = list(entry.get("messages", []))
    errors = forms.Errors()
    if request.method == "POST":
        written = [forms.labels(request.form, f"messages.{row}") for row in range(len(current) + 1)]
        current = [labels for labels in written if labels]
        if current:
            entry["messages"] = current
        else:
            entry.pop("messages", None)
        errors = forms.sort_out(siteconfig.check(data), ("sites", 0), i18n_pages.gettext)
        if not errors:
            desk().configure(who(), data)
            flash(i18n_pages.gettext("Saved. Open kiosks, displays and counters show it now."))
            return redirect(url_for("admin.messages", site=found.slug))
    page = render_template(
        "admin/messages.html",
        site=found,
        site_name=i18n.label(found.name, i18n_pages.lang()),
        messages=[*current, {}],
        langs=forms.LANGS,
        languages=i18n.LANGUAGES,
        errors=errors,
    )
    return (page, 422) if errors else page


# --- a new centre ----------------------------------------------------------------------------


@staff_required
def new_site() -> Page:
    """A new centre with its first service, for administrators of every site; everything
    else is set on its own page afterwards."""
    require_administrator()
    data = siteconfig.export(db())
    item: dict[str, Any] = {"timezone": "Europe/Athens", "services": [{"reasons": []}]}
    errors = forms.Errors()
    if request.method == "POST":
        form = request.form
        item = {
            "slug": form.get("slug", "").strip(),
            "name": forms.labels(form, "name"),
            "address": forms.labels(form, "address"),
            "timezone": form.get("timezone", ""),
            "hours": {d: "08:00-15:00" for d in DAYS[:5]},
            "services": [
                forms.without_empty(
                    {
                        "slug": "general",
                        "prefix": form.get("services.0.prefix", "").strip(),
                        "labels": forms.labels(form, "services.0.labels"),
                        "reasons": form.getlist("services.0.reasons"),
                    }
                )
            ],
        }
        data["sites"].append(item)
        where: Where = ("sites", len(data["sites"]) - 1)
        errors = forms.sort_out(siteconfig.check(data), where, i18n_pages.gettext)
        if not errors:
            desk().configure(who(), {**data, "sites": [item]})
            flash(
                i18n_pages.gettext("The centre is added. Set its hours, counters and devices here.")
            )
            return redirect(url_for("admin.site", site=item["slug"]))
    lang = i18n_pages.lang()
    page = render_template(
        "admin/new_site.html",
        item=item,
        groups=[
            {**r, "label": i18n.label(r["labels"], lang)}
            for r in data["reasons"]
            if "parent" not in r
        ],
        timezones=TIMEZONES,
        langs=forms.LANGS,
        languages=i18n.LANGUAGES,
        errors=errors,
    )
    return (page, 422) if errors else page
