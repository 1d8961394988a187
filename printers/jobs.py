"""Sending ticket bytes to printers without ever holding up the visitor at the kiosk.

A ticket exists once it is issued; printing is a separate, fallible step. `PrintQueue`
prints in background threads (one per printer, so a dead printer delays only its own
kiosk), tries a bounded number of times with short timeouts, and reports every outcome
to an `on_result` hook, which the server uses to show failures to staff and offer a reprint.

Bytes accepted by a network connection may only sit in socket buffers: a printer that
accepts connections and never reads takes every job. So a job counts as printed only when
the printer answers a status query sent after it (DLE EOT, answered once the printer has
read up to it) with "online, paper in"; a job sent where no answer came, or where the
connection cannot ask (CUPS, `status=off`), is "sent, unconfirmed", and staff see it so.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from enum import StrEnum

from escpos.escpos import Escpos

from printers.backends import (
    BackendError,
    PrinterConfig,
    PrinterStatus,
    open_connection,
    read_status,
    require_extra,
)
from printers.escpos_bytes import ticket_bytes
from printers.ticket import PrintedTicket

log = logging.getLogger(__name__)

TIMEOUT = 3.0  # seconds for each connect and write
# seconds for the status answer before a job: an idle printer answers in milliseconds,
# and one that does not costs every job this long
ASK_TIMEOUT = 1.0
# seconds for the answer after a job: the printer reads it while it prints (its receive
# buffer is a few kilobytes), so the answer comes once most of the ticket is out
CONFIRM_TIMEOUT = 5.0
RETRIES = 2  # attempts after the first, only while nothing has been sent
BACKOFF = 0.25  # seconds before the first retry, doubled for each next one
MAX_PENDING = 50  # per printer: beyond this a printer is clearly not coming back soon
UNKNOWN = PrinterStatus(None, None)


class Outcome(StrEnum):
    """What became of a job's paper, as far as the printer let us know."""

    PRINTED = "printed"  # the printer answered after the job: online, with paper
    UNCONFIRMED = "unconfirmed"  # sent, but no answer came or the connection cannot ask
    FAILED = "failed"  # not sent, or the printer said after it that it could not print


class Reason(StrEnum):
    """Why a job failed or stayed unconfirmed: a code staff screens put into words."""

    PAPER_OUT = "paper_out"
    OFFLINE = "offline"  # cover open, paper fed by hand, or an error stopped the printer
    UNREACHABLE = "unreachable"  # no connection: refused, timed out, no such device
    SEND_FAILED = "send_failed"  # the connection broke or stalled while sending the job
    NO_ANSWER = "no_answer"  # sent; the printer did not answer the status query in time
    NOT_ASKED = "not_asked"  # sent; the connection cannot ask, or asking is turned off
    BUSY = "busy"  # too many tickets already waiting for this printer
    STOPPED = "stopped"  # the server is shutting down
    INTERRUPTED = "interrupted"  # the server process holding the job stopped before its end
    NO_LIBRARY = "no_library"  # the connection's extra (usb, serial, cups) is not installed
    RENDERING = "rendering"  # the ticket could not be drawn
    ERROR = "error"  # anything else


@dataclass(frozen=True)
class PrintJob:
    """Bytes to print for a ticket on one printer. The ids are the server's, opaque here:
    `job_id` names the job where the server keeps a record of it (see `PrintQueue`)."""

    ticket_id: int
    printer: PrinterConfig
    data: bytes
    job_id: int | None = None


@dataclass(frozen=True)
class PrintResult:
    outcome: Outcome
    reason: Reason | None  # None when printed
    error: str | None  # what happened, in English, for staff and logs
    attempts: int
    status: PrinterStatus | None = None  # what the printer said last, where it could

    @property
    def printed(self) -> bool:
        return self.outcome is Outcome.PRINTED


def failed(reason: Reason, error: str, attempts: int = 0) -> PrintResult:
    return PrintResult(Outcome.FAILED, reason, error, attempts)


ResultHook = Callable[[PrintJob, PrintResult], None]
ClaimHook = Callable[[PrintJob], bool]


