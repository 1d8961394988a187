"""A sensitive visit reason is known only to the counter serving the ticket, the site's
supervisors and staff trained for it; other staff of the site see no reason; staff of
another site cannot even tell that the ticket exists."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import accounts, auth
from server.db import Database
from server.models import AuditEntry, User
from tests.conftest import PASSWORD, bearer
from tests.test_counter_pages import signed_in

EAST = "/api/v1/sites/thess-east"


def _issue(client: FlaskClient, kiosk: str, service: str, reason: str) -> dict[str, Any]:
    body = {"service": service, "reason": reason, "lang": "fa", "priority": "none"}
    response = client.post(f"{EAST}/tickets", json=body, headers=bearer(kiosk))
    assert response.status_code == 201
    return response.get_json()


def _token(db: Database, username: str) -> str:
    with db.read() as s:
        user_id = s.scalar(select(User.id).where(User.username == username))
    return auth.grant_token(db, user_id)[0]


@pytest.fixture
def people(db: Database, tokens: dict[str, str]) -> dict[str, str]:
    """Bearer tokens of eleni (who will serve), petros (staff, not trained), sofia (staff,
    trained here), maria (supervisor) and nikos (staff of the other centre)."""
    auth.add_user(db, "petros", PASSWORD, "staff", "thess-east")
    auth.add_user(db, "sofia", PASSWORD, "staff", "thess-east")
    maria = auth.authenticate(db, tokens["supervisor"])
    assert maria is not None
    with db.read() as s:
        sofia = s.scalar(select(User.id).where(User.username == "sofia"))
    accounts.set_trained(db, maria, sofia, maria.site_ids[0], True)
    return {
        "eleni": tokens["staff"],
        "petros": _token(db, "petros"),
        "sofia": _token(db, "sofia"),
        "maria": tokens["supervisor"],
        "nikos": tokens["west_staff"],
    }


def test_only_those_who_need_to_know_see_a_sensitive_reason(
    client: FlaskClient, db: Database, tokens: dict[str, str], people: dict[str, str]
) -> None:
    ticket = _issue(client, tokens["kiosk"], "social-work", "protection.women")
    called = client.post(f"{EAST}/counters/desk-3/call-next", headers=bearer(people["eleni"]))
    assert called.status_code == 200
    assert called.get_json()["reason"] == "protection.women"  # the counter serving it

    def reason_for(name: str) -> str | None:
        response = client.get(f"/api/v1/tickets/{ticket['id']}", headers=bearer(people[name]))
        assert response.status_code == 200, name
        return response.get_json()["reason"]

    assert reason_for("eleni") == "protection.women"
    assert reason_for("maria") == "protection.women"
    assert reason_for("sofia") == "protection.women"
    assert reason_for("petros") is None  # staff here, but neither serving it nor trained

    # a reason that is not sensitive is shown to every staff member of the site
    plain = _issue(client, tokens["kiosk"], "general", "health")
    response = client.get(f"/api/v1/tickets/{plain['id']}", headers=bearer(people["petros"]))
    assert response.get_json()["reason"] == "health"


def test_another_desks_state_follows_the_same_rule(
    app: Flask, client: FlaskClient, db: Database, tokens: dict[str, str], people: dict[str, str]
) -> None:
    _issue(client, tokens["kiosk"], "social-work", "protection.shelter")
    assert (
        client.post(f"{EAST}/counters/desk-3/call-next", headers=bearer(people["eleni"]))
    ).status_code == 200

    def current_reason(username: str) -> Any:
        page, _csrf = signed_in(app, username)
        state = page.get("/counter/thess-east/desk-3/state")
        assert state.status_code == 200, username
        return state.get_json()["current"]["reason"]

    assert current_reason("eleni")["code"] == "protection.shelter"  # her own counter
    assert current_reason("maria")["code"] == "protection.shelter"
    assert current_reason("sofia")["code"] == "protection.shelter"
    assert current_reason("petros") is None  # looking at eleni's desk


def test_another_sites_ticket_ids_answer_like_missing_ones(
    client: FlaskClient, tokens: dict[str, str], people: dict[str, str]
) -> None:
    ticket = _issue(client, tokens["kiosk"], "general", "health")
    nikos = bearer(people["nikos"])
    theirs = client.get(f"/api/v1/tickets/{ticket['id']}", headers=nikos)
    missing = client.get(f"/api/v1/tickets/{ticket['id'] + 1000}", headers=nikos)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json()["error"]["code"] == missing.get_json()["error"]["code"]
    for path in ("print", "start", "cancel"):
        method = client.get if path == "print" else client.post
        assert method(f"/api/v1/tickets/{ticket['id']}/{path}", headers=nikos).status_code == 404


def test_marking_someone_trained_in_the_admin_area_takes_effect_and_is_audited(
    app: Flask, client: FlaskClient, db: Database, tokens: dict[str, str], people: dict[str, str]
) -> None:
    ticket = _issue(client, tokens["kiosk"], "social-work", "protection.trafficking")
    url = f"/api/v1/tickets/{ticket['id']}"
    assert client.get(url, headers=bearer(people["petros"])).get_json()["reason"] is None
    with db.read() as s:
        petros = s.scalar(select(User.id).where(User.username == "petros"))
    page, csrf = signed_in(app, "maria")
    staff = page.get("/admin/thess-east/staff").get_data(as_text=True)
    assert f'action="/admin/thess-east/staff/{petros}/trained"' in staff
    done = page.post(
        f"/admin/thess-east/staff/{petros}/trained", data={"trained": "1", "csrf_token": csrf}
    )
    assert done.status_code == 302
    auth.forget_tokens()  # as after any change of an account in this process
    reason = client.get(url, headers=bearer(people["petros"])).get_json()["reason"]
    assert reason == "protection.trafficking"
    with db.read() as s:
        entries = s.execute(
            select(AuditEntry.action, AuditEntry.after).where(AuditEntry.target == "users/petros")
        ).all()
    assert ("user.trained", {"trained": True}) in [tuple(e) for e in entries]
