"""The audit log: one row per change, with the old and new value, that cannot be rewritten."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from server import audit, auth, siteconfig
from server.db import Database
from server.models import AuditEntry, User, utcnow
from tests.conftest import PASSWORD

ADMIN = audit.Actor("sofia", None)


def _rows(db: Database, since_id: int = 0) -> list[tuple[str, str, Any, Any]]:
    with db.read() as s:
        return [
            (r.action, r.target, r.before, r.after)
            for r in s.scalars(
                select(AuditEntry).where(AuditEntry.id > since_id).order_by(AuditEntry.id)
            )
        ]


def _last_id(db: Database) -> int:
    with db.read() as s:
        return max(s.scalars(select(AuditEntry.id)), default=0)


def _site(data: dict, slug: str) -> dict:
    return next(site for site in data["sites"] if site["slug"] == slug)


def test_each_kind_of_configuration_change_leaves_one_row_with_old_and_new(db: Database) -> None:
    data = siteconfig.export(db, "thess-east")
    east = _site(data, "thess-east")
    east["hours"]["sat"] = "09:00-13:00"
    east["services"][1]["max_wait_min"] = 30
    east["services"].append(
        {
            "slug": "appointments",
            "prefix": "D",
            "labels": {"el": "Ραντεβού", "en": "Appointments"},
            "reasons": ["other"],
        }
    )
    east["counters"] = [c for c in east["counters"] if c["slug"] != "desk-3"]
    next(r for r in data["reasons"] if r["code"] == "legal.asylum")["labels"]["ar"] = "اللجوء"
    data["reasons"].append(
        {"code": "pets", "pictogram": "home", "labels": {"el": "Κατοικίδια", "en": "Pets"}}
    )
    mark = _last_id(db)
    siteconfig.load_data(db, data, ADMIN)

    rows = _rows(db, mark)
    assert sorted(rows, key=lambda r: r[1]) == sorted(
        [
            (
                "reason.changed",
                "reasons/legal.asylum",
                {"labels": {"el": "Διαδικασία ασύλου", "en": "Asylum procedure"}},
                {"labels": {"el": "Διαδικασία ασύλου", "en": "Asylum procedure", "ar": "اللجوء"}},
            ),
            (
                "reason.added",
                "reasons/pets",
                None,
                {
                    "code": "pets",
                    "pictogram": "home",
                    "sensitive": False,
                    "labels": {"el": "Κατοικίδια", "en": "Pets"},
                },
            ),
            (
                "site.changed",
                "sites/thess-east",
                {"hours": {d: "08:00-15:00" for d in ("mon", "tue", "wed", "thu", "fri")}},
                {
                    "hours": {d: "08:00-15:00" for d in ("mon", "tue", "wed", "thu", "fri")}
                    | {"sat": "09:00-13:00"}
                },
            ),
            (
                "service.changed",
                "thess-east/services/benefits",
                {"max_wait_min": 60},
                {"max_wait_min": 30},
            ),
            (
                "service.added",
                "thess-east/services/appointments",
                None,
                {
                    "slug": "appointments",
                    "prefix": "D",
                    "labels": {"el": "Ραντεβού", "en": "Appointments"},
                    "reasons": ["other"],
                    "max_wait_min": 45,
                    "when_overdue": "call_first",
                    "default_service_min": 10,
                },
            ),
            (
                "counter.removed",
                "thess-east/counters/desk-3",
                {
                    "slug": "desk-3",
                    "private": True,
                    "labels": {"el": "Γκισέ 3", "en": "Desk 3"},
                    "services": {"general": 1, "social-work": 2, "private": 3},
                },
                None,
            ),
        ],
        key=lambda r: r[1],
    )
    with db.read() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.id > mark)).all()
        assert {e.actor for e in entries} == {"sofia"}
        east_id = s.scalar(text("SELECT id FROM sites WHERE slug = 'thess-east'"))
        assert {e.site_id for e in entries if e.target.startswith("thess-east/")} == {east_id}
        assert all(abs(e.at - utcnow()) < timedelta(minutes=1) for e in entries)
    # the same document again changes nothing, and logs nothing
    siteconfig.load_data(db, data, ADMIN)
    assert len(_rows(db, mark)) == len(rows)


def test_a_refused_document_logs_nothing(db: Database) -> None:
    data = siteconfig.export(db, "thess-east")
    _site(data, "thess-east")["services"][0]["prefix"] = "b"
    mark = _last_id(db)
    with pytest.raises(siteconfig.ConfigError):
        siteconfig.load_data(db, data, ADMIN)
    assert _rows(db, mark) == []


def test_sign_ins_and_failed_sign_ins_are_logged_without_the_password(db: Database) -> None:
    mark = _last_id(db)
    auth.sign_in(db, "eleni", PASSWORD)
    for username, password in (("eleni", "wrong-password"), ("nobody", "whatever-it-is")):
        with pytest.raises(auth.AuthError):
            auth.sign_in(db, username, password)
    with db.read() as s:
        eleni = s.scalar(select(User.id).where(User.username == "eleni"))
        rows = s.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.user_id, AuditEntry.target)
            .where(AuditEntry.id > mark)
            .order_by(AuditEntry.id)
        ).all()
        every_value = repr(s.execute(select(AuditEntry)).all()) + repr(
            s.execute(text("SELECT * FROM audit_log")).all()
        )
    assert rows == [
        ("signin", "eleni", eleni, "users/eleni"),
        ("signin.failed", "eleni", eleni, "users/eleni"),
        ("signin.failed", "nobody", None, "users/nobody"),
    ]
    assert PASSWORD not in every_value and "wrong-password" not in every_value


def test_accounts_and_devices_are_logged(db: Database) -> None:
    mark = _last_id(db)
    auth.add_user(db, "petros", "a-long-passphrase", "staff", "thess-west", ADMIN)
    auth.add_user(db, "petros", "a-longer-passphrase", "supervisor", "thess-west", ADMIN)
    auth.add_device(db, "thess-west", "display", "hall", actor=ADMIN)
    auth.revoke_devices(db, "thess-west", "hall", ADMIN)
    assert [(a, t, b, n) for a, t, b, n in _rows(db, mark)] == [
        ("user.added", "users/petros", None, None),
        ("role.changed", "users/petros", None, {"role": "staff"}),
        ("user.password_set", "users/petros", None, None),
        ("role.changed", "users/petros", {"role": "staff"}, {"role": "supervisor"}),
        ("device.added", "thess-west/devices/hall", None, {"kind": "display", "name": "hall"}),
        ("device.revoked", "thess-west/devices/hall", {"kind": "display"}, None),
    ]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"],
)
def test_the_log_is_append_only(db: Database, statement: str) -> None:
    before = _rows(db)
    assert before  # loading the shipped file logged it
    with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text(statement))
    assert _rows(db) == before


def test_filters_and_csv(db: Database) -> None:
    auth.add_device(db, "thess-west", "kiosk", "door", actor=ADMIN)
    with pytest.raises(auth.AuthError):
        auth.sign_in(db, "eleni", "wrong-password")
    with db.read() as s:
        west = s.scalar(text("SELECT id FROM sites WHERE slug = 'thess-west'"))
    found = audit.entries(db, audit.Filter(action="device"))
    assert [(r.action, r.actor) for r in found] == [("device.added", "sofia")]
    assert [r.action for r in audit.entries(db, audit.Filter(site_ids=(west,), actor="sofia"))] == [
        "device.added"
    ]
    assert audit.entries(db, audit.Filter(action="signin"))[0].action == "signin.failed"
    assert audit.entries(db, audit.Filter(since=utcnow() + timedelta(hours=1))) == []
    assert audit.entries(db, audit.Filter(action="devic_")) == []  # a prefix, not a pattern

    exported = audit.to_csv(found, {west: "thess-west"})
    table = list(csv.DictReader(io.StringIO(exported)))
    assert list(table[0]) == list(audit.CSV_COLUMNS)
    assert table[0]["site"] == "thess-west" and table[0]["action"] == "device.added"
    assert table[0]["at_utc"].endswith("Z")
    assert '"name": "door"' in table[0]["after"]
