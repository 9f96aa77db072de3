"""Logging to a rotating file: the terminal belongs to the app, so nothing logs to it.

The file is the bench's own: created 0600 (and so is each file rotation starts), in a 0700
directory when we create it, because log lines can carry order numbers and shop answers. Every
record passes :class:`RedactSecrets` (the shop's key and secret, their Basic form, passwords in
URLs) before it is written; the database's password is registered as a secret too.
"""

from __future__ import annotations

import logging
import logging.handlers
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


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file only its owner can read, whatever the umask, after every rotation."""

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # a file left 0644 by an older version is narrowed too
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    def doRollover(self) -> None:
        super().doRollover()
        for n in range(1, self.backupCount + 1):
            old = f"{self.baseFilename}.{n}"
            if os.path.exists(old):
                os.chmod(old, 0o600)


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
    handler._packbench = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactSecrets())
    root.addHandler(handler)
    root.setLevel(settings.log.level)
    return path
