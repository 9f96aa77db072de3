"""The CUPS adapter: submit a document to a queue and follow the job until CUPS says how it ended.

Only a job CUPS reports *completed* counts as printed. A stopped printer leaves a job pending
forever, so waiting has a deadline: then the job is cancelled and the message says why. Every
failure becomes a :class:`PrintError` whose message is for the person at the station — an
unknown queue, a stopped printer, a scheduler that does not answer.

Uses pycups (OpenPrinting's binding; ``pip install 'packbench[print]'`` after Debian's
``libcups2-dev``) where it is installed; elsewhere (a plain ``pip install -e .``) the same
scheduler through its command-line tools (:class:`LpPrinter`). ``make_printer`` picks.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from packbench.printing.folder import Printers

log = logging.getLogger("packbench.printing")

# IPP job states (RFC 8011 §5.3.7)
PENDING, HELD, PROCESSING, STOPPED, CANCELED, ABORTED, COMPLETED = 3, 4, 5, 6, 7, 8, 9
_FINAL = {CANCELED: "canceled", ABORTED: "aborted", COMPLETED: "completed"}
_PRINTER_STATES = {3: "idle", 4: "printing", 5: "stopped"}


class PrintError(Exception):
    """A print that did not happen; the message says why and what to do."""


@dataclass(frozen=True)
class QueueInfo:
    name: str
    state: str  # idle | printing | stopped
    accepting: bool
    message: str
    device: str


@dataclass(frozen=True)
class JobOutcome:
    job_id: int
    state: str  # completed | canceled | aborted | timeout
    message: str

    @property
    def completed(self) -> bool:
        return self.state == "completed"


_JOB_STATES = {
    PENDING: "pending",
    HELD: "held",
    PROCESSING: "processing",
    STOPPED: "stopped",
    CANCELED: "canceled",
    ABORTED: "aborted",
    COMPLETED: "completed",
}


@dataclass(frozen=True)
class JobStatus:
    """What CUPS says about a job now (for jobs nobody is following any more)."""

    job_id: int
    state: str  # pending | held | processing | stopped | canceled | aborted | completed
    reasons: str
    message: str

    @property
    def final(self) -> bool:
        return self.state in _FINAL.values()

    def describe(self) -> str:
        why = ", ".join(x for x in (self.reasons, self.message) if x and x != "none")
        return f"CUPS job {self.job_id} is {self.state}" + (f" ({why})" if why else "")


def _cups() -> Any:
    try:
        import cups
    except ImportError:
        raise PrintError(
            "printing needs pycups: pip install 'packbench[print]' "
            "(with Debian's libcups2-dev and gcc installed first)"
        ) from None
    return cups


def submit_and_wait(
    printer: Any,
    queue: str,
    data: bytes,
    *,
    title: str,
    raw: bool = False,
    options: dict[str, str] | None = None,
    timeout_s: float = 30.0,
) -> JobOutcome:
    """Submit a document to ``printer`` and follow the job until it ends (any printer with
    ``submit`` and ``wait``: CUPS, the folder printer, both behind one)."""
    job_id: int = printer.submit(queue, data, title=title, raw=raw, options=options)
    outcome: JobOutcome = printer.wait(job_id, queue=queue, timeout_s=timeout_s)
    return outcome


class CupsPrinter:
    """One CUPS scheduler (the local one unless ``server`` names another)."""

    def __init__(self, *, server: str | None = None, poll_s: float = 0.1) -> None:
        self.server = server
        self.poll_s = poll_s

    def _connect(self) -> Any:
        cups = _cups()
        # pycups keeps the server process-wide: set it every time ("" is the default one), so
        # one adapter for another server never redirects the next one.
        cups.setServer(self.server or "")
        try:
            return cups.Connection()
        except RuntimeError as exc:
            raise PrintError(
                f"the print server does not answer ({exc}); is cupsd running?"
            ) from None

    def queues(self) -> list[QueueInfo]:
        conn = self._connect()
        out = []
        wanted = [
            "printer-state",
            "printer-state-message",
            "printer-is-accepting-jobs",
            "device-uri",
        ]
        for name in sorted(conn.getPrinters()):
            # getPrinters() leaves out whether a queue accepts jobs; ask each queue.
            attrs = conn.getPrinterAttributes(name, requested_attributes=wanted)
            out.append(
                QueueInfo(
                    name=name,
                    state=_PRINTER_STATES.get(attrs.get("printer-state", 0), "unknown"),
                    accepting=bool(attrs.get("printer-is-accepting-jobs", False)),
                    message=str(attrs.get("printer-state-message", "")),
                    device=str(attrs.get("device-uri", "")),
                )
            )
        return out

    def queue(self, name: str) -> QueueInfo:
        for q in self.queues():
            if q.name == name:
                return q
        raise PrintError(f"there is no printer queue called “{name}”")

    def submit(
        self,
        queue: str,
        data: bytes,
        *,
        title: str,
        raw: bool = False,
        options: dict[str, str] | None = None,
    ) -> int:
        """Hand the document to CUPS; returns the job id. Refuses a queue that takes no jobs."""
        info = self.queue(queue)
        if not info.accepting:
            raise PrintError(
                f"printer “{queue}” is not accepting jobs ({info.message or 'rejecting'})"
            )
        cups = _cups()
        conn = self._connect()
        opts = dict(options or {})
        if raw:
            opts["raw"] = "true"
        fd, path = tempfile.mkstemp(prefix="packbench-", suffix=".zpl" if raw else ".pdf")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            try:
                job_id = int(conn.printFile(queue, path, title[:100], opts))
            except cups.IPPError as exc:
                status, message = exc.args if len(exc.args) == 2 else (None, str(exc))
                raise PrintError(
                    f"printer “{queue}” refused the job: {message} ({status})"
                ) from None
        finally:
            os.unlink(path)
        log.info("submitted job %s to %s: %s", job_id, queue, title)
        return job_id

    def state(self, job_id: int) -> tuple[int, str]:
        conn = self._connect()
        attrs = conn.getJobAttributes(job_id)
        return int(attrs.get("job-state", 0)), str(attrs.get("job-printer-state-message", ""))

    def job_status(self, job_id: int) -> JobStatus | None:
        """The job's state now; ``None`` when CUPS has no record of it (purged, or a new
        scheduler). A scheduler that does not answer is a :class:`PrintError`."""
        cups = _cups()
        conn = self._connect()
        wanted = ["job-state", "job-state-reasons", "job-printer-state-message"]
        try:
            attrs = conn.getJobAttributes(job_id, requested_attributes=wanted)
        except cups.IPPError as exc:
            if exc.args and exc.args[0] == cups.IPP_NOT_FOUND:
                return None
            raise PrintError(f"CUPS could not say how job {job_id} went: {exc}") from None
        reasons = attrs.get("job-state-reasons", "")
        if isinstance(reasons, list):
            reasons = ", ".join(str(r) for r in reasons)
        return JobStatus(
            job_id,
            _JOB_STATES.get(int(attrs.get("job-state", 0)), "unknown"),
            str(reasons),
            str(attrs.get("job-printer-state-message", "")),
        )

    def wait(self, job_id: int, *, queue: str, timeout_s: float = 30.0) -> JobOutcome:
        """Follow the job until it ends; past the deadline, cancel it and say why."""
        deadline = time.monotonic() + timeout_s
        while True:
            state, message = self.state(job_id)
            if state in _FINAL:
                return JobOutcome(job_id, _FINAL[state], message)
            if time.monotonic() > deadline:
                break
            time.sleep(self.poll_s)
        reason = "the printer did not finish in time"
        try:
            info = self.queue(queue)
            if info.state == "stopped":
                reason = f"printer “{queue}” is stopped ({info.message or 'disabled'})"
        except PrintError:
            pass
        self.cancel(job_id)
        return JobOutcome(job_id, "timeout", f"{reason}; the job was cancelled")

    def cancel(self, job_id: int) -> None:
        cups = _cups()
        try:
            self._connect().cancelJob(job_id)
        except cups.IPPError as exc:
            log.warning("cancel job %s: %s", job_id, exc)

    def print(self, queue: str, data: bytes, **kw: Any) -> JobOutcome:
        return submit_and_wait(self, queue, data, **kw)


class LpPrinter(CupsPrinter):
    """The same scheduler through CUPS' command-line tools, where pycups is not installed
    (``packbench demo`` from a plain ``pip install -e .``): ``lp`` submits, ``lpstat`` lists
    the queues, ``cancel`` cancels, and ``ipptool`` (cups-ipp-utils, installed with Debian's
    cups) reads a job's real state — ``lpstat`` alone cannot tell a completed job from a
    cancelled or aborted one, and only a completed job may count as printed."""

    def _run(self, *args: str, timeout: float = 15.0) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        if self.server:
            env["CUPS_SERVER"] = self.server
        try:
            result = subprocess.run(
                list(args), capture_output=True, text=True, env=env, timeout=timeout
            )
        except FileNotFoundError:
            raise PrintError(
                f"printing needs pycups (pip install 'packbench[print]') or CUPS' "
                f"command-line tools ({args[0]} is missing: apt install cups-client)"
            ) from None
        except subprocess.TimeoutExpired:
            raise PrintError("the print server does not answer; is cupsd running?") from None
        err = (result.stderr or "").strip()
        if result.returncode != 0 and ("scheduler" in err.lower() or "connect" in err.lower()):
            raise PrintError(f"the print server does not answer ({err}); is cupsd running?")
        return result

    def queues(self) -> list[QueueInfo]:
        printers = self._run("lpstat", "-p")
        if printers.returncode != 0 and "No destinations" not in printers.stderr:
            raise PrintError(f"cannot list the printer queues: {printers.stderr.strip()}")
        accepting = {
            line.split()[0]: " not accepting" not in line
            for line in self._run("lpstat", "-a").stdout.splitlines()
            if line.strip()
        }
        devices = {}
        for line in self._run("lpstat", "-v").stdout.splitlines():
            if line.startswith("device for ") and ": " in line:
                name, uri = line.removeprefix("device for ").split(": ", 1)
                devices[name] = uri.strip()
        out = []
        lines = printers.stdout.splitlines()
        for i, line in enumerate(lines):
            if not line.startswith("printer "):
                continue
            name = line.split()[1]
            state = (
                "stopped"
                if " disabled " in line
                else ("printing" if " now printing " in line else "idle")
            )
            message = ""
            if i + 1 < len(lines) and lines[i + 1].startswith(("\t", " ")):
                message = lines[i + 1].strip()
            out.append(
                QueueInfo(name, state, accepting.get(name, False), message, devices.get(name, ""))
            )
        return sorted(out, key=lambda q: q.name)

    def submit(
        self,
        queue: str,
        data: bytes,
        *,
        title: str,
        raw: bool = False,
        options: dict[str, str] | None = None,
    ) -> int:
        info = self.queue(queue)
        if not info.accepting:
            raise PrintError(
                f"printer “{queue}” is not accepting jobs ({info.message or 'rejecting'})"
            )
        opts = dict(options or {})
        if raw:
            opts["raw"] = "true"
        fd, path = tempfile.mkstemp(prefix="packbench-", suffix=".zpl" if raw else ".pdf")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            args = ["lp", "-d", queue, "-t", title[:100]]
            for key, value in opts.items():
                args += ["-o", key if key == "raw" else f"{key}={value}"]
            result = self._run(*args, path)
        finally:
            os.unlink(path)
        match = re.search(r"request id is \S*-(\d+)", result.stdout)
        if result.returncode != 0 or match is None:
            why = (result.stderr or result.stdout).strip() or f"lp exited {result.returncode}"
            raise PrintError(f"printer “{queue}” refused the job: {why}")
        job_id = int(match.group(1))
        log.info("submitted job %s to %s with lp: %s", job_id, queue, title)
        return job_id

    def _job_uri(self, job_id: int) -> str:
        host = self.server or "localhost"
        return f"ipp://{host}/jobs/{job_id}"

    def job_status(self, job_id: int) -> JobStatus | None:
        result = self._run("ipptool", "-tv", self._job_uri(job_id), "get-job-attributes.test")
        text = result.stdout
        if "client-error-not-found" in text:
            return None
        fields = dict(re.findall(r"^\s+([a-z-]+) \([^)]*\) = (.*)$", text, flags=re.M))
        state = fields.get("job-state")
        if state is None:
            raise PrintError(f"CUPS could not say how job {job_id} went: {text.strip()[-200:]}")
        return JobStatus(
            job_id,
            state,
            fields.get("job-state-reasons", ""),
            fields.get("job-printer-state-message", ""),
        )

    def state(self, job_id: int) -> tuple[int, str]:
        status = self.job_status(job_id)
        if status is None:
            raise PrintError(f"CUPS has no record of job {job_id}")
        number = {name: n for n, name in _JOB_STATES.items()}.get(status.state, 0)
        return number, status.message

    def cancel(self, job_id: int) -> None:
        result = self._run("cancel", str(job_id))
        if result.returncode != 0:
            log.warning("cancel job %s: %s", job_id, result.stderr.strip())


def make_printer(*, server: str | None = None) -> Printers:
    """The printer this machine can run: CUPS through pycups if installed, else through its
    command line; queues named ``folder:/path`` write into that folder instead
    (:mod:`packbench.printing.folder`), with or without CUPS."""
    from packbench.printing.folder import Printers

    try:
        import cups  # noqa: F401
    except ImportError:
        return Printers(LpPrinter(server=server))
    return Printers(CupsPrinter(server=server))


def cups_available() -> bool:
    """Whether this machine has a CUPS client to print with (pycups or ``lp``)."""
    import shutil

    try:
        import cups  # noqa: F401
    except ImportError:
        return shutil.which("lp") is not None
    return True
