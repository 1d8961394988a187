"""One process at a time runs the server's shared background jobs, across every worker of
`seira serve --workers N` and every host serving the same database.

Each process's housekeeping thread calls `Leadership.try_lead()` at each of its passes
(about once a second). The call never waits: it takes the lock if it is free, keeps it if
this process has it, and otherwise says no, so the thread goes on with the work of its own
process. The lock belongs to the process and goes with it however it ends (a crash, a
SIGKILL, a power cut), and then the next process to try takes it, within one pass of its
own. (A PostgreSQL host that goes silent is let go of once the server gives up on its
session: about 30 s, with the keepalives set below.)

- SQLite: an exclusive `flock` on a file beside the database (`<database>.leader`, mode
  0600 like the database), taken with LOCK_NB. The kernel lets it go when the process's
  last descriptor of the file closes, so a dead process holds nothing (the descriptor is
  not inherited by programs the server runs). A lock file removed or replaced guards
  nothing, so the leader checks at each pass that it still locks the file at that path.
  It covers the processes of one host, which is all SQLite supports (its own locks do
  not work over a network file system either).
- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock(LOCK_KEY)`) on a
  connection the leader keeps open for as long as it leads. PostgreSQL lets it go when
  that session ends: the process died, its connection broke, or its backend was
  terminated. Each pass checks that the session still holds it, so a leader whose
  connection broke stops leading at its next pass, and tries again on a new connection.
  Advisory locks are per database: two Seira databases on one cluster do not contend.
  The lock needs a real session: a pooler in transaction mode (PgBouncer's
  `pool_mode=transaction`) would give it to whichever session ran the statement.

The lock is what makes the jobs run once, but between a leader that lost its session and
its next check both may run a job: every job run under it must stay correct when run
twice at once (close_day, retention.purge and taking over print jobs are; their
docstrings say how).

Under gevent every call here returns at once: a non-blocking flock, or one short query on
PostgreSQL, where the driver waits for the network without holding up the event loop.
"""

from __future__ import annotations

import fcntl
import logging
import os
from contextlib import suppress
from typing import IO

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from .db import Database

log = logging.getLogger(__name__)

# the advisory lock's key: "SEIRA" in ASCII, then 1 (an application sharing the database
# and using advisory locks of its own is unlikely to choose it)
LOCK_KEY = 0x53_45_49_52_41_00_01
# a bigint key is shown in pg_locks as its high and low 32 bits, with objsubid 1
_HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid()"
    f" AND classid = {LOCK_KEY >> 32}::oid AND objid = {LOCK_KEY & 0xFFFFFFFF}::oid"
    " AND objsubid = 1)"
)
# the leader's own session: PostgreSQL ends it within about 30 s of its host going silent
# (a power cut, a cable pulled), instead of the two hours of Linux's default keepalive,
# and its lock goes with it. Ignored where the connection is a Unix socket.
_KEEPALIVE = (
    "SET tcp_keepalives_idle = 15",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)


class Leadership:
    """Whether this process leads the background jobs of `db`; see the module's doc.

    One object per process and database. (Two in one process contend like two processes:
    a flock belongs to an open file, an advisory lock to a session.)
    """

    def __init__(self, db: Database, what: str = "background jobs") -> None:
        self.db = db
        self.what = what
        self.leading = False
        self._said_waiting = False
        self._failure: str | None = None  # why the latest try failed, if it did
        self._file: IO[str] | None = None
        self._conn: Connection | None = None
        path = db.path if db.is_sqlite else None
        self._path = f"{path}.leader" if path else None

    def try_lead(self) -> bool:
        """True if this process leads now: it has the lock still, or it has just taken it.

        Never waits and never raises: a database that cannot be reached, or a lock file
        that cannot be opened, means not leading, and the next call tries again. Each
        change is logged once ("background jobs: this process leads (pid N)").
        """
        failure = None
        try:
            now = self._try_sqlite() if self.db.is_sqlite else self._try_postgresql()
        except Exception as exc:  # logged below; housekeeping goes on
            self._drop()
            now, failure = False, f"{type(exc).__name__}: {exc}"
        if now and not self.leading:
            log.info("%s: this process leads (pid %d)", self.what, os.getpid())
            self._said_waiting = False
        elif not now and self.leading:
            log.warning("%s: this process no longer leads (pid %d)", self.what, os.getpid())
        if failure is not None and failure != self._failure:
            log.warning("%s: could not try to lead: %s", self.what, failure)
        elif not now and failure is None and not self._said_waiting:
            log.info("%s: another process leads; this one takes over if it stops", self.what)
            self._said_waiting = True
        self._failure = failure
        self.leading = now
        return now

    @property
    def failing(self) -> bool:
        """The latest try could not even ask (no lock file, no database): nobody may be
        leading, rather than somebody else."""
        return self._failure is not None

    def release(self) -> None:
        """Let the lock go now (the process ending does the same)."""
        if self.leading:
            log.info("%s: this process stops leading (pid %d)", self.what, os.getpid())
        if self._conn is not None:
            # unlocked before the session is closed: a closed connection's backend lets
            # the lock go only once it has finished ending, a moment later
            with suppress(DBAPIError):  # the session is gone, and its lock with it
                self._conn.execute(text(f"SELECT pg_advisory_unlock({LOCK_KEY})"))
        self._drop()
        self.leading = False

    # --- SQLite: a file lock ------------------------------------------------------------------

    def _try_sqlite(self) -> bool:
        if self._path is None:  # an in-memory database: this process's alone
            return True
        if self._file is not None:  # open only while it holds the lock
            if self._same_file():
                return True
            # the file was removed or replaced: another process may lock the new one, so
            # this lock guards nothing any more
            log.warning("%s: %s was replaced", self.what, self._path)
            self._drop()
        fd = os.open(self._path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        self._file = os.fdopen(fd, "a")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._drop()  # opened afresh at the next try, should the file be replaced
            return False
        if not self._same_file():  # replaced between the open and the lock: try afresh
            self._drop()
            return False
        return True

    def _same_file(self) -> bool:
        """The locked file is still the one at the path."""
        assert self._file is not None and self._path is not None
        try:
            here = os.stat(self._path)
        except FileNotFoundError:
            return False
        mine = os.fstat(self._file.fileno())
        return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)

    # --- PostgreSQL: an advisory lock on a session of its own ---------------------------------

    def _try_postgresql(self) -> bool:
        if self._conn is not None:
            try:
                if self._conn.execute(_HELD).scalar():
                    return True
            except DBAPIError as exc:  # the session is gone, and its lock with it
                log.warning("%s: the lock's connection broke: %s", self.what, exc.orig)
                self._drop()
        if self._conn is None:
            conn = self.db.engine.connect()
            try:
                # a session-level lock needs no transaction, and a transaction left open
                # for as long as this process leads would hold up VACUUM
                conn.execution_options(isolation_level="AUTOCOMMIT")
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        taken = self._conn.execute(text(f"SELECT pg_try_advisory_lock({LOCK_KEY})")).scalar()
        if not taken:
            conn, self._conn = self._conn, None
            conn.close()  # back to the pool: its session holds nothing
            return False
        # kept out of the pool for as long as this process leads
        for statement in _KEEPALIVE:
            self._conn.execute(text(statement))
        return True

    def _drop(self) -> None:
        """Give up the lock and what held it. A PostgreSQL connection that may hold it is
        closed for good, never returned to the pool, where its session would keep it."""
        if self._file is not None:
            file, self._file = self._file, None
            file.close()  # the flock goes with the last descriptor of the file
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.invalidate()
            finally:
                conn.close()
