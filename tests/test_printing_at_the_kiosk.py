"""A kiosk whose printer fails: the ticket is still issued, the kiosk learns it must show
the ticket on screen, staff see the failure, and a counter reprints once paper is back.
Also the CLI's printer test page and ticket image."""

from __future__ import annotations

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
from sqlalchemy import select

from server import auth
from server.cli import main
from server.db import Database
from server.models import Event
from tests.conftest import bearer
from tests.fake_printer import FakePrinter
from tests.liveserver import LiveServer
from tests.test_counter_pages import JSON, post, signed_in


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    fake = FakePrinter(paper="out")
    yield fake
    fake.close()


def kiosk_with(db: Database, printer_url: str | None) -> str:
    settings = {"printer": printer_url} if printer_url else {}
    return auth.add_device(db, "thess-east", "kiosk", "kiosk-printing", settings)


def issue(client: FlaskClient, kiosk: str, lang: str = "ar") -> dict:
    response = client.post(
        "/api/v1/sites/thess-east/tickets",
        json={"service": "general", "reason": "other", "lang": lang},
        headers=bearer(kiosk),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


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
    kiosk = kiosk_with(db, f"tcp://127.0.0.1:{printer.port}?profile=TM-T20II")
    client = app.test_client()
    ticket = issue(client, kiosk)
    assert ticket["number"] == "A001"  # the ticket exists whatever the printer does
    assert print_status(client, kiosk, ticket["id"], until="failed") == "failed"
    assert printer.printed == b""  # paper out: nothing was sent but the status queries

    staff, csrf = signed_in(app, "eleni")
    screen = staff.get("/counter/thess-east/desk-1/state", headers=JSON).get_json()
    failures = screen["print_failures"]
    assert [f["number"] for f in failures] == ["A001"]
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


def test_the_served_app_prints(printer: FakePrinter) -> None:
    """Under `seira serve` the ticket is drawn in a thread beside the event loop: it
    still reaches the printer, and the kiosk hears that it did."""
    printer.paper = "ok"
    with LiveServer() as server:
        url = f"tcp://127.0.0.1:{printer.port}?profile=TM-T20II"
        kiosk = bearer(kiosk_with(server.db, url))
        ticket = requests.post(
            f"{server.url}/api/v1/sites/thess-east/tickets",
            json={"service": "general", "reason": "other", "lang": "ar"},
            headers=kiosk,
            timeout=10,
        ).json()
        deadline = time.monotonic() + 20
        status = None
        while status != "printed" and time.monotonic() < deadline:
            time.sleep(0.1)
            status = requests.get(
                f"{server.url}/api/v1/tickets/{ticket['id']}/print", headers=kiosk, timeout=10
            ).json()["status"]
        assert status == "printed"
        assert ticket["status_url"].encode() in printer.printed  # in its QR code


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
    assert west.status_code == 403
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
