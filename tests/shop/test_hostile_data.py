"""The sync against a hostile (or merely unusual) shop: a real HTTP server on loopback speaking
WooCommerce's REST v3 shapes, serving what real shops do serve — duplicate order numbers, SKUs
swapped between products, SKUs that differ only in case, dates in the future, a page that
repeats for ever. Every test proves the good orders still arrive and the round ends.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import col, select

from packbench.data.engine import Database
from packbench.data.models import Event, Order, OrderLine, Product, SyncLease, SyncState
from packbench.operations import syncing
from packbench.operations.common import Actor
from packbench.operations.supervisor import exceptions
from packbench.shop.sync import LEASE_NAME, SyncEngine
from packbench.shop.woocommerce import WooCommerceAdapter

FIXTURE = Path(__file__).parent / "fixtures" / "woocommerce_v3_orders_list_response.json"
KEY, SECRET = "ck_hostile", "cs_hostile"
NOW = datetime.now(UTC).replace(microsecond=0)


def wc_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def order(
    shop_id: int,
    number: str | None = None,
    *,
    modified: datetime | str | None = None,
    lines: tuple[tuple[str, int], ...] = (("SKU-A", 101),),
    status: str = "processing",
) -> dict[str, Any]:
    """An order in the shape of ``GET /wp-json/wc/v3/orders`` (the documentation's order 727,
    with its id, number, dates and lines changed)."""
    payload = copy.deepcopy(json.loads(FIXTURE.read_text())[0])
    stamp = modified if isinstance(modified, str) else wc_time(modified or NOW - timedelta(hours=1))
    payload.update(
        id=shop_id,
        number=number or str(shop_id),
        status=status,
        date_created_gmt=wc_time(NOW - timedelta(hours=2)),
        date_modified_gmt=stamp,
        date_created=wc_time(NOW - timedelta(hours=2)),
        date_modified=stamp,
    )
    item = payload["line_items"][0]
    payload["line_items"] = [
        {**copy.deepcopy(item), "id": shop_id * 10 + i, "sku": sku, "product_id": product_id}
        for i, (sku, product_id) in enumerate(lines)
    ]
    return payload


def product(shop_id: int, sku: str, name: str | None = None) -> dict[str, Any]:
    """A product in the shape of ``GET /wp-json/wc/v3/products``."""
    return {
        "id": shop_id,
        "name": name or f"Product {shop_id}",
        "type": "simple",
        "status": "publish",
        "sku": sku,
        "global_unique_id": "",
        "price": "99.00",
        "weight": "0.5",
        "dimensions": {"length": "20", "width": "10", "height": "5"},
        "meta_data": [],
    }


class HostileShop:
    """Serves orders and products like WooCommerce, or as badly as a test asks."""

    def __init__(self) -> None:
        self.orders: list[dict[str, Any]] = []
        self.products: list[dict[str, Any]] = []
        self.repeat = False  # every page is page 1, with X-WP-TotalPages: 999999
        self.endless = False  # every page is new, with X-WP-TotalPages: 999999
        self.fail_products = 0  # answer the next N product requests with a 500
        self.delay_s = 0.0
        self.requests: list[tuple[str, dict[str, str]]] = []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                shop.requests.append((parts.path, query))
                time.sleep(shop.delay_s)
                status, body, headers = shop.answer(parts.path, query)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        page, per_page = int(query.get("page", "1")), int(query.get("per_page", "10"))
        if path.endswith("/products"):
            if self.fail_products > 0:
                self.fail_products -= 1
                return 500, {"code": "internal_server_error", "message": "down"}, {}
            items = sorted(self.products, key=lambda p: p["id"])
        elif path.endswith("/orders"):
            statuses = query.get("status", "processing").split(",")
            after = query.get("modified_after", "")
            items = sorted(
                (
                    o
                    for o in self.orders
                    if o["status"] in statuses and (not after or o["date_modified_gmt"] > after)
                ),
                key=lambda o: (o["date_modified_gmt"], o["id"]),
            )
            if self.endless:
                made = [order(900_000 + page * 100 + i) for i in range(per_page)]
                return 200, made, {"X-WP-Total": "99999999", "X-WP-TotalPages": "999999"}
        else:
            return 404, {"code": "rest_no_route", "message": "No route"}, {}
        if self.repeat:
            return 200, items[:per_page], {"X-WP-Total": "99999999", "X-WP-TotalPages": "999999"}
        pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        return 200, chunk, {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)}

    def adapter(self) -> WooCommerceAdapter:
        return WooCommerceAdapter(self.url, KEY, SECRET, timeout=5)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop() -> Iterator[HostileShop]:
    server = HostileShop()
    yield server
    server.close()


def engine(db: Database, shop: HostileShop, **kw: Any) -> SyncEngine:
    options: dict[str, Any] = dict(holder="t1", per_page=10, backoff_base_s=0.01, overlap_s=60)
    options.update(kw)
    return SyncEngine(db, shop.adapter(), **options)


def bench_orders(db: Database) -> dict[int, str]:
    with db.read() as s:
        return {sid: n for sid, n in s.exec(select(Order.shop_order_id, Order.number)).all()}


def problems(db: Database) -> dict[str, str]:
    with db.read() as s:
        return {p.key: p.message for p in syncing.list_problems(s)}


def test_duplicate_numbers_are_taken_under_the_shop_id_and_shown(
    db: Database, shop: HostileShop
) -> None:
    shop.orders = [
        order(1187, "1187"),
        order(5052, "1187"),  # a sequential-number plugin's duplicate
        order(6000, "5052"),  # its number is now the second order's bench number
        order(7001, "7000", modified=NOW - timedelta(hours=2)),  # arrives first
        order(7000, "1187"),  # number and id both taken: refused, alone
        order(2001),
        order(2002),
    ]
    report = engine(db, shop).run_once()
    assert report.error is None
    assert (report.created, report.refused) == (6, 1)
    assert bench_orders(db) == {
        1187: "1187",
        5052: "5052",
        6000: "6000",
        7001: "7000",
        2001: "2001",
        2002: "2002",
    }
    found = problems(db)
    assert "the number 1187, which is also order id 1187's" in found["problem.number.5052"]
    assert "taken as order 5052" in found["problem.number.5052"]
    assert (
        "could not be taken: its number 1187 is also order id 1187's"
        in (found["problem.order.7000"])
    )
    # The supervisor sees each one on the dashboard.
    rows = {(r.kind, r.ref) for r in exceptions(db)}
    assert {("shop", "problem.order.7000"), ("shop", "problem.number.5052")} <= rows

    # The header's count is of orders taken, not of re-reads (issue #16).
    from packbench.operations.outbox import sync_health

    engine(db, shop).run_once()
    assert sync_health(db).orders_pulled == 6

    # The next rounds neither fail nor repeat the refusal's event.
    with db.read() as s:
        before = len(s.exec(select(Event).where(Event.kind == "sync")).all())
    shop.orders.append(order(2003, modified=NOW - timedelta(minutes=1)))
    again = engine(db, shop).run_once()
    assert again.error is None and again.created == 1 and 2003 in bench_orders(db)
    with db.read() as s:
        assert len(s.exec(select(Event).where(Event.kind == "sync")).all()) == before

    # The shop fixes the number: the order comes in and its problem goes away.
    shop.orders[4] = order(7000, "7777", modified=NOW - timedelta(seconds=30))
    engine(db, shop).run_once()
    assert bench_orders(db)[7000] == "7777"
    assert "problem.order.7000" not in problems(db)


@pytest.mark.parametrize("per_page", [10, 1])
def test_a_sku_swap_updates_both_products(db: Database, shop: HostileShop, per_page: int) -> None:
    shop.products = [product(101, "sku-a", "Mug"), product(102, "sku-b", "Cup")]
    shop.orders = [order(3001, lines=(("SKU-A", 101), ("SKU-B", 102)))]
    assert engine(db, shop, per_page=per_page).run_once(products=True).error is None
    # The shop swaps the two SKUs (one page, or across two pages with per_page=1).
    shop.products = [product(101, "sku-b", "Mug"), product(102, "sku-a", "Cup")]
    report = engine(db, shop, per_page=per_page).run_once(products=True)
    assert report.error is None and report.refused == 0 and report.products == 2
    with db.read() as s:
        skus = {p.shop_product_id: (p.sku, p.name) for p in s.exec(select(Product)).all()}
        lines = s.exec(select(OrderLine.product_id, Product.shop_product_id).join(Product)).all()
    assert skus == {101: ("SKU-B", "Mug"), 102: ("SKU-A", "Cup")}
    assert len(lines) == 2 and all(pid is not None for pid, _ in lines)
    assert problems(db) == {}
    assert bench_orders(db) == {3001: "3001"}


def test_skus_differing_only_in_case_never_overwrite_each_other(
    db: Database, shop: HostileShop
) -> None:
    shop.products = [product(201, "ab-1", "Blue mug"), product(202, "AB-1", "Red mug")]
    shop.orders = [
        order(4001, lines=(("AB-1", 201),)),
        order(4002, lines=(("AB-1", 202),)),
        order(4003),
    ]
    report = engine(db, shop).run_once(products=True)
    assert report.error is None and report.refused == 1
    with db.read() as s:
        rows = s.exec(select(Product)).all()
        assert [(p.shop_product_id, p.sku, p.name) for p in rows] == [(201, "AB-1", "Blue mug")]
        lines = {
            o: pid
            for o, pid in s.exec(
                select(Order.shop_order_id, OrderLine.product_id).join(
                    OrderLine, col(OrderLine.order_id) == col(Order.id)
                )
            ).all()
        }
    # The red mug's order is taken, but its line is never made the blue mug's.
    assert lines[4001] == rows[0].id and lines[4002] is None
    assert set(bench_orders(db)) == {4001, 4002, 4003}
    message = problems(db)["problem.product.202"]
    assert "SKU AB-1 is also product 201's" in message and "only in case" in message


def test_an_order_dated_in_the_future_is_taken_but_does_not_move_the_cursor(
    db: Database, shop: HostileShop
) -> None:
    shop.orders = [
        order(5001, modified=NOW - timedelta(hours=3)),
        order(5002, modified="9999-12-31T23:59:59"),
        order(5003, modified=NOW - timedelta(hours=2)),
    ]
    sync = engine(db, shop)
    report = sync.run_once()
    assert report.error is None and set(bench_orders(db)) == {5001, 5002, 5003}
    assert "1 dated in the future" in report.summary()
    cursor = datetime.fromisoformat(syncing.get_state(db, "pull.processing.modified_after") or "")
    assert cursor <= datetime.now(UTC) + timedelta(minutes=10)
    # A new order still arrives on the next round.
    shop.orders.append(order(5004, modified=NOW - timedelta(minutes=5)))
    assert sync.run_once().created == 1 and 5004 in bench_orders(db)

    # A database whose cursor an older version moved to 9999 pulls from the start again.
    with db.write() as s:
        row = s.get(SyncState, "pull.processing.modified_after")
        row.value = "9999-12-31T23:59:59+00:00"
        s.add(row)
    shop.orders.append(order(5005, modified=NOW - timedelta(hours=5)))
    assert sync.run_once().created == 1 and 5005 in bench_orders(db)


def test_a_page_repeated_for_ever_ends_the_round(db: Database, shop: HostileShop) -> None:
    shop.orders = [order(6100 + i) for i in range(3)]
    shop.repeat = True
    started = time.monotonic()
    report = engine(db, shop, per_page=3).run_once()
    assert time.monotonic() - started < 10
    assert report.error is None and set(bench_orders(db)) == {6100, 6101, 6102}
    processing = [q for p, q in shop.requests if q.get("status") == "processing"]
    assert len(processing) == 2  # page 1 and its repeat


def test_endless_new_pages_stop_at_the_cap(db: Database, shop: HostileShop) -> None:
    shop.endless = True
    report = engine(db, shop, per_page=5, max_pages=4).run_once()
    assert report.error is None
    processing = [q for p, q in shop.requests if q.get("status") == "processing"]
    assert len(processing) == 4 and report.created == 20


def test_a_failed_product_page_blocks_no_orders_and_is_tried_again(
    db: Database, shop: HostileShop
) -> None:
    shop.products = [product(101, "sku-a")]
    shop.orders = [order(7101)]
    shop.fail_products = 10  # the adapter retries nothing itself; the round goes on
    sync = engine(db, shop)
    first = sync.run_once(products=True)
    assert first.error and 7101 in bench_orders(db)
    shop.fail_products = 0
    second = sync.run_once()  # no products asked for: the failed pull is still due
    assert second.error is None and second.products == 1


def test_watch_goes_on_after_a_round_that_raised(
    db: Database, shop: HostileShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a round raises (here: a bug in the intake), the next round comes."""
    shop.orders = [order(8001)]
    real = syncing.apply_order_page
    calls = {"n": 0}

    def broken_once(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug")
        return real(*args, **kw)

    monkeypatch.setattr(syncing, "apply_order_page", broken_once)
    sync = engine(db, shop)
    stop = threading.Event()
    reports: list[Any] = []

    def seen(report: Any) -> None:
        reports.append(report)
        if len(reports) == 3:
            stop.set()

    worker = threading.Thread(target=sync.watch, args=(0.01, stop), kwargs={"on_report": seen})
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert "RuntimeError: a bug" in (reports[0].error or "")
    assert reports[-1].error is None and 8001 in bench_orders(db)
    with db.read() as s:
        assert s.get(SyncLease, LEASE_NAME) is None  # given back when the watch ended


def test_a_long_round_keeps_its_lease(db: Database, shop: HostileShop) -> None:
    shop.orders = [order(9000 + i, modified=NOW - timedelta(minutes=60 - i)) for i in range(8)]
    shop.delay_s = 0.25  # 8 pages of one order: about 2.5 s, the lease lasts 0.6 s
    first = engine(db, shop, per_page=1, lease_ttl_s=0.6)
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(first.run_once()))
    worker.start()
    time.sleep(0.3)
    skipped = []
    while worker.is_alive():
        second = SyncEngine(db, shop.adapter(), holder="t2", lease_ttl_s=0.6)
        report = second.run_once()
        skipped.append(report.skipped_lease)
        if report.skipped_lease:
            assert f"pid {os.getpid()}" in report.summary()
        time.sleep(0.2)
    worker.join()
    assert skipped and all(skipped)
    assert result[0].error is None and len(bench_orders(db)) == 8


