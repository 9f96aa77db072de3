"""A real CUPS for the printing tests: cupsd with PDF queues and a raw queue to a listener.

The tests skip on a machine without CUPS, except where PACKBENCH_REQUIRE_CUPS=1 (CI sets it),
so CI can never go green by skipping them.

Every test session run as root (CI, and the engineers on the shared machine) makes queues of
its own, named after its process, and deletes them at its end:
``PACKBENCH-PDF-<pid>`` (cups-pdf), ``PACKBENCH-STOPPED-<pid>`` (cups-pdf, kept disabled: the
broken printer) and ``PACKBENCH-ZPL-<pid>`` (raw, to a listener of its own on a free port). So
a test may stop, reject or count its queue while the other pytest-xdist workers, or another
run on the same cupsd, print. The tests that print with the configured defaults get the
session's PDF queue through ``PACKBENCH_PRINTERS__*`` (tests/conftest.py). Elsewhere (not
root) the queues scripts/cups-setup makes are used as they are: PACKBENCH-PDF, PACKBENCH-ZPL
to port 9100, and PACKBENCH-STOPPED made by the test that needs it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packbench_process import run_packbench

OWN_QUEUES = os.geteuid() == 0  # lpadmin needs root
_OWN = f"-{os.getpid()}" if OWN_QUEUES else ""
PDF_QUEUE = "PACKBENCH-PDF" + _OWN
RAW_QUEUE = "PACKBENCH-ZPL" + _OWN
STOPPED_QUEUE = "PACKBENCH-STOPPED" + _OWN
RAW_PORT = 9100  # where RAW_QUEUE sends; cups_ready sets the session's own port
PDF_OUT = Path(os.environ.get("PACKBENCH_PDF_OUT", "/var/spool/cups-pdf/packbench"))
SETUP = Path(__file__).resolve().parents[2] / "scripts" / "cups-setup"
PDF_PPD = "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd"
# One scripts/cups-setup at a time on this machine: xdist's workers start together.
SETUP_LOCK = Path(os.environ.get("TMPDIR", "/tmp")) / "packbench-cups-setup.lock"


def _require() -> bool:
    return os.environ.get("PACKBENCH_REQUIRE_CUPS") == "1"


def add_pdf_queue(name: str) -> None:
    """A cups-pdf queue called ``name`` (its PDFs land in PDF_OUT), enabled and accepting."""
    if Path(PDF_PPD).exists():
        model = ["-P", PDF_PPD]
    else:
        model = ["-m", "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd"]
    subprocess.run(["lpadmin", "-p", name, "-E", "-v", "cups-pdf:/", *model], check=True)


def remove_queue(name: str) -> None:
    subprocess.run(["cancel", "-a", name], capture_output=True, check=False)
    subprocess.run(["lpadmin", "-x", name], capture_output=True, check=False)


@pytest.fixture(scope="session")
def cups_ready() -> Iterator[None]:
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
        with SETUP_LOCK.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            result = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True)
        if result.returncode != 0:
            problem = f"scripts/cups-setup failed: {result.stderr.strip()}"
    if problem is None and OWN_QUEUES:
        problem = _add_own_queues()
    if problem:
        if _require():
            pytest.fail(f"PACKBENCH_REQUIRE_CUPS=1 but {problem}")
        pytest.skip(problem)
    yield
    if OWN_QUEUES:
        for name in (PDF_QUEUE, RAW_QUEUE, STOPPED_QUEUE):
            remove_queue(name)
        _listener.close()


def _add_own_queues() -> str | None:
    """The session's queues, the raw one to a listener on a free port of its own."""
    global RAW_PORT, _listener
    try:
        _listener = ThermalPrinter(0)
        RAW_PORT = _listener.port
        add_pdf_queue(PDF_QUEUE)
        add_pdf_queue(STOPPED_QUEUE)
        subprocess.run(["cupsdisable", STOPPED_QUEUE], check=True)
        device = f"socket://127.0.0.1:{RAW_PORT}"
        subprocess.run(["lpadmin", "-p", RAW_QUEUE, "-E", "-v", device, "-m", "raw"], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"the session's own queues could not be made: {exc}"
    return None


class ThermalPrinter:
    """A listener on 127.0.0.1 (port 9100, or 0: a free one) that records what a raw queue
    sends, job by job."""

    def __init__(self, port: int = 9100) -> None:
        self.jobs: list[bytes] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
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


_listener: ThermalPrinter  # behind the session's own RAW_QUEUE, for the whole session


@pytest.fixture
def thermal(cups_ready: None) -> Iterator[ThermalPrinter]:
    """The thermal printer behind RAW_QUEUE, with no job yet."""
    if OWN_QUEUES:
        _listener.jobs.clear()
        yield _listener
        return
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


@pytest.fixture(scope="session")
def _cli_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli-demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACKBENCH_")}
    env |= {f"XDG_{d}_HOME": str(home / d.lower()) for d in ("CONFIG", "DATA", "STATE", "CACHE")}
    env["PACKBENCH_BENCH__TERMINAL"] = "test-term"  # as tests/conftest.py sets for every test
    path = home / "demo.db"
    made = run_packbench("init", "--demo", "--db", str(path), timeout=120, env=env)
    assert made.returncode == 0, made.stderr
    return path


@pytest.fixture
def cli_demo_db(_cli_demo: Path, tmp_path: Path) -> Path:
    """A copy of the database ``packbench init --demo`` made (once a session: it takes a
    process and a few seconds of CPU) for this test to change."""
    path = tmp_path / "demo.db"
    shutil.copyfile(_cli_demo, path)
    return path
