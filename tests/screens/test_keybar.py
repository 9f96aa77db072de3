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
        assert [key for _, _, key in bar.spans].count("f3") == 1
        await pilot.press("f3")
        await settle(pilot)
        assert app.current_mode == "pack"
        bar = app.screen.query_one(KeyBar)
        assert "F8 Confirm" in bar.text and "Print new slips" not in bar.text  # pack's own keys
        start, _, _ = next(span for span in bar.spans if span[2] == "f1")
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await settle(pilot)
        assert app.current_mode == "admin"
