"""The Socket.IO contract with real python-socketio clients over websockets, against a real
`seira serve`: who may connect, which room hears what, and that nothing personal leaks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import socketio

from server.realtime import FLUSH_INTERVAL_S, MOVED_INTERVAL_S
from tests.liveserver import LiveServer

Received = list[tuple[str, Any]]


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        live.tokens = {  # type: ignore[attr-defined]
            "east_display": live.add_device("thess-east", "display", "hall"),
            "west_display": live.add_device("thess-west", "display", "hall"),
            "east_kiosk": live.add_device("thess-east", "kiosk", "entrance"),
            "west_kiosk": live.add_device("thess-west", "kiosk", "entrance"),
            "east_staff": live.add_staff("eleni", "thess-east"),
            "west_staff": live.add_staff("nikos", "thess-west"),
        }
        yield live


def token(server: LiveServer, name: str) -> str:
    return server.tokens[name]  # type: ignore[attr-defined]


class Listener:
    """A real Socket.IO client that records every event it receives, with its arrival."""

    def __init__(self, server: LiveServer, namespace: str, auth: dict[str, str]) -> None:
        self.received: Received = []
        self.namespace = namespace
        self.changed = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record, namespace=namespace)
        self.client.connect(
            server.url, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=5
        )

    def _record(self, event: str, data: Any) -> None:
        with self.changed:
            self.received.append((event, data))
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 5) -> Received:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate(self.received):
                left = deadline - time.monotonic()
                assert left > 0, f"not received in time; got {self.received}"
                self.changed.wait(left)
            return list(self.received)

    def events(self, name: str) -> list[Any]:
        return [data for event, data in self.received if event == name]

    def close(self) -> None:
        self.client.disconnect()


def refused(server: LiveServer, namespace: str, auth: dict[str, str] | None) -> bool:
    client = socketio.Client(reconnection=False)
    try:
        client.connect(
            server.url, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=5
        )
    except socketio.exceptions.ConnectionError:
        return True
    client.disconnect()
    return False


SERVICE_OF = {"protection": "social-work", "integration": "integration", "benefits": "benefits"}


def issue(server: LiveServer, site: str, kiosk: str, reason: str, lang: str = "ar") -> dict:
    service = SERVICE_OF.get(reason.split(".")[0], "general")
    response = requests.post(
        f"{server.url}/api/v1/sites/{site}/tickets",
        json={"service": service, "reason": reason, "lang": lang},
        headers={"Authorization": f"Bearer {token(server, kiosk)}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def call(server: LiveServer, site: str, counter: str, staff: str) -> dict:
    response = requests.post(
        f"{server.url}/api/v1/sites/{site}/counters/{counter}/call-next",
        headers={"Authorization": f"Bearer {token(server, staff)}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def finish(server: LiveServer, ticket_id: int, staff: str) -> None:
    requests.post(
        f"{server.url}/api/v1/tickets/{ticket_id}/finish",
        json={"outcome": "served"},
        headers={"Authorization": f"Bearer {token(server, staff)}"},
        timeout=10,
    ).raise_for_status()


def keys(data: Any) -> set[str]:
    """Every key at any depth of an event's data."""
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in keys(v)}
    if isinstance(data, list):
        return {k for v in data for k in keys(v)}
    return set()


def test_missing_or_wrong_credentials_are_refused(server: LiveServer) -> None:
    assert refused(server, "/display", None)
    assert refused(server, "/display", {"token": "not-a-token"})
    assert refused(server, "/display", {"token": token(server, "east_kiosk")})  # wrong kind
    assert refused(server, "/display", {"token": token(server, "east_staff")})
    assert refused(server, "/counter", {"site": "thess-east"})
    assert refused(
        server, "/counter", {"token": token(server, "east_display"), "site": "thess-east"}
    )
    assert refused(server, "/counter", {"token": token(server, "west_staff"), "site": "thess-east"})
    assert refused(server, "/counter", {"token": token(server, "east_staff"), "site": "nowhere"})
    assert refused(server, "/status", None)
    assert refused(server, "/status", {"ticket": "no-such-ticket"})
    # and the right ones are accepted
    assert not refused(server, "/display", {"token": token(server, "east_display")})
    assert not refused(
        server, "/counter", {"token": token(server, "east_staff"), "site": "thess-east"}
    )


