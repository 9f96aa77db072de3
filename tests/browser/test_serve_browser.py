"""`packbench serve` in a real browser, as the supervisor's office PC uses it.

Chromium opens the page, the terminal draws the app, a supervisor signs in with badge and PIN
typed as keystrokes and sees the dashboard; a page from another origin, open in the same
browser, cannot connect to the bench's web socket (nor read its page). With a token, the page
asks for it first.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from packbench.cli import main
from tests.browser.conftest import Browser, ScreenshotDir
from tests.cli.test_serve import Served, run_serve

ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]"  # CSI
    rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    rb"|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
)
SIGN_IN_HINT = "scans their badge"  # the dashboard's station before anyone signed in
STEP_S = 40  # ceiling for one step on a loaded CI machine; each takes a second or two here


class Terminal:
    """What the bench's web socket brought to the page: the terminal output the xterm drew."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.data = bytearray()
        self.sockets: list[str] = []
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws) -> None:  # type: ignore[no-untyped-def]
        self.sockets.append(ws.url)
        ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload: bytes | str) -> None:
        if isinstance(payload, bytes):  # text frames are textual-serve's pongs
            self.data.extend(payload)

    def text(self) -> str:
        return ANSI.sub(b"", bytes(self.data)).decode("utf-8", "replace")

    def clear(self) -> None:
        self.data.clear()

    async def wait_for(self, *needles: str, timeout_s: float = STEP_S) -> None:
        deadline = time.monotonic() + timeout_s
        while not all(n in self.text() for n in needles):
            if time.monotonic() > deadline:
                pytest.fail(f"the terminal never showed {needles!r}: …{self.text()[-1500:]}")
            await asyncio.sleep(0.1)


async def _ink(page, path: Path) -> float:  # type: ignore[no-untyped-def]
    """Screenshot the xterm's screen to ``path``; the share of its pixels that are not the
    background colour (a blank canvas is 0)."""
    from PIL import Image

    png = await page.locator(".xterm-screen").screenshot(path=str(path))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    background = max(colours)[1] if colours else (0, 0, 0)
    other = sum(n for n, colour in colours if colour != background)
    return other / (image.width * image.height)


def _sessions(served: Served) -> int:
    """How many app processes the server runs (one per connected tab)."""
    pid = served.proc.pid
    count = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        count += len(children)
    return count


FOREIGN_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>another site</title></head>
<body><pre id="out">pending</pre>
<script>
const bench = "%(bench)s";
const result = {ws: "pending", read: "pending", reach: "pending"};
const show = () => { document.getElementById("out").textContent = JSON.stringify(result); };
const ws = new WebSocket("ws://" + bench + "/ws?width=80&height=24");
ws.binaryType = "arraybuffer";
ws.onopen = () => {
  result.ws = "open"; show(); ws.send(JSON.stringify(["stdin", "BDG-1001\\r"]));
};
ws.onmessage = () => { result.ws = "data"; show(); };
ws.onclose = (e) => { if (result.ws === "pending") { result.ws = "closed " + e.code; } show(); };
fetch("http://" + bench + "/").then((r) => r.text()).then(
  (t) => { result.read = "read " + t.length; show(); },
  () => { result.read = "refused"; show(); });
fetch("http://" + bench + "/", {mode: "no-cors"}).then(
  () => { result.reach = "reached"; show(); },
  () => { result.reach = "unreachable"; show(); });
