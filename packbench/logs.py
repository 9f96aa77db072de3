"""Logging to a rotating file: the terminal belongs to the app, so nothing logs to it."""

from __future__ import annotations

import logging
import logging.handlers
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
        return True


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
