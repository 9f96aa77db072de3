"""The app's Python objects on transparent huge pages (#20).

A pack scan's work is small but spread thin: the interpreter, SQLAlchemy, SQLite's pages and
Textual's widgets, a few hundred kilobytes touched here and there. Between two scans (seconds
at a bench) other work takes the CPU's caches and its address-translation buffer, and the next
scan pays for it: on this project's 2-core VM the same scan costs 2.0 ms of CPU straight after
the one before and 8 ms after a 100 ms pause (``benchmarks/scan_cost.py --pause``). With the
objects on 2 MiB pages instead of 4 KiB ones, the translations the scan needs are a few
hundred times fewer: the scan after a pause cost 3.5-3.8 ms (median of 30, four runs) instead
of 3.9-9.9 ms, and varied much less.

Python's own allocator takes memory from the system in 1 MiB arenas that the kernel backs with
4 KiB pages; glibc's ``malloc`` asks for huge pages when told to (the documented tunable
``glibc.malloc.hugetlb=1``, glibc 2.35 and later, with transparent huge pages on ``madvise``
or ``always``). Both are read when a process starts, so the app's command re-runs itself once,
at its very start, with ``PYTHONMALLOC=malloc`` and that tunable: the same program, the same
arguments, the same process id. It does not when told not to (``PACKBENCH_HUGE_PAGES=0``),
when ``PYTHONMALLOC`` is set already (someone debugging memory chose it), off Linux, without
transparent huge pages or without a glibc that knows the tunable. If the re-run cannot
start, the command runs on as it is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

#: Set in the re-run process: it must not re-run again.
MARK = "PACKBENCH_HEAP"
#: ``0`` keeps Python's own allocator (and the re-run) off.
SWITCH = "PACKBENCH_HUGE_PAGES"
TUNABLE = "glibc.malloc.hugetlb=1"
THP_MODE = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def huge_pages_env(env: Mapping[str, str], *, thp_mode: str, glibc: str) -> dict[str, str] | None:
    """The environment to re-run with, or ``None`` to run on as is.

    ``thp_mode`` is the kernel's setting as its file reads (``always [madvise] never``),
    ``glibc`` the C library's name and version (``glibc 2.36``; empty when not glibc).
    """
    if env.get(SWITCH, "1").strip() == "0" or env.get(MARK) or "PYTHONMALLOC" in env:
        return None
    if "[always]" not in thp_mode and "[madvise]" not in thp_mode:
        return None
    name, _, version = glibc.partition(" ")
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return None
    if name != "glibc" or (major, minor) < (2, 35):
        return None
    new = dict(env)
    new[MARK] = "1"
    new["PYTHONMALLOC"] = "malloc"
    tunables = env.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.hugetlb" not in tunables:
        new["GLIBC_TUNABLES"] = f"{tunables}:{TUNABLE}" if tunables else TUNABLE
    return new


def rerun_on_huge_pages() -> None:
    """Re-run this process's command with its objects on huge pages, when that applies
    (see the module's text); returns only when it does not."""
    if sys.platform != "linux":
        return
    try:
        thp_mode = THP_MODE.read_text()
        glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (OSError, ValueError):
        return
    env = huge_pages_env(os.environ, thp_mode=thp_mode, glibc=glibc)
    if env is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
    except OSError:
        return


def on_huge_pages() -> bool:
    """Whether this process runs with its objects on huge pages (as re-run above)."""
    return bool(os.environ.get(MARK)) and os.environ.get("PYTHONMALLOC") == "malloc"
