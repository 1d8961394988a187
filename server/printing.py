"""Printing at the kiosks: a print job after each ticket, its outcome in the event log.

A kiosk's printer is a URL in its device settings (`seira device add --printer URL`).
Rendering and sending happen in background threads, never in the request; a ticket exists
whether or not its paper came out. The outcome is appended to the event log as `printed`
(the printer confirmed it), `print_unconfirmed` (sent; the printer did not or cannot say)
or `print_failed`, which is how the kiosk learns to say "please take a photo" (for
anything but a confirmed print), how staff see the failure or the doubt, and what a
reprint answers.

Each job is also a row of `pending_prints` until its outcome is logged
(server/print_jobs.py): housekeeping renews this process's rows (`renew`), and in the
process that leads takes over those of a process that died (`take_over`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import func, insert, select

from printers import (
    Outcome,
    PrintedTicket,
    PrintJob,
    PrintQueue,
    PrintResult,
    Reason,
    parse_printer_url,
    print_now,
    ticket_bytes,
    ticket_job,
)
from printers.backends import PrinterConfig
from printers.samples import sample_ticket

from . import audit, bus, catalog, i18n, print_jobs
from .cache import TTLCache
from .db import Database
from .errors import NotFound
from .models import Device, Event, Ticket, utcnow
from .queue import reads
from .queue.rules import OPEN_STATUSES, EventType

log = logging.getLogger(__name__)

SETTINGS_TTL_S = 10.0


class PrintStatus:
    NONE = "none"  # no printer: the screen is the ticket
    PENDING = "pending"
    PRINTED = Outcome.PRINTED.value
    UNCONFIRMED = Outcome.UNCONFIRMED.value
    FAILED = Outcome.FAILED.value


# The event each outcome leaves in the log, and back.
EVENTS = {
    Outcome.PRINTED: EventType.PRINTED,
    Outcome.UNCONFIRMED: EventType.PRINT_UNCONFIRMED,
    Outcome.FAILED: EventType.PRINT_FAILED,
}
OUTCOMES = {event: outcome for outcome, event in EVENTS.items()}


@dataclass(frozen=True)
class Failure:
    """A ticket whose paper did not come out, or may not have, for staff to reprint."""

    ticket_id: int
    number: str
    at: datetime
    status: str  # "failed" or "unconfirmed"
    reason: str | None  # a `printers.Reason`
    error: str


@dataclass(frozen=True)
class PastPrint:
    """What one print of a kiosk's ticket did, for its printer page."""

    at: datetime
    number: str
    status: str  # "printed", "unconfirmed" or "failed"
    reason: str | None
    error: str


