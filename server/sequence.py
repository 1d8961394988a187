"""Sequence numbers for live events: one count per namespace and site, and an epoch.

Displays and counter pages check that each event's `seq` follows the last one they saw,
and ask for a snapshot when it does not (docs/realtime.md). That only works if every
process numbers a site's events from one count, in the order the events are sent, so a
number is given and its event sent in one step:

- one process (the default): the count is kept in memory and the epoch is new at each
  start, so a restarted server makes every client take a snapshot;
- several processes or hosts with Redis as the message queue: the count and the epoch
  are kept in that Redis, and one script run there counts and publishes the event with
  its number (Redis runs a script whole, one at a time, so the numbers go out in the
  order they were given, whichever process asked). Numbered events are only published
  to Redis, never handed straight to this process's own clients (they could then get a
  later number before an earlier one still on its way from another process): every
  process, this one too, delivers them from Redis. A Redis that lost its data gets a new
  epoch, which sends every client for a snapshot, as a restart does.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import defaultdict
from typing import Any, Protocol

from socketio import PubSubManager

from . import bus

PREFIX = "seira:live"
CHANNEL = "flask-socketio"  # Flask-SocketIO's channel on the message queue, its default
# Count (ARGV[2] is 1, or 0 to read the count) and, given a message, publish it on channel
# ARGV[3] with the number and the epoch put between its parts ARGV[4..6]. The epoch is
# made by the first process that needs it.
_COUNT_AND_PUBLISH = """
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[2], epoch)
end
local seq = redis.call('INCRBY', KEYS[1], tonumber(ARGV[2]))
if ARGV[3] ~= '' then
  redis.call('PUBLISH', ARGV[3], ARGV[4] .. seq .. ARGV[5] .. epoch .. ARGV[6])
end
return {seq, epoch}
"""
# placeholders for the number and the epoch in a message, cut out before it is published
_SEQ = "\u0000seq\u0000"
_EPOCH = "\u0000epoch\u0000"


class Sequence(Protocol):
    def send(
        self, socketio: Any, key: str, event: str, data: dict[str, Any], namespace: str, to: str
    ) -> None:
        """Send the event with the next number of `key` and the epoch (its `seq` and
        `epoch`), in one step."""
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

    def send(
        self, socketio: Any, key: str, event: str, data: dict[str, Any], namespace: str, to: str
    ) -> None:
        with self._lock:
            self._count[key] += 1
            payload = {**data, "seq": self._count[key], "epoch": self.epoch}
            socketio.emit(event, payload, namespace=namespace, to=to)

    def last(self, key: str) -> tuple[int, str]:
        with self._lock:
            return self._count[key], self.epoch


class RedisSequence:
    """The count of every process that shares this Redis."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        import redis  # the `redis` extra, needed by the message queue anyway

        self.client = redis.Redis.from_url(url)
        self.channel = channel
        self._script = self.client.register_script(_COUNT_AND_PUBLISH)
        self._epoch_key = f"{PREFIX}:epoch"
        self._messages = _Messages(channel)

    def _run(self, key: str, step: int, parts: tuple[str, str, str] | None) -> tuple[int, str]:
        number, epoch = self._script(
            keys=[f"{PREFIX}:seq:{key}", self._epoch_key],
            args=[secrets.token_hex(4), step, self.channel if parts else "", *(parts or ("",) * 3)],
        )
        return int(number), epoch.decode() if isinstance(epoch, bytes) else str(epoch)

    def send(
        self, socketio: Any, key: str, event: str, data: dict[str, Any], namespace: str, to: str
    ) -> None:
        message = self._messages.of(event, {**data, "seq": _SEQ, "epoch": _EPOCH}, namespace, to)
        head, rest = message.split(json.dumps(_SEQ))
        middle, tail = rest.split(json.dumps(_EPOCH))
        self._run(key, 1, (head, f'{middle}"', f'"{tail}'))

    def last(self, key: str) -> tuple[int, str]:
        return self._run(key, 0, None)


class _Messages(PubSubManager):
    """Socket.IO's own message for an emit through the queue, as every process's manager
    reads it: its format is python-socketio's business, so its manager makes it, and
    this one keeps it instead of publishing it."""

    def __init__(self, channel: str) -> None:
        super().__init__(channel=channel, write_only=True)
        self._made = threading.local()  # lanes make messages side by side

    def of(self, event: str, data: dict[str, Any], namespace: str, to: str) -> str:
        self.emit(event, data, namespace=namespace, room=to)
        return self.json.dumps(self._made.message)

    def _handle_emit(self, message: dict[str, Any]) -> None:
        """Nobody is connected to this manager."""

    def _publish(self, data: dict[str, Any]) -> None:
        self._made.message = data


def for_queue(message_queue: str | None) -> Sequence:
    """Redis's count when the processes share a Redis message queue, else this process's."""
    if message_queue and bus.is_redis(message_queue):
        return RedisSequence(message_queue)
    return LocalSequence()
