"""TTLCache: one caller loads a key at a time, the others get the old value or wait for
the new one, and `forget` is never undone by a load begun before it."""

from __future__ import annotations

import threading
import time

from server.cache import TTLCache


def test_callers_missing_at_once_share_one_load() -> None:
    cache: TTLCache[str, int] = TTLCache(60)
    loads: list[int] = []
    gate = threading.Event()

    def load() -> int:
        loads.append(1)
        gate.wait(5)
        return 42

    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("k", load))) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.2)  # every caller has missed and is loading or waiting
    gate.set()
    for t in threads:
        t.join(5)
    assert got == [42] * 8
    assert len(loads) == 1


def test_an_expired_value_is_given_while_another_caller_loads_it_again() -> None:
    cache: TTLCache[str, str] = TTLCache(0.01)
    cache.get("k", lambda: "old")
    time.sleep(0.02)
    started, gate = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        gate.wait(5)
        return "new"

    loader = threading.Thread(target=lambda: cache.get("k", slow))
    loader.start()
    started.wait(5)
    assert cache.get("k", lambda: "never loaded") == "old"  # no second load, no wait
    gate.set()
    loader.join(5)
    assert cache.get("k", lambda: "never loaded") == "new"


def test_a_load_begun_before_forget_is_not_remembered() -> None:
    cache: TTLCache[str, str] = TTLCache(60)
    started, gate = threading.Event(), threading.Event()
    got: list[str] = []

    def before_the_change() -> str:
        started.set()
        gate.wait(5)
        return "before"

    loader = threading.Thread(target=lambda: got.append(cache.get("k", before_the_change)))
    loader.start()
    started.wait(5)
    cache.forget()  # the change: what that load read may already be out of date
    assert cache.get("k", lambda: "after") == "after"  # not a wait for the old load
    gate.set()
    loader.join(5)
    assert got == ["before"]  # its own caller gets it
    assert cache.get("k", lambda: "again") == "after"


def test_a_failed_load_lets_the_waiting_callers_load_their_own() -> None:
    cache: TTLCache[str, str] = TTLCache(60)
    started, gate = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def failing() -> str:
        started.set()
        gate.wait(5)
        raise RuntimeError("the database went away")

    def first() -> None:
        try:
            cache.get("k", failing)
        except RuntimeError as exc:
            errors.append(exc)

    loader = threading.Thread(target=first)
    loader.start()
    started.wait(5)
    got: list[str] = []
    waiter = threading.Thread(target=lambda: got.append(cache.get("k", lambda: "second")))
    waiter.start()
    time.sleep(0.1)
    gate.set()
    loader.join(5)
    waiter.join(5)
    assert len(errors) == 1 and got == ["second"]
