"""One order from the demo shop through all five stations, by key bursts only.

The bundled demo shop runs as a real HTTP server on loopback; the bench is the demo bench over
the same catalogue and orders; printing goes through the real CUPS PDF queue; the app's own
background sync talks to the shop. A new order gets its packing slip printed (admin, F7), is
picked (pick), packed in the suggested box (pack), shipped with its label printed and its
transaction completed (ship), and handed over (post). Then the shop is checked: the order is
completed, its tracking number is there, the payment was captured once, and the invoice is
booked (debit the clearing account 1570, credit 3000 and 2700). The same with the shop down when
the transaction is completed, and up again later. Finally the order's audit trail shows every
station, who and where.
"""

from __future__ import annotations

import pytest
from sqlmodel import col, select
from textual.widgets import Static

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.data.engine import Database
from packbench.data.models import Order, Parcel
from packbench.operations.audit import order_history
from packbench.operations.pack_state import pack_view
from packbench.operations.pack_views import PackRules
from packbench.operations.pick_views import PickRules, current_batch
from tests.printing.conftest import PDF_QUEUE, cups_ready  # noqa: F401
from tests.screens.helpers import burst, settle, text_of
from tests.shop.test_sync import KEY, SECRET, engine, shop  # noqa: F401

SIZE = (160, 50)


def status(db: Database, order_id: int) -> str:
    with db.read() as s:
        order = s.get(Order, order_id)
        assert order is not None
        return order.status


async def bursts(pilot, *codes: str) -> None:  # type: ignore[no-untyped-def]
    for code in codes:
        burst(pilot.app, code)
        await settle(pilot)


async def until(pilot, check, what: str, tries: int = 300) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if check():
            return
        await pilot.pause(0.1)
    raise AssertionError(
        f"timed out waiting for {what}; last feedback {pilot.app.feedback_log[-3:]}"
    )


