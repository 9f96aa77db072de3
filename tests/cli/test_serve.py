"""`packbench serve`: the app over HTTP for the bench's own page only.

A real server (``packbench serve`` in a subprocess on loopback) and a real client (httpx for
pages, aiohttp's web socket client): a foreign ``Origin``, a wrong ``Host`` (DNS rebinding) and
a wrong or missing token are refused; the right ones get a packbench terminal.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from packbench import serve as serve_mod
from packbench.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    base: str
    port: int
    proc: subprocess.Popen[bytes]
    out: list[str]
    token: str | None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://{self.host}"

    @property
    def cookie_name(self) -> str:
        return f"packbench_session_{self.port}"


@contextmanager
def run_serve(db: Path, *extra: str) -> Iterator[Served]:
    """``packbench serve`` on a free loopback port, until it has printed its start lines."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "packbench", "serve", "--db", str(db), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),  # the isolated XDG dirs of tests/conftest.py
    )
    assert proc.stdout is not None
    lines: list[str] = []
    buffer = b""
    deadline = time.monotonic() + 30
    try:
        while not any(line.startswith("Ctrl+C") for line in lines):
            if time.monotonic() > deadline:
                pytest.fail(f"serve did not start within 30 s: {lines}")
            if proc.poll() is not None:
                _out, err = proc.communicate()
                pytest.fail(f"serve exited {proc.returncode}: {err.decode()[-2000:]}")
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                buffer += chunk
                *done, buffer = buffer.split(b"\n")
                lines += [line.decode() for line in done]
        while True:  # the lines come before aiohttp binds the port
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"serve printed its start lines but does not listen: {lines}")
                time.sleep(0.05)
        token = next(
            (line.split(": ", 1)[1] for line in lines if line.startswith("access token: ")), None
        )
        yield Served(f"http://127.0.0.1:{port}", port, proc, lines, token)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def bench_db(tmp_path: Path) -> Path:
    db = tmp_path / "bench.db"
    assert main(["init", "--db", str(db)]) == 0
    return db


@pytest.fixture
def served(bench_db: Path) -> Iterator[Served]:
    with run_serve(bench_db) as s:
        yield s


@pytest.fixture
def served_token(bench_db: Path) -> Iterator[Served]:
    with run_serve(bench_db, "--require-token") as s:
        yield s


async def _terminal_text(
    url: str, headers: dict[str, str], *, until: bytes = b"upervisor", timeout_s: float = 40
) -> bytes:
    """Connect the web socket as the page does and collect what the app draws."""
    import aiohttp

    seen = b""
    async with aiohttp.ClientSession() as session, session.ws_connect(url, headers=headers) as ws:
        await ws.send_str(json.dumps(["resize", {"width": 120, "height": 40}]))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and until not in seen:
            try:
                msg = await ws.receive(timeout=5)
            except TimeoutError:
                continue
            if msg.type == aiohttp.WSMsgType.BINARY:
                seen += msg.data
            elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break
    return seen


async def _handshake_status(url: str, headers: dict[str, str]) -> int:
    """The HTTP status a web socket handshake is refused with (101 when it is accepted)."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, headers=headers) as ws:
                await ws.close()
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


# -- the page ---------------------------------------------------------------------------------


def test_serve_answers_over_http_on_loopback_only(served: Served) -> None:
    page = httpx.get(served.base + "/", timeout=5)
    assert page.status_code == 200
    assert "<title>packbench</title>" in page.text
    assert f'data-session-websocket-url="ws://{served.host}/ws"' in page.text
    # Nothing from another host: the supervisor's browser asks no one else for fonts or scripts.
    assert "https://" not in page.text and "googleapis" not in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and f"connect-src 'self' ws://{served.host}" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert not any("access token" in line for line in served.out)  # loopback: no token
    # Bound to loopback: another local address of this machine does not answer.
    others = {
        info[4][0]
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        if not info[4][0].startswith("127.")
    }
    for addr in others:
        with socket.socket() as s, pytest.raises(OSError):
            s.settimeout(1)
            s.connect((addr, served.port))


def test_the_page_advertises_the_address_the_browser_used(served: Served) -> None:
    for host in (f"localhost:{served.port}", f"127.0.0.1:{served.port}"):
        page = httpx.get(served.base + "/", headers={"Host": host}, timeout=5)
        assert page.status_code == 200
        assert f'data-session-websocket-url="ws://{host}/ws"' in page.text
        assert "0.0.0.0" not in page.text


WRONG_HOSTS = [
    "evil.example:{port}",  # DNS rebinding: a name of the attacker's that resolves here
    "evil.example",
    "127.0.0.1:{other}",  # another port (another origin)
    "127.0.0.1",  # port 80
    "[::1]:{port}",  # not the address served
    "localhost.:{port}",
    "user@127.0.0.1:{port}",
    "127.0.0.1:{port}/x",
    "",
]


def test_a_wrong_host_is_refused(served: Served) -> None:
    for host in WRONG_HOSTS:
        value = host.format(port=served.port, other=served.port + 1)
        for path in ("/", "/static/js/textual.js", "/ws", "/login"):
            r = httpx.get(served.base + path, headers={"Host": value}, timeout=5)
            assert r.status_code == 421, (value, path, r.status_code)
            assert "<html" not in r.text


# -- the web socket ---------------------------------------------------------------------------


async def test_a_browser_session_runs_the_dashboard(served: Served) -> None:
    """The web socket from the bench's own page starts a real packbench that draws the
    dashboard's sign-in."""
    seen = await _terminal_text(
        served.base.replace("http", "ws") + "/ws", {"Origin": served.origin}
    )
    assert b"upervisor" in seen, seen[-2000:]


