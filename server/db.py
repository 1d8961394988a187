"""Database engine and transactions: one place that knows SQLite's and PostgreSQL's quirks.

SQLite allows one writer at a time. Letting writers race for its file lock makes them
sleep in SQLite's busy handler (milliseconds each), so write transactions queue on a
WriteLock instead (threads and processes alike) and open with BEGIN IMMEDIATE.
PostgreSQL needs neither: the store takes row locks where order matters.

A write waits for the database at most `write_wait_s`, and never in the thread that runs
the server's event loop: a lock held elsewhere (another program, a backup, a second
worker stuck) is waited for in a real thread, and a write that cannot have the database
in time, or that the disk refuses, is refused with `Unavailable` (503) and changes
nothing. Reads go on meanwhile: in WAL mode they need no lock.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from .errors import Unavailable

DEFAULT_SQLITE_PATH = Path("instance") / "seira.db"
WRITE_WAIT_S = 5.0  # the longest a write waits for the database before it is refused
PROBE_WAIT_S = 0.5  # the health check's own write waits less: it must answer quickly
PROBE_EVERY_S = 2.0  # the health check writes at most this often; writes seen count too
READ_BUSY_MS = 100  # a reader meets a lock only in rare moments (recovery after a crash)
T = TypeVar("T")

# SQLite's primary result codes (the low byte of an extended code), and what each means
# to a visitor or a member of staff waiting for their write
_SQLITE_FAULTS = {
    5: "database_busy",  # SQLITE_BUSY
    6: "database_busy",  # SQLITE_LOCKED
    8: "database_read_only",  # SQLITE_READONLY
    10: "database_io_error",  # SQLITE_IOERR: the disk refused a write or a sync
    13: "database_full",  # SQLITE_FULL
    14: "database_unavailable",  # SQLITE_CANTOPEN
}
# PostgreSQL's SQLSTATE classes and codes, likewise
_PG_FAULTS = {
    "08": "database_unavailable",  # connection exception
    "53": "database_full",  # insufficient resources (disk full, out of memory)
    "25006": "database_read_only",  # read_only_sql_transaction (a standby)
    "55P03": "database_busy",  # lock_not_available
    "57014": "database_busy",  # query_canceled (a statement or lock timeout)
}
_MESSAGES = {
    "database_busy": "the database is in use by another program; try again in a moment",
    "database_full": "the database's disk is full; nothing was written",
    "database_read_only": "the database cannot be written to; nothing was written",
    "database_io_error": "the database's disk refused the write; nothing was written",
    "database_unavailable": "the database cannot be reached; nothing was written",
}


def unavailable(code: str) -> Unavailable:
    return Unavailable(_MESSAGES[code], code)


def fault_of(exc: BaseException) -> str | None:
    """The fault code of a driver error that is the database's state, not our bug (a
    missing column is an OperationalError too, and must stay a 500)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, sqlite3.Error):
        return _SQLITE_FAULTS.get(getattr(orig, "sqlite_errorcode", 0) & 0xFF)
    sqlstate = str(getattr(orig, "sqlstate", "") or "")
    return _PG_FAULTS.get(sqlstate) or _PG_FAULTS.get(sqlstate[:2])


def database_url() -> str:
    """`SEIRA_DATABASE_URL`, or an SQLite file in ./instance/ (readable by its owner only)."""
    url = os.environ.get("SEIRA_DATABASE_URL")
    if url:
        return url
    DEFAULT_SQLITE_PATH.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH.resolve()}"


def keep_private(path: str) -> None:
    """The database file, its -wal and -shm files: readable and writable by the service's
    user only. SQLite gives the -wal and -shm files the database file's mode, so creating
    that one 0600 is enough; files from before are narrowed here."""
    if not os.path.exists(path):
        # a new install's folder too (SEIRA_DATABASE_URL=sqlite:////var/lib/seira/seira.db)
        os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for name in (path, f"{path}-wal", f"{path}-shm", f"{path}.lock"):
        try:
            info = os.stat(name)
            if info.st_mode & 0o077 and info.st_uid == os.geteuid():
                os.chmod(name, 0o600)
        except FileNotFoundError:
            pass
        except PermissionError:  # an immutable file: it is served read-only, as it is
            pass


def _prepare_sqlite(engine: Engine, background_checkpoints: bool, db: Database) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={READ_BUSY_MS}")
        cur.execute("PRAGMA journal_mode=WAL")
        # every commit is on disk before it is acknowledged: a ticket given out survives a
        # power cut (docs/benchmarks.md: what it costs)
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_size_limit=16777216")  # the log file shrinks back after bursts
        if background_checkpoints:
            # a commit that triggers the automatic checkpoint copies the log into the
            # database before it returns: 10-20 ms for one unlucky request. The server's
            # housekeeping thread checkpoints instead (see checkpoint()).
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        deadline = conn.get_execution_options().get("sqlite_immediate")
        if deadline is None:
            conn.exec_driver_sql("BEGIN")
        else:
            db.begin_immediate(conn.connection.driver_connection, deadline)


