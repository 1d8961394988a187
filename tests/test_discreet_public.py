"""What the public sees of the discreet path, through a real server and a real Socket.IO
client: a private ticket and one with a sensitive reason are called like any other on the
display, but the display's events, its page, the status API and page never name their
service; a private ticket, and one whose visitor asked for it, are never spoken; a private
service has no waiting count on the display. Only a trained staff member at the private
counter calls the private ticket.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import update

from server.models import Membership, User
from tests.liveserver import LiveServer
from tests.test_realtime import Listener

SITE = "thess-east"
SOCIAL = ("Κοινωνική υπηρεσία", "Social services")
PRIVATE = ("Ιδιαίτερη συνάντηση", "Private conversation")


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        yield live


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(server: LiveServer, kiosk: str, service: str, reason: str, **extra: Any) -> dict:
    body = {"service": service, "reason": reason, "lang": "ar", **extra}
    answer = requests.post(
        f"{server.url}/api/v1/sites/{SITE}/tickets", json=body, headers=bearer(kiosk), timeout=10
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def call_all(server: LiveServer, staff: str, counter: str) -> list[str]:
    numbers = []
    while True:
        called = requests.post(
            f"{server.url}/api/v1/sites/{SITE}/counters/{counter}/call-next",
            headers=bearer(staff),
            timeout=10,
        )
        if called.status_code == 204:
            return numbers
        assert called.status_code == 200, called.text
        numbers.append(called.json()["number"])
        requests.post(
            f"{server.url}/api/v1/tickets/{called.json()['id']}/finish",
            json={"outcome": "served"},
            headers=bearer(staff),
            timeout=10,
        ).raise_for_status()


def test_no_public_surface_names_a_discreet_service_nor_speaks_a_quiet_number(
    server: LiveServer,
) -> None:
    kiosk = server.add_device(SITE, "kiosk", "entrance")
    display = server.add_device(SITE, "display", "hall")
    untrained = server.add_staff("nikos", SITE)
    trained = server.add_staff("eleni", SITE)
    with server.db.write() as s:
        eleni = s.query(User.id).filter(User.username == "eleni").scalar_subquery()
        s.execute(update(Membership).where(Membership.user_id == eleni).values(trained=True))
    wall = Listener(server, "/display", {"token": display})
    try:
        wall.wait_for(lambda got: any(e == "snapshot" for e, _ in got))
        private = issue(server, kiosk, "private", "private")
        protection = issue(server, kiosk, "social-work", "protection.women")
        asked = issue(server, kiosk, "general", "other", quiet=True)
        plain = issue(server, kiosk, "social-work", "social_support")
        assert private["number"].startswith("A")  # the reception's numbers
        assert [t["quiet"] for t in (private, protection, asked, plain)] == [
            True,
            False,
            True,
            False,
        ]

        # the phone's status names no service for the private and the protection tickets
        for ticket, named in ((private, ""), (protection, ""), (plain, "الخدمات الاجتماعية")):
            secret = ticket["status_url"].rsplit("/", 1)[-1]
            status = requests.get(f"{server.url}/api/v1/tickets/status/{secret}", timeout=10)
            assert status.json()["service"] in ({named} if named else {""}), status.json()
            page = requests.get(f"{server.url}/s/{secret}", timeout=10).text
            for word in (*SOCIAL, *PRIVATE, "private", "protection"):
                assert word not in page

        # a staff member not trained for it, even at the private counter, leaves it waiting
        assert private["number"] not in call_all(server, untrained, "desk-1")
        assert private["number"] not in call_all(server, untrained, "desk-3")
        assert call_all(server, trained, "desk-3") == [private["number"]]
        wall.wait_for(lambda got: len(wall.events("called")) == 4)
        calls = {c["number"]: c for c in wall.events("called")}
        shown = {n: c["service"]["labels"] for n, c in calls.items()}
        spoken = {n: bool(c["announce"]) for n, c in calls.items()}
        assert shown[private["number"]] == {} and shown[protection["number"]] == {}
        assert shown[plain["number"]]["el"] == SOCIAL[0]
        assert spoken == {
            private["number"]: False,
            protection["number"]: True,
            asked["number"]: False,
            plain["number"]: True,
        }
        assert calls[private["number"]]["quiet"] and calls[asked["number"]]["quiet"]
        # a display that connects now gets the same calls from its snapshot (read back)
        late = Listener(server, "/display", {"token": display})
        try:
            (snapshot,) = late.wait_for(lambda got: any(e == "snapshot" for e, _ in got))
            again = {c["number"]: c for c in snapshot[1]["calls"]}
            assert again[private["number"]]["service"]["labels"] == {}
            assert again[private["number"]]["announce"] == []
            assert again[plain["number"]]["service"]["labels"]["el"] == SOCIAL[0]
        finally:
            late.close()

        # the waiting room is never told that somebody waits for the private service
        waiting = [w for _, data in wall.received for w in data.get("waiting", [])]
        assert waiting and all(w["service"] != "private" for w in waiting)
        board = requests.get(f"{server.url}/display/{SITE}/board.json", timeout=10).json()
        assert "private" not in [s["slug"] for s in board["services"]]
        for word in PRIVATE:
            assert word not in requests.get(f"{server.url}/display/{SITE}", timeout=10).text
        queue = requests.get(
            f"{server.url}/api/v1/sites/{SITE}/queue", headers=bearer(display), timeout=10
        ).json()
        assert "private" not in [s["service"] for s in queue["services"]]
    finally:
        wall.close()
