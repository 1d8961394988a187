"""Sign-in, sign-out, the staff language and the staff home page."""

from __future__ import annotations

from flask import (
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from printers.text import FONTS_DIR as FONTS

from .. import auth, catalog, i18n
from ..auth import Can
from ..extensions import db
from . import i18n_pages
from .session import SESSION_KEY, current_staff, safe_next, sites_where, staff_required


def sign_in() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        return render_template("signin.html", next=request.args.get("next", ""), error=None)
    lang = request.form.get("lang")
    if lang in i18n_pages.STAFF_LANGUAGES:
        session["lang"] = lang
    try:
        token, _expires, _principal = auth.sign_in(
            db(), request.form.get("username", ""), request.form.get("password", "")
        )
    except auth.AuthError:
        error = i18n_pages.gettext("Wrong username or password.")
        page = render_template("signin.html", next=request.form.get("next", ""), error=error)
        return page, 401
    keep = {k: session[k] for k in ("lang",) if k in session}
    session.clear()  # a new session at sign-in: no fixation
    session.update(keep)
    session[SESSION_KEY] = token
    return redirect(safe_next(request.form.get("next")))


def font(filename: str) -> Response:
    """The OFL fonts the printed tickets use, served to pages too: no font is fetched from
    outside, and every script shows on screens that have no fonts of their own."""
    return send_from_directory(FONTS, filename, max_age=7 * 24 * 3600)


def sign_out() -> Response:
    session.pop(SESSION_KEY, None)
    return redirect(url_for("web.sign_in"))


@staff_required
def home() -> str:
    """Where a staff member goes: their counters, live views and reports, per site."""
    staff = current_staff()
    assert staff is not None
    lang = i18n_pages.lang()
    supervised = set(sites_where(Can.REPORTS))
    sites = [
        {
            "slug": site.slug,
            "name": i18n.label(site.name, lang),
            "supervised": site.id in supervised,
        }
        for site in sorted(catalog.current(db()).sites.values(), key=lambda s: s.slug)
        if site.id in staff.site_ids
    ]
    return render_template("home.html", sites=sites, staff=staff)
