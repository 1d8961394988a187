"""Backing up and restoring an SQLite database: a consistent copy while the server runs,
and the copy put back while it does not.

The copy is made with SQLite's online backup API inside one read transaction: in WAL mode
that sees the database as of one commit and holds up no writer, so kiosks keep issuing
while it runs. Copies are written beside their destination and renamed into place, mode
0600 from the start: they hold the same visit data as the database. PostgreSQL has its
own tools (pg_dump, pg_restore), which these functions only point to.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from alembic.config import Config
from alembic.script import ScriptDirectory

from .db import Database
from .migrate import MIGRATIONS

PG_GUIDANCE = (
    "This database is PostgreSQL: back it up with its own tool, which is consistent while "
    "Seira serves:\n"
    "  pg_dump --format=custom --file seira.dump 'postgresql://USER@HOST/DBNAME'\n"
    "and restore it, with the server stopped, into an empty database:\n"
    "  pg_restore --clean --if-exists --no-owner --dbname 'postgresql://USER@HOST/DBNAME' "
    "seira.dump\n"
    "Keep the dump readable by the service's user only (umask 077)."
)


class BackupError(Exception):
    """Why a backup or a restore was not done; nothing was changed."""


@dataclass(frozen=True)
class Copy:
    path: Path
    revision: str
    tickets: int


def sqlite_path(db: Database) -> Path:
    if not db.is_sqlite:
        raise BackupError(PG_GUIDANCE)
    if db.path is None:
        raise BackupError("this database is not a file: there is nothing to copy")
    return Path(db.path)


def hold_serving_lock(db: Database) -> None:
    """For each server process: a shared flock beside the database, kept until the process
    ends (the kernel lets it go however it ends), so that a restore, which needs it
    exclusively, can tell that the database is in use."""
    if db.path is not None:
        lock = _private_file(Path(f"{db.path}.serving"))
        fcntl.flock(lock, fcntl.LOCK_SH)
        _held.append(lock)


_held: list[IO[str]] = []  # the serving locks of this process, open for its lifetime


def backup(db: Database, destination: Path) -> Copy:
    """Write a consistent copy of the database to `destination` (0600), while it serves."""
    source_path = sqlite_path(db)
    temporary = destination.with_name(f".{destination.name}.partial")
    _private_file(temporary, truncate=True).close()
    source = sqlite3.connect(source_path)
    try:
        target = sqlite3.connect(temporary)
        try:
            source.backup(target)  # every page in one step: one read transaction, one commit
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            copy = _check(target, destination)
        finally:
            target.close()
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    _sync(temporary)
    os.replace(temporary, destination)
    return copy


def restore(db: Database, backup_file: Path) -> tuple[Copy, Path]:
    """Put `backup_file` in place of the database, which no server may be using; the
    database it replaces is kept beside it. Returns the copy and where the old one went."""
    target = sqlite_path(db)
    lock = _private_file(Path(f"{target}.serving"))
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                "the database is in use by a running server: stop it (seira serve) first"
            ) from None
        with sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True) as check:
            copy = _check(check, backup_file)
        temporary = target.with_name(f".{target.name}.restoring")
        _private_file(temporary, truncate=True).close()
        with sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True) as source:
            target_conn = sqlite3.connect(temporary)
            try:
                source.backup(target_conn)
                target_conn.execute("PRAGMA journal_mode=DELETE")
            finally:
                target_conn.close()
        _sync(temporary)
        kept = target.with_name(f"{target.name}.before-restore-{_stamp()}")
        if target.exists():
            _settle(target)  # its write-ahead log folded in, so none is left to misapply
            os.replace(target, kept)
        os.replace(temporary, target)
        return copy, kept
    finally:
        lock.close()


def _check(conn: sqlite3.Connection, path: Path) -> Copy:
    """The file is a sound Seira database at a revision of our migrations."""
    try:
        sound = conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        tickets = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a Seira database: {exc}") from None
    if not sound:
        raise BackupError(f"{path} fails SQLite's integrity check")
    known = {r.revision for r in _scripts().walk_revisions()}
    if revision is None or revision[0] not in known:
        raise BackupError(f"{path} is at a schema version this Seira does not know: {revision}")
    return Copy(path, revision[0], int(tickets))


def is_current(copy: Copy) -> bool:
    return copy.revision == _scripts().get_current_head()


def _scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def _settle(path: Path) -> None:
    """Fold the database's write-ahead log into it, which needs every other connection
    gone: a program that still has it open is the second sign that it is in use."""
    conn = sqlite3.connect(path, timeout=1)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.OperationalError as exc:
        message = f"the database is open in another program ({exc}): close it first"
        raise BackupError(message) from None
    finally:
        conn.close()


def _private_file(path: Path, truncate: bool = False) -> IO[str]:
    flags = os.O_CREAT | os.O_WRONLY | (os.O_TRUNC if truncate else os.O_APPEND)
    return os.fdopen(os.open(path, flags, 0o600), "a")


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
