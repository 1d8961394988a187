"""Staff pages without a browser: sign-in and CSRF, the workstation's JSON calls and their
errors, the counter's shift as events, the supervisor's view, and the speech endpoint."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.db import Database
from server.models import CounterEvent, Event
from tests.conftest import PASSWORD, bearer, counts

JSON = {"Accept": "application/json"}
EAST_API = "/api/v1/sites/thess-east"


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page
    )
    assert found, "no CSRF token on the page"
    return found.group(1)


def signed_in(app: Flask, username: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = csrf_of(client.get("/signin").get_data(as_text=True))
    response = client.post(
        "/signin", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    # a new session begins at sign-in, with a new CSRF token (on every page's sign-out form)
    return client, csrf_of(client.get("/").get_data(as_text=True))


def post(client: FlaskClient, url: str, csrf: str | None, body: dict | None = None) -> Any:
    headers = {**JSON, **({"X-CSRF-Token": csrf} if csrf else {})}
    return client.post(url, json=body or {}, headers=headers)


def kiosk_ticket(client: FlaskClient, kiosk: str, reason: str, service: str) -> dict:
    response = client.post(
        "/api/v1/sites/thess-east/tickets",
        json={"service": service, "reason": reason, "lang": "fa"},
        headers=bearer(kiosk),
    )
    assert response.status_code == 201
    return response.get_json()


def test_sign_in_needs_the_right_password_and_a_csrf_token(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/signin").get_data(as_text=True)
    token = csrf_of(page)
    no_csrf = client.post("/signin", data={"username": "eleni", "password": PASSWORD})
    assert no_csrf.status_code == 400
    wrong = client.post(
        "/signin", data={"username": "eleni", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "Λάθος όνομα χρήστη ή κωδικός" in wrong.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out
    right = client.post(
        "/signin",
        data={"username": "eleni", "password": PASSWORD, "csrf_token": token, "next": "//evil"},
    )
    assert right.headers["Location"] == "/"  # no open redirect
    assert "thess-east" in client.get("/").get_data(as_text=True)


def test_pages_send_strangers_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/counter/thess-east/desk-1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=/counter/thess-east/desk-1")
    assert client.get("/counter/thess-east/desk-1/state", headers=JSON).status_code == 401


def test_a_shift_at_the_counter_is_written_as_counter_events(app: Flask, db: Database) -> None:
    client, csrf = signed_in(app, "eleni")
    opened = client.post("/counter/thess-east/desk-2/open", data={"csrf_token": csrf})
    assert opened.headers["Location"] == "/counter/thess-east/desk-2"
    assert post(client, "/counter/thess-east/desk-2/pause", csrf).get_json()["state"] == "paused"
    assert (
        post(client, "/counter/thess-east/desk-2/resume", csrf).get_json()["state"] == "available"
    )
    assert (
        post(client, "/counter/thess-east/desk-2/close", csrf).get_json()["state"] == "signed_out"
    )
    with db.read() as s:
        kinds = s.scalars(select(CounterEvent.type).order_by(CounterEvent.id)).all()
    assert kinds == ["opened", "paused", "resumed", "closed"]


def test_a_counter_that_calls_is_open_however_its_page_was_opened(
    app: Flask, db: Database, tokens: dict[str, str]
) -> None:
    """A bookmarked workstation (no 'choose a counter') and the API both call: the counter
    then counts as staffed, on its own screen, the counter list and the supervisor's view,
    and the staffing report reads the same events. A paused counter that calls is back."""
    api = app.test_client()
    for _ in range(3):
        kiosk_ticket(api, tokens["kiosk"], "other", "general")
    client, csrf = signed_in(app, "eleni")
    screen = post(client, "/counter/thess-east/desk-1/call-next", csrf).get_json()
    assert screen["current"] is not None
    assert screen["state"] == "available"
    choose = client.get("/counter/thess-east").get_data(as_text=True)
    cards = re.findall(r'data-state="(\w+)".*?data-counter="([\w-]+)"', choose, re.S)
    assert ("available", "desk-1") in cards, cards
    supervisor, _ = signed_in(app, "maria")
    overview = supervisor.get("/supervisor/thess-east/state", headers=JSON).get_json()
    desk1 = next(c for c in overview["counters"] if c["counter"] == "desk-1")
    assert (desk1["state"], desk1["user"]) == ("available", "eleni")

    post(client, f"/counter/thess-east/desk-1/tickets/{screen['current']['id']}/no-show", csrf)
    assert post(client, "/counter/thess-east/desk-1/pause", csrf).get_json()["state"] == "paused"
    called = api.post(
        "/api/v1/sites/thess-east/counters/desk-1/call-next", headers=bearer(tokens["staff"])
    )
    assert called.status_code == 200
    after = client.get("/counter/thess-east/desk-1/state", headers=JSON).get_json()
    assert after["state"] == "available"
    with db.read() as s:
        kinds = s.scalars(select(CounterEvent.type).order_by(CounterEvent.id)).all()
    assert kinds == ["opened", "paused", "resumed"]


def test_the_workstation_calls_serves_and_finishes(
    app: Flask, db: Database, tokens: dict[str, str]
) -> None:
    api = app.test_client()
    first = kiosk_ticket(api, tokens["kiosk"], "protection.women", "social-work")
    second = kiosk_ticket(api, tokens["kiosk"], "social_support", "social-work")
    client, csrf = signed_in(app, "eleni")
    client.post("/counter/thess-east/desk-3/open", data={"csrf_token": csrf})

    screen = client.get("/counter/thess-east/desk-3/state", headers=JSON).get_json()
    listed = {t["number"]: t for s in screen["services"] for t in s["tickets"]}
    assert listed[first["number"]]["reason"] is None  # sensitive: never in a list
    assert listed[second["number"]]["reason"]["code"] == "social_support"
    assert listed[first["number"]]["lang"] == "fa"

    screen = post(client, "/counter/thess-east/desk-3/call-next", csrf).get_json()
    current = screen["current"]
    assert current["number"] == first["number"]
    # at the counter itself the reason is shown, marked confidential
    assert current["reason"]["sensitive"] is True
    assert set(current["actions"]) >= {"recall", "start", "no-show", "return"}
    base = f"/counter/thess-east/desk-3/tickets/{current['id']}"
    assert post(client, f"{base}/start", csrf).get_json()["current"]["status"] == "serving"
    done = post(
        client, f"{base}/finish", csrf, {"outcome": "referred_external", "referral": "asylum"}
    ).get_json()
    assert done["current"] is None
    with db.read() as s:
        finished = s.scalars(select(Event).where(Event.type == "finished")).one()
    assert finished.payload == {"outcome": "referred_external", "referral": "asylum"}


def test_refused_actions_answer_json_and_change_nothing(
    app: Flask, db: Database, tokens: dict[str, str]
) -> None:
    api = app.test_client()
    ticket = kiosk_ticket(api, tokens["kiosk"], "other", "general")
    client, csrf = signed_in(app, "eleni")
    before = counts(db)
    no_csrf = post(client, "/counter/thess-east/desk-1/call-next", None)
    assert no_csrf.status_code == 400
    assert counts(db) == before

    post(client, "/counter/thess-east/desk-1/call-next", csrf)
    before = counts(db)
    base = f"/counter/thess-east/desk-1/tickets/{ticket['id']}"
    cases = [
        (f"{base}/finish", {"outcome": "maybe"}, 400),  # the API's schema, as the API
        (f"{base}/finish", {"outcome": "referred_external", "referral": "moon"}, 400),
        (f"{base}/finish", {"outcome": "referred_internal", "referral": "moon"}, 422),
        (f"{base}/transfer", {"service": "nowhere"}, 404),
        (f"{base}/explode", {}, 404),
        ("/counter/thess-east/desk-1/tickets/999999/start", {}, 404),
        ("/counter/thess-east/desk-1/call-next", {}, 409),  # desk-1 still serves the ticket
        ("/counter/thess-west/desk-1/call-next", {}, 403),  # another centre
        ("/counter/thess-east/desk-9/call-next", {}, 404),
    ]
    for url, body, status in cases:
        response = post(client, url, csrf, body)
        assert response.status_code == status, (url, response.get_data(as_text=True))
        assert set(response.get_json()["error"]) == {"code", "message"}
    assert counts(db) == before


def test_the_supervisor_sees_waits_over_the_limit(
    app: Flask, db: Database, tokens: dict[str, str]
) -> None:
    api = app.test_client()
    ticket = kiosk_ticket(api, tokens["kiosk"], "other", "general")
    staff, _ = signed_in(app, "eleni")
    assert staff.get("/supervisor/thess-east").status_code == 403
    supervisor, _ = signed_in(app, "maria")
    assert supervisor.get("/supervisor/thess-east").status_code == 200
    state = supervisor.get("/supervisor/thess-east/state", headers=JSON).get_json()
    general = next(s for s in state["services"] if s["service"] == "general")
    assert general["waiting"] == 1 and general["over"] is False
    with db.engine.begin() as conn:  # the ticket has waited an hour (limit: 45 minutes)
        conn.exec_driver_sql(
            "UPDATE tickets SET queued_at = datetime(queued_at, '-60 minutes') WHERE id = ?",
            (ticket["id"],),
        )
    state = supervisor.get("/supervisor/thess-east/state", headers=JSON).get_json()
    general = next(s for s in state["services"] if s["service"] == "general")
    assert general["over"] is True and general["oldest_wait_s"] >= 3600
    assert {c["state"] for c in state["counters"]} == {"signed_out"}


def test_speech_is_for_devices_and_staff_only(
    app: Flask, client: FlaskClient, tokens: dict[str, str]
) -> None:
    """POST with the text in a JSON body (a URL is logged; the text may name a visit
    reason): a device's bearer token needs no CSRF token, a staff session does."""
    said = {"lang": "el", "text": "Εισιτήριο Α 23, γκισέ 3"}
    display, kiosk = bearer(tokens["display"]), bearer(tokens["kiosk"])

    def code(response: Any) -> str:
        return response.get_json()["error"]["code"]

    assert client.get("/speech?lang=el&text=x", headers=display).status_code == 405
    assert client.post("/speech", json=said, headers=bearer("wrong")).status_code == 401
    audio = client.post("/speech", json=said, headers=display)
    assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    assert audio.data[:4] == b"RIFF" and len(audio.data) > 10_000
    assert audio.headers["Cache-Control"] == "no-store"
    no_voice = client.post("/speech", json={"lang": "ps", "text": "x"}, headers=display)
    assert no_voice.status_code == 404 and code(no_voice) == "no_voice"
    for text in ("", " ", "a" * 500):
        refused = client.post("/speech", json={"lang": "el", "text": text}, headers=kiosk)
        assert refused.status_code == 400 and code(refused) == "bad_text"
    for body in ([said], "text", {"lang": "el", "text": 23}, {**said, "key": ["a"]}):
        refused = client.post("/speech", json=body, headers=kiosk)
        assert refused.status_code == 400 and code(refused) == "bad_json"
    form = client.post("/speech", data=said, headers=kiosk)  # a form is not a JSON object
    assert form.status_code == 400 and code(form) == "bad_json"
    staff, csrf = signed_in(app, "eleni")
    assert staff.post("/speech", json=said).status_code == 400  # no CSRF token: refused
    heard = staff.post("/speech", json=said, headers={"X-CSRF-Token": csrf})
    assert heard.status_code == 200 and heard.data[:4] == b"RIFF"


