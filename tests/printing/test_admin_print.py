"""The admin station's one key: every new order's slip, one job, and the orders move on."""

from __future__ import annotations

from packbench.operations.orders import status_counts
from packbench.screens.widgets.order_panel import OrderPanel
from tests.operations.seed import seed
from tests.printing.conftest import PDF_QUEUE
from tests.screens.helpers import scan, settle, text_of
from tests.screens.test_app import last_feedback, make_app


async def test_f7_prints_every_new_slip_and_moves_the_orders(cups_ready, db) -> None:  # type: ignore[no-untyped-def]
    seed(db)
    app = make_app(db)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f7")
        await settle(pilot)
        assert last_feedback(app)[0] == "error" and "badge" in last_feedback(app)[1]
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")  # open one of them: its detail must follow the print
        await settle(pilot)
        panel = app.screen.query_one(OrderPanel)
        detail = text_of(panel, panel.content_region.width)
        assert panel.content_region.width < 60
        assert "Order 5001" in detail and "New" in detail
        # At 120 columns the detail pane is narrow: the lines are listed, headers and names
        # whole (a squeezed table showed "Q… P… P…" and a name one letter a row).
        assert "2 × FJ-KJ-0001" in detail and "Kaffekopp i steintøy" in detail
        assert "Q…" not in detail
        await pilot.press("f7")
        for _ in range(100):  # the print runs in a worker; CUPS takes a moment
            await settle(pilot)
            if last_feedback(app)[1].startswith(("Slip printed", "Not printed")):
                break
        kind, message = last_feedback(app)
        assert kind == "ok", message
        assert message.startswith(f"Slip printed on {PDF_QUEUE} (3 orders)")
        for _ in range(50):  # the list reloads, then the open order's detail
            await settle(pilot)
            if "Slip printed" in text_of(app.screen.query_one(OrderPanel)):
                break
        detail = text_of(app.screen.query_one(OrderPanel))
        assert "Order 5001" in detail and "Slip printed" in detail
    counts = status_counts(db)
    assert counts["new"] == 0 and counts["slip_printed"] == 3
