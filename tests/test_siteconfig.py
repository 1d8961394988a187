"""The site configuration loader (server/siteconfig.py) and the shipped Thessaloniki file.

The shipped file is checked through the database tables it produces, not through the
parsed TOML, so what is tested is what the kiosks and counters will read. Modified copies
of the file are written with the writer `seira config export` uses.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from server import catalog, migrate, siteconfig
from server.db import Database
from server.errors import NotFound, Refused
from server.models import (
    Base,
    Counter,
    CounterService,
    Reason,
    Service,
    ServiceReason,
    Site,
    Ticket,
)
from server.queue import transactions
from tests.conftest import CONFIG

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

# --- helpers ---------------------------------------------------------------------------------


def shipped() -> dict[str, Any]:
    with open(CONFIG, "rb") as fh:
        return tomllib.load(fh)


def write(tmp_path: Path, data: dict[str, Any] | str, name: str = "sites.toml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else siteconfig.dumps(data), encoding="utf-8")
    return path


def site_of(data: dict[str, Any], slug: str) -> dict[str, Any]:
    return next(s for s in data["sites"] if s["slug"] == slug)


def snapshot(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: equal before and after = nothing written."""
    out = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(table.select()).all()
            out[table.name] = sorted((tuple(map(repr, row)) for row in rows), key=repr)
    return out


def ids(db: Database) -> dict[str, list]:
    with db.read() as s:
        return {
            "sites": s.execute(select(Site.id, Site.slug).order_by(Site.id)).all(),
            "services": s.execute(
                select(Service.id, Service.site_id, Service.slug).order_by(Service.id)
            ).all(),
            "counters": s.execute(
                select(Counter.id, Counter.site_id, Counter.slug).order_by(Counter.id)
            ).all(),
            "reasons": s.scalars(select(Reason.code).order_by(Reason.code)).all(),
        }


@pytest.fixture
def empty_db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    migrate.upgrade(database)
    yield database
    database.dispose()


# --- the shipped file --------------------------------------------------------------------------


def test_shipped_file_loads_and_counts(empty_db: Database) -> None:
    counts = siteconfig.load(empty_db, CONFIG)
    data = shipped()
    assert counts == {
        "sites": 2,
        "services": 9,
        "counters": 7,
        "reasons": len(data["reasons"]),
    }
    with empty_db.read() as s:
        sites = s.scalars(select(Site).order_by(Site.slug)).all()
        assert [site.slug for site in sites] == ["thess-east", "thess-west"]
        for site in sites:
            assert site.active
            assert site.timezone == "Europe/Athens"
            assert site.hours == {day: "08:00-15:00" for day in WEEKDAYS}
            assert {"el", "en"} <= set(site.name) and {"el", "en"} <= set(site.address)
            active_counters = [c for c in site.counters if c.active]
            assert len(active_counters) >= 3, site.slug


def test_shipped_file_covers_every_reason_at_every_site(db: Database) -> None:
    with db.read() as s:
        groups = set(
            s.scalars(select(Reason.code).where(Reason.parent_code.is_(None), Reason.active))
        )
        all_codes = set(s.scalars(select(Reason.code).where(Reason.active)))
    assert len(groups) >= 10
    cat = catalog.current(db)
    for site in cat.sites.values():
        covered = set().union(*(svc.reasons for svc in cat.services_of(site.id)))
        # the file names groups; the catalog offers each group with its children
        assert all_codes - covered == set(), site.slug


def test_shipped_file_routes_each_group_to_one_service_per_site(db: Database) -> None:
    """The file's own comment: each reason group is routed to exactly one service per site."""
    with db.read() as s:
        rows = s.execute(
            select(Site.slug, ServiceReason.reason_code, Service.slug)
            .join(Service, Service.id == ServiceReason.service_id)
            .join(Site, Site.id == Service.site_id)
            .join(Reason, Reason.code == ServiceReason.reason_code)
            .where(Service.active, Reason.parent_code.is_(None))
        ).all()
    seen: dict[tuple[str, str], list[str]] = {}
    for site, code, service in rows:
        seen.setdefault((site, code), []).append(service)
    assert {k: v for k, v in seen.items() if len(v) != 1} == {}