FOREIGN_ORIGINS = [
    "http://evil.example",
    "https://evil.example",
    "http://127.0.0.1:{other}",  # a page on another port of this machine: another origin
    "http://localhost:{port}",  # same server, but not the origin of the Host used
    "null",  # a sandboxed iframe or a file:// page
    "http://127.0.0.1:{port}.evil.example",
    None,  # no browser leaves it out: a script of some other kind
]


async def test_a_foreign_origin_is_refused(served: Served) -> None:
    ws_url = served.base.replace("http", "ws") + "/ws"
    for origin in FOREIGN_ORIGINS:
        headers = {"Host": served.host}
        if origin is not None:
            headers["Origin"] = origin.format(port=served.port, other=served.port + 1)
        assert await _handshake_status(ws_url, headers) == 403, origin
    # A wrong Host with a matching Origin (DNS rebinding) is refused before that.
    rebinding = {
        "Host": f"evil.example:{served.port}",
        "Origin": f"http://evil.example:{served.port}",
    }
    assert await _handshake_status(ws_url, rebinding) == 421


async def test_the_same_origin_under_localhost_is_accepted(served: Served) -> None:
    host = f"localhost:{served.port}"
    status = await _handshake_status(
        served.base.replace("http", "ws") + "/ws", {"Host": host, "Origin": f"http://{host}"}
    )
    assert status == 101


# -- the token --------------------------------------------------------------------------------


async def test_a_missing_or_wrong_token_is_refused_and_the_right_one_accepted(
    served_token: Served,
) -> None:
    s = served_token
    assert s.token and len(s.token) >= 32
    assert [line for line in s.out if s.token in line] == [f"access token: {s.token}"]  # once
    ws_url = s.base.replace("http", "ws") + "/ws"
    own = {"Origin": s.origin}

    # No cookie: the page sends the browser to the sign-in form; nothing else answers.
    page = httpx.get(s.base + "/", timeout=5)
    assert page.status_code == 303 and page.headers["Location"] == "/login"
    form = httpx.get(s.base + "/login", timeout=5)
    assert form.status_code == 200 and 'type="password" name="token"' in form.text
    assert httpx.get(s.base + "/static/js/textual.js", timeout=5).status_code == 403
    assert await _handshake_status(ws_url, own) == 403

    # A wrong token, an empty one, or the right one with a byte too many: no cookie.
    for wrong in ("", "x", s.token[:-1], s.token + "x", s.token.upper(), "é" * 8):
        r = httpx.post(s.base + "/login", data={"token": wrong}, headers=own, timeout=5)
        assert r.status_code in (400, 403), wrong
        assert "set-cookie" not in r.headers
    # A made-up cookie opens nothing either.
    forged = {**own, "Cookie": f"{s.cookie_name}={s.token}"}
    assert await _handshake_status(ws_url, forged) == 403

    # The right token from another page (login CSRF) is refused too.
    r = httpx.post(
        s.base + "/login", data={"token": s.token}, headers={"Origin": "http://evil.example"}
    )
    assert r.status_code == 403 and "set-cookie" not in r.headers

    # The right token from the bench's own form: an HttpOnly, SameSite=Strict cookie.
    r = httpx.post(s.base + "/login", data={"token": s.token}, headers=own, timeout=5)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{s.cookie_name}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert s.token not in cookie  # the cookie is a session value, not the token itself
    value = cookie.split(";", 1)[0]
    page = httpx.get(s.base + "/", headers={"Cookie": value}, timeout=5)
    assert page.status_code == 200 and "data-session-websocket-url" in page.text

    # With the cookie: the foreign origin is still refused, the bench's own page gets the app.
    assert (
        await _handshake_status(ws_url, {"Cookie": value, "Origin": "http://evil.example"}) == 403
    )
    seen = await _terminal_text(ws_url, {**own, "Cookie": value})
    assert b"upervisor" in seen, seen[-2000:]


