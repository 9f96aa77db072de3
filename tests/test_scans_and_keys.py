"""What an ordinary order costs in scans and keys, from its printed slip to handed over (#16).

The app is driven the way a small shop's bench is used: one terminal per station, each person
signs in with their badge, and everything after that is a scanner burst ended by Enter — no key
is pressed. The configuration is the one the README gives for a small shop:

- ``[pack] ship_when_packed`` + ``[ship] complete_on_label``: the label is printed at the pack
  bench and the transaction completes there, so no ship station scan;
- ``[pack] scale``: a bench scale on a serial port (here a real pseudo-terminal pair) gives the
  weight; a stable reading needs no scan;
- with ``[pack] pick_at_pack`` too, pick and pack are one pass at one bench: each unit is
  scanned once, as it goes from the shelf into the box.

Counted per order: every scan from the slip at the first station to the parcel's label at the
post station. Counted apart: the badge scans (once per person and shift, not per order) and the
handover's ``CMD-COMPLETE`` (once per pickup, however many orders it hands over).
The goal: ≤ 2 × units + 4 scans with separate pick and pack, ≤ units + 4 at one bench, 0 keys.
"""

from __future__ import annotations

import os
import tty
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select
from textual.widgets import Static

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.core.workflow import Action
from packbench.data.engine import Database
from packbench.data.models import Order, OrderLine, Packer, Parcel, Product
from packbench.operations.common import Actor, change_status
from tests.operations.seed import seed
from tests.operations.test_packstation import add_boxes
from tests.screens.helpers import burst, settle, text_of

SIZE = (120, 36)
GTIN = {"FJ-KJ-0001": "7071234000015", "FJ-TX-0002": "7071234000022"}

SMALL_SHOP = """
[pack]
ship_when_packed = {label_at_pack}
pick_at_pack = {one_bench}
scale = "{scale}"

[ship]
complete_on_label = true

[printers]
slip = "{printed}"
label = "{printed}"
manifest = "{printed}"
"""


@pytest.fixture
def scale() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


@pytest.fixture
def shop(db: Database) -> tuple[Database, list[str]]:
    """Two ordinary orders with printed slips, sent by Posten Norgespakke; nothing else waits."""
    ids = seed(db)
    add_boxes(db)
    with db.write() as s:
        for key in ("first", "second"):
            order = s.get(Order, ids[key])
            assert order is not None
            order.shipping_method_id = "flat_rate:3"
            change_status(s, order, Action.PRINT_SLIP, Actor("admin", "seed"))
        for parcel in s.exec(select(Parcel)).all():  # the seed's own parcel went yesterday
            parcel.status = "handed_over"
            s.add(parcel)
        s.add(Packer(name="Per Pakker", badge="BDG-1002", role="packer"))
        s.add(Packer(name="Pia Post", badge="BDG-1003", role="packer"))
    return db, ["5001", "5002"]


class Bench:
    """Drives the app with scans only and counts them: per order, badges, handovers."""

    def __init__(self, db: Database, config: Path) -> None:
        self.db = db
        self.config = config
        self.scans: Counter[str] = Counter()
        self.keys = 0  # nothing here presses a key: the figure the test reports and asserts

    def app(self, station: str, terminal: str) -> PackbenchApp:
        settings = load_settings(self.config, db="unused.db", station=station)
        return PackbenchApp(settings=settings, db=self.db, terminal=terminal)

    async def scan(self, pilot, code: str, counted_as: str) -> None:  # type: ignore[no-untyped-def]
        app: PackbenchApp = pilot.app
        before = len(app.feedback_log)
        burst(app, code)
        await settle(pilot)
        self.scans[counted_as] += 1
        said = app.feedback_log[before:]
        assert said and all(kind != "error" for kind, _ in said), (code, said)

    def units(self, number: str) -> list[str]:
        with self.db.read() as s:
            order = s.exec(select(Order).where(Order.number == number)).one()
            lines = s.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
        with self.db.read() as s:
            out = []
            for line in lines:
                product = s.exec(select(Product).where(Product.sku == line.sku)).one()
                out += [GTIN[product.sku]] * line.quantity
        return out

    def order(self, number: str) -> Order:
        with self.db.read() as s:
            return s.exec(select(Order).where(Order.number == number)).one()

    def labels(self, number: str) -> list[str]:
        """The tracking numbers on the parcels' printed labels (what the scanner reads)."""
        with self.db.read() as s:
            order = s.exec(select(Order).where(Order.number == number)).one()
            parcels = s.exec(select(Parcel).where(Parcel.order_id == order.id)).all()
            assert all(p.label_printed_at for p in parcels)
            return [p.tracking_number or "" for p in parcels]


