"""`seira backup` while a real server issues tickets, `seira restore` refused while it
serves and done once it is stopped; and the files that hold visit data readable by the
service's user only."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from server.backup import BackupError, backup, restore
from tests.liveserver import LiveServer

DATA = Path(__file__).with_name("data")


def seira(live: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEIRA_DATABASE_URL": live.database_url}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=env,
        cwd=live.dir,
        capture_output=True,
        text=True,
        timeout=60,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def tickets(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT id, code FROM tickets ORDER BY id").fetchall()


class Issuing(threading.Thread):
    """Kiosks issuing one after another until stopped; keeps what was acknowledged."""

    def __init__(self, live: LiveServer, kiosks: list[str]) -> None:
        super().__init__()
        self.live, self.kiosks = live, kiosks
        self.stop = threading.Event()
        self.issued: list[dict[str, Any]] = []
        self.start()

    def run(self) -> None:
        session = requests.Session()
        while not self.stop.is_set() and self.kiosks:
            response = session.post(
                f"{self.live.url}/api/v1/sites/test-centre/tickets",
                json={"service": "general", "reason": "other", "lang": "uk"},
                headers={"Authorization": f"Bearer {self.kiosks[0]}"},
                timeout=30,
            )
            if response.status_code == 429:  # this kiosk's limit for the minute
                self.kiosks.pop(0)
            else:
                assert response.status_code == 201, response.text
                self.issued.append(response.json())


def test_backup_while_serving_then_restore_into_the_stopped_server() -> None:
    with LiveServer(DATA / "eight_counters.toml") as live:
        kiosks = [live.add_device("test-centre", "kiosk", f"k{i}") for i in range(5)]
        issuing = Issuing(live, kiosks)
        while len(issuing.issued) < 20:
            issuing.join(0.05)
        before = list(issuing.issued)
        copy = live.dir / "backups" / "seira-copy.db"
        copy.parent.mkdir()
        made = seira(live, "backup", str(copy))
        issuing.stop.set()
        issuing.join()
        assert made.returncode == 0, made.stderr
        assert "backup written to" in made.stdout
        assert mode(copy) == 0o600
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        saved = tickets(copy)
        assert {t["id"] for t in before} <= {tid for tid, _ in saved}
        assert [code for _, code in saved] == [f"A{n:03d}" for n in range(1, len(saved) + 1)]
        assert len(issuing.issued) >= len(saved)

        with pytest.raises(BackupError, match="in use by a running server"):
            restore(live.db, copy)  # the server is running

        live.stop()
        live.db.dispose()  # this test's own connections, or the database is still open
        restored = seira(live, "restore", str(copy))
        assert restored.returncode == 0, restored.stderr
        database = live.dir / "seira.db"
        assert tickets(database) == saved
        assert mode(database) == 0o600
        with sqlite3.connect(database) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        kept = [p for p in live.dir.iterdir() if p.name.startswith("seira.db.before-restore-")]
        assert len(kept) == 1 and len(tickets(kept[0])) == len(issuing.issued)
        assert not (live.dir / "seira.db-wal").exists()  # no old log to replay onto the copy

        live.start()  # the restored database serves, and numbers on from the copy
        response = requests.post(
            f"{live.url}/api/v1/sites/test-centre/tickets",
            json={"service": "general", "reason": "other", "lang": "uk"},
            headers={"Authorization": f"Bearer {live.add_device('test-centre', 'kiosk')}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        assert response.json()["number"] == f"A{len(saved) + 1:03d}"


def test_restore_takes_only_a_sound_seira_database(tmp_path: Path) -> None:
    with LiveServer(DATA / "eight_counters.toml") as live:
        live.stop()
        before = tickets(live.dir / "seira.db")
        not_seira = tmp_path / "other.db"
        with sqlite3.connect(not_seira) as conn:
            conn.execute("CREATE TABLE notes (x)")
        text_file = tmp_path / "notes.txt"
        text_file.write_text("not a database at all\n" * 100)
        for wrong in (not_seira, text_file):
            with pytest.raises(BackupError, match="is not a Seira database"):
                restore(live.db, wrong)
        assert tickets(live.dir / "seira.db") == before


def test_the_files_holding_visits_are_readable_by_their_owner_only() -> None:
    old = os.umask(0o022)  # a usual umask: the server must not rely on a strict one
    try:
        with LiveServer(DATA / "eight_counters.toml") as live:
            live.add_device("test-centre", "kiosk")  # a write: the log files exist now
            names = ["seira.db", "seira.db-wal", "seira.db-shm", "seira.db.lock"]
            names.append("seira.db.serving")
            for name in names:
                assert mode(live.dir / name) == 0o600, name
            copy = live.dir / "copy.db"
            backup(live.db, copy)
            assert mode(copy) == 0o600
    finally:
        os.umask(old)
