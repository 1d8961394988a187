"""Database engine and transactions: one place that knows SQLite's and PostgreSQL's quirks.

SQLite allows one writer at a time. Letting writers race for its file lock makes them
sleep in SQLite's busy handler (milliseconds each), so write transactions queue on a
WriteLock instead (threads and processes alike) and open with BEGIN IMMEDIATE.
PostgreSQL needs neither: the store takes row locks where order matters.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_PATH = Path("instance") / "seira.db"
T = TypeVar("T")


def database_url() -> str:
    """`SEIRA_DATABASE_URL`, or an SQLite file in ./instance/."""
    url = os.environ.get("SEIRA_DATABASE_URL")
    if url:
        return url
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH.resolve()}"


def _prepare_sqlite(engine: Engine, background_checkpoints: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA journal_size_limit=16777216")  # the log file shrinks back after bursts
        if background_checkpoints:
            # a commit that triggers the automatic checkpoint copies the log into the
            # database before it returns: 10-20 ms for one unlucky request. The server's
            # housekeeping thread checkpoints instead (see checkpoint()).
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class WriteLock:
    """SQLite's one writer at a time, as a lock that waits without polling.

    Threads of this process queue on a mutex; processes (several server workers, the
    CLI) on an flock of a file beside the database. Both wake the next writer the moment
    the lock is free, where SQLite's own busy handler would sleep and retry.
    """

    def __init__(self, database_path: str | None) -> None:
        self._threads = threading.Lock()
        self._path = f"{database_path}.lock" if database_path else None
        self._file: IO[str] | None = None

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._path is None:
            return
        try:
            if self._file is None:
                self._file = open(self._path, "a")  # noqa: SIM115 - kept open for the lock
            fcntl.flock(self._file, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_UN)
        finally:
            self._threads.release()


class Database:
    """An engine, a session factory and the write discipline that goes with them."""

    def __init__(self, url: str | None = None, *, background_checkpoints: bool = False) -> None:
        self.url = url or database_url()
        self.is_sqlite = self.url.startswith("sqlite")
        # parameters can hold a visit reason: keep them out of logs and error messages
        kwargs: dict = {"hide_parameters": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        else:
            kwargs.update(pool_size=20, max_overflow=20, pool_pre_ping=True)
        self.engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _prepare_sqlite(self.engine, background_checkpoints)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # how a long blocking call (a checkpoint's disk writes and syncs) is run: here and
        # now, or, where the server runs on an event loop, in a real thread (see serve.py)
        self.offload: Callable[[Callable[[], Any]], Any] = _call
        self._write_lock: WriteLock | None = None
        if self.is_sqlite:
            path = make_url(self.url).database
            self._write_lock = WriteLock(path if path and path != ":memory:" else None)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short session for queries; nothing it changes is kept."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        with self._write_lock or nullcontext(), self._sessions() as session:
            if self.is_sqlite:
                session.connection(execution_options={"sqlite_immediate": True})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Like write(), for SQLAlchemy Core: the store's hot paths skip the ORM session."""
        with self.engine.connect() as conn, self.writing(conn):
            yield conn

    @contextmanager
    def writing(self, conn: Connection) -> Iterator[None]:
        """One write transaction on `conn`, holding the write lock for as short as can be.

        The caller keeps the connection afterwards for reads that need no lock.
        """
        with self._write_lock or nullcontext():
            if self.is_sqlite:
                conn.execution_options(sqlite_immediate=True)
            try:
                with conn.begin():
                    yield
            finally:
                if self.is_sqlite:
                    conn.execution_options(sqlite_immediate=False)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection for reads."""
        with self.engine.connect() as conn:
            yield conn

    def checkpoint(self) -> None:
        """Copy SQLite's write-ahead log into the database file, barely pausing writers.

        The bulk is copied while writers go on; the few pages they added meanwhile are
        copied with writers paused, so that the next write rewinds the log instead of
        growing it forever under steady load.
        """
        if not self.is_sqlite:
            return
        conn = self.engine.raw_connection()
        try:
            checkpoint = partial(conn.driver_connection.execute, "PRAGMA wal_checkpoint(PASSIVE)")
            self.offload(checkpoint)
            with self._write_lock or nullcontext():
                self.offload(checkpoint)
        finally:
            conn.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _call(function: Callable[[], Any]) -> Any:
    return function()


class PerDatabase(Generic[T]):
    """One object per Database, made on first use and dropped with the Database: the
    caches and workers that belong to one database (tests open many)."""

    def __init__(self, factory: Callable[[Database], T]) -> None:
        self._factory = factory
        self._items: weakref.WeakKeyDictionary[Database, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, db: Database) -> T:
        with self._lock:
            item = self._items.get(db)
            if item is None:
                item = self._items[db] = self._factory(db)
            return item
