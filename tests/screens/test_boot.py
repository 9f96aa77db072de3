"""The app shown before its database is open (#20): the first frame, scans typed meanwhile, and
a database that cannot be opened."""

from __future__ import annotations

import asyncio
import threading

from textual import events

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.screens.boot import BootScreen
from packbench.screens.widgets.scanbar import ScanBar
from tests.operations.seed import seed
from tests.screens.helpers import burst, settle

SIZE = (120, 40)


async def _until(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_the_first_frame_comes_before_the_database_and_keeps_the_scans_typed(db) -> None:  # type: ignore[no-untyped-def]
    seed(db)
    may_open = threading.Event()

    def open_db():  # type: ignore[no-untyped-def]
        assert may_open.wait(20), "the test never let the database open"
        return db

    settings = load_settings(None, db="unused.db", station="pack")
    app = PackbenchApp(settings=settings, open_db=open_db, terminal="term-1")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BootScreen)  # drawn while the database is not open
        text = " ".join(str(w.content) for w in app.screen.query("Static"))
        assert "Opening the pack station" in text
        burst(app, "BDG-1001")  # the packer scans the badge, then a slip, at once
        burst(app, "ORD-5002")
        for ch in "ORD-50":  # and a third scan is still arriving: no Enter yet
            app.post_message(events.Key(ch if ch.isalnum() else "minus", ch))
        await pilot.pause()
        may_open.set()
        await _until(lambda: app.current_mode == "pack")
        await settle(pilot)
        assert app.actor.packer_name == "Kari Nordmann"
        assert any("5002" in message for kind, message in app.feedback_log if kind == "ok")
        assert isinstance(app.focused, ScanBar)
        assert app.focused.value == "ORD-50"  # waits for its Enter, as typed


async def test_a_database_that_cannot_be_opened_closes_the_app_and_says_why(db) -> None:  # type: ignore[no-untyped-def]
    class NoDatabase(Exception):
        pass

    def open_db():  # type: ignore[no-untyped-def]
        raise NoDatabase("no database at /nowhere/bench.db")

    settings = load_settings(None, db="unused.db", station="admin")
    app = PackbenchApp(settings=settings, open_db=open_db, terminal="term-1")
    async with app.run_test(size=SIZE) as pilot:
        await _until(lambda: app.boot_error is not None)
        await pilot.pause()
    assert isinstance(app.boot_error, NoDatabase)
    assert app.return_code == 1


def test_the_app_and_the_command_line_load_no_database_code_before_the_first_frame() -> None:
    """What the first frame waits for: no SQLAlchemy, no SQLModel, no tables, no operations
    beyond the actor (they load in the boot worker)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import packbench.cli\n"
        "from packbench.cli.bench import cmd_app\n"
        "import packbench.app, packbench.screens.boot\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in"
        " ('sqlalchemy', 'sqlmodel', 'pydantic_settings', 'alembic', 'httpx')"
        " or m.startswith(('packbench.data.models', 'packbench.operations.common'))]\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


async def test_the_database_opens_after_the_first_frame_and_collections_resume(db) -> None:  # type: ignore[no-untyped-def]
    """The boot worker starts once the first frame is painted (its imports would delay it);
    the command line's start without collections ends when the station is there, and what
    the start loaded is set aside from later collections (#20)."""
    import gc
    from pathlib import Path

    import packbench.app

    seed(db)
    painted: list[object] = []

    class Watched(PackbenchApp):
        CSS_PATH = str(Path(packbench.app.__file__).with_name("app.tcss"))

        def _display(self, screen, update) -> None:  # type: ignore[no-untyped-def]
            painted.append(screen)
            super()._display(screen, update)

    def open_db():  # type: ignore[no-untyped-def]
        assert any(isinstance(screen, BootScreen) for screen in painted), "before the frame"
        return db

    settings = load_settings(None, db="unused.db", station="pack")
    app = Watched(settings=settings, open_db=open_db, terminal="term-1")
    gc.disable()  # as packbench.cli.main leaves it for the app
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _until(lambda: app.current_mode == "pack")
            await pilot.pause()
            assert app.boot_error is None
            assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
