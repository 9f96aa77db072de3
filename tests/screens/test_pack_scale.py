"""The pack station with a bench scale on a (pseudo-)serial port: the weight comes from the
scale's own lines, with no scan and no key (#16). A real pty pair stands for the USB cable."""

from __future__ import annotations

import os
import tty
from collections.abc import Iterator

import pytest
from sqlmodel import select
from textual.widgets import Static

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.data.engine import Database
from packbench.data.models import Event, Order, Parcel
from tests.operations.seed import seed
from tests.operations.test_packstation import CUP, SOCKS, add_boxes, make_picked
from tests.screens.helpers import scan, settle, text_of

SIZE = (150, 50)


@pytest.fixture
def pty_scale() -> Iterator[tuple[int, str]]:
    """The scale's end (write its lines here) and the port the bench opens."""
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


@pytest.fixture
def bench(db: Database) -> tuple[Database, dict[str, int]]:
    ids = seed(db)
    add_boxes(db)
    make_picked(db, ids["first"])
    make_picked(db, ids["second"])
    return db, ids


def app_with_scale(db: Database, port: str) -> PackbenchApp:
    base = load_settings(None, db="unused.db", station="pack")
    settings = base.model_copy(update={"pack": base.pack.model_copy(update={"scale": port})})
    return PackbenchApp(settings=settings, db=db, terminal="bench-1")


def status_of(db: Database, order_id: int) -> str:
    with db.read() as s:
        return s.get(Order, order_id).status  # type: ignore[union-attr]


async def wait_for(pilot, test, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.05)):
        if test():
            break
        await pilot.pause(0.05)
    await settle(pilot)


async def test_a_stable_reading_is_the_weight_without_a_scan(bench, pty_scale) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    master, port = pty_scale
    app = app_with_scale(db, port)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")  # socks + a cup
        box = app.screen.view.suggestion.parcels[0].box
        for code in (SOCKS, CUP, box):
            await scan(pilot, code)
        view = app.screen.view
        expected = view.current.expected_weight_g
        nxt = text_of(app.screen.query_one("#next-step", Static))
        # The hint gives the band, not a figure to type.
        assert "between" in nxt and " kg" in nxt and f"{expected}g" not in nxt, nxt
        assert nxt.startswith("Weigh parcel 1: between ") and "on the scale" in nxt
        parcels = text_of(app.screen.query_one("#pack-parcels", Static))
        assert f"{expected / 1000:.2f} kg" not in parcels and "–" in parcels, parcels
        # The parcel goes on: moving readings first (never taken), then a stable one.
        os.write(master, b"US,GS,  0.410kg\r\nUS,GS,  " + f"{(expected - 9) / 1000:.3f}".encode())
        os.write(master, b"kg\r\n")
        await pilot.pause(0.3)
        assert status_of(db, ids["second"]) == "packing"  # nothing taken while it moves
        os.write(master, f"ST,GS,{expected / 1000:>9.3f}kg\r\n".encode())
        await wait_for(pilot, lambda: status_of(db, ids["second"]) == "packed")
        assert status_of(db, ids["second"]) == "packed"
        assert any("Order 5002 packed" in m for _, m in app.feedback_log)
        # The same parcel read again (the scale keeps sending) weighs nothing else.
        os.write(master, f"ST,GS,{expected / 1000:>9.3f}kg\r\n".encode() * 3)
        await pilot.pause(0.3)
        await settle(pilot)
        assert not [m for k, m in app.feedback_log if k == "error"], app.feedback_log
    with db.read() as s:
        parcel = s.exec(select(Parcel).where(Parcel.order_id == ids["second"])).one()
        assert parcel.weight_g == expected
        codes = [e.code for e in s.exec(select(Event).where(Event.order_id == ids["second"]))]
    assert f"scale {expected} g" in codes  # the history says where the weight came from


