"""A page of products all new to the bench, written in bulk, gives exactly the rows the careful
way (one by one, a savepoint each) gives; a page that is not of that kind takes the careful way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from packbench.config import BUNDLED_LAYOUT, load_warehouse_layout
from packbench.data.engine import Database
from packbench.data.models import Location, Order, OrderLine, Product
from packbench.operations import catalogue_batch, sync_products
from packbench.operations.common import Actor
from packbench.operations.intake import LineIn, OrderIn, receive_order
from packbench.shop.base import ProductIn

ACTOR = Actor(station="sync", terminal="t")


def products() -> list[ProductIn]:
    return [
        ProductIn(501, "MUG-1", "7038010009457", "Mug", 100, 90, 95, 350, "A-01-1", 12900),
        ProductIn(502, "CUP-2", None, "Cup", 80, 80, 90, 200, "A-01-1", 9900),
        ProductIn(503, "PLATE-3", "4006381333931", "Plate", 260, 260, 20, 600, "B-02-3", 14900),
        ProductIn(504, "BOWL-4", None, "Bowl", 150, 150, 70, 400, "Z-99-9", 11900),  # no shelf
        ProductIn(505, "SPOON-5", None, "Spoon", 160, 30, 10, 40, None, 2900),
    ]


def snapshot(db: Database) -> dict[str, Any]:
    with db.read() as s:
        rows = s.exec(select(Product).order_by(Product.shop_product_id)).all()
        shelves = s.exec(select(Location).order_by(Location.code)).all()
        lines = s.exec(select(OrderLine.sku, OrderLine.product_id)).all()
        by_id = {p.id: p.shop_product_id for p in rows}
        return {
            "products": [p.model_dump(exclude={"id", "updated_at"}) for p in rows],
            "shelves": [loc.model_dump() for loc in shelves],
            "lines": sorted((sku, by_id.get(pid)) for sku, pid in lines),
        }


def an_order_waiting(db: Database) -> None:
    """An open order whose lines came before their products (one by id with no SKU)."""
    with db.write() as s:
        receive_order(
            s,
            ACTOR,
            OrderIn(
                shop_order_id=9001,
                number="9001",
                created_at=datetime(2026, 12, 1, tzinfo=UTC),
                lines=(
                    LineIn("MUG-1", "Mug", 1, 12900, 1, 501),
                    LineIn("", "Plate", 2, 14900, 2, 503),
                ),
            ),
        )


def test_bulk_and_one_by_one_give_the_same_rows(
    db: Database, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from packbench.data.engine import create_database
    from packbench.data.migrate import upgrade

    layout = load_warehouse_layout(BUNDLED_LAYOUT)
    an_order_waiting(db)
    bulk: list[Any] = []
    real = catalogue_batch.write_new_products
    with monkeypatch.context() as m:
        m.setattr(sync_products, "write_new_products", lambda *a: bulk.append(r := real(*a)) or r)
        written = sync_products.apply_product_page(db, ACTOR, products(), layout=layout)
    assert (written.taken, written.refused, written.deferred) == (5, 0, ())
    assert bulk and bulk[0] is not None  # written in bulk

    careful = create_database(tmp_path / "careful.db")
    upgrade(careful)
    try:
        an_order_waiting(careful)
        with monkeypatch.context() as m:
            calls: list[int] = []
            m.setattr(sync_products, "write_new_products", lambda *a: calls.append(1))  # → None
            page = sync_products.apply_product_page(careful, ACTOR, products(), layout=layout)
            assert page.taken == 5
            assert calls == [1]
        assert snapshot(db) == snapshot(careful)
    finally:
        careful.dispose()
    got = snapshot(db)
    assert [p["location"] for p in got["products"]] == ["A-01-1", "A-01-1", "B-02-3", None, None]
    assert got["lines"] == [("MUG-1", 501), ("PLATE-3", 503)]  # linked, the SKU taken too


def test_a_page_with_a_known_product_takes_the_careful_way(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_products.apply_product_page(db, ACTOR, products()[:1])
    seen: list[Any] = []
    real = catalogue_batch.write_new_products

    def spy(*args: Any) -> Any:
        seen.append(result := real(*args))
        return result

    monkeypatch.setattr(sync_products, "write_new_products", spy)
    renamed = ProductIn(501, "MUG-1", None, "Mug, blue", 100, 90, 95, 350, None, 13900)
    result = sync_products.apply_product_page(db, ACTOR, [renamed, *products()[1:2]])
    assert seen == [None] and result.taken == 2
    # Two products of one page with the same SKU: the careful way decides (the first wins).
    twin = ProductIn(506, "CUP-2", None, "Cup twin", 1, 1, 1, 1, None, 1)
    result = sync_products.apply_product_page(
        db, ACTOR, [ProductIn(507, "NEW-7", None, "N", 1, 1, 1, 1, None, 1), twin]
    )
    assert seen[-1] is None
    with db.read() as s:
        names = {p.shop_product_id: p.name for p in s.exec(select(Product)).all()}
        assert names[501] == "Mug, blue" and 506 not in names and names[507] == "N"
        assert s.exec(select(Order)).first() is None
