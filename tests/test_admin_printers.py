"""A kiosk's printer page: set where the printer is, field by field, checked by the same
rules as a printer URL; print a test ticket in any language; see the latest prints."""

from __future__ import annotations

import time
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from server import auth
from server.db import Database
from server.models import AuditEntry, Device
from tests.conftest import bearer
from tests.test_counter_pages import signed_in


def _kiosk(db: Database, name: str = "door") -> tuple[int, str]:
    token = auth.add_device(db, "thess-east", "kiosk", name)
    with db.read() as s:
        return s.scalar(select(Device.id).where(Device.name == name)), token


def test_a_printer_is_set_tested_and_its_prints_are_listed(
    app: Flask, db: Database, tmp_path: Path
) -> None:
    device_id, token = _kiosk(db)
    client, csrf = signed_in(app, "maria")
    url = f"/admin/thess-east/devices/{device_id}/printer"
    assert client.get(url).status_code == 200
    out = tmp_path / "kiosk.bin"
    form = {
        "scheme": "file",
        "address": str(out),
        "profile": "TM-T20II",
        "paper": "58",
        "impl": "raster",
        "qr": "auto",
        "status": "on",
        "options": "",
        "csrf_token": csrf,
    }
    refused = client.post(url, data={**form, "scheme": "usb", "address": "epson"})
    assert refused.status_code == 422
    assert 'id="err-address"' in refused.get_data(as_text=True)
    assert client.post(url, data={**form, "paper": "76"}).status_code == 422
    saved = client.post(url, data=form)
    assert saved.status_code == 302
    with db.read() as s:
        printer = s.get(Device, device_id).settings["printer"]
    assert printer.startswith(f"file://{out}?profile=TM-T20II&paper=58")
    page = client.get(url).get_data(as_text=True)
    assert f'value="{out}"' in page and "<option selected>TM-T20II</option>" in page

    tested = client.post(f"{url}/test", data={"lang": "ti", "csrf_token": csrf})
    assert 'id="tested"' in tested.get_data(as_text=True)
    data = out.read_bytes()
    assert data.startswith(b"\x1b@") and len(data) > 1000  # an initialised, drawn ticket

    issued = client.post(
        "/api/v1/sites/thess-east/tickets",
        json={"service": "general", "reason": "other", "lang": "ar"},
        headers=bearer(token),
    ).get_json()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/tickets/{issued['id']}/print", headers=bearer(token))
        if status.get_json()["status"] == "printed":
            break
        time.sleep(0.1)
    page = client.get(url).get_data(as_text=True)
    assert issued["number"] in page and "badge ok" in page

    removed = client.post(url, data={"scheme": "none", "csrf_token": csrf})
    assert removed.status_code == 302
    with db.read() as s:
        assert "printer" not in s.get(Device, device_id).settings
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == "devices/door/printer")
        ).all()
    assert actions == ["device.printer_changed", "printer.tested", "device.printer_changed"]


def test_a_display_has_no_printer_page_and_other_sites_are_closed(app: Flask, db: Database) -> None:
    auth.add_device(db, "thess-east", "display", "hall")
    with db.read() as s:
        display = s.scalar(select(Device.id).where(Device.name == "hall"))
    west = auth.add_device(db, "thess-west", "kiosk", "west-door")
    with db.read() as s:
        west_kiosk = s.scalar(select(Device.id).where(Device.name == "west-door"))
    assert west
    client, _ = signed_in(app, "maria")
    assert client.get(f"/admin/thess-east/devices/{display}/printer").status_code == 404
    assert client.get(f"/admin/thess-east/devices/{west_kiosk}/printer").status_code == 404
    assert client.get(f"/admin/thess-west/devices/{west_kiosk}/printer").status_code == 403
