"""The key bar at the bottom of every station: the keys that work there, and clicks on them."""

from __future__ import annotations

from packbench.screens.widgets.keybar import KeyBar
from tests.operations.seed import seed
from tests.screens.helpers import settle
from tests.screens.test_app import make_app

WIDE = (240, 40)  # every key on the bar


async def test_the_key_bar_follows_the_station_and_a_click_presses_the_key(db) -> None:  # type: ignore[no-untyped-def]
    seed(db)
    app = make_app(db, "admin")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        assert (
            "F3 Pack" in bar.text and "F7 Print new slips" in bar.text and "^F Search" in bar.text
        )
        assert [key for _, _, _, key in bar.spans].count("f3") == 1
        await pilot.press("f3")
        await settle(pilot)
        assert app.current_mode == "pack"
        bar = app.screen.query_one(KeyBar)
        assert "F8 Confirm" in bar.text and "Print new slips" not in bar.text  # pack's own keys
        line, start, _, _ = next(span for span in bar.spans if span[3] == "f1")
        await pilot.click(KeyBar, offset=(start + 1, line))
        await settle(pilot)
        assert app.current_mode == "admin"


async def test_on_a_narrow_terminal_the_key_bar_breaks_between_keys_and_keeps_them_all(db) -> None:  # type: ignore[no-untyped-def]
    seed(db)
    app = make_app(db, "pack")
    async with app.run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        lines = bar.text.split("\n")
        assert 1 < len(lines) <= KeyBar.MAX_LINES and bar.region.height == len(lines)
        assert all(len(line) <= 80 for line in lines)
        for station in ("F1 Admin", "F2 Pick", "F3 Pack", "F4 Ship", "F5 Post"):
            assert station in bar.text  # none cut off at the right any more
        assert all(line.startswith(" ") for line in lines)  # each line begins with a key
        scanbar = app.screen.query_one("ScanBar")
        assert scanbar.region.bottom <= bar.region.y  # the scan bar sits above, not under it
        line, start, _, _ = next(span for span in bar.spans if span[3] == "f1")
        assert line > 0  # the station keys come after the screen's own
        await pilot.click(KeyBar, offset=(start + 1, line))
        await settle(pilot)
        assert app.current_mode == "admin"
