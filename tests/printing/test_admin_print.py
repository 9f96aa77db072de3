"""The admin station's one key: every new order's slip, one job, and the orders move on."""

from __future__ import annotations

from packbench.operations.orders import status_counts
from tests.operations.seed import seed
from tests.screens.helpers import scan, settle
from tests.screens.test_app import SIZE, last_feedback, make_app


async def test_f7_prints_every_new_slip_and_moves_the_orders(cups_ready, db) -> None:  # type: ignore[no-untyped-def]
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        await settle(pilot)
        assert last_feedback(app)[0] == "error" and "badge" in last_feedback(app)[1]
        await scan(pilot, "BDG-1001")
        await pilot.press("f7")
        for _ in range(100):  # the print runs in a worker; CUPS takes a moment
            await settle(pilot)
            if last_feedback(app)[1].startswith(("Slip printed", "Not printed")):
                break
        kind, message = last_feedback(app)
        assert kind == "ok", message
        assert message.startswith("Slip printed on PACKBENCH-PDF (3 orders)")
    counts = status_counts(db)
    assert counts["new"] == 0 and counts["slip_printed"] == 3
