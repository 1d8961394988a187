"""Printer bytes, checked with tools we did not write: npos (an ESC/POS parser, in Node)
decodes what the file backend wrote and what a network printer received, and zxing-cpp
reads the QR code back from the raster.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageChops

from printers.backends import parse_printer_url
from printers.escpos_bytes import encode, ticket_bytes
from printers.jobs import print_now, ticket_job
from printers.samples import STATUS_URL, sample_ticket
from printers.ticket import preview, render
from tests.fake_printer import FakePrinter

NPOS_DIR = Path(__file__).resolve().parent / "escpos"
IMAGE_QR = "TH230"  # a profile without native QR codes (and with a cutter)
NATIVE_QR = "TM-T20II"


def npos_decode(data: bytes, tmp_path: Path) -> dict[str, Any]:
    """Commands, raster images and QR payloads as npos sees them (tests/escpos/decode.js)."""
    node = shutil.which("node")
    if node is None or not (NPOS_DIR / "node_modules" / "npos").is_dir():
        pytest.fail(
            "npos is needed to check printer bytes: install Node.js, then run "
            "`npm ci --prefix tests/escpos --ignore-scripts` (make test does it)"
        )
    path = tmp_path / "ticket.bin"
    path.write_bytes(data)
    done = subprocess.run(
        [node, str(NPOS_DIR / "decode.js"), str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def raster_image(raster: dict[str, Any]) -> Image.Image:
    """npos's raster as a Pillow image (its bits are 1 = dark; Pillow's "1" is 0 = black)."""
    size = (raster["width"], raster["height"])
    dark = Image.frombytes("1", size, base64.b64decode(raster["bits"]))
    return ImageChops.invert(dark.convert("L")).convert("1")


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return (
        a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None
    )


@pytest.mark.parametrize("lang", ["el", "ar", "ti"])
def test_file_backend_bytes_decode_to_the_ticket_and_its_qr_code(lang: str, tmp_path: Path) -> None:
    out = tmp_path / "printer.bin"
    config = parse_printer_url(f"file://{out}?profile={IMAGE_QR}&paper=80")
    result = print_now(config, ticket_job(1, sample_ticket(lang), config).data)
    assert result.printed, result.error

    decoded = npos_decode(out.read_bytes(), tmp_path)
    names = [(c["ascii"], c["fn"]) for c in decoded["commands"]]
    assert names[0] == ("ESC", "@")
    assert names[-1] == ("GS", "V"), "the ticket must end with a cut"
    assert decoded["qr"] == []
    [raster] = decoded["rasters"]  # the text and the QR strip, one after the other
    image = raster_image(raster)
    assert image.width == 576
    assert same_pixels(image, preview(sample_ticket(lang), 80))
    assert [code.text for code in zxingcpp.read_barcodes(image.convert("L"))] == [STATUS_URL]


def test_a_network_printer_gets_the_ticket_between_status_queries(tmp_path: Path) -> None:
    """What goes over the wire is whole ESC/POS: DLE EOT before the ticket (paper in?) and
    after it (printed?), which npos reads as commands of their own, and the same ticket."""
    fake = FakePrinter()
    try:
        config = parse_printer_url(f"tcp://127.0.0.1:{fake.port}?profile={IMAGE_QR}")
        result = print_now(config, ticket_job(1, sample_ticket("ar"), config).data)
        assert result.printed, result.error
        decoded = npos_decode(bytes(fake.received), tmp_path)
    finally:
        fake.close()
    names = [(c["ascii"], c["fn"]) for c in decoded["commands"]]
    queries = [("DLE", "\x04"), ("DLE", "\x04")]  # DLE EOT 1 and 4
    assert names[:2] == queries and names[-2:] == queries
    assert names[2] == ("ESC", "@") and names[-3] == ("GS", "V")
    [raster] = decoded["rasters"]
    assert same_pixels(raster_image(raster), preview(sample_ticket("ar"), 80))


def test_file_backend_appends_each_ticket(tmp_path: Path) -> None:
    out = tmp_path / "printer.bin"
    config = parse_printer_url(f"file://{out}?profile={IMAGE_QR}&paper=58")
    first = ticket_job(1, sample_ticket("fa"), config).data
    second = ticket_job(2, sample_ticket("ur", number="A024"), config).data
    assert print_now(config, first).printed and print_now(config, second).printed
    assert out.read_bytes() == first + second
    decoded = npos_decode(out.read_bytes(), tmp_path)
    assert [c["fn"] for c in decoded["commands"]].count("V") == 2
    # npos joins the rasters of both tickets into one picture: two tickets, two QR codes.
    [raster] = decoded["rasters"]
    image = raster_image(raster)
    first_height = preview(sample_ticket("fa"), 58).height
    assert same_pixels(image.crop((0, 0, 384, first_height)), preview(sample_ticket("fa"), 58))
    found = zxingcpp.read_barcodes(image.convert("L"))
    assert [c.text for c in found] == [STATUS_URL, STATUS_URL]


def test_native_qr_where_the_profile_has_it(tmp_path: Path) -> None:
    ticket = sample_ticket("ar")
    data = ticket_bytes(ticket, 80, NATIVE_QR)
    decoded = npos_decode(data, tmp_path)
    stored = [q["data"] for q in decoded["qr"] if q["fn"] == 80]  # GS ( k, store the data
    assert stored == [STATUS_URL]
    assert [q["fn"] for q in decoded["qr"]][-1] == 81  # then print it
    [raster] = decoded["rasters"]
    assert same_pixels(raster_image(raster), render(ticket, 80))  # the QR is not in the image
    assert data.endswith(b"\x1dV\x00")  # GS V 0: full cut
    assert len(data) < len(ticket_bytes(ticket, 80, IMAGE_QR))


def test_image_qr_can_be_forced_on_a_native_qr_printer(tmp_path: Path) -> None:
    config = parse_printer_url(f"file://{tmp_path}/p.bin?profile={NATIVE_QR}&qr=image")
    decoded = npos_decode(ticket_job(1, sample_ticket("el"), config).data, tmp_path)
    assert decoded["qr"] == []
    [raster] = decoded["rasters"]
    assert [c.text for c in zxingcpp.read_barcodes(raster_image(raster).convert("L"))] == [
        STATUS_URL
    ]


def test_native_qr_is_refused_where_the_profile_lacks_it() -> None:
    with pytest.raises(ValueError, match="no native QR"):
        encode(render(sample_ticket("el")), STATUS_URL, IMAGE_QR, native_qr=True)


@pytest.mark.parametrize(
    ("impl", "command"), [("graphics", ("GS", "(L")), ("column", ("ESC", "*"))]
)
def test_other_image_commands(impl: str, command: tuple[str, str], tmp_path: Path) -> None:
    data = encode(render(sample_ticket("en"), 58), STATUS_URL, IMAGE_QR, impl=impl)
    names = [(c["ascii"], c["fn"]) for c in npos_decode(data, tmp_path)["commands"]]
    assert command in names
    assert ("GS", "v0") not in names


def test_unknown_image_command_is_refused() -> None:
    with pytest.raises(ValueError, match="raster, graphics, column"):
        encode(render(sample_ticket("en")), STATUS_URL, IMAGE_QR, impl="dots")


def test_printers_with_fewer_dots_get_a_narrower_ticket(tmp_path: Path) -> None:
    decoded = npos_decode(ticket_bytes(sample_ticket("el"), 80, "TM-T88V"), tmp_path)
    assert [r["width"] for r in decoded["rasters"]] == [512]


def test_an_image_wider_than_the_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="wider than printer profile"):
        encode(render(sample_ticket("el"), 80), STATUS_URL, "NT-5890K")