def test_protection_and_the_discreet_path_are_sensitive_and_nothing_else_is(
    db: Database,
) -> None:
    with db.read() as s:
        reasons = s.scalars(select(Reason)).all()
    protection = [r for r in reasons if r.code == "protection" or r.parent_code == "protection"]
    assert len(protection) >= 4
    assert all(r.sensitive for r in protection)
    assert [r.code for r in reasons if r.sensitive and r not in protection] == ["private"]


def test_every_reason_has_greek_and_english_labels(db: Database) -> None:
    with db.read() as s:
        reasons = s.scalars(select(Reason)).all()
        services = s.scalars(select(Service)).all()
        counters = s.scalars(select(Counter)).all()
    for row in [*reasons, *services, *counters]:
        for lang in ("el", "en"):
            assert isinstance(row.labels.get(lang), str) and row.labels[lang].strip(), row


def test_reason_tree_has_two_levels(db: Database) -> None:
    with db.read() as s:
        reasons = {r.code: r for r in s.scalars(select(Reason))}
    for r in reasons.values():
        if r.parent_code is not None:
            assert reasons[r.parent_code].parent_code is None
            assert r.code.startswith(r.parent_code + ".")


def test_west_has_the_migrant_integration_centre(db: Database) -> None:
    with db.read() as s:
        rows = s.execute(
            select(Site.slug, Service.slug, Service.labels, Service.prefix)
            .join(Site, Site.id == Service.site_id)
            .where(Service.active)
        ).all()
    kem = [
        (site, slug, p) for site, slug, labels, p in rows if "Migrant Integration" in labels["en"]
    ]
    assert kem == [("thess-west", "integration", "K")]
    cat = catalog.current(db)
    covered = cat.service(cat.sites["thess-west"].id, "integration").reasons
    assert {"integration", "integration.greek_classes", "legal", "legal.asylum"} <= covered


def test_every_counter_serves_and_every_service_is_served(db: Database) -> None:
    with db.read() as s:
        links = s.execute(
            select(CounterService.counter_id, CounterService.service_id, CounterService.weight)
        ).all()
        counters = s.scalars(select(Counter).where(Counter.active)).all()
        services = s.scalars(select(Service).where(Service.active)).all()
        site_of_counter = {c.id: c.site_id for c in counters}
        site_of_service = {svc.id: svc.site_id for svc in services}
    assert counters and services
    assert {c.id for c in counters} <= {cid for cid, _, _ in links}
    assert {svc.id for svc in services} <= {sid for _, sid, _ in links}
    for counter_id, service_id, weight in links:
        assert weight >= 1
        # a counter only serves the services of its own site
        assert site_of_counter[counter_id] == site_of_service[service_id]


def test_catalog_sees_the_shipped_configuration(db: Database) -> None:
    cat = catalog.current(db)
    assert set(cat.sites) == {"thess-east", "thess-west"}
    for site in cat.sites.values():
        services = cat.services_of(site.id)
        assert all(svc.counters_serving >= 1 for svc in services)
        assert all(svc.reasons for svc in services)


# --- loading again ---------------------------------------------------------------------------


def test_loading_twice_is_idempotent(db: Database) -> None:
    before, before_ids = snapshot(db), ids(db)
    siteconfig.load(db, CONFIG)
    assert ids(db) == before_ids
    assert snapshot(db) == before
    siteconfig.load(db, CONFIG)
    assert snapshot(db) == before


def test_a_round_trip_through_the_toml_writer_changes_nothing(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, shipped())
    with open(path, "rb") as fh:
        assert tomllib.load(fh) == shipped()
    before = snapshot(db)
    siteconfig.load(db, path)
    assert snapshot(db) == before


