"""The pick station: a slip scanned mid-batch puts its order on the cart, or says why not."""

from __future__ import annotations

from packbench.config import PickSettings
from packbench.data.engine import Database
from tests.screens.helpers import scan
from tests.screens.test_pick import KJ, bench, make_app, shown, statuses

__all__ = ["bench"]  # the fixture, shared with the pick station's other tests


async def test_a_slip_scanned_mid_batch_joins_the_cart(bench: Database) -> None:
    app = make_app(bench)
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")
        await scan(pilot, KJ)
        await scan(pilot, "ORD-5003")
        kind, message = app.feedback_log[-1]
        assert (kind, message) == (
            "ok",
            "Order 5003 added to batch 1 in tote 2: 3 units, 1 more stop — 2 stops left.",
        )
        on_screen = shown(app)
        assert "A-01-1" in on_screen["where"] and on_screen["tote"] == "1"  # the begun stop
        assert "C-07-2" in on_screen["next"]
        assert "units 1/5" in on_screen["progress"]
        assert statuses(bench)["5003"] == "picking"


async def test_a_full_cart_says_why_the_slip_did_not_join(bench: Database) -> None:
    app = make_app(bench, pick=PickSettings(batch_size=1))
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")
        await scan(pilot, "ORD-5003")
        kind, message = app.feedback_log[-1]
        assert kind == "error"
        assert message.startswith("Order 5003 was not added: batch 1 is full (1 order"), message
        assert app.bells >= 1 or app.flashes >= 1
        assert statuses(bench)["5003"] == "slip_printed"
