"""A kiosk whose printer fails: the ticket is still issued, the kiosk learns it must show
the ticket on screen, staff see the failure, and a counter reprints once paper is back.
A printer that takes the bytes and never reads them is "sent, unconfirmed", never
"printed", for the kiosk and for staff; a slow printer slows neither issuing nor another
kiosk's printer. Also the CLI's printer test page and ticket image."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import zxingcpp
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from server import auth, i18n
from server.cli import main
from server.db import Database
from server.models import Device, Event
from tests.conftest import bearer
from tests.fake_printer import FakePrinter
from tests.liveserver import LiveServer
from tests.test_counter_pages import JSON, post, signed_in


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    fake = FakePrinter(paper="out")
    yield fake
    fake.close()


def kiosk_with(db: Database, printer_url: str | None, name: str = "kiosk-printing") -> str:
    settings = {"printer": printer_url} if printer_url else {}
    return auth.add_device(db, "thess-east", "kiosk", name, settings)


def issue(client: FlaskClient, kiosk: str, lang: str = "ar") -> dict:
    response = client.post(
        "/api/v1/sites/thess-east/tickets",
        json={"service": "general", "reason": "other", "lang": lang},
        headers=bearer(kiosk),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def words_of(page: str) -> dict:
    """The words a staff page hands its script (`<script id="words">`)."""
    found = re.search(r'<script type="application/json" id="words">(.*?)</script>', page, re.S)
    assert found, "no words on the page"
    return json.loads(found.group(1))


def print_status(client: FlaskClient, token: str, ticket_id: int, until: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        response = client.get(f"/api/v1/tickets/{ticket_id}/print", headers=bearer(token))
        assert response.status_code == 200, response.get_data(as_text=True)
        found = response.get_json()["status"]
        if found == until or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_paper_out_then_reprint(app: Flask, db: Database, printer: FakePrinter) -> None:
    kiosk = kiosk_with(db, printer.url)
    client = app.test_client()
    ticket = issue(client, kiosk)
    assert ticket["number"] == "A001"  # the ticket exists whatever the printer does
    assert print_status(client, kiosk, ticket["id"], until="failed") == "failed"
    assert printer.printed == b""  # paper out: nothing was sent but the status queries

    staff, csrf = signed_in(app, "eleni")
    screen = staff.get("/counter/thess-east/desk-1/state", headers=JSON).get_json()
    failures = screen["print_failures"]
    assert [f["number"] for f in failures] == ["A001"]
    assert (failures[0]["status"], failures[0]["reason"]) == ("failed", "paper_out")
    assert "paper" in failures[0]["error"].lower()
    supervisor, _ = signed_in(app, "maria")
    overview = supervisor.get("/supervisor/thess-east/state", headers=JSON).get_json()
    assert [f["number"] for f in overview["print_failures"]] == ["A001"]

    printer.paper = "ok"  # someone loaded paper
    response = post(staff, f"/counter/thess-east/desk-1/tickets/{ticket['id']}/reprint", csrf)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert print_status(client, kiosk, ticket["id"], until="printed") == "printed"
    assert b"\x1dv0" in printer.printed or b"\x1d(L" in printer.printed  # a raster image
    assert b"\x1dV" in printer.printed[-16:]  # and a cut at the end
    screen = staff.get("/counter/thess-east/desk-1/state", headers=JSON).get_json()
    assert screen["print_failures"] == []
    with db.read() as s:
        kinds = s.scalars(
            select(Event.type).where(Event.ticket_id == ticket["id"]).order_by(Event.id)
        ).all()
    assert kinds == ["issued", "print_failed", "printed"]


def test_a_printer_that_never_reads_is_sent_unconfirmed_for_kiosk_and_staff(
    app: Flask, db: Database
) -> None:
    """The bytes fit in the socket's buffers, so sending "works"; only the missing answer
    to the status query tells that nothing came out. Before, such a printer was recorded
    as `printed` for every ticket, and the kiosk said "take your printed ticket"."""
    hung = FakePrinter(silent=True)
    try:
        kiosk = kiosk_with(db, hung.url)
        client = app.test_client()
        ticket = issue(client, kiosk)
        assert print_status(client, kiosk, ticket["id"], until="unconfirmed") == "unconfirmed"
        assert hung.received == b""  # it never read a byte

        staff, csrf = signed_in(app, "eleni")
        screen = staff.get("/counter/thess-east/desk-1/state", headers=JSON).get_json()
        [doubt] = screen["print_failures"]
        assert (doubt["number"], doubt["status"], doubt["reason"]) == (
            "A001",
            "unconfirmed",
            "no_answer",
        )
        said = "sent, not confirmed by the printer"
        in_greek = i18n.translations("el", "messages").gettext(said)
        assert in_greek != said
        page = staff.get("/counter/thess-east/desk-1").get_data(as_text=True)
        # the words the list uses, in the staff member's language (Greek unless chosen)
        assert words_of(page)["prints"]["statuses"]["unconfirmed"] == in_greek
        supervisor, _ = signed_in(app, "maria")
        overview = supervisor.get("/supervisor/thess-east/state", headers=JSON).get_json()
        assert [f["status"] for f in overview["print_failures"]] == ["unconfirmed"]
        page = supervisor.get("/supervisor/thess-east").get_data(as_text=True)
        assert words_of(page)["prints"]["statuses"]["unconfirmed"] == in_greek
        with db.read() as s:
            device_id = s.scalar(select(Device.id).where(Device.name == "kiosk-printing"))
        printer_page = f"/admin/thess-east/devices/{device_id}/printer"
        history = supervisor.get(printer_page).get_data(as_text=True).split('id="history"')[1]
        assert 'data-status="unconfirmed"' in history and "badge warn" in history
        assert in_greek in history
        with supervisor.session_transaction() as session:
            session["lang"] = "en"
        history = supervisor.get(printer_page).get_data(as_text=True).split('id="history"')[1]
        assert said in history and "the printer did not answer" in history
        with db.read() as s:
            kinds = s.scalars(
                select(Event.type).where(Event.ticket_id == ticket["id"]).order_by(Event.id)
            ).all()
        assert kinds == ["issued", "print_unconfirmed"]
    finally:
        hung.close()


@pytest.fixture(scope="module")
def served() -> Iterator[LiveServer]:
    with LiveServer() as server:
        yield server


def served_status(server: LiveServer, kiosk: dict[str, str], ticket_id: int) -> str:
    url = f"{server.url}/api/v1/tickets/{ticket_id}/print"
    return str(requests.get(url, headers=kiosk, timeout=10).json()["status"])


def served_issue(server: LiveServer, kiosk: dict[str, str]) -> tuple[dict, float]:
    """A ticket issued through the served app, and how long the request took."""
    started = time.monotonic()
    response = requests.post(
        f"{server.url}/api/v1/sites/thess-east/tickets",
        json={"service": "general", "reason": "other", "lang": "ar"},
        headers=kiosk,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json(), time.monotonic() - started


def test_the_served_app_prints(served: LiveServer, printer: FakePrinter) -> None:
    """Under `seira serve` the ticket is drawn in a thread beside the event loop: it
    still reaches the printer, and the kiosk hears that it did."""
    printer.paper = "ok"
    kiosk = bearer(kiosk_with(served.db, printer.url, "served-printing"))
    ticket, _ = served_issue(served, kiosk)
    deadline = time.monotonic() + 20
    status = None
    while status != "printed" and time.monotonic() < deadline:
        time.sleep(0.1)
        status = served_status(served, kiosk, ticket["id"])
    assert status == "printed"
    assert ticket["status_url"].encode() in printer.printed  # in its QR code


def test_a_slow_printer_slows_neither_issuing_nor_another_kiosks_printer(
    served: LiveServer,
) -> None:
    """A burst at a kiosk whose printer takes a second a ticket (it answers each status
    query 0.25 s late): every ticket is issued at once, while a second kiosk's ticket is
    printed and confirmed long before the first kiosk's queue has drained."""
    slow, quick = FakePrinter(delay=0.25), FakePrinter()
    try:
        busy = bearer(kiosk_with(served.db, slow.url, "slow-printer"))
        other = bearer(kiosk_with(served.db, quick.url, "quick-printer"))
        served_issue(served, other)  # both kiosks' printers and caches are warm
        started = time.monotonic()
        burst = [served_issue(served, busy) for _ in range(6)]  # the kiosk allows 8 a minute
        issued_in = time.monotonic() - started
        assert max(took for _, took in burst) < 0.5, [took for _, took in burst]
        assert issued_in < 1.5  # while printing them takes the printer at least 6 s

        ticket, _ = served_issue(served, other)
        deadline = time.monotonic() + 3
        while served_status(served, other, ticket["id"]) != "printed":
            assert time.monotonic() < deadline, "the other kiosk's ticket waited"
            time.sleep(0.05)
        assert time.monotonic() - started < 4
        last = burst[-1][0]["id"]
        assert served_status(served, busy, last) == "pending"  # still queued behind the rest
        first = burst[0][0]["id"]
        deadline = time.monotonic() + 5
        while served_status(served, busy, first) == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert served_status(served, busy, first) == "printed"  # slow, but confirmed
    finally:
        slow.close()
        quick.close()


