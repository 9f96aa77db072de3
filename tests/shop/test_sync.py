"""The sync engine against the real demo shop over loopback: pull, push, faults, crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, func, select

from packbench.data.engine import Database
from packbench.data.models import Order, OrderLine, OutboxItem, Product
from packbench.operations.outbox import enqueue, sync_health
from packbench.shop.demo_shop import DemoShopState, run_in_thread
from packbench.shop.sync import SyncEngine, SyncStopped
from packbench.shop.woocommerce import WooCommerceAdapter

KEY, SECRET = "ck_test", "cs_test"


class Shop:
    def __init__(self, url: str, state: DemoShopState) -> None:
        self.url = url
        self.state = state
        self.http = httpx.Client(base_url=url, auth=(KEY, SECRET), timeout=10)

    def faults(self, **settings: float) -> None:
        body = {"fail_rate": 0.0, "latency_ms": 0, "rate_limit": 0, **settings}
        r = self.http.post("/wp-json/packbench-demo/v1/faults", json=body)
        assert r.status_code == 200, r.text

    def captures(self) -> list[dict]:
        return self.http.get("/wp-json/packbench-demo/v1/captures").json()

    def ledger(self) -> list[dict]:
        return self.http.get("/wp-json/packbench-demo/v1/ledger").json()

    def adapter(self, secret: str = SECRET) -> WooCommerceAdapter:
        return WooCommerceAdapter(self.url, KEY, secret, timeout=5)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    state = DemoShopState.open(tmp_path / "shop.json", seed=1, n_orders=72)
    url, stop = run_in_thread(state, key=KEY, secret=SECRET, fault_seed=7)
    yield Shop(url, state)
    stop()


@pytest.fixture
def bench(db: Database) -> Database:
    """The bench's database: SQLite, or PostgreSQL in the PACKBENCH_TEST_PG pass."""
    return db


def engine(db: Database, shop: Shop, **kw) -> SyncEngine:  # type: ignore[no-untyped-def]
    options = dict(holder="t1", per_page=10, backoff_base_s=0.01, backoff_cap_s=0.05, overlap_s=60)
    options.update(kw)
    return SyncEngine(db, shop.adapter(), **options)  # type: ignore[arg-type]


def count(db: Database, model, *where) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def processing(shop: Shop) -> set[int]:
    return {o["id"] for o in shop.state.orders() if o["status"] == "processing"}


def test_pull_of_several_pages_then_only_what_changed(bench: Database, shop: Shop) -> None:
    sync = engine(bench, shop)
    report = sync.run_once(products=True)
    assert report.error is None and report.products >= 200
    wanted = processing(shop)
    assert len(wanted) > 10  # more than one page of 10
    with bench.read() as s:
        got = set(s.exec(select(Order.shop_order_id)).all())
    assert got == wanted
    assert report.created == len(wanted)
    # Products came first, so every line is matched to its product (even one with no SKU).
    assert count(bench, OrderLine, col(OrderLine.product_id).is_(None)) == 0

    again = sync.run_once()
    assert (again.created, again.changed) == (0, 0)

    shop.state.add_new_order()
    some = sorted(wanted)[0]
    shop.state.update_order(some, meta=[{"key": "gift", "value": "yes"}])
    third = sync.run_once()
    assert (third.created, third.changed) == (1, 1)
    health = sync_health(bench)
    assert health.last_ok_at is not None and health.waiting == 0


def enqueue_work(db: Database, orders: list[int]) -> None:
    with db.write() as s:
        for shop_id in orders:
            order = s.exec(select(Order).where(Order.shop_order_id == shop_id)).one()
            enqueue(s, order.id, "note", {"note": f"Packed: order {shop_id}"}, f"pack-{shop_id}")
            enqueue(
                s,
                order.id,
                "meta",
                {"meta": {"_packbench_tracking": f"RR{shop_id}NO"}},
                f"track-{shop_id}",
            )
            enqueue(s, order.id, "complete", {}, f"complete-{shop_id}")


def drain(db: Database, sync: SyncEngine, rounds: int = 200) -> None:
    for _ in range(rounds):
        sync.run_once()
        if count(db, OutboxItem, OutboxItem.status == "pending") == 0:
            return
        time.sleep(0.02)
    raise AssertionError("the outbox did not drain")


def assert_exactly_once(shop: Shop, orders: list[int]) -> None:
    captures = shop.captures()
    for shop_id in orders:
        record = shop.http.get(f"/wp-json/wc/v3/orders/{shop_id}").json()  # as the API says
        assert record["status"] == "completed"
        assert len([c for c in captures if c["order_id"] == shop_id]) == 1
        notes = [n["note"] for n in shop.state.notes(shop_id) if "Packed: order" in n["note"]]
        assert len(notes) == 1, notes
        meta = {m["key"]: m["value"] for m in record["meta_data"]}
        assert meta["_packbench_tracking"] == f"RR{shop_id}NO"
        assert int(meta["_capture_count"]) == 1
    for entry in shop.ledger():
        debit = sum(line["debit_ore"] for line in entry["lines"])
        credit = sum(line["credit_ore"] for line in entry["lines"])
        assert debit == credit


