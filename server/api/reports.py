"""GET /reports/<kind>: the planning reports as JSON, CSV or XLSX, for supervisors and admins.

`site` names one centre; without it the report covers every centre where the token may
see reports. Staff and device tokens are refused (403) before any parameter is read.
"""

from __future__ import annotations

import re

from flask import Response, current_app, g, jsonify, request

from .. import catalog, i18n
from ..analytics import export, params, privacy
from ..analytics.reports import ReportError, compute
from ..auth import Can, Principal
from ..errors import BadRequest, Forbidden, Unauthenticated
from ..extensions import db

_LANG = re.compile(r"^(el|en)$")


def _reporting_sites(principal: Principal | None) -> list[int]:
    if principal is None:
        raise Unauthenticated("this needs a bearer token")
    site = request.args.get("site")
    if site:
        site_id = catalog.current(db()).require_site(site).id
        if not principal.can(Can.REPORTS, site_id):
            raise Forbidden("this token may not see reports of this site")
        return [site_id]
    sites = [s for s in principal.site_ids if principal.can(Can.REPORTS, s)]
    if not sites:
        raise Forbidden("this token may not see reports of any site")
    return sites


def report(kind: str) -> Response:
    site_ids = _reporting_sites(g.principal)
    lang = request.args.get("lang", "en")
    if not _LANG.fullmatch(lang):
        raise BadRequest("reports are labelled in 'el' or 'en'", "bad_lang")
    try:
        kind = params.kind(kind)
        fmt = params.output_format(request.args.get("format"))
        first, last = params.period(request.args)
        options = params.options(request.args)  # checked for every kind, used by one
        options = options if kind in ("staffing", "unmet-demand") else {}
        with db().connect() as conn:
            result = compute(
                conn,
                kind,
                site_ids,
                first,
                last,
                lang=lang,
                minimum=privacy.threshold(current_app.config.get("REPORTS_MIN_COUNT")),
                **options,
            )
    except ReportError as exc:
        raise BadRequest(exc.message, exc.code) from None
    tr = i18n.translations(lang, "reports").gettext
    if fmt == "json":
        return jsonify(export.to_data(result, tr))
    body, mimetype, name = export.as_file(result, fmt, tr)
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
