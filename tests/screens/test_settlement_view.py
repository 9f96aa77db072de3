"""The supervisor's settlement view (F11 on the dashboard): the week's payouts, what is open
and why, lines no order explains; an open item opens the order's history."""

from __future__ import annotations

from datetime import UTC, datetime

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.screens.audit import AuditTrail
from packbench.screens.settlement import SettlementView
from tests.operations.seed import seed
from tests.screens.helpers import settle, sign_in_supervisor, text_of
from tests.settlement.test_import_ledger import add_order, import_week, shop

SIZE = (160, 60)


async def test_the_supervisor_sees_what_is_open_and_opens_the_order(db) -> None:  # type: ignore[no-untyped-def]
    seed(db)
    shop(db, skip={10248})
    add_order(db, shop_id=10299, number="2026-10299", total=45000, method="vipps",
              completed=datetime(2026, 2, 20, 12, 0, tzinfo=UTC))  # fmt: skip
    import_week(db)
    settings = load_settings(None, db="unused.db", station="dashboard")
    app = PackbenchApp(settings=settings, db=db, terminal="office")
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        await pilot.press("f11")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, SettlementView) and view.ledger is not None
        title = text_of(view.query_one("#settlement-title"))
        assert "account 1570: balance −199,00 kr" in title  # 450,00 open − 649,00 unexplained
        figures = text_of(view.query_one("#settlement-figures"))
        assert "Completed but not settled after 7 days: 1" in figures
        assert "Lines no order explains: 1" in figures
        rest = text_of(view.query_one("#settlement-rest"))
        assert "7 024,80 kr" in rest and "order no. 10248, which is not an order here" in rest
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AuditTrail)
        assert app.screen.order_id == view.ledger.open_items[0].order_id
