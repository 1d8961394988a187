"""Two `seira serve` processes on one database and one Redis, as a city's central service
runs: a display, a counter page or a phone connected to either process hears every event
caused through the other, numbered from one count, and counters on both never call the
same ticket twice. On PostgreSQL, and on one SQLite file shared by two processes.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from server import bus, siteconfig
from server.models import Device
from server.sequence import CHANNEL, RedisSequence
from tests.liveserver import DEFAULT_CONFIG, PASSWORD, LiveServer
from tests.pg_cluster import Cluster
from tests.redis_server import RedisServer
from tests.test_realtime import Listener

SITE = "thess-east"
SEQUENCED = ("/display", "/counter")


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def postgresql() -> Iterator[Cluster]:
    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["postgresql", "sqlite"])
def pair(
    request: pytest.FixtureRequest, redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Process A and process B: the same database, the same Redis message queue."""
    if request.param == "postgresql":
        cluster: Cluster = request.getfixturevalue("postgresql")
        url = cluster.new_database("city")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('city') / 'seira.db'}"
    queue = redis.url(len(request.node.name) % 16)  # a Redis database of this test's own
    flush_redis(queue)
    a = LiveServer(database_url=url, message_queue=queue).start()
    b = LiveServer(database_url=url, message_queue=queue).start()
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def redis_client(url: str) -> Any:
    import redis as redis_module  # the `redis` extra, which these tests need

    return redis_module.Redis.from_url(url)


def flush_redis(url: str) -> None:
    redis_client(url).flushdb()


