"""Python's garbage collector held off while a scan is under way: from its first key to the
frame that shows what the scan did, and run right after that frame instead.

A collection of the youngest objects costs about a millisecond on the bench machine and a
middle one 4-5 ms (``benchmarks/volume.py`` counts those that fall inside a timed scan); one
came in every third scan or so, always in the middle of it. Held, the collection the scan's
allocations call for runs as soon as the frame is out, while the packer looks at it: the same
work, off the path from the scanner to the screen. Nothing is skipped, and reference counting
frees almost everything as usual anyway: only cycles wait for the collector.

The collector is the process's, so this is a module, not an object per screen. A hold is
released by the screen once the outcome is painted; a hold nobody releases (keys typed by
hand and left without Enter) lets go by itself after ``LONGEST_HOLD_S``. A collector someone
else switched off (the command line keeps it off until the app has booted) is left as it was:
only a hold that switched it off switches it on again.
"""

from __future__ import annotations

import asyncio
import gc

#: A hold longer than this lets go by itself (seconds).
LONGEST_HOLD_S = 2.0

_held = False
_timeout: asyncio.TimerHandle | None = None


def hold() -> None:
    """Hold collections off from now until :func:`release` (or ``LONGEST_HOLD_S``).

    From the event loop's thread. Costs one check when already held (every key of a scan
    calls it).
    """
    global _held, _timeout
    if _held or not gc.isenabled():
        return
    gc.disable()
    _held = True
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no loop (a test calling it directly): released by hand only
        return
    _timeout = loop.call_later(LONGEST_HOLD_S, release)


def release() -> None:
    """Let collections run again (the one the held allocations call for runs at the next
    allocation). Does nothing unless :func:`hold` switched the collector off."""
    global _held, _timeout
    if not _held:
        return
    _held = False
    if _timeout is not None:
        _timeout.cancel()
        _timeout = None
    gc.enable()


def is_held() -> bool:
    return _held