</script></body></html>
"""


@contextmanager
def foreign_site(bench_host: str) -> Iterator[str]:
    """A second tiny web server on another loopback port: another origin, as any web site the
    supervisor might have open is. Its page tries to use the bench."""
    body = (FOREIGN_PAGE % {"bench": bench_host}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


async def _foreign_page_is_refused(browser: Browser, served: Served) -> dict[str, str]:
    sessions_before = _sessions(served)
    with foreign_site(served.host) as url:
        page = await browser.new_page()
        await page.goto(url)
        await page.wait_for_function(
            "!document.getElementById('out').textContent.includes('pending')",
            timeout=STEP_S * 1000,
        )
        result = json.loads(await page.locator("#out").text_content() or "{}")
        await asyncio.sleep(1)  # a session the server started would show by now
        assert _sessions(served) == sessions_before
        await page.close()
    assert result["reach"] == "reached", result  # the bench is reachable from that page …
    assert result["ws"].startswith("closed"), result  # … but its web socket is refused
    assert result["read"] == "refused", result  # and its page cannot be read
    return result


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    db = tmp_path / "bench.db"
    assert main(["init", "--db", str(db), "--demo", "--orders", "12"]) == 0
    return db


async def _open_bench(browser: Browser, served: Served, screenshot: ScreenshotDir):  # type: ignore[no-untyped-def]
    page = await browser.new_page()
    terminal = Terminal(page)
    await page.goto(served.base + "/")
    await page.wait_for_selector("body.-first-byte", state="attached", timeout=STEP_S * 1000)
    await terminal.wait_for(SIGN_IN_HINT)
    assert terminal.sockets == [f"ws://{served.host}/ws?" + terminal.sockets[0].split("?", 1)[1]]
    await asyncio.sleep(0.5)  # the last frames reach the canvas
    assert await _ink(page, screenshot("1-sign-in.png")) > 0.01  # the canvas shows the app
    return page, terminal


async def test_a_supervisor_signs_in_and_another_origin_cannot_connect(
    browser: Browser, demo_db: Path, screenshot_path: ScreenshotDir
) -> None:
    with run_serve(demo_db) as served:
        page, terminal = await _open_bench(browser, served, screenshot_path)
        assert _sessions(served) == 1

        # The supervisor scans the badge (a scanner types it, then Enter) and types the PIN.
        await page.locator(".xterm-helper-textarea").focus()
        terminal.clear()
        await page.keyboard.type("BDG-1001", delay=15)
        await page.keyboard.press("Enter")
        await terminal.wait_for("PIN")
        terminal.clear()
        await page.keyboard.type("2468", delay=15)
        await page.keyboard.press("Enter")
        await terminal.wait_for("Supervisor dashboard", "Ingrid Sæther (supervisor)")
        # F1 to the admin station and F6 back: the function keys reach the app.
        terminal.clear()
        await page.keyboard.press("F1")
        await terminal.wait_for("order overview")
        terminal.clear()
        await page.keyboard.press("F6")
        await terminal.wait_for("Supervisor dashboard", "Waiting (people there)", "Shortages")
        await asyncio.sleep(0.5)
        assert await _ink(page, screenshot_path("2-dashboard-terminal.png")) > 0.05
        await page.screenshot(path=str(screenshot_path("3-dashboard-page.png")))

        # Another site open in the same browser cannot drive the bench.
        await _foreign_page_is_refused(browser, served)
        assert _sessions(served) == 1  # the supervisor's tab still runs

    # Nothing left the machine: the page asked loopback only, and the CSP broke nothing.
    assert browser.refused == []
    assert not [line for line in browser.console if "Content Security Policy" in line]


async def test_the_page_asks_for_the_token(
    browser: Browser, demo_db: Path, screenshot_path: ScreenshotDir
) -> None:
    with run_serve(demo_db, "--require-token") as served:
        assert served.token
        page = await browser.new_page()
        await page.goto(served.base + "/")
        assert page.url == served.base + "/login"
        await page.screenshot(path=str(screenshot_path("4-token-form.png")))

        await page.locator("input[name=token]").fill("not-the-token")
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        assert await page.locator(".error").text_content() == "That is not the access token."
        assert await browser.context.cookies() == []

        terminal = Terminal(page)
        await page.locator("input[name=token]").fill(served.token)
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        assert page.url == served.base + "/"
        await page.wait_for_selector("body.-first-byte", state="attached", timeout=STEP_S * 1000)
        await terminal.wait_for(SIGN_IN_HINT)
        [cookie] = await browser.context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert served.token not in cookie["value"]
        assert await page.evaluate("document.cookie") == ""  # scripts cannot read it

        # The browser now holds the cookie; a page of another origin still cannot connect.
        await _foreign_page_is_refused(browser, served)
        assert _sessions(served) == 1
    assert browser.refused == []
