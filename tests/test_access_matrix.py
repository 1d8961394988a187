"""Who may call what: every URL of the app and every Socket.IO namespace and event, called
as each kind of caller, against one table of expectations.

The table is checked against the app's URL map and the hub's namespaces, so a new URL, a
new method or a new event without a line here fails the suite until someone has decided
who may use it. A call is "denied" when it answers 401, 403 or 404, or a page sends the
caller to sign in; anything else but a server error is "allowed" (a 400 or 422 to an
allowed caller means the call got past the access check and met the input check).

Callers: anonymous; the kiosk and the display of centre A; staff of centre B; a mediator,
staff, supervisor of A; an administrator of every centre. Devices call pages with their bearer
token, which pages ignore: they count as anonymous there, as they should.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from flask import Flask
from sqlalchemy import select

from counter.blueprint import ACTION as COUNTER_ACTION
from server import alarms, auth, catalog
from server.api.blueprint import ACTION as API_ACTION
from server.app import create_app
from server.db import Database
from server.models import Device, Ticket, User
from server.web.csrf import FIELD, HEADER
from tests.conftest import PASSWORD
from tests.liveserver import LiveServer

CALLERS = ("anonymous", "kiosk", "display", "staff_b", "mediator", "staff", "supervisor", "admin")
# who, by the letters of the table: a anonymous, k kiosk, d display, b staff of B,
# m mediator of A, s staff of A, v supervisor of A, x admin of every site
LETTERS = dict(zip("akdbmsvx", CALLERS, strict=True))

EVERYONE = "akdbmsvx"
STAFF_ANYWHERE = "bmsvx"  # any signed-in staff member, of whichever centre, mediators too
MEDIATORS = "m"  # of centre A: interpreters who join calls, at no counter of their own
STAFF_A = "svx"  # staff of centre A (supervisors and admins are staff too)
SUPERVISORS = "vx"
ADMIN = "x"  # of every centre: the shared visit reasons, new centres, the audit log
NOBODY = ""

# (method, rule) -> the callers allowed. Every URL of the app has one line per method.
MATRIX: dict[tuple[str, str], str] = {
    # public: the sign-in, the kiosk and display shells (their data needs a token),
    # fonts, the visitor's status page, the API's health and document
    ("GET", "/signin"): EVERYONE,
    ("POST", "/signin"): EVERYONE,
    ("POST", "/signout"): EVERYONE,
    ("GET", "/kiosk/<site>"): EVERYONE,
    ("GET", "/kiosk/strings/<lang>.json"): EVERYONE,
    ("GET", "/display/<site>"): EVERYONE,
    ("GET", "/fonts/<path:filename>"): EVERYONE,
    ("GET", "/s/<token>"): EVERYONE,
    ("GET", "/api/v1/health"): EVERYONE,
    ("GET", "/api/v1/openapi.json"): EVERYONE,
    ("POST", "/api/v1/auth/token"): EVERYONE,
    ("POST", "/api/v1/pairings"): EVERYONE,
    ("GET", "/api/v1/sites"): EVERYONE,
    ("GET", "/api/v1/tickets/status/<token>"): EVERYONE,
    # what a display shows the waiting room, to redraw it after a change: nothing secret
    ("GET", "/display/<site>/board.json"): EVERYONE,
    # the API for devices and staff of the site
    ("GET", "/api/v1/sites/<site>/services"): "kd" + STAFF_A,
    ("GET", "/api/v1/sites/<site>/opening"): "kd" + STAFF_A,
    ("GET", "/api/v1/sites/<site>/counters"): "d" + STAFF_A,
    ("GET", "/api/v1/sites/<site>/queue"): "dm" + STAFF_A,
    ("POST", "/api/v1/sites/<site>/tickets"): "k" + STAFF_A,
    ("POST", "/api/v1/sites/<site>/counters/<counter>/call-next"): STAFF_A,
    ("GET", "/api/v1/tickets/<int:ticket_id>"): STAFF_A,
    ("GET", "/api/v1/tickets/<int:ticket_id>/print"): "k" + STAFF_A,  # the kiosk that issued it
    ("POST", f"/api/v1/tickets/<int:ticket_id>/{API_ACTION}"): STAFF_A,
    ("GET", "/api/v1/reports/<kind>"): SUPERVISORS,
    ("POST", "/api/v1/tickets/<int:ticket_id>/mediator-request"): STAFF_A,
    ("POST", "/api/v1/sites/<site>/counters/<counter>/alarm"): STAFF_A,
    ("GET", "/api/v1/sites/<site>/alarms"): STAFF_A,
    ("POST", "/api/v1/sites/<site>/alarms/<int:alarm_id>/acknowledge"): SUPERVISORS,
    # mediators, and the counter staff who follow them (not displays: it names people)
    ("GET", "/api/v1/sites/<site>/mediators"): MEDIATORS + STAFF_A,
    ("PUT", "/api/v1/sites/<site>/mediators/me"): MEDIATORS,
    ("POST", "/api/v1/sites/<site>/mediator-requests/<int:ticket_id>/accept"): MEDIATORS,
    ("POST", "/speech"): "kd" + STAFF_ANYWHERE,
    # staff pages
    ("GET", "/"): STAFF_ANYWHERE,
    ("GET", "/password"): STAFF_ANYWHERE,
    ("POST", "/password"): STAFF_ANYWHERE,
    ("GET", "/counter/<site>"): STAFF_A,
    ("GET", "/counter/<site>/<counter>"): STAFF_A,
    ("GET", "/counter/<site>/<counter>/state"): STAFF_A,
    ("POST", "/counter/<site>/<counter>/open"): STAFF_A,
    ("POST", "/counter/<site>/<counter>/pause"): STAFF_A,
    ("POST", "/counter/<site>/<counter>/resume"): STAFF_A,
    ("POST", "/counter/<site>/<counter>/close"): STAFF_A,
    ("POST", "/counter/<site>/<counter>/call-next"): STAFF_A,
    ("POST", "/counter/<site>/<counter>/alarm"): STAFF_A,
    ("POST", f"/counter/<site>/<counter>/tickets/<int:ticket_id>/{COUNTER_ACTION}"): STAFF_A,
    ("POST", "/counter/<site>/<counter>/tickets/<int:ticket_id>/ask-mediator"): STAFF_A,
    ("GET", "/mediator/<site>"): MEDIATORS,
    ("GET", "/mediator/<site>/state"): MEDIATORS,
    ("POST", "/mediator/<site>/available"): MEDIATORS,
    ("POST", "/mediator/<site>/busy"): MEDIATORS,
    ("POST", "/mediator/<site>/away"): MEDIATORS,
    ("POST", "/mediator/<site>/requests/<int:ticket_id>/accept"): MEDIATORS,
    ("GET", "/supervisor/<site>"): SUPERVISORS,
    ("GET", "/supervisor/<site>/state"): SUPERVISORS,
    ("POST", "/supervisor/<site>/alarms/<int:alarm_id>/acknowledge"): SUPERVISORS,
    ("GET", "/reports/"): SUPERVISORS,
    ("GET", "/reports/<site>"): SUPERVISORS,
    ("GET", "/reports/<site>/indicators"): SUPERVISORS,
    ("GET", "/reports/<site>/staffing"): SUPERVISORS,
    ("GET", "/reports/<site>/export/<kind>.<fmt>"): SUPERVISORS,
    # translations and recordings: any staff member who speaks a language may review and
    # record it (they are shared by every centre); importing reviewed strings is an admin's
    ("GET", "/languages/"): STAFF_ANYWHERE,
    ("GET", "/languages/<lang>/strings.<fmt>"): STAFF_ANYWHERE,
    ("POST", "/languages/<lang>/strings"): ADMIN,
    ("GET", "/languages/<lang>/phrases"): STAFF_ANYWHERE,
    ("GET", "/languages/<lang>/phrase"): STAFF_ANYWHERE,
    ("POST", "/languages/<lang>/phrase"): STAFF_ANYWHERE,
    ("POST", "/languages/<lang>/phrase/delete"): STAFF_ANYWHERE,
    # administration: a centre's own settings, devices and people for its supervisors
    ("GET", "/admin/"): SUPERVISORS,
    ("GET", "/admin/<site>/"): SUPERVISORS,
    ("POST", "/admin/<site>/"): SUPERVISORS,
    ("POST", "/admin/<site>/config"): SUPERVISORS,
    ("GET", "/admin/<site>/config.toml"): SUPERVISORS,
    ("GET", "/admin/<site>/counters/<slug>"): SUPERVISORS,
    ("POST", "/admin/<site>/counters/<slug>"): SUPERVISORS,
    ("POST", "/admin/<site>/counters/<slug>/retire"): SUPERVISORS,
    ("GET", "/admin/<site>/counters/new"): SUPERVISORS,
    ("POST", "/admin/<site>/counters/new"): SUPERVISORS,
    ("GET", "/admin/<site>/devices"): SUPERVISORS,
    ("POST", "/admin/<site>/devices"): SUPERVISORS,
    ("GET", "/admin/<site>/devices/<int:device_id>/printer"): SUPERVISORS,
    ("POST", "/admin/<site>/devices/<int:device_id>/printer"): SUPERVISORS,
    ("POST", "/admin/<site>/devices/<int:device_id>/printer/test"): SUPERVISORS,
    ("POST", "/admin/<site>/devices/revoke"): SUPERVISORS,
    ("GET", "/admin/<site>/erase"): SUPERVISORS,
    ("POST", "/admin/<site>/erase"): SUPERVISORS,
    ("GET", "/admin/<site>/messages"): SUPERVISORS,
    ("POST", "/admin/<site>/messages"): SUPERVISORS,
    ("GET", "/admin/<site>/services/<slug>"): SUPERVISORS,
    ("POST", "/admin/<site>/services/<slug>"): SUPERVISORS,
    ("POST", "/admin/<site>/services/<slug>/retire"): SUPERVISORS,
    ("GET", "/admin/<site>/services/new"): SUPERVISORS,
    ("POST", "/admin/<site>/services/new"): SUPERVISORS,
    ("GET", "/admin/<site>/staff"): SUPERVISORS,
    ("POST", "/admin/<site>/staff"): SUPERVISORS,
    ("POST", "/admin/<site>/staff/<int:user_id>/active"): SUPERVISORS,
    ("POST", "/admin/<site>/staff/<int:user_id>/reset"): SUPERVISORS,
    ("POST", "/admin/<site>/staff/<int:user_id>/role"): SUPERVISORS,
    ("POST", "/admin/<site>/staff/<int:user_id>/trained"): SUPERVISORS,
    ("POST", "/admin/<site>/staff/<int:user_id>/languages"): SUPERVISORS,
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/admin/reasons/"): ADMIN,
    ("GET", "/admin/reasons/<code>"): ADMIN,
    ("POST", "/admin/reasons/<code>"): ADMIN,
    ("GET", "/admin/reasons/new"): ADMIN,
    ("POST", "/admin/reasons/new"): ADMIN,
    ("GET", "/admin/sites/new"): ADMIN,
    ("POST", "/admin/sites/new"): ADMIN,
}

# Socket.IO: namespace -> (callers allowed to connect, the events they may then send)
SOCKETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "/display": ("d", ("snapshot",)),
    "/kiosk": ("k", ()),
    "/counter": ("m" + STAFF_A, ("snapshot",)),  # mediators follow the queue too
    "/status": (EVERYONE, ()),  # with a ticket's public token: the token is the credential
}

SITE_A = "thess-east"


@dataclass
class World:
    """What the calls need: each caller's credentials, and ids that exist at centre A."""

    bearer: dict[str, str]  # caller -> API bearer token
    page: dict[str, str]  # caller -> page session id
    values: dict[str, Any]  # URL variable -> a value that exists


