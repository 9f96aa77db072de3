"""The batched intake (a page in a few statements) writes exactly the rows the one-by-one
intake writes, refusals and duplicate numbers included (issue #18)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest
from sqlalchemy import delete
from sqlmodel import select

from packbench.data.demo_catalogue import generate
from packbench.data.engine import Database
from packbench.data.models import Event, Order, OrderLine, SyncState
from packbench.operations.common import Actor
from packbench.operations.demo import _order_in
from packbench.operations.intake import LineIn, OrderIn, ProductIn, receive_order
from packbench.operations.syncing import apply_order_page, apply_product_page

ACTOR = Actor("sync", "t1")


def page() -> list[OrderIn]:
    data = generate(seed=3, n_orders=60)
    orders = [_order_in(o) for o in data.orders]
    first = orders[0]
    # Unusual but real: a line without SKU (matched by product id), a duplicate number, an
    # order whose number and id are both taken, a field too long for its column.
    by_id = dataclasses.replace(
        first.lines[0], sku="", shop_product_id=data.products[0].shop_product_id
    )
    orders[1] = dataclasses.replace(orders[1], lines=(by_id, LineIn("NO-SUCH", "Gift", 1)))
    orders[2] = dataclasses.replace(orders[2], number=first.number)
    orders[3] = dataclasses.replace(orders[3], number="999999")
    orders[4] = dataclasses.replace(orders[4], number=first.number, shop_order_id=999999)
    orders[5] = dataclasses.replace(orders[5], ship_city="x" * 500)
    return orders


def snapshot(db: Database) -> dict[str, Any]:
    def plain(row: Any, *skip: str) -> dict[str, Any]:
        return {k: v for k, v in row.model_dump().items() if k not in ("id", *skip)}

    with db.read() as s:
        shop_id = dict(s.exec(select(Order.id, Order.shop_order_id)).all())
        orders = sorted(
            (plain(o, "updated_at") for o in s.exec(select(Order))),
            key=lambda o: o["shop_order_id"],
        )
        lines = sorted(
            (
                {**plain(ln, "order_id"), "order": shop_id[ln.order_id]}
                for ln in s.exec(select(OrderLine))
            ),
            key=lambda ln: (ln["order"], ln["line_no"]),
        )
        events = sorted(
            (
                {**plain(e, "at"), "order_id": shop_id.get(e.order_id)}
                for e in s.exec(select(Event))
            ),
            key=lambda e: (str(e["order_id"]), e["message"]),
        )
        problems = sorted(
            (r.key, r.value) for r in s.exec(select(SyncState)) if r.key.startswith("problem.")
        )
    return {"orders": orders, "lines": lines, "events": events, "problems": problems}


def test_batched_and_one_by_one_give_the_same_rows(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    data = generate(seed=3, n_orders=60)
    products = [
        ProductIn(
            p.shop_product_id, p.sku, p.gtin, p.name, p.length_mm, p.width_mm, p.height_mm,
            p.weight_g, None, p.price_ore,
        )
        for p in data.products
    ]  # fmt: skip
    apply_product_page(db, ACTOR, products, final=True)
    orders = page()

    with caplog.at_level(logging.INFO, logger="packbench.operations.syncing"):
        result = apply_order_page(db, ACTOR, orders, cursor_key="c")
    assert "order by order" not in caplog.text  # the batch itself wrote the page
    assert (result.created, result.refused) == (len(orders) - 2, 2)
    batched = snapshot(db)

    with db.write() as s:
        for table in (Event, OrderLine, Order):
            s.execute(delete(table))
        s.execute(delete(SyncState))
    # One by one: the old way, one savepoint and one receive_order an order.
    refused = 0
    with db.write() as s:
        for incoming in orders:
            try:
                with s.begin_nested():
                    receive_order(s, ACTOR, incoming)
            except Exception:
                refused += 1
    assert refused == 2
    one_by_one = snapshot(db)
    assert batched["orders"] == one_by_one["orders"]
    assert batched["lines"] == one_by_one["lines"]
    intake = [e for e in batched["events"] if e["kind"] == "intake"]
    assert intake == [e for e in one_by_one["events"] if e["kind"] == "intake"]
    # The line without SKU found its product by id; the unknown SKU has none.
    second = [ln for ln in batched["lines"] if ln["order"] == orders[1].shop_order_id]
    assert second[0]["product_id"] is not None and second[0]["sku"] == data.products[0].sku
    assert second[1]["product_id"] is None and second[1]["sku"] == "NO-SUCH"
    # A second pass is a re-read: nothing written.
    again = apply_order_page(db, ACTOR, orders, cursor_key="c")
    assert (again.created, again.changed) == (0, 0)


def test_a_row_the_database_refuses_is_found_and_refused_alone(db: Database) -> None:
    """Whatever the checks before the batch miss (here a quantity of None, NOT NULL in the
    database), the page is written again order by order and only that order is refused."""
    orders = [_order_in(o) for o in generate(seed=4, n_orders=20).orders]
    broken = dataclasses.replace(orders[7].lines[0], quantity=None)  # type: ignore[arg-type]
    orders[7] = dataclasses.replace(orders[7], lines=(broken,))
    result = apply_order_page(db, ACTOR, orders, cursor_key="c")
    assert (result.created, result.refused) == (len(orders) - 1, 1)
    with db.read() as s:
        taken = set(s.exec(select(Order.shop_order_id)).all())
        problem = s.get(SyncState, f"problem.order.{orders[7].shop_order_id}")
    assert taken == {o.shop_order_id for o in orders} - {orders[7].shop_order_id}
    assert problem is not None and "could not be taken: the database refused it" in problem.value