# -- the rules, one by one --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert serve_mod.is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("127.0.0.1:8070", ("127.0.0.1", 8070)),
        ("LocalHost:8070", ("localhost", 8070)),
        ("[::1]:8070", ("::1", 8070)),
        ("bench.lan", ("bench.lan", None)),
        ("bench.lan.:8070", None),
        ("a@b:8070", None),
        ("b:80x", None),
        ("b:99999", None),
        ("b c:8070", None),
        ("bench;evil:8070", None),
        ("x" * 400, None),
        ("", None),
        (None, None),
    ],
)
def test_split_host(value: str | None, parsed: tuple[str, int | None] | None) -> None:
    assert serve_mod.split_host(value) == parsed


def test_the_gate_on_loopback() -> None:
    gate = serve_mod.Gate("127.0.0.1", 8070)
    assert gate.host_ok("127.0.0.1:8070") and gate.host_ok("localhost:8070")
    assert not gate.host_ok("127.0.0.1:8071")
    assert not gate.host_ok("127.0.0.1")  # port 80
    assert not gate.host_ok("[::1]:8070")  # not bound there
    assert not gate.host_ok("127.0.0.2:8070")
    assert not gate.host_ok("rebind.example:8070")
    assert gate.origin_ok("http://127.0.0.1:8070", "127.0.0.1:8070")
    assert gate.origin_ok("HTTP://LOCALHOST:8070", "localhost:8070")
    assert not gate.origin_ok("http://localhost:8070", "127.0.0.1:8070")
    assert not gate.origin_ok(None, "127.0.0.1:8070")
    assert gate.token is None and gate.token_ok(None) and gate.session_ok(None)


def test_the_gate_on_every_address() -> None:
    """Bound to 0.0.0.0 (not actually bound here): this machine's addresses and names only."""
    gate = serve_mod.Gate("0.0.0.0", 8070, token="t" * 32, names=["bench.office.lan"])
    assert gate.host_ok("127.0.0.1:8070")
    assert gate.host_ok(f"{socket.gethostname()}:8070")
    assert gate.host_ok("bench.office.lan:8070") and gate.host_ok("BENCH.office.lan:8070")
    for addr in {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}:
        bracketed = f"[{addr}]" if ":" in addr else addr
        assert gate.host_ok(f"{bracketed}:8070"), addr
    assert not gate.host_ok("192.0.2.1:8070")  # TEST-NET-1: not an address of this machine
    assert not gate.host_ok("rebind.example:8070")
    assert not gate.host_ok("bench.office.lan:8071")
    assert "t" * 32 not in repr(gate)
    assert gate.token_ok("t" * 32) and not gate.token_ok("t" * 31) and not gate.token_ok(None)
    assert not gate.session_ok(None) and not gate.session_ok("t" * 32)
    assert gate.session is not None and gate.session_ok(gate.session)


def test_a_named_bind_address_is_its_name_and_addresses() -> None:
    gate = serve_mod.Gate("localhost", 8070)
    assert gate.host_ok("localhost:8070") and gate.host_ok("127.0.0.1:8070")
    assert not gate.host_ok(f"{socket.gethostname()}:8070") or socket.gethostname() == "localhost"


def test_only_loopback_goes_without_a_token() -> None:
    for host in ("127.0.0.1", "localhost", "::1"):
        assert serve_mod.make_server(host, 8070, ["--station", "dashboard"]).gate.token is None
    remote = serve_mod.make_server("0.0.0.0", 8070, ["--station", "dashboard"])
    assert remote.gate.token and len(remote.gate.token) >= 32
    again = serve_mod.make_server("0.0.0.0", 8070, ["--station", "dashboard"])
    assert again.gate.token != remote.gate.token  # random each start
    forced = serve_mod.make_server("127.0.0.1", 8070, [], require_token=True)
    assert forced.gate.token


