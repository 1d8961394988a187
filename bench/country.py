"""Every Community Centre in Greece on one central service: a bounded load test.

A city or a ministry may run one Seira for all its centres: two `seira serve` processes
on one PostgreSQL database and one Redis message queue (docs/realtime.md, "Several
server processes"). This benchmark asks whether that holds on a busy morning, with
about 250 centres at once, on this machine:

- a generated configuration of N centres (`cc-001`, ...; 2-3 services and 3-5 counters
  each; the reasons of server/sites/thessaloniki.toml), loaded into a fresh PostgreSQL
  cluster on 127.0.0.1, with a throwaway Redis beside it, and two server processes;
- per centre, split across both processes (so most events cross from one to the other):
  one kiosk issuing a ticket every 20-40 s (jittered; a kiosk may issue 8 a minute),
  3-5 counters calling the next visitor and finishing after a short service time, one
  wall display on /display and 10 visitors' phones on /status, each a websocket of its
  own. Staff press "call next" when their counter page shows somebody waiting for one of
  their desk's services (the page's counts come from the same summary as the display's,
  which the benchmark reads), glancing at it every 1-3 s, and press anyway after a minute
  of nobody; a counter told 204 waits 5-15 s. `--counters blind` presses without
  looking, every 5-15 s while nobody waits: an upper bound, not a centre;
- phones: at opening, the reception has already given each centre's first 10 visitors
  their tickets (the queue at the door), and each of those opens its status page. From
  then on every ticket a kiosk issues opens its phone's page too. Each does what
  status/static/status.js does: while its ticket waits it fetches its status again at
  every `moved`, and at the end of the visit it closes its websocket. A new phone
  replaces the one whose visit ended longest ago, so each centre keeps at most 10 and
  every ticket called has its phone listening; a ticket finds no phone only if all 10
  of its centre's are still waiting to be seen;
- a warm-up (the opening queue is served), then a measured phase of `--seconds`.

It prints tickets issued per second (the kiosks' steady rate, and the opening burst of
the reception desks as a capacity figure), errors of every kind (HTTP statuses other
than 2xx and the expected 204, failed requests, refused or dropped websockets, calls a
display or a listening phone never heard), lost tickets (a 201 whose ticket is not in
the database) and numbering faults (per service and day, numbers must be 1..n, each
once), the latency from just before the counter sends call-next to the `called` event
at that centre's display, and to the `status` event on that ticket's phone (median, p99,
max), and each server process's memory (RSS, peak) and processor time, beside what
PostgreSQL, Redis and this load generator used.

The clients are not python-socketio's: 2,750 of those would take more of the two cores
than the servers. `Socket` below speaks just enough Engine.IO 4 / Socket.IO 5 over
aiohttp's websocket (open packet, join a namespace, pong each ping, read events), all in
this one asyncio process. Its own processor time and the event loop's lag are printed,
so what the generator took from the servers, and how late it read, can be judged.

    python bench/country.py [--centres 250] [--seconds 150] [--warmup 60]

Targets (the country issue): no errors, no lost or duplicated tickets, call-to-display
p99 under 100 ms, under 300 MB of memory per server process. Everything runs on
127.0.0.1 and everything started is stopped at the end, on failure and Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import tomli_w
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' servers

from server import auth  # noqa: E402
from tests.liveserver import DEFAULT_CONFIG, LiveServer  # noqa: E402
from tests.pg_cluster import Cluster  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

LANGS = ["el"] * 6 + ["en", "ar", "uk", "fa", "sq", "ru"]  # a ticket's language
TICK = os.sysconf("SC_CLK_TCK")
FINAL = ("done", "no_show", "cancelled", "closed")  # a status page disconnects at these
SAMPLE_EVERY_S = 2.0  # memory of the server processes
DRAIN_S = 3.0  # after the measured phase, for the events of its last calls to arrive
OPENING_LIMIT_S = 120.0  # the opening queue's tickets not issued by then are left out
SOCKETS_LIMIT_S = 90.0  # for every websocket to join or fail
SLICES = 5  # call-to-display p99 is printed for each fifth of the measured phase
PATIENCE_S = 60.0  # staff press "call next" after this long of nobody on their page


def span(value: str) -> tuple[float, float]:
    """'20-40' as (20.0, 40.0)."""
    low, _, high = value.partition("-")
    return float(low), float(high or low)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- the configuration -------------------------------------------------------------------------


@dataclass
class Centre:
    index: int
    slug: str
    services: dict[str, list[str]]  # slug -> reason groups it covers
    counters: list[str]
    serves: list[set[str]]  # per counter, the services it calls from
    kiosk: str = ""
    display: str = ""
    reception: str = ""
    staff: list[str] = field(default_factory=list)  # a bearer token per counter
    phones: list[Phone] = field(default_factory=list)  # open status pages, oldest first
    finished: set[str] = field(default_factory=set)  # numbers whose visit ended
    waiting: dict[str, int] = field(default_factory=dict)  # per service, as pages show it


def centres_config(count: int, rng: random.Random) -> tuple[dict[str, Any], list[Centre]]:
    """A configuration document of `count` centres, with the reasons of Thessaloniki's."""
    reasons = tomllib.loads(DEFAULT_CONFIG.read_text())["reasons"]
    sites, centres = [], []
    for i in range(1, count + 1):
        slug = f"cc-{i:03d}"
        if rng.random() < 0.5:
            services = {
                "general": ["other", "referral", "health", "housing", "basic_needs",
                            "integration", "legal"],
                "benefits": ["benefits", "disability", "social_support", "protection"],
            }  # fmt: skip
        else:
            services = {
                "general": ["other", "referral", "health", "housing", "basic_needs",
                            "integration"],
                "benefits": ["benefits", "disability"],
                "social-work": ["social_support", "protection", "legal"],
            }  # fmt: skip
        labels = {
            "general": {"el": "Υποδοχή και ενημέρωση", "en": "Reception and information"},
            "benefits": {"el": "Επιδόματα και παροχές", "en": "Benefits and allowances"},
            "social-work": {"el": "Κοινωνική υπηρεσία", "en": "Social services"},
        }
        slugs = list(services)
        counters = [f"desk-{k}" for k in range(1, rng.randint(3, 5) + 1)]
        # each desk serves one service first and reception after it
        serves = [
            {slugs[k % len(slugs)]: 2, **({} if k % len(slugs) == 0 else {"general": 1})}
            for k in range(len(counters))
        ]
        sites.append(
            {
                "slug": slug,
                "name": {"el": f"Κέντρο Κοινότητας {i:03d}", "en": f"Community Centre {i:03d}"},
                "address": {"el": f"Οδός Κοινότητας {i}", "en": f"Community Street {i}"},
                "timezone": "Europe/Athens",
                "priority_max_in_row": 2,
                "retention_days": 90,
                "hours": {d: "08:00-15:00" for d in ("mon", "tue", "wed", "thu", "fri")},
                "services": [
                    {
                        "slug": s,
                        "prefix": "ABC"[n],
                        "labels": labels[s],
                        "reasons": services[s],
                        "max_wait_min": 60,
                        "default_service_min": 10,
                    }
                    for n, s in enumerate(slugs)
                ],
                "counters": [
                    {
                        "slug": c,
                        "labels": {"el": f"Γκισέ {k + 1}", "en": f"Desk {k + 1}"},
                        "services": serves[k],
                    }
                    for k, c in enumerate(counters)
                ],
            }
        )
        centres.append(Centre(i, slug, services, counters, [set(w) for w in serves]))
    return {"reasons": reasons, "sites": sites}, centres


