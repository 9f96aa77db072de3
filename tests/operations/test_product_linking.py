"""Products arriving or changing link and update the lines of open orders, never a packed
order's (issue #18): an order pulled before its products becomes packable without a re-pull."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from packbench.data.engine import Database
from packbench.data.models import Location, Order, OrderLine, Product
from packbench.operations.common import Actor
from packbench.operations.intake import LineIn, OrderIn, ProductIn
from packbench.operations.sync_products import apply_product_page
from packbench.operations.syncing import apply_order_page

SYNC = Actor("sync", "t1")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

MUG = ProductIn(101, "MUG-1", "7071234000015", "Mug", 100, 90, 95, 350, "A-01-1", 9900)
CUP = ProductIn(102, "CUP-1", "7071234000022", "Cup", 80, 80, 90, 200, "A-01-1", 4900)
BOWL = ProductIn(103, "BOWL-1", "7071234000039", "Bowl", 150, 150, 70, 400, "A-01-1", 12900)


def order(shop_id: int, *lines: tuple[str, int | None]) -> OrderIn:
    return OrderIn(
        shop_order_id=shop_id,
        number=str(shop_id),
        created_at=T0,
        modified_at=T0,
        ship_name="Kari Nordmann",
        lines=tuple(
            LineIn(sku=sku, name="", quantity=1, unit_price_ore=9900, shop_product_id=pid)
            for sku, pid in lines
        ),
    )


def shelves(db: Database) -> None:
    with db.write() as s:
        s.add(Location(code="A-01-1", aisle="A", bay=1, level=1))
        s.add(Location(code="C-07-2", aisle="C", bay=7, level=2))


def set_status(db: Database, shop_id: int, status: str, held_from: str | None = None) -> None:
    with db.write() as s:
        s.execute(
            update(Order)
            .where(col(Order.shop_order_id) == shop_id)
            .values(status=status, held_from=held_from)
        )


def lines(db: Database) -> dict[tuple[int, int], dict[str, Any]]:
    """(shop order id, line no) → the line and what the stations read of its product."""
    with db.read() as s:
        rows = s.exec(
            select(Order.shop_order_id, OrderLine, Product)
            .join(OrderLine, col(OrderLine.order_id) == col(Order.id))
            .join(Product, col(Product.id) == col(OrderLine.product_id), isouter=True)
        ).all()
    return {
        (shop_id, line.line_no): {
            "sku": line.sku,
            "product": product.shop_product_id if product else None,
            "gtin": product.gtin if product else None,
            "location": product.location if product else None,
            "size": (product.length_mm, product.width_mm, product.height_mm) if product else None,
        }
        for shop_id, line, product in rows
    }


def test_products_pulled_after_the_orders_link_the_open_orders_lines(db: Database) -> None:
    shelves(db)
    apply_order_page(
        db,
        SYNC,
        [
            order(1, ("MUG-1", 101), ("", 102)),  # WooCommerce sends "sku": "" at times
            order(2, ("MUG-1", 101)),  # packed before the products came
            order(3, ("BOWL-1", None)),  # a shop that sends no product ids: by SKU
            order(4, ("MUG-1", 999)),  # another shop product whose SKU is the same here
            order(5, ("", 102)),  # on hold after packing: packed
            order(6, ("", 102)),  # on hold while picking: open
        ],
        cursor_key="c",
    )
    assert all(line["product"] is None for line in lines(db).values())
    set_status(db, 2, "packed")
    set_status(db, 5, "on_hold", held_from="packed")
    set_status(db, 6, "on_hold", held_from="picking")

    result = apply_product_page(db, SYNC, [MUG, CUP, BOWL], final=True)

    assert result.taken == 3
    got = lines(db)
    assert got[(1, 1)] == {
        "sku": "MUG-1",
        "product": 101,
        "gtin": "7071234000015",
        "location": "A-01-1",
        "size": (100, 90, 95),
    }
    assert got[(1, 2)]["sku"] == "CUP-1" and got[(1, 2)]["product"] == 102  # matched by id
    assert got[(3, 1)]["product"] == 103
    assert got[(6, 1)]["product"] == 102
    assert got[(2, 1)] == {**got[(2, 1)], "sku": "MUG-1", "product": None}  # packed: as it was
    assert got[(5, 1)] == {**got[(5, 1)], "sku": "", "product": None}
    assert got[(4, 1)]["product"] is None  # its shop product is 999, not the mug


def test_a_product_changed_in_the_shop_updates_open_lines_not_packed_ones(db: Database) -> None:
    shelves(db)
    apply_product_page(db, SYNC, [MUG, CUP, BOWL], final=True)
    apply_order_page(
        db,
        SYNC,
        [
            order(11, ("MUG-1", 101), ("BOWL-1", None)),
            order(12, ("MUG-1", 101), ("BOWL-1", None)),
            order(13, ("", 101)),
        ],
        cursor_key="c",
    )
    assert {line["product"] for line in lines(db).values()} == {101, 103}
    set_status(db, 12, "packed")
    set_status(db, 13, "picking")

    # The shop gives the mug and the bowl new SKUs, the mug a new GTIN, size and shelf.
    mug = replace(
        MUG, sku="MUG-2", gtin="7071234000046", length_mm=110, location="C-07-2", name="Mug"
    )
    bowl = replace(BOWL, sku="BOWL-2")
    apply_product_page(db, SYNC, [mug, bowl], final=True)

    got = lines(db)
    assert got[(11, 1)] == {
        "sku": "MUG-2",
        "product": 101,
        "gtin": "7071234000046",
        "location": "C-07-2",
        "size": (110, 90, 95),
    }
    assert got[(11, 2)]["sku"] == "BOWL-2"  # linked by SKU, follows the product's new one
    assert got[(13, 1)]["sku"] == "MUG-2"  # picking is not packed yet
    assert (got[(12, 1)]["sku"], got[(12, 2)]["sku"]) == ("MUG-1", "BOWL-1")  # packed
    with db.read() as s:
        packed = s.exec(select(Order).where(Order.shop_order_id == 12)).one()
        assert packed.upstream_flag is None and packed.status == "packed"

    # The shop's next look at the open order names the new SKU: the same lines, no change.
    again = replace(
        order(13, ("MUG-2", 101)), modified_at=T0 + timedelta(hours=1), ship_name="Kari N."
    )
    result = apply_order_page(db, SYNC, [again], cursor_key="c")
    assert (result.changed, result.flagged) == (1, 0)


def test_an_empty_sku_line_is_matched_by_id_when_its_product_is_known(db: Database) -> None:
    shelves(db)
    apply_product_page(db, SYNC, [MUG, CUP], final=True)
    apply_order_page(db, SYNC, [order(21, ("", 102), ("", 777))], cursor_key="c")
    got = lines(db)
    assert (got[(21, 1)]["sku"], got[(21, 1)]["product"]) == ("CUP-1", 102)
    assert (got[(21, 2)]["sku"], got[(21, 2)]["product"]) == ("", None)  # not known yet
    apply_product_page(db, SYNC, [replace(CUP, shop_product_id=777, sku="SAUCER-1")], final=True)
    got = lines(db)
    assert (got[(21, 2)]["sku"], got[(21, 2)]["product"]) == ("SAUCER-1", 777)
