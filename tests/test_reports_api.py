"""GET /api/v1/reports/<kind>: who may ask, what is refused, and the three formats.

Every response passes through conftest.CheckedClient, which validates it against the
OpenAPI document (JSON bodies against the per-kind schema, downloads by media type).
"""

from __future__ import annotations

import csv
import io

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from server import auth
from server.analytics.reports import KINDS
from server.db import Database
from tests.conftest import bearer
from tests.test_reports_figures import build_history

REPORTS = "/api/v1/reports"
DAY = "from=2025-07-01&to=2025-07-01"


@pytest.fixture
def history(db: Database) -> Database:
    build_history(db)
    return db


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_as_json(
    client: FlaskClient, tokens: dict[str, str], history: Database, kind: str
) -> None:
    response = client.get(
        f"{REPORTS}/{kind}?site=thess-east&{DAY}", headers=bearer(tokens["supervisor"])
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["kind"] == kind and body["sites"] == ["thess-east"]
    assert body["from"] == body["to"] == "2025-07-01" and body["small_count_threshold"] == 5


def test_figures_through_the_api(
    client: FlaskClient, tokens: dict[str, str], history: Database
) -> None:
    body = client.get(f"{REPORTS}/waits?{DAY}", headers=bearer(tokens["supervisor"])).get_json()
    by_service = {r["service"]: r for r in body["tables"][0]["rows"]}
    assert by_service["general"]["wait_median_s"] == 330
    # without `site`: the centres where this token may see reports (maria: thess-east)
    assert body["sites"] == ["thess-east"]
    reasons = client.get(
        f"{REPORTS}/reasons?month=2025-07&lang=el", headers=bearer(tokens["supervisor"])
    ).get_json()
    assert reasons["to"] == "2025-07-31"
    groups = {r["group"]: r for r in reasons["tables"][0]["rows"]}
    assert groups["protection"]["visits"] == "x" and groups["legal"]["visits"] == 0
    assert groups["benefits"]["label"] == "Επιδόματα και παροχές"
    assert reasons["tables"][0]["title"] == "Επισκέψεις ανά ομάδα λόγων"


def test_admin_of_both_sites_sees_both(
    client: FlaskClient, db: Database, history: Database
) -> None:
    for site in ("thess-east", "thess-west"):
        user_id = auth.add_user(db, "anna", "admin-password", "admin", site)
    token = auth.grant_token(db, user_id)[0]
    body = client.get(f"{REPORTS}/services?{DAY}", headers=bearer(token)).get_json()
    assert body["sites"] == ["thess-east", "thess-west"]
    sites = {r["site"]: r["visits"] for r in body["tables"][4]["rows"]}
    assert sites == {"thess-east": 13, "thess-west": 0}


@pytest.mark.parametrize(
    ("who", "query", "status", "code"),
    [
        (None, "", 401, "unauthenticated"),
        ("staff", "", 403, "forbidden"),
        ("staff", "?site=thess-east", 403, "forbidden"),
        ("kiosk", "", 403, "forbidden"),
        ("display", "?site=thess-east", 403, "forbidden"),
        ("supervisor", "?site=thess-west", 403, "forbidden"),
        ("supervisor", "?site=nowhere", 404, "not_found"),
    ],
)
def test_who_may_not(
    client: FlaskClient, tokens: dict[str, str], who: str | None, query: str, status: int, code: str
) -> None:
    headers = bearer(tokens[who]) if who else {}
    response = client.get(f"{REPORTS}/reasons{query}", headers=headers)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/tickets", "bad_kind"),
        ("/reasons?from=2025-13-01", "bad_date"),
        ("/reasons?from=01/07/2025", "bad_date"),
        ("/reasons?from=2025-07-02&to=2025-07-01", "bad_date"),
        ("/reasons?month=2025-7", "bad_date"),
        ("/reasons?format=pdf", "bad_format"),
        ("/reasons?lang=fr", "bad_lang"),
        ("/staffing?target=1.5", "bad_target"),
        ("/staffing?within=soon", "bad_target"),
        ("/reasons?within=soon", "bad_target"),  # checked where unused too
        ("/reasons?month=2025-07&to=someday", "bad_date"),
        ("/reasons?from=1990-01-01&to=2025-01-01", "bad_date"),
    ],
)
def test_bad_requests(client: FlaskClient, tokens: dict[str, str], path: str, code: str) -> None:
    response = client.get(f"{REPORTS}{path}", headers=bearer(tokens["supervisor"]))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code


def test_csv_download(client: FlaskClient, tokens: dict[str, str], history: Database) -> None:
    response = client.get(
        f"{REPORTS}/reasons?site=thess-east&{DAY}&format=csv&lang=el",
        headers=bearer(tokens["supervisor"]),
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert (
        "seira-reasons-thess-east-2025-07-01-2025-07-01.csv"
        in response.headers["Content-Disposition"]
    )
    text = response.get_data(as_text=True).lstrip("\ufeff")
    lines = list(csv.reader(io.StringIO(text)))
    assert ["Επισκέψεις ανά ομάδα λόγων"] in lines
    # a day is no whole month: the tables are there, without rows, each with its note
    notes = [line for line in lines if line and line[0].startswith("Τα στοιχεία ανά λόγο")]
    assert len(notes) == 4
    response = client.get(
        f"{REPORTS}/reasons?site=thess-east&month=2025-07&format=csv&lang=el",
        headers=bearer(tokens["supervisor"]),
    )
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert ["protection", "Προσωπική υποστήριξη", "x", ""] in lines
    assert ["legal", "Νομική συμβουλευτική", "0", "0.0"] in lines


def test_xlsx_download(client: FlaskClient, tokens: dict[str, str], history: Database) -> None:
    response = client.get(
        f"{REPORTS}/indicators?site=thess-east&month=2025-07&format=xlsx",
        headers=bearer(tokens["supervisor"]),
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["about", "figures", "people_by_group", "referrals", "languages",
                               "waits"]  # fmt: skip
    figures = {row[0]: row[2] for row in book["figures"].iter_rows(min_row=3, values_only=True)}
    assert figures["visits"] == 14 and figures["wait_median_s"] == 300
    groups = {
        row[0]: row[2] for row in book["people_by_group"].iter_rows(min_row=3, values_only=True)
    }
    assert groups["protection"] == groups["other"] == "x" and groups["legal"] == 0