def published(listener: Any, count: int) -> list[dict[str, Any]]:
    """The next `count` messages a Redis subscription receives (within a few seconds)."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(messages) < count and time.monotonic() < deadline:
        message = listener.get_message(timeout=1)
        if message is not None:
            messages.append(json.loads(message["data"]))
    return messages


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(server: LiveServer, staff: str) -> dict[str, Any]:
    body = {"service": "general", "reason": "other", "lang": "ar"}
    answer = requests.post(
        f"{server.url}/api/v1/sites/{SITE}/tickets", json=body, headers=bearer(staff), timeout=10
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def call_and_finish(server: LiveServer, staff: str, counter: str) -> dict[str, Any] | None:
    called = requests.post(
        f"{server.url}/api/v1/sites/{SITE}/counters/{counter}/call-next",
        headers=bearer(staff),
        timeout=30,
    )
    if called.status_code == 204:
        return None
    assert called.status_code == 200, called.text
    ticket = called.json()
    done = requests.post(
        f"{server.url}/api/v1/tickets/{ticket['id']}/finish",
        json={"outcome": "served"},
        headers=bearer(staff),
        timeout=30,
    )
    assert done.status_code == 200, done.text
    return ticket


def sequenced(listener: Listener, start: int) -> list[tuple[str, int, str]]:
    """(event, seq, epoch) of every numbered event received after the first `start`."""
    return [
        (event, data["seq"], data["epoch"])
        for event, data in listener.received[start:]
        if isinstance(data, dict) and "seq" in data
    ]


def test_every_process_hears_every_call_numbered_from_one_count(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    a, b = pair
    display = a.add_device(SITE, "display", "hall")
    staff = b.add_staff("eleni", SITE)
    listeners = {
        (name, namespace): Listener(server, namespace, auth)
        for name, server in (("A", a), ("B", b))
        for namespace, auth in (
            ("/display", {"token": display}),
            ("/counter", {"token": staff, "site": SITE}),
        )
    }
    try:
        for listener in listeners.values():  # each one's snapshot first (its own seq)
            listener.wait_for(lambda got: any(e in ("snapshot", "queue") for e, _ in got))
        start = {key: len(listener.received) for key, listener in listeners.items()}
        phone_ticket = issue(a, staff)
        phone = Listener(a, "/status", {"ticket": phone_ticket["status_url"].rsplit("/", 1)[-1]})
        numbers = [phone_ticket["number"]] + [issue(b, staff)["number"] for _ in range(5)]
        for i in range(len(numbers)):  # calls alternate between the processes
            assert call_and_finish(b if i % 2 == 0 else a, staff, "desk-1") is not None
        for (_, namespace), listener in listeners.items():
            if namespace == "/display":
                listener.wait_for(lambda got: sum(e == "called" for e, _ in got) == len(numbers))
        time.sleep(1.0)  # the coalesced summaries that follow the last call
        # the phone on A heard its own ticket change through B (called, then done: by the
        # time the news is read the visit may be over already)
        heard = {d["status"] for d in phone.events("status")}
        assert heard - {"waiting"}, phone.received
        for namespace in SEQUENCED:
            heard_a = sequenced(listeners[("A", namespace)], start[("A", namespace)])
            heard_b = sequenced(listeners[("B", namespace)], start[("B", namespace)])
            assert heard_a == heard_b, namespace  # the same events, the same numbers
            seqs = [seq for _, seq, _ in heard_a]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), (namespace, seqs)
            assert len({epoch for _, _, epoch in heard_a}) == 1
        calls = listeners[("A", "/display")].events("called")
        assert [c["number"] for c in calls] == numbers  # in the order they were called
        phone.close()
    finally:
        for listener in listeners.values():
            listener.close()


def test_counters_on_both_processes_never_call_the_same_ticket(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    a, b = pair
    staff = a.add_staff("racer", SITE)
    issued = {issue(a if i % 2 else b, staff)["id"] for i in range(60)}
    called: list[int] = []
    lock = threading.Lock()
    counters = [(a, "desk-1"), (b, "desk-2"), (b, "desk-3")]
    barrier = threading.Barrier(len(counters))
    errors: list[BaseException] = []

    def work(server: LiveServer, counter: str) -> None:
        barrier.wait()
        try:
            while (ticket := call_and_finish(server, staff, counter)) is not None:
                with lock:
                    called.append(ticket["id"])
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=c) for c in counters]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[0]
    assert sorted(called) == sorted(issued)  # each ticket called once, none left out


def test_the_count_is_shared_in_order_and_a_lost_redis_starts_a_new_epoch(
    redis: RedisServer,
) -> None:
    """RedisSequence alone: events numbered and sent by several processes' sequences at
    once reach the message queue in the order of their numbers, as Socket.IO messages
    every process can deliver; a Redis that lost its data counts again under a new epoch."""
    url = redis.url(15)
    flush_redis(url)
    client = redis_client(url)
    listener = client.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(CHANNEL)
    sequences = [RedisSequence(url) for _ in range(4)]

    def send(n: int) -> None:
        for i in range(50):
            sequences[n].send(None, "/display:1", "called", {"by": n, "i": i}, "/display", "site:1")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(sequences))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    messages = published(listener, 200)
    assert [m["data"][0]["seq"] for m in messages] == list(range(1, 201))
    assert {(m["event"], m["namespace"], m["room"], m["method"]) for m in messages} == {
        ("called", "/display", "site:1", "emit")
    }
    for n in range(len(sequences)):  # each sender's events in the order it sent them
        assert [m["data"][0]["i"] for m in messages if m["data"][0]["by"] == n] == list(range(50))
    last, epoch = sequences[0].last("/display:1")
    assert {m["data"][0]["epoch"] for m in messages} == {epoch}
    assert last == 200 and sequences[3].last("/display:1") == (200, epoch)
    assert sequences[1].last("/counter:1") == (0, epoch)  # one count per namespace and site
    flush_redis(url)
    sequences[2].send(None, "/display:1", "called", {}, "/display", "site:1")
    [again] = [m["data"][0] for m in published(listener, 1)]
    assert again["seq"] == 1 and again["epoch"] not in ("", epoch)
    listener.close()


def test_desks_on_both_processes_get_distinct_gap_free_numbers(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    """Eight reception desks issuing at once, four through each process: one number each,
    none skipped (row locks on PostgreSQL, the write lock on SQLite, across processes)."""
    a, b = pair
    desks = [a.add_staff(f"reception-{i}", SITE) for i in range(8)]
    barrier = threading.Barrier(len(desks))
    numbers: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(i: int) -> None:
        barrier.wait()
        try:
            for _ in range(40):
                number = issue(a if i % 2 else b, desks[i])["number"]
                with lock:
                    numbers.append(int(number[1:]))
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(desks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[0]
    assert sorted(numbers) == list(range(1, 321))


# --- what one process changes, the other forgets at once ---------------------------------


def page_session(server: LiveServer, username: str) -> tuple[requests.Session, str]:
    """Signed in to the staff pages of `server`; the session and a CSRF token."""
    session = requests.Session()

    def csrf(path: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', session.get(server.url + path).text)
        assert found, path
        return found[1]

    form = {"csrf_token": csrf("/signin"), "username": username, "password": PASSWORD}
    assert session.post(f"{server.url}/signin", data=form, timeout=10).ok
    return session, csrf("/")


def test_signing_out_through_one_process_ends_the_token_on_the_other(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    a, b = pair
    token = a.add_staff("eleni", SITE)
    queue = f"{b.url}/api/v1/sites/{SITE}/queue"
    assert requests.get(queue, headers=bearer(token), timeout=10).status_code == 200  # B knows it
    session, csrf = page_session(a, "eleni")
    assert session.post(f"{a.url}/signout", data={"csrf_token": csrf}, timeout=10).ok
    # at once, not when B's memory of the token runs out (auth.PRINCIPAL_TTL_S)
    assert requests.get(queue, headers=bearer(token), timeout=10).status_code == 401


def test_a_device_revoked_through_one_process_is_disconnected_from_the_other(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    a, b = pair
    display = a.add_device(SITE, "display", "hall")
    on_b = Listener(b, "/display", {"token": display})
    on_b.wait_for(lambda got: any(e == "snapshot" for e, _ in got))
    a.add_staff("admin", SITE, "admin")
    session, csrf = page_session(a, "admin")
    revoked = session.post(
        f"{a.url}/admin/{SITE}/devices/revoke", data={"csrf_token": csrf, "name": "hall"}
    )
    assert revoked.ok, revoked.text[:300]
    on_b.wait_for(lambda got: any(e == "revoked" for e, _ in got))
    deadline = time.monotonic() + 5
    while on_b.client.connected:  # closed by B itself, not only asked to close
        assert time.monotonic() < deadline, "B kept the revoked display connected"
        time.sleep(0.05)


def test_a_printer_set_through_one_process_prints_through_the_other_at_once(
    pair: tuple[LiveServer, LiveServer], tmp_path: Path
) -> None:
    a, b = pair
    kiosk = a.add_device(SITE, "kiosk", "entrance")
    first = issue(b, kiosk)  # B now remembers that this kiosk has no printer
    status = f"{b.url}/api/v1/tickets/{{}}/print"
    assert requests.get(status.format(first["id"]), headers=bearer(kiosk), timeout=10).json() == {
        "status": "none"
    }
    with a.db.read() as s:
        device_id = s.scalars(select(Device.id).where(Device.name == "entrance")).one()
    a.add_staff("admin", SITE, "admin")
    session, csrf = page_session(a, "admin")
    out = tmp_path / "entrance.bin"
    form = {"scheme": "file", "address": str(out), "profile": "TM-T20II", "paper": "80"}
    form |= {"impl": "raster", "qr": "auto", "status": "on", "options": "", "csrf_token": csrf}
    saved = session.post(f"{a.url}/admin/{SITE}/devices/{device_id}/printer", data=form)
    assert saved.ok, saved.text[:300]
    second = issue(b, kiosk)  # at once, not when B's memory of the printer runs out
    deadline = time.monotonic() + 10
    while not out.exists() or out.stat().st_size == 0:
        assert time.monotonic() < deadline, "B did not print on the new printer"
        time.sleep(0.1)
    answer = requests.get(status.format(second["id"]), headers=bearer(kiosk), timeout=10)
    assert answer.json()["status"] in ("pending", "printed")


def test_a_configuration_loaded_elsewhere_reaches_both_processes_at_once(
    pair: tuple[LiveServer, LiveServer], tmp_path: Path
) -> None:
    """`seira config load` is a third process: what it loads is what A and B serve next."""
    a, b = pair
    kiosk = a.add_device(SITE, "kiosk", "entrance")
    services = f"{{}}/api/v1/sites/{SITE}/services?lang=en"

    def names(server: LiveServer) -> set[str]:
        answer = requests.get(services.format(server.url), headers=bearer(kiosk), timeout=10)
        assert answer.status_code == 200, answer.text
        found = answer.json()
        return {s["label"] for s in (found["services"] if isinstance(found, dict) else found)}

    assert "Reception and general" not in names(a) | names(b)  # both remember the old
    changed = tmp_path / "changed.toml"
    text = DEFAULT_CONFIG.read_text()
    changed.write_text(
        text.replace('en = "Reception and information"', 'en = "Reception and general"', 1)
    )
    bus.configure(a.message_queue, listen=False)  # as the command line does
    try:
        siteconfig.load(a.db, changed)
    finally:
        bus.reset()
    assert "Reception and general" in names(a) and "Reception and general" in names(b)


def test_alarms_and_mediator_requests_reach_the_staff_of_both_processes(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    a, b = pair
    display = b.add_device(SITE, "display", "hall")
    staff = a.add_staff("eleni", SITE)
    supervisor = b.add_staff("maria", SITE, "supervisor")
    mediator = b.add_staff("amal", SITE, "mediator")
    on_b = Listener(b, "/counter", {"token": mediator, "site": SITE})
    wall = Listener(b, "/display", {"token": display})
    try:
        on_b.wait_for(lambda got: any(e == "queue" for e, _ in got))
        wall.wait_for(lambda got: any(e == "snapshot" for e, _ in got))
        seen = len(wall.received)
        raised_at = time.monotonic()
        raised = requests.post(
            f"{a.url}/api/v1/sites/{SITE}/counters/desk-1/alarm", headers=bearer(staff), timeout=10
        )
        assert raised.status_code == 201, raised.text
        on_b.wait_for(lambda got: any(e == "alarm" for e, _ in got))
        assert time.monotonic() - raised_at < 1.0
        (alarm,) = on_b.events("alarm")
        assert alarm["counter"] == "desk-1" and alarm["acknowledged"] is False
        acknowledged = requests.post(
            f"{b.url}/api/v1/sites/{SITE}/alarms/{alarm['id']}/acknowledge",
            headers=bearer(supervisor),
            timeout=10,
        )
        assert acknowledged.status_code == 200, acknowledged.text

        ticket = issue(a, staff)
        called = requests.post(
            f"{a.url}/api/v1/sites/{SITE}/counters/desk-1/call-next",
            headers=bearer(staff),
            timeout=10,
        )
        assert called.json()["id"] == ticket["id"]
        queued = len(on_b.events("queue"))
        asked = requests.post(
            f"{a.url}/api/v1/tickets/{ticket['id']}/mediator-request",
            headers=bearer(staff),
            timeout=10,
        )
        assert asked.status_code == 200, asked.text
        on_b.wait_for(lambda got: sum(e == "queue" for e, _ in got) > queued)
        board = requests.get(
            f"{b.url}/api/v1/sites/{SITE}/mediators", headers=bearer(mediator), timeout=10
        ).json()
        assert [r["number"] for r in board["requests"]] == [ticket["number"]]
        time.sleep(0.5)
        assert "alarm" not in [event for event, _ in wall.received[seen:]]
    finally:
        on_b.close()
        wall.close()
