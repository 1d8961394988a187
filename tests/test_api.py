"""The REST API through Flask's test client; every response is checked against the
OpenAPI document by the `client` fixture (see conftest.CheckedClient)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from server import i18n, migrate
from server.api.openapi import DOCUMENT
from server.db import Database
from tests.conftest import PASSWORD, bearer, counts

API = "/api/v1"
EAST = f"{API}/sites/thess-east"
TICKET = {"service": "general", "reason": "other", "lang": "ar", "priority": "none"}


def issue(client: FlaskClient, token: str, **overrides: Any) -> dict[str, Any]:
    response = client.post(f"{EAST}/tickets", json={**TICKET, **overrides}, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def call(client: FlaskClient, token: str, counter: str = "desk-1"):  # type: ignore[no-untyped-def]
    return client.post(f"{EAST}/counters/{counter}/call-next", headers=bearer(token))


def test_openapi_document_is_valid_and_served(client: FlaskClient) -> None:
    validate(DOCUMENT)
    assert client.get(f"{API}/openapi.json").get_json() == DOCUMENT


def test_health(client: FlaskClient) -> None:
    body = client.get(f"{API}/health").get_json()
    assert body == {"status": "ok", "database": "ok", "schema": migrate.head_revision()}


def test_sign_in(client: FlaskClient, tokens: dict[str, str]) -> None:
    ok = client.post(f"{API}/auth/token", json={"username": "eleni", "password": PASSWORD})
    assert ok.status_code == 200
    assert ok.get_json()["user"] == {"username": "eleni", "sites": ["thess-east"]}
    for creds in (
        {"username": "eleni", "password": "wrong"},
        {"username": "nobody", "password": "x"},
    ):
        refused = client.post(f"{API}/auth/token", json=creds)
        assert refused.status_code == 401
        assert refused.get_json()["error"]["code"] == "invalid_credentials"


def test_sites_are_public_and_labelled(client: FlaskClient) -> None:
    sites = client.get(f"{API}/sites?lang=el").get_json()
    assert [s["slug"] for s in sites] == ["thess-east", "thess-west"]
    assert "Κλεάνθους" in sites[0]["address"]
    assert sites[0]["hours"]["mon"] == "08:00-15:00" and "sat" not in sites[0]["hours"]


def test_services_in_the_visitors_language(client: FlaskClient, tokens: dict[str, str]) -> None:
    el = client.get(f"{EAST}/services?lang=el", headers=bearer(tokens["kiosk"])).get_json()
    en = client.get(f"{EAST}/services?lang=en", headers=bearer(tokens["kiosk"])).get_json()
    fa = client.get(f"{EAST}/services?lang=fa_AF", headers=bearer(tokens["kiosk"])).get_json()
    assert (
        [s["slug"] for s in el]
        == [s["slug"] for s in en]
        == ["general", "benefits", "social-work", "private"]
    )
    assert el[1]["label"] == "Επιδόματα και παροχές" and en[1]["label"] == "Benefits and allowances"
    # Dari is not in the site file: its label comes from the visitors catalog
    assert fa[1]["label"] == i18n.translations("fa_AF", "visitors").gettext(en[1]["label"])
    assert fa[1]["label"] and fa[1]["label"] != en[1]["label"]
    reasons = {r["code"]: r for s in en for r in s["reasons"]}
    assert (
        reasons["protection"]["sensitive"] and reasons["protection.women"]["parent"] == "protection"
    )
    assert "violence" not in reasons["protection"]["label"].lower()


@pytest.mark.parametrize(
    ("who", "path", "method", "status"),
    [
        ("kiosk", "/services", "GET", 200),
        ("kiosk", "/counters", "GET", 403),
        ("kiosk", "/queue", "GET", 403),
        ("kiosk", "/counters/desk-1/call-next", "POST", 403),
        ("display", "/services", "GET", 200),
        ("display", "/counters", "GET", 200),
        ("display", "/queue", "GET", 200),
        ("display", "/tickets", "POST", 403),
        ("display", "/counters/desk-1/call-next", "POST", 403),
        ("west_kiosk", "/services", "GET", 403),
        ("west_kiosk", "/tickets", "POST", 403),
        ("west_staff", "/queue", "GET", 403),
        ("west_staff", "/counters/desk-1/call-next", "POST", 403),
        ("staff", "/queue", "GET", 200),
        ("staff", "/counters", "GET", 200),
        ("staff", "/tickets", "POST", 201),
        (None, "/services", "GET", 401),
        (None, "/tickets", "POST", 401),
        (None, "/counters/desk-1/call-next", "POST", 401),
    ],
)
def test_each_token_may_do_only_its_part(client, tokens, db, who, path, method, status) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens[who]) if who else {}
    before = counts(db)
    response = client.open(
        f"{EAST}{path}", method=method, headers=headers, json=TICKET if path == "/tickets" else None
    )
    assert response.status_code == status, response.get_json()
    if status >= 400:
        assert set(response.get_json()["error"]) == {"code", "message"}
        assert counts(db) == before


@pytest.mark.parametrize(
    "header",
    ["Bearer nonsense", "Bearer ", "Basic dXNlcjpwYXNz", "token-without-scheme"],
)
def test_bad_authorization_is_401(client: FlaskClient, header: str) -> None:
    response = client.get(f"{EAST}/services", headers={"Authorization": header})
    assert response.status_code == 401


def test_issue_ticket(client: FlaskClient, tokens: dict[str, str]) -> None:
    first = issue(client, tokens["kiosk"])
    assert first["number"] == "A001" and first["position"] == 1 and first["estimated_wait_s"] == 0
    second = issue(client, tokens["kiosk"], lang="el")
    assert second["number"] == "A002" and second["position"] == 2 and second["people_ahead"] == 1
    assert second["estimated_wait_s"] > 0
    assert second["status_url"].startswith("http://localhost/s/")
    assert "reason" not in second


def test_status_url_uses_the_public_address(app, client, tokens) -> None:  # type: ignore[no-untyped-def]
    app.config["PUBLIC_URL"] = "http://10.0.0.5:5000/"
    assert issue(client, tokens["kiosk"])["status_url"].startswith("http://10.0.0.5:5000/s/")


def test_status_page_data_never_shows_the_reason(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    ticket = issue(
        client, tokens["kiosk"], service="social-work", reason="protection.women", lang="ar"
    )
    token = ticket["status_url"].rsplit("/", 1)[1]
    status = client.get(f"{API}/tickets/status/{token}").get_json()
    assert (
        status["status"] == "waiting" and status["people_ahead"] == 0 and status["counter"] is None
    )
    assert "protection" not in str(status) and "reason" not in status
    assert call(client, tokens["staff"], "desk-3").status_code == 200
    status = client.get(f"{API}/tickets/status/{token}").get_json()
    assert status["status"] == "called"
    assert status["counter"] == i18n.translations("ar", "visitors").gettext("Desk 3") != "Desk 3"
    assert client.get(f"{API}/tickets/status/not-a-token").status_code == 404


def test_call_next_and_the_whole_visit(client: FlaskClient, tokens: dict[str, str]) -> None:
    staff = bearer(tokens["staff"])
    assert call(client, tokens["staff"]).status_code == 204
    ticket = issue(client, tokens["kiosk"])
    called = call(client, tokens["staff"]).get_json()
    assert (
        called["id"] == ticket["id"]
        and called["status"] == "called"
        and called["counter"] == "desk-1"
    )
    assert called["reason"] == "other"  # staff see the reason code
    assert call(client, tokens["staff"]).status_code == 409  # desk-1 is busy
    for action, body, status in (
        ("recall", None, "called"),
        ("start", None, "serving"),
        ("finish", {"outcome": "referred_internal", "referral": "housing"}, "done"),
    ):
        response = client.post(f"{API}/tickets/{ticket['id']}/{action}", json=body, headers=staff)
        assert response.status_code == 200 and response.get_json()["status"] == status
    queue = client.get(f"{EAST}/queue", headers=bearer(tokens["display"])).get_json()
    assert all(c["ticket"] is None for c in queue["counters"])
    assert client.get(f"{API}/tickets/{ticket['id']}", headers=staff).get_json()["status"] == "done"


def test_queue_shows_waiting_and_serving(client: FlaskClient, tokens: dict[str, str]) -> None:
    issue(client, tokens["kiosk"], service="benefits", reason="benefits.min_income")
    for _ in range(3):
        issue(client, tokens["kiosk"])
    call(client, tokens["staff"], "desk-2")  # desk-2: benefits x2, general x1 -> B001
    queue = client.get(f"{EAST}/queue?lang=el", headers=bearer(tokens["staff"])).get_json()
    waiting = {s["service"]: s["waiting"] for s in queue["services"]}
    assert waiting == {"general": 3, "benefits": 0, "social-work": 0, "private": 0}
    serving = {c["counter"]: c["ticket"] for c in queue["counters"]}
    assert serving["desk-2"]["number"] == "B001" and serving["desk-1"] is None
    assert queue["counters"][0]["label"] == "Γκισέ 1"


def test_counters_list(client: FlaskClient, tokens: dict[str, str]) -> None:
    counters = client.get(f"{EAST}/counters", headers=bearer(tokens["display"])).get_json()
    assert counters[0] == {
        "slug": "desk-1",
        "label": "Desk 1",
        "services": [{"service": "general", "weight": 2}, {"service": "benefits", "weight": 1}],
    }


def test_transfer_no_show_return_and_cancel(client: FlaskClient, tokens: dict[str, str]) -> None:
    staff = bearer(tokens["staff"])
    a, b = issue(client, tokens["kiosk"]), issue(client, tokens["kiosk"])
    moved = client.post(
        f"{API}/tickets/{a['id']}/transfer", json={"service": "benefits"}, headers=staff
    )
    assert moved.get_json()["service"] == "benefits" and moved.get_json()["number"] == "A001"
    called = call(client, tokens["staff"], "desk-3").get_json()  # desk-3: social-work, general
    assert called["id"] == b["id"]
    assert (
        client.post(f"{API}/tickets/{b['id']}/no-show", headers=staff).get_json()["status"]
        == "no_show"
    )
    assert (
        client.post(f"{API}/tickets/{b['id']}/return", headers=staff).get_json()["status"]
        == "waiting"
    )
    cancelled = client.post(f"{API}/tickets/{b['id']}/cancel", json={"why": "left"}, headers=staff)
    assert cancelled.get_json()["status"] == "cancelled"


# --- every error path: 4xx JSON and nothing written ------------------------------------------

BAD_REQUESTS = [
    # (token, method, path, json, status, code)
    ("kiosk", "POST", f"{EAST}/tickets", {**TICKET, "service": "nope"}, 404, "not_found"),
    (
        "kiosk",
        "POST",
        f"{EAST}/tickets",
        {**TICKET, "reason": "benefits.min_income"},
        422,
        "unknown_reason",
    ),
    ("kiosk", "POST", f"{EAST}/tickets", {**TICKET, "lang": "Arabic"}, 400, "validation_error"),
    ("kiosk", "POST", f"{EAST}/tickets", {**TICKET, "priority": "vip"}, 400, "validation_error"),
    ("kiosk", "POST", f"{EAST}/tickets", {**TICKET, "name": "Ahmed"}, 400, "validation_error"),
    ("kiosk", "POST", f"{EAST}/tickets", {"service": "general"}, 400, "validation_error"),
    ("kiosk", "POST", f"{EAST}/tickets", ["general"], 400, "bad_json"),
    ("kiosk", "POST", f"{EAST}/tickets", None, 400, "bad_json"),
    ("kiosk", "POST", f"{API}/sites/thess-north/tickets", TICKET, 404, "not_found"),
    ("kiosk", "GET", f"{EAST}/services?lang=../../etc", None, 400, "bad_lang"),
    ("staff", "POST", f"{EAST}/counters/desk-99/call-next", {}, 404, "not_found"),
    ("staff", "POST", f"{EAST}/counters/desk-1/call-next", None, 400, "bad_json"),
    ("staff", "POST", f"{EAST}/counters/desk-1/call-next", {"x": 1}, 400, "validation_error"),
    ("staff", "POST", f"{API}/tickets/1/start", {}, 409, "invalid_transition"),
    ("staff", "POST", f"{API}/tickets/1/finish", None, 400, "bad_json"),
    ("staff", "POST", f"{API}/tickets/1/finish", {"outcome": "great"}, 400, "validation_error"),
    ("staff", "POST", f"{API}/tickets/1/transfer", {}, 400, "validation_error"),
    ("staff", "POST", f"{API}/tickets/1/transfer", {"service": "general"}, 409, "same_service"),
    ("staff", "POST", f"{API}/tickets/1/transfer", {"service": "nope"}, 404, "not_found"),
    ("staff", "POST", f"{API}/tickets/1/cancel", {"why": "bored"}, 400, "validation_error"),
    ("staff", "POST", f"{API}/tickets/1/explode", None, 404, "not_found"),
    ("staff", "POST", f"{API}/tickets/999/cancel", None, 404, "not_found"),
    ("staff", "GET", f"{API}/tickets/999", None, 404, "not_found"),
    ("staff", "GET", f"{API}/tickets/99999999999999999999999", None, 404, "not_found"),
    ("west_staff", "POST", f"{API}/tickets/1/cancel", None, 404, "not_found"),  # as if missing
    ("west_staff", "GET", f"{API}/tickets/1", None, 404, "not_found"),
    ("staff", "GET", f"{API}/no/such/endpoint", None, 404, "not_found"),
    ("staff", "DELETE", f"{EAST}/tickets", None, 405, "method_not_allowed"),
    (None, "POST", f"{API}/auth/token", {"username": "eleni"}, 400, "validation_error"),
    (
        None,
        "POST",
        f"{API}/auth/token",
        {"username": "eleni", "password": "x"},
        401,
        "invalid_credentials",
    ),
]


@pytest.mark.parametrize(("who", "method", "path", "body", "status", "code"), BAD_REQUESTS)
def test_error_paths_answer_json_and_write_nothing(
    client: FlaskClient, tokens: dict[str, str], db: Database, who, method, path, body, status, code
) -> None:  # type: ignore[no-untyped-def]
    issue(client, tokens["kiosk"])  # ticket 1, waiting in 'general'
    before = counts(db)
    headers = bearer(tokens[who]) if who else {}
    if body is None and method == "POST":
        response = client.open(
            path, method=method, headers=headers, data="not json", content_type="application/json"
        )
    else:
        response = client.open(path, method=method, headers=headers, json=body)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]
    assert counts(db) == before


def test_a_validation_error_quotes_the_codes_a_client_may_send(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    response = client.post(
        f"{EAST}/tickets", headers=bearer(tokens["kiosk"]), json={**TICKET, "priority": "vip"}
    )
    assert response.get_json()["error"]["message"] == (
        "priority: 'vip' is not one of "
        "['none', 'disability', 'elderly', 'pregnancy', 'with_infant']"
    )


def test_call_next_without_a_body_is_fine(client: FlaskClient, tokens: dict[str, str]) -> None:
    issue(client, tokens["kiosk"])
    assert (
        client.post(
            f"{EAST}/counters/desk-1/call-next", headers=bearer(tokens["staff"])
        ).status_code
        == 200
    )


def test_an_unexpected_failure_is_json_too(client: FlaskClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("server.catalog.sites_in", broken)
    response = client.get(f"{API}/sites")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "disk" not in response.get_json()["error"]["message"]
