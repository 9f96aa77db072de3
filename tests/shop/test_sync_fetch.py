"""Issue #18, the fetch: products with the orders, ``_fields`` and its fallback, pages fetched
side by side and written in order, ``include=`` 100 at a time, the catalogue every round.

Against the demo shop over real HTTP on loopback; a thin ASGI wrapper in front of it records
what the bench asked for and how many requests were in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlmodel import col, select

from packbench import cli
from packbench.config import BUNDLED_LAYOUT, load_warehouse_layout
from packbench.data.engine import Database, create_database
from packbench.data.models import Order, OrderLine, Product
from packbench.loopback import serve_in_thread
from packbench.operations import syncing
from packbench.shop.demo_shop import DemoShopApp, DemoShopState, create_app
from packbench.shop.sync import SyncEngine, SyncReport
from packbench.shop.woocommerce import WooCommerceAdapter
from tests.shop.hostile import Answer, Request, hostile_shop
from tests.shop.test_woocommerce import load

KEY, SECRET = "ck_fetch", "cs_fetch"
WC = "/wp-json/wc/v3"


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]

    def one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Recorder:
    """ASGI middleware: every WooCommerce request's path and query, and the most requests it
    ever had in flight at once."""

    app: DemoShopApp
    seen: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(WC):
            await self.app(scope, receive, send)
            return
        with self.lock:
            self.seen.append(Seen(scope["path"], parse_qs(scope["query_string"].decode())))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.app(scope, receive, send)
        finally:
            with self.lock:
                self.in_flight -= 1

    def to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == f"{WC}{path}"]


@dataclass
class Shop:
    url: str
    state: DemoShopState
    recorder: Recorder

    def adapter(self, **kw: Any) -> WooCommerceAdapter:
        return WooCommerceAdapter(self.url, KEY, SECRET, timeout=10, **kw)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    stops: list[Any] = []

    def _start(n_orders: int = 72, **options: Any) -> Shop:
        state = DemoShopState.open(tmp_path / f"shop-{len(stops)}.json", seed=1, n_orders=n_orders)
        app = create_app(state, key=KEY, secret=SECRET, fault_seed=3, **options)
        recorder = Recorder(app)
        url, stop = serve_in_thread(recorder, name="demo-shop")
        stops.append(stop)
        return Shop(url, state, recorder)

    yield _start
    for stop in stops:
        stop()


@pytest.fixture
def layout() -> Any:
    return load_warehouse_layout(BUNDLED_LAYOUT)


def assert_every_line_packable(db: Database) -> int:
    with db.read() as s:
        rows = s.exec(select(OrderLine, Product).join(Product, isouter=True)).all()
    assert rows
    for line, product in rows:
        assert product is not None, line
        assert product.gtin and product.location, product
        assert min(product.length_mm, product.width_mm, product.height_mm, product.weight_g) > 0
    return len(rows)


def test_one_sync_once_on_a_fresh_database_leaves_every_order_packable(
    tmp_path: Path, start: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``packbench sync --once`` as an operator runs it: the orders' products come by id with
    their pages (``include=``, 100 at most), before the whole catalogue is read."""
    shop = start(n_orders=300)
    db_path = tmp_path / "bench.db"
    monkeypatch.setenv("PACKBENCH_SHOP_KEY", KEY)
    monkeypatch.setenv("PACKBENCH_SHOP_SECRET", SECRET)
    assert cli.main(["init", "--db", str(db_path)]) == 0
    assert cli.main(["sync", "--once", "--db", str(db_path), "--shop-url", shop.url]) == 0

    db = create_database(db_path)
    try:
        with db.read() as s:
            pulled = set(s.exec(select(Order.shop_order_id)).all())
        wanted = {o["id"] for o in shop.state.orders() if o["status"] == "processing"}
        assert pulled == wanted and len(wanted) > 100  # more than one page of 100
        assert assert_every_line_packable(db) > len(wanted)
    finally:
        db.dispose()

    seen = shop.recorder.seen
    by_id = [i for i, s in enumerate(seen) if s.path == f"{WC}/products" and s.one("include")]
    catalogue = [
        i for i, s in enumerate(seen) if s.path == f"{WC}/products" and not s.one("include")
    ]
    orders = [i for i, s in enumerate(seen) if s.path == f"{WC}/orders"]
    assert by_id and catalogue and orders
    # The first page's products were asked for by id before the second page was written and
    # long before the catalogue; every include= names 100 ids at most.
    assert by_id[0] < catalogue[0]
    for i in by_id:
        ids = seen[i].one("include").split(",")  # type: ignore[union-attr]
        assert 1 <= len(ids) <= 100 and len(set(ids)) == len(ids)
    # Only the fields packbench maps were asked for.
    for i in orders + by_id + catalogue:
        assert seen[i].one("_fields"), seen[i]
    assert "line_items" in seen[orders[0]].one("_fields").split(",")  # type: ignore[union-attr]


