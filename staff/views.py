"""Sign-in (with the staff member's language), sign-out, and the staff home page."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from server import accounts, auth, catalog, credentials, i18n
from server.auth import SESSION_KEY, Can
from server.extensions import db, desk
from server.i18n import N_
from server.signin_limits import LockedOut
from server.web import current_staff, i18n_pages, staff_required
from server.web.session import safe_next, sites_where


def sign_in() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        return render_template("staff/signin.html", next=request.args.get("next", ""), error=None)
    lang = request.form.get("lang")
    if lang in i18n_pages.STAFF_LANGUAGES:
        session["lang"] = lang
    try:
        token, _expires, _principal = auth.sign_in(
            db(),
            request.form.get("username", ""),
            request.form.get("password", ""),
            request.remote_addr or "",
            auth.PAGE,
        )
    except (auth.AuthError, LockedOut) as exc:
        if isinstance(exc, LockedOut):
            message = i18n_pages.ngettext(
                "Too many failed attempts. Try again in %(num)d minute.",
                "Too many failed attempts. Try again in %(num)d minutes.",
                exc.minutes,
            )
            status = 429
        else:
            message, status = i18n_pages.gettext("Wrong username or password."), 401
        page = render_template(
            "staff/signin.html", next=request.form.get("next", ""), error=message
        )
        return page, status
    keep = {k: session[k] for k in ("lang",) if k in session}
    session.clear()  # a new session at sign-in: no fixation
    session.update(keep)
    session[SESSION_KEY] = token
    return redirect(safe_next(request.form.get("next")))


def sign_out() -> Response:
    """The token ends on the server too: a copy of the cookie opens nothing afterwards.
    A mediator who signs out is away: no call joins them any more."""
    staff = current_staff()
    if staff is not None:
        desk().mediator_leaves(staff)
    token = session.pop(SESSION_KEY, None)
    if token:
        auth.sign_out(db(), token)
    return redirect(url_for("staff.sign_in"))


@staff_required
def home() -> str:
    """Where a staff member goes: their counters (or mediator's page), live views and
    reports, per site."""
    staff = current_staff()
    assert staff is not None
    lang = i18n_pages.lang()
    supervised = set(sites_where(Can.REPORTS))
    operated, mediated = set(sites_where(Can.OPERATE)), set(sites_where(Can.MEDIATE))
    sites = [
        {
            "slug": site.slug,
            "name": i18n.label(site.name, lang),
            "supervised": site.id in supervised,
            "operated": site.id in operated,
            "mediated": site.id in mediated,
        }
        for site in sorted(catalog.current(db()).sites.values(), key=lambda s: s.slug)
        if site.id in staff.site_ids
    ]
    configures = bool(sites_where(Can.CONFIGURE))
    return render_template("staff/home.html", sites=sites, staff=staff, configures=configures)


# what the account rules say, in the staff member's language
PASSWORD_PROBLEMS = {
    "the current password is not right": N_("The current password is not right."),
    credentials.TOO_SHORT: N_("A password needs at least 12 characters."),
    credentials.BLANK: N_("A password cannot be only spaces."),
    credentials.HAS_USERNAME: N_("A password cannot contain your username."),
    credentials.COMMON: N_("This password is one that many people use: choose another."),
    "choose a password other than the one you have": N_(
        "Choose a password other than the one you have."
    ),
}


@staff_required
def password() -> str | Response | tuple[str, int]:
    """Choose one's own password: required after an admin made or reset the account."""
    staff = current_staff()
    assert staff is not None and staff.user_id is not None
    forced = staff.must_change_password
    if request.method == "GET":
        return render_template("staff/password.html", forced=forced, errors={})
    form = request.form
    errors: dict[str, str] = {}
    if form.get("new", "") != form.get("repeat", ""):
        errors["repeat"] = i18n_pages.gettext("The two new passwords are not the same.")
    else:
        try:
            accounts.change_own_password(
                db(), staff.user_id, form.get("current", ""), form.get("new", "")
            )
        except auth.AuthError as exc:
            field = "current" if "current" in str(exc) else "new"
            message = PASSWORD_PROBLEMS.get(str(exc), N_("That did not work."))
            errors[field] = i18n_pages.gettext(message)
    if errors:
        page = render_template("staff/password.html", forced=forced, errors=errors)
        return page, 422
    # the old session's token was ended with the change: sign in anew, with the new password
    session.pop(SESSION_KEY, None)
    token, _expires, _principal = auth.sign_in(
        db(), staff.name, form["new"], request.remote_addr or "", auth.PAGE
    )
    session[SESSION_KEY] = token
    return redirect(safe_next(request.args.get("next")))
