"""GET /reports/<kind>: the planning reports as JSON, CSV or XLSX, for supervisors and admins.

`site` names one centre; without it the report covers every centre where the token may
see reports. Staff and device tokens are refused (403) before any parameter is read.
"""

from __future__ import annotations

import re

from flask import Response, current_app, g, jsonify, request

from .. import i18n, queries
from ..analytics import export, params, privacy
from ..analytics.reports import ReportError, compute
from ..auth import Can, Principal
from .errors import ApiError

_LANG = re.compile(r"^(el|en)$")


def _reporting_sites(principal: Principal | None) -> list[int]:
    if principal is None:
        raise ApiError(401, "unauthenticated", "this needs a bearer token")
    site = request.args.get("site")
    if site:
        site_id = queries.site_id(current_app.extensions["seira.db"], site)
        if not principal.can(Can.REPORTS, site_id):
            raise ApiError(403, "forbidden", "this token may not see reports of this site")
        return [site_id]
    sites = [s for s in principal.site_ids if principal.can(Can.REPORTS, s)]
    if not sites:
        raise ApiError(403, "forbidden", "this token may not see reports of any site")
    return sites


def report(kind: str) -> Response:
    site_ids = _reporting_sites(g.principal)
    lang = request.args.get("lang", "en")
    if not _LANG.match(lang):
        raise ApiError(400, "bad_lang", "reports are labelled in 'el' or 'en'")
    try:
        kind = params.kind(kind)
        fmt = params.output_format(request.args.get("format"))
        first, last = params.period(request.args)
        options = params.options(request.args) if kind == "staffing" else {}
        with current_app.extensions["seira.db"].connect() as conn:
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
        raise ApiError(400, exc.code, exc.message) from None
    tr = i18n.translations(lang, "reports").gettext
    if fmt == "json":
        return jsonify(export.to_data(result, tr))
    if fmt == "csv":
        body, mimetype = export.to_csv(result, tr).encode(), "text/csv; charset=utf-8"
    else:
        body, mimetype = export.to_xlsx(result, tr), export.XLSX_TYPE
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{export.filename(result, fmt)}"'
    )
    return response
