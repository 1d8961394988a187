"""One kiosk issues at most KIOSK_TICKETS tickets a minute: the next is refused with 429
and changes nothing; staff at a counter and other kiosks are not held back by it."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from server.db import Database
from server.frontdesk import KIOSK_TICKETS
from server.models import Ticket
from tests.conftest import bearer, counts

TICKET = {"service": "general", "reason": "other", "lang": "ar", "priority": "none"}


def _issue(client: FlaskClient, token: str, site: str = "thess-east"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/sites/{site}/tickets", json=TICKET, headers=bearer(token))


def test_a_kiosk_pressed_again_and_again_is_asked_to_wait(
    client: FlaskClient, db: Database, tokens: dict[str, str]
) -> None:
    for _ in range(KIOSK_TICKETS):
        assert _issue(client, tokens["kiosk"]).status_code == 201
    before = counts(db)
    refused = _issue(client, tokens["kiosk"])
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "too_many_tickets"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert counts(db) == before  # nothing written
    assert _issue(client, tokens["staff"]).status_code == 201  # a counter still can
    assert _issue(client, tokens["west_kiosk"], "thess-west").status_code == 201

    # a minute later (the tickets' times moved back by hand) the kiosk issues again
    with db.write() as s:
        for ticket in s.scalars(select(Ticket)):
            ticket.issued_at -= timedelta(seconds=61)
    assert _issue(client, tokens["kiosk"]).status_code == 201