def test_the_api_and_the_counter_pages_answer_an_action_alike(
    app: Flask, db: Database, tokens: dict[str, str]
) -> None:
    """The same action through the REST API and through the workstation's JSON: the same
    status, the same error code, the same error shape, because both are the front desk."""
    api, staff = app.test_client(), bearer(tokens["staff"])
    page, csrf = signed_in(app, "eleni")

    def through_both(api_path: str, page_path: str, body: Any = None) -> list[Any]:
        raw = {"data": "not json", "content_type": "application/json"} if body == "raw" else {}
        sent = {} if raw else {"json": body}
        answers = [
            api.post(f"/api/v1{api_path}", headers=staff, **raw, **sent),
            page.post(
                f"/counter/{page_path}", headers={**JSON, "X-CSRF-Token": csrf}, **raw, **sent
            ),
        ]
        return answers

    def alike(answers: list[Any], status: int, code: str | None = None) -> None:
        statuses = [a.status_code for a in answers]
        assert statuses == [status, status], [a.get_data(as_text=True) for a in answers]
        if code is not None:
            errors = [a.get_json()["error"] for a in answers]
            assert [set(e) for e in errors] == [{"code", "message"}] * 2
            assert [e["code"] for e in errors] == [code, code]

    def call_next(site: str, counter: str) -> list[Any]:
        return through_both(
            f"/sites/{site}/counters/{counter}/call-next", f"{site}/{counter}/call-next"
        )

    def on_ticket(ticket_id: int, action: str, body: Any = None) -> list[Any]:
        path = f"tickets/{ticket_id}/{action}"
        return through_both(f"/{path}", f"thess-east/desk-1/{path}", body)

    alike(call_next("thess-east", "desk-1"), 204)  # nobody waiting
    first = kiosk_ticket(api, tokens["kiosk"], "other", "general")["id"]
    alike(on_ticket(first, "start"), 409, "invalid_transition")  # not called yet
    assert api.post(f"{EAST_API}/counters/desk-1/call-next", headers=staff).status_code == 200
    before = counts(db)
    alike(call_next("thess-east", "desk-1"), 409, "counter_busy")
    alike(call_next("thess-east", "desk-9"), 404, "not_found")
    alike(call_next("thess-west", "desk-1"), 403, "forbidden")
    alike(on_ticket(first, "finish", {"outcome": "maybe"}), 400, "validation_error")
    alike(on_ticket(first, "finish", "raw"), 400, "bad_json")
    moon = {"outcome": "referred_internal", "referral": "moon"}  # no such reason group
    alike(on_ticket(first, "finish", moon), 422, "bad_referral")
    alike(on_ticket(first, "transfer", {"service": "nowhere"}), 404, "not_found")
    alike(on_ticket(first, "transfer", {"service": "general"}), 409, "same_service")
    alike(on_ticket(first, "explode"), 404, "not_found")
    alike(on_ticket(999999, "start"), 404, "not_found")
    assert counts(db) == before
    alike(on_ticket(first, "recall"), 200)


