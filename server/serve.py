"""Run the app under gunicorn with gevent workers.

A request spends most of its time in Python, and under threads each SQLite call releases
the interpreter lock and must queue to get it back behind every other request thread: a
write transaction then holds SQLite's lock several times longer than its work takes. In a
gevent worker one OS thread runs every request, switching only where one waits on a
socket, so a transaction runs start to finish without waiting, and an open websocket (a
display, a counter page, a phone) costs a greenlet instead of a thread. The worker
monkey-patches the standard library before it loads the app, so the code written with
threads (the realtime hub, print jobs, housekeeping) runs unchanged.
What would hold that one thread for long without a socket to wait on (a checkpoint's
disk writes, drawing a printed ticket, a wait for a database lock another program holds)
goes to gevent's pool of real threads instead, through `Database.offload` and
`Database.threads`.

One worker (the default) is all a centre needs and keeps everything in one process;
more workers spread a busy server over more cores (SQLite writers still queue on the
database's WriteLock, across processes).
"""

from __future__ import annotations

import gc
from typing import Any

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        # runs in the worker, after the fork and the monkey-patching: the Socket.IO and
        # websocket libraries are imported, and the database, its locks and the
        # background threads made, with gevent's threading in place. (The few locks made
        # when the command line was imported guard dictionaries and are never held
        # across a wait, so they cannot stall the worker.)
        import gevent
        from gevent.threadpool import ThreadPoolExecutor

        from .app import create_app
        from .backup import hold_serving_lock
        from .db import Database
        from .housekeeping import start_housekeeping, sweep_intervals

        db = Database(background_checkpoints=True)
        # a checkpoint writes and syncs megabytes under load (30-60 ms), and a wait for a
        # lock another program holds lasts up to Database.write_wait_s: in the event
        # loop's own thread either would stall every request for that long
        db.offload = gevent.get_hub().threadpool.apply
        db.threads = ThreadPoolExecutor(max_workers=2)
        hold_serving_lock(db)  # `seira restore` refuses while any worker holds it
        app = create_app(db)
        # in every worker; the sweeps run in the one that leads (server/leader.py)
        sweep_every_s, purge_every_s = sweep_intervals()
        start_housekeeping(
            db,
            sweep_every_s=sweep_every_s,
            purge_every_s=purge_every_s,
            at_closing=app.config["OPENING_HOURS"] != "ignore",
            printing=app.extensions["seira.desk"].printing,
        )
        # The app's own objects (about 140,000: routes, catalogs, schemas, SQL) live as
        # long as the worker. Left to the garbage collector, every full collection walks
        # them all, a 100 ms pause in the middle of whichever call is running; frozen,
        # collections walk only what was made since.
        gc.collect()
        gc.freeze()
        return app


def _take_turns(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """After each request, let the other connections' greenlets run before this one reads
    its next request. A request never waits on a socket halfway, so without this a client
    that sends again at once keeps the worker to itself and the others wait: with eight
    kiosks issuing flat out, one ticket in a hundred waited 250 ms; with it, 16 ms."""
    import gevent  # in the worker, where gevent is in charge

    gevent.sleep(0)


def run(
    host: str,
    port: int,
    connections: int = 1000,
    access_log: bool = False,
    workers: int = 1,
) -> None:
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gevent",
            "worker_connections": connections,
            "keepalive": 30,
            "accesslog": "-" if access_log else None,
            "logger_class": "server.access_log.PrivateLogger",  # no secret of a URL
            "graceful_timeout": 5,
            "control_socket_disable": True,
            "post_request": _take_turns,
        }
    ).run()
