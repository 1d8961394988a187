"""The admin area through its pages: forms edit the configuration by the loader's rules,
errors land next to their fields in the reader's language, nothing half-applies, and each
person configures only what is theirs."""

from __future__ import annotations

import tomllib
from io import BytesIO

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import auth, catalog, siteconfig
from server.db import Database
from server.models import AuditEntry
from tests.conftest import PASSWORD
from tests.test_counter_pages import csrf_of, signed_in

NEW_SERVICE = {
    "slug": "appointments",
    "prefix": "D",
    "labels.el": "Ραντεβού",
    "labels.en": "Appointments",
    "labels.ar": "المواعيد",
    "reasons": ["other", "legal"],
    "max_wait_min": "30",
}


@pytest.fixture
def admin(app: Flask, db: Database) -> tuple[FlaskClient, str]:
    auth.add_user(db, "sofia", PASSWORD, "admin", "thess-east")
    auth.add_user(db, "sofia", PASSWORD, "admin", "thess-west")
    return signed_in(app, "sofia")


def _greek(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["lang"] = "el"


def _snapshot(db: Database) -> str:
    return siteconfig.dumps(siteconfig.export(db))


def test_an_admin_adds_a_service_with_labels_in_three_languages(
    admin: tuple[FlaskClient, str], db: Database
) -> None:
    client, csrf = admin
    page = client.get("/admin/thess-east/services/new")
    assert page.status_code == 200
    response = client.post(
        "/admin/thess-east/services/new", data={**NEW_SERVICE, "csrf_token": csrf}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    cat = catalog.current(db)
    east = cat.sites["thess-east"]
    svc = cat.service(east.id, "appointments")
    assert svc is not None and svc.prefix == "D" and svc.max_wait_min == 30
    assert svc.labels == {"el": "Ραντεβού", "en": "Appointments", "ar": "المواعيد"}
    assert "legal.asylum" in svc.reasons  # the group brings its children
    listed = catalog.services_in(cat, east.id, "ar")
    assert any(s["label"] == "المواعيد" for s in listed)
    with db.read() as s:
        row = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (row.action, row.target, row.actor) == (
        "service.added",
        "thess-east/services/appointments",
        "sofia",
    )
    assert "Αποθηκεύτηκε" in client.get("/admin/thess-east/").get_data(as_text=True)


def test_a_refused_form_shows_each_error_by_its_field_in_greek_and_changes_nothing(
    admin: tuple[FlaskClient, str], db: Database
) -> None:
    client, csrf = admin
    _greek(client)
    before = _snapshot(db)
    bad = {**NEW_SERVICE, "prefix": "A", "labels.en": "", "csrf_token": csrf}  # A: general's
    response = client.post("/admin/thess-east/services/new", data=bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="err-prefix">πρέπει να είναι ένα κεφαλαίο λατινικό γράμμα' in page
    assert 'id="err-labels-en">χρειάζεται ετικέτα στα en' in page
    assert 'value="Ραντεβού"' in page  # what was typed stays in the form
    assert "Δεν άλλαξε τίποτα" in page
    # the shape is checked before the meaning, as for a file
    soon = {**NEW_SERVICE, "max_wait_min": "soon", "csrf_token": csrf}
    page = client.post("/admin/thess-east/services/new", data=soon).get_data(as_text=True)
    assert 'id="err-max_wait_min">πρέπει να είναι ακέραιος αριθμός' in page
    assert _snapshot(db) == before


def test_an_existing_service_is_changed_and_its_prefix_clash_lands_on_it(
    admin: tuple[FlaskClient, str], db: Database
) -> None:
    client, csrf = admin
    form = {
        "prefix": "C",  # social-work's letter, and social-work comes later in the file
        "labels.el": "Υποδοχή",
        "labels.en": "Reception",
        "reasons": ["other"],
        "csrf_token": csrf,
    }
    refused = client.post("/admin/thess-east/services/general", data=form)
    assert refused.status_code == 422
    assert 'id="err-prefix"' in refused.get_data(as_text=True)
    form["prefix"] = "A"
    assert client.post("/admin/thess-east/services/general", data=form).status_code == 302
    svc = catalog.current(db).service(catalog.current(db).sites["thess-east"].id, "general")
    assert svc.labels == {"el": "Υποδοχή", "en": "Reception"}
    assert svc.max_wait_min == 45  # emptied: back to the default


def test_a_counter_and_a_site_are_changed(admin: tuple[FlaskClient, str], db: Database) -> None:
    client, csrf = admin
    added = client.post(
        "/admin/thess-west/counters/new",
        data={
            "slug": "desk-9",
            "labels.el": "Γκισέ 9",
            "labels.en": "Desk 9",
            "services.general": "2",
            "services.integration": "1",
            "csrf_token": csrf,
        },
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    cat = catalog.current(db)
    west = cat.sites["thess-west"]
    desk9 = cat.counter(west.id, "desk-9")
    assert {cat.services[sid].slug: w for sid, w in desk9.weights.items()} == {
        "general": 2,
        "integration": 1,
    }
    none = client.post(
        "/admin/thess-west/counters/new",
        data={"slug": "desk-10", "labels.el": "10", "labels.en": "10", "csrf_token": csrf},
    )
    assert none.status_code == 422 and 'class="field-error"' in none.get_data(as_text=True)

    page = client.get("/admin/thess-west/").get_data(as_text=True)
    assert 'name="hours.mon.opens" value="08:00"' in page
    form = {
        "name.el": "Δυτικό Κέντρο",
        "name.en": "West Centre",
        "address.el": "Οδός 1",
        "address.en": "Street 1",
        "timezone": "Europe/Athens",
        "hours.mon.opens": "09:00",
        "hours.mon.closes": "17:00",
        "hours.sat.opens": "10:00",
        "hours.sat.closes": "13:00",
        "priority_max_in_row": "3",
        "reasons_all": ["legal", "legal.asylum", "housing"],
        "reasons_on": ["legal", "housing"],
        "csrf_token": csrf,
    }
    assert client.post("/admin/thess-west/", data=form).status_code == 302
    site = catalog.current(db).sites["thess-west"]
    assert site.hours == {"mon": "09:00-17:00", "sat": "10:00-13:00"}
    assert site.priority_max_in_row == 3 and site.name["en"] == "West Centre"
    offered = set().union(*(s.reasons for s in catalog.current(db).services_of(site.id)))
    assert "legal.asylum" not in offered and "legal.residence" in offered

    form["hours.sat.closes"] = "09:00"
    refused = client.post("/admin/thess-west/", data=form)
    assert refused.status_code == 422
    assert "κλείνει πριν ανοίξει" in refused.get_data(as_text=True)  # Greek: the default


def test_reasons_are_for_administrators_of_every_site(
    app: Flask, admin: tuple[FlaskClient, str], db: Database
) -> None:
    client, csrf = admin
    added = client.post(
        "/admin/reasons/new",
        data={
            "parent": "legal",
            "code": "legal.citizenship",
            "pictogram": "id",
            "labels.el": "Ιθαγένεια",
            "labels.en": "Citizenship",
            "labels.ar": "الجنسية",
            "csrf_token": csrf,
        },
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    cat = catalog.current(db)
    assert cat.reasons["legal.citizenship"].labels["ar"] == "الجنسية"
    assert "legal.citizenship" in cat.service(cat.sites["thess-east"].id, "social-work").reasons
    bad_picture = client.post(
        "/admin/reasons/legal.citizenship",
        data={"pictogram": "unicorn", "labels.el": "x", "labels.en": "x", "csrf_token": csrf},
    )
    assert bad_picture.status_code == 422
    assert "δεν υπάρχει εικονόγραμμα &#39;unicorn&#39;" in bad_picture.get_data(as_text=True)

    supervisor, supervisor_csrf = signed_in(app, "maria")  # supervisor of thess-east only
    assert supervisor.get("/admin/reasons/").status_code == 403
    assert supervisor.get("/admin/audit").status_code == 403
    assert (
        supervisor.post(
            "/admin/reasons/legal.citizenship",
            data={
                "pictogram": "id",
                "labels.el": "x",
                "labels.en": "x",
                "csrf_token": supervisor_csrf,
            },
        ).status_code
        == 403
    )


def test_a_supervisor_configures_their_own_site_and_no_other(app: Flask, db: Database) -> None:
    client, csrf = signed_in(app, "maria")  # supervisor of thess-east
    assert client.get("/admin/thess-east/").status_code == 200
    index = client.get("/admin/").get_data(as_text=True)
    assert "/admin/thess-east/" in index and "/admin/thess-west/" not in index
    before = _snapshot(db)
    assert client.get("/admin/thess-west/").status_code == 403
    assert client.get("/admin/thess-west/config.toml").status_code == 403
    refused = client.post(
        "/admin/thess-west/services/new", data={**NEW_SERVICE, "csrf_token": csrf}
    )
    assert refused.status_code == 403
    assert _snapshot(db) == before
    staff, _ = signed_in(app, "eleni")  # staff: no admin area at all
    assert staff.get("/admin/").status_code == 403
    assert staff.get("/admin/thess-east/").status_code == 403


def test_the_site_file_downloads_and_loads_back(
    admin: tuple[FlaskClient, str], db: Database
) -> None:
    client, csrf = admin
    response = client.get("/admin/thess-east/config.toml")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert tomllib.loads(text) == siteconfig.export(db, "thess-east")
    edited = text.replace("max_wait_min = 60", "max_wait_min = 50", 1)
    loaded = client.post(
        "/admin/thess-east/config",
        data={"file": (BytesIO(edited.encode()), "east.toml"), "csrf_token": csrf},
        content_type="multipart/form-data",
    )
    assert loaded.status_code == 302, loaded.get_data(as_text=True)
    assert siteconfig.export(db, "thess-east") == tomllib.loads(edited)

    before = _snapshot(db)
    broken = edited.replace('prefix = "B"', 'prefix = "b"')
    refused = client.post(
        "/admin/thess-east/config",
        data={"file": (BytesIO(broken.encode()), "east.toml"), "csrf_token": csrf},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "(benefits) prefix" in refused.get_data(as_text=True)
    other = client.post(
        "/admin/thess-east/config",
        data={
            "file": (BytesIO(client.get("/admin/thess-west/config.toml").data), "w.toml"),
            "csrf_token": csrf,
        },
        content_type="multipart/form-data",
    )
    assert other.status_code == 400
    assert _snapshot(db) == before


def test_the_audit_log_page_filters_and_exports(
    admin: tuple[FlaskClient, str], db: Database
) -> None:
    client, csrf = admin
    client.post("/admin/thess-east/services/new", data={**NEW_SERVICE, "csrf_token": csrf})
    page = client.get("/admin/audit?action=service&site=thess-east").get_data(as_text=True)
    assert "thess-east/services/appointments" in page and "reasons/legal" not in page
    exported = client.get("/admin/audit?action=service&format=csv")
    assert exported.content_type.startswith("text/csv")
    assert "service.added,thess-east/services/appointments" in exported.get_data(as_text=True)
    assert client.get("/admin/audit?since=yesterday").status_code == 400
    assert csrf_of(page)


def test_closures_and_display_messages(admin: tuple[FlaskClient, str], db: Database) -> None:
    client, csrf = admin
    page = client.get("/admin/thess-east/").get_data(as_text=True)
    form = {
        "name.el": "Ανατολικό",
        "name.en": "East",
        "address.el": "Οδός",
        "address.en": "Street",
        "timezone": "Europe/Athens",
        "hours.mon.opens": "08:00",
        "hours.mon.closes": "15:00",
        "closures.0.from": "2026-12-24",
        "closures.0.to": "2026-12-26",
        "closures.1.from": "2027-01-01",  # one day: the last day may be left empty
        "csrf_token": csrf,
    }
    assert 'name="closures.2.to"' in page
    assert client.post("/admin/thess-east/", data=form).status_code == 302
    site = catalog.current(db).sites["thess-east"]
    assert site.closures == (
        {"from": "2026-12-24", "to": "2026-12-26"},
        {"from": "2027-01-01", "to": "2027-01-01"},
    )
    refused = client.post(
        "/admin/thess-east/",
        data={**form, "closures.1.from": "2027-01-05", "closures.1.to": "2027-01-02"},
    )
    assert refused.status_code == 422
    assert "η τελευταία μέρα είναι πριν από την πρώτη" in refused.get_data(as_text=True)

    saved = client.post(
        "/admin/thess-east/messages",
        data={
            "messages.0.el": "Το Σάββατο 12/12 είμαστε κλειστά.",
            "messages.0.en": "We are closed on Saturday 12/12.",
            "messages.0.ar": "نحن مغلقون يوم السبت 12/12.",
            "csrf_token": csrf,
        },
    )
    assert saved.status_code == 302
    board = client.get("/display/thess-east/board.json").get_json()
    texts = {(m["lang"], m["text"]) for m in board["messages"]}
    assert ("ar", "نحن مغلقون يوم السبت 12/12.") in texts
    assert ("en", "We are closed on Saturday 12/12.") in texts
    assert not any(m["lang"] == "fa" and "12/12" in m["text"] for m in board["messages"])
    half = client.post(
        "/admin/thess-east/messages", data={"messages.0.el": "Μόνο ελληνικά", "csrf_token": csrf}
    )
    assert half.status_code == 422 and "χρειάζεται ετικέτα στα en" in half.get_data(as_text=True)
    removed = client.post("/admin/thess-east/messages", data={"csrf_token": csrf})
    assert removed.status_code == 302
    assert catalog.current(db).sites["thess-east"].messages == ()


def test_an_administrator_adds_a_centre_and_keeps_every_site(
    app: Flask, admin: tuple[FlaskClient, str], db: Database
) -> None:
    client, csrf = admin
    refused = client.post(
        "/admin/sites/new",
        data={"slug": "Thess North", "name.el": "Βόρειο", "csrf_token": csrf},
    )
    assert refused.status_code == 422
    assert 'id="err-services-0-prefix"' in refused.get_data(as_text=True)  # the shape first
    form = {
        "slug": "thess-north",
        "name.el": "Βόρειο Κέντρο",
        "name.en": "North Centre",
        "address.el": "Οδός 3",
        "address.en": "3 Street",
        "timezone": "Europe/Athens",
        "services.0.prefix": "A",
        "services.0.labels.el": "Υποδοχή",
        "services.0.labels.en": "Reception",
        "services.0.reasons": ["other", "legal"],
        "csrf_token": csrf,
    }
    bad_slug = client.post("/admin/sites/new", data={**form, "slug": "Thess North"})
    assert 'id="err-slug"' in bad_slug.get_data(as_text=True)
    done = client.post("/admin/sites/new", data=form)
    assert done.status_code == 302, done.get_data(as_text=True)
    assert done.headers["Location"] == "/admin/thess-north/"
    north = catalog.current(db).sites["thess-north"]
    assert north.hours["mon"] == "08:00-15:00"
    # sofia is still an administrator of every site, new one included
    assert client.get("/admin/reasons/").status_code == 200
    assert client.get("/admin/thess-north/").status_code == 200
    supervisor, supervisor_csrf = signed_in(app, "maria")
    assert supervisor.get("/admin/sites/new").status_code == 403


def test_an_edited_configuration_exported_and_loaded_elsewhere_is_the_same(
    admin: tuple[FlaskClient, str], db: Database, tmp_path
) -> None:
    from server import migrate

    client, csrf = admin
    client.post("/admin/thess-east/services/new", data={**NEW_SERVICE, "csrf_token": csrf})
    client.post(
        "/admin/thess-east/messages",
        data={"messages.0.el": "Γεια", "messages.0.en": "Hello", "csrf_token": csrf},
    )
    text = client.get("/admin/thess-east/config.toml").get_data(as_text=True)
    fresh = Database(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    migrate.upgrade(fresh)
    path = tmp_path / "east.toml"
    path.write_text(text, encoding="utf-8")
    siteconfig.load(fresh, path)
    assert siteconfig.export(fresh, "thess-east") == siteconfig.export(db, "thess-east")
    assert siteconfig.dumps(siteconfig.export(fresh, "thess-east")) == text
    fresh.dispose()


# --- erasing a visit on request, and how long visits are kept ------------------------------


def _served_today(db: Database, reason: str = "protection.women") -> int:
    """A visit of today at the East centre's social work service, finished at desk 3."""
    from server.queue import transactions
    from server.queue.rules import Action

    ticket = transactions.issue_ticket(
        db, site="thess-east", service="social-work", reason=reason, lang="ar"
    )
    called = transactions.call_next(db, site="thess-east", counter="desk-3", user_id=None).ticket
    assert called is not None and called.id == ticket.id
    transactions.act(db, ticket.id, Action.FINISH, user_id=None, outcome="served")
    return ticket.id


def _ticket(db: Database, ticket_id: int):  # type: ignore[no-untyped-def]
    from server.models import Ticket

    with db.read() as s:
        return s.get(Ticket, ticket_id)


def _today() -> str:
    from server.models import utcnow
    from server.queue.rules import service_day

    return service_day(utcnow(), "Europe/Athens").isoformat()


def test_a_visit_is_erased_on_request_by_its_number_and_day(
    admin: tuple[FlaskClient, str], app: Flask, db: Database
) -> None:
    client, csrf = admin
    ticket_id = _served_today(db)
    token = _ticket(db, ticket_id).public_token
    visitor = app.test_client()
    assert visitor.get(f"/api/v1/tickets/status/{token}").status_code == 200

    assert 'href="/admin/thess-east/erase"' in client.get("/admin/thess-east/").get_data(
        as_text=True
    )
    assert client.get("/admin/thess-east/erase").status_code == 200
    found = client.post(
        "/admin/thess-east/erase", data={"number": " c1 ", "day": _today(), "csrf_token": csrf}
    )
    page = found.get_data(as_text=True)
    assert found.status_code == 200
    assert "Διαγραφή της επίσκεψης C001;" in page and "Κοινωνική υπηρεσία" in page
    assert "Υποστήριξη γυναικών" in page  # an administrator may see a sensitive reason
    assert f'name="ticket" value="{ticket_id}"' in page
    assert not _ticket(db, ticket_id).anonymised  # finding changes nothing

    done = client.post(
        "/admin/thess-east/erase",
        data={"number": "c1", "day": _today(), "ticket": str(ticket_id), "csrf_token": csrf},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/admin/thess-east/erase"
    assert "Διαγράφηκε: ο αριθμός" in client.get("/admin/thess-east/erase").get_data(as_text=True)
    erased = _ticket(db, ticket_id)
    assert erased.anonymised and erased.public_token is None and erased.code is None
    assert erased.reason_code == "protection.women"  # still counted in the reports
    assert visitor.get(f"/api/v1/tickets/status/{token}").status_code == 404
    assert visitor.get(f"/s/{token}").status_code == 404
    with db.read() as s:
        row = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (row.action, row.actor, row.target, row.after) == (
        "ticket.erased",
        "sofia",
        "thess-east/tickets",
        {"tickets": 1},
    )
    # and it is not found a second time
    again = client.post(
        "/admin/thess-east/erase", data={"number": "C001", "day": _today(), "csrf_token": csrf}
    )
    assert again.status_code == 422
    assert 'id="err-number">Δεν υπάρχει χαρτάκι με αυτόν τον αριθμό' in again.get_data(as_text=True)


def test_erasing_answers_bad_input_next_to_its_field_in_greek_and_changes_nothing(
    admin: tuple[FlaskClient, str], db: Database
) -> None:
    from server.queue import transactions

    client, csrf = admin
    _greek(client)
    served = _served_today(db)
    waiting = transactions.issue_ticket(
        db, site="thess-east", service="social-work", reason="legal", lang="fa"
    )
    before = _ticket(db, served).public_token, _ticket(db, waiting.id).public_token

    def erase(**form: str):  # type: ignore[no-untyped-def]
        response = client.post("/admin/thess-east/erase", data={**form, "csrf_token": csrf})
        assert response.status_code == 422
        return response.get_data(as_text=True)

    page = erase(number="123", day="2026-02-30")
    assert 'id="err-number">Γράψτε τον αριθμό όπως φαίνεται στο χαρτάκι' in page
    assert 'id="err-day">γράψτε μια ημερομηνία όπως 2026-12-25' in page
    assert 'value="123"' in page  # what was typed stays in the form
    page = erase(number="C099", day=_today())
    assert 'id="err-number">Δεν υπάρχει χαρτάκι με αυτόν τον αριθμό' in page
    page = erase(number=waiting.number, day=_today())
    assert 'id="err-number">Το χαρτάκι είναι ακόμη στην ουρά' in page
    # a ticket id not found by the number and day is refused, even of this site
    page = erase(number="C001", day=_today(), ticket=str(waiting.id))
    assert 'id="err-number">' in page
    no_csrf = client.post(
        "/admin/thess-east/erase", data={"number": "C001", "day": _today(), "ticket": str(served)}
    )
    assert no_csrf.status_code == 400
    assert (_ticket(db, served).public_token, _ticket(db, waiting.id).public_token) == before


def test_erasing_is_for_those_who_configure_the_site(app: Flask, db: Database) -> None:
    served = _served_today(db, reason="legal.asylum")
    staff, staff_csrf = signed_in(app, "eleni")  # staff of thess-east: no admin area
    assert staff.get("/admin/thess-east/erase").status_code == 403
    refused = staff.post(
        "/admin/thess-east/erase",
        data={"number": "C001", "day": _today(), "ticket": str(served), "csrf_token": staff_csrf},
    )
    assert refused.status_code == 403
    supervisor, csrf = signed_in(app, "maria")  # supervisor of thess-east only
    assert supervisor.get("/admin/thess-west/erase").status_code == 403
    west = supervisor.post(
        "/admin/thess-west/erase",
        data={"number": "C001", "day": _today(), "ticket": str(served), "csrf_token": csrf},
    )
    assert west.status_code == 403
    assert not _ticket(db, served).anonymised
    found = supervisor.post(
        "/admin/thess-east/erase", data={"number": "C001", "day": _today(), "csrf_token": csrf}
    )
    assert found.status_code == 200 and "Διαδικασία ασύλου" in found.get_data(as_text=True)


def test_how_long_visits_are_kept_is_set_on_the_centre_page(
    admin: tuple[FlaskClient, str], db: Database
) -> None:
    client, csrf = admin
    _greek(client)
    page = client.get("/admin/thess-east/").get_data(as_text=True)
    assert 'name="retention_days" type="number" value="90"' in page
    form = siteconfig.export(db, "thess-east")["sites"][0]
    base = {
        "name.el": form["name"]["el"],
        "name.en": form["name"]["en"],
        "address.el": form["address"]["el"],
        "address.en": form["address"]["en"],
        "timezone": form["timezone"],
        "hours.mon.opens": "08:00",
        "hours.mon.closes": "15:00",
        "csrf_token": csrf,
    }
    before = _snapshot(db)
    for typed, message in (
        ("5000", 'id="err-retention_days">πρέπει να είναι 3650 ή λιγότερο'),
        ("-1", 'id="err-retention_days">πρέπει να είναι ακέραιος αριθμός'),
    ):
        refused = client.post("/admin/thess-east/", data={**base, "retention_days": typed})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert _snapshot(db) == before
    assert (
        client.post("/admin/thess-east/", data={**base, "retention_days": "0"}).status_code == 302
    )
    assert siteconfig.export(db, "thess-east")["sites"][0]["retention_days"] == 0
    with db.read() as s:
        row = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert row.action == "site.changed" and row.after["retention_days"] == 0