def _configuration(db: Database) -> dict[str, Any]:
    """The configuration by stable codes and slugs, without row ids."""
    with db.read() as s:
        site_slug = dict(s.execute(select(Site.id, Site.slug)).all())
        service_slug = dict(s.execute(select(Service.id, Service.slug)).all())
        return {
            "sites": sorted(
                (
                    r.slug,
                    repr(r.name),
                    repr(r.address),
                    r.timezone,
                    repr(r.hours),
                    r.priority_max_in_row,
                    repr(r.reasons_off),
                    r.active,
                )
                for r in s.scalars(select(Site))
            ),
            "reasons": sorted(
                (
                    r.code,
                    r.parent_code,
                    r.pictogram,
                    r.sensitive,
                    repr(r.labels),
                    r.position,
                    r.active,
                )
                for r in s.scalars(select(Reason))
            ),
            "services": sorted(
                (
                    site_slug[r.site_id],
                    r.slug,
                    r.prefix,
                    repr(r.labels),
                    r.max_wait_min,
                    r.default_service_min,
                    r.position,
                    r.active,
                )
                for r in s.scalars(select(Service))
            ),
            "covers": sorted(
                (service_slug[r.service_id], r.reason_code)
                for r in s.scalars(select(ServiceReason))
            ),
            "counters": sorted(
                (
                    site_slug[r.site_id],
                    r.slug,
                    repr(r.labels),
                    r.position,
                    r.active,
                    sorted((service_slug[k.service_id], k.weight) for k in r.service_links),
                )
                for r in s.scalars(select(Counter))
            ),
        }


def test_each_site_exported_and_loaded_again_is_the_same(
    db: Database, empty_db: Database, tmp_path: Path
) -> None:
    for slug in ("thess-east", "thess-west"):
        text = siteconfig.dumps(siteconfig.export(db, slug))
        assert text.startswith("# Seira site configuration")
        siteconfig.load(empty_db, write(tmp_path, text, f"{slug}.toml"))
        assert siteconfig.export(empty_db, slug) == siteconfig.export(db, slug)
    assert _configuration(empty_db) == _configuration(db)
    # and loading the export where it came from changes nothing at all
    before = snapshot(db)
    siteconfig.load(db, write(tmp_path, siteconfig.dumps(siteconfig.export(db))))
    assert snapshot(db) == before


def test_the_export_of_the_shipped_file_says_what_the_file_says(db: Database) -> None:
    exported = siteconfig.export(db)
    data = shipped()
    assert exported["reasons"] == [{"sensitive": False, **r} for r in data["reasons"]]
    order = [r["code"] for r in data["reasons"]]
    for site in data["sites"]:
        again = site_of(exported, site["slug"])
        # a service's reasons come out in the taxonomy's order, which the kiosk shows
        assert again["services"] == [
            {
                **siteconfig.tables.SERVICE_DEFAULTS,
                **svc,
                "reasons": sorted(svc["reasons"], key=order.index),
            }
            for svc in site["services"]
        ]
        assert again["counters"] == site["counters"]
        assert {k: v for k, v in again.items() if k not in ("services", "counters")} == {
            k: v for k, v in site.items() if k not in ("services", "counters")
        }


def test_a_site_switches_a_reason_off_and_its_services_stop_offering_it(
    db: Database, tmp_path: Path
) -> None:
    data = siteconfig.export(db, "thess-east")
    site_of(data, "thess-east")["reasons_off"] = ["legal.asylum", "housing"]
    siteconfig.load(db, write(tmp_path, data))
    cat = catalog.current(db)
    east, west = cat.sites["thess-east"].id, cat.sites["thess-west"].id
    offered = set().union(*(svc.reasons for svc in cat.services_of(east)))
    assert "legal.asylum" not in offered and "legal.residence" in offered
    assert not {code for code in offered if code.split(".")[0] == "housing"}
    assert "legal.asylum" in set().union(*(svc.reasons for svc in cat.services_of(west)))
    with pytest.raises(Refused):
        transactions.issue_ticket(
            db, site="thess-east", service="social-work", reason="legal.asylum", lang="el"
        )
    assert siteconfig.export(db, "thess-east")["sites"][0]["reasons_off"] == [
        "legal.asylum",
        "housing",
    ]


