"""The visit reasons every site shares: their codes, groups, pictograms and labels.

Codes are stable (reports are keyed by them), so an existing reason's code and group are
shown, not edited; to stop offering a reason at one site, switch it off on that site's
page. Changing the taxonomy is for administrators of every site.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for

from server import i18n, siteconfig
from server.extensions import db
from server.siteconfig.rules import PICTOGRAMS
from server.web import i18n_pages, staff_required

from . import forms
from .views import Page, _names, edit_item, require_administrator

# what the admin pages never offer as a reason's picture: the kiosk's own controls
CONTROLS = frozenset({"accessible", "arrow-left", "home", "volume", "clock-plus"})


def _with_labels(reasons: list[dict]) -> list[dict]:
    lang = i18n_pages.lang()
    return [{**r, "label": i18n.label(r["labels"], lang)} for r in reasons]


@staff_required
def reasons() -> Page:
    require_administrator()
    data = siteconfig.export(db())
    listed = _with_labels(data["reasons"])
    groups = [
        {**group, "children": [r for r in listed if r.get("parent") == group["code"]]}
        for group in listed
        if "parent" not in group
    ]
    return render_template("admin/reasons.html", groups=groups)


def _item(form: Any, before: dict[str, Any] | None) -> dict[str, Any]:
    parent = before.get("parent") if before else form.get("parent", "").strip() or None
    return forms.without_empty(
        {
            "code": before["code"] if before else form.get("code", "").strip(),
            "parent": parent,
            "pictogram": form.get("pictogram", ""),
            "sensitive": form.get("sensitive") == "on",
            "labels": forms.labels(form),
        }
    )


@staff_required
def reason(code: str | None = None) -> Page:
    require_administrator()
    data = siteconfig.export(db())
    edited = edit_item(
        data,
        ("reasons",),
        "code",
        code,
        {"parent": request.args.get("parent")},
        lambda before: _item(request.form, before),
        url_for("admin.reasons"),
    )
    if edited.done:
        return edited.done
    groups = [r for r in data["reasons"] if "parent" not in r and r is not edited.item]
    page = render_template(
        "admin/reason.html",
        item=edited.item,
        new=edited.new,
        shown=_names(edited.item.get("labels", {})),
        groups=_with_labels(groups),
        pictograms=sorted(PICTOGRAMS - CONTROLS),
        langs=forms.LANGS,
        languages=i18n.LANGUAGES,
        errors=edited.errors,
    )
    return (page, 422) if edited.errors else page
