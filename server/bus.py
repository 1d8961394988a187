"""Telling the other server processes what this one changed, so that they forget it too.

Each process remembers a few things for seconds (the principal behind a token, the
configuration, a kiosk's printer, which phrases are recorded: server/cache.py) and holds
its own Socket.IO connections. A change made through one process is forgotten there at
once; the others must hear of it, or a token signed out on one would keep working on
another until its cache ran out, and a display whose device was revoked would stay
connected to the process that holds it.

`announce(kind, value)` runs this process's handlers for `kind` at once and, when the
processes share a Redis (SEIRA_MESSAGE_QUEUE=redis://...), publishes it there for the
others, whose listening thread runs their handlers. Announcements carry codes and ids,
never anything about a visitor. One process (the default) needs no Redis: the handlers
simply run.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "seira:bus"

Handler = Callable[[Any], None]
_handlers: dict[str, list[Callable[[], Handler | None]]] = defaultdict(list)
_lock = threading.Lock()
_redis: Any = None  # the client announcements are published with, once configured
# this process, made when it is configured (after a fork, in each worker): its own
# announcements, heard back from Redis, are not run twice
_origin = ""
_pid = 0


def on(kind: str, handler: Handler) -> None:
    """Run `handler(value)` for each announcement of `kind`, made here or elsewhere. A
    bound method is held weakly: the object it belongs to (a hub of one app) may go."""
    # a plain function lives as long as its module
    ref: Callable[[], Handler | None] = (
        weakref.WeakMethod(handler) if hasattr(handler, "__self__") else lambda: handler  # type: ignore[arg-type]
    )
    with _lock:
        _handlers[kind].append(ref)


def announce(kind: str, value: Any = None) -> None:
    """This process changed `kind` (for `value`): handle it here, then tell the others."""
    _run(kind, value)
    if _redis is not None:
        message = json.dumps({"kind": kind, "value": value, "origin": _origin})
        try:
            _redis.publish(CHANNEL, message)
        except Exception:  # the others then catch up when their caches run out
            log.exception("could not tell the other processes of %s", kind)


def _run(kind: str, value: Any) -> None:
    with _lock:
        refs = list(_handlers.get(kind, ()))
    for ref in refs:
        handler = ref()
        if handler is None:
            continue
        try:
            handler(value)
        except Exception:
            log.exception("handling %s failed", kind)


def is_redis(message_queue: str | None) -> bool:
    """Whether the processes share this message queue through Redis (its URL schemes)."""
    return bool(message_queue) and message_queue.startswith(("redis://", "rediss://", "unix://"))


def configure(message_queue: str | None, listen: bool = True) -> None:
    """Share announcements through this Redis (anything else: this process alone), and
    with `listen` start the thread that hears the other processes' announcements (a
    command that only makes changes needs none). Once per process: a worker forked from
    a configured parent (whose thread did not come with it) is configured afresh."""
    global _redis, _origin, _pid
    if (_redis is not None and _pid == os.getpid()) or not is_redis(message_queue):
        return
    import redis  # the `redis` extra, needed by the message queue anyway

    _pid, _origin = os.getpid(), secrets.token_hex(8)
    _redis = redis.Redis.from_url(message_queue)
    if listen:
        threading.Thread(target=_listen, args=(message_queue,), name="bus", daemon=True).start()


def _listen(url: str) -> None:
    """Run the handlers of every other process's announcement; reconnect if Redis goes."""
    import time

    import redis

    while True:
        try:
            pubsub = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(CHANNEL)
            for message in pubsub.listen():
                data = json.loads(message["data"])
                if data.get("origin") != _origin:
                    _run(str(data["kind"]), data.get("value"))
        except Exception:
            log.exception("listening to the other processes failed; again in a second")
            time.sleep(1.0)


def shared() -> bool:
    """Whether this process's announcements reach the others (it is configured with Redis)."""
    return _redis is not None


def reset() -> None:
    """Back to this process alone (for tests that configured a Redis they then stop)."""
    global _redis
    _redis = None