def test_the_products_come_before_the_lines_are_written(
    db: Database, start: Any, layout: Any
) -> None:
    """Orders alone (no catalogue phase): each page's lines find their products at once."""
    shop = start()
    sync = SyncEngine(db, shop.adapter(), holder="t", per_page=10, layout=layout)
    report = SyncReport()
    sync.pull_orders(report)
    assert report.created > 10 and report.error is None
    assert not [s for s in shop.recorder.to("/products") if not s.one("include")]
    assert_every_line_packable(db)
    # Products already known are not asked for again: a second page naming them asks nothing.
    before = len(shop.recorder.to("/products"))
    sync.pull_orders(SyncReport())
    assert len(shop.recorder.to("/products")) == before


def test_include_asks_for_100_ids_at_a_time(start: Any) -> None:
    shop = start()
    ids = [p.shop_product_id for p, _ in shop.state.products()]
    assert len(ids) > 200
    with shop.adapter() as adapter:
        page = adapter.fetch_products_by_id(ids + ids[:5])  # repeats asked for once
    assert sorted(p.shop_product_id for p in page.products) == sorted(ids)
    asked = [s.one("include").split(",") for s in shop.recorder.to("/products")]  # type: ignore[union-attr]
    assert [len(a) for a in asked] == [100, 100, len(ids) - 200]
    assert sorted(int(i) for a in asked for i in a) == sorted(ids)
    with pytest.raises(ValueError):
        from packbench.shop.woocommerce_pages import id_query

        id_query(list(range(1, 102)))


def test_fields_are_asked_for_and_a_shop_that_breaks_them_gets_whole_objects(
    start: Any, caplog: pytest.LogCaptureFixture
) -> None:
    shop = start()
    with shop.adapter() as adapter:
        first = adapter.fetch_orders(modified_after=None, per_page=20)
        assert adapter.request_fields and first.orders and not first.rejected
        shop.recorder.app.faults.update({"fields_lost_share": 1.0})
        second = adapter.fetch_orders(modified_after=None, per_page=20)
        # The _fields answer lacked line_items: the page was asked for again, whole, and
        # every later request asks for whole objects.
        assert second.orders == first.orders and not second.rejected
        assert not adapter.request_fields
        adapter.fetch_orders(modified_after=None, page=2, per_page=20)
    fields = [s.one("_fields") for s in shop.recorder.to("/orders")]
    assert [bool(f) for f in fields] == [True, True, False, False]
    assert "asking for whole objects from now on" in caplog.text
    # Switched off in the configuration: never asked for.
    with shop.adapter(request_fields=False) as adapter:
        adapter.fetch_products(per_page=5)
    assert shop.recorder.to("/products")[-1].one("_fields") is None


def test_an_order_lacking_a_field_either_way_is_a_bad_order_not_a_broken_fields() -> None:
    """The refetch without ``_fields`` lacks the field too: the shop is not to blame, the order
    is rejected alone and ``_fields`` stays on."""
    good, bad = load("woocommerce_v3_orders_list_response.json")[:2]
    del bad["billing"]

    def respond(request: Request) -> Answer:
        return Answer(body=json.dumps([good, bad]).encode(), headers=[("X-WP-TotalPages", "1")])

    with hostile_shop(respond) as url, WooCommerceAdapter(url, KEY, SECRET) as adapter:
        page = adapter.fetch_orders(modified_after=None)
        assert [o.shop_order_id for o in page.orders] == [good["id"]]
        assert [r.ref for r in page.rejected] == [f"order {bad['id']}"]
        assert adapter.request_fields


