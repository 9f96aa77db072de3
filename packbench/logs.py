"""Logging to a rotating file, shared by the bench's processes: the terminal belongs to the app,
so nothing logs to it.

The file is the bench's own: created 0600 (and so is each file rotation starts), in a 0700
directory when we create it, because log lines can carry order numbers and shop answers. Every
record passes :class:`RedactSecrets` (the shop's key and secret, their Basic form, passwords in
URLs) before it is written; the database's password is registered as a secret too.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
from pathlib import Path

from packbench.config import Settings, log_dir
from packbench.redact import redact, register_basic_auth, register_secret

__all__ = ["RedactSecrets", "register_basic_auth", "register_secret", "setup_logging"]

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"


class RedactSecrets(logging.Filter):
    """Masks credentials in a record's final text, tracebacks included (:func:`redact`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = redact(text), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class PrivateRotatingFileHandler(logging.FileHandler):
    """A rotating log file shared safely by several processes, only its owner can read.

    The sync, the app and one process per browser tab under ``serve`` write the same file. The
    standard ``RotatingFileHandler`` is not safe there: each process decides on its own to
    rotate and renames the file under the others, which then write into a backup or lose lines.
    Here every record is one ``write`` to a file opened ``O_APPEND`` (the kernel puts each
    write at the end, so lines of different processes never overwrite each other), and
    rotation happens under an exclusive ``flock`` on ``.<file>.lock`` beside it: the process
    that takes the lock checks the size again and rotates only if no one else just did. A
    process whose open file was rotated away notices that the name now points to another file
    (the device and inode differ) and reopens it before its next record, as
    ``WatchedFileHandler`` does.

    Each file is 0600 whatever the umask, after every rotation too.
    """

    def __init__(
        self,
        filename: str | os.PathLike[str],
        maxBytes: int = 0,  # the names of the standard handler
        backupCount: int = 0,
        encoding: str | None = "utf-8",
    ) -> None:
        self.maxBytes = maxBytes
        self.backupCount = backupCount
        self._identity: tuple[int, int] | None = None
        super().__init__(filename, mode="a", encoding=encoding, delay=False)
        head, tail = os.path.split(self.baseFilename)
        self._lock_path = os.path.join(head, f".{tail}.lock")

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # a file left 0644 by an older version is narrowed too
        st = os.fstat(fd)
        self._identity = (st.st_dev, st.st_ino)
        # Line-buffered text over an unbuffered file: a record is written by one write().
        return open(fd, "a", encoding=self.encoding, errors=self.errors, buffering=1)

    def _name_moved(self) -> bool:
        """Whether another process rotated the file: our name now names a different file."""
        try:
            st = os.stat(self.baseFilename)
        except FileNotFoundError:
            return True
        return (st.st_dev, st.st_ino) != self._identity

    def _reopen(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.stream = self._open()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.stream is None or self._name_moved():
                self._reopen()
            if self.maxBytes > 0 and self._too_big():
                self.doRollover(only_if_too_big=True)
            # One write() per record: format first, then write message and newline together.
            assert self.stream is not None  # opened just above
            self.stream.write(self.format(record) + self.terminator)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def _too_big(self) -> bool:
        try:
            return os.stat(self.baseFilename).st_size >= self.maxBytes
        except FileNotFoundError:
            return False

    def doRollover(self, *, only_if_too_big: bool = False) -> None:
        """Rotate ``file`` → ``file.1`` → … under the lock every process of the bench shares."""
        lock_fd = os.open(self._lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            # Another process may have rotated while we waited: then only follow it.
            if not (only_if_too_big and (self._name_moved() or not self._too_big())):
                if self.backupCount > 0:
                    for n in range(self.backupCount - 1, 0, -1):
                        src = f"{self.baseFilename}.{n}"
                        if os.path.exists(src):
                            os.replace(src, f"{self.baseFilename}.{n + 1}")
                    if os.path.exists(self.baseFilename):
                        os.replace(self.baseFilename, f"{self.baseFilename}.1")
                else:
                    with open(self.baseFilename, "w"):  # no backups: start the file again
                        pass
                for n in range(1, self.backupCount + 1):
                    old = f"{self.baseFilename}.{n}"
                    if os.path.exists(old):
                        os.chmod(old, 0o600)
            self._reopen()
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            os.close(lock_fd)


def _register_database_password(db: str | None) -> None:
    if not db or "://" not in db:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(db).password
    except (ArgumentError, ValueError):
        return
    register_secret(password if isinstance(password, str) else None)


def setup_logging(settings: Settings) -> Path:
    path = settings.log.file or (log_dir() / "packbench.log")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _register_database_password(settings.db)
    if settings.shop_key and settings.shop_secret:
        register_basic_auth(
            settings.shop_key.get_secret_value(), settings.shop_secret.get_secret_value()
        )
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_packbench", False):
            root.removeHandler(handler)
            handler.close()
    handler = PrivateRotatingFileHandler(
        path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    handler._packbench = True  # type: ignore[attr-defined]  # marks the handler as ours
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactSecrets())
    root.addHandler(handler)
    root.setLevel(settings.log.level)
    return path
