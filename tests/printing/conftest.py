"""A real CUPS for the printing tests: cupsd with a PDF queue and a raw queue on port 9100.

The tests skip on a machine without CUPS, except where PACKBENCH_REQUIRE_CUPS=1 (CI sets it),
so CI can never go green by skipping them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PDF_QUEUE = "PACKBENCH-PDF"
RAW_QUEUE = "PACKBENCH-ZPL"
PDF_OUT = Path(os.environ.get("PACKBENCH_PDF_OUT", "/var/spool/cups-pdf/packbench"))
SETUP = Path(__file__).resolve().parents[2] / "scripts" / "cups-setup"


def _require() -> bool:
    return os.environ.get("PACKBENCH_REQUIRE_CUPS") == "1"


@pytest.fixture(scope="session")
def cups_ready() -> None:
    problem = None
    if shutil.which("lpadmin") is None or (
        shutil.which("cupsd") is None and not Path("/usr/sbin/cupsd").exists()
    ):
        problem = "CUPS is not installed"
    else:
        try:
            import cups  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            problem = "pycups is not installed"
    if problem is None and os.geteuid() == 0:
        result = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True)
        if result.returncode != 0:
            problem = f"scripts/cups-setup failed: {result.stderr.strip()}"
    if problem:
        if _require():
            pytest.fail(f"PACKBENCH_REQUIRE_CUPS=1 but {problem}")
        pytest.skip(problem)


class ThermalPrinter:
    """A listener on 127.0.0.1:9100 that records what a raw queue sends, job by job."""

    def __init__(self) -> None:
        self.jobs: list[bytes] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 9100))
        self._sock.listen(8)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            with conn:
                chunks = []
                conn.settimeout(5)
                while True:
                    try:
                        chunk = conn.recv(65536)
                    except TimeoutError:
                        break
                    if not chunk:
                        break
                    chunks.append(chunk)
                self.jobs.append(b"".join(chunks))

    def wait_for(self, n: int, timeout_s: float = 20) -> list[bytes]:
        deadline = time.monotonic() + timeout_s
        while len(self.jobs) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.jobs

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


@pytest.fixture
def thermal(cups_ready: None) -> Iterator[ThermalPrinter]:
    printer = ThermalPrinter()
    yield printer
    printer.close()


def find_pdf(job_id: int, timeout_s: float = 20) -> Path:
    """The file cups-pdf wrote for a job (it exists at 0 bytes until ghostscript is done)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for path in PDF_OUT.glob(f"*-job_{job_id}.pdf"):
            if path.stat().st_size > 0:
                return path
        time.sleep(0.05)
    raise AssertionError(f"no PDF for job {job_id} in {PDF_OUT}")
