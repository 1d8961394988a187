"""A report: its kind, sites and local days in, plain tables out (`compute`).

The parts, each in its own module: what each report holds (`schema`), what it is about
and the labels it shows (`scope`), the figures several reports share (`measures`), one
builder per kind (`builders`), and the staffing forecast (`staffing`).

A visit is a ticket, dated by its service day (the site's local day of issue, stored on
the ticket when it was issued). Counts and dimensions (reason, language, priority,
service) come from the ticket row, which the queue keeps as the fold of its events in the
same transaction; what only the log knows comes from the events: the first call (a
returned ticket is called again, and its row keeps only the last call), outcomes and
referrals (`finished` payloads) and why a visitor left (`cancelled` payloads). Every query
walks an index range (tickets by service and day, events by service, type and time) and
returns grouped rows only; for percentiles, the counts of each distinct duration
(see `sql.distribution`).

Codes stay codes in SQL; labels are added here, in the reader's language, from the
configuration tables. Figures by visit reason are protected once (`reason_figures`, by
the rules of `privacy`), so every output format shows the same hidden cells.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from ..i18n import N_
from . import privacy
from .builders import BUILDERS
from .schema import KINDS, WEEKDAYS, Report, ReportError, Table
from .scope import Ctx, Names, make_scope

__all__ = ["KINDS", "WEEKDAYS", "Report", "ReportError", "Table", "compute"]


def compute(
    conn: Connection,
    kind: str,
    site_ids: list[int],
    first: date,
    last: date,
    *,
    lang: str = "en",
    minimum: int = privacy.DEFAULT_THRESHOLD,
    **options: Any,
) -> Report:
    """The report `kind` for the sites and local days [first, last], labelled in `lang`."""
    if kind not in BUILDERS:
        raise ReportError(
            "bad_kind",
            N_("no report '%(kind)s': one of %(kinds)s"),
            kind=kind,
            kinds=", ".join(KINDS),
        )
    scope = make_scope(conn, site_ids, first, last)
    ctx = Ctx(conn, scope, Names.load(conn, lang), minimum, dict(options))
    tables = BUILDERS[kind](ctx)
    return Report(
        kind,
        scope.site_slugs,
        first,
        last,
        scope.timezone,
        minimum,
        tuple(tables),
        {k: v for k, v in ctx.options.items() if kind in ("staffing", "unmet-demand")},
    )