class WriteLock:
    """SQLite's one writer at a time, as a lock that waits without polling, for a bounded
    time and off the event loop.

    Threads of this process queue on a mutex; processes (several server workers, the
    CLI) on an flock of a file beside the database. Both wake the next writer the moment
    the lock is free, where SQLite's own busy handler would sleep and retry. When another
    process holds the flock, the wait for it runs in a real thread (`threads`): a
    blocking flock in the event loop's thread would stop every request. A wait that
    outlasts its writer's deadline is left running for the next writer to take over, so
    one thread at most waits however many writers give up.
    """

    def __init__(self, database_path: str | None, threads: Callable[[], Executor]) -> None:
        self._threads = threading.Lock()
        self._path = f"{database_path}.lock" if database_path else None
        self._file: IO[str] | None = None
        self._held: IO[str] | None = None
        self._pending: tuple[Future[None], IO[str]] | None = None
        self._executor = threads

    def _open(self) -> IO[str]:
        assert self._path is not None
        return os.fdopen(os.open(self._path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600), "a")

    def acquire(self, deadline: float) -> None:
        """Hold the lock, or raise Unavailable('database_busy') at `deadline` (monotonic)."""
        if not self._threads.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise unavailable("database_busy")
        if self._path is None:
            return
        try:
            self._held = self._lock_file(deadline)
        except BaseException:
            self._threads.release()
            raise

    def _lock_file(self, deadline: float) -> IO[str]:
        if self._pending is None:
            if self._file is None:
                self._file = self._open()
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self._file
            except BlockingIOError:
                waiter = self._open()  # its own open file: its flock is its own
                wait = self._executor().submit(fcntl.flock, waiter, fcntl.LOCK_EX)
                self._pending = (wait, waiter)
        future, waiter = self._pending
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise unavailable("database_busy") from None
        except BaseException:
            self._pending = None
            waiter.close()
            raise
        self._pending = None
        return waiter

    def release(self) -> None:
        try:
            held, self._held = self._held, None
            if held is self._file and held is not None:
                fcntl.flock(held, fcntl.LOCK_UN)
            elif held is not None:
                held.close()  # a waiter's own file: closing it lets the lock go
        finally:
            self._threads.release()

    @contextmanager
    def held(self, deadline: float) -> Iterator[None]:
        self.acquire(deadline)
        try:
            yield
        finally:
            self.release()


