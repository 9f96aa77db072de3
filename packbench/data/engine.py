"""The engine factory and the two kinds of transaction the operations layer uses.

No global engine: every caller (the app, the CLI, each test) builds a ``Database`` from a URL or
a path and passes it down. On SQLite each connection gets WAL, foreign keys and a busy timeout,
and write transactions start with ``BEGIN IMMEDIATE`` so two terminals never deadlock upgrading
a read lock to a write lock; reads stay deferred and never block anyone under WAL. On
PostgreSQL (benches on several machines sharing one database) write transactions run
REPEATABLE READ and are retried on a serialization failure, which gives the same guarantee
for what an operation reads and then writes.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from packbench.redact import cut, redact

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000


class DatabaseError(Exception):
    """A database that cannot be opened or used; the message is for a person, and never holds
    a password (it is redacted when the error is made)."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class EmptyDatabaseFile(DatabaseError):
    """A 0-byte file where a database should be: a failed copy or a full disk, not a new
    database. Only ``packbench init`` may make a database in it."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"the database file {path} is empty (0 bytes), which usually means a failed copy "
            "or a full disk"
        )
        self.path = path


#: The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"


def url_for(db: str | os.PathLike[str]) -> str:
    """A SQLAlchemy URL from a path or a URL. ``postgresql://…`` (the form people and
    ``PACKBENCH_DB`` use) gets the psycopg 3 driver; any other URL passes through."""
    text = os.fspath(db)
    if "://" in text:
        for plain in ("postgresql://", "postgres://"):
            if text.startswith(plain):
                return "postgresql+psycopg://" + text.removeprefix(plain)
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def sqlite_file(db: str | os.PathLike[str]) -> Path | None:
    """The file of a SQLite database given as a path or URL; ``None`` for a server database
    or an in-memory one."""
    url = url_for(db)
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    return None


def check_database_file(path: Path, *, empty_ok: bool = False) -> None:
    """Refuse an existing file that is not a SQLite database before SQLite touches it.

    SQLite takes a 0-byte file for a new, empty database and would build a fresh schema in
    it: the bench would start with no orders, no people and no history, and say nothing. A
    file of any other kind would fail later with a driver error; here it fails first with a
    sentence. ``empty_ok`` is for ``packbench init``, which is asked to make a database.
    """
    try:
        if path.is_dir():
            raise DatabaseError(f"{path} is a folder, not a database file")
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseError(f"cannot read the database file {path}: {exc.strerror or exc}") from exc
    if size == 0:
        if empty_ok:
            return
        raise EmptyDatabaseFile(path)
    if head != SQLITE_HEADER:
        raise DatabaseError(f"{path} is not a database file (it is not SQLite's format)")


_BACKGROUND = re.compile(r"\s*\(Background on this error at: [^)]*\)")
_DRIVER_TAG = re.compile(r"^\((?:[\w.]+\.)?\w+\)\s*")  # "(sqlite3.OperationalError) "


def error_text(exc: BaseException, *, limit: int = 300) -> str:
    """What a database error says, in one line for a person: the driver's own first line
    without SQLAlchemy's class tag, SQL, parameters and "Background on this error" link;
    redacted (a URL's password), then cut. The whole error goes to the log, not here."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    text = _BACKGROUND.sub("", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = _DRIVER_TAG.sub("", lines[0]) if lines else ""
    return cut(first or type(exc).__name__, limit)


#: PostgreSQL's "try again" answers: a serialization failure, a deadlock, and a unique key
#: another terminal inserted first (two terminals creating the same row — a number series'
#: first use — at once; run again, the second one finds the row).
_PG_RETRY = {"40001", "40P01", "23505"}


def _is_locked(exc: BaseException) -> bool:
    """Another terminal's transaction got in the way; running ours again is safe."""
    text = str(exc).lower()
    if "database is locked" in text or "database is busy" in text:
        return True
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code in _PG_RETRY


class Database:
    """An engine plus the transaction helpers. Cheap to pass around, safe across threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        if engine.dialect.name == "postgresql":
            # Writers work on a snapshot (REPEATABLE READ): when two terminals read a row and
            # then both write it — a claim, a number series, an order's status — the second
            # writer gets a serialization failure and ``transact`` runs it again from the start,
            # so nothing read-then-written is won twice. Not SERIALIZABLE: its read/write
            # dependency checks failed about half of all write transactions with seven busy
            # terminals (benchmarks/terminals.py), some eight times running.
            self._writer = engine.execution_options(isolation_level="REPEATABLE READ")
        else:
            self._writer = engine.execution_options(packbench_begin="IMMEDIATE")

    @property
    def url(self) -> str:
        """The URL to show or log: password masked."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def target(self) -> str:
        """What ``create_database`` takes to open this database again (another terminal's
        engine on the same file or server): the file's path, or the full URL."""
        url = self.engine.url
        if url.drivername.startswith("sqlite") and url.database:
            return url.database
        return url.render_as_string(hide_password=False)  # never shown: see ``url``

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commits at the end, rolls back on any error."""
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    def transact(self, fn: Callable[[Session], T], *, attempts: int = 12) -> T:
        """Run ``fn`` in one write transaction, retrying while another terminal holds the lock.

        ``fn`` must be safe to run again from the start: it sees a fresh transaction each time.
        """
        return self._retrying(lambda: self._in_session(fn), attempts)

    def transact_core(self, fn: Callable[[Connection], T], *, attempts: int = 12) -> T:
        """``transact`` for SQLAlchemy Core: ``fn`` gets the write transaction's connection, no
        ORM session (for the pack station's unit scan, where the session's own work was most
        of the scan's: ``operations.pack_rows``). Commits when ``fn`` returns, rolls back if it
        raises; retried the same way."""
        return self._retrying(lambda: self._in_connection(fn), attempts)

    def _in_session(self, fn: Callable[[Session], T]) -> T:
        with self.write() as session:
            return fn(session)

    def _in_connection(self, fn: Callable[[Connection], T]) -> T:
        with self._writer.begin() as conn:
            return fn(conn)

    def _retrying(self, attempt_once: Callable[[], T], attempts: int) -> T:
        delay = 0.02
        for attempt in range(1, attempts + 1):
            try:
                return attempt_once()
            except (OperationalError, DBAPIError) as exc:
                if not _is_locked(exc) or attempt == attempts:
                    raise
                log.warning("database busy, retry %d/%d", attempt, attempts)
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to choose.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("packbench_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def create_database(db: str | os.PathLike[str], *, echo: bool = False) -> Database:
    """Open (not migrate) the database at a path or URL."""
    url = url_for(db)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Orders hold customers' names and addresses: nobody else reads the file.
            path.touch(mode=0o600)
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,  # an error or echo line must not carry a customer's address
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            # One file, several threads (Textual workers): a small pool of real connections.
            pool_size=5,
            max_overflow=10,
            pool_use_lifo=True,
        )
        _sqlite_setup(engine)
    elif url.startswith("sqlite://"):
        engine = create_engine(url, echo=echo, poolclass=NullPool, hide_parameters=True)
        _sqlite_setup(engine)
    else:
        try:
            engine = create_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True)
        except Exception as exc:  # a bad URL or a missing driver
            raise DatabaseError(
                f"cannot use the database {cut(url, 200)}: {error_text(exc)}"
            ) from exc
    return Database(engine)
