"""A throwaway Seira server on a fresh database, for the tests and the benchmarks.

It runs the real `seira serve` in a child process on 127.0.0.1, so what is measured and
tested is what a centre runs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from server import auth, migrate, siteconfig
from server.db import Database

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "server" / "sites" / "thessaloniki.toml"
PASSWORD = "sandbox-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """Prepare a database with the given configuration, then serve it in a child process.

    The database is a fresh SQLite file unless `database_url` names an empty one.
    """

    def __init__(
        self,
        config: Path = DEFAULT_CONFIG,
        workers: int = 1,
        database_url: str | None = None,
        opening_hours: str = "ignore",  # tests run at any hour; "enforce" to test the hours
        access_log: bool = False,  # `seira serve --access-log`, into server.log
        message_queue: str | None = None,  # SEIRA_MESSAGE_QUEUE: redis://... for several
        connections: int | None = None,  # `seira serve --connections`: open ones per worker
    ) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="seira-"))
        self.database_url = database_url or f"sqlite:///{self.dir / 'seira.db'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.opening_hours = opening_hours
        self.access_log = access_log
        self.message_queue = message_queue
        self.connections = connections
        self.process: subprocess.Popen[bytes] | None = None
        db = Database(self.database_url)
        migrate.upgrade(db)
        siteconfig.load(db, config)
        self.db = db

    def add_staff(self, username: str, site: str, role: str = "staff") -> str:
        """Create a user and return a bearer token signed in through the API."""
        auth.add_user(self.db, username, PASSWORD, role, site)
        return self.sign_in(username)

    def sign_in(self, username: str) -> str:
        body = json.dumps({"username": username, "password": PASSWORD}).encode()
        request = urllib.request.Request(
            self.url + "/api/v1/auth/token", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(json.load(response)["token"])

    def add_device(self, site: str, kind: str, name: str = "sandbox") -> str:
        return auth.add_device(self.db, site, kind, name)

    def start(self, timeout: float = 20.0) -> LiveServer:
        env = {**os.environ, "SEIRA_DATABASE_URL": self.database_url}
        env["SEIRA_SECRET_KEY"] = "sandbox"
        env["SEIRA_OPENING_HOURS"] = self.opening_hours
        if self.message_queue:
            env["SEIRA_MESSAGE_QUEUE"] = self.message_queue
        log = open(self.dir / "server.log", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                *(["--access-log"] if self.access_log else []),
                *(["--connections", str(self.connections)] if self.connections else []),
            ],
            env=env,
            cwd=self.dir,
            # the access log goes to standard output: kept with the rest if asked for
            stdout=log if self.access_log else subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # its own process group: kill() takes the workers too
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + (self.dir / "server.log").read_text())
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health", timeout=1):
                    return self
            except urllib.error.HTTPError:  # it answers, if only to say the database is not well
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Kill the server and its workers at once, as a power cut would (no clean close)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def close(self) -> None:
        self.stop()
        self.db.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
