"""Tickets issued per second and call-next latency, over HTTP against a real server.

By default each round starts `seira serve` on a fresh SQLite database with the
Thessaloniki configuration; --url points it at a running server instead (then pass the
tokens). Prints one line per round and the medians over rounds.

    python bench/issue_and_call.py [--clients 8] [--per-client 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import statistics
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' server

from tests.liveserver import LiveServer  # noqa: E402


class Client:
    """One keep-alive HTTP connection with a bearer token; returns (status, body, seconds)."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, float]:
        data = json.dumps(body).encode() if body is not None else None
        start = time.perf_counter()
        self.conn.request(method, "/api/v1" + path, data, self.headers)
        response = self.conn.getresponse()
        raw = response.read()
        elapsed = time.perf_counter() - start
        return response.status, (json.loads(raw) if raw else {}), elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _keep_alive_client(
    host: str, port: int, requests: list[bytes], latencies: list[float], statuses: list[int]
) -> None:
    """Send prepared HTTP/1.1 requests one after another on one connection.

    A few lines of asyncio instead of http.client: the load generator shares the two cores
    with the server, so it should spend as little of them as it can.
    """
    reader, writer = await asyncio.open_connection(host, port)
    for raw in requests:
        start = time.perf_counter()
        writer.write(raw)
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - start)
        statuses.append(int(status_line.split()[1]))
    writer.close()


def _request(url: str, method: str, path: str, token: str, body: dict | None) -> bytes:
    parts = urlsplit(url)
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} /api/v1{path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    return head.encode() + b"\r\n" + data


def run_load(url: str, per_client: list[list[bytes]]) -> tuple[float, list[float], list[int]]:
    """All clients at once, each on its own keep-alive connection: (wall s, latencies, statuses)."""
    parts = urlsplit(url)
    latencies: list[float] = []
    statuses: list[int] = []

    async def main() -> float:
        start = time.perf_counter()
        await asyncio.gather(
            *(
                _keep_alive_client(
                    parts.hostname or "", parts.port or 80, reqs, latencies, statuses
                )
                for reqs in per_client
            )
        )
        return time.perf_counter() - start

    return asyncio.run(main()), latencies, statuses


def issue_phase(url: str, token: str, site: str, clients: int, per_client: int) -> dict:
    services = Client(url, token).request("GET", f"/sites/{site}/services")[1]
    choices = [(svc["slug"], svc["reasons"][-1]["code"]) for svc in services]
    requests = [
        [
            _request(
                url,
                "POST",
                f"/sites/{site}/tickets",
                token,
                {"service": service, "reason": reason, "lang": "ar", "priority": "none"},
            )
            for service, reason in (choices[(i + n) % len(choices)] for n in range(per_client))
        ]
        for i in range(clients)
    ]
    wall, latencies, statuses = run_load(url, requests)
    return {
        "tickets_per_s": clients * per_client / wall,
        "issue_median_ms": statistics.median(latencies) * 1000,
        "issue_p99_ms": percentile(latencies, 99) * 1000,
        "errors": sum(1 for status in statuses if status != 201),
    }


def reference_phase(url: str, clients: int, per_client: int) -> float:
    """GET /health per second with the same clients: the floor of this HTTP stack on this
    machine right now, so that figures from a slow and a fast hour can be compared."""
    health = _request(url, "GET", "/health", "", None)
    wall, _, _ = run_load(url, [[health] * per_client for _ in range(clients)])
    return clients * per_client / wall


def call_phase(
    url: str, token: str, site: str, counters: list[str], calls: int, together: bool
) -> dict:
    """Call-next latency. `together=False`: counters take turns, one request in flight, as
    at a front desk; `together=True`: every counter calls in a tight loop at once (stress).
    Each call is followed by an untimed finish so the counter is free again."""
    latencies: list[float] = []
    lock = threading.Lock()

    def work(names: list[str], count: int) -> None:
        clients = {name: Client(url, token) for name in names}
        mine = []
        for i in range(count):
            name = names[i % len(names)]
            status, ticket, elapsed = clients[name].request(
                "POST", f"/sites/{site}/counters/{name}/call-next"
            )
            if status == 204:
                break
            mine.append(elapsed)
            clients[name].request("POST", f"/tickets/{ticket['id']}/finish", {"outcome": "served"})
        with lock:
            latencies.extend(mine)

    if together:
        threads = [
            threading.Thread(target=work, args=([c], calls // len(counters))) for c in counters
        ]
    else:
        threads = [threading.Thread(target=work, args=(counters, calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "calls": len(latencies),
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


def one_round(args: argparse.Namespace) -> dict:
    with ExitStack() as stack:
        if args.url:
            url, issuer, staff = args.url, args.issuer_token, args.staff_token
        else:
            server = stack.enter_context(LiveServer(workers=args.workers))
            url = server.url
            # a reception desk issues: one kiosk stops at frontdesk.KIOSK_TICKETS a minute
            issuer = server.add_staff("reception", args.site)
            staff = server.add_staff("bench", args.site)
        counters = [
            c["slug"] for c in Client(url, staff).request("GET", f"/sites/{args.site}/counters")[1]
        ]
        reference = reference_phase(url, args.clients, args.per_client)
        result = issue_phase(url, issuer, args.site, args.clients, args.per_client)
        result["health_per_s"] = reference
        turns = call_phase(url, staff, args.site, counters, args.calls, together=False)
        stress = call_phase(url, staff, args.site, counters, args.calls, together=True)
        result.update(
            call_median_ms=turns["median_ms"],
            call_p99_ms=turns["p99_ms"],
            calls=turns["calls"],
            stress_median_ms=stress["median_ms"],
            stress_p99_ms=stress["p99_ms"],
        )
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=200)
    parser.add_argument("--calls", type=int, default=400, help="call-next requests per phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--site", default="thess-west")
    parser.add_argument("--workers", type=int, default=1, help="server processes (own server)")
    parser.add_argument("--url", help="a running server (default: start one per round)")
    parser.add_argument("--issuer-token", help="a staff token that may issue tickets")
    parser.add_argument("--staff-token")
    args = parser.parse_args()

    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"{args.clients} clients x {args.per_client} tickets"
    )
    rounds = []
    for i in range(args.rounds):
        r = one_round(args)
        rounds.append(r)
        print(
            f"round {i + 1}: {r['tickets_per_s']:.0f} tickets/s (issue median "
            f"{r['issue_median_ms']:.1f} ms, p99 {r['issue_p99_ms']:.1f} ms, "
            f"{r['errors']} errors; /health {r['health_per_s']:.0f}/s); "
            f"call-next in turns over {r['calls']} calls: median {r['call_median_ms']:.1f} ms, "
            f"p99 {r['call_p99_ms']:.1f} ms; all counters at once: median "
            f"{r['stress_median_ms']:.1f} ms, p99 {r['stress_p99_ms']:.1f} ms"
        )
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    print(
        f"median of {len(rounds)} rounds: {med['tickets_per_s']:.0f} tickets/s "
        f"(/health {med['health_per_s']:.0f}/s); call-next "
        f"median {med['call_median_ms']:.1f} ms, p99 {med['call_p99_ms']:.1f} ms; all at once "
        f"p99 {med['stress_p99_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
