"""The report pages: who may see them, what they show, the downloads, and screenshots taken
by a real headless Chromium signed in through the real sign-in form."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from werkzeug.serving import make_server

from server import auth, extensions
from server.analytics import history
from server.db import Database
from server.web.session import SESSION_KEY
from tests.browser import chromium, screenshot
from tests.conftest import PASSWORD
from tests.test_reports_figures import build_history

JULY = "from=2025-07-01&to=2025-07-01"


def sign_in(client: FlaskClient, token: str, lang: str = "en") -> None:
    """Give the client a page session of the staff member this API token stands for."""
    with client.application.app_context():
        database = extensions.db()
        principal = auth.authenticate(database, token)
        assert principal is not None and principal.user_id is not None
        session_id, _ = auth.grant_token(database, principal.user_id, kind=auth.PAGE)
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_id
        session["lang"] = lang


@pytest.fixture
def supervisor(client: FlaskClient, tokens: dict[str, str], db: Database) -> FlaskClient:
    build_history(db)
    sign_in(client, tokens["supervisor"])
    return client


def test_sign_in_first_then_only_supervisors(client: FlaskClient, tokens: dict[str, str]) -> None:
    response = client.get("/reports/thess-east")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]
    sign_in(client, tokens["staff"])
    assert client.get("/reports/thess-east").status_code == 403
    assert client.get("/reports/all").status_code == 403
    assert client.get("/reports/thess-east/staffing").status_code == 403
    sign_in(client, tokens["supervisor"])
    assert client.get("/reports/thess-west").status_code == 403  # maria supervises east only
    assert client.get("/reports/nowhere").status_code == 404
    assert client.get("/reports/").headers["Location"].endswith("/reports/thess-east")


def test_report_tabs_show_tables_and_charts(supervisor: FlaskClient) -> None:
    for tab in ("reasons", "services", "languages", "heatmap", "waits", "outcomes"):
        period = "month=2025-07" if tab == "reasons" else JULY
        page = supervisor.get(f"/reports/thess-east?tab={tab}&{period}")
        assert page.status_code == 200, tab
        html = page.get_data(as_text=True)
        assert "<svg" in html and "<title>" in html, tab
    html = supervisor.get(f"/reports/thess-east?tab=waits&{JULY}").get_data(as_text=True)
    assert "5:30" in html  # general's median wait, 330 s
    html = supervisor.get("/reports/thess-east?tab=reasons&month=2025-07").get_data(as_text=True)
    assert '<td class="num">x</td>' in html and "x: hidden" in html
    assert "protection.women" not in html.split("<table")[0]
    # a single day: figures by reason are withheld, the page says why and offers July
    html = supervisor.get(f"/reports/thess-east?tab=reasons&{JULY}").get_data(as_text=True)
    assert "one whole calendar month" in html and "<table" not in html
    assert "month=2025-07" in html
    bad = supervisor.get("/reports/thess-east?from=2025-02-30")
    assert bad.status_code == 400 and "not a real date" in bad.get_data(as_text=True)


def test_pages_in_greek(supervisor: FlaskClient, tokens: dict[str, str]) -> None:
    sign_in(supervisor, tokens["supervisor"], "el")
    bad = supervisor.get("/reports/thess-east?from=2025-02-30").get_data(as_text=True)
    assert "δεν είναι υπαρκτή ημερομηνία" in bad and "not a real date" not in bad
    html = supervisor.get(f"/reports/thess-east?tab=outcomes&{JULY}").get_data(as_text=True)
    table = html.split("<table", 1)[1]
    assert "referred_internal" not in table and "tax_office" not in table  # labels, not codes
    assert re.search(r"\d,\d %", table) and not re.search(r"\d\.\d %", table)  # 12,5 %
    html = supervisor.get(f"/reports/thess-east?tab=reasons&{JULY}").get_data(as_text=True)
    assert "Επισκέψεις ανά ομάδα λόγων" in html and "Λήψη CSV" in html
    html = supervisor.get("/reports/thess-east/indicators?month=2025-07").get_data(as_text=True)
    assert "Μηνιαίοι δείκτες" in html and "Εκτύπωση" in html


def test_indicators_staffing_and_downloads(supervisor: FlaskClient) -> None:
    html = supervisor.get("/reports/thess-east/indicators?month=2025-07").get_data(as_text=True)
    assert "Indicators of 2025-07" in html and "data-print" in html
    assert supervisor.get("/reports/thess-east/indicators?month=2025-13").status_code == 400
    html = supervisor.get(f"/reports/thess-east/staffing?{JULY}&target=0.8&within=15").get_data(
        as_text=True
    )
    assert "Counters needed" in html and "<polyline" in html
    xlsx = supervisor.get("/reports/thess-east/export/indicators.xlsx?month=2025-07")
    assert xlsx.status_code == 200
    assert load_workbook(io.BytesIO(xlsx.data)).sheetnames[1] == "figures"
    csv = supervisor.get("/reports/thess-east/export/reasons.csv?month=2025-07")
    assert csv.mimetype == "text/csv" and ",x\r\n" in csv.get_data(as_text=True)
    assert supervisor.get(f"/reports/thess-east/export/reasons.pdf?{JULY}").status_code == 404
    assert supervisor.get(f"/reports/thess-east/export/nope.csv?{JULY}").status_code == 400


# --- screenshots --------------------------------------------------------------------------


@pytest.fixture
def live_server(app: Flask, db: Database) -> Iterator[str]:
    """The app on 127.0.0.1 with a port of its own, in a background thread."""
    for site in ("thess-east", "thess-west"):
        history.generate(db, site, days=35, per_day=60, seed=3)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_screenshots_of_the_report_pages(live_server: str) -> None:
    pages = {
        "reports-reasons": "/reports/thess-east?tab=reasons",
        "reports-heatmap": "/reports/thess-east?tab=heatmap",
        "reports-waits": "/reports/thess-east?tab=waits",
        "reports-services": "/reports/thess-east?tab=services",
        "reports-outcomes": "/reports/thess-east?tab=outcomes",
        "reports-indicators": "/reports/thess-east/indicators",
        "reports-staffing": "/reports/thess-east/staffing",
    }
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{live_server}/signin?next=/reports/thess-east")
        page.fill("input[name=username]", "maria")
        page.fill("input[name=password]", PASSWORD)
        page.select_option("select[name=lang]", "el")
        page.click("button[type=submit]")
        page.wait_for_url("**/reports/thess-east")
        assert page.locator("svg.chart").count() >= 1
        shots = []
        for name, path in pages.items():
            response = page.goto(live_server + path)
            assert response is not None and response.status == 200, path
            assert page.locator("svg.chart").count() >= 1, path
            shots.append(screenshot(page, name))
    assert all(shot.stat().st_size > 10_000 for shot in shots)
