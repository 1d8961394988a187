"""A site's kiosks and displays: pairing the ones that show a code, revoking the others."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from server import i18n, pairing
from server.auth import DeviceKind
from server.errors import Refused
from server.extensions import db, desk
from server.web import i18n_pages, staff_required

from .views import Page, configurable, who


@staff_required
def devices(site: str) -> Page:
    found = configurable(site)
    problem = None
    if request.method == "POST":
        form = request.form
        try:
            desk().pair_device(
                who(), found.slug, form.get("code", ""), form.get("kind", ""), form.get("name", "")
            )
        except Refused as exc:
            problem = exc.code
        else:
            flash(i18n_pages.gettext("The device is paired. Its screen starts in a few seconds."))
            return redirect(url_for("admin.devices", site=found.slug))
    page = render_template(
        "admin/devices.html",
        site=found,
        site_name=i18n.label(found.name, i18n_pages.lang()),
        devices=desk().devices(who(), found.slug),
        waiting=pairing.pending(db(), [found.id]),
        kinds=[kind.value for kind in DeviceKind],
        code=request.values.get("code", ""),
        typed_kind=request.values.get("kind", ""),
        name=request.form.get("name", ""),
        problem=problem,
    )
    return (page, 422) if problem else page


@staff_required
def revoke(site: str) -> Page:
    found = configurable(site)
    name = request.form.get("name", "")
    desk().revoke_device(who(), found.slug, name)
    flash(i18n_pages.gettext("The device's access is taken back; its screen asks to be paired."))
    return redirect(url_for("admin.devices", site=found.slug))
