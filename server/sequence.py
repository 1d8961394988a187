"""Sequence numbers for live events: one count per namespace and site, and an epoch.

Displays and counter pages check that each event's `seq` follows the last one they saw,
and ask for a snapshot when it does not (docs/realtime.md). That only works if every
process numbers a site's events from one count, in the order the events are sent:

- one process (the default): the count is kept in memory and the epoch is new at each
  start, so a restarted server makes every client take a snapshot;
- several processes or hosts with Redis as the message queue: the count and the epoch
  are kept in that Redis, and a process numbers and sends an event while it holds the
  site's lock there. The event is only published to Redis, never handed straight to this
  process's own clients (Socket.IO's manager would do that, and they could then get a
  later number before an earlier one still on its way from another process): every
  process, this one too, delivers it from Redis, so numbers reach every client in the
  order they were given. A Redis that lost its data gets a new epoch, which sends every
  client for a snapshot, as a restart does.
"""

from __future__ import annotations

import secrets
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from . import bus

PREFIX = "seira:live"
CHANNEL = "flask-socketio"  # Flask-SocketIO's channel on the message queue, its default
LOCK_TIMEOUT_S = 10.0  # a process that died holding a site's lock frees it after this
# the count and the epoch at once; the epoch is made by the first process that needs it
_NEXT = """
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[2], epoch)
end
return {redis.call('INCRBY', KEYS[1], tonumber(ARGV[2])), epoch}
"""


class Sequence(Protocol):
    def next(self, key: str) -> Iterator[tuple[int, str]]:
        """The next number and the epoch, held until the event is sent (a context)."""
        ...

    def send(
        self, socketio: Any, event: str, data: dict[str, Any], namespace: str, to: str
    ) -> None:
        """Send a numbered event, inside `next`."""
        ...

    def last(self, key: str) -> tuple[int, str]:
        """The last number given and the epoch: what a snapshot taken now contains."""
        ...


class LocalSequence:
    """One process's count, in memory."""

    def __init__(self) -> None:
        self.epoch = secrets.token_hex(4)
        self._lock = threading.Lock()
        self._count: dict[str, int] = defaultdict(int)

    @contextmanager
    def next(self, key: str) -> Iterator[tuple[int, str]]:
        with self._lock:
            self._count[key] += 1
            yield self._count[key], self.epoch

    def last(self, key: str) -> tuple[int, str]:
        with self._lock:
            return self._count[key], self.epoch

    def send(
        self, socketio: Any, event: str, data: dict[str, Any], namespace: str, to: str
    ) -> None:
        socketio.emit(event, data, namespace=namespace, to=to)


class RedisSequence:
    """The count of every process that shares this Redis."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        import redis  # the `redis` extra, needed by the message queue anyway
        import socketio

        self.client = redis.Redis.from_url(url)
        self._script = self.client.register_script(_NEXT)
        self._epoch_key = f"{PREFIX}:epoch"
        # publishes only: every server process, this one included, delivers from Redis
        self._publisher = socketio.RedisManager(url, channel=channel, write_only=True)

    def _counted(self, key: str, step: int) -> tuple[int, str]:
        number, epoch = self._script(
            keys=[f"{PREFIX}:seq:{key}", self._epoch_key], args=[secrets.token_hex(4), step]
        )
        return int(number), epoch.decode() if isinstance(epoch, bytes) else str(epoch)

    @contextmanager
    def next(self, key: str) -> Iterator[tuple[int, str]]:
        lock = self.client.lock(
            f"{PREFIX}:lock:{key}", timeout=LOCK_TIMEOUT_S, blocking_timeout=LOCK_TIMEOUT_S
        )
        with lock:
            yield self._counted(key, 1)

    def last(self, key: str) -> tuple[int, str]:
        return self._counted(key, 0)

    def send(
        self, socketio: Any, event: str, data: dict[str, Any], namespace: str, to: str
    ) -> None:
        self._publisher.emit(event, data, namespace=namespace, room=to)


def for_queue(message_queue: str | None) -> Sequence:
    """Redis's count when the processes share a Redis message queue, else this process's."""
    if message_queue and bus.is_redis(message_queue):
        return RedisSequence(message_queue)
    return LocalSequence()