async def pick(bench: Bench, numbers: list[str]) -> None:
    app = bench.app("pick", "pick-1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await bench.scan(pilot, "BDG-1001", "badge")
        for number in numbers:
            await bench.scan(pilot, f"ORD-{number}", number)
            # In walking order, as the screen shows the stops: the item of the current stop.
            while (view := app.screen.pick_list) is not None and view.current is not None:
                item = next(i for i in view.current.items if i.left)
                await bench.scan(pilot, item.gtin or item.sku, number)
            assert bench.order(number).status == "picked"
            assert bench.scans[number] == 1 + len(bench.units(number))


async def pack(
    bench: Bench, numbers: list[str], scale_end: int | None, *, label_at_pack: bool = True
) -> None:
    app = bench.app("pack", "pack-1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await bench.scan(pilot, "BDG-1002", "badge")
        for number in numbers:
            await bench.scan(pilot, f"ORD-{number}", number)
            box = app.screen.view.suggestion.parcels[0].box
            for gtin in bench.units(number):
                await bench.scan(pilot, gtin, number)
            await bench.scan(pilot, box, number)
            expected = app.screen.view.current.expected_weight_g
            if scale_end is None:
                await bench.scan(pilot, f"{expected}g", number)
            else:  # the parcel on the scale: its reading, not a scan
                os.write(scale_end, f"US,GS,{(expected - 40) / 1000:>9.3f}kg\r\n".encode())
                os.write(scale_end, f"ST,GS,{expected / 1000:>9.3f}kg\r\n".encode())
                for _ in range(200):
                    if bench.order(number).status != "packing":
                        break
                    await pilot.pause(0.05)
                await settle(pilot)
                os.write(scale_end, b"ST,GS,    0.000kg\r\n")  # lifted off
            order = bench.order(number)
            kind, message = app.feedback_log[-1]
            if label_at_pack:
                assert order.status == "shipped" and order.completed_at is not None, order.status
                assert kind == "ok" and "transaction completed" in message, message
            else:
                assert order.status == "packed" and kind == "ok", (order.status, message)


async def ship(bench: Bench, numbers: list[str]) -> None:
    """A ship station: the packed order's slip books it, prints its label and completes it."""
    app = bench.app("ship", "ship-1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await bench.scan(pilot, "BDG-1001", "badge")
        for number in numbers:
            await bench.scan(pilot, f"ORD-{number}", number)
            order = bench.order(number)
            assert order.status == "shipped" and order.completed_at is not None


async def post(bench: Bench, numbers: list[str]) -> None:
    app = bench.app("post", "post-1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await bench.scan(pilot, "BDG-1003", "badge")
        for number in numbers:
            for label in bench.labels(number):
                await bench.scan(pilot, label, number)
        cage = text_of(app.screen.query_one("#next-step", Static))
        assert f"all {len(numbers)} in the cage" in cage and "CMD-COMPLETE" in cage, cage
        await bench.scan(pilot, "CMD-COMPLETE", "handover")
        kind, message = app.feedback_log[-1]
        assert kind == "ok" and f"{len(numbers)} parcels handed over to Posten" in message
    for number in numbers:
        assert bench.order(number).status == "handed_over"


def small_shop(
    tmp_path: Path, scale_port: str, *, one_bench: bool, label_at_pack: bool = True
) -> Path:
    printed = tmp_path / "printed"
    printed.mkdir(exist_ok=True)
    config = tmp_path / "packbench.toml"
    config.write_text(
        SMALL_SHOP.format(
            one_bench=str(one_bench).lower(),
            label_at_pack=str(label_at_pack).lower(),
            scale=scale_port,
            printed=f"folder:{printed}",
        )
    )
    return config


@pytest.mark.parametrize("weight", ["scale", "scanned"])
async def test_pick_and_pack_at_one_bench(shop, scale, tmp_path: Path, weight: str) -> None:  # type: ignore[no-untyped-def]
    db, numbers = shop
    master, port = scale
    bench = Bench(db, small_shop(tmp_path, port, one_bench=True))
    await pack(bench, numbers, master if weight == "scale" else None)
    await post(bench, numbers)
    for number in numbers:
        units = len(bench.units(number))
        # slip + each unit once + box (+ the weight when scanned) + the parcel at the post
        assert bench.scans[number] == units + (3 if weight == "scale" else 4)
        assert bench.scans[number] <= units + 4  # the goal
    assert bench.scans["badge"] == 2 and bench.scans["handover"] == 1
    assert bench.keys == 0


async def test_separate_pick_and_pack(shop, scale, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, numbers = shop
    master, port = scale
    bench = Bench(db, small_shop(tmp_path, port, one_bench=False))
    await pick(bench, numbers)
    await pack(bench, numbers, master)
    await post(bench, numbers)
    for number in numbers:
        units = len(bench.units(number))
        # pick: slip + units; pack: slip + units + box (weight from the scale); post: parcel
        assert bench.scans[number] == 2 * units + 4
    assert bench.scans["badge"] == 3 and bench.scans["handover"] == 1
    assert bench.keys == 0


async def test_one_bench_with_a_ship_station(shop, scale, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Labels at a ship station instead of the pack bench: its slip scan is one more."""
    db, numbers = shop
    master, port = scale
    bench = Bench(db, small_shop(tmp_path, port, one_bench=True, label_at_pack=False))
    await pack(bench, numbers, master, label_at_pack=False)
    await ship(bench, numbers)
    await post(bench, numbers)
    for number in numbers:
        assert bench.scans[number] == len(bench.units(number)) + 4
    assert bench.scans["badge"] == 3 and bench.scans["handover"] == 1
    assert bench.keys == 0
