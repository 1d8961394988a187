"""Printer URLs, and printing to a fake network printer on 127.0.0.1 that refuses
connections, prints, runs out of paper or never answers: jobs report the truth, retry a
bounded number of times and never hold anyone up for long.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from escpos.printer import Usb

from printers import backends
from printers.backends import (
    BackendError,
    PrinterStatus,
    open_connection,
    parse_printer_url,
    status,
)
from printers.jobs import PrintJob, PrintQueue, print_now
from tests.fake_printer import STATUS_ONLINE, STATUS_PAPER, FakePrinter

TICKET = b"\x1b@" + b"\x1dv0\x00\x02\x00\x02\x00\xff\x00\x00\xff" + b"\x1dV\x00"
TIMEOUT = 0.5


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    fake = FakePrinter()
    yield fake
    fake.close()


def refused_port() -> int:
    """A port on 127.0.0.1 where nothing listens, so connections are refused."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def url(port: int, extra: str = "") -> str:
    return f"tcp://127.0.0.1:{port}?profile=TM-T20II{extra}"


# --- printer URLs -----------------------------------------------------------------------


def test_urls_of_every_kind() -> None:
    tcp = parse_printer_url("tcp://10.0.0.5:9100?profile=TM-T20II&paper=80")
    assert (tcp.scheme, tcp.target, tcp.port, tcp.profile, tcp.paper_mm) == (
        "tcp",
        "10.0.0.5",
        9100,
        "TM-T20II",
        80,
    )
    assert (tcp.impl, tcp.native_qr, tcp.check_status) == ("raster", None, True)
    assert parse_printer_url("tcp://printer.local").port == 9100
    usb = parse_printer_url("usb://04B8:0E15?profile=TM-T20II&impl=graphics&out_ep=0x01")
    assert (usb.target, usb.impl, usb.options) == ("04b8:0e15", "graphics", {"out_ep": 1})
    serial = parse_printer_url("serial:///dev/ttyUSB0?baudrate=19200&paper=58&qr=image")
    assert (serial.target, serial.options, serial.paper_mm) == (
        "/dev/ttyUSB0",
        {"baudrate": 19200},
        58,
    )
    assert serial.native_qr is False
    cups = parse_printer_url("cups://Kiosk_1?status=off")
    assert (cups.target, cups.check_status) == ("Kiosk_1", False)
    file = parse_printer_url("file:///var/spool/seira/kiosk%201.bin")
    assert (file.target, file.profile) == ("/var/spool/seira/kiosk 1.bin", "default")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("http://10.0.0.5", "scheme must be one of"),
        ("tcp://:9100", "no host"),
        ("tcp://10.0.0.5:99999", "bad port"),
        ("usb://04b8", "usb://VID:PID"),
        ("usb://zz:11", "usb://VID:PID"),
        ("serial://dev/ttyUSB0", r"serial:///absolute/path"),
        ("file://relative.bin", r"file:///absolute/path"),
        ("cups://", "no CUPS queue"),
        ("tcp://10.0.0.5?profile=NoSuchPrinter", "unknown printer profile"),
        ("tcp://10.0.0.5?paper=76", "paper must be 58 or 80"),
        ("tcp://10.0.0.5?impl=dots", "impl must be one of"),
        ("tcp://10.0.0.5?qr=maybe", "qr must be one of"),
        ("tcp://10.0.0.5?status=yes", "status must be on or off"),
        ("tcp://10.0.0.5?baudrate=9600", "unknown parameter 'baudrate'"),
        ("serial:///dev/ttyS0?baudrate=fast", "bad value for 'baudrate'"),
        ("tcp://10.0.0.5?paper=58&paper=80", "given twice"),
    ],
)
def test_bad_urls_say_what_is_wrong(bad: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_printer_url(bad)


def test_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Usb, "is_usable", staticmethod(lambda: False))
    config = parse_printer_url("usb://04b8:0e15")
    with pytest.raises(BackendError, match=r"pip install 'seira\[usb\]'"):
        open_connection(config, TIMEOUT)
    result = print_now(config, TICKET)
    assert not result.ok and "seira[usb]" in (result.error or "")


def test_file_status_is_unknown(tmp_path: Path) -> None:
    assert status(parse_printer_url(f"file://{tmp_path}/p.bin")) == PrinterStatus(None, None)


# --- a fake network printer ---------------------------------------------------------------


def test_printing_to_a_printer_that_accepts(printer: FakePrinter) -> None:
    result = print_now(parse_printer_url(url(printer.port)), TICKET, timeout=TIMEOUT)
    assert result.ok and result.error is None and result.attempts == 1
    assert result.status == PrinterStatus(True, "ok")
    deadline = time.monotonic() + 2
    while printer.printed != TICKET and time.monotonic() < deadline:
        time.sleep(0.01)
    assert printer.printed == TICKET
    assert bytes(printer.received).startswith(STATUS_ONLINE + STATUS_PAPER)


def test_status_is_not_asked_when_turned_off(printer: FakePrinter) -> None:
    result = print_now(parse_printer_url(url(printer.port, "&status=off")), TICKET, TIMEOUT)
    assert result.ok and result.status == PrinterStatus(None, None)
    deadline = time.monotonic() + 2
    while bytes(printer.received) != TICKET and time.monotonic() < deadline:
        time.sleep(0.01)
    assert bytes(printer.received) == TICKET


