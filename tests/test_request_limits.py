"""What a request may send: bodies over the limit get 413, JSON nested too deeply 400;
never a 500, and nothing is written."""

from __future__ import annotations

from flask.testing import FlaskClient

from server.db import Database
from server.web.security import MAX_BODY_BYTES
from tests.conftest import bearer, counts


def test_a_body_over_the_limit_is_refused_with_413(
    client: FlaskClient, db: Database, tokens: dict[str, str]
) -> None:
    before = counts(db)
    huge = (
        b'{"service": "general", "reason": "other", "lang": "el", "x": "'
        + b"a" * (MAX_BODY_BYTES + 1)
        + b'"}'
    )
    response = client.post(
        "/api/v1/sites/thess-east/tickets",
        data=huge,
        headers={**bearer(tokens["kiosk"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"
    page = client.post("/signin", data={"username": "x" * (MAX_BODY_BYTES + 10)})
    assert page.status_code == 413 and "<html" in page.get_data(as_text=True)
    assert counts(db) == before


def test_json_nested_deeper_than_the_parser_goes_is_a_400(
    client: FlaskClient, db: Database, tokens: dict[str, str]
) -> None:
    before = counts(db)
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/sites/thess-east/tickets",
        data=deep,
        headers={**bearer(tokens["kiosk"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_json"
    assert counts(db) == before
