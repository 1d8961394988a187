"""Site configuration: sites, services, visit reasons and counters, as TOML files and tables.

The files in `server/sites/` and what `seira config export SITE` writes are one format,
a *document*; `rules.check` is the one set of rules for it, used by the files and the
admin forms alike. A document is checked as a whole first and refused with every
problem listed, so a typo never half-applies; then it is written in one transaction.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from sqlalchemy import select

from .. import audit, catalog, i18n
from ..db import Database
from ..errors import NotFound
from ..i18n import N_
from ..models import User
from . import tables
from .rules import ConfigError, Problem, check, require_valid

__all__ = ["ConfigError", "Problem", "check", "dumps", "export", "load", "load_data", "parse"]

HEADER = """\
# Seira site configuration, exported from the database.
# Load it with `seira config load FILE`, or import it in the admin area.
# Codes and slugs are stable identifiers: reports are keyed by them.
"""


def parse(path: str | Path) -> dict[str, Any]:
    """Read and check a configuration file; raise ConfigError listing every problem."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([Problem((), str(path), str(exc))]) from None
    return require_valid(data)


def counts(data: dict[str, Any]) -> dict[str, int]:
    """What a document holds, for the command line's answer."""
    found = {
        "sites": len(data["sites"]),
        "services": sum(len(site["services"]) for site in data["sites"]),
        "counters": sum(len(site.get("counters") or []) for site in data["sites"]),
        "reasons": len(data.get("reasons") or []),
    }
    if "staff" in data:
        found["staff"] = len(data["staff"])
    return found


def load_data(
    db: Database, data: dict[str, Any], actor: audit.Actor = audit.COMMAND_LINE
) -> dict[str, int]:
    """Check a document, then apply it and log each change in one transaction.

    Returns what the document holds."""
    require_valid(data)
    slugs = [site["slug"] for site in data["sites"]]
    with db.write() as s:
        before = tables.read(s, [slug for slug in slugs if tables.exists(s, slug)])
        tables.write(s, data)
        audit.record_document(s, actor, before, tables.read(s, slugs))
        _set_languages(s, data.get("staff", []), actor)
    catalog.invalidate(db)
    return counts(data)


def _set_languages(s: Any, people: list[dict[str, Any]], actor: audit.Actor) -> None:
    """The `staff` part of a document: the languages of existing accounts, each change
    logged as the admin area logs it. An unknown username is refused (ConfigError): the
    file makes no account, `seira user add` and the admin area do."""
    unknown = []
    for i, entry in enumerate(people):
        user = s.scalar(select(User).where(User.username == entry["username"]))
        if user is None:
            unknown.append(Problem(("staff", i, "username"), f"staff[{i}].username",
                                   N_("no account '%(name)s': add it first"),
                                   {"name": entry["username"]}))  # fmt: skip
            continue
        chosen = i18n.spoken(entry["languages"])
        if list(user.languages or []) != chosen:
            before, after = {"languages": list(user.languages or [])}, {"languages": chosen}
            user.languages = chosen
            for site_id in sorted({m.site_id for m in user.memberships}):
                audit.record(s, actor, "user.languages", f"users/{user.username}", before,
                             after, site_id)  # fmt: skip
    if unknown:
        raise ConfigError(unknown)


def load(db: Database, path: str | Path, actor: audit.Actor = audit.COMMAND_LINE) -> dict[str, int]:
    """Check the file, then apply it in one transaction; returns what it holds."""
    return load_data(db, parse(path), actor)


def export(db: Database, *slugs: str, staff: bool = False) -> dict[str, Any]:
    """The document of these sites (every active site if none is named), as loaded; with
    `staff`, also the languages of the people who have a role at one of them."""
    with db.read() as s:
        try:
            data = tables.read(s, list(slugs) or sorted(catalog.current(db).sites))
        except KeyError as exc:
            raise NotFound(f"no site '{exc.args[0]}'") from None
        if staff:
            data["staff"] = tables.read_staff(s, [site["slug"] for site in data["sites"]])
        return data


def dumps(data: dict[str, Any]) -> str:
    """A document as TOML text that `parse` reads back to the same document."""
    return HEADER + "\n" + tomli_w.dumps(data)
