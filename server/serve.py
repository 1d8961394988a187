"""Run the app under gunicorn: worker processes with threads.

One worker (the default) is all a centre needs and keeps everything in one process;
more workers spread a busy server over more cores (SQLite writers still queue on the
database's WriteLock, across processes).
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from .app import create_app
from .db import Database
from .housekeeping import start_housekeeping


class _Server(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        # runs in the worker, after the fork: database connections and threads start here
        db = Database(background_checkpoints=True)
        app = create_app(db)
        start_housekeeping(db)
        return app


def run(
    host: str, port: int, threads: int = 128, access_log: bool = False, workers: int = 1
) -> None:
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "keepalive": 30,
            "accesslog": "-" if access_log else None,
            "graceful_timeout": 5,
            "control_socket_disable": True,
        }
    ).run()