def test_a_reason_added_to_a_group_is_offered_where_the_group_is(
    db: Database, tmp_path: Path
) -> None:
    data = siteconfig.export(db)
    data["reasons"].append(
        {
            "code": "legal.citizenship",
            "parent": "legal",
            "pictogram": "id",
            "labels": {"el": "Ιθαγένεια", "en": "Citizenship", "ar": "الجنسية"},
        }
    )
    siteconfig.load(db, write(tmp_path, data))
    cat = catalog.current(db)
    assert "legal.citizenship" in cat.service(cat.sites["thess-east"].id, "social-work").reasons
    assert "legal.citizenship" in cat.service(cat.sites["thess-west"].id, "integration").reasons


def test_an_unknown_site_is_not_exported(db: Database) -> None:
    with pytest.raises(NotFound):
        siteconfig.export(db, "nowhere")


def test_dropping_a_service_deactivates_it_and_unlinks_its_counters(
    db: Database, tmp_path: Path
) -> None:
    ticket = transactions.issue_ticket(
        db, site="thess-west", service="integration", reason="integration", lang="el"
    )
    with db.read() as s:
        svc_id = s.scalar(
            select(Service.id)
            .join(Site, Site.id == Service.site_id)
            .where(Site.slug == "thess-west", Service.slug == "integration")
        )
        assert s.scalars(select(CounterService).where(CounterService.service_id == svc_id)).all()
    before_ids = ids(db)
    before = snapshot(db)

    data = shipped()
    west = site_of(data, "thess-west")
    west["services"] = [svc for svc in west["services"] if svc["slug"] != "integration"]
    west["services"][0]["reasons"] += ["integration", "legal"]  # still routed somewhere
    for counter in west["counters"]:
        counter["services"].pop("integration", None)
    siteconfig.load(db, write(tmp_path, data))

    assert ids(db) == before_ids  # nothing deleted, nothing new
    with db.read() as s:
        svc = s.get(Service, svc_id)
        assert svc is not None and not svc.active
        assert (
            s.scalars(select(CounterService).where(CounterService.service_id == svc_id)).all() == []
        )
        desk4 = s.scalar(
            select(Counter)
            .join(Site, Site.id == Counter.site_id)
            .where(Site.slug == "thess-west", Counter.slug == "desk-4")
        )
        assert desk4.active and [link.service_id for link in desk4.service_links] != []
        assert s.get(Ticket, ticket.id).service_id == svc_id
    after = snapshot(db)
    for table in ("tickets", "events", "ticket_numbers"):
        assert after[table] == before[table], table
    cat = catalog.current(db)
    assert cat.service(cat.sites["thess-west"].id, "integration") is None
    with pytest.raises(Refused):
        transactions.issue_ticket(
            db, site="thess-west", service="integration", reason="integration", lang="el"
        )
    # the other site's service of the same slug is not affected
    assert cat.service(cat.sites["thess-east"].id, "general") is not None


def test_a_dropped_service_comes_back_with_its_id(db: Database, tmp_path: Path) -> None:
    before_ids = ids(db)
    data = shipped()
    east = site_of(data, "thess-east")
    east["services"] = [svc for svc in east["services"] if svc["slug"] != "benefits"]
    east["services"][0]["reasons"] += ["benefits", "disability"]
    for counter in east["counters"]:
        counter["services"].pop("benefits", None)
    siteconfig.load(db, write(tmp_path, data))
    siteconfig.load(db, CONFIG)
    assert ids(db) == before_ids
    with db.read() as s:
        assert all(s.scalars(select(Service.active)))