def test_error_pages_speak_the_staff_members_language(app: Flask, tokens: dict[str, str]) -> None:
    """403, 404 and 500 pages are the catalogs', not the framework's English ones; the
    workstation's fetch calls still get the JSON error."""
    greek, _ = signed_in(app, "eleni")
    forbidden = greek.get("/counter/thess-west")  # another centre
    assert forbidden.status_code == 403
    assert "Ο λογαριασμός σας δεν επιτρέπεται να ανοίξει αυτή τη σελίδα." in forbidden.get_data(
        as_text=True
    )
    missing = greek.get("/counter/thess-east/desk-9")
    assert missing.status_code == 404 and "Δεν βρέθηκε" in missing.get_data(as_text=True)
    unknown = greek.get("/no/such/page")
    assert unknown.status_code == 404 and "Forbidden" not in unknown.get_data(as_text=True)
    assert "Δεν βρέθηκε" in unknown.get_data(as_text=True)
    assert greek.get("/counter/thess-west/desk-1/state", headers=JSON).get_json()["error"]

    english = app.test_client()
    csrf = csrf_of(english.get("/signin").get_data(as_text=True))
    english.post(
        "/signin",
        data={"username": "eleni", "password": PASSWORD, "csrf_token": csrf, "lang": "en"},
    )
    page = english.get("/counter/thess-west").get_data(as_text=True)
    assert "Your account may not open this page." in page and 'lang="en"' in page

    def broken() -> str:
        raise RuntimeError("disk on fire")

    app.view_functions["staff.home"] = broken
    crashed = greek.get("/")
    assert crashed.status_code == 500
    text = crashed.get_data(as_text=True)
    assert "Κάτι πήγε στραβά" in text and "disk" not in text