@pytest.fixture(scope="module")
def world_file(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shared test database plus an administrator, devices, tokens and one ticket."""
    path = tmp_path_factory.mktemp("matrix") / "seira.db"
    shutil.copy(template_db, path)
    db = Database(f"sqlite:///{path}")
    auth.add_user(db, "sofia", PASSWORD, "admin", "thess-east")
    auth.add_user(db, "sofia", PASSWORD, "admin", "thess-west")
    auth.add_user(db, "amal", PASSWORD, "mediator", "thess-east")
    db.dispose()
    yield path


def _world(db: Database, app: Flask, tmp_path: Path) -> World:
    users = {
        "staff": "eleni",
        "staff_b": "nikos",
        "mediator": "amal",
        "supervisor": "maria",
        "admin": "sofia",
    }
    with db.read() as s:
        ids = dict(s.execute(select(User.username, User.id)).all())
    printer = {"printer": f"file://{tmp_path / 'printer.bin'}"}
    bearer = {"kiosk": auth.add_device(db, SITE_A, "kiosk", "kiosk-m", printer)}
    bearer["display"] = auth.add_device(db, SITE_A, "display", "display-m")
    page = {}
    for caller, username in users.items():
        bearer[caller] = auth.grant_token(db, ids[username])[0]
        page[caller] = auth.grant_token(db, ids[username], kind=auth.PAGE)[0]
    client = app.test_client()
    body = {"service": "general", "reason": "health", "lang": "fa", "priority": "none"}
    issued = client.post(
        f"/api/v1/sites/{SITE_A}/tickets",
        json=body,
        headers={"Authorization": f"Bearer {bearer['kiosk']}"},
    ).get_json()
    with db.read() as s:
        ticket = s.get(Ticket, issued["id"])
        assert ticket is not None
        kiosk = s.scalar(select(Device.id).where(Device.name == "kiosk-m"))
    site_a = catalog.current(db).require_site(SITE_A)
    alarm = alarms.raise_alarm(db, site_a, "desk-1", ids["eleni"])
    values = {
        "site": SITE_A,
        "counter": "desk-1",
        "ticket_id": ticket.id,
        "action": "start",
        "token": ticket.public_token,
        "kind": "waits",
        "fmt": "csv",
        "lang": "fa",
        "filename": "OFL.txt",
        "user_id": ids["eleni"],
        "device_id": kiosk,
        "code": "health",
        "alarm_id": alarm.id,  # acknowledged by the first allowed: a 409 for the others
    }
    return World(bearer, page, values)


# per rule: variables that differ from the defaults, and the query string
OVERRIDES: dict[str, dict[str, Any]] = {
    "/admin/<site>/counters/<slug>": {"slug": "desk-1"},
    "/admin/<site>/counters/<slug>/retire": {"slug": "desk-1"},
    "/admin/<site>/services/<slug>": {"slug": "general"},
    "/admin/<site>/services/<slug>/retire": {"slug": "general"},
    "/languages/<lang>/strings.<fmt>": {"fmt": "po"},
}
# per rule: the form a page's POST sends (besides the CSRF token)
FORMS: dict[str, dict[str, str]] = {
    "/signin": {"username": "eleni", "password": PASSWORD},
    "/admin/<site>/staff/<int:user_id>/role": {"role": "staff"},
}
# calls that an allowed caller makes impossible for the next (a retired counter is gone):
# each caller meets a world of its own
ONE_WORLD_EACH = {
    "/admin/<site>/counters/<slug>/retire",
    "/admin/<site>/services/<slug>/retire",
}
# per rule: the JSON a page's script POSTs instead of a form (the CSRF token in its header)
JSON_BODIES: dict[str, dict[str, str]] = {
    "/speech": {"lang": "el", "text": "A023"},
}
QUERY: dict[str, str] = {
    "/api/v1/reports/<kind>": "site=thess-east&from=2026-01-01&to=2026-01-31",
    "/reports/<site>/export/<kind>.<fmt>": "from=2026-01-01&to=2026-01-31",
    "/languages/<lang>/phrase": "key=call.number",
    "/languages/<lang>/phrase/delete": "key=call.number",
}


def _url(rule: str, values: dict[str, Any]) -> str:
    """The rule with a value for each variable, whatever its converter (`<int:id>`...)."""
    chosen = {**values, **OVERRIDES.get(rule, {})}
    out = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", lambda m: str(chosen[m[1]]), rule)
    query = QUERY.get(rule)
    return f"{out}?{query}" if query else out


def _app_rules(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.endswith("static")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def test_every_url_of_the_app_is_in_the_matrix(app: Flask) -> None:
    found = _app_rules(app)
    assert found - set(MATRIX) == set(), "URLs nobody decided on: add them to MATRIX"
    assert set(MATRIX) - found == set(), "MATRIX names URLs the app no longer has"


def test_every_socket_namespace_and_event_is_in_the_matrix(app: Flask) -> None:
    server = app.extensions["seira.hub"].socketio.server
    namespaces = {ns for ns in server.namespace_handlers if ns != "/"}
    assert namespaces == set(SOCKETS)
    for name, handler in server.namespace_handlers.items():
        events = {
            attr[3:]
            for attr in dir(handler)
            if attr.startswith("on_") and attr not in ("on_connect", "on_disconnect", "on_event")
        }
        assert events == set(SOCKETS[name][1]), name


def _denied(rule: str, status: int, location: str) -> bool:
    """Refused, or sent to sign in (signing out sends everyone there: that is its answer)."""
    to_sign_in = status in (302, 303) and "/signin" in location and rule != "/signout"
    return status in (401, 403, 404) or to_sign_in


def _call(app: Flask, world: World, caller: str, method: str, rule: str) -> tuple[int, str]:
    client = app.test_client()
    with client.session_transaction() as session:
        session[FIELD] = "matrix-csrf"
        if caller in world.page:
            session[auth.SESSION_KEY] = world.page[caller]
    headers = {"Authorization": f"Bearer {world.bearer[caller]}"} if caller in world.bearer else {}
    url = _url(rule, world.values)
    if rule.startswith("/api/"):
        response = client.open(
            url, method=method, headers=headers, json={} if method == "POST" else None
        )
    elif rule in JSON_BODIES:
        headers = {**headers, HEADER: "matrix-csrf"}
        response = client.open(url, method=method, headers=headers, json=JSON_BODIES[rule])
    else:
        data = {FIELD: "matrix-csrf", **FORMS.get(rule, {})} if method == "POST" else None
        response = client.open(url, method=method, headers=headers, data=data)
    return response.status_code, response.headers.get("Location", "")


def _worlds(world_file: Path, tmp_path: Path) -> Iterator[Callable[[], tuple[Flask, World]]]:
    """Each call: a new copy of the database, an app over it, and its world."""
    made: list[Database] = []

    def make() -> tuple[Flask, World]:
        path = tmp_path / f"seira-{len(made)}.db"
        shutil.copy(world_file, path)
        db = Database(f"sqlite:///{path}")
        made.append(db)
        app = create_app(db, TESTING=True, SECRET_KEY="test", OPENING_HOURS="ignore")
        return app, _world(db, app, tmp_path)

    yield make
    for db in made:
        db.dispose()


@pytest.fixture
def worlds(world_file: Path, tmp_path: Path) -> Iterator[Callable[[], tuple[Flask, World]]]:
    yield from _worlds(world_file, tmp_path)


@pytest.fixture(scope="module")
def shared(
    world_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, World]]:
    """One world for every call that only reads."""
    yield from (make() for make in _worlds(world_file, tmp_path_factory.mktemp("shared")))


@pytest.mark.parametrize(("method", "rule"), sorted(MATRIX), ids=lambda x: str(x))
def test_who_may_call_each_url(
    worlds: Callable[[], tuple[Flask, World]],
    shared: tuple[Flask, World],
    method: str,
    rule: str,
) -> None:
    """Least trusted callers first: a denied call changes nothing, so each caller meets the
    state the one before left (an allowed call may change it, which is fine). Reading
    changes nothing either: every GET shares one world."""
    app, world = shared if method == "GET" else worlds()
    allowed = {LETTERS[letter] for letter in MATRIX[(method, rule)]}
    seen = {}
    for caller in CALLERS:
        if rule in ONE_WORLD_EACH:
            app, world = worlds()
        status, location = _call(app, world, caller, method, rule)
        assert status < 500, f"{method} {rule} as {caller}: {status}"
        seen[caller] = "deny" if _denied(rule, status, location) else "allow"
    if os.environ.get("SEIRA_MATRIX_SHOW"):
        print(method, rule, "".join(k for k, c in LETTERS.items() if seen[c] == "allow"))
    expected = {caller: "allow" if caller in allowed else "deny" for caller in CALLERS}
    assert seen == expected


# --- Socket.IO, on a real server with a real client ------------------------------------------

SNAPSHOT_REPLY = {"/display": "snapshot", "/counter": "queue"}  # what "snapshot" answers


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[LiveServer, dict[str, dict[str, str]]]]:
    """A served centre, and each caller's Socket.IO auth (a ticket's token for everyone:
    it is what a visitor's phone sends, and opens only the status of that ticket)."""
    with LiveServer() as server:
        tokens = {
            "kiosk": server.add_device(SITE_A, "kiosk", "kiosk-m"),
            "display": server.add_device(SITE_A, "display", "display-m"),
            "staff_b": server.add_staff("nikos", "thess-west"),
            "mediator": server.add_staff("amal", SITE_A, "mediator"),
            "staff": server.add_staff("eleni", SITE_A),
            "supervisor": server.add_staff("maria", SITE_A, "supervisor"),
        }
        auth.add_user(server.db, "sofia", "sandbox-password", "admin", "thess-west")
        tokens["admin"] = server.add_staff("sofia", SITE_A, "admin")
        issued = requests.post(
            f"{server.url}/api/v1/sites/{SITE_A}/tickets",
            json={"service": "general", "reason": "health", "lang": "fa", "priority": "none"},
            headers={"Authorization": f"Bearer {tokens['kiosk']}"},
            timeout=10,
        ).json()
        with server.db.read() as s:
            ticket = s.get(Ticket, issued["id"])
            assert ticket is not None and ticket.public_token
            public = ticket.public_token
        auths = {
            caller: {
                "site": SITE_A,
                "ticket": public,
                **({"token": tokens[caller]} if caller in tokens else {}),
            }
            for caller in CALLERS
        }
        yield server, auths


def _connect(
    server: LiveServer, namespace: str, auth_data: dict[str, str]
) -> socketio.Client | None:
    client = socketio.Client(reconnection=False)
    try:
        client.connect(
            server.url,
            namespaces=[namespace],
            auth=auth_data,
            transports=["websocket"],
            wait_timeout=5,
        )
    except socketio.exceptions.ConnectionError:
        return None
    return client


@pytest.mark.parametrize("namespace", sorted(SOCKETS))
def test_who_may_connect_to_each_namespace_and_send_its_events(
    live: tuple[LiveServer, dict[str, dict[str, str]]], namespace: str
) -> None:
    server, auths = live
    letters, events = SOCKETS[namespace]
    allowed = {LETTERS[letter] for letter in letters}
    for caller in CALLERS:
        client = _connect(server, namespace, auths[caller])
        assert (client is not None) == (caller in allowed), f"{namespace} as {caller}"
        if client is None:
            continue
        answered = threading.Event()
        if events:
            client.on(
                SNAPSHOT_REPLY[namespace], lambda *_, done=answered: done.set(), namespace=namespace
            )
        for event in events:
            answered.clear()
            client.emit(event, {}, namespace=namespace)
            assert answered.wait(5), f"{namespace} {event} as {caller}: no answer"
        client.disconnect()


def _signed_in_page(server: LiveServer, username: str) -> requests.Session:
    page = requests.Session()
    form = page.get(f"{server.url}/signin", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf
    done = page.post(
        f"{server.url}/signin",
        data={"username": username, "password": "sandbox-password", "csrf_token": csrf[1]},
        allow_redirects=False,
        timeout=10,
    )
    assert done.status_code == 302
    home = page.get(f"{server.url}/", timeout=10).text  # a new session: a new CSRF token
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home)
    assert csrf
    page.headers["X-CSRF-Token"] = csrf[1]
    return page


def _opens(server: LiveServer, page_cookie: str, bearer: str) -> dict[str, bool]:
    """What these credentials still open: a counter page, the API, the counter's socket."""
    cookie = {"Cookie": page_cookie}
    counter = requests.get(
        f"{server.url}/counter/{SITE_A}", headers=cookie, allow_redirects=False, timeout=10
    )
    api = requests.get(
        f"{server.url}/api/v1/sites/{SITE_A}/queue",
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=10,
    )
    socket = socketio.Client(reconnection=False)
    try:
        socket.connect(
            server.url,
            namespaces=["/counter"],
            auth={"site": SITE_A},
            headers=cookie,
            transports=["websocket"],
            wait_timeout=5,
        )
        socket.disconnect()
        follows = True
    except socketio.exceptions.ConnectionError:
        follows = False
    return {"page": counter.status_code == 200, "api": api.status_code == 200, "socket": follows}


def _cookie(page: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in page.cookies)


def test_signing_out_and_a_password_reset_take_back_every_credential(
    live: tuple[LiveServer, dict[str, dict[str, str]]],
) -> None:
    server, _ = live
    auth.add_user(server.db, "irini", "sandbox-password", "staff", SITE_A)
    everything = {"page": True, "api": True, "socket": True}
    nothing = {"page": False, "api": False, "socket": False}

    page, bearer = _signed_in_page(server, "irini"), server.sign_in("irini")
    saved = _cookie(page)  # a copy of the cookie, as someone could have taken it
    assert _opens(server, saved, bearer) == everything
    out = page.post(f"{server.url}/signout", allow_redirects=False, timeout=10)
    assert out.status_code == 302
    assert _opens(server, saved, bearer) == nothing

    page, bearer = _signed_in_page(server, "irini"), server.sign_in("irini")
    saved = _cookie(page)
    assert _opens(server, saved, bearer) == everything
    with server.db.read() as s:
        irini = s.scalar(select(User.id).where(User.username == "irini"))
    supervisor = _signed_in_page(server, "maria")
    reset = supervisor.post(f"{server.url}/admin/{SITE_A}/staff/{irini}/reset", timeout=10)
    assert reset.status_code == 200 and "temporary-password" in reset.text
    assert _opens(server, saved, bearer) == nothing
