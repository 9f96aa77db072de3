"""Logging to a rotating file: the terminal belongs to the app, so nothing logs to it."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from packbench.config import Settings, log_dir

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"

_SECRETS: set[str] = set()
MASK = "********"


def register_secret(value: str | None) -> None:
    """Never write ``value`` (nor its HTTP Basic form) to the log, whoever logs it."""
    if not value or len(value) < 4:
        return
    _SECRETS.add(value)


class RedactSecrets(logging.Filter):
    """Replaces every registered secret in a record's final text, tracebacks included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _SECRETS:
            return True
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        exc = record.exc_text or ""
        for secret in _SECRETS:
            text = text.replace(secret, MASK)
            exc = exc.replace(secret, MASK)
        record.msg, record.args = text, None
        if record.exc_text:
            record.exc_text = exc
        return True


def register_basic_auth(user: str, password: str) -> None:
    """The key, the secret and the Authorization header they make are all secrets."""
    import base64

    register_secret(user)
    register_secret(password)
    register_secret(base64.b64encode(f"{user}:{password}".encode()).decode())


def setup_logging(settings: Settings) -> Path:
    path = settings.log.file or (log_dir() / "packbench.log")
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_packbench", False):
            root.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    handler._packbench = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactSecrets())
    root.addHandler(handler)
    root.setLevel(settings.log.level)
    return path
