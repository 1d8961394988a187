"""The audit log: who changed what in the configuration, accounts and devices, and when.

Each change is written in the same transaction as the change itself, so the log never
tells of a change that did not happen, nor misses one that did. A row holds only the
fields that changed, old and new, in the words of the configuration document; the log
is append-only (the database refuses updates and deletes) and holds nothing about
visitors. Reading it is for admins: `entries` filters, `to_csv` exports.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import Database
from .models import AuditEntry, Site

CLI_ACTOR = "seira command"


@dataclass(frozen=True)
class Actor:
    """Who made a change: a signed-in user, or the command line on the server."""

    name: str
    user_id: int | None = None


COMMAND_LINE = Actor(CLI_ACTOR)


def record(
    s: Session,
    actor: Actor,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    site_id: int | None = None,
) -> None:
    """Add one row to the log inside the caller's transaction."""
    s.add(
        AuditEntry(
            user_id=actor.user_id,
            actor=actor.name[:64],
            site_id=site_id,
            action=action,
            target=target[:200],
            before=before,
            after=after,
        )
    )


# --- what changed between two configuration documents -----------------------------------------


def _changed(old: dict[str, Any], new: dict[str, Any], nested: Iterable[str] = ()) -> tuple:
    """The fields that differ, old and new, leaving out the nested lists of children."""
    keys = [k for k in dict.fromkeys([*old, *new]) if k not in nested]
    diff = [k for k in keys if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in diff}, {k: new.get(k) for k in diff}


def _items(
    kind: str, where: str, old: list[dict], new: list[dict], key: str
) -> Iterator[tuple[str, str, Any, Any]]:
    before = {item[key]: item for item in old}
    after = {item[key]: item for item in new}
    for name in dict.fromkeys([*before, *after]):
        target = f"{where}{kind}s/{name}"
        if name not in before:
            yield f"{kind}.added", target, None, after[name]
        elif name not in after:
            yield f"{kind}.removed", target, before[name], None
        else:
            was, now = _changed(before[name], after[name])
            if was:
                yield f"{kind}.changed", target, was, now


def document_changes(
    old: dict[str, Any], new: dict[str, Any]
) -> Iterator[tuple[str | None, str, str, Any, Any]]:
    """(site slug, action, target, before, after) for each item a new document changes.

    `old` holds what the tables held for the sites of `new`; sites `new` does not name
    are not compared (loading a document leaves them alone).
    """
    if "reasons" in new:
        for action, target, was, now in _items(
            "reason", "", old.get("reasons", []), new["reasons"], "code"
        ):
            yield None, action, target, was, now
    old_sites = {site["slug"]: site for site in old.get("sites", [])}
    for site in new["sites"]:
        slug = site["slug"]
        if slug not in old_sites:
            yield (
                slug,
                "site.added",
                f"sites/{slug}",
                None,
                _changed({}, site, ("services", "counters"))[1],
            )
            previous: dict[str, Any] = {"services": [], "counters": []}
        else:
            previous = old_sites[slug]
            was, now = _changed(previous, site, ("services", "counters"))
            if was:
                yield slug, "site.changed", f"sites/{slug}", was, now
        for kind in ("service", "counter"):
            for action, target, was, now in _items(
                kind, f"{slug}/", previous[kind + "s"], site.get(kind + "s", []), "slug"
            ):
                yield slug, action, target, was, now


def record_document(s: Session, actor: Actor, old: dict[str, Any], new: dict[str, Any]) -> int:
    """Log every change from `old` to `new` (both as the tables hold them); returns how many."""
    site_ids = dict(s.execute(select(Site.slug, Site.id)).all())
    n = 0
    for slug, action, target, was, now in document_changes(old, new):
        record(s, actor, action, target, was, now, site_ids.get(slug) if slug else None)
        n += 1
    return n


# --- reading it back -------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """What an admin asks of the log; every field optional."""

    site_ids: tuple[int, ...] | None = None  # None: every site, and changes of no site
    action: str | None = None  # a prefix: "service" matches service.added and .changed
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def entries(db: Database, wanted: Filter, limit: int = 500) -> list[AuditEntry]:
    """The newest rows first that match the filter."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if wanted.site_ids is not None:
        query = query.where(AuditEntry.site_id.in_(wanted.site_ids))
    if wanted.action:
        query = query.where(AuditEntry.action.startswith(wanted.action, autoescape=True))
    if wanted.actor:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.since:
        query = query.where(AuditEntry.at >= wanted.since)
    if wanted.until:
        query = query.where(AuditEntry.at < wanted.until)
    with db.read() as s:
        rows = s.scalars(query).all()
        s.expunge_all()
    return list(rows)


CSV_COLUMNS = ("at_utc", "actor", "site", "action", "target", "before", "after")


def to_csv(rows: Iterable[AuditEntry], site_slugs: dict[int, str]) -> str:
    """The rows as CSV, times in UTC (ISO 8601), values as JSON."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.at.isoformat().replace("+00:00", "Z"),
                row.actor,
                site_slugs.get(row.site_id, "") if row.site_id else "",
                row.action,
                row.target,
                "" if row.before is None else json.dumps(row.before, ensure_ascii=False),
                "" if row.after is None else json.dumps(row.after, ensure_ascii=False),
            ]
        )
    return out.getvalue()
