"""The realtime hub: Socket.IO namespaces, their rooms, and the events each one carries.

Who connects where (a missing or wrong credential is refused at connect):

    /display  auth={"token": <display device token>}          rooms site:<id>, device:<id>
    /counter  the staff session cookie, or auth={"token": <staff bearer token>},
              and auth={"site": <site slug>}                   room  site:<id>
    /status   auth={"ticket": <public token>}                  rooms ticket:<token>, site:<id>
    /kiosk    auth={"token": <kiosk device token>}            rooms site:<id>, device:<id>

What each namespace receives:

    /display  snapshot  on connect, and as the answer to a "snapshot" request
              called, recalled   one call: number, counter, service, language, announcement
              waiting   waiting count per service
    /counter  queue     waiting count and longest wait per service, what each counter does
              alarm     a silent alarm raised at a counter, or acknowledged: its id and
                        counter (staff pages only: nothing public hears of an alarm)
    /status   status    the ticket's own state (number, status, people ahead, wait, counter)
              moved     the queue of the site moved: fetch the status again
    /display, /counter, /kiosk
              config    the site's configuration changed: read it again
    /display, /kiosk
              revoked   this device's token was taken back; the connection is then closed

Events of /display and /counter carry `seq`, counted per namespace and site by every
process alike (server/sequence.py), and `epoch`, which changes when that count starts
again: a client that sees a gap or a new epoch asks for a snapshot. Everything is
emitted after the database commit, from the database's state. No event carries a visit
reason, a name, or anything else about the visitor beyond the ticket number and its
language.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from flask import Flask, request, session
from flask_socketio import Namespace, SocketIO, emit, join_room
from sqlalchemy import select

from . import announce, auth, bus, catalog, i18n, recordings
from .auth import SESSION_KEY, Can, DeviceKind, Principal
from .db import Database
from .errors import NotFound
from .models import Event, Ticket, utcnow
from .queue import reads, rules
from .queue.news import (
    AlarmChanged,
    Called,
    ConfigChanged,
    DeviceRevoked,
    News,
    QueueChanged,
    TicketChanged,
)
from .queue.reads import TicketView
from .queue.rules import EventType
from .sequence import Sequence, for_queue
from .speech import Speech

log = logging.getLogger(__name__)

CALLS_SHOWN = 7  # the current call and the six before it
FLUSH_INTERVAL_S = 1.0  # queue summaries are coalesced: at most one a second per site
# Each waiting phone refetches its status on `moved`: at most one per site this often, or
# a busy opening (every centre's queue moving several times a second) makes thousands
# of requests a second. A visitor's own call never waits for it (`status`, at once).
MOVED_INTERVAL_S = 5.0
LANES = 8  # publishers per process, each for a share of the sites (see _Lane)
CALL_TYPES = (EventType.CALLED.value, EventType.RECALLED.value)
CONFIGURED = ("/display", "/counter", "/kiosk")  # the pages that show the configuration
DEVICE_NAMESPACES = ("/display", "/kiosk")


def site_room(site_id: int) -> str:
    return f"site:{site_id}"


def device_room(device_id: int) -> str:
    return f"device:{device_id}"


class Hub:
    """Sequences, snapshots and publishing for one app (one database)."""

    def __init__(
        self, socketio: SocketIO, db: Database, speech: Speech, sequence: Sequence
    ) -> None:
        self.socketio = socketio
        self.db = db
        self.speech = speech
        self.sequence = sequence
        # which database an announcement is about (server/bus.py), without its URL
        self._database = hashlib.sha256(db.url.encode()).hexdigest()[:16]
        bus.on("device_revoked", self._revoked)
        self._lanes = [_Lane(self, n) for n in range(LANES)]

    def _lane(self, key: int) -> _Lane:
        """Every task of one site (or device) goes through the same lane, in order."""
        return self._lanes[key % LANES]

    # --- sequenced emits ---------------------------------------------------------------------

    def _emit(self, namespace: str, site_id: int, event: str, data: dict[str, Any]) -> None:
        """Number the event and send it, in one step, so numbers reach clients in order
        (from every process: see server/sequence.py)."""
        key = f"{namespace}:{site_id}"
        self.sequence.send(self.socketio, key, event, data, namespace, site_room(site_id))

    def send_snapshot(
        self,
        namespace: str,
        site_id: int,
        event: str,
        snapshot: Callable[[Hub, int], dict[str, Any]],
        to: str,
    ) -> None:
        """A snapshot carries the sequence number of the last event it contains: the
        number is read first, so every event up to it was committed before the snapshot
        reads the database (a later one may be in it too: clients apply events as states)."""
        seq, epoch = self.sequence.last(f"{namespace}:{site_id}")
        data = snapshot(self, site_id)
        self.socketio.emit(event, {**data, "seq": seq, "epoch": epoch}, namespace=namespace, to=to)

    # --- what displays see -------------------------------------------------------------------

    def _call(self, row: Any, cat: catalog.Catalog) -> dict[str, Any]:
        """A call as displays show it. A quiet ticket (the visitor asked, or a private
        service) is shown but never spoken; the service of a ticket with a sensitive reason
        is not named (Catalog.named_in_public)."""
        counter = cat.counters.get(row.counter_id)
        service = cat.services.get(row.service_id)
        if not cat.named_in_public(service, row.reason):
            service = None
        counter_labels = counter.labels if counter else {}
        phrases = (
            []
            if row.quiet
            else announce.phrases(
                row.code,
                counter_labels,
                row.lang,
                self.speech.can_speak,
                lambda lang, keys: recordings.has_all(self.db, lang, keys),
            )
        )
        return {
            "id": row.id,
            "type": row.type,
            "number": row.code,
            "counter": {"slug": counter.slug if counter else "", "labels": counter_labels},
            "service": {
                "slug": service.slug if service else "",
                "labels": service.labels if service else {},
            },
            "lang": row.lang,
            "at": _iso(row.at),
            "quiet": bool(row.quiet),
            "announce": [
                {"lang": p.lang, "text": p.text, **({"key": "|".join(p.keys)} if p.keys else {})}
                for p in phrases
            ],
            "written": announce.written(counter_labels, row.lang),
        }

    def _calls(self, site_id: int) -> list[dict[str, Any]]:
        """Today's latest calls of a site, newest first."""
        cat = catalog.current(self.db)
        site = cat.site_by_id(site_id)
        stmt = (
            select(
                Event.id,
                Event.type,
                Event.at,
                Event.counter_id,
                Event.service_id,
                Ticket.code,
                Ticket.lang,
                Ticket.quiet,
                Ticket.reason_code.label("reason"),
            )
            .join(Ticket, Ticket.id == Event.ticket_id)
            # a ticket erased on request today is no longer shown among the calls
            .where(Event.type.in_(CALL_TYPES), Ticket.anonymised.is_(False))
            .order_by(Event.id.desc())
        )
        zone = site.timezone if site else i18n.TIMEZONE
        since = rules.day_start_utc(rules.service_day(utcnow(), zone), zone)
        stmt = stmt.where(Event.site_id == site_id, Event.at >= since).limit(CALLS_SHOWN)
        with self.db.read() as s:
            rows = s.execute(stmt).all()
        return [self._call(row, cat) for row in rows]

    def display_snapshot(self, site_id: int) -> dict[str, Any]:
        cat = catalog.current(self.db)
        site = cat.site_by_id(site_id)
        return {
            "site": site.slug if site else "",
            "calls": self._calls(site_id),
            "waiting": _waiting(reads.queue_summary(self.db, site_id, "en")),
            "at": _iso(utcnow()),
        }

    # --- what counters see -------------------------------------------------------------------

    def counter_summary(self, site_id: int) -> dict[str, Any]:
        return _for_counters(reads.queue_summary(self.db, site_id, "en"))

    # --- publishing, after the commit --------------------------------------------------------
    #
    # Request threads only hand the news to a lane of the hub and return: the counter gets
    # its answer at once, and each site's events leave in the order their commits happened.

    def publish(self, news: News) -> None:
        """Committed news, handed to its site's lane (see queue/news.py for what it means).

        A call goes to the displays, the ticket's phone and the counters; a ticket's change
        to its phone and the counters; any other change to the site's summaries. Summaries
        are coalesced: one is sent for many changes close together.
        """
        match news:
            case Called(ticket, site_id):
                self._lane(site_id).put(self._publish_call, ticket, site_id)
            case TicketChanged(ticket, site_id):
                self._lane(site_id).put(self._publish_status, ticket, site_id)
            case QueueChanged(site_id):
                lane = self._lane(site_id)
                lane.put(lane.mark_due, site_id)
            case ConfigChanged(site_ids):
                for site_id in site_ids:
                    self._lane(site_id).put(self._publish_config, site_id)
            case AlarmChanged(site_id, alarm_id, counter, acknowledged):
                alarm = {"id": alarm_id, "counter": counter, "acknowledged": acknowledged}
                self._lane(site_id).put(self._emit, "/counter", site_id, "alarm", alarm)
            case DeviceRevoked(device_id):  # its connections may be on any process
                bus.announce("device_revoked", {"database": self._database, "device": device_id})

    def _publish_config(self, site_id: int) -> None:
        """Tell every open page of this site to read its configuration again."""
        for namespace in CONFIGURED:
            self.socketio.emit("config", {}, namespace=namespace, to=site_room(site_id))
        self._lane(site_id).mark_due(site_id)  # services may have come or gone

    def _revoked(self, value: dict[str, Any]) -> None:
        """A device of this database was revoked, here or on another process."""
        if value.get("database") == self._database:
            device_id = int(value["device"])
            self._lane(device_id).put(self._disconnect_device, device_id)

    def _disconnect_device(self, device_id: int) -> None:
        """Close a revoked device's connections to this process (every process does the
        same with its own); the page then shows its pairing screen."""
        room = device_room(device_id)
        for namespace in DEVICE_NAMESPACES:
            self.socketio.emit("revoked", {}, namespace=namespace, to=room, ignore_queue=True)
            participants = self.socketio.server.manager.get_participants(namespace, room)
            for sid, _eio_sid in list(participants):
                self.socketio.server.disconnect(sid, namespace=namespace, ignore_queue=True)

    def _publish_call(self, ticket: TicketView, site_id: int) -> None:
        """The call as displays show it, made from the event the call wrote: not read back
        (a call and its recall both waiting here would both read the recall)."""
        logged = ticket.logged
        assert logged is not None, "a call's news carries the event it wrote"
        cat = catalog.current(self.db)
        counter = cat.counter(site_id, ticket.counter or "")
        service = cat.service(site_id, ticket.service)
        row = _CallRow(
            logged.id,
            logged.type,
            logged.at,
            counter.id if counter else None,
            service.id if service else None,
            ticket.number,
            ticket.lang,
            ticket.quiet,
            ticket.reason,
        )
        call = self._call(row, cat)
        self._emit("/display", site_id, call["type"], call)
        self._publish_status(ticket, site_id)

    def _publish_status(self, ticket: TicketView, site_id: int) -> None:
        """The ticket as the change left it, to its phone: made from the news, not read."""
        status = reads.status_of(ticket, catalog.current(self.db))
        self.socketio.emit(
            "status", _jsonable(status), namespace="/status", to=f"ticket:{ticket.public_token}"
        )
        self._lane(site_id).mark_due(site_id)

    def publish_summary(self, site_id: int) -> bool:
        """The queue of one site, to its counters and displays (coalesced by lanes); whether
        anybody waits there, whose phone should then hear that the queue moved."""
        summary = reads.queue_summary(self.db, site_id, "en")  # one query for both audiences
        self._emit("/counter", site_id, "queue", _for_counters(summary))
        self._emit("/display", site_id, "waiting", {"waiting": _waiting(summary)})
        return any(s["waiting"] for s in summary["services"])

    def publish_moved(self, site_id: int) -> None:
        """Tell the site's status pages the queue moved: a waiting one refetches its place."""
        self.socketio.emit("moved", {}, namespace="/status", to=site_room(site_id))