def test_the_kiosk_tells_the_visitor_to_keep_a_photo_unless_the_printer_confirmed(
    served: LiveServer, browser: Browser
) -> None:
    """What the visitor reads: "take your printed ticket" only for a confirmed print; for
    a printer that never reads, the screen is the ticket."""
    good, hung = FakePrinter(), FakePrinter(silent=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        for fake, name, message in [
            (good, "kiosk-confirmed", "Take your printed ticket."),
            (hung, "kiosk-unconfirmed", "Please take a photo of this screen: it is your ticket."),
        ]:
            page = context.new_page()
            token = kiosk_with(served.db, fake.url, name)
            page.goto(f"{served.url}/kiosk/thess-east#token={token}")
            for selector in [
                "button[data-lang=el]",
                "#groups button[data-reason=health]",
                "#reasons button[data-reason='health.clinics']",
                "#priorities button[data-priority=none]",
            ]:
                expect(page.locator(selector)).to_be_visible()
                time.sleep(0.45)  # the kiosk ignores taps in a screen's first 400 ms
                page.locator(selector).click()
            expect(page.locator("#print-state")).to_have_text(
                i18n.translations("el", "visitors").gettext(message), timeout=15000
            )
            page.close()
        assert good.printed and not hung.received
    finally:
        context.close()
        good.close()
        hung.close()


def test_a_refused_connection_is_a_failure_too(app: Flask, db: Database) -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]  # closed again: connections are refused
    kiosk = kiosk_with(db, f"tcp://127.0.0.1:{port}")
    client = app.test_client()
    ticket = issue(client, kiosk, lang="ur")
    assert print_status(client, kiosk, ticket["id"], until="failed") == "failed"


