"""The post station with Cargonizer: closing the handover transfers the consignments; a failed
transfer is said at once, shown above the waiting parcels until it goes through, and retried by the
station's timer — the demo carrier over loopback, a real database, the real app."""

from __future__ import annotations

from sqlmodel import select

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.data.models import CarrierTransfer
from packbench.screens.post import PostScreen
from tests.operations.test_carrier_transfer import (  # noqa: F401
    cargonizer_settings,
    carrier,
    codes,
    shipped,
    transfers_at_carrier,
)
from tests.printing.conftest import cups_ready  # noqa: F401
from tests.screens.helpers import burst, settle, text_of
from tests.screens.test_ship_post import SIZE


async def test_a_failed_transfer_is_shown_and_retried_by_the_station(  # type: ignore[no-untyped-def]
    db,
    carrier,  # noqa: F811
    cups_ready,  # noqa: F811
) -> None:
    url, demo = carrier
    base = load_settings(None, db="unused.db", station="post")
    settings = base.model_copy(update={"ship": cargonizer_settings(url).ship})
    ids = shipped(db, settings)
    app = PackbenchApp(settings=settings, db=db, terminal="bench-5")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "BDG-1001")
        for oid in (ids["first"], ids["second"]):
            for code in codes(db, oid):
                burst(app, code)
        await settle(pilot)
        demo.faults.update({"next": ["500"]})
        await pilot.press("f7")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "error" and "3 parcels handed over to Cargonizer." in message
        assert "Transfer failed" in message and "retried automatically" in message
        screen = app.screen
        assert isinstance(screen, PostScreen)
        cage = text_of(screen.query_one("#waiting"))
        assert "Cargonizer: 2 consignments handed over but not transferred yet" in cage
        assert "5001" in cage and "5002" in cage and "failed (500)" in cage
        assert set(transfers_at_carrier(demo).values()) == {0}
        # The back-off is over; the station's timer sends them (looked up first).
        with db.write() as s:
            for row in s.exec(select(CarrierTransfer)).all():
                row.next_attempt_at = None
                s.add(row)
        screen._send_transfers()
        await settle(pilot)
        assert app.feedback_log[-1] == ("info", "2 consignments transferred to the carrier.")
        assert "not transferred" not in text_of(screen.query_one("#waiting"))
    assert sorted(transfers_at_carrier(demo).values()) == [1, 1]


async def test_the_dashboard_shows_a_failed_transfer_and_f7_sends_it(db, carrier) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A supervisor sees consignments the carrier has not had among what needs them (only the
    post station said so), and F7 sends the chosen one now instead of after its back-off."""
    from packbench.screens.dashboard import DashboardScreen
    from tests.operations.test_carrier_transfer import cage_all, scan
    from tests.screens.helpers import sign_in_supervisor

    url, demo = carrier
    base = load_settings(None, db="unused.db", station="dashboard")
    settings = base.model_copy(update={"ship": cargonizer_settings(url).ship})
    ids = shipped(db, settings)
    cage_all(db, settings, ids["first"], ids["second"])
    demo.faults.update({"next": ["429"]})
    assert not scan(db, settings, "CMD-COMPLETE", "Cargonizer").ok
    app = PackbenchApp(settings=settings, db=db, terminal="office")
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_supervisor(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        rows = [(e.kind, e.ref) for e in screen.exceptions]
        assert rows == [("transfer", "5001"), ("transfer", "5002")], rows
        table = text_of(screen.query_one("#needs-title"))
        assert "Needs a supervisor: 2" in table
        from tests.screens.test_sizes import on_screen

        on_screen(app, "Not transferred", "5001", "Cargonizer consignment")
        await pilot.press("down", "f7")  # the second: 5002's
        await settle(pilot)
        assert app.feedback_log[-1] == ("ok", "1 consignment transferred to the carrier."), (
            app.feedback_log
        )
        assert [(e.kind, e.ref) for e in screen.exceptions] == [("transfer", "5001")]
    assert sorted(transfers_at_carrier(demo).values()) == [0, 1]