class _CallRow(NamedTuple):
    """A call as `Hub._call` reads it: the columns `Hub._calls` selects."""

    id: int
    type: str
    at: datetime
    counter_id: int | None
    service_id: int | None
    code: str
    lang: str
    quiet: bool
    reason: str | None


class _Lane:
    """One publisher of the hub: its own tasks in order, and its own sites' summaries.

    A process serves many sites, and each task waits on the database and on Redis several
    times; one publisher for all of them fell minutes behind at a country's scale
    (docs/benchmarks.md). Order matters only within a site, so the sites are shared out
    among LANES publishers that wait side by side. A lane's thread (a greenlet under
    `seira serve`) starts with its first task: an app that never publishes starts none.
    """

    def __init__(self, hub: Hub, number: int) -> None:
        self.hub = hub
        self.name = f"hub-{number}"
        self._tasks: queue.Queue[tuple[Callable[..., None], tuple[Any, ...]]] = queue.Queue()
        # sites whose summary is due, and whose phones are due a `moved`: the thread's alone
        self._dirty: set[int] = set()
        self._moved: set[int] = set()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def put(self, task: Callable[..., None], *args: Any) -> None:
        self._tasks.put((task, args))
        if self._thread is None:
            with self._starting:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()

    def mark_due(self, site_id: int) -> None:
        """Run on the lane's thread only (as a task, or from one)."""
        self._dirty.add(site_id)

    def _flush(self) -> None:
        sites, self._dirty = self._dirty, set()
        for site_id in sites:
            self._run_queued()  # a call waits for no summary: a lane has dozens of sites
            try:
                if self.hub.publish_summary(site_id):
                    self._moved.add(site_id)
            except Exception:  # one site's failure must not keep the others' from going out
                log.exception("queue summary of site %s failed", site_id)

    def _do(self, task: Callable[..., None], args: tuple[Any, ...]) -> None:
        try:
            task(*args)
        except Exception:  # one failed publication must not stop the next ones
            log.exception("publishing %s failed", getattr(task, "__name__", task))

    def _run_queued(self) -> None:
        """Every task queued now, in order."""
        while True:
            try:
                task, args = self._tasks.get_nowait()
            except queue.Empty:
                return
            self._do(task, args)

    def _tell_phones(self) -> None:
        sites, self._moved = self._moved, set()
        for site_id in sites:
            self._run_queued()
            try:
                self.hub.publish_moved(site_id)
            except Exception:
                log.exception("moved of site %s failed", site_id)

    def _run(self) -> None:
        """Publish tasks in order; send queue summaries at most every FLUSH_INTERVAL_S,
        and `moved` at most every MOVED_INTERVAL_S."""
        last_flush = last_moved = float("-inf")  # the first of each goes at once
        while True:
            due = [
                last + interval
                for pending, last, interval in (
                    (self._dirty, last_flush, FLUSH_INTERVAL_S),
                    (self._moved, last_moved, MOVED_INTERVAL_S),
                )
                if pending
            ]
            wait = max(0.0, min(due) - time.monotonic()) if due else None
            try:
                task, args = self._tasks.get(timeout=wait)
            except queue.Empty:
                task = None
            if task is not None:
                self._do(task, args)
            if self._dirty and time.monotonic() >= last_flush + FLUSH_INTERVAL_S:
                self._flush()
                last_flush = time.monotonic()
            if self._moved and time.monotonic() >= last_moved + MOVED_INTERVAL_S:
                self._tell_phones()
                last_moved = time.monotonic()


