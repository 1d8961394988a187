"""Mediators and silent alarms through the REST API (every answer checked against the
OpenAPI document by the `client` fixture): a mediator says she is free, a call joins her,
a counter asks for one and she accepts; an alarm is raised, listed and acknowledged once.
Bad input is refused and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from server import auth
from server.db import Database
from server.models import AlarmEvent, MediatorEvent, User
from tests.conftest import bearer

API = "/api/v1"
EAST = f"{API}/sites/thess-east"


@pytest.fixture
def amal(db: Database) -> str:
    user_id = auth.add_user(db, "amal", "a long sandbox password", "mediator", "thess-east")
    with db.write() as s:
        s.execute(update(User).where(User.id == user_id).values(languages=["ar"]))
    return auth.grant_token(db, user_id)[0]


def issue(client: FlaskClient, kiosk: str, lang: str) -> dict[str, Any]:
    body = {"service": "general", "reason": "other", "lang": lang, "priority": "none"}
    response = client.post(f"{EAST}/tickets", json=body, headers=bearer(kiosk))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def board(client: FlaskClient, token: str) -> dict[str, Any]:
    response = client.get(f"{EAST}/mediators", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def mediator_rows(db: Database) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(MediatorEvent)) or 0


def test_a_mediator_is_joined_to_a_call_and_accepts_a_request(
    client: FlaskClient, tokens: dict[str, str], amal: str, db: Database
) -> None:
    staff = tokens["staff"]
    said = client.put(f"{EAST}/mediators/me", json={"state": "available"}, headers=bearer(amal))
    assert said.status_code == 200
    (me,) = said.get_json()["mediators"]
    assert me["user"] == "amal" and me["state"] == "available" and me["languages"] == ["ar"]

    arabic = issue(client, tokens["kiosk"], "ar")
    called = client.post(f"{EAST}/counters/desk-1/call-next", headers=bearer(staff))
    assert called.get_json()["number"] == arabic["number"]
    (joined,) = board(client, staff)["mediators"]
    assert joined["state"] == "busy" and joined["ticket"] == arabic["number"]
    assert joined["counter"] == "desk-1"
    again = client.post(f"{API}/tickets/{arabic['id']}/mediator-request", headers=bearer(staff))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "mediator_joined"
    finished = client.post(
        f"{API}/tickets/{arabic['id']}/finish", json={"outcome": "served"}, headers=bearer(staff)
    )
    assert finished.status_code == 200
    assert board(client, amal)["mediators"][0]["state"] == "available"

    greek = issue(client, tokens["kiosk"], "el")
    client.post(f"{EAST}/counters/desk-1/call-next", headers=bearer(staff))
    asked = client.post(f"{API}/tickets/{greek['id']}/mediator-request", headers=bearer(staff))
    assert asked.status_code == 200
    (request,) = asked.get_json()["requests"]
    assert request["number"] == greek["number"] and request["counter"] == "desk-1"
    accepted = client.post(f"{EAST}/mediator-requests/{greek['id']}/accept", headers=bearer(amal))
    assert accepted.status_code == 200
    assert accepted.get_json()["requests"] == []
    assert accepted.get_json()["mediators"][0]["ticket"] == greek["number"]


def test_bad_mediator_input_is_refused_and_changes_nothing(
    client: FlaskClient, tokens: dict[str, str], amal: str, db: Database
) -> None:
    before = mediator_rows(db)
    for body in ({"state": "asleep"}, {"state": "available", "extra": 1}, {}):
        bad = client.put(f"{EAST}/mediators/me", json=body, headers=bearer(amal))
        assert bad.status_code == 400, body
    # counter staff may read the board, not say they are a mediator; a display may not read it
    staff = client.put(
        f"{EAST}/mediators/me", json={"state": "available"}, headers=bearer(tokens["staff"])
    )
    assert staff.status_code == 403
    assert client.get(f"{EAST}/mediators", headers=bearer(tokens["display"])).status_code == 403
    nothing = client.post(f"{EAST}/mediator-requests/999/accept", headers=bearer(amal))
    assert nothing.status_code == 404
    assert mediator_rows(db) == before


def test_a_silent_alarm_is_raised_listed_and_acknowledged_once(
    client: FlaskClient, tokens: dict[str, str], db: Database
) -> None:
    raised = client.post(f"{EAST}/counters/desk-2/alarm", headers=bearer(tokens["staff"]))
    assert raised.status_code == 201
    alarm = raised.get_json()
    assert alarm["counter"] == "desk-2" and alarm["acknowledged_at"] is None
    listed = client.get(f"{EAST}/alarms", headers=bearer(tokens["staff"])).get_json()
    assert [a["id"] for a in listed] == [alarm["id"]]

    path = f"{EAST}/alarms/{alarm['id']}/acknowledge"
    assert client.post(path, headers=bearer(tokens["staff"])).status_code == 403
    done = client.post(path, headers=bearer(tokens["supervisor"]))
    assert done.status_code == 200 and done.get_json()["acknowledged_by"] == "maria"
    twice = client.post(path, headers=bearer(tokens["supervisor"]))
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "acknowledged"
    unknown = client.post(f"{EAST}/counters/desk-9/alarm", headers=bearer(tokens["staff"]))
    assert unknown.status_code == 404
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(AlarmEvent)) == 2
