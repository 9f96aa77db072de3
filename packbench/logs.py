"""Logging to a rotating file: the terminal belongs to the app, so nothing logs to it."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from packbench.config import Settings, log_dir

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"


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
    root.addHandler(handler)
    root.setLevel(settings.log.level)
    return path