async def test_a_weight_on_the_scale_waits_for_the_box_and_a_warning_for_a_new_weighing(
    bench,
    pty_scale,  # type: ignore[no-untyped-def]
) -> None:
    db, ids = bench
    master, port = pty_scale
    app = app_with_scale(db, port)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")  # two cups
        box = app.screen.view.suggestion.parcels[0].box
        await scan(pilot, CUP)
        await scan(pilot, CUP)
        # Far too light (something is missing), and on the scale before the box is scanned.
        os.write(master, b"ST,GS,  0.200kg\r\n")
        await pilot.pause(0.3)
        await settle(pilot)
        assert app.screen.view.current.weight_g == 0  # the order did not wait for it yet
        await scan(pilot, box)  # now it does: the reading on hand is taken
        await wait_for(pilot, lambda: app.screen.view.pending_weight_g is not None)
        kind, message = app.feedback_log[-1]
        assert kind == "error" and "Check parcel 1: it weighs 0.20 kg" in message
        expected = app.screen.view.current.expected_weight_g
        # Weighed again: the scale moves, then settles on the right weight; no F8 needed.
        os.write(master, b"US,GS,  0.650kg\r\n")
        os.write(master, f"ST,GS,{expected / 1000:>9.3f}kg\r\n".encode())
        await wait_for(pilot, lambda: status_of(db, ids["first"]) == "packed")
        assert status_of(db, ids["first"]) == "packed"


async def test_a_scale_that_cannot_be_opened_is_said_and_weights_are_typed(bench, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    app = app_with_scale(db, str(tmp_path / "ttyUSB9"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("Scale:" in m for _, m in app.feedback_log), 3)
        kind, message = next((k, m) for k, m in app.feedback_log if "Scale:" in m)
        assert kind == "error" and "cannot be opened" in message and "ttyUSB9" in message
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")
        box = app.screen.view.suggestion.parcels[0].box
        for code in (SOCKS, CUP, box):
            await scan(pilot, code)
        expected = app.screen.view.current.expected_weight_g
        await scan(pilot, f"{expected}g")
        assert status_of(db, ids["second"]) == "packed"


async def test_packbench_demo_s_scale_weighs_each_boxed_parcel(bench) -> None:  # type: ignore[no-untyped-def]
    """``packbench demo`` runs the demo scale on a pty and it weighs the parcel the pack
    station at its terminal has boxed: two parcels' weights come with no scan, each once; a
    weight warning (a wrong weight typed over it) is answered by weighing again."""
    from packbench.cli.bench import demo_scale

    db, ids = bench
    base = load_settings(None, db="unused.db", station="pack")
    base = base.model_copy(update={"bench": base.bench.model_copy(update={"terminal": "bench-1"})})
    # A configured scale is the shop's own: used as it is; --no-scale: none.
    own = base.model_copy(update={"pack": base.pack.model_copy(update={"scale": "/dev/ttyUSB0"})})
    assert demo_scale(own, db)[0] is own and demo_scale(base, db, off=True)[0] is base
    settings, stop = demo_scale(base, db)
    try:
        assert settings.pack.scale.startswith("/dev/pts/")
        app = PackbenchApp(settings=settings, db=db)
        assert app.actor.terminal == "bench-1"
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await scan(pilot, "BDG-1001")
            for number, key in (("5002", "second"), ("5001", "first")):
                await scan(pilot, f"ORD-{number}")
                view = app.screen.view
                box = view.suggestion.parcels[0].box
                for line in view.lines:
                    for _ in range(line.quantity):
                        await scan(pilot, line.gtin or line.sku)
                if key == "first":  # a wrong weight typed first: the warning, then the scale
                    await scan(pilot, box)
                    await scan(pilot, "50g")
                    assert app.screen.view.pending_weight_g == 50
                else:
                    await scan(pilot, box)
                await wait_for(pilot, lambda k=key: status_of(db, ids[k]) == "packed")
                assert status_of(db, ids[key]) == "packed", app.feedback_log
    finally:
        stop()
    with db.read() as s:
        events = s.exec(select(Event).where(Event.code.like("scale %"))).all()  # type: ignore[union-attr]
        weights = {p.order_id: p.weight_g for p in s.exec(select(Parcel)).all()}
    weighed = [e for e in events if e.message.startswith("parcel 1 weighs")]  # each once
    assert sorted(e.order_id for e in weighed) == sorted([ids["first"], ids["second"]])
    for e in events:
        assert e.code == f"scale {weights[e.order_id]} g" and e.result == "ok"
