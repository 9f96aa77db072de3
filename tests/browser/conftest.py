"""A real browser: Debian's Chromium (apt package ``chromium``) driven by Playwright for Python.

No browser is downloaded (``playwright install`` is never needed): Playwright starts
``/usr/bin/chromium`` headless with a fresh profile, and every request that is not for loopback
is aborted before it leaves (the page of ``packbench serve`` asks no other host for anything,
and the test proves it).

The tests skip where Chromium or Playwright is missing, except where
PACKBENCH_REQUIRE_BROWSER=1 (CI sets it in .ci/run), so CI can never go green by skipping them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("PACKBENCH_CHROMIUM", "/usr/bin/chromium")
# Read at import: tests/conftest.py clears PACKBENCH_* from each test's environment.
REQUIRED = os.environ.get("PACKBENCH_REQUIRE_BROWSER") == "1"
SCREENSHOTS = os.environ.get("PACKBENCH_SCREENSHOTS", "")
ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _problem() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[browser]')"
    return None


@pytest.fixture(scope="session")
def browser_ready() -> None:
    problem = _problem()
    if problem:
        if REQUIRED:
            pytest.fail(f"PACKBENCH_REQUIRE_BROWSER=1 but {problem}")
        pytest.skip(problem)


class Browser:
    """One headless Chromium with its own fresh profile; ``requests`` records every URL asked
    for, ``refused`` the ones stopped because they were not for loopback."""

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
        self.context = context
        self.requests: list[str] = []
        self.refused: list[str] = []
        self.console: list[str] = []

    async def new_page(self):  # type: ignore[no-untyped-def]
        page = await self.context.new_page()
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        return page


@pytest.fixture
async def browser(browser_ready: None, tmp_path: Path) -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 800},
        )
        b = Browser(context)

        async def only_loopback(route) -> None:  # type: ignore[no-untyped-def]
            url = route.request.url
            b.requests.append(url)
            host = urlsplit(url).hostname or ""
            if url.startswith("data:") or host in LOOPBACK_HOSTS:
                await route.continue_()
            else:
                b.refused.append(url)
                await route.abort()

        await context.route("**/*", only_loopback)
        for page in context.pages:  # the persistent context opens with a blank tab
            await page.close()
        try:
            yield b
        finally:
            await context.close()


ScreenshotDir = Callable[[str], Path]


@pytest.fixture
def screenshot_path(tmp_path: Path) -> ScreenshotDir:
    """Where a test keeps its screenshots: PACKBENCH_SCREENSHOTS if set (to look at them),
    else the test's tmp_path."""
    where = Path(SCREENSHOTS or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return lambda name: where / name
