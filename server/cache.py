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

    A miss loads outside the lock: two requests may load the same key at once, which is
    harmless for what is kept here and never makes one wait for another's query. When
    `max_items` is reached the cache starts afresh rather than tracking what is oldest.
    """

    def __init__(self, ttl_s: float, max_items: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._items: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V]) -> V:
        """The remembered value, or `load()`'s, remembered from now on."""
        found = self._items.get(key)
        now = time.monotonic()
        if found is not None and found[0] > now:
            return found[1]
        value = load()
        with self._lock:
            if len(self._items) >= self.max_items:
                self._items.clear()
            self._items[key] = (now + self.ttl_s, value)
        return value

    def forget(self, key: K | None = None) -> None:
        """Drop one entry, or all of them, after a change made in this process."""
        with self._lock:
            if key is None:
                self._items.clear()
            else:
                self._items.pop(key, None)