def test_sigterm_gives_the_lease_back(tmp_path: Path, db: Database, shop: HostileShop) -> None:
    shop.orders = [order(9100)]
    env = {**os.environ, "PACKBENCH_SHOP_KEY": KEY, "PACKBENCH_SHOP_SECRET": SECRET}
    argv = [sys.executable, "-m", "packbench", "sync", "--db", db.target]
    argv += ["--shop-url", shop.url, "--watch", "--interval", "30"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while 9100 not in bench_orders(db):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        with db.read() as s:
            lease = s.get(SyncLease, LEASE_NAME)
            assert lease is not None and f"pid {proc.pid}" in lease.holder
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with db.read() as s:
        assert s.get(SyncLease, LEASE_NAME) is None


def test_a_supervisor_dismisses_a_problem(db: Database, shop: HostileShop) -> None:
    # 3 comes last: its number is 1's and its id is 2's number.
    shop.orders = [order(1), order(2, "3"), order(3, "1", modified=NOW)]
    engine(db, shop).run_once()
    key = "problem.order.3"
    assert key in problems(db)
    boss = Actor("dashboard", "office", None, "Sigrid", "supervisor")
    with pytest.raises(syncing.Refused):
        syncing.dismiss_problem(db, Actor("dashboard", "office", None, "Kari", "packer"), key, "x")
    syncing.dismiss_problem(db, boss, key, "fixed the number in the shop")
    assert key not in problems(db)


def test_products_arriving_after_their_orders_link_the_open_orders_lines(
    db: Database, shop: HostileShop
) -> None:
    """Issue #18: orders pulled while the catalogue could not be read are linked when it
    arrives — by SKU, or by the shop's product id when the line had no SKU — except an order
    already packed, whose lines stay as they went into the parcel."""
    shop.products = [product(101, "sku-a", "Mug"), product(102, "sku-b", "Cup")]
    shop.orders = [
        order(7201, lines=(("SKU-A", 101), ("", 102))),  # WooCommerce sends "sku": "" at times
        order(7202, lines=(("SKU-B", 102),)),
    ]
    shop.fail_products = 10
    sync = engine(db, shop)
    assert sync.run_once().error  # the products failed; the orders came
    with db.write() as s:
        packed = s.exec(select(Order).where(Order.shop_order_id == 7202)).one()
        packed.status = "packed"
        s.add(packed)
    with db.read() as s:
        assert s.exec(select(OrderLine).where(col(OrderLine.product_id).is_not(None))).all() == []
    shop.fail_products = 0
    assert sync.run_once().error is None
    with db.read() as s:
        linked = {
            (o, line.sku, p)
            for o, line, p in s.exec(
                select(Order.shop_order_id, OrderLine, Product.shop_product_id)
                .join(OrderLine, col(OrderLine.order_id) == col(Order.id))
                .join(Product, col(Product.id) == col(OrderLine.product_id), isouter=True)
            ).all()
        }
    assert linked == {(7201, "SKU-A", 101), (7201, "SKU-B", 102), (7202, "SKU-B", None)}


APP_SCRIPT = """
import sys
from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.data.engine import create_database

settings = load_settings(None, db=sys.argv[1])
PackbenchApp(settings=settings, db=create_database(sys.argv[1]), terminal="bench-7").run(
    headless=True
)
print("app ended", flush=True)
"""


def test_the_app_gives_the_lease_back_on_sigterm(db: Database, shop: HostileShop) -> None:
    shop.orders = [order(9200)]
    env = {
        **os.environ,
        "PACKBENCH_SHOP_KEY": KEY,
        "PACKBENCH_SHOP_SECRET": SECRET,
        "PACKBENCH_SHOP__URL": shop.url,
        "PACKBENCH_SHOP__SYNC_INTERVAL_S": "30",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", APP_SCRIPT, db.target],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while 9200 not in bench_orders(db):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with db.read() as s:
            lease = s.get(SyncLease, LEASE_NAME)
            assert lease is not None and lease.holder.startswith("bench-7-app on ")
            assert f"pid {proc.pid}" in lease.holder
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "app ended" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with db.read() as s:
        assert s.get(SyncLease, LEASE_NAME) is None
