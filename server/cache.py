"""Values remembered for a few seconds: what changes rarely but is read on every request.

The configuration snapshot, the principal behind a bearer token, a kiosk's printer and a
service's typical visit length are each read far more often than they change; each is
one TTLCache, so how long a change takes to show is one number per use, said where the
cache is made.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """A dict whose entries are forgotten `ttl_s` seconds after they were loaded.

    A miss loads outside the lock, and only one caller loads a key at a time: while it
    does, the others get the value it replaces, or wait for it when there is none. Loads
    at once were harmless for small values, but under gevent a load that waits on the
    database lets every other request in, each misses too and loads again: with 250
    centres the configuration (0.1-0.3 s to load) was being loaded by dozens of requests
    at once, which held every database connection and stalled the server for good
    (bench/country.py). A value is thus at most `ttl_s` plus one load old; `forget` takes
    effect at once, and what a load begun before it returns is given to its caller only.
    When `max_items` is reached the cache starts afresh rather than tracking what is oldest.
    """

    def __init__(self, ttl_s: float, max_items: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._items: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()  # held for dictionary updates only, never across a wait
        self._loading: dict[K, threading.Event] = {}  # set when that key's load is over
        self._forgotten = 0  # how many times `forget` was called: loads begun before it

    def get(self, key: K, load: Callable[[], V]) -> V:
        """The remembered value, or `load()`'s, remembered from now on."""
        found = self._items.get(key)
        now = time.monotonic()
        if found is not None and found[0] > now:
            return found[1]
        with self._lock:
            forgotten = self._forgotten
            loading = self._loading.get(key)
            if loading is None:
                # looked up now, not at import: under gevent the patched, cooperative one
                self._loading[key] = mine = threading.Event()
        if loading is not None:
            if found is not None:
                return found[1]  # another caller is loading it again: this one meanwhile
            loading.wait()
            loaded = self._items.get(key)
            # none if that load failed or was forgotten: then this caller loads its own
            return loaded[1] if loaded is not None else load()
        try:
            value = load()
            with self._lock:
                if forgotten == self._forgotten:
                    if len(self._items) >= self.max_items:
                        self._items.clear()
                    self._items[key] = (now + self.ttl_s, value)
            return value
        finally:
            with self._lock:
                if self._loading.get(key) is mine:
                    del self._loading[key]
            mine.set()

    def forget(self, key: K | None = None) -> None:
        """Drop one entry, or all of them, after a change made in this process. A load
        already under way is no longer waited for, and its value is not remembered."""
        with self._lock:
            self._forgotten += 1
            if key is None:
                self._items.clear()
                self._loading.clear()
            else:
                self._items.pop(key, None)
                self._loading.pop(key, None)
