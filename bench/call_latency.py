"""Call-to-display latency over real websockets: N displays connected, M calls.

Starts `seira serve` on a fresh SQLite database, connects N Socket.IO display clients
(asyncio, one process, websocket transport), issues M tickets, then calls them one at a
time from a counter over HTTP. For every call and every display it records the time from
sending the call request to that display receiving the `called` event.

    python bench/call_latency.py [--displays 50] [--calls 100] [--rounds 3]

Prints each round's median and p99 over all (call, display) pairs and the medians over
rounds. The load generator shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import aiohttp
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' server

from tests.liveserver import LiveServer  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _round(displays: int, calls: int) -> dict[str, float]:
    with LiveServer() as server:
        display_token = server.add_device("thess-east", "display", "bench")
        # a reception desk issues: one kiosk stops at frontdesk.KIOSK_TICKETS a minute
        issuer = server.add_staff("reception", "thess-east")
        staff = server.add_staff("bench", "thess-east")
        arrivals: dict[str, list[float]] = {}
        sent: dict[str, float] = {}
        clients = []
        for _ in range(displays):
            client = socketio.AsyncClient(reconnection=False)

            @client.on("called", namespace="/display")
            async def called(data: dict) -> None:
                arrivals.setdefault(data["number"], []).append(time.perf_counter())

            await client.connect(
                server.url,
                namespaces=["/display"],
                auth={"token": display_token},
                transports=["websocket"],
            )
            clients.append(client)

        issuer_headers = {"Authorization": f"Bearer {issuer}"}
        staff_headers = {"Authorization": f"Bearer {staff}"}
        async with aiohttp.ClientSession(server.url) as http:
            for _ in range(calls):
                body = {"service": "general", "reason": "other", "lang": "el"}
                async with http.post(
                    "/api/v1/sites/thess-east/tickets", json=body, headers=issuer_headers
                ) as response:
                    assert response.status == 201, await response.text()
            await asyncio.sleep(1.0)  # let the queue summaries settle
            request_times = []
            for _ in range(calls):
                start = time.perf_counter()
                async with http.post(
                    "/api/v1/sites/thess-east/counters/desk-1/call-next", headers=staff_headers
                ) as response:
                    ticket = await response.json()
                request_times.append(time.perf_counter() - start)
                sent[ticket["number"]] = start
                deadline = time.perf_counter() + 5
                while len(arrivals.get(ticket["number"], [])) < displays:
                    assert time.perf_counter() < deadline, "a display missed a call"
                    await asyncio.sleep(0.001)
                async with http.post(
                    f"/api/v1/tickets/{ticket['id']}/finish",
                    json={"outcome": "served"},
                    headers=staff_headers,
                ) as response:
                    assert response.status == 200
        for client in clients:
            await client.disconnect()
    latencies = [
        (arrived - sent[number]) * 1000 for number, times in arrivals.items() for arrived in times
    ]
    return {
        "median_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies),
        "call_request_median_ms": statistics.median(request_times) * 1000,
        "samples": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--displays", type=int, default=50)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    machine = platform.processor() or platform.machine()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine}, {os.cpu_count()} cores; "
        f"{args.displays} displays, {args.calls} calls"
    )
    rounds = []
    for number in range(1, args.rounds + 1):
        result = asyncio.run(_round(args.displays, args.calls))
        rounds.append(result)
        print(
            f"round {number}: call-to-display median {result['median_ms']:.1f} ms, "
            f"p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms "
            f"({result['samples']} deliveries); call request median "
            f"{result['call_request_median_ms']:.1f} ms"
        )
    print(
        f"median over rounds: median {statistics.median(r['median_ms'] for r in rounds):.1f} ms, "
        f"p99 {statistics.median(r['p99_ms'] for r in rounds):.1f} ms (target: p99 under 50 ms)"
    )


if __name__ == "__main__":
    main()