def test_dropping_a_reason_deactivates_it(db: Database, tmp_path: Path) -> None:
    ticket = transactions.issue_ticket(
        db, site="thess-east", service="general", reason="referral.tax_office", lang="el"
    )
    data = shipped()
    data["reasons"] = [
        r
        for r in data["reasons"]
        if r["code"] != "integration.it_classes"
        and r["code"] != "referral"
        and r.get("parent") != "referral"
    ]
    for site in data["sites"]:
        for svc in site["services"]:
            svc["reasons"] = [code for code in svc["reasons"] if code != "referral"]
    siteconfig.load(db, write(tmp_path, data))

    dropped = {"integration.it_classes", "referral", "referral.tax_office", "referral.efka"}
    with db.read() as s:
        reasons = {r.code: r for r in s.scalars(select(Reason))}
        linked = set(s.scalars(select(ServiceReason.reason_code)))
        assert s.get(Ticket, ticket.id).reason_code == "referral.tax_office"
    assert dropped <= set(reasons)  # rows stay: tickets and events refer to them
    assert all(not reasons[code].active for code in dropped)
    assert all(
        r.active
        for code, r in reasons.items()
        if code.split(".")[0] != "referral" and code != "integration.it_classes"
    )
    assert linked & dropped == set()
    cat = catalog.current(db)
    assert dropped & set(cat.reasons) == set()
    with pytest.raises(Refused):
        transactions.issue_ticket(
            db, site="thess-east", service="general", reason="referral.tax_office", lang="el"
        )


def test_a_file_of_one_site_leaves_the_others_alone(db: Database, tmp_path: Path) -> None:
    data = shipped()
    data["sites"] = [site_of(data, "thess-east")]
    before = snapshot(db)
    siteconfig.load(db, write(tmp_path, data))
    assert snapshot(db) == before
    assert set(catalog.current(db).sites) == {"thess-east", "thess-west"}


# --- invalid files ---------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _unknown_reason(d: dict) -> None:
    site_of(d, "thess-east")["services"][0]["reasons"].append("no_such_reason")


def _duplicate_prefix(d: dict) -> None:
    site_of(d, "thess-east")["services"][1]["prefix"] = "A"


def _lowercase_prefix(d: dict) -> None:
    site_of(d, "thess-west")["services"][3]["prefix"] = "k"


def _two_letter_prefix(d: dict) -> None:
    site_of(d, "thess-west")["services"][3]["prefix"] = "KE"


def _greek_prefix(d: dict) -> None:
    site_of(d, "thess-west")["services"][3]["prefix"] = "Κ"  # Greek capital kappa


def _counter_unknown_service(d: dict) -> None:
    site_of(d, "thess-east")["counters"][2]["services"]["integration"] = 1


def _weight_zero(d: dict) -> None:
    site_of(d, "thess-west")["counters"][0]["services"]["general"] = 0


def _missing_en_reason(d: dict) -> None:
    del next(r for r in d["reasons"] if r["code"] == "legal.asylum")["labels"]["en"]


def _missing_en_service(d: dict) -> None:
    del site_of(d, "thess-east")["services"][2]["labels"]["en"]


def _bad_timezone(d: dict) -> None:
    site_of(d, "thess-west")["timezone"] = "Europe/Thessaloniki"


def _malformed_hours(d: dict) -> None:
    site_of(d, "thess-east")["hours"]["mon"] = "8-15"


def _unknown_day(d: dict) -> None:
    site_of(d, "thess-east")["hours"]["monday"] = "08:00-15:00"


def _missing_parent(d: dict) -> None:
    d["reasons"].append(
        {
            "code": "pets.vet",
            "parent": "pets",
            "pictogram": "id",
            "labels": {"el": "Κτηνίατρος", "en": "Vet"},
        }
    )


def _parent_is_a_child(d: dict) -> None:
    d["reasons"].append(
        {
            "code": "extra.item",
            "parent": "benefits.min_income",
            "pictogram": "id",
            "labels": {"el": "x", "en": "x"},
        }
    )


def _unknown_pictogram(d: dict) -> None:
    next(r for r in d["reasons"] if r["code"] == "legal")["pictogram"] = "unicorn"


def _no_sites(d: dict) -> None:
    d["sites"] = []