def test_binding_elsewhere_asks_for_a_token(bench_db: Path, monkeypatch, capsys) -> None:
    """`serve --host 0.0.0.0` builds the guarded server with a token (not bound here: binding
    every address in a test is rude) and gives the tabs the database in the environment."""
    started: list[object] = []
    make = serve_mod.make_server

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        server = make(*args, **kwargs)
        server.serve = lambda: started.append(server)
        return server

    monkeypatch.setattr(serve_mod, "make_server", recording)
    monkeypatch.delenv("PACKBENCH_DB", raising=False)  # restored after the test
    args = ["serve", "--db", str(bench_db), "--host", "0.0.0.0", "--port", "8123"]
    assert main([*args, "--allow-host", "bench.office.lan"]) == 0
    err = capsys.readouterr().err
    assert "0.0.0.0" in err and "access token" in err
    [server] = started
    assert (server.host, server.port) == ("0.0.0.0", 8123)  # type: ignore[attr-defined]
    gate = server.gate  # type: ignore[attr-defined]
    assert gate.token and gate.host_ok("bench.office.lan:8123")
    assert "--station dashboard" in server.command  # type: ignore[attr-defined]
    assert str(bench_db) not in server.command  # type: ignore[attr-defined]
    assert os.environ["PACKBENCH_DB"] == str(bench_db)


def test_loopback_does_not_warn(bench_db: Path, monkeypatch, capsys) -> None:
    started: list[object] = []
    make = serve_mod.make_server

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        server = make(*args, **kwargs)
        server.serve = lambda: started.append(server)
        return server

    monkeypatch.setattr(serve_mod, "make_server", recording)
    monkeypatch.delenv("PACKBENCH_DB", raising=False)
    assert main(["serve", "--db", str(bench_db)]) == 0
    assert capsys.readouterr().err == ""
    [server] = started
    assert server.gate.token is None  # type: ignore[attr-defined]


# -- on every address, inside a network namespace of the test's own -------------------------

NAMESPACE_CLIENT = r"""
import json, os, socket, subprocess, sys, time
import httpx

subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
db, port = sys.argv[1], int(sys.argv[2])
proc = subprocess.Popen(
    [sys.executable, "-m", "packbench", "serve", "--db", db, "--host", "0.0.0.0",
     "--port", str(port), "--allow-host", "bench.office.lan"],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
)
out = []
try:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("serve did not start")
            time.sleep(0.1)
    base = f"http://127.0.0.1:{port}"
    token = None
    while token is None:
        line = proc.stdout.readline()
        out.append(line)
        if line.startswith("access token: "):
            token = line.split(": ", 1)[1].strip()
    result = {"out": out}
    for name in (socket.gethostname(), "bench.office.lan", "evil.example"):
        host = f"{name}:{port}"
        r = httpx.post(base + "/login", data={"token": token},
                       headers={"Host": host, "Origin": f"http://{host}"})
        entry = {"login": r.status_code}
        if r.status_code == 303:
            cookie = r.headers["set-cookie"].split(";", 1)[0]
            page = httpx.get(base + "/", headers={"Host": host, "Cookie": cookie})
            entry["page"] = page.status_code
            entry["ws"] = page.text.split('data-session-websocket-url="', 1)[1].split('"', 1)[0]
        result[name] = entry
    bare = httpx.get(base + "/", headers={"Host": f"bench.office.lan:{port}"})
    result["no_token"] = bare.status_code
    print(json.dumps(result))
finally:
    proc.terminate()
    proc.wait(timeout=20)
    sys.stderr.write(proc.stderr.read())
"""


def test_on_every_address_the_page_asks_for_the_token_and_advertises_the_host_used(
    bench_db: Path, tmp_path: Path
) -> None:
    """`--host 0.0.0.0` for real, in a network namespace that has only its own loopback (so
    nothing is exposed): the token is asked for, this machine's names and --allow-host are
    served with their own ws:// address, another name is refused."""
    import shutil

    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare (util-linux) and ip (iproute2)")
    if subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a network namespace here (needs root)")
    script = tmp_path / "client.py"
    script.write_text(NAMESPACE_CLIENT)
    port = 8070
    done = subprocess.run(
        ["unshare", "--net", sys.executable, str(script), str(bench_db), str(port)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    hostname = socket.gethostname()
    assert result[hostname] == {"login": 303, "page": 200, "ws": f"ws://{hostname}:{port}/ws"}
    assert result["bench.office.lan"]["ws"] == f"ws://bench.office.lan:{port}/ws"
    assert result["evil.example"] == {"login": 421}
    assert result["no_token"] == 303  # to the token form
    assert "0.0.0.0, which other machines can reach" in done.stderr
    assert not any("0.0.0.0" in line for line in result["out"])  # never advertised