class _NotSent(Exception):
    """The connection failed before any byte of the job went out: trying again is safe."""


def _attempt(
    config: PrinterConfig, data: bytes, timeout: float, confirm_timeout: float, attempt: int
) -> PrintResult:
    """One connection: status, the job, status again. Only `_NotSent` may be retried:
    once bytes have gone out, sending them again could print the ticket twice."""
    try:
        conn = open_connection(config, timeout)
    except BackendError as exc:
        raise _NotSent(str(exc)) from exc
    asks = config.check_status and config.scheme in ("tcp", "usb", "serial")
    try:
        before = read_status(conn, config, min(timeout, ASK_TIMEOUT)) if asks else UNKNOWN
        if before.paper == "out":
            return PrintResult(
                Outcome.FAILED, Reason.PAPER_OUT, "printer is out of paper", attempt, before
            )
        if before.online is False:
            error = "printer is offline"
            return PrintResult(Outcome.FAILED, Reason.OFFLINE, error, attempt, before)
        try:
            conn._raw(data)  # python-escpos has no public call for bytes already encoded
            if config.scheme == "cups":
                conn.send()  # type: ignore[attr-defined]  # the job reaches the queue here
        except Exception as exc:  # OSError, or CUPS's own IPPError
            error = f"sending failed: {type(exc).__name__}: {exc}".strip()
            return PrintResult(Outcome.FAILED, Reason.SEND_FAILED, error, attempt, before)
        return _confirmed(conn, config, asks, before, confirm_timeout, attempt)
    finally:
        _close(conn)


def _confirmed(
    conn: Escpos,
    config: PrinterConfig,
    asks: bool,
    before: PrinterStatus,
    confirm_timeout: float,
    attempt: int,
) -> PrintResult:
    """What the printer says of the job just sent."""
    if config.scheme == "file":  # the file is the destination: written whole, or raised
        return PrintResult(Outcome.PRINTED, None, None, attempt, before)
    if not asks:
        return PrintResult(
            Outcome.UNCONFIRMED, Reason.NOT_ASKED, "sent; the printer was not asked", attempt
        )
    if before.online is None:  # it did not answer before the job: it will not after it
        return PrintResult(
            Outcome.UNCONFIRMED, Reason.NO_ANSWER, "sent; the printer does not answer", attempt
        )
    after = read_status(conn, config, confirm_timeout)
    if after.online is None:
        error = "sent; the printer did not answer after the job"
        return PrintResult(Outcome.UNCONFIRMED, Reason.NO_ANSWER, error, attempt, after)
    if after.paper == "out":
        error = "the paper ran out during the job"
        return PrintResult(Outcome.FAILED, Reason.PAPER_OUT, error, attempt, after)
    if not after.online:
        error = "the printer went offline during the job"
        return PrintResult(Outcome.FAILED, Reason.OFFLINE, error, attempt, after)
    return PrintResult(Outcome.PRINTED, None, None, attempt, after)


def _close(conn: Escpos) -> None:
    """Close the connection; the job's outcome is known by now, whatever closing does."""
    try:
        conn.close()
    except OSError as exc:
        log.warning("closing the printer connection failed: %s", exc)


def print_now(
    config: PrinterConfig,
    data: bytes,
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    backoff: float = BACKOFF,
    confirm_timeout: float = CONFIRM_TIMEOUT,
) -> PrintResult:
    """Print `data` now and say whether the printer confirmed it.

    A connection that cannot be opened is tried `1 + retries` times; once bytes went out,
    never again. The worst case is bounded: the attempts' connects and the backoff pauses,
    then one status read (`ASK_TIMEOUT` at most), one write (`timeout` per stalled send)
    and one confirmation (`confirm_timeout` per status query).
    """
    try:
        require_extra(config)
    except BackendError as exc:
        return failed(Reason.NO_LIBRARY, str(exc))
    error = "not attempted"
    for attempt in range(1, retries + 2):
        try:
            result = _attempt(config, data, timeout, confirm_timeout, attempt)
        except _NotSent as exc:
            error = str(exc)
            log.warning("printer %s unreachable (attempt %d): %s", config.url, attempt, error)
        else:
            if result.outcome is not Outcome.PRINTED:
                log.warning("printing on %s: %s", config.url, result.error)
            return result
        if attempt <= retries:
            time.sleep(backoff * 2 ** (attempt - 1))
    return failed(Reason.UNREACHABLE, error, retries + 1)