def test_push_survives_faults_exactly_once(bench: Database, shop: Shop) -> None:
    sync = engine(bench, shop)
    sync.run_once(products=True)
    orders = sorted(processing(shop))[:12]
    enqueue_work(bench, orders)
    shop.faults(fail_rate=0.2, latency_ms=5, rate_limit=40)
    for _ in range(15):  # work under faults for a while
        sync.run_once()
    shop.faults()  # the faults stop
    drain(bench, sync)
    assert_exactly_once(shop, orders)
    with bench.read() as s:
        done = s.exec(select(Order).where(col(Order.shop_order_id).in_(orders))).all()
    assert all(o.invoice_number and o.payment_status == "captured" for o in done)


def test_wrong_credentials_stop_with_one_clear_error(bench: Database, shop: Shop) -> None:
    sync = SyncEngine(bench, shop.adapter(secret="wrong"), holder="t1")
    with pytest.raises(SyncStopped, match="refused the consumer key and secret"):
        sync.run_once()
    assert "wrong" not in (sync_health(bench).last_error or "")


def test_one_sync_at_a_time(bench: Database, shop: Shop) -> None:
    first = engine(bench, shop, holder="t1")
    second = engine(bench, shop, holder="t2")
    assert not first.run_once().skipped_lease
    assert second.run_once().skipped_lease
    first.release()
    assert not second.run_once().skipped_lease


def _sync_process(db_path: str, url: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PACKBENCH_SHOP_KEY": KEY,
        "PACKBENCH_SHOP_SECRET": SECRET,
        "PACKBENCH_SHOP__LEASE_TTL_S": "1",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "packbench",
            "sync",
            "--db",
            str(db_path),
            "--shop-url",
            url,
            "--watch",
            "--interval",
            "0.05",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_while_pushing_loses_nothing_and_doubles_nothing(
    tmp_path: Path, bench: Database, shop: Shop
) -> None:
    first = engine(bench, shop)
    first.run_once(products=True)
    first.release()  # hand over to the sync process
    orders = sorted(processing(shop))[:20]
    enqueue_work(bench, orders)
    shop.faults(latency_ms=40)  # slow enough to be killed in the middle
    proc = _sync_process(bench.target, shop.url)
    try:
        deadline = time.monotonic() + 60
        while count(bench, OutboxItem, OutboxItem.status == "done") < 10:
            assert time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "slow"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert count(bench, OutboxItem, OutboxItem.status == "pending") > 0
    shop.faults()
    # The dead process's lease runs out; a restart on another terminal finishes the work.
    restarted = engine(bench, shop, holder="t1-restart")
    time.sleep(1.1)
    drain(bench, restarted)
    assert_exactly_once(shop, orders)


def test_wake_starts_the_next_round_at_once(bench: Database, shop: Shop) -> None:
    """A station that queued a completion asks for the shop's answer now, not in 60 s."""
    import threading

    sync = engine(bench, shop)
    stop, wake = threading.Event(), threading.Event()
    rounds: list[float] = []
    worker = threading.Thread(
        target=sync.watch,
        args=(60.0, stop),
        kwargs={"on_report": lambda r: rounds.append(time.monotonic()), "wake": wake},
    )
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while not rounds and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(rounds) == 1
        wake.set()
        while len(rounds) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(rounds) == 2 and rounds[1] - rounds[0] < 10
    finally:
        stop.set()
        wake.set()
        worker.join(timeout=30)
    assert not worker.is_alive()


def test_a_first_sync_once_leaves_every_order_packable(bench: Database, shop: Shop) -> None:
    """Issue #18: no ``--products`` needed; every line has its product, GTIN, shelf and sizes.

    A new bench knows no shelves: the warehouse layout says which a product may name."""
    from packbench.config import BUNDLED_LAYOUT, load_warehouse_layout

    layout = load_warehouse_layout(BUNDLED_LAYOUT)
    report = engine(bench, shop, layout=layout).run_once()
    assert report.error is None and report.products >= 200 and report.created > 10
    with bench.read() as s:
        lines = s.exec(select(OrderLine, Product).join(Product, isouter=True)).all()
    assert lines
    for line, product in lines:
        assert product is not None, line
        assert product.gtin and product.location, product
        assert min(product.length_mm, product.width_mm, product.height_mm, product.weight_g) > 0
    # The provider's reference comes with each order (#15: what a settlement line names).
    remote = {o["id"]: o["transaction_id"] for o in shop.state.orders()}
    with bench.read() as s:
        pulled = s.exec(select(Order.shop_order_id, Order.payment_reference)).all()
    assert pulled and all(ref == remote[shop_id] and ref for shop_id, ref in pulled)