INVALID: list[tuple[str, Mutation, str]] = [
    ("unknown reason", _unknown_reason, "unknown reason 'no_such_reason'"),
    ("duplicate prefix", _duplicate_prefix, "(benefits) prefix: must be one capital"),
    ("lowercase prefix", _lowercase_prefix, "(integration) prefix: must be one capital"),
    ("two-letter prefix", _two_letter_prefix, "(integration) prefix: must be one capital"),
    ("greek prefix", _greek_prefix, "(integration) prefix: must be one capital"),
    ("counter unknown service", _counter_unknown_service, "unknown service 'integration'"),
    ("weight 0", _weight_zero, "(desk-1) services.general: must be 1 or more"),
    (
        "missing en label on a reason",
        _missing_en_reason,
        "(legal.asylum) labels.en: a label in en is required",
    ),
    (
        "missing en label on a service",
        _missing_en_service,
        "(social-work) labels.en: a label in en is required",
    ),
    ("bad timezone", _bad_timezone, "unknown timezone 'Europe/Thessaloniki'"),
    ("malformed hours", _malformed_hours, "hours entry mon = '8-15'"),
    ("unknown day", _unknown_day, "hours entry monday"),
    ("missing parent", _missing_parent, "parent 'pets' is not a group"),
    ("parent is a child", _parent_is_a_child, "parent 'benefits.min_income' is not a group"),
    ("unknown pictogram", _unknown_pictogram, "(legal) pictogram: no pictogram 'unicorn'"),
    ("no sites", _no_sites, "sites: needs at least one entry"),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [(m, e) for _, m, e in INVALID], ids=[i for i, _, _ in INVALID]
)
def test_invalid_file_is_refused_and_nothing_written(
    db: Database, tmp_path: Path, mutate: Mutation, expected: str
) -> None:
    data = copy.deepcopy(shipped())
    mutate(data)
    path = write(tmp_path, data)
    before = snapshot(db)
    with pytest.raises(siteconfig.ConfigError) as info:
        siteconfig.load(db, path)
    assert any(expected in problem for problem in info.value.problems), info.value.problems
    assert expected in str(info.value)
    assert len(info.value.problems) == 1, info.value.problems
    assert snapshot(db) == before


def _duplicate_site_slug(d: dict) -> None:
    d["sites"].append(copy.deepcopy(site_of(d, "thess-east")))


def _counter_services_as_list(d: dict) -> None:
    site_of(d, "thess-east")["counters"][0]["services"] = ["general", "benefits"]


def _hours_as_text(d: dict) -> None:
    site_of(d, "thess-east")["hours"] = "mon-fri 08:00-15:00"


def _reason_not_a_table(d: dict) -> None:
    d["reasons"].append("other")


def _service_not_a_table(d: dict) -> None:
    site_of(d, "thess-east")["services"].append("general")


def _weight_true(d: dict) -> None:
    site_of(d, "thess-east")["counters"][0]["services"]["general"] = True


def _closing_before_opening(d: dict) -> None:
    site_of(d, "thess-east")["hours"]["mon"] = "15:00-08:00"


MORE_INVALID = [
    pytest.param(
        _duplicate_site_slug,
        "thess-east",
        id="duplicate site slug",
    ),
    pytest.param(
        _counter_services_as_list,
        "desk-1",
        id="counter services as a list",
    ),
    pytest.param(
        _hours_as_text,
        "hours",
        id="hours as text",
    ),
    pytest.param(
        _reason_not_a_table,
        "reasons",
        id="reason not a table",
    ),
    pytest.param(
        _service_not_a_table,
        "services",
        id="service not a table",
    ),
    pytest.param(
        _weight_true,
        "(desk-1) services.general: must be a whole number",
        id="weight true",
    ),
    pytest.param(
        _closing_before_opening,
        "15:00-08:00",
        id="closing before opening",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), MORE_INVALID)
