"""Who may know a ticket's sensitive visit reason: one rule for the API and the staff pages.

A sensitive reason (support for victims of violence, safe shelter, trafficking) tells
anyone who reads it something that could endanger the visitor. So it is known only to the
staff member serving the ticket at their counter, to the site's supervisors and
administrators, and to staff marked as trained for these reasons at that site. Everyone
else with access to the ticket sees no reason at all, as if none had been given; a
reason that is not sensitive is shown to all staff of the site as before.
"""

from __future__ import annotations

from .auth import Can, Principal
from .catalog import Catalog
from .db import Database
from .queue import reads


def is_sensitive(cat: Catalog, reason_code: str | None) -> bool:
    """A reason marked sensitive, or one in a sensitive group."""
    return cat.sensitive(reason_code)


def serving(db: Database, site_id: int, counter: str | None) -> str | None:
    """The username of whoever holds that counter now, if anyone."""
    if counter is None:
        return None
    found = next((x for x in reads.staffing(db, site_id) if x.counter == counter), None)
    return found.user if found else None


def may_know_sensitive(db: Database, who: Principal, site_id: int, counter: str | None) -> bool:
    """Whether `who` may see the sensitive reason of a ticket of `site_id` at `counter`."""
    if who.can(Can.REPORTS, site_id) or site_id in who.trained_at:
        return True
    return who.kind == "staff" and serving(db, site_id, counter) == who.name


def may_know_reason(
    db: Database,
    cat: Catalog,
    who: Principal,
    site_id: int,
    reason: str | None,
    counter: str | None,
) -> bool:
    """Whether `who` may see this reason of a ticket of `site_id`, at `counter` (or none)."""
    return not is_sensitive(cat, reason) or may_know_sensitive(db, who, site_id, counter)