@pytest.mark.parametrize("shop_down_at_completion", [False, True], ids=["shop-up", "shop-down"])
async def test_an_order_through_all_five_stations(  # type: ignore[no-untyped-def]
    demo_db: Database,
    shop,  # noqa: F811
    cups_ready,  # noqa: F811
    monkeypatch,
    shop_down_at_completion: bool,
) -> None:
    db = demo_db
    first = engine(db, shop)
    first.run_once(products=True)  # bench and shop agree before the day starts
    first.release()  # the app's own sync takes over
    with db.read() as s:
        oid, number, shop_id = s.exec(
            select(Order.id, Order.number, Order.shop_order_id)
            .where(Order.status == "new", Order.shipping_method_id == "flat_rate:3")
            .order_by(col(Order.id))
        ).first()
    for name, value in {
        "PACKBENCH_SHOP__URL": shop.url,
        "PACKBENCH_SHOP_KEY": KEY,
        "PACKBENCH_SHOP_SECRET": SECRET,
        "PACKBENCH_SHOP__SYNC_INTERVAL_S": "0.5",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(None, db="unused.db", station="admin")
    app = PackbenchApp(settings=settings, db=db, terminal="bench-1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        # ① Admin: the packer signs in; one key prints every new order's slip through CUPS.
        await bursts(pilot, "BDG-1002")
        assert app.actor.signed_in
        await pilot.press("f7")
        await until(pilot, lambda: status(db, oid) == "slip_printed", "the slip")

        # ② Pick: the slip starts the pick; each stop's items in walking order.
        await pilot.press("f2")
        await settle(pilot)
        await bursts(pilot, f"ORD-{number}")
        rules = PickRules()
        for _ in range(50):
            view = current_batch(db, app.actor, app.layout, rules)
            if view is None or view.current is None:
                break
            for item in view.current.items:
                await bursts(pilot, *[item.gtin or item.sku] * item.left)
        assert status(db, oid) == "picked", app.feedback_log[-3:]

        # ③ Pack: the slip claims it; every unit; the suggested box; the scale's weight.
        await pilot.press("f3")
        await settle(pilot)
        await bursts(pilot, f"ORD-{number}")
        packed = pack_view(db, app.actor, PackRules(), oid)
        assert packed is not None and packed.mine and packed.suggestion is not None
        assert len(packed.suggestion.parcels) == 1  # the demo's orders fit one box
        for line in packed.lines:
            await bursts(pilot, *[line.gtin or line.sku] * (line.quantity - line.packed))
        await bursts(pilot, packed.suggestion.parcels[0].box)
        packed = pack_view(db, app.actor, PackRules(), oid)
        assert packed is not None and packed.current is not None
        await bursts(pilot, f"{packed.current.expected_weight_g}g")
        assert status(db, oid) == "packed", app.feedback_log[-3:]

        # ④ Ship: the slip books the shipment and prints its label; then complete.
        await pilot.press("f4")
        await settle(pilot)
        await bursts(pilot, f"ORD-{number}")
        kind, message = app.feedback_log[-1]
        assert kind == "ok" and f"Label printed on {PDF_QUEUE}" in message, message
        if shop_down_at_completion:
            shop.faults(fail_rate=1.0, applied_share=0.0)
        await bursts(pilot, "CMD-COMPLETE")
        assert "transaction completed" in app.feedback_log[-1][1]
        main = lambda: text_of(app.screen.query_one("#main", Static))  # noqa: E731
        if shop_down_at_completion:
            await until(pilot, lambda: "did not answer" in main(), "the outage on screen")
            assert "will complete by itself" in main()
            assert [c for c in shop.captures() if c["order_id"] == shop_id] == []
            shop.faults()  # up again
        await until(pilot, lambda: "invoice" in main(), "the shop's answer")
        assert "payment captured" in main()

        # ⑤ Post: each parcel's label into the cage, then close the handover.
        with db.read() as s:
            labels = [
                p.tracking_number or ""
                for p in s.exec(select(Parcel).where(Parcel.order_id == oid)).all()
                if p.status != "void"
            ]
        assert labels and all(labels)
        await pilot.press("f5")
        await settle(pilot)
        await bursts(pilot, *labels)
        await bursts(pilot, "CMD-COMPLETE")
        if status(db, oid) != "handed_over":  # other parcels are waiting: confirm they stay
            await bursts(pilot, "CMD-CONFIRM")
        assert status(db, oid) == "handed_over", app.feedback_log[-3:]

    # The shop: completed, tracked, captured once, booked against 1570.
    record = shop.http.get(f"/wp-json/wc/v3/orders/{shop_id}").json()
    assert record["status"] == "completed"
    meta = {m["key"]: m["value"] for m in record["meta_data"]}
    assert meta["_packbench_tracking"] == ", ".join(labels)
    assert int(meta["_capture_count"]) == 1
    assert len([c for c in shop.captures() if c["order_id"] == shop_id]) == 1
    [entry] = [e for e in shop.ledger() if e["order_id"] == shop_id]
    accounts = {line["account"]: line for line in entry["lines"]}
    assert set(accounts) == {"1570", "3000", "2700"}
    assert accounts["1570"]["debit_ore"] == (
        accounts["3000"]["credit_ore"] + accounts["2700"]["credit_ore"]
    )
    with db.read() as s:
        order = s.get(Order, oid)
        assert order is not None and order.invoice_number == entry["invoice_number"]

    # The audit trail: every station, by whom, at which terminal.
    history = order_history(db, number)
    assert history is not None
    stations = {e.station for e in history.entries if e.packer == "Jørgen Lie"}
    assert {"admin", "pick", "pack", "ship", "post"} <= stations, stations
    assert all(e.terminal == "bench-1" for e in history.entries if e.packer == "Jørgen Lie")
    unit_scans = [e for e in history.entries if e.station == "pack" and e.result == "ok"]
    assert any("parcel 1" in e.message for e in unit_scans)  # which unit went into which parcel