def test_more_invalid_files_are_refused(
    db: Database, tmp_path: Path, mutate: Mutation, expected: str
) -> None:
    data = shipped()
    mutate(data)
    path = write(tmp_path, data)
    before = snapshot(db)
    try:
        with pytest.raises(siteconfig.ConfigError) as info:
            siteconfig.load(db, path)
        assert any(expected in problem for problem in info.value.problems)
    finally:
        assert snapshot(db) == before


def test_invalid_file_on_an_empty_database_writes_nothing(
    empty_db: Database, tmp_path: Path
) -> None:
    data = shipped()
    _weight_zero(data)
    before = snapshot(empty_db)
    with pytest.raises(siteconfig.ConfigError):
        siteconfig.load(empty_db, write(tmp_path, data))
    assert snapshot(empty_db) == before
    assert all(rows == [] for name, rows in before.items())


TOML_SYNTAX_ERRORS = [
    '[[sites]]\nslug = "thess-east\n',  # unterminated string
    "[[reasons]]\ncode = other\n",  # bare word as a value
    '[[sites]]\nslug = "a"\nslug = "b"\n',  # duplicate key
]


@pytest.mark.parametrize("text", TOML_SYNTAX_ERRORS, ids=["string", "bare", "duplicate"])
def test_toml_syntax_error_is_a_config_error(db: Database, tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    before = snapshot(db)
    with pytest.raises(siteconfig.ConfigError) as info:
        siteconfig.load(db, path)
    assert len(info.value.problems) == 1
    assert str(path) in info.value.problems[0]
    assert "line" in info.value.problems[0]  # tomllib says where
    assert snapshot(db) == before


def test_small_hand_written_file(empty_db: Database, tmp_path: Path) -> None:
    text = """
[[reasons]]
code = "other"
pictogram = "help-circle"
labels = { el = "Άλλο", en = "Other" }

[[sites]]
slug = "tiny"
name = { el = "Μικρό", en = "Tiny" }
address = { el = "Οδός 1", en = "Street 1" }
timezone = "Europe/Athens"
hours = { sat = "09:00-13:00" }

[[sites.services]]
slug = "general"
prefix = "Z"
labels = { el = "Γενικά", en = "General" }
reasons = ["other"]

[[sites.counters]]
slug = "desk"
labels = { el = "Γκισέ", en = "Desk" }
services = { general = 1 }
"""
    counts = siteconfig.load(empty_db, write(tmp_path, text))
    assert counts == {"sites": 1, "services": 1, "counters": 1, "reasons": 1}
    with empty_db.read() as s:
        svc = s.scalar(select(Service))
        assert (svc.prefix, svc.max_wait_min, svc.default_service_min) == ("Z", 45, 10)
        assert s.scalar(select(Site)).priority_max_in_row == 2
        assert s.scalar(select(Reason)).sensitive is False


def test_several_problems_are_all_listed(db: Database, tmp_path: Path) -> None:
    data = shipped()
    for mutate in (
        _unknown_reason,
        _duplicate_prefix,
        _counter_unknown_service,
        _missing_en_reason,
        _bad_timezone,
        _malformed_hours,
        _missing_parent,
    ):
        mutate(data)
    before = snapshot(db)
    with pytest.raises(siteconfig.ConfigError) as info:
        siteconfig.load(db, write(tmp_path, data))
    problems = info.value.problems
    for expected in (
        "unknown reason 'no_such_reason'",
        "(benefits) prefix: must be one capital",
        "unknown service 'integration'",
        "(legal.asylum) labels.en: a label in en is required",
        "unknown timezone 'Europe/Thessaloniki'",
        "hours entry mon = '8-15'",
        "parent 'pets' is not a group",
    ):
        assert sum(expected in p for p in problems) == 1, (expected, problems)
    assert len(problems) == 7, problems
    message = str(info.value)
    assert message.startswith("invalid configuration:")
    assert all(p in message for p in problems)
    assert snapshot(db) == before


# --- how long a site keeps its visits in detail (server/retention.py) -----------------------


def test_retention_days_default_to_ninety_and_round_trip(db: Database, tmp_path: Path) -> None:
    assert {s["slug"]: s["retention_days"] for s in siteconfig.export(db)["sites"]} == {
        "thess-east": 90,
        "thess-west": 90,
    }
    data = shipped()
    site_of(data, "thess-east")["retention_days"] = 0
    del site_of(data, "thess-west")["retention_days"]  # not said: the default
    siteconfig.load(db, write(tmp_path, data))
    exported = siteconfig.export(db)
    assert [s["retention_days"] for s in exported["sites"]] == [0, 90]
    assert siteconfig.parse(write(tmp_path, siteconfig.dumps(exported), "again.toml")) == exported


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-1, "(thess-east) retention_days: must be 0 or more"),
        (3651, "(thess-east) retention_days: must be 3650 or less"),
        ("90", "(thess-east) retention_days: must be a whole number"),
        (12.5, "(thess-east) retention_days: must be a whole number"),
    ],
)
def test_retention_days_out_of_range_are_refused(
    db: Database, tmp_path: Path, value: Any, expected: str
) -> None:
    data = shipped()
    site_of(data, "thess-east")["retention_days"] = value
    before = snapshot(db)
    with pytest.raises(siteconfig.ConfigError) as info:
        siteconfig.load(db, write(tmp_path, data))
    assert info.value.problems == [f"sites[0] {expected}"]
    assert snapshot(db) == before


