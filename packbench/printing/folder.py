"""Printing into a folder: a printer kind that needs no CUPS.

A queue named ``folder:/some/dir`` writes each document there as a file instead of sending it
to CUPS: ``<time>-<job>-<title>.pdf`` (``.zpl`` for raw ZPL), 0600 (slips and labels carry
customers' addresses), written under a temporary name and renamed, so a file that is there is
whole. Written is printed: the job is *completed* the moment the file is in place, and a write
that fails (no such folder, a full disk) is a :class:`~packbench.printing.cups.PrintError`
like a stopped printer, with nothing marked printed.

It keeps a bench going on a machine without CUPS (the demo's default there), and serves a
shop that prints from another program watching the folder. :class:`Printers` puts it beside
CUPS: queue names starting ``folder:`` go to a folder, every other name to CUPS.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from packbench.printing.cups import (
    JobOutcome,
    JobStatus,
    PrintError,
    QueueInfo,
    submit_and_wait,
)

__all__ = ["FOLDER_PREFIX", "FolderPrinter", "Printers", "folder_of", "folder_queue"]

FOLDER_PREFIX = "folder:"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def folder_of(queue: str) -> Path | None:
    """The folder a queue name names, or None for a CUPS queue."""
    if not queue.startswith(FOLDER_PREFIX):
        return None
    path = queue.removeprefix(FOLDER_PREFIX).strip()
    if not path:
        raise PrintError("a folder printer needs a folder: folder:/path/to/folder")
    return Path(path).expanduser()


def folder_queue(path: str | os.PathLike[str]) -> str:
    return f"{FOLDER_PREFIX}{Path(path)}"


def _job_id() -> int:
    """A negative id (CUPS' are positive), so a job can be told apart in the history and when
    settling jobs after a crash; unique enough within a month of printing."""
    return -(int(time.time() * 1000) % 2_000_000_000 + 1)


class FolderPrinter:
    """Writes documents into folders; every job completes at once or fails with the reason."""

    def queue(self, name: str) -> QueueInfo:
        folder = folder_of(name)
        if folder is None:
            raise PrintError(f"“{name}” is not a folder printer")
        ok = folder.is_dir() and os.access(folder, os.W_OK)
        message = f"writes into {folder}" if ok else f"{folder} is not a folder it can write to"
        return QueueInfo(name, "idle" if ok else "stopped", ok, message, f"file://{folder}")

    def submit(
        self,
        queue: str,
        data: bytes,
        *,
        title: str,
        raw: bool = False,
        options: dict[str, str] | None = None,
    ) -> int:
        folder = folder_of(queue)
        if folder is None:
            raise PrintError(f"“{queue}” is not a folder printer")
        job = _job_id()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        name = f"{stamp}-{-job}-{_UNSAFE.sub('_', title)[:60].strip('_') or 'document'}"
        name += ".zpl" if raw else ".pdf"
        try:
            fd, tmp = tempfile.mkstemp(prefix=".packbench-", dir=folder)
        except OSError as exc:
            raise PrintError(f"cannot write into {folder}: {exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "wb") as fh:  # mkstemp makes it 0600
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, folder / name)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise PrintError(f"cannot write into {folder}: {exc.strerror or exc}") from None
        return job

    def wait(self, job_id: int, *, queue: str, timeout_s: float = 30.0) -> JobOutcome:
        return JobOutcome(job_id, "completed", f"written into {folder_of(queue)}")

    def job_status(self, job_id: int) -> JobStatus:
        # An id is only ever recorded after its file was written in full.
        return JobStatus(job_id, "completed", "", "written into its folder")

    def cancel(self, job_id: int) -> None:
        """Nothing to cancel: the file was written whole or not at all."""


class Printers:
    """Folder queues and CUPS queues behind one printer: a ``folder:`` name writes a file,
    any other name goes to CUPS (``cups``, made only when a CUPS queue is used)."""

    def __init__(self, cups: Any) -> None:
        self._cups = cups
        self.folders = FolderPrinter()

    @property
    def cups(self) -> Any:
        """The CUPS adapter behind the non-folder queues."""
        return self._cups

    def _for(self, queue: str) -> Any:
        return self.folders if folder_of(queue) is not None else self._cups

    def queues(self) -> list[QueueInfo]:
        found: list[QueueInfo] = self._cups.queues()
        return found

    def queue(self, name: str) -> QueueInfo:
        info: QueueInfo = self._for(name).queue(name)
        return info

    def submit(self, queue: str, data: bytes, **kw: Any) -> int:
        job_id: int = self._for(queue).submit(queue, data, **kw)
        return job_id

    def wait(self, job_id: int, *, queue: str, timeout_s: float = 30.0) -> JobOutcome:
        outcome: JobOutcome = self._for(queue).wait(job_id, queue=queue, timeout_s=timeout_s)
        return outcome

    def job_status(self, job_id: int) -> JobStatus | None:
        if job_id < 0:
            return self.folders.job_status(job_id)
        status: JobStatus | None = self._cups.job_status(job_id)
        return status

    def cancel(self, job_id: int) -> None:
        if job_id >= 0:
            self._cups.cancel(job_id)

    def print(self, queue: str, data: bytes, **kw: Any) -> JobOutcome:
        """Submit, then follow the job until it ends (as ``CupsPrinter.print``)."""
        return submit_and_wait(self, queue, data, **kw)

    def __getattr__(self, name: str) -> Any:  # server, poll_s, … of the CUPS adapter
        return getattr(self._cups, name)