class PrintQueue:
    """Background printing: `submit` returns at once; results go to `on_result` and a Future.

    `claim(job)`, where given, is asked right before a job's bytes are sent: False means the
    job is no longer this queue's to print (another server process took it over), and it is
    dropped unsent: its Future is cancelled and `on_result` is not told. Both hooks run in
    the printer's worker thread; they must not block for long.
    """

    def __init__(
        self,
        on_result: ResultHook | None = None,
        *,
        claim: ClaimHook | None = None,
        timeout: float = TIMEOUT,
        retries: int = RETRIES,
        backoff: float = BACKOFF,
        max_pending: int = MAX_PENDING,
        confirm_timeout: float = CONFIRM_TIMEOUT,
    ) -> None:
        self.on_result = on_result
        self.claim = claim
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.confirm_timeout = confirm_timeout
        self.max_pending = max_pending
        self._queues: dict[str, queue.Queue[tuple[PrintJob, Future[PrintResult]] | None]] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, job: PrintJob) -> Future[PrintResult]:
        """Queue a job for its printer; never blocks. A full or closed queue fails the job."""
        future: Future[PrintResult] = Future()
        with self._lock:
            if self._closed:
                self._finish(job, future, failed(Reason.STOPPED, "print queue is closed"))
                return future
            jobs = self._queues.get(job.printer.url)
            if jobs is None:
                jobs = self._queues[job.printer.url] = queue.Queue(self.max_pending)
                worker = threading.Thread(
                    target=self._work, args=(jobs,), name=f"print {job.printer.url}", daemon=True
                )
                self._threads.append(worker)
                worker.start()
        try:
            jobs.put_nowait((job, future))
        except queue.Full:
            self._finish(job, future, failed(Reason.BUSY, "too many tickets waiting to print"))
        return future

    def close(self, timeout: float | None = None) -> None:
        """Print what is queued, then stop the workers (waiting at most `timeout` each)."""
        with self._lock:
            self._closed = True
            for jobs in self._queues.values():
                jobs.put(None)
        for worker in self._threads:
            worker.join(timeout)

    def _work(self, jobs: queue.Queue[tuple[PrintJob, Future[PrintResult]] | None]) -> None:
        while (item := jobs.get()) is not None:
            job, future = item
            if not self._claimed(job):
                future.cancel()
                continue
            try:
                result = print_now(
                    job.printer,
                    job.data,
                    self.timeout,
                    self.retries,
                    self.backoff,
                    self.confirm_timeout,
                )
            except Exception as exc:  # a worker must outlive any bug in one job
                log.exception("print job for ticket %s crashed", job.ticket_id)
                result = failed(Reason.ERROR, f"{type(exc).__name__}: {exc}")
            self._finish(job, future, result)

    def _claimed(self, job: PrintJob) -> bool:
        if self.claim is None:
            return True
        try:
            return self.claim(job)
        except Exception:  # not sure it is ours: sending could print it twice
            log.exception("claiming the print job for ticket %s failed", job.ticket_id)
            return False

    def _finish(self, job: PrintJob, future: Future[PrintResult], result: PrintResult) -> None:
        if self.on_result is not None:
            try:
                self.on_result(job, result)
            except Exception:
                log.exception("on_result hook failed for ticket %s", job.ticket_id)
        future.set_result(result)


def ticket_job(
    ticket_id: int, ticket: PrintedTicket, config: PrinterConfig, job_id: int | None = None
) -> PrintJob:
    """Render and encode a ticket for a printer as set up in its URL (about 20-40 ms)."""
    data = ticket_bytes(ticket, config.paper_mm, config.profile, config.native_qr, config.impl)
    return PrintJob(ticket_id, config, data, job_id)