def _waiting(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """What a display shows of a queue summary: how many wait per service, but for the
    private services (the waiting room is not told that somebody waits for one)."""
    return [
        {"service": s["service"], "waiting": s["waiting"]}
        for s in summary["services"]
        if not s["private"]
    ]


def _for_counters(summary: dict[str, Any]) -> dict[str, Any]:
    """What counter pages get of a queue summary: waits per service, who is at each desk."""
    return {
        "services": [
            {k: s[k] for k in ("service", "waiting", "oldest_wait_s")} for s in summary["services"]
        ],
        "counters": [
            {"counter": c["counter"], "ticket": _jsonable(c["ticket"])} for c in summary["counters"]
        ],
        "at": _iso(utcnow()),
    }


# --- connections -----------------------------------------------------------------------------


def _refuse(why: str) -> ConnectionRefusedError:
    return ConnectionRefusedError(why)


class _HubNamespace(Namespace):
    """A namespace of one hub: its connections are checked against the hub's database."""

    def __init__(self, namespace: str, hub: Hub) -> None:
        super().__init__(namespace)
        self.hub = hub

    def principal(self, token: Any, kind: str = auth.API) -> Principal | None:
        if not isinstance(token, str) or not token:
            return None
        return auth.authenticate(self.hub.db, token, kind)


class _SiteNamespace(_HubNamespace):
    """A namespace whose connections each belong to one site, remembered per connection."""

    def __init__(
        self,
        namespace: str,
        hub: Hub,
        event: str,
        snapshot: Callable[[Hub, int], dict[str, Any]],
    ) -> None:
        """`snapshot(hub, site_id)` is the site's state, sent as `event` on request."""
        super().__init__(namespace, hub)
        self.snapshot_event = event
        self.snapshot = snapshot
        self.sites: dict[str, int] = {}

    def _joined(self, site_id: int) -> None:
        sid: str = request.sid  # type: ignore[attr-defined]
        self.sites[sid] = site_id
        join_room(site_room(site_id))

    def on_disconnect(self, _reason: Any = None) -> None:
        self.sites.pop(request.sid, None)  # type: ignore[attr-defined]

    def on_snapshot(self, _data: Any = None) -> None:
        """Send this connection its site's current state (also asked for after a gap)."""
        sid: str = request.sid  # type: ignore[attr-defined]
        site_id = self.sites.get(sid)
        if site_id is not None:
            self.hub.send_snapshot(self.namespace, site_id, self.snapshot_event, self.snapshot, sid)


class DisplayNamespace(_SiteNamespace):
    def on_connect(self, auth_data: Any = None) -> None:
        principal = self.principal(_field(auth_data, "token"))
        if principal is None or principal.kind != DeviceKind.DISPLAY:
            raise _refuse("a display device token is needed")
        (site_id,) = principal.site_ids
        self._joined(site_id)
        join_room(device_room(principal.device_id))
        self.on_snapshot()


class KioskNamespace(_HubNamespace):
    """A kiosk listens for changes of its configuration, and for its own revocation."""

    def on_connect(self, auth_data: Any = None) -> None:
        principal = self.principal(_field(auth_data, "token"))
        if principal is None or principal.kind != DeviceKind.KIOSK:
            raise _refuse("a kiosk device token is needed")
        (site_id,) = principal.site_ids
        join_room(site_room(site_id))
        join_room(device_room(principal.device_id))


class CounterNamespace(_SiteNamespace):
    def on_connect(self, auth_data: Any = None) -> None:
        token = _field(auth_data, "token")
        principal = (
            self.principal(token) if token else self.principal(session.get(SESSION_KEY), auth.PAGE)
        )
        if principal is None or principal.kind != "staff":
            raise _refuse("a staff session or bearer token is needed")
        site = catalog.current(self.hub.db).site(str(_field(auth_data, "site") or ""))
        if site is None or not principal.can(Can.READ_QUEUE, site.id):
            raise _refuse("this account may not follow that site")
        self._joined(site.id)
        self.on_snapshot()


class StatusNamespace(_HubNamespace):
    def on_connect(self, auth_data: Any = None) -> None:
        token = _field(auth_data, "ticket")
        if not isinstance(token, str) or not token:
            raise _refuse("a ticket token is needed")
        db = self.hub.db
        with db.read() as s:
            site_id = s.scalar(select(Ticket.site_id).where(Ticket.public_token == token))
        status = None
        if site_id is not None:
            try:
                status = reads.ticket_status(db, token)
            except NotFound:  # the ticket's day is over: as if it never was
                status = None
        if status is None:
            raise _refuse("no such ticket")
        join_room(f"ticket:{token}")
        join_room(site_room(site_id))
        emit("status", _jsonable(status))


def _field(data: Any, name: str) -> Any:
    return data.get(name) if isinstance(data, dict) else None


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _jsonable(data: Any) -> Any:
    """Times as ISO 8601 UTC strings, the way the REST API writes them."""
    if isinstance(data, dict):
        return {k: _jsonable(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_jsonable(v) for v in data]
    if isinstance(data, datetime):
        return _iso(data)
    return data


def init_app(app: Flask, speech: Speech) -> Hub:
    """Attach Socket.IO and the hub; SEIRA_MESSAGE_QUEUE for several workers.

    Threading mode: under `seira serve` gevent has patched the threads into greenlets,
    and tests that run the app in-process get real threads, with the same code.
    """
    socketio = SocketIO(
        app,
        async_mode="threading",
        message_queue=app.config.get("MESSAGE_QUEUE"),
        cors_allowed_origins=app.config.get("SOCKETIO_ORIGINS"),
    )
    bus.configure(app.config.get("MESSAGE_QUEUE"))  # changes told to the other processes
    sequence = for_queue(app.config.get("MESSAGE_QUEUE"))
    hub = Hub(socketio, app.extensions["seira.db"], speech, sequence)
    app.extensions["seira.hub"] = hub
    socketio.on_namespace(DisplayNamespace("/display", hub, "snapshot", Hub.display_snapshot))
    socketio.on_namespace(CounterNamespace("/counter", hub, "queue", Hub.counter_summary))
    socketio.on_namespace(StatusNamespace("/status", hub))
    socketio.on_namespace(KioskNamespace("/kiosk", hub))
    return hub
