"""`packbench serve`: the app over HTTP on loopback, and a loud warning for anything else."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from packbench import serve as serve_mod
from packbench.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path):
    db = tmp_path / "bench.db"
    assert main(["init", "--db", str(db)]) == 0
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "packbench", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),  # the isolated XDG dirs of tests/conftest.py
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/", timeout=1)
            break
        except httpx.TransportError:
            if proc.poll() is not None:
                _out, err = proc.communicate()
                pytest.fail(f"serve exited {proc.returncode}: {err.decode()[-2000:]}")
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("serve did not answer within 30 s")
    yield base, proc, db
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_serve_answers_over_http_on_loopback_only(served) -> None:
    base, _proc, _db = served
    page = httpx.get(base + "/", timeout=5)
    assert page.status_code == 200
    assert "packbench" in page.text  # the page title
    assert "/ws" in page.text  # the terminal's web socket
    port = int(base.rsplit(":", 1)[1])
    # Bound to loopback: another local address of this machine does not answer.
    others = {
        info[4][0]
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        if not info[4][0].startswith("127.")
    }
    for addr in others:
        with socket.socket() as s, pytest.raises(OSError):
            s.settimeout(1)
            s.connect((addr, port))


async def test_a_browser_session_runs_the_dashboard(served) -> None:
    """The web socket starts a real packbench process that draws the dashboard's sign-in."""
    import aiohttp

    base, _proc, _db = served
    seen = b""
    url = base.replace("http", "ws") + "/ws?width=120&height=40"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(json.dumps(["resize", {"width": 120, "height": 40}]))
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and b"upervisor" not in seen:
            try:
                msg = await ws.receive(timeout=5)
            except TimeoutError:
                continue
            if msg.type == aiohttp.WSMsgType.BINARY:
                seen += msg.data
            elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break
    assert b"upervisor" in seen, seen[-2000:]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert serve_mod.is_loopback(host) is loopback


def test_binding_elsewhere_warns_loudly(tmp_path: Path, monkeypatch, capsys) -> None:
    db = tmp_path / "bench.db"
    assert main(["init", "--db", str(db)]) == 0
    started: list[tuple[str, str, int]] = []

    class FakeServer:  # stands in for the web server only: binding 0.0.0.0 in a test is rude
        def __init__(self, command: str, host: str, port: int, title: str) -> None:
            started.append((command, host, port))

        def serve(self) -> None:
            pass

    import textual_serve.server

    monkeypatch.setattr(textual_serve.server, "Server", FakeServer)
    assert main(["serve", "--db", str(db), "--host", "0.0.0.0", "--port", "8123"]) == 0
    err = capsys.readouterr().err
    assert "WARNING" in err and "NO authentication" in err and "0.0.0.0" in err
    [(command, host, port)] = started
    assert (host, port) == ("0.0.0.0", 8123)
    assert "--station dashboard" in command and str(db) in command


def test_loopback_does_not_warn(tmp_path: Path, monkeypatch, capsys) -> None:
    db = tmp_path / "bench.db"
    assert main(["init", "--db", str(db)]) == 0

    class FakeServer:
        def __init__(self, *a, **k) -> None:
            pass

        def serve(self) -> None:
            pass

    import textual_serve.server

    monkeypatch.setattr(textual_serve.server, "Server", FakeServer)
    assert main(["serve", "--db", str(db)]) == 0
    assert "WARNING" not in capsys.readouterr().err
