"""Tickets issued per second and call-next latency, over HTTP against a real server.

By default each round starts `seira serve` on a fresh SQLite database with the
Thessaloniki configuration; --url points it at a running server instead (then pass the
tokens). Prints one line per round and the medians over rounds.

    python bench/issue_and_call.py [--clients 8] [--per-client 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from urllib.parse import urlsplit

from server.sandbox import LiveServer


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


def run_clients(clients: int, work: Callable[[int], None]) -> float:
    """Run work(i) in `clients` threads started together; returns the wall time taken."""
    barrier = threading.Barrier(clients + 1)

    def run(i: int) -> None:
        barrier.wait()
        work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def issue_phase(url: str, token: str, site: str, clients: int, per_client: int) -> dict:
    services = Client(url, token).request("GET", f"/sites/{site}/services")[1]
    choices = [(svc["slug"], svc["reasons"][-1]["code"]) for svc in services]
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        client, mine = Client(url, token), []
        for n in range(per_client):
            service, reason = choices[(i + n) % len(choices)]
            body = {"service": service, "reason": reason, "lang": "ar", "priority": "none"}
            status, _, elapsed = client.request("POST", f"/sites/{site}/tickets", body)
            if status != 201:
                errors.append(status)
            mine.append(elapsed)
        with lock:
            latencies.extend(mine)

    wall = run_clients(clients, work)
    return {
        "tickets_per_s": clients * per_client / wall,
        "issue_median_ms": statistics.median(latencies) * 1000,
        "issue_p99_ms": percentile(latencies, 99) * 1000,
        "errors": len(errors),
    }


def reference_phase(url: str, clients: int, per_client: int) -> float:
    """GET /health per second with the same clients: the floor of this HTTP stack on this
    machine right now, so that figures from a slow and a fast hour can be compared."""

    def work(_i: int) -> None:
        client = Client(url, "")
        for _ in range(per_client):
            client.request("GET", "/health")

    return clients * per_client / run_clients(clients, work)


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
            url, kiosk, staff = args.url, args.kiosk_token, args.staff_token
        else:
            server = stack.enter_context(LiveServer(threads=args.threads, workers=args.workers))
            url = server.url
            kiosk = server.add_device(args.site, "kiosk")
            staff = server.add_staff("bench", args.site)
        counters = [
            c["slug"] for c in Client(url, staff).request("GET", f"/sites/{args.site}/counters")[1]
        ]
        reference = reference_phase(url, args.clients, args.per_client)
        result = issue_phase(url, kiosk, args.site, args.clients, args.per_client)
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
    parser.add_argument("--threads", type=int, default=32, help="server threads (own server)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (own server)")
    parser.add_argument("--url", help="a running server (default: start one per round)")
    parser.add_argument("--kiosk-token")
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
