"""Printer URLs, and printing to a fake network printer on 127.0.0.1 that refuses
connections, prints, runs out of paper, is offline, never answers or never reads: a job
is printed only when the printer said so after it, retries are bounded (and never once
bytes went out), and a slow printer holds up nobody else.
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
from printers.jobs import Outcome, PrintJob, PrintQueue, PrintResult, Reason, print_now
from server.web import print_labels
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
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.NO_LIBRARY)
    assert "seira[usb]" in (result.error or "")


def test_file_status_is_unknown_and_a_written_file_is_printed(tmp_path: Path) -> None:
    config = parse_printer_url(f"file://{tmp_path}/p.bin")
    assert status(config) == PrinterStatus(None, None)
    result = print_now(config, TICKET)
    assert result.printed and result.reason is None  # the file is where the job goes
    assert (tmp_path / "p.bin").read_bytes() == TICKET


# --- a fake network printer ---------------------------------------------------------------


def wait_for_bytes(printer: FakePrinter, count: int) -> None:
    deadline = time.monotonic() + 2
    while len(printer.received) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_printer_that_answers_after_the_job_has_printed_it(printer: FakePrinter) -> None:
    result = print_now(parse_printer_url(url(printer.port)), TICKET, timeout=TIMEOUT)
    assert result.printed and result.error is None and result.attempts == 1
    assert result.status == PrinterStatus(True, "ok")
    queries = STATUS_ONLINE + STATUS_PAPER
    assert bytes(printer.received) == queries + TICKET + queries  # asked before and after
    assert printer.printed == TICKET and printer.answered == 4


def test_status_is_not_asked_when_turned_off(printer: FakePrinter) -> None:
    result = print_now(parse_printer_url(url(printer.port, "&status=off")), TICKET, TIMEOUT)
    assert (result.outcome, result.reason) == (Outcome.UNCONFIRMED, Reason.NOT_ASKED)
    wait_for_bytes(printer, len(TICKET))
    assert bytes(printer.received) == TICKET


def test_refused_connection_fails_after_bounded_retries() -> None:
    config = parse_printer_url(url(refused_port()))
    started = time.monotonic()
    result = print_now(config, TICKET, timeout=TIMEOUT, retries=2, backoff=0.05)
    elapsed = time.monotonic() - started
    assert (result.outcome, result.reason, result.attempts) == (
        Outcome.FAILED,
        Reason.UNREACHABLE,
        3,
    )
    assert "refused" in (result.error or "").lower()
    assert elapsed < 1.0  # 0.05 + 0.1 of backoff, and refusals are immediate
    assert status(config, TIMEOUT) == PrinterStatus(False, None)


def test_paper_out_is_reported_and_nothing_is_sent() -> None:
    fake = FakePrinter(paper="out")
    try:
        config = parse_printer_url(url(fake.port))
        assert status(config, TIMEOUT) == PrinterStatus(False, "out")
        result = print_now(config, TICKET, timeout=TIMEOUT, retries=2, backoff=0.05)
        assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.PAPER_OUT)
        assert result.error == "printer is out of paper"
        assert result.attempts == 1  # retrying cannot load paper
        assert fake.printed == b""
    finally:
        fake.close()


def test_an_offline_printer_is_a_failure_and_nothing_is_sent() -> None:
    fake = FakePrinter(online=False)
    try:
        result = print_now(parse_printer_url(url(fake.port)), TICKET, timeout=TIMEOUT)
        assert (result.outcome, result.reason, result.attempts) == (
            Outcome.FAILED,
            Reason.OFFLINE,
            1,
        )
        assert fake.printed == b""
    finally:
        fake.close()


def test_paper_that_runs_out_during_the_job_is_a_failure() -> None:
    fake = FakePrinter(paper="ends")
    try:
        result = print_now(parse_printer_url(url(fake.port)), TICKET, timeout=TIMEOUT)
        assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.PAPER_OUT)
        assert result.status == PrinterStatus(False, "out")
        assert fake.printed == TICKET  # it was sent; the printer said it could not finish
    finally:
        fake.close()


def test_a_printer_that_never_reads_is_never_printed() -> None:
    """It takes the connection and every byte into the socket's buffers, and reads
    nothing: the job is sent, unconfirmed, at the cost of one short wait."""
    fake = FakePrinter(silent=True)
    try:
        config = parse_printer_url(url(fake.port))
        assert status(config, TIMEOUT) == PrinterStatus(None, None)
        started = time.monotonic()
        result = print_now(config, TICKET, timeout=TIMEOUT, retries=2, backoff=0.05)
        elapsed = time.monotonic() - started
        assert not result.printed
        assert (result.outcome, result.reason) == (Outcome.UNCONFIRMED, Reason.NO_ANSWER)
        assert elapsed < 2 * TIMEOUT
        assert fake.received == b""
    finally:
        fake.close()


def test_a_printer_without_status_answers_is_unconfirmed() -> None:
    fake = FakePrinter(mute=True)
    try:
        result = print_now(parse_printer_url(url(fake.port)), TICKET, timeout=TIMEOUT)
        assert (result.outcome, result.reason) == (Outcome.UNCONFIRMED, Reason.NO_ANSWER)
        wait_for_bytes(fake, len(STATUS_ONLINE + TICKET))
        assert fake.printed == TICKET
    finally:
        fake.close()


def test_a_slow_printer_that_answers_in_time_has_printed() -> None:
    fake = FakePrinter(delay=0.1)
    try:
        started = time.monotonic()
        result = print_now(parse_printer_url(url(fake.port)), TICKET, timeout=TIMEOUT)
        assert result.printed
        assert time.monotonic() - started >= 0.4  # four answers, each 0.1 s late
    finally:
        fake.close()


def test_a_printer_that_stops_reading_fails_once_without_sending_again() -> None:
    fake = FakePrinter(silent=True)
    try:
        config = parse_printer_url(url(fake.port, "&status=off"))
        started = time.monotonic()
        result = print_now(config, b"\0" * 64_000_000, timeout=TIMEOUT, retries=1, backoff=0.05)
        elapsed = time.monotonic() - started
        assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.SEND_FAILED)
        assert result.attempts == 1  # part of it may be in the printer: never twice
        assert "timed out" in (result.error or "")
        assert elapsed < TIMEOUT + 1.0
    finally:
        fake.close()


# --- the background queue -------------------------------------------------------------------


def test_queue_reports_success_and_failure_without_blocking(printer: FakePrinter) -> None:
    results: list[tuple[int, Outcome, Reason | None]] = []
    queue = PrintQueue(
        lambda job, result: results.append((job.ticket_id, result.outcome, result.reason)),
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
    assert [(r.outcome, r.attempts) for r in outcomes] == [
        (Outcome.FAILED, 2),
        (Outcome.PRINTED, 1),
    ]
    assert "refused" in (outcomes[0].error or "")
    assert sorted(results) == [(7, Outcome.FAILED, Reason.UNREACHABLE), (8, Outcome.PRINTED, None)]
    assert printer.printed == TICKET


def test_queue_keeps_order_per_printer_and_survives_a_failing_hook(printer: FakePrinter) -> None:
    def hook(job: PrintJob, result: PrintResult) -> None:
        raise RuntimeError("the server's hook broke")

    queue = PrintQueue(hook, timeout=TIMEOUT)
    config = parse_printer_url(url(printer.port))
    tickets = [bytes([65 + i]) * 10 for i in range(5)]
    futures = [queue.submit(PrintJob(i, config, data)) for i, data in enumerate(tickets)]
    assert all(f.result(timeout=5).printed for f in futures)
    queue.close(timeout=5)
    assert printer.printed == b"".join(tickets)


def test_a_job_not_claimed_is_never_sent_nor_reported(printer: FakePrinter) -> None:
    """The server says whether a job is still this process's to print right before its
    bytes go out: one another process took over is dropped, not sent a second time."""
    results: list[int] = []
    asked: list[int] = []

    def claim(job: PrintJob) -> bool:
        asked.append(job.ticket_id)
        if job.ticket_id == 3:
            raise RuntimeError("the database is away")  # not sure: not sent
        return job.ticket_id != 2

    queue = PrintQueue(lambda job, result: results.append(job.ticket_id), claim=claim)
    config = parse_printer_url(url(printer.port))
    futures = [queue.submit(PrintJob(i, config, bytes([65 + i]) * 10)) for i in (1, 2, 3, 4)]
    queue.close(timeout=5)
    assert [f.cancelled() for f in futures] == [False, True, True, False]
    assert asked == [1, 2, 3, 4]
    assert results == [1, 4]
    assert printer.printed == b"B" * 10 + b"E" * 10


def test_closed_or_full_queue_fails_jobs_at_once() -> None:
    fake = FakePrinter(silent=True)  # the worker waits a timeout on the first job's status
    try:
        queue = PrintQueue(timeout=TIMEOUT, retries=0, max_pending=1)
        config = parse_printer_url(url(fake.port))
        futures = [queue.submit(PrintJob(0, config, TICKET))]
        time.sleep(0.1)  # the worker has taken it and waits for the printer's status
        futures += [queue.submit(PrintJob(i, config, TICKET)) for i in range(1, 5)]
        full = [f.result(timeout=0.1) for f in futures[2:]]  # failed at once, not queued
        assert {(r.outcome, r.reason) for r in full} == {(Outcome.FAILED, Reason.BUSY)}
        assert [f.result(timeout=5).outcome for f in futures[:2]] == [Outcome.UNCONFIRMED] * 2
        queue.close(timeout=5)
        closed = queue.submit(PrintJob(99, config, TICKET)).result(timeout=0.1)
        assert (closed.outcome, closed.reason) == (Outcome.FAILED, Reason.STOPPED)
    finally:
        fake.close()


def test_a_hung_printer_holds_up_neither_submitting_nor_another_printer() -> None:
    hung, good = FakePrinter(silent=True), FakePrinter()
    try:
        queue = PrintQueue(timeout=TIMEOUT, retries=0)
        stuck = parse_printer_url(url(hung.port))
        started = time.monotonic()
        waiting = [queue.submit(PrintJob(i, stuck, TICKET)) for i in range(4)]
        assert time.monotonic() - started < 0.05  # four jobs queued, none waited for
        other = queue.submit(PrintJob(99, parse_printer_url(url(good.port)), TICKET))
        assert other.result(timeout=1).printed  # while the hung printer's take 2 s
        assert time.monotonic() - started < 1.0
        assert not any(f.done() for f in waiting[2:])
        assert {f.result(timeout=5).outcome for f in waiting} == {Outcome.UNCONFIRMED}
        queue.close(timeout=5)
    finally:
        hung.close()
        good.close()


def test_status_check_reads_what_python_escpos_reads(printer: FakePrinter) -> None:
    assert backends.status(parse_printer_url(url(printer.port)), TIMEOUT) == PrinterStatus(
        True, "ok"
    )


def test_staff_have_words_for_every_outcome_and_reason() -> None:
    assert set(print_labels.STATUSES) == {o.value for o in Outcome}
    assert set(print_labels.REASONS) == {r.value for r in Reason}