def test_events_stay_in_their_site_and_never_carry_a_reason(server: LiveServer) -> None:
    east = Listener(server, "/display", {"token": token(server, "east_display")})
    west = Listener(server, "/display", {"token": token(server, "west_display")})
    east_desk = Listener(
        server, "/counter", {"token": token(server, "east_staff"), "site": "thess-east"}
    )
    try:
        for listener in (east, west):
            listener.wait_for(lambda got: any(e == "snapshot" for e, _ in got))
        sensitive = issue(server, "thess-west", "west_kiosk", "protection.women", lang="fa")
        west_ticket = issue(server, "thess-west", "west_kiosk", "integration.greek_classes")
        east_ticket = issue(server, "thess-east", "east_kiosk", "benefits.housing_allowance")

        called_west = call(server, "thess-west", "desk-3", "west_staff")
        assert called_west["number"] == sensitive["number"]
        west.wait_for(lambda got: any(e == "called" for e, _ in got))
        call(server, "thess-west", "desk-4", "west_staff")
        west.wait_for(lambda got: len([e for e, _ in got if e == "called"]) == 2)
        call(server, "thess-east", "desk-1", "east_staff")
        east.wait_for(lambda got: any(e == "called" for e, _ in got))
        east_desk.wait_for(lambda got: any(e == "queue" for e, _ in got))
        time.sleep(0.6)  # let any stray event arrive before judging

        assert [c["number"] for c in east.events("called")] == [east_ticket["number"]]
        assert {c["number"] for c in west.events("called")} == {
            sensitive["number"],
            west_ticket["number"],
        }
        for listener in (east, west, east_desk):
            for event, data in listener.received:
                assert "reason" not in keys(data), (event, data)
                text = json.dumps(data, ensure_ascii=False)
                for code in ("protection", "integration.greek", "benefits.housing"):
                    assert code not in text, (event, data)
                for label in ("Support for women", "Υποστήριξη γυναικών", "Personal support"):
                    assert label not in text, (event, data)
        # the counters of one site hear only their own site's queue
        services = {s["service"] for _, q in east_desk.received for s in q["services"]}
        assert "integration" not in services
    finally:
        for listener in (east, west, east_desk):
            listener.close()


def test_display_events_are_numbered_without_gaps_and_snapshots_carry_the_last(
    server: LiveServer,
) -> None:
    display = Listener(server, "/display", {"token": token(server, "east_display")})
    try:
        display.wait_for(lambda got: any(e == "snapshot" for e, _ in got))
        for _ in range(3):
            issue(server, "thess-east", "east_kiosk", "other")
            time.sleep(FLUSH_INTERVAL_S + 0.2)  # summaries are coalesced; space them to see each
        display.wait_for(lambda got: len(got) >= 4)
        snapshot, *events = display.received
        seqs = [data["seq"] for _, data in events]
        assert seqs == list(range(snapshot[1]["seq"] + 1, snapshot[1]["seq"] + 1 + len(seqs)))
        assert {data["epoch"] for _, data in display.received} == {snapshot[1]["epoch"]}

        display.client.emit("snapshot", namespace="/display")
        display.wait_for(lambda got: got[-1][0] == "snapshot")
        assert display.received[-1][1]["seq"] == seqs[-1]
    finally:
        display.close()