class Database:
    """An engine, a session factory and the write discipline that goes with them."""

    def __init__(
        self,
        url: str | None = None,
        *,
        background_checkpoints: bool = False,
        write_wait_s: float = WRITE_WAIT_S,
    ) -> None:
        self.url = url or database_url()
        self.is_sqlite = self.url.startswith("sqlite")
        self.write_wait_s = write_wait_s
        # parameters can hold a visit reason: keep them out of logs and error messages
        kwargs: dict = {"hide_parameters": True}
        path = make_url(self.url).database if self.is_sqlite else None
        # a file's path; not for an in-memory database or a URI (file:...?mode=ro)
        self.path = path if path and path != ":memory:" and "uri=true" not in self.url else None
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": READ_BUSY_MS / 1000}
            if self.path:
                keep_private(self.path)
        else:
            kwargs.update(pool_size=20, max_overflow=20, pool_pre_ping=True)
        self.engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _prepare_sqlite(self.engine, background_checkpoints, self)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # how a long blocking call (a checkpoint's disk writes and syncs, a wait for
        # SQLite's lock) is run: here and now, or, where the server runs on an event loop,
        # in a real thread (see serve.py)
        self.offload: Callable[[Callable[[], Any]], Any] = _call
        # real threads for the waits that may outlast their deadline (another process's
        # flock); serve.py gives gevent's, whose futures wait without blocking the loop
        self.threads: Executor | None = None
        self._write_lock: WriteLock | None = None
        if self.is_sqlite:
            self._write_lock = WriteLock(self.path, self._executor)
        self._fault: str | None = None  # why the latest write failed; None once one succeeds
        self._last_write = float("-inf")
        self._probing = False

    def _executor(self) -> Executor:
        if self.threads is None:
            self.threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="seira-wait")
        return self.threads

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short session for queries; nothing it changes is kept."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        deadline = time.monotonic() + self.write_wait_s
        with self._guarded(deadline), self._sessions() as session:
            if self.is_sqlite:
                session.connection(execution_options={"sqlite_immediate": deadline})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def transaction(self, wait_s: float | None = None) -> Iterator[Connection]:
        """Like write(), for SQLAlchemy Core: the store's hot paths skip the ORM session."""
        with self.engine.connect() as conn, self.writing(conn, wait_s):
            yield conn

    @contextmanager
    def writing(self, conn: Connection, wait_s: float | None = None) -> Iterator[None]:
        """One write transaction on `conn`, holding the write lock for as short as can be.

        The caller keeps the connection afterwards for reads that need no lock.
        """
        deadline = time.monotonic() + (self.write_wait_s if wait_s is None else wait_s)
        with self._guarded(deadline):
            if self.is_sqlite:
                conn.execution_options(sqlite_immediate=deadline)
            try:
                with conn.begin():
                    yield
            finally:
                if self.is_sqlite:
                    conn.execution_options(sqlite_immediate=None)

    @contextmanager
    def _guarded(self, deadline: float) -> Iterator[None]:
        """The write lock until `deadline`; a database fault becomes Unavailable, and each
        outcome is what the health check reports."""
        try:
            if self._write_lock is None:
                yield
            else:
                with self._write_lock.held(deadline):
                    yield
        except Unavailable as exc:
            self._noted(exc.code)
            raise
        except (DBAPIError, sqlite3.Error) as exc:  # a failed BEGIN comes unwrapped
            code = fault_of(exc)
            if code is None:
                raise
            self._noted(code)
            if code == "database_read_only":
                # SQLite opened the file read-only when it could not write it, and stays
                # so: new connections will try again once the file is writable
                self.engine.dispose()
            raise unavailable(code) from exc

    def _noted(self, fault: str | None) -> None:
        """A write failed (`fault`), or the health check's write succeeded (None). A
        transaction that succeeds proves nothing: it may have written nothing."""
        self._fault = fault
        self._last_write = time.monotonic()

    def begin_immediate(self, raw: sqlite3.Connection, deadline: float) -> None:
        """BEGIN IMMEDIATE, waiting for SQLite's lock until `deadline` if another program
        holds it. The first try does not wait; a wait runs in a real thread (`offload`)."""
        raw.execute("PRAGMA busy_timeout=0")
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if fault_of(exc) != "database_busy":
                raise
        finally:
            raw.execute(f"PRAGMA busy_timeout={READ_BUSY_MS}")
        remaining_ms = int((deadline - time.monotonic()) * 1000)
        if remaining_ms <= 0:
            raise unavailable("database_busy")

        def wait() -> None:
            raw.execute(f"PRAGMA busy_timeout={remaining_ms}")
            try:
                raw.execute("BEGIN IMMEDIATE")
            finally:
                raw.execute(f"PRAGMA busy_timeout={READ_BUSY_MS}")

        try:
            self.offload(wait)
        except sqlite3.OperationalError as exc:
            if fault_of(exc) == "database_busy":
                raise unavailable("database_busy") from None
            raise

    def write_fault(self) -> str | None:
        """Why the database takes no writes now (a fault code), or None if it does.

        Known from the latest failed write or check if it was recent; otherwise a real
        write is committed, at most every PROBE_EVERY_S and one at a time. On SQLite it is
        the header's user_version, which nothing else uses, counted up (a row rewritten
        as it was would not be written at all); on PostgreSQL the schema's version row
        rewritten, which always makes a new row version.
        """
        if time.monotonic() - self._last_write < PROBE_EVERY_S or self._probing:
            return self._fault
        self._probing = True
        try:
            with self.transaction(wait_s=PROBE_WAIT_S) as conn:
                if self.is_sqlite:
                    beat = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
                    conn.exec_driver_sql(f"PRAGMA user_version={(beat + 1) % 2**31}")
                else:
                    conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            self._noted(None)
        except Unavailable:
            pass  # noted by _guarded
        finally:
            self._probing = False
        return self._fault

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection for reads."""
        with self.engine.connect() as conn:
            yield conn

    def checkpoint(self) -> None:
        """Copy SQLite's write-ahead log into the database file, barely pausing writers.

        The bulk is copied while writers go on; the few pages they added meanwhile are
        copied with writers paused, so that the next write rewinds the log instead of
        growing it forever under steady load. While another program holds the lock, the
        pass is skipped: the next one catches up.
        """
        if not self.is_sqlite:
            return
        conn = self.engine.raw_connection()
        try:
            checkpoint = partial(conn.driver_connection.execute, "PRAGMA wal_checkpoint(PASSIVE)")
            self.offload(checkpoint)
            assert self._write_lock is not None
            try:
                with self._write_lock.held(time.monotonic() + PROBE_WAIT_S):
                    self.offload(checkpoint)
            except Unavailable:
                pass
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

    def values(self) -> list[T]:
        """The objects of every database open now."""
        with self._lock:
            return list(self._items.values())