def test_print_status_is_for_the_issuing_kiosk_and_staff(
    app: Flask, db: Database, tokens: dict[str, str]
) -> None:
    client = app.test_client()
    no_printer = kiosk_with(db, None)
    ticket = issue(client, no_printer)
    assert print_status(client, no_printer, ticket["id"], until="none") == "none"
    assert client.get(f"/api/v1/tickets/{ticket['id']}/print").status_code == 401
    other_kiosk = client.get(
        f"/api/v1/tickets/{ticket['id']}/print", headers=bearer(tokens["kiosk"])
    )
    assert other_kiosk.status_code == 403
    assert print_status(client, tokens["staff"], ticket["id"], until="none") == "none"
    west = client.get(f"/api/v1/tickets/{ticket['id']}/print", headers=bearer(tokens["west_staff"]))
    assert west.status_code == 404  # another centre's ticket is as one that does not exist
    staff, csrf = signed_in(app, "eleni")
    refused = post(staff, f"/counter/thess-east/desk-1/tickets/{ticket['id']}/reprint", csrf)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "no_printer"


def test_cli_prints_a_test_page_and_renders_a_ticket(
    app: Flask, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "printer.bin"
    runner = CliRunner()
    result = runner.invoke(
        main, ["printer", "test", "--printer", f"file://{target}", "--lang", "fa"]
    )
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 1000
    bad = runner.invoke(main, ["printer", "test", "--printer", "gopher://x"])
    assert bad.exit_code != 0 and "bad printer URL" in bad.output

    ticket = issue(app.test_client(), kiosk_with(db, None), lang="ti")
    monkeypatch.setenv("SEIRA_DATABASE_URL", str(db.url))
    monkeypatch.setenv("SEIRA_PUBLIC_URL", "https://queue.example.gr")
    out = tmp_path / "ticket.png"
    result = runner.invoke(main, ["ticket", "render", str(ticket["id"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    image = Image.open(out)
    assert image.width == 576
    codes = zxingcpp.read_barcodes(image.convert("L"))
    assert [c.text for c in codes] == [
        "https://queue.example.gr/s/" + ticket["status_url"].rsplit("/", 1)[1]
    ]
    missing = runner.invoke(main, ["ticket", "render", "999999", "--out", str(out)])
    assert missing.exit_code != 0 and "no ticket" in missing.output

    added = runner.invoke(
        main,
        [
            "device",
            "add",
            "--site",
            "thess-east",
            "--kind",
            "kiosk",
            "--name",
            "k9",
            "--printer",
            "tcp://10.0.0.5:9100?profile=TM-T20II&paper=58",
        ],
    )
    assert added.exit_code == 0, added.output
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", added.output.strip().splitlines()[-1])
    wrong = runner.invoke(
        main,
        [
            "device",
            "add",
            "--site",
            "thess-east",
            "--kind",
            "display",
            "--name",
            "d9",
            "--printer",
            "tcp://10.0.0.5:9100",
        ],
    )
    assert wrong.exit_code != 0 and "only a kiosk" in wrong.output