def test_refused_connection_fails_after_bounded_retries() -> None:
    config = parse_printer_url(url(refused_port()))
    started = time.monotonic()
    result = print_now(config, TICKET, timeout=TIMEOUT, retries=2, backoff=0.05)
    elapsed = time.monotonic() - started
    assert not result.ok and result.attempts == 3
    assert "refused" in (result.error or "").lower()
    assert elapsed < 1.0  # 0.05 + 0.1 of backoff, and refusals are immediate
    assert status(config, TIMEOUT) == PrinterStatus(False, None)


def test_paper_out_is_reported_and_nothing_is_sent() -> None:
    fake = FakePrinter(paper="out")
    try:
        config = parse_printer_url(url(fake.port))
        assert status(config, TIMEOUT) == PrinterStatus(True, "out")
        result = print_now(config, TICKET, timeout=TIMEOUT, retries=2, backoff=0.05)
        assert not result.ok and result.error == "printer is out of paper"
        assert result.attempts == 1  # retrying cannot load paper
        assert fake.printed == b""
    finally:
        fake.close()


def test_a_printer_that_never_answers_costs_one_short_timeout() -> None:
    fake = FakePrinter(silent=True)
    try:
        config = parse_printer_url(url(fake.port))
        assert status(config, TIMEOUT) == PrinterStatus(None, None)
        started = time.monotonic()
        result = print_now(config, TICKET, timeout=TIMEOUT, retries=2, backoff=0.05)
        elapsed = time.monotonic() - started
        # Status unknown is only a hint: the bytes fit the socket buffer, so they are sent.
        assert result.ok and result.status == PrinterStatus(None, None)
        assert elapsed < 3 * TIMEOUT
    finally:
        fake.close()


def test_a_printer_that_stops_reading_times_out_within_bounds() -> None:
    fake = FakePrinter(silent=True)
    try:
        config = parse_printer_url(url(fake.port, "&status=off"))
        started = time.monotonic()
        result = print_now(config, b"\0" * 64_000_000, timeout=TIMEOUT, retries=1, backoff=0.05)
        elapsed = time.monotonic() - started
        assert not result.ok and result.attempts == 2
        assert "timed out" in (result.error or "")
        assert elapsed < 2 * TIMEOUT + 0.05 + 1.0
    finally:
        fake.close()


# --- the background queue -------------------------------------------------------------------


def test_queue_reports_success_and_failure_without_blocking(printer: FakePrinter) -> None:
    results: list[tuple[int, bool, str | None]] = []
    queue = PrintQueue(
        lambda job, ok, error: results.append((job.ticket_id, ok, error)),
        timeout=TIMEOUT,
        retries=1,
        backoff=0.05,
    )
    good = parse_printer_url(url(printer.port))
    bad = parse_printer_url(url(refused_port()))
    started = time.monotonic()
    futures = [queue.submit(PrintJob(7, bad, TICKET)), queue.submit(PrintJob(8, good, TICKET))]
    assert time.monotonic() - started < 0.1  # submit never waits for a printer
    outcomes = [f.result(timeout=5) for f in futures]
    queue.close(timeout=5)
    assert [(r.ok, r.attempts) for r in outcomes] == [(False, 2), (True, 1)]
    assert sorted(results)[0][:2] == (7, False) and "refused" in (sorted(results)[0][2] or "")
    assert sorted(results)[1] == (8, True, None)
    assert printer.printed == TICKET


def test_queue_keeps_order_per_printer_and_survives_a_failing_hook(printer: FakePrinter) -> None:
    def hook(job: PrintJob, ok: bool, error: str | None) -> None:
        raise RuntimeError("the server's hook broke")

    queue = PrintQueue(hook, timeout=TIMEOUT)
    config = parse_printer_url(url(printer.port, "&status=off"))
    tickets = [bytes([65 + i]) * 10 for i in range(5)]
    futures = [queue.submit(PrintJob(i, config, data)) for i, data in enumerate(tickets)]
    assert all(f.result(timeout=5).ok for f in futures)
    queue.close(timeout=5)
    deadline = time.monotonic() + 2
    while len(printer.received) < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert bytes(printer.received) == b"".join(tickets)


def test_closed_or_full_queue_fails_jobs_at_once() -> None:
    fake = FakePrinter(silent=True)  # the worker waits a timeout on the first job's status
    try:
        queue = PrintQueue(timeout=TIMEOUT, retries=0, max_pending=1)
        config = parse_printer_url(url(fake.port))
        futures = [queue.submit(PrintJob(0, config, TICKET))]
        time.sleep(0.1)  # the worker has taken it and waits for the printer's status
        futures += [queue.submit(PrintJob(i, config, TICKET)) for i in range(1, 5)]
        full = [f.result(timeout=0.1) for f in futures[2:]]  # failed at once, not queued
        assert {(r.ok, r.error) for r in full} == {(False, "too many tickets waiting to print")}
        assert [f.result(timeout=5).error for f in futures[:2]] == [None, None]
        queue.close(timeout=5)
        closed = queue.submit(PrintJob(99, config, TICKET)).result(timeout=0.1)
        assert (closed.ok, closed.error) == (False, "print queue is closed")
    finally:
        fake.close()


def test_status_check_reads_what_python_escpos_reads(printer: FakePrinter) -> None:
    assert backends.status(parse_printer_url(url(printer.port)), TIMEOUT) == PrinterStatus(
        True, "ok"
    )
