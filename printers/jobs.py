"""Sending ticket bytes to printers without ever holding up the visitor at the kiosk.

A ticket exists once it is issued; printing is a separate, fallible step. `PrintQueue`
prints in background threads (one per printer, so a dead printer delays only its own
kiosk), tries a bounded number of times with short timeouts, and reports every outcome
to an `on_result` hook, which the server uses to show failures to staff and offer a reprint.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

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

TIMEOUT = 3.0  # seconds for each connect, write or status read
RETRIES = 2  # attempts after the first
BACKOFF = 0.25  # seconds before the first retry, doubled for each next one
MAX_PENDING = 50  # per printer: beyond this a printer is clearly not coming back soon


@dataclass(frozen=True)
class PrintJob:
    """Bytes to print for a ticket (the id is the server's, opaque here) on one printer."""

    ticket_id: int
    printer: PrinterConfig
    data: bytes


@dataclass(frozen=True)
class PrintResult:
    ok: bool
    error: str | None  # why it failed, in English, for staff and logs
    attempts: int
    status: PrinterStatus | None = None  # what the printer said, where it could


ResultHook = Callable[[PrintJob, bool, str | None], None]


class _PaperOut(Exception):
    """Retrying cannot help until someone loads paper."""


def _send_once(config: PrinterConfig, data: bytes, timeout: float) -> PrinterStatus:
    conn = open_connection(config, timeout)
    try:
        found = read_status(conn, config) if config.check_status else PrinterStatus(None, None)
        if found.paper == "out":
            raise _PaperOut
        conn._raw(data)  # python-escpos has no public call for bytes already encoded
    finally:
        conn.close()  # a CUPS connection submits its job here, so errors here count too
    return found


def print_now(
    config: PrinterConfig,
    data: bytes,
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    backoff: float = BACKOFF,
) -> PrintResult:
    """Print `data` now, trying `1 + retries` times; each blocking step ends after `timeout`.

    The worst case is bounded: (1 + retries) attempts of a connect, a status read and a
    write, plus the backoff pauses. A printer out of paper is not retried.
    """
    try:
        require_extra(config)
    except BackendError as exc:
        return PrintResult(False, str(exc), 0)
    error = "not attempted"
    for attempt in range(1, retries + 2):
        try:
            found = _send_once(config, data, timeout)
        except _PaperOut:
            return PrintResult(
                False, "printer is out of paper", attempt, PrinterStatus(None, "out")
            )
        except Exception as exc:  # any failure is reported, never raised to the kiosk
            error = f"{type(exc).__name__}: {exc}".strip()
            log.warning("printing on %s failed (attempt %d): %s", config.url, attempt, error)
        else:
            return PrintResult(True, None, attempt, found)
        if attempt <= retries:
            time.sleep(backoff * 2 ** (attempt - 1))
    return PrintResult(False, error, retries + 1)


class PrintQueue:
    """Background printing: `submit` returns at once; results go to `on_result` and a Future.

    The hook runs in the printer's worker thread; it must not block for long.
    """

    def __init__(
        self,
        on_result: ResultHook | None = None,
        *,
        timeout: float = TIMEOUT,
        retries: int = RETRIES,
        backoff: float = BACKOFF,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.on_result = on_result
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
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
                self._finish(job, future, PrintResult(False, "print queue is closed", 0))
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
            self._finish(job, future, PrintResult(False, "too many tickets waiting to print", 0))
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
            try:
                result = print_now(job.printer, job.data, self.timeout, self.retries, self.backoff)
            except Exception as exc:  # a worker must outlive any bug in one job
                log.exception("print job for ticket %s crashed", job.ticket_id)
                result = PrintResult(False, f"{type(exc).__name__}: {exc}", 0)
            self._finish(job, future, result)

    def _finish(self, job: PrintJob, future: Future[PrintResult], result: PrintResult) -> None:
        if self.on_result is not None:
            try:
                self.on_result(job, result.ok, result.error)
            except Exception:
                log.exception("on_result hook failed for ticket %s", job.ticket_id)
        future.set_result(result)


def ticket_job(ticket_id: int, ticket: PrintedTicket, config: PrinterConfig) -> PrintJob:
    """Render and encode a ticket for a printer as set up in its URL (about 20-40 ms)."""
    data = ticket_bytes(ticket, config.paper_mm, config.profile, config.native_qr, config.impl)
    return PrintJob(ticket_id, config, data)