def test_a_status_page_hears_only_its_own_ticket(server: LiveServer) -> None:
    mine = issue(server, "thess-east", "east_kiosk", "other", lang="uk")
    other = issue(server, "thess-east", "east_kiosk", "other", lang="ru")
    my_token = mine["status_url"].rsplit("/", 1)[1]
    other_token = other["status_url"].rsplit("/", 1)[1]
    me = Listener(server, "/status", {"ticket": my_token})
    them = Listener(server, "/status", {"ticket": other_token})
    try:
        me.wait_for(lambda got: any(e == "status" for e, _ in got))
        them.wait_for(lambda got: any(e == "status" for e, _ in got))
        # clear the east desks so that `mine` is the next ticket called at desk-2
        while True:
            response = requests.post(
                f"{server.url}/api/v1/sites/thess-east/counters/desk-2/call-next",
                headers={"Authorization": f"Bearer {token(server, 'east_staff')}"},
                timeout=10,
            )
            assert response.status_code == 200
            ticket = response.json()
            if ticket["id"] == mine["id"]:
                break
            finish(server, ticket["id"], "east_staff")
        me.wait_for(lambda got: any(e == "status" and d["status"] == "called" for e, d in got))
        called = [d for d in me.events("status") if d["status"] == "called"][-1]
        assert called["number"] == mine["number"]
        assert called["counter"] == "Віконце 2"  # in the ticket's language (Ukrainian)
        assert "reason" not in keys(called)
        time.sleep(0.4)
        assert all(d["number"] == other["number"] for d in them.events("status"))
        # the other page is told the queue moved, within MOVED_INTERVAL_S
        them.wait_for(lambda got: any(e == "moved" for e, _ in got), timeout=MOVED_INTERVAL_S + 3)
    finally:
        me.close()
        them.close()


def _admin_session(server: LiveServer) -> tuple[requests.Session, str]:
    """A signed-in browser-like session of an admin of both sites, and its CSRF token."""
    import re

    from server import auth
    from tests.liveserver import PASSWORD

    for site in ("thess-east", "thess-west"):
        auth.add_user(server.db, "sofia", PASSWORD, "admin", site)
    session = requests.Session()
    csrf = re.compile(r'name="csrf_token" value="([^"]+)"')
    page = session.get(f"{server.url}/signin", timeout=5).text
    session.post(
        f"{server.url}/signin",
        data={"username": "sofia", "password": PASSWORD, "csrf_token": csrf.findall(page)[0]},
        timeout=10,
    )
    page = session.get(f"{server.url}/admin/", timeout=5).text
    return session, csrf.findall(page)[0]


def test_a_change_of_configuration_reaches_kiosks_displays_and_counters_of_its_site(
    server: LiveServer,
) -> None:
    kiosk = Listener(server, "/kiosk", {"token": token(server, "east_kiosk")})
    display = Listener(server, "/display", {"token": token(server, "east_display")})
    counter = Listener(
        server, "/counter", {"token": token(server, "east_staff"), "site": "thess-east"}
    )
    other = Listener(server, "/kiosk", {"token": token(server, "west_kiosk")})
    assert refused(server, "/kiosk", {"token": token(server, "east_display")})  # a display
    session, csrf = _admin_session(server)
    response = session.post(
        f"{server.url}/admin/thess-east/services/benefits",
        data={
            "prefix": "B",
            "labels.el": "Επιδόματα",
            "labels.en": "Allowances",
            "reasons": ["benefits", "disability"],
            "csrf_token": csrf,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    for listener in (kiosk, display, counter):
        listener.wait_for(lambda got: any(event == "config" for event, _ in got))
    time.sleep(0.5)
    assert other.events("config") == []  # another site's kiosk hears nothing
    for listener in (kiosk, display, counter, other):
        listener.close()


@pytest.mark.parametrize("kind", ["display", "kiosk"])
def test_revoking_a_device_closes_its_connection_at_once(server: LiveServer, kind: str) -> None:
    name = f"to-revoke-{kind}"
    display_token = server.add_device("thess-east", kind, name)
    display = Listener(server, f"/{kind}", {"token": display_token})
    if kind == "display":
        display.wait_for(lambda got: any(event == "snapshot" for event, _ in got))
    session, csrf = _admin_session(server)
    response = session.post(
        f"{server.url}/admin/thess-east/devices/revoke",
        data={"name": name, "csrf_token": csrf},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    display.wait_for(lambda got: any(event == "revoked" for event, _ in got))
    deadline = time.monotonic() + 3
    while display.client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not display.client.connected  # closed by the server, not by this client
    assert refused(server, f"/{kind}", {"token": display_token})
    assert (
        requests.get(
            f"{server.url}/api/v1/sites/thess-east/services",
            headers={"Authorization": f"Bearer {display_token}"},
            timeout=5,
        ).status_code
        == 401
    )