class Printing:
    """One per app: the print queue, and the log of what each job did."""

    def __init__(self, db: Database, notify: Callable[[int], None] | None = None) -> None:
        """`notify(site_id)` is told of every outcome, so staff screens refresh."""
        self.db = db
        self.notify = notify
        self.queue = PrintQueue(on_result=self._logged, claim=self._claim)
        self._render = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
        self._printers: TTLCache[int, PrinterConfig | None] = TTLCache(SETTINGS_TTL_S)
        self._held: set[int] = set()  # ids of the jobs this process is rendering or printing
        self._held_lock = threading.Lock()
        bus.on("printer", self._forget_printer)

    # --- which printer ---------------------------------------------------------------------

    def printer_of(self, device_id: int | None) -> PrinterConfig | None:
        """The printer configured for a kiosk (remembered for a few seconds), or None."""
        if device_id is None:
            return None
        return self._printers.get(device_id, lambda: self._load_printer(device_id))

    def _load_printer(self, device_id: int) -> PrinterConfig | None:
        with self.db.read() as s:
            settings = s.scalar(select(Device.settings).where(Device.id == device_id)) or {}
        if not settings.get("printer"):
            return None
        try:
            return parse_printer_url(settings["printer"])
        except ValueError as exc:
            log.error("kiosk %s has a bad printer URL: %s", device_id, exc)
            return None

    def configure(self, device_id: int, url: str | None, actor: audit.Actor, site_id: int) -> None:
        """Set (or, with None, remove) a kiosk's printer; PrinterUrlError if the URL is bad."""
        if url is not None:
            url = parse_printer_url(url).url
        with self.db.write() as s:
            device = s.get(Device, device_id)
            if device is None or device.site_id != site_id or device.revoked_at is not None:
                raise NotFound(f"no device {device_id} at this site")
            before = (device.settings or {}).get("printer")
            if before == url:
                return
            settings = {k: v for k, v in (device.settings or {}).items() if k != "printer"}
            device.settings = {**settings, **({"printer": url} if url else {})}
            audit.record(
                s,
                actor,
                "device.printer_changed",
                f"devices/{device.name}/printer",
                {"printer": before},
                {"printer": url},
                site_id,
            )
        self._printers.forget(device_id)
        bus.announce("printer", device_id)

    def _forget_printer(self, device_id: int) -> None:
        """A kiosk's printer changed, here or in another process (server/bus.py). Ids are
        per database; a process serving one forgets the ids of no other."""
        self._printers.forget(int(device_id))

    def test(self, device_id: int, lang: str, actor: audit.Actor, site_id: int) -> PrintResult:
        """Print a sample ticket in `lang` on the kiosk's printer now, and log the outcome."""
        config = self.printer_of(device_id)
        if config is None:
            raise NotFound("this kiosk has no printer")
        ticket = sample_ticket(lang)
        data = self.db.offload(
            partial(
                ticket_bytes, ticket, config.paper_mm, config.profile, config.native_qr, config.impl
            )
        )
        result = print_now(config, data)
        with self.db.write() as s:
            name = s.scalar(select(Device.name).where(Device.id == device_id)) or ""
            outcome = {
                "status": result.outcome.value,
                "lang": lang,
                **({"reason": result.reason.value} if result.reason else {}),
                **({"error": result.error} if result.error else {}),
            }
            audit.record(
                s, actor, "printer.tested", f"devices/{name}/printer", None, outcome, site_id
            )
        return result

    def history(self, device_id: int, limit: int = 10) -> list[PastPrint]:
        """The latest prints of the kiosk's tickets, newest first."""
        with self.db.read() as s:
            rows = s.execute(
                select(Event.at, Event.type, Event.payload, Ticket.code)
                .join(Ticket, Ticket.id == Event.ticket_id)
                .where(Ticket.device_id == device_id, Event.type.in_(list(OUTCOMES)))
                .order_by(Event.id.desc())
                .limit(limit)
            ).all()
        return [
            PastPrint(
                r.at,
                r.code,
                OUTCOMES[EventType(r.type)].value,
                (r.payload or {}).get("reason"),
                (r.payload or {}).get("error", ""),
            )
            for r in rows
        ]

    # --- jobs -------------------------------------------------------------------------------

    def print_ticket(self, ticket_id: int, status_url: str, device_id: int | None) -> str:
        """Queue the ticket on the kiosk's printer; 'pending', or 'none' without a printer."""
        config = self.printer_of(device_id)
        if config is None or device_id is None:
            return PrintStatus.NONE
        job_id: int | None = None
        try:
            job_id = print_jobs.add(self.db, ticket_id, device_id, status_url)
            self._hold(job_id)
        except Exception:  # the ticket is issued: print it anyway, only not handed over
            log.exception("keeping the print job of ticket %s failed", ticket_id)
        self._render.submit(self._render_and_queue, job_id, ticket_id, status_url, config)
        return PrintStatus.PENDING

    def _render_and_queue(
        self, job_id: int | None, ticket_id: int, status_url: str, config: PrinterConfig
    ) -> None:
        try:
            ticket = self.printed_ticket(self.db, ticket_id, status_url)
            # drawing takes 20-40 ms of C: off the event loop, where the server has one
            job = self.db.offload(partial(ticket_job, ticket_id, ticket, config, job_id))
        except Exception as exc:  # a ticket that cannot be drawn is a failed print, not a crash
            log.exception("rendering ticket %s failed", ticket_id)
            error = f"rendering failed: {exc}"
            self._record(ticket_id, PrintResult(Outcome.FAILED, Reason.RENDERING, error, 0), job_id)
            return
        self.queue.submit(job)

    def _claim(self, job: PrintJob) -> bool:
        """The print queue asks before sending: is the job still this process's?"""
        if job.job_id is None:  # a job the database did not take: nobody else knows it
            return True
        if print_jobs.claim(self.db, job.job_id):
            return True
        log.warning("print job for ticket %s was taken over by another process", job.ticket_id)
        self._release(job.job_id)
        return False

    def _hold(self, job_id: int) -> None:
        with self._held_lock:
            self._held.add(job_id)

    def _release(self, job_id: int) -> None:
        with self._held_lock:
            self._held.discard(job_id)

    # --- handing jobs over between processes ---------------------------------------------

    def renew(self) -> None:
        """Tell other processes that the jobs in this one are alive (each housekeeping pass)."""
        with self._held_lock:
            held = set(self._held)
        print_jobs.renew(self.db, held)

    def take_over(self) -> int:
        """Print, or log as interrupted, the jobs of processes that stopped renewing them
        (in the process that leads, at each housekeeping pass); how many were found."""
        now = utcnow()
        with self._held_lock:  # its own, should renewing them have failed: still its own
            found = [job for job in print_jobs.abandoned(self.db, now) if job.id not in self._held]
        for job in found:
            config = self.printer_of(job.device_id)
            if job.printable(now) and config is not None:
                if print_jobs.take(self.db, job, now):
                    log.warning("printing ticket %s for a process that stopped", job.ticket_id)
                    self._hold(job.id)
                    self._render.submit(
                        self._render_and_queue, job.id, job.ticket_id, job.status_url, config
                    )
                continue
            sending = job.state == print_jobs.SENDING
            result = PrintResult(
                Outcome.UNCONFIRMED if sending else Outcome.FAILED,
                Reason.INTERRUPTED,
                f"the server process {job.owner} stopped "
                + ("while sending this ticket" if sending else "before printing this ticket"),
                1 if sending else 0,
            )
            self._record(job.ticket_id, result, abandoned=job, now=now)
        return len(found)

    @staticmethod
    def printed_ticket(db: Database, ticket_id: int, status_url: str) -> PrintedTicket:
        """The ticket as the printer module wants it: plain data, labels already chosen."""
        view = reads.ticket(db, ticket_id)
        cat = catalog.current(db)
        site = cat.site(view.site)
        service = cat.service(site.id, view.service) if site else None
        named = service is not None and cat.named_in_public(service, view.reason)
        return PrintedTicket(
            centre=i18n.label(site.name, "el") if site else "",
            number=view.number,
            # a sensitive reason's or a private service's ticket names no service
            service_el=i18n.label(service.labels, "el") if service and named else "",
            service=i18n.label(service.labels, view.lang) if service and named else "",
            lang=view.lang,
            issued_at=view.issued_at,
            people_ahead=view.people_ahead or 0,
            estimated_wait_s=view.estimated_wait_s or 0,
            status_url=status_url,
        )

    def _logged(self, job: PrintJob, result: PrintResult) -> None:
        self._record(job.ticket_id, result, job.job_id)

    def _record(
        self,
        ticket_id: int,
        result: PrintResult,
        job_id: int | None = None,
        *,
        abandoned: print_jobs.Abandoned | None = None,
        now: datetime | None = None,
    ) -> None:
        """Log a job's outcome and forget the job (`job_id`, one of this process's), in one
        transaction; or, for `abandoned` (another process's, found at `now`), only if it is
        still abandoned, so that it is logged once."""
        if not result.printed:
            log.warning("printing ticket %s: %s: %s", ticket_id, result.outcome, result.error)
        with self.db.read() as s:
            row = s.execute(
                select(Ticket.site_id, Ticket.service_id, Ticket.device_id).where(
                    Ticket.id == ticket_id
                )
            ).first()
        if row is None:
            return
        payload: dict[str, Any] = {"device": row.device_id}
        if result.reason:
            payload["reason"] = result.reason.value
        if result.error:
            payload["error"] = result.error[:200]
        with self.db.transaction() as conn:
            if abandoned is not None:
                assert now is not None
                if not print_jobs.give_up(conn, abandoned, now):
                    return
            elif job_id is not None:
                print_jobs.finish(conn, job_id)
            conn.execute(
                insert(Event).values(
                    ticket_id=ticket_id,
                    site_id=row.site_id,
                    service_id=row.service_id,
                    type=EVENTS[result.outcome],
                    at=utcnow(),
                    payload=payload,
                )
            )
        if job_id is not None:
            self._release(job_id)
        if self.notify is not None:
            self.notify(row.site_id)

    # --- what kiosks and staff read ---------------------------------------------------------

    def status(self, ticket_id: int, device_id: int | None) -> str:
        """'printed', 'unconfirmed' or 'failed' once the latest print has an outcome."""
        with self.db.read() as s:
            last = s.scalar(
                select(Event.type)
                .where(Event.ticket_id == ticket_id, Event.type.in_(list(OUTCOMES)))
                .order_by(Event.id.desc())
                .limit(1)
            )
        if last is not None:
            return OUTCOMES[EventType(last)].value
        return PrintStatus.NONE if self.printer_of(device_id) is None else PrintStatus.PENDING

    def failures(self, site_id: int, since: datetime) -> list[Failure]:
        """Open tickets of the site whose latest print since `since` failed or was not
        confirmed: the visitor was told to keep a photo, and staff may reprint."""
        latest = (
            select(func.max(Event.id))
            .where(Event.site_id == site_id, Event.at >= since, Event.type.in_(list(OUTCOMES)))
            .group_by(Event.ticket_id)
        )
        with self.db.read() as s:
            rows = s.execute(
                select(Event.ticket_id, Ticket.code, Event.at, Event.type, Event.payload)
                .join(Ticket, Ticket.id == Event.ticket_id)
                .where(
                    Event.id.in_(latest),
                    Event.type.in_([EventType.PRINT_FAILED, EventType.PRINT_UNCONFIRMED]),
                    Ticket.status.in_(sorted(OPEN_STATUSES)),
                )
                .order_by(Event.id)
            ).all()
        return [
            Failure(
                r.ticket_id,
                r.code,
                r.at,
                OUTCOMES[EventType(r.type)].value,
                r.payload.get("reason"),
                r.payload.get("error", ""),
            )
            for r in rows
        ]

    def close(self) -> None:
        self._render.shutdown(wait=True)
        self.queue.close(timeout=5)


def ticket_device(db: Database, ticket_id: int) -> int | None:
    with db.read() as s:
        found = s.execute(select(Ticket.device_id).where(Ticket.id == ticket_id)).first()
    if found is None:
        raise NotFound(f"no ticket {ticket_id}")
    return found[0]