# --- the languages of staff ---------------------------------------------------------------


def test_a_file_sets_the_languages_of_existing_staff_and_logs_it(db: Database) -> None:
    from server import auth
    from server.models import AuditEntry, User

    auth.add_user(db, "dariush", "a long sandbox password", "staff", "thess-east")
    data = siteconfig.export(db, "thess-east")
    data["staff"] = [{"username": "dariush", "languages": ["fa", "el", "fa_AF"]}]
    counts = siteconfig.load_data(db, data)
    assert counts["staff"] == 1
    with db.read() as s:
        languages = s.scalar(select(User.languages).where(User.username == "dariush"))
        logged = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.languages")).all()
    assert languages == ["el", "fa", "fa_AF"]  # in the kiosk's order
    assert [(e.target, e.after) for e in logged] == [
        ("users/dariush", {"languages": ["el", "fa", "fa_AF"]})
    ]
    exported = siteconfig.export(db, "thess-east", staff=True)
    assert {"username": "dariush", "languages": ["el", "fa", "fa_AF"]} in exported["staff"]
    assert siteconfig.check(exported) == []


def test_a_file_naming_an_unknown_person_or_language_changes_nothing(db: Database) -> None:
    from server import auth
    from server.models import User

    auth.add_user(db, "dariush", "a long sandbox password", "staff", "thess-east")
    data = siteconfig.export(db, "thess-east")
    data["staff"] = [{"username": "dariush", "languages": ["xx"]}]
    assert [p.where for p in siteconfig.check(data)] == ["staff[0].languages[0]"]
    data["staff"] = [
        {"username": "dariush", "languages": ["fa"]},
        {"username": "nobody", "languages": ["ar"]},
    ]
    with pytest.raises(siteconfig.ConfigError) as refused:
        siteconfig.load_data(db, data)
    assert [p.where for p in refused.value.found] == ["staff[1].username"]
    with db.read() as s:
        assert s.scalar(select(User.languages).where(User.username == "dariush")) == ["el"]


def test_only_an_administrator_of_every_site_sets_languages_from_a_file(
    db: Database, tokens: dict[str, str]
) -> None:
    from server import auth
    from server.errors import Forbidden
    from server.frontdesk import FrontDesk

    supervisor = auth.authenticate(db, tokens["supervisor"])  # of thess-east only
    data = siteconfig.export(db, "thess-east")
    FrontDesk(db).configure(supervisor, data)  # the centre's own settings: allowed
    data["staff"] = [{"username": "eleni", "languages": ["ar"]}]
    with pytest.raises(Forbidden):
        FrontDesk(db).configure(supervisor, data)