def test_pages_are_fetched_side_by_side_and_written_in_order(
    db: Database, start: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = start(n_orders=300, latency_ms=40)
    written: list[list[int]] = []
    real = syncing.apply_order_page

    def recording(*args: Any, **kw: Any) -> Any:
        written.append([o.shop_order_id for o in args[2]])
        return real(*args, **kw)

    monkeypatch.setattr(syncing, "apply_order_page", recording)
    adapter = shop.adapter(concurrency=4)
    sync = SyncEngine(db, adapter, holder="t", per_page=10)
    report = sync.run_once()
    assert report.error is None
    assert 2 <= shop.recorder.most_in_flight <= 4
    # What the shop lists, page by page in modified order, is what was written, in that order.
    processing = [
        o
        for o in sorted(shop.state.orders(), key=lambda o: (o["modified_gmt"], o["id"]))
        if o["status"] == "processing"
    ]
    pages = [[o["id"] for o in processing[i : i + 10]] for i in range(0, len(processing), 10)]
    assert written[: len(pages)] == pages
    numbers = [
        int(s.one("page")) for s in shop.recorder.to("/orders") if s.one("status") == "processing"
    ]  # type: ignore[arg-type]
    assert sorted(numbers) == list(range(1, len(pages) + 1))  # each page asked for once
    with db.read() as s:
        cursor = syncing.pull_since(db, "pull.processing.modified_after")
        assert cursor is not None
        assert cursor.strftime("%Y-%m-%dT%H:%M:%S") == processing[-1]["modified_gmt"]
        assert len(s.exec(select(Order.id)).all()) == len(processing)


def test_the_page_cap_holds_with_pages_fetched_ahead(db: Database, start: Any) -> None:
    shop = start(n_orders=300)
    sync = SyncEngine(db, shop.adapter(concurrency=4), holder="t", per_page=10, max_pages=3)
    sync.pull_orders(SyncReport())
    numbers = {
        s.one("page") for s in shop.recorder.to("/orders") if s.one("status") == "processing"
    }
    assert numbers == {"1", "2", "3"}  # nothing past the cap was asked for


def test_never_more_at_once_than_the_shops_rate_limit(db: Database, start: Any) -> None:
    shop = start(n_orders=300, rate_limit=5)
    adapter = shop.adapter(concurrency=8, rate_limit=5)
    assert adapter.concurrency == 5
    assert shop.adapter(concurrency=4, rate_limit=0.5).concurrency == 1
    began = time.monotonic()
    report = SyncEngine(db, adapter, holder="t", per_page=50).run_once()
    took = time.monotonic() - began
    assert report.error is None  # not one 429
    requests = len(shop.recorder.seen)
    assert requests >= 8 and took >= (requests - 1) / 5 * 0.9


def test_the_catalogue_is_refreshed_by_what_changed_every_round(
    db: Database, start: Any, layout: Any
) -> None:
    shop = start()
    sync = SyncEngine(db, shop.adapter(), holder="t", per_page=50, layout=layout)
    assert sync.run_once().error is None
    catalogue = [s for s in shop.recorder.to("/products") if not s.one("include")]
    assert catalogue and all(s.one("modified_after") is None for s in catalogue)  # a new bench

    some = next(p for p, _ in shop.state.products())
    shop.state.update_product(some.shop_product_id, location="B-02-1", weight_g=4321)
    shop.recorder.seen.clear()
    report = sync.run_once()
    # The edited product, and what lies in the minute of overlap before the cursor (the
    # newest product before the edit): not the catalogue again.
    assert report.error is None and 1 <= report.products <= 2
    (asked,) = [s for s in shop.recorder.to("/products") if not s.one("include")]
    assert asked.one("modified_after") and asked.one("dates_are_gmt") == "true"
    with db.read() as s:
        row = s.exec(select(Product).where(Product.shop_product_id == some.shop_product_id)).one()
        assert (row.location, row.weight_g) == ("B-02-1", 4321)
        lines = s.exec(
            select(OrderLine).where(col(OrderLine.shop_product_id) == some.shop_product_id)
        ).all()
        assert all(line.product_id == row.id for line in lines)
    # Nothing changed: one small request, the overlap's one product at most.
    shop.recorder.seen.clear()
    assert sync.run_once().products <= 1
    assert len(shop.recorder.to("/products")) == 1


def test_a_product_fetch_that_fails_keeps_no_order_out(db: Database, start: Any) -> None:
    """The shop fails the by-id request: the orders come in all the same (their lines are
    linked when the products come, here with the catalogue of the same round)."""
    shop = start()
    adapter = shop.adapter()

    def failing(ids: Any) -> Any:
        from packbench.shop.base import TransientError

        raise TransientError("products: the shop had a temporary problem (HTTP 500)")

    adapter.fetch_products_by_id = failing  # type: ignore[method-assign]
    report = SyncEngine(db, adapter, holder="t", per_page=50).run_once()
    assert report.created > 10
    assert any("not fetched" in note for note in report.notes)
    with db.read() as s:
        assert s.exec(select(Order.id)).first() is not None


def test_a_variation_line_brings_its_variation_through_its_parent(
    db: Database, layout: Any
) -> None:
    """A line of a variable product names its parent and its variation: the variation (its own
    SKU, GTIN, shelf and sizes) is fetched from ``/products/{parent}/variations?include=``,
    and one without a ``name`` (WooCommerce before 8.x) is named by its attributes."""
    from tests.shop.test_hostile_data import order, product

    shirt = order(8001, lines=(("TEE-RED-M", 40), ("MUG-1", 41)))
    shirt["line_items"][0]["variation_id"] = 45
    mug = product(41, "mug-1", "Mug")
    mug["meta_data"] = [{"id": 1, "key": "_packbench_location", "value": "A-01-1"}]
    mug["global_unique_id"] = "7038010009457"
    variation = {
        "id": 45,
        "sku": "tee-red-m",
        "global_unique_id": "4006381333931",
        "price": "199.00",
        "weight": "0.2",
        "dimensions": {"length": "30", "width": "25", "height": "2"},
        "meta_data": [{"id": 2, "key": "_packbench_location", "value": "B-02-3"}],
        "date_modified_gmt": "2026-12-01T10:00:00",
        "attributes": [
            {"id": 1, "name": "Colour", "option": "Red"},
            {"id": 2, "name": "Size", "option": "M"},
        ],
    }
    asked: list[str] = []

    def respond(request: Request) -> Answer:
        asked.append(request.target)
        path = request.target.split("?")[0]
        pages = [("X-WP-TotalPages", "1")]
        if path.endswith("/orders") and "status=processing" in request.target:
            body: Any = [shirt]
        elif path.endswith("/products/40/variations"):
            body = [variation] if "include=45" in request.target else []
        elif path.endswith("/products") and "include=" in request.target:
            body = [mug] if "41" in request.target else []
        else:
            body = []
        return Answer(body=json.dumps(body).encode(), headers=pages)

    with hostile_shop(respond) as url:
        adapter = WooCommerceAdapter(url, KEY, SECRET)
        report = SyncEngine(db, adapter, holder="t", layout=layout).run_once()
    assert report.error is None and report.created == 1 and report.products == 2
    by_id = [t for t in asked if "include=" in t]
    assert any("/products/40/variations?" in t and "include=45" in t for t in by_id)
    assert any(t.split("?")[0].endswith("/products") and "include=41" in t for t in by_id)
    assert not any("include=40" in t for t in by_id)  # the parent itself is not a bench product
    with db.read() as s:
        rows = s.exec(
            select(OrderLine.shop_product_id, Product.sku, Product.name, Product.location)
            .join(Product)
            .order_by(OrderLine.line_no)
        ).all()
    assert rows == [(45, "TEE-RED-M", "Red / M", "B-02-3"), (41, "MUG-1", "Mug", "A-01-1")]


@pytest.mark.parametrize(
    "dropped",
    [
        (b"x-wp-totalpages", b"x-wp-total"),  # only Link: rel="next" is followed to the end
        (b"x-wp-totalpages", b"x-wp-total", b"link"),  # nothing: read on while pages are full
    ],
    ids=["link-only", "no-headers"],
)
def test_a_shop_that_announces_no_page_count_is_read_to_its_end_with_pages_ahead(
    db: Database, start: Any, dropped: tuple[bytes, ...]
) -> None:
    """X-WP-TotalPages is optional to a tolerant client (a proxy or a plugin may drop it):
    without it, pages are still fetched side by side, up to the cap, and the pull ends where
    the shop says there is no next page (or, with no header at all, at the first short page),
    not at the count guessed from the first page."""
    shop = start(n_orders=300)
    inner = shop.recorder.app

    async def no_count(scope: Any, receive: Any, send: Any) -> None:
        async def strip(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [
                        (k, v) for k, v in message.get("headers", []) if k.lower() not in dropped
                    ],
                }
            await send(message)

        await inner(scope, receive, strip)

    shop.recorder.app = no_count  # type: ignore[assignment]
    report = SyncEngine(db, shop.adapter(concurrency=4), holder="t", per_page=10).run_once()
    assert report.error is None
    processing = [o for o in shop.state.orders() if o["status"] == "processing"]
    with db.read() as s:
        assert len(s.exec(select(Order.id)).all()) == len(processing)