# --- the processes and what they use ---------------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_s(pid: int) -> float:
    """User and system processor time of one process, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of one process in MB: its memory now, and the most it held."""
    found = {"VmRSS": 0.0, "VmHWM": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in found:
                found[name] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return found["VmRSS"], found["VmHWM"]


@dataclass
class Watched:
    """One server process: the gunicorn arbiter and its workers, or a helper's processes."""

    name: str
    root: int
    with_children: bool = True
    cpu_at_start: dict[int, float] = field(default_factory=dict)
    peak_rss: dict[int, float] = field(default_factory=dict)

    def pids(self) -> list[int]:
        return [self.root, *(children(self.root) if self.with_children else [])]

    def start(self) -> None:
        self.cpu_at_start = {pid: cpu_s(pid) for pid in self.pids()}

    def sample(self) -> None:
        for pid in self.pids():
            self.peak_rss[pid] = max(self.peak_rss.get(pid, 0.0), memory_mb(pid)[0])

    def report(self, wall: float) -> list[str]:
        """A line per process of a server; one line for all of a helper's processes."""
        lines = []
        pids = self.pids()
        for pid in pids if self.with_children and self.name.startswith("server") else []:
            rss, hwm = memory_mb(pid)
            used = cpu_s(pid) - self.cpu_at_start.get(pid, 0.0)
            lines.append(
                f"  {self.name} {'arbiter' if pid == self.root else 'worker'} {pid}: "
                f"RSS {rss:.0f} MB (sampled peak {self.peak_rss.get(pid, rss):.0f}, "
                f"VmHWM {hwm:.0f}), CPU {used:.1f} s = {used / wall * 100:.0f}% of one core"
            )
        if not lines:  # (PostgreSQL's processes share its buffers: their RSS do not add up)
            rss = f"RSS {memory_mb(self.root)[0]:.0f} MB, " if len(pids) == 1 else ""
            used = self.cpu_used()
            lines.append(
                f"  {self.name} ({len(pids)} processes): {rss}CPU {used:.1f} s "
                f"= {used / wall * 100:.0f}% of one core"
            )
        return lines

    def cpu_used(self) -> float:
        return sum(cpu_s(pid) - self.cpu_at_start.get(pid, 0.0) for pid in self.pids())


def machine_busy_s() -> float:
    """Processor seconds the whole machine has spent busy since boot (every core)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / TICK  # without guest time, already counted in user


def postgres_pid(cluster: Cluster) -> int:
    return int((cluster.dir / "data" / "postmaster.pid").read_text().split()[0])


# --- a minimal Socket.IO client -------------------------------------------------------------


class Socket:
    """One websocket to one namespace: Engine.IO 4 / Socket.IO 5, as far as listening goes.

    `on_event(name, payload, at)` gets each event's name, its JSON text (the array's
    rest) and the perf_counter time its frame was read; parsing is left to the caller,
    which skips what it does not measure.
    """

    def __init__(
        self,
        bench: Bench,
        base: str,
        namespace: str,
        credentials: dict[str, str],
        on_event: Callable[[str, str, float], None],
    ) -> None:
        self.bench = bench
        self.base = base
        self.namespace = namespace
        self.credentials = credentials
        self.on_event = on_event
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.joined_at: float | None = None
        self.closing = False
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def open(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        ns = self.namespace
        events, joined, refused, left = f"42{ns},", f"40{ns},", f"44{ns}", f"41{ns}"
        try:
            self.ws = await self.bench.ws_session.ws_connect(
                f"{self.base}/socket.io/?EIO=4&transport=websocket",
                autoping=True,
                heartbeat=None,
                compress=0,
            )
            opened = await self.ws.receive(timeout=30)
            if opened.type != aiohttp.WSMsgType.TEXT or not opened.data.startswith("0"):
                raise ConnectionError(f"no Engine.IO open packet: {opened.data!r}")
            await self.ws.send_str(f"40{ns},{json.dumps(self.credentials)}")
            async for message in self.ws:
                at = time.perf_counter()
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                data: str = message.data
                if data == "2":
                    await self.ws.send_str("3")
                elif data.startswith(events):
                    body = data[len(events) :]
                    end = body.find('"', 2)
                    self.on_event(body[2:end], body[end + 2 : -1], at)
                elif data.startswith(joined):
                    self.joined_at = at
                    self.ready.set()
                elif data.startswith(refused):
                    self.bench.error(f"{ns} refused: {data[len(refused) + 1 :][:80]}")
                    break
                elif data.startswith(left):
                    break
        except (aiohttp.ClientError, OSError, TimeoutError, ConnectionError) as exc:
            if not self.closing:
                self.bench.error(f"{ns} websocket: {type(exc).__name__} {exc}"[:120])
        finally:
            if not self.closing and self.ready.is_set():
                self.bench.error(f"{ns} closed by the server")
            self.ready.set()
            if self.ws is not None and not self.ws.closed:
                await self.ws.close()

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self.task is not None:
            await asyncio.wait([self.task], timeout=5)


@dataclass
class Phone:
    centre: Centre
    number: str
    socket: Socket
    status: str = "waiting"  # the last status its page heard


@dataclass
class Call:
    """One call-next that called a ticket: when it was sent, when it was heard."""

    sent: float | None = None
    answered: float | None = None
    display: float | None = None
    phone: float | None = None
    phone_listening: bool = False  # a phone of this ticket had joined before the call


# --- the load --------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, servers: list[LiveServer], centres: list[Centre]):
        self.args = args
        self.servers = servers
        self.centres = centres
        self.rng = random.Random(args.seed)
        self.errors: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.stopping = False
        self.issued: dict[int, tuple[str, str, float]] = {}  # id -> (site, number, answered)
        self.called_ids: Counter[int] = Counter()
        self.calls: dict[tuple[str, str], Call] = {}  # (site, number)
        self.timings: dict[str, list[tuple[float, float]]] = {}  # kind -> (at, seconds)
        self.window = (float("inf"), float("inf"))
        self.lags: list[tuple[float, float]] = []
        self.sockets: list[Socket] = []
        self.http: list[aiohttp.ClientSession] = []
        self.ws_session: aiohttp.ClientSession

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    def server(self, n: int) -> int:
        return n % len(self.servers)

    def timed(self, kind: str, at: float, seconds: float) -> None:
        self.timings.setdefault(kind, []).append((at, seconds))

    async def post(
        self, n: int, path: str, token: str, kind: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """POST to server n; (status, JSON) or (0, None) when the request itself failed."""
        start = time.perf_counter()
        try:
            async with self.http[self.server(n)].post(
                "/api/v1" + path, json=body, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.error(f"{kind}: {type(exc).__name__}")
            return 0, None
        self.timed(f"{kind} {status}", start, time.perf_counter() - start)
        return status, json.loads(raw) if raw else None

    # --- displays and phones

    def display(self, centre: Centre) -> Socket:
        def heard(name: str, payload: str, at: float) -> None:
            self.counts[f"/display {name}"] += 1
            if name in ("waiting", "snapshot"):
                counts = json.loads(payload)["waiting"]
                centre.waiting = {w["service"]: w["waiting"] for w in counts}
            elif name == "called":
                call = json.loads(payload)
                record = self.calls.setdefault((centre.slug, call["number"]), Call())
                if record.display is None:
                    record.display = at
                else:
                    self.error("a call heard twice by its display")

        base = self.servers[self.server(centre.index + 1)].url  # not the kiosk's process
        return Socket(self, base, "/display", {"token": centre.display}, heard)

    def phone(self, centre: Centre, number: str, public_token: str, n: int) -> None:
        """Open a phone's status page for this ticket, replacing an old one if 10 are open."""
        if len(centre.phones) >= self.args.phones:
            done = next((p for p in centre.phones if p.number in centre.finished), None)
            if done is None:
                self.counts["tickets without a phone (all 10 still waiting)"] += 1
                return
            centre.phones.remove(done)
            asyncio.create_task(done.socket.close())

        def heard(name: str, payload: str, at: float) -> None:
            """What status/static/status.js does with each event."""
            self.counts[f"/status {name}"] += 1
            if name == "moved":
                if phone.status == "waiting":  # the page fetches its new place
                    asyncio.create_task(self.refetch(n, public_token))
                return
            if name != "status":
                return
            phone.status = json.loads(payload)["status"]
            if phone.status in FINAL:  # the page disconnects at the end of the visit
                asyncio.create_task(socket.close())
            if socket.joined_at is not None and phone.status != "waiting":
                record = self.calls.setdefault((centre.slug, number), Call())
                if record.phone is None:
                    record.phone = at

        socket = Socket(self, self.servers[self.server(n)].url, "/status",
                        {"ticket": public_token}, heard)  # fmt: skip
        phone = Phone(centre, number, socket)
        centre.phones.append(phone)
        self.sockets.append(socket)
        socket.open()

    async def refetch(self, n: int, public_token: str) -> None:
        """A waiting status page asks for its status again (its place in the queue)."""
        start = time.perf_counter()
        try:
            async with self.http[self.server(n)].get(
                f"/api/v1/tickets/status/{public_token}"
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.error(f"status refetch: {type(exc).__name__}")
            return
        self.timed(f"refetch {status}", start, time.perf_counter() - start)
        if status != 200:
            self.error(f"status refetch: HTTP {status}")

    def phone_joined(self, centre: Centre, number: str) -> float | None:
        """When the open phone of this ticket joined /status, if it has."""
        return next((p.socket.joined_at for p in centre.phones if p.number == number), None)

    # --- kiosks, reception, counters

    async def issue(self, centre: Centre, token: str, n: int, kind: str) -> bool:
        service = self.rng.choice(["general", "general", *centre.services])
        body = {
            "service": service,
            "reason": self.rng.choice(centre.services[service]),
            "lang": self.rng.choice(LANGS),
        }
        status, ticket = await self.post(n, f"/sites/{centre.slug}/tickets", token, kind, body)
        if status != 201:
            if status:
                self.error(f"{kind}: HTTP {status}")
            return False
        self.issued[ticket["id"]] = (centre.slug, ticket["number"], time.perf_counter())
        self.phone(centre, ticket["number"], ticket["status_url"].rsplit("/", 1)[-1], n + 1)
        return True

    async def kiosk(self, centre: Centre) -> None:
        low, high = span(self.args.interval)
        await asyncio.sleep(self.rng.uniform(0, high))
        while not self.stopping:
            await self.issue(centre, centre.kiosk, centre.index, "issue")
            await asyncio.sleep(self.rng.uniform(low, high))

    async def counter(self, centre: Centre, k: int) -> None:
        slug, token, n = centre.counters[k], centre.staff[k], centre.index + k
        idle_low, idle_high = span(self.args.idle_wait)
        serve_low, serve_high = span(self.args.service)
        await asyncio.sleep(self.rng.uniform(0, 5))
        path = f"/sites/{centre.slug}/counters/{slug}/call-next"
        while not self.stopping:
            if self.args.counters == "page":
                await self.glance(centre, k)
            sent = time.perf_counter()
            status, ticket = await self.post(n, path, token, "call-next")
            if status == 204:
                await asyncio.sleep(self.rng.uniform(idle_low, idle_high))
                continue
            if status != 200:
                if status:
                    self.error(f"call-next: HTTP {status}")
                await asyncio.sleep(idle_high)
                continue
            self.called_ids[ticket["id"]] += 1
            record = self.calls.setdefault((centre.slug, ticket["number"]), Call())
            record.sent, record.answered = sent, time.perf_counter()
            joined = self.phone_joined(centre, ticket["number"])
            record.phone_listening = joined is not None and joined < sent
            await asyncio.sleep(self.rng.uniform(serve_low, serve_high))
            status, _ = await self.post(
                n, f"/tickets/{ticket['id']}/finish", token, "finish", {"outcome": "served"}
            )
            if status == 200:
                centre.finished.add(ticket["number"])
            elif status:
                self.error(f"finish: HTTP {status}")

    async def glance(self, centre: Centre, k: int) -> None:
        """Until the counter page shows somebody waiting for one of this desk's services,
        or for at most PATIENCE_S, as staff look at it every few seconds."""
        give_up = time.perf_counter() + PATIENCE_S
        while not self.stopping and time.perf_counter() < give_up:
            if any(centre.waiting.get(service) for service in centre.serves[k]):
                return
            await asyncio.sleep(self.rng.uniform(1, 3))

    async def lag_monitor(self) -> None:
        """How late the event loop wakes: how late this generator reads what arrives."""
        while not self.stopping:
            before = time.perf_counter()
            await asyncio.sleep(0.05)
            self.lags.append((before, time.perf_counter() - before - 0.05))

    # --- the run

    async def run(self, watched: list[Watched]) -> dict[str, Any]:
        args = self.args
        self.http = [
            aiohttp.ClientSession(
                s.url,
                connector=aiohttp.TCPConnector(limit=256),
                timeout=aiohttp.ClientTimeout(total=30),
            )
            for s in self.servers
        ]
        self.ws_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=None, connect=30, sock_connect=30),
        )
        tasks: list[asyncio.Task[None]] = []
        result: dict[str, Any] = {}
        try:
            t = time.perf_counter()
            gate = asyncio.Semaphore(50)
            for centre in self.centres:
                socket = self.display(centre)
                self.sockets.append(socket)
                async with gate:
                    socket.open()
                    await socket.ready.wait()
            print(f"{len(self.centres)} displays joined in {time.perf_counter() - t:.1f} s")

            # the queue at the door: each centre's reception issues its first visitors'
            # tickets, as fast as 16 desks at once can, and their phones open
            t = time.perf_counter()
            desks = asyncio.Semaphore(16)
            deadline = t + OPENING_LIMIT_S

            async def reception(centre: Centre, i: int) -> None:
                async with desks:
                    if time.perf_counter() > deadline:  # a slow server: keep the run bounded
                        self.error("opening tickets not issued in time")
                        return
                    await self.issue(centre, centre.reception, centre.index + i, "reception")

            await asyncio.gather(
                *(reception(c, i) for c in self.centres for i in range(args.phones))
            )
            burst = time.perf_counter() - t
            result["opening"] = (len(self.issued), burst)
            print(
                f"opening queue: {len(self.issued)} tickets in {burst:.1f} s "
                f"({len(self.issued) / burst:.0f}/s from 16 reception desks at once)"
            )
            t = time.perf_counter()
            waits = [asyncio.ensure_future(s.ready.wait()) for s in self.sockets]
            _, late = await asyncio.wait(waits, timeout=SOCKETS_LIMIT_S)
            for waiting in late:
                waiting.cancel()
                self.error("websocket not joined in time")
            print(f"{len(self.sockets)} sockets open in {time.perf_counter() - t:.1f} s more")

            tasks.append(asyncio.create_task(self.lag_monitor()))
            tasks += [asyncio.create_task(self.kiosk(c)) for c in self.centres]
            tasks += [
                asyncio.create_task(self.counter(c, k))
                for c in self.centres
                for k in range(len(c.counters))
            ]
            print(f"warm-up {args.warmup:.0f} s: kiosks and counters at work")
            await asyncio.sleep(args.warmup)

            start = time.perf_counter()
            self.window = (start, start + args.seconds)
            for w in watched:
                w.start()
            cpu_start = time.process_time()
            machine_start = machine_busy_s()
            print(f"measuring {args.seconds:.0f} s")
            while time.perf_counter() < self.window[1]:
                for w in watched:
                    w.sample()
                await asyncio.sleep(
                    min(SAMPLE_EVERY_S, max(0.0, self.window[1] - time.perf_counter()))
                )
            wall = time.perf_counter() - start
            result["wall"] = wall
            result["client_cpu"] = time.process_time() - cpu_start
            result["machine_cpu"] = machine_busy_s() - machine_start
            result["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
            result["watched"] = [(w, w.report(wall), w.cpu_used()) for w in watched]
            result["open_sockets"] = sum(
                1 for s in self.sockets if s.joined_at is not None and not s.closing
            )
            self.stopping = True
            await asyncio.sleep(DRAIN_S)  # the last calls' events
        finally:
            self.stopping = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(*(s.close() for s in self.sockets), return_exceptions=True)
            for session in [*self.http, self.ws_session]:
                await session.close()
        return result


# --- the checks and the figures --------------------------------------------------------------


def check_database(url: str, bench: Bench) -> tuple[int, list[str]]:
    """(lost tickets, numbering faults): every 201 in the database, numbers 1..n once."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = {row[0] for row in conn.execute(text("SELECT id FROM tickets"))}
            faults = [
                f"service {service} on {day}: {count} tickets, {distinct} numbers, {low}-{high}"
                for service, day, count, distinct, low, high in conn.execute(
                    text(
                        "SELECT origin_service_id, service_day, count(*), count(DISTINCT number),"
                        " min(number), max(number) FROM tickets"
                        " GROUP BY origin_service_id, service_day"
                    )
                )
                if not (count == distinct == high and low == 1)
            ]
    finally:
        engine.dispose()
    return len(set(bench.issued) - found), faults


def figures(values: list[float]) -> str:
    if not values:
        return "no samples"
    ms = [v * 1000 for v in values]
    return (
        f"median {statistics.median(ms):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
        f"max {max(ms):.1f} ms ({len(ms)} samples)"
    )


def report(bench: Bench, result: dict[str, Any], lost: int, faults: list[str]) -> None:
    low, high = bench.window
    inside = lambda at: low <= at < high  # noqa: E731
    wall = result["wall"]
    issued = sum(1 for _, _, at in bench.issued.values() if inside(at))
    calls = [c for c in bench.calls.values() if c.sent is not None and inside(c.sent)]
    display = [c.display - c.sent for c in calls if c.display is not None and c.sent]
    phone = [c.phone - c.sent for c in calls if c.phone_listening and c.phone and c.sent]
    unheard = sum(1 for c in calls if c.display is None)
    phone_unheard = sum(1 for c in calls if c.phone_listening and c.phone is None)
    if unheard:
        bench.errors[f"calls not heard by their display by {DRAIN_S:.0f} s after"] += unheard
    if phone_unheard:
        bench.errors[f"calls not heard by a listening phone by {DRAIN_S:.0f} s after"] += (
            phone_unheard
        )
    twice = sum(1 for n in bench.called_ids.values() if n > 1)
    if twice:
        bench.errors["tickets called twice"] += twice

    def timing(kind: str) -> list[float]:
        return [s for at, s in bench.timings.get(kind, []) if inside(at)]

    print(f"measured {wall:.0f} s:")
    print(
        f"  tickets issued by kiosks: {issued} = {issued / wall:.1f}/s; "
        f"issue request {figures(timing('issue 201'))}"
    )
    print(
        f"  calls: {len(calls)} = {len(calls) / wall:.1f}/s; call-next 200 "
        f"{figures(timing('call-next 200'))}; call-next 204 (nobody waiting) "
        f"{len(timing('call-next 204')) / wall:.0f}/s, {figures(timing('call-next 204'))}"
    )
    print(f"  finish {figures(timing('finish 200'))}")
    refetched = timing("refetch 200")
    print(
        f"  status pages refetching their place on `moved`: {len(refetched) / wall:.0f}/s, "
        f"{figures(refetched)}"
    )
    print(f"  call-to-display: {figures(display)}")
    slices = []  # whether lateness is a backlog draining or the steady state
    for k in range(SLICES):
        start, end = low + k * (high - low) / SLICES, low + (k + 1) * (high - low) / SLICES
        late = [c.display - c.sent for c in calls if c.display and start <= c.sent < end]
        slices.append(f"{percentile(late, 99) * 1000:.0f}" if late else "-")
    print(f"    p99 in each fifth of the phase, ms: {', '.join(slices)}")
    if unheard:  # how late the events were: those of earlier calls that did arrive
        late = [c.display - c.sent for c in bench.calls.values() if c.display and c.sent]
        print(f"    calls of the whole run heard by their display: {figures(late)}")
    print(
        f"  call-to-status-page: {figures(phone)} "
        f"({sum(c.phone_listening for c in calls)} calls with a phone listening)"
    )
    print(f"  websockets open at the end of the phase: {result['open_sockets']}")
    events = {k: v for k, v in sorted(bench.counts.items()) if k.startswith("/")}
    print(f"  events received over the whole run: {events}")
    others = {k: v for k, v in bench.counts.items() if not k.startswith("/")}
    if others:
        print(f"  {others}")
    print("  server processes (RSS now, the peak of samples every 2 s, and the kernel's):")
    total_cpu = 0.0
    for _, lines, used in result["watched"]:
        for line in lines:
            print(line)
        total_cpu += used
    lags = [lag for at, lag in bench.lags if inside(at)]
    print(
        f"  load generator (this process): CPU {result['client_cpu']:.1f} s = "
        f"{result['client_cpu'] / wall * 100:.0f}% of one core; event loop lag "
        f"{figures(lags)}"
    )
    ours = (total_cpu + result["client_cpu"]) / wall
    machine = result["machine_cpu"] / wall
    print(
        f"  processor time of all the above: {ours:.2f} of {os.cpu_count()} cores; the whole "
        f"machine was busy {machine:.2f} cores: {max(0.0, machine - ours):.2f} for other "
        f"programs (load average at the end {' '.join(result['loadavg'])})"
    )
    print(f"errors over the whole run: {sum(bench.errors.values())} {dict(bench.errors)}")
    print(f"lost tickets: {lost} of {len(bench.issued)}; numbering faults: {len(faults)}")
    for fault in faults[:10]:
        print(f"  {fault}")
    p99 = percentile(display, 99) * 1000 if display else float("inf")
    peak = max(
        (
            rss
            for w, _, _ in result["watched"]
            if w.name.startswith("server")
            for rss in w.peak_rss.values()
        ),
        default=0.0,
    )
    print(
        "targets: errors 0 {}, lost 0 and duplicated 0 {}, call-to-display p99 < 100 ms {} "
        "({:.1f} ms), memory < 300 MB per process {} (peak {:.0f} MB)".format(
            "met" if not bench.errors else "MISSED",
            "met" if not lost and not faults else "MISSED",
            "met" if p99 < 100 else "MISSED",
            p99,
            "met" if peak < 300 else "MISSED",
            peak,
        )
    )


# --- setting it all up, and taking it all down ------------------------------------------------


@contextmanager
def terminated_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the run as Ctrl-C does, so everything is still stopped."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_server(server: LiveServer) -> None:
    """Stop it, and make sure no worker of its process group outlives it."""
    group = server.process.pid if server.process else None
    server.close()
    if group is not None:
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def prepare(server: LiveServer, centres: list[Centre], rng: random.Random) -> None:
    """Devices and staff for every centre: a kiosk, a display, one staff account with a
    bearer token per counter and one for the reception desk (tokens granted directly:
    each sign-in would cost a deliberately slow password hash)."""

    def one(centre: Centre) -> None:
        centre.kiosk = server.add_device(centre.slug, "kiosk", "kiosk")
        centre.display = server.add_device(centre.slug, "display", "hall")
        password = f"bench-{rng.getrandbits(64):x}-Aa1!"
        user = auth.add_user(server.db, f"staff-{centre.slug}", password, "staff", centre.slug)
        centre.reception = auth.grant_token(server.db, user)[0]
        centre.staff = [auth.grant_token(server.db, user)[0] for _ in centre.counters]

    with ThreadPoolExecutor(2) as pool:  # the password hashes, two at a time
        list(pool.map(one, centres))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--centres", type=int, default=250)
    parser.add_argument("--seconds", type=float, default=150, help="the measured phase")
    parser.add_argument("--warmup", type=float, default=60, help="before measuring")
    parser.add_argument("--phones", type=int, default=10, help="status pages open per centre")
    parser.add_argument("--interval", default="20-40", help="s between a kiosk's tickets")
    parser.add_argument("--service", default="10-30", help="s from a call to its finish")
    parser.add_argument("--idle-wait", default="5-15", help="s a counter told 204 waits")
    parser.add_argument(
        "--counters",
        choices=["page", "blind"],
        default="page",
        help="staff call when their page shows somebody waiting, or without looking",
    )
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers per process")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.warmup + args.seconds > 420:
        parser.error("keep a run bounded: --warmup plus --seconds at most 420")

    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.centres} centres, 2 server processes x {args.workers} worker, "
        f"PostgreSQL + Redis; counters: {args.counters}"
    )
    rng = random.Random(args.seed)
    with ExitStack() as stack, terminated_as_interrupt():
        folder = Path(tempfile.mkdtemp(prefix="seira-country-"))
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        document, centres = centres_config(args.centres, rng)
        config = folder / "country.toml"
        config.write_text(tomli_w.dumps(document))

        t = time.perf_counter()
        cluster = Cluster()
        stack.callback(cluster.stop)
        admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE country"))
        admin.dispose()
        url = cluster.url("country")
        redis = RedisServer()
        stack.callback(redis.stop)
        # each process holds its share of the 2,750 websockets and the HTTP clients
        connections = 2 * (len(centres) * (1 + args.phones) // 2 + 400)
        servers = []
        for _ in range(2):
            server = LiveServer(
                config=config,
                database_url=url,
                message_queue=redis.url(0),
                workers=args.workers,
                connections=connections,
            )
            stack.callback(stop_server, server)
            servers.append(server.start(timeout=60))
        prepare(servers[0], centres, rng)
        counters = sum(len(c.counters) for c in centres)
        print(
            f"set up in {time.perf_counter() - t:.0f} s: {len(centres)} centres, "
            f"{counters} counters, {args.phones} phones per centre; --connections {connections}"
        )
        watched = [
            *(Watched(f"server {'AB'[i]}", s.process.pid) for i, s in enumerate(servers)
              if s.process),
            Watched("PostgreSQL", postgres_pid(cluster)),
            Watched("Redis", redis.process.pid, with_children=False),
        ]  # fmt: skip
        bench = Bench(args, servers, centres)
        result = asyncio.run(bench.run(watched))
        lost, faults = check_database(url, bench)
        report(bench, result, lost, faults)
        for i, server in enumerate(servers):
            log = (server.dir / "server.log").read_text(errors="replace")
            if "Traceback" in log:
                print(f"server {'AB'[i]} logged {log.count('Traceback')} tracebacks; the last:")
                print(log[log.rindex("Traceback") :][:3000])


if __name__ == "__main__":
    main()
