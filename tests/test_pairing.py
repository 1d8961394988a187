"""Pairing a device by the code on its screen: the page's own secret becomes its token."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from server import auth, pairing
from server.auth import Can
from server.db import Database
from server.errors import Forbidden, NotFound, Refused
from server.frontdesk import FrontDesk
from server.models import AuditEntry, Pairing, User, utcnow
from tests.conftest import bearer


def _secret() -> str:
    return secrets.token_urlsafe(32)


def _staff(db: Database, username: str) -> auth.Principal:
    with db.read() as s:
        user = s.scalar(select(User).where(User.username == username))
    token, _ = auth.grant_token(db, user.id)
    principal = auth.authenticate(db, token)
    assert principal is not None
    return principal


def test_a_display_is_paired_by_its_code_and_its_secret_becomes_its_token(db: Database) -> None:
    desk = FrontDesk(db)
    secret = _secret()
    first = desk.request_pairing("display", "thess-east", secret)
    assert first.status == "pending" and first.code and len(first.code) == 7  # "K7H-PRT"
    assert set(first.code.replace("-", "")) <= set(pairing.ALPHABET)
    again = desk.request_pairing("display", "thess-east", secret)
    assert (again.code, again.expires_at) == (first.code, first.expires_at)  # a reload
    assert auth.authenticate(db, secret) is None
    east = [p.code for p in pairing.pending(db, [1, 2])]
    assert east == [first.code]

    supervisor = _staff(db, "maria")  # supervisor of thess-east: may configure it
    typed = first.code.lower().replace("-", " ")
    device_id = desk.pair_device(supervisor, "thess-east", typed, "display", "hall")
    paired = desk.request_pairing("display", "thess-east", secret)
    assert paired.status == "approved"
    assert paired.device == {"kind": "display", "site": "thess-east", "name": "hall"}
    principal = auth.authenticate(db, secret)
    assert principal is not None and principal.device_id == device_id
    assert principal.can(Can.READ_QUEUE, principal.site_ids[0])
    assert pairing.pending(db, [1, 2]) == []
    with db.read() as s:
        row = s.scalars(select(AuditEntry).where(AuditEntry.action == "device.paired")).one()
        assert (row.actor, row.target) == ("maria", "thess-east/devices/hall")
        assert row.after["code"] == first.code


def test_only_someone_who_configures_the_site_may_pair_and_codes_run_out(db: Database) -> None:
    desk = FrontDesk(db)
    secret = _secret()
    code = desk.request_pairing("kiosk", "thess-west", secret).code
    assert code is not None
    with pytest.raises(Forbidden):
        desk.pair_device(_staff(db, "maria"), "thess-west", code, "kiosk", "door")  # east only
    with pytest.raises(Forbidden):
        desk.pair_device(_staff(db, "nikos"), "thess-west", code, "kiosk", "door")  # staff
    with pytest.raises(NotFound):
        desk.pair_device(_staff(db, "maria"), "thess-east", "AAA-AAA", "kiosk", "door")
    with db.write() as s:
        s.execute(update(Pairing).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(NotFound):
        desk.pair_device(_staff(db, "maria"), "thess-east", code, "kiosk", "door")
    renewed = desk.request_pairing("kiosk", "thess-west", secret)
    assert renewed.status == "pending" and renewed.code != code
    with db.read() as s:
        assert len(s.scalars(select(Pairing)).all()) == 1


def test_a_revoked_devices_secret_cannot_be_paired_again(db: Database) -> None:
    desk = FrontDesk(db)
    secret = _secret()
    code = desk.request_pairing("kiosk", "thess-east", secret).code
    maria = _staff(db, "maria")
    desk.pair_device(maria, "thess-east", code or "", "kiosk", "entrance")
    assert desk.revoke_device(maria, "thess-east", "entrance") == 1
    assert auth.authenticate(db, secret) is None
    with pytest.raises(Refused) as info:
        desk.request_pairing("kiosk", "thess-east", secret)
    assert info.value.status == 409


def test_the_api_asks_and_refuses_bad_requests(
    client: FlaskClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = _secret()
    asked = client.post(
        "/api/v1/pairings", json={"kind": "kiosk", "site": "thess-east", "secret": secret}
    )
    assert asked.status_code == 200
    assert asked.get_json()["status"] == "pending"
    code = asked.get_json()["code"]
    for body, status in [
        ({"kind": "printer", "site": "thess-east", "secret": secret}, 400),
        ({"kind": "kiosk", "site": "thess-east", "secret": "short"}, 400),
        ({"kind": "kiosk", "site": "nowhere", "secret": secret}, 404),
        ({"kind": "kiosk", "site": "thess-east"}, 400),
    ]:
        assert client.post("/api/v1/pairings", json=body).status_code == status, body
    monkeypatch.setattr(pairing, "MAX_PENDING", 1)
    crowded = client.post(
        "/api/v1/pairings", json={"kind": "kiosk", "site": "thess-east", "secret": _secret()}
    )
    assert crowded.status_code == 429
    assert crowded.get_json()["error"]["code"] == "too_many_pairings"
    # the one already waiting still gets its answer
    assert (
        client.post(
            "/api/v1/pairings", json={"kind": "kiosk", "site": "thess-east", "secret": secret}
        ).get_json()["code"]
        == code
    )

    FrontDesk(db).pair_device(_staff(db, "maria"), "thess-east", code, "kiosk", "entrance")
    paired = client.post(
        "/api/v1/pairings", json={"kind": "kiosk", "site": "thess-east", "secret": secret}
    ).get_json()
    assert paired == {
        "status": "approved",
        "device": {"kind": "kiosk", "site": "thess-east", "name": "entrance"},
    }
    services = client.get("/api/v1/sites/thess-east/services", headers=bearer(secret))
    assert services.status_code == 200


def test_the_devices_page_pairs_and_revokes(app, db: Database) -> None:  # type: ignore[no-untyped-def]
    from tests.test_counter_pages import signed_in

    client, csrf = signed_in(app, "maria")
    secret = _secret()
    code = FrontDesk(db).request_pairing("display", "thess-east", secret).code
    page = client.get("/admin/thess-east/devices").get_data(as_text=True)
    assert code in page
    wrong = client.post(
        "/admin/thess-east/devices",
        data={"code": "XXX-XXX", "kind": "display", "name": "hall", "csrf_token": csrf},
    )
    assert wrong.status_code == 422
    assert "Καμία συσκευή δεν περιμένει με αυτόν τον κωδικό" in wrong.get_data(as_text=True)
    done = client.post(
        "/admin/thess-east/devices",
        data={"code": code, "kind": "display", "name": "hall", "csrf_token": csrf},
    )
    assert done.status_code == 302
    listed = client.get("/admin/thess-east/devices").get_data(as_text=True)
    assert 'data-device="hall"' in listed
    assert auth.authenticate(db, secret) is not None
    revoked = client.post(
        "/admin/thess-east/devices/revoke", data={"name": "hall", "csrf_token": csrf}
    )
    assert revoked.status_code == 302
    assert auth.authenticate(db, secret) is None
    assert 'data-device="hall"' not in client.get("/admin/thess-east/devices").get_data(
        as_text=True
    )
    other, other_csrf = signed_in(app, "eleni")  # staff, not a supervisor
    assert other.get("/admin/thess-east/devices").status_code == 403
