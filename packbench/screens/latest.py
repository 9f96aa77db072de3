"""What a screen's loading worker read is shown only if no newer load replaced it.

A station loads its lists in thread workers, one at a time per list (``exclusive``): starting
a load cancels the one before, but a thread cannot be stopped, and the earlier one may finish
last. Its rows, read before whatever made the screen load again (a scan, an action, a filter
typed), would then replace the newer ones until the next load: a dashboard put a print it had
just marked printed back on its list. The worker hands its result to :func:`latest_only` on
the app's thread, where loads are started, so the check cannot race with a newer start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.worker import Worker


def latest_only(worker: Worker[Any], show: Callable[..., object], *args: Any) -> None:
    """``show(*args)``, unless ``worker`` was cancelled (a newer load of the same list, or the
    screen going away). Call it through ``app.call_from_thread``."""
    if not worker.is_cancelled:
        show(*args)
