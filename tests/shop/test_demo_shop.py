"""The bundled demo shop, over real HTTP on loopback (uvicorn in a thread, httpx as client).

No mocks: every test talks to a running server, because what the bench's sync engine will meet
is the wire — headers, status codes, dropped connections — not the Python objects behind it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from packbench.data.demo_catalogue import REFERENCE_NOW, generate  # noqa: E402
from packbench.shop.demo_shop import (  # noqa: E402
    CAPTURE_COUNT_META,
    CAPTURE_ID_META,
    CAPTURED_AT_META,
    INVOICE_META,
    LOCATION_META,
    DemoShopApp,
    DemoShopState,
    create_app,
    run_in_thread,
    split_vat,
)
from packbench.shop.demo_shop.state import parse_wc_time  # noqa: E402
from tests.packbench_process import run_packbench  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
AUTH = ("ck_demo", "cs_demo")
WC = "/wp-json/wc/v3"
DEMO = "/wp-json/packbench-demo/v1"
MONEY = re.compile(r"-?\d+\.\d{2}")
NAIVE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
SEED = 1
N_ORDERS = 72


class Shop:
    """A running demo shop and a client for it."""

    def __init__(self, app: DemoShopApp, url: str) -> None:
        self.app = app
        self.url = url
        self.client = httpx.Client(base_url=url, auth=AUTH, timeout=10)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.put(path, json=body)

    def faults(self, **settings: Any) -> dict[str, Any]:
        r = self.client.post(f"{DEMO}/faults", json=settings)
        assert r.status_code == 200, r.text
        return r.json()

    def all_orders(self, **params: Any) -> list[dict[str, Any]]:
        return _all_pages(self.client, f"{WC}/orders", params)

    def captures(self, order_id: int | None = None) -> list[dict[str, Any]]:
        params = {"order_id": order_id} if order_id else {}
        return self.get(f"{DEMO}/captures", params=params).json()

    def ledger(self) -> list[dict[str, Any]]:
        return self.get(f"{DEMO}/ledger").json()


def _all_pages(client: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item, following ``Link: rel="next"`` the way a WordPress client does."""
    items: list[dict[str, Any]] = []
    response = client.get(path, params={"per_page": 100, **params})
    while True:
        assert response.status_code == 200, response.text
        items.extend(response.json())
        if "next" not in response.links:
            return items
        response = client.get(response.links["next"]["url"])


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    """``start(**options)`` → a running :class:`Shop`; all are stopped after the test."""
    stops: list[Any] = []

    def _start(state: Path | None = None, **options: Any) -> Shop:
        options.setdefault("seed", SEED)
        options.setdefault("n_orders", N_ORDERS)
        app = create_app(state or tmp_path / "shop.json", **options)
        url, stop = run_in_thread(app)
        shop = Shop(app, url)
        stops.append((shop, stop))
        return shop

    yield _start
    for shop, stop in stops:
        shop.client.close()
        stop()


@pytest.fixture
def shop(start: Any) -> Shop:
    return start()


def _processing_ids(shop: Shop, count: int) -> list[int]:
    orders = shop.all_orders(status="processing", orderby="id", order="asc")
    return [o["id"] for o in orders[:count]]


def _meta(order: dict[str, Any]) -> dict[str, Any]:
    return {m["key"]: m["value"] for m in order["meta_data"]}


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert body["data"]["status"] == status


# --------------------------------------------------------------------------- reading


def test_orders_page_with_wordpress_headers_and_links(shop: Shop) -> None:
    params = {"status": "any", "orderby": "modified", "order": "asc", "per_page": 10}
    first = shop.get(f"{WC}/orders", params=params)
    assert first.headers["X-WP-Total"] == str(N_ORDERS)
    assert first.headers["X-WP-TotalPages"] == "8"
    assert "prev" not in first.links and "page=2" in first.links["next"]["url"]

    seen: list[dict[str, Any]] = []
    response, pages = first, 1
    while True:
        batch = response.json()
        assert len(batch) == (10 if pages < 8 else 2)
        seen.extend(batch)
        if "next" not in response.links:
            break
        response = shop.client.get(response.links["next"]["url"])
        pages += 1
        assert f"page={pages - 1}" in response.links["prev"]["url"]
        assert "status=any" in response.links["prev"]["url"]  # other parameters are kept
    assert pages == 8
    assert sorted(o["id"] for o in seen) == list(range(5001, 5001 + N_ORDERS))
    keys = [(o["date_modified_gmt"], o["id"]) for o in seen]
    assert keys == sorted(keys)

    beyond = shop.get(f"{WC}/orders", params={**params, "page": 9})
    assert beyond.json() == [] and beyond.headers["X-WP-Total"] == str(N_ORDERS)
    assert "page=8" in beyond.links["prev"]["url"] and "next" not in beyond.links


def test_orders_are_the_demo_databases_orders_in_woocommerce_shape(shop: Shop) -> None:
    demo = {o.shop_order_id: o for o in generate(seed=SEED, n_orders=N_ORDERS).orders}
    fixture = json.loads((FIXTURES / "woocommerce_v3_order_retrieve_response.json").read_text())
    orders = shop.all_orders()
    assert {o["id"] for o in orders} == set(demo)
    expected_status = {"handed_over": "completed", "cancelled": "cancelled"}
    for order in orders:
        d = demo[order["id"]]
        assert set(fixture) <= set(order), set(fixture) - set(order)
        assert order["number"] == d.number and order["currency"] == "NOK"
        assert order["status"] == expected_status.get(d.status, "processing")
        assert order["total"] == f"{d.total_ore // 100}.{d.total_ore % 100:02d}"
        for field in ("total", "shipping_total", "discount_total", "total_tax"):
            assert MONEY.fullmatch(order[field])
        for field in ("date_created", "date_created_gmt", "date_modified_gmt", "date_paid_gmt"):
            assert NAIVE_TIME.fullmatch(order[field])
        local = datetime.fromisoformat(order["date_created"])
        gmt = datetime.fromisoformat(order["date_created_gmt"])
        assert local - gmt == timedelta(hours=1)  # Oslo in November
        assert gmt.replace(tzinfo=UTC) == d.created_at
        assert order["billing"]["email"] == d.billing.email
        assert order["shipping"]["postcode"] == d.shipping.postcode
        assert [(li["sku"], li["quantity"]) for li in order["line_items"]] == [
            (ln.sku, ln.quantity) for ln in d.lines
        ]
        for item, line in zip(order["line_items"], d.lines, strict=True):
            assert set(fixture["line_items"][0]) <= set(item)
            assert isinstance(item["price"], int | float)  # a number, as in the fixture
            assert round(item["price"] * 100) == line.unit_price_ore
            assert MONEY.fullmatch(item["total"]) and MONEY.fullmatch(item["subtotal"])
        (ship,) = order["shipping_lines"]
        method, _, instance = d.shipping_method_id.partition(":")
        assert (ship["method_id"], ship["instance_id"]) == (method, instance)
        assert ship["method_title"] == d.shipping_method_title


def test_products_are_the_demo_catalogue(shop: Shop) -> None:
    catalogue = {p.sku: p for p in generate(seed=SEED, n_orders=0).products}
    products = _all_pages(shop.client, f"{WC}/products", {"orderby": "id", "order": "asc"})
    assert [p["sku"] for p in products] == [p.sku for p in catalogue.values()]
    for product in products:
        p = catalogue[product["sku"]]
        assert product["id"] == p.shop_product_id
        assert product["global_unique_id"] == p.gtin
        assert product["name"] == p.name
        assert product["price"] == f"{p.price_ore // 100}.{p.price_ore % 100:02d}"
        dims = product["dimensions"]
        assert [float(dims[k]) * 10 for k in ("length", "width", "height")] == pytest.approx(
            [p.length_mm, p.width_mm, p.height_mm]
        )
        assert float(product["weight"]) * 1000 == pytest.approx(p.weight_g)
        assert _meta(product)[LOCATION_META] == p.location
    one = shop.get(f"{WC}/products", params={"sku": products[5]["sku"]}).json()
    assert [p["id"] for p in one] == [products[5]["id"]]


def test_status_filter_and_modified_after(shop: Shop) -> None:
    everything = shop.all_orders()
    both = shop.all_orders(status="processing,cancelled")
    assert {o["status"] for o in both} == {"processing", "cancelled"}
    assert len(both) == sum(o["status"] in ("processing", "cancelled") for o in everything)

    stamps = sorted({o["date_modified_gmt"] for o in everything})
    cursor = stamps[len(stamps) // 2]
    after = shop.all_orders(modified_after=cursor, dates_are_gmt="true")
    assert {o["id"] for o in after} == {
        o["id"]
        for o in everything
        if o["date_modified_gmt"] > cursor  # strictly after
    }
    # Without dates_are_gmt the same text is Oslo time: one hour earlier in UTC.
    local = shop.all_orders(modified_after=cursor)
    utc_cursor = (datetime.fromisoformat(cursor) - timedelta(hours=1)).isoformat()
    assert {o["id"] for o in local} == {
        o["id"] for o in everything if o["date_modified_gmt"] > utc_cursor
    }

    newest = stamps[-1]
    assert shop.all_orders(modified_after=newest, dates_are_gmt="true") == []
    order_id = _processing_ids(shop, 1)[0]
    shop.put(f"{WC}/orders/{order_id}", {"status": "on-hold"})
    changed = shop.all_orders(modified_after=newest, dates_are_gmt="true")
    assert [o["id"] for o in changed] == [order_id]
    assert changed[0]["date_modified_gmt"] > newest


# --------------------------------------------------------------------------- refusals


def test_auth_is_required_and_refusals_are_woocommerce_shaped(shop: Shop) -> None:
    anonymous = httpx.Client(base_url=shop.url, timeout=10)
    wrong = httpx.Client(base_url=shop.url, auth=("ck_demo", "cs_wrong"), timeout=10)
    other = httpx.Client(base_url=shop.url, auth=("ck_other", "cs_demo"), timeout=10)
    try:
        for client in (anonymous, wrong, other):
            _error(client.get(f"{WC}/orders"), 401, "woocommerce_rest_cannot_view")
            _error(client.get(f"{WC}/products"), 401, "woocommerce_rest_cannot_view")
            _error(client.get(f"{DEMO}/ledger"), 401, "woocommerce_rest_cannot_view")
            _error(client.get(f"{DEMO}/captures"), 401, "woocommerce_rest_cannot_view")
            r = client.put(f"{WC}/orders/5001", json={"status": "completed"})
            _error(r, 401, "woocommerce_rest_cannot_edit")
            r = client.post(f"{DEMO}/faults", json={"fail_rate": 1})
            _error(r, 401, "woocommerce_rest_cannot_edit")
        health = anonymous.get(f"{DEMO}/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        query = {"consumer_key": "ck_demo", "consumer_secret": "cs_demo"}
        assert anonymous.get(f"{WC}/orders/5001", params=query).status_code == 200
    finally:
        for client in (anonymous, wrong, other):
            client.close()
    assert shop.app.faults.fail_rate == 0


def test_errors_have_the_right_codes(shop: Shop) -> None:
    no_route = json.loads((FIXTURES / "woocommerce_v3_error_rest_no_route.json").read_text())
    assert shop.get(f"{WC}/nothing-here").json() == no_route
    assert shop.client.delete(f"{WC}/orders").json() == no_route
    _error(shop.get(f"{WC}/orders/999999"), 404, "woocommerce_rest_shop_order_invalid_id")
    unknown = shop.put(f"{WC}/orders/999999", {"status": "completed"})
    _error(unknown, 404, "woocommerce_rest_shop_order_invalid_id")
    _error(shop.get(f"{WC}/orders", params={"per_page": 101}), 400, "rest_invalid_param")
    _error(shop.get(f"{WC}/orders", params={"page": 0}), 400, "rest_invalid_param")
    _error(shop.get(f"{WC}/orders", params={"status": "shipped"}), 400, "rest_invalid_param")
    bad_date = shop.get(f"{WC}/orders", params={"modified_after": "yesterday"})
    _error(bad_date, 400, "rest_invalid_param")
    _error(shop.get(f"{WC}/products", params={"per_page": 500}), 400, "rest_invalid_param")

    order_id = _processing_ids(shop, 1)[0]
    _error(shop.put(f"{WC}/orders/{order_id}", {"status": "shipped"}), 400, "rest_invalid_param")
    bad_json = shop.client.put(f"{WC}/orders/{order_id}", content=b"{nope")
    _error(bad_json, 400, "rest_invalid_json")
    owned = {"meta_data": [{"key": INVOICE_META, "value": "1"}]}
    _error(shop.put(f"{WC}/orders/{order_id}", owned), 400, "rest_invalid_param")
    assert shop.put(f"{WC}/orders/{order_id}", {"status": "completed"}).status_code == 200
    reopen = shop.put(f"{WC}/orders/{order_id}", {"status": "processing"})
    _error(reopen, 400, "woocommerce_rest_shop_order_invalid_status")
    assert shop.get(f"{WC}/orders/{order_id}").json()["status"] == "completed"


# --------------------------------------------------------------------------- completing


def _check_books(shop: Shop) -> None:
    """Every order captured at most once, every journal entry balanced and right."""
    orders = {o["id"]: o for o in shop.all_orders()}
    captures = shop.captures()
    ledger = shop.ledger()
    captured_ids = [c["order_id"] for c in captures]
    assert len(captured_ids) == len(set(captured_ids))
    assert {i for i, o in orders.items() if o["status"] == "completed"} == set(captured_ids)
    invoices = [int(e["invoice_number"]) for e in ledger]
    assert invoices == list(range(100001, 100001 + len(ledger)))  # no gaps, no repeats
    assert len(ledger) == len(captures)
    by_order = {c["order_id"]: c for c in captures}
    for entry in ledger:
        order = orders[entry["order_id"]]
        gross = round(float(order["total"]) * 100)
        lines = {ln["account"]: ln for ln in entry["lines"]}
        assert sum(ln["debit_ore"] for ln in entry["lines"]) == sum(
            ln["credit_ore"] for ln in entry["lines"]
        )
        assert lines["1570"]["debit_ore"] == gross == by_order[order["id"]]["amount_ore"]
        net, vat = lines["3000"]["credit_ore"], lines["2700"]["credit_ore"]
        assert net + vat == gross and abs(net * 1.25 - gross) <= 1
        assert vat == gross - round(gross / 1.25)
        meta = _meta(order)
        assert meta[INVOICE_META] == entry["invoice_number"]
        assert meta[CAPTURE_ID_META] == entry["capture_id"] == by_order[order["id"]]["id"]
        assert meta[CAPTURE_COUNT_META] == "1"
        assert meta[CAPTURED_AT_META] == by_order[order["id"]]["captured_at"]


def test_the_demos_handed_over_orders_start_captured_and_booked(shop: Shop) -> None:
    handed_over = [o for o in generate(seed=SEED, n_orders=N_ORDERS).orders]
    handed_over = [o.shop_order_id for o in handed_over if o.status == "handed_over"]
    assert sorted(c["order_id"] for c in shop.captures()) == sorted(handed_over)
    _check_books(shop)


def test_completing_captures_invoices_and_books_exactly_once(shop: Shop) -> None:
    order_id = _processing_ids(shop, 1)[0]
    before = len(shop.captures())
    r = shop.put(f"{WC}/orders/{order_id}", {"status": "completed"})
    assert r.status_code == 200
    order = r.json()
    assert order["status"] == "completed" and order["date_completed_gmt"]
    meta = _meta(order)
    assert meta[INVOICE_META] and meta[CAPTURE_ID_META] and meta[CAPTURE_COUNT_META] == "1"
    (capture,) = shop.captures(order_id)
    assert capture["amount_ore"] == round(float(order["total"]) * 100)
    assert capture["currency"] == "NOK"

    again = shop.client.post(f"{WC}/orders/{order_id}", json={"status": "completed"})
    assert again.status_code == 200
    assert again.json()["date_modified_gmt"] == order["date_modified_gmt"]  # a no-op
    assert _meta(again.json()) == meta
    assert len(shop.captures()) == before + 1
    (entry,) = [e for e in shop.ledger() if e["order_id"] == order_id]
    assert [ln["account"] for ln in entry["lines"]] == ["1570", "3000", "2700"]
    _check_books(shop)


def test_the_state_lock_alone_prevents_a_second_capture() -> None:
    state = DemoShopState.fresh(n_orders=20)
    order_id = next(o["id"] for o in state.orders() if o["status"] == "processing")
    barrier = threading.Barrier(8)

    def complete() -> None:
        barrier.wait()
        state.update_order(order_id, status="completed")

    threads = [threading.Thread(target=complete) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [c["order_id"] for c in state.captures()].count(order_id) == 1


def test_concurrent_completions_never_capture_twice(shop: Shop) -> None:
    targets = _processing_ids(shop, 3)
    barrier = threading.Barrier(12)
    results: list[int] = []

    def complete(order_id: int) -> None:
        with httpx.Client(base_url=shop.url, auth=AUTH, timeout=10) as client:
            barrier.wait()
            r = client.put(f"{WC}/orders/{order_id}", json={"status": "completed"})
            results.append(r.status_code)

    threads = [threading.Thread(target=complete, args=(targets[i % 3],)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 12
    for order_id in targets:
        assert len(shop.captures(order_id)) == 1
    _check_books(shop)


def test_a_custom_clearing_account_is_debited(start: Any) -> None:
    shop = start(clearing_account="1571")
    order_id = _processing_ids(shop, 1)[0]
    shop.put(f"{WC}/orders/{order_id}", {"status": "completed"})
    (entry,) = [e for e in shop.ledger() if e["order_id"] == order_id]
    assert entry["lines"][0]["account"] == "1571" and entry["lines"][0]["debit_ore"] > 0


@given(st.integers(min_value=0, max_value=10**12))
def test_vat_split_always_balances(gross: int) -> None:
    net, vat = split_vat(gross)
    assert net + vat == gross
    assert abs(net * 125 - gross * 100) <= 125 // 2 + 1  # net is gross / 1.25 to the øre
    assert vat >= 0


# --------------------------------------------------------------------------- notes and meta


def test_notes_are_added_and_listed(shop: Shop) -> None:
    fixture = json.loads((FIXTURES / "woocommerce_v3_order_note_create_response.json").read_text())
    order_id = _processing_ids(shop, 1)[0]
    modified = shop.get(f"{WC}/orders/{order_id}").json()["date_modified_gmt"]
    r = shop.client.post(
        f"{WC}/orders/{order_id}/notes", json={"note": "Pakket av Kari ✓", "customer_note": False}
    )
    assert r.status_code == 201
    note = r.json()
    assert set(fixture) <= set(note)
    assert note["note"] == "Pakket av Kari ✓" and note["customer_note"] is False
    assert note["_links"]["up"][0]["href"].endswith(f"/orders/{order_id}")
    listed = shop.get(f"{WC}/orders/{order_id}/notes").json()
    assert listed[0]["id"] == note["id"]  # newest first, as WooCommerce lists them
    assert "Pakket av Kari ✓" in [n["note"] for n in listed]
    assert shop.get(f"{WC}/orders/{order_id}").json()["date_modified_gmt"] == modified
    missing = shop.client.post(f"{WC}/orders/{order_id}/notes", json={"customer_note": True})
    _error(missing, 400, "rest_missing_callback_param")
    _error(shop.get(f"{WC}/orders/999999/notes"), 404, "woocommerce_rest_shop_order_invalid_id")


def test_meta_is_upserted_by_key(shop: Shop) -> None:
    order_id = _processing_ids(shop, 1)[0]
    path = f"{WC}/orders/{order_id}"
    first = shop.put(path, {"meta_data": [{"key": "_packbench_parcels", "value": "2"}]}).json()
    second = shop.put(path, {"meta_data": [{"key": "_packbench_parcels", "value": "3"}]}).json()
    entries = [m for m in second["meta_data"] if m["key"] == "_packbench_parcels"]
    assert len(entries) == 1 and entries[0]["value"] == "3"
    assert entries[0]["id"] == next(
        m["id"] for m in first["meta_data"] if m["key"] == "_packbench_parcels"
    )
    assert second["status"] == "processing" and not shop.captures(order_id)
    both = shop.put(
        path,
        {
            "status": "completed",
            "meta_data": [{"key": "_packbench_tracking", "value": "70712340000000017"}],
        },
    ).json()
    meta = _meta(both)
    assert meta["_packbench_tracking"] == "70712340000000017" and meta[INVOICE_META]
    deleted = shop.put(path, {"meta_data": [{"key": "_packbench_parcels", "value": None}]})
    assert "_packbench_parcels" not in _meta(deleted.json())


# --------------------------------------------------------------------------- persistence


def _everything(shop: Shop) -> dict[str, Any]:
    """What a client can see, with the server's own address (the port) taken out."""
    orders = shop.all_orders()
    seen = {
        "orders": orders,
        "notes": {o["id"]: shop.get(f"{WC}/orders/{o['id']}/notes").json() for o in orders[:10]},
        "products": _all_pages(shop.client, f"{WC}/products", {}),
        "ledger": shop.ledger(),
        "captures": shop.captures(),
    }
    return json.loads(json.dumps(seen).replace(shop.url, "http://shop"))


def test_state_survives_a_restart(start: Any, tmp_path: Path) -> None:
    path = tmp_path / "persist.json"
    shop = start(path)
    ids = _processing_ids(shop, 2)
    shop.put(f"{WC}/orders/{ids[0]}", {"status": "completed"})
    shop.put(f"{WC}/orders/{ids[1]}", {"meta_data": [{"key": "k", "value": "v"}]})
    shop.client.post(f"{WC}/orders/{ids[1]}/notes", json={"note": "husk meg"})
    shop.app.state.add_new_order()
    before = _everything(shop)
    snapshot = shop.app.state.snapshot()
    shop.client.close()

    # A different seed must not matter: an existing state file is loaded, not regenerated.
    again = start(path, seed=99, n_orders=5)
    after = _everything(again)
    for key in before:
        assert after[key] == before[key], key
    assert again.app.state.snapshot() == snapshot
    assert again.app.state.add_new_order()["id"] == 5001 + N_ORDERS + 1
    on_disk = DemoShopState.load(path)
    assert on_disk.order(5001 + N_ORDERS + 1)["status"] == "processing"


def test_new_orders_tick_in(start: Any) -> None:
    shop = start(new_order_every=0.2)
    newest_before = max(o["date_modified_gmt"] for o in shop.all_orders())
    deadline = time.monotonic() + 5
    new: list[dict[str, Any]] = []
    while time.monotonic() < deadline and len(new) < 2:
        time.sleep(0.1)
        new = [o for o in shop.all_orders(orderby="id", order="asc") if o["id"] > 5000 + N_ORDERS]
    assert [o["id"] for o in new][:2] == [5001 + N_ORDERS, 5002 + N_ORDERS]
    for order in new:
        assert order["status"] == "processing" and order["line_items"]
        assert order["date_created_gmt"] == order["date_modified_gmt"] > newest_before
    # A sync that has seen everything up to now finds them with modified_after.
    seen = shop.all_orders(status="processing", modified_after=newest_before, dates_are_gmt="true")
    assert {o["id"] for o in new} <= {o["id"] for o in seen}


def test_a_wall_clock_behind_the_demo_data_still_moves_modified_forward() -> None:
    state = DemoShopState.fresh(n_orders=20, clock=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    newest = max(o["modified_gmt"] for o in state.orders())
    processing = [o["id"] for o in state.orders() if o["status"] == "processing"]
    first = state.update_order(processing[0], status="completed")
    second = state.update_order(processing[1], status="on-hold")
    assert newest < first["modified_gmt"] < second["modified_gmt"]
    assert state.add_new_order()["modified_gmt"] > second["modified_gmt"]


def test_new_orders_are_deterministic() -> None:
    a = DemoShopState.fresh(seed=3, n_orders=4)
    b = DemoShopState.fresh(seed=3, n_orders=4)
    first, second = a.add_new_order(), b.add_new_order()
    assert first["id"] == second["id"] == 5005
    assert first["lines"] == second["lines"] and first["billing"] == second["billing"]


# --------------------------------------------------------------------------- faults


def _failed(response_or_error: httpx.Response | Exception) -> str:
    if isinstance(response_or_error, httpx.TransportError):
        return "dropped"
    assert isinstance(response_or_error, httpx.Response)
    _error(response_or_error, 500, "internal_server_error")
    return "500"


def _try(call: Any) -> httpx.Response | Exception:
    try:
        return call()
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        return exc


def test_fail_rate_one_fails_every_shop_request_but_not_the_demo_endpoints(start: Any) -> None:
    shop = start(fault_seed=11)
    shop.faults(fail_rate=1.0)
    kinds = [_failed(_try(lambda: shop.get(f"{WC}/orders/5001"))) for _ in range(16)]
    assert set(kinds) == {"dropped", "500"}
    assert shop.get(f"{DEMO}/ledger").status_code == 200
    assert shop.get(f"{DEMO}/health").status_code == 200
    assert shop.faults(fail_rate=0)["fail_rate"] == 0
    assert shop.get(f"{WC}/orders/5001").status_code == 200
    _error(shop.client.post(f"{DEMO}/faults", json={"fail_rate": 2}), 400, "rest_invalid_param")


def test_latency_is_added(shop: Shop) -> None:
    shop.faults(latency_ms=200)
    t0 = time.perf_counter()
    assert shop.get(f"{WC}/orders/5001").status_code == 200
    assert time.perf_counter() - t0 >= 0.2
    t0 = time.perf_counter()
    shop.get(f"{DEMO}/health")
    assert time.perf_counter() - t0 < 0.2
    shop.faults(latency_ms=0)


def test_rate_limit_answers_429_with_retry_after(shop: Shop) -> None:
    shop.faults(rate_limit=5)
    statuses = [shop.get(f"{WC}/orders/5001") for _ in range(12)]
    limited = [r for r in statuses if r.status_code == 429]
    assert [r.status_code for r in statuses][:5] == [200] * 5 and limited
    for r in limited:
        _error(r, 429, "rate_limit_exceeded")
        assert int(r.headers["Retry-After"]) >= 1
    time.sleep(float(limited[-1].headers["Retry-After"]) + 0.05)
    assert shop.get(f"{WC}/orders/5001").status_code == 200
    shop.faults(rate_limit=0)
    assert all(shop.get(f"{WC}/orders/5001").status_code == 200 for _ in range(10))


def test_a_failed_completion_may_already_have_happened(start: Any) -> None:
    """The nasty case: 500 or a dropped connection, and yet the order was completed and the
    money captured. A client that retries blindly is safe here only because the shop itself
    refuses a second capture; one that reads back first sees the truth."""
    shop = start(fault_seed=5)
    targets = _processing_ids(shop, 10)
    initial = len(shop.captures())
    shop.faults(fail_rate=1.0)
    outcomes = [
        _failed(_try(lambda i=i: shop.put(f"{WC}/orders/{i}", {"status": "completed"})))
        for i in targets
    ]
    assert set(outcomes) == {"dropped", "500"}
    shop.faults(fail_rate=0)
    statuses = {i: shop.get(f"{WC}/orders/{i}").json()["status"] for i in targets}
    applied = [i for i, s in statuses.items() if s == "completed"]
    assert applied and len(applied) < len(targets)  # both outcomes, deterministically
    assert len(shop.captures()) == initial + len(applied)
    for order_id in targets:  # the retry after reading back
        r = shop.put(f"{WC}/orders/{order_id}", {"status": "completed"})
        assert r.status_code == 200 and len(shop.captures(order_id)) == 1
    _check_books(shop)


# --------------------------------------------------------------------------- the command


def test_main_prints_its_address_and_serves(tmp_path: Path) -> None:
    state = tmp_path / "cli.json"
    cmd = [sys.executable, "-m", "packbench.shop.demo_shop", "--port", "0", "--state", str(state)]
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.fullmatch(r"demo shop on (http://127\.0\.0\.1:\d+) \(key ck_demo\)\n", line)
            assert match, line
            url = match.group(1)
            deadline = time.monotonic() + 10
            while True:
                try:
                    if httpx.get(f"{url}{DEMO}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            order = httpx.get(f"{url}{WC}/orders/5001", auth=AUTH, timeout=5)
            assert order.status_code == 200 and order.json()["id"] == 5001
            assert state.exists()
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_a_new_demo_shop_is_dated_on_the_day_it_is_made() -> None:
    now = REFERENCE_NOW + timedelta(days=12, hours=9)
    moved = DemoShopState.fresh(seed=SEED, n_orders=N_ORDERS, now=now)
    plain = DemoShopState.fresh(seed=SEED, n_orders=N_ORDERS)
    pairs = list(zip(moved.orders(), plain.orders(), strict=True))
    assert pairs
    for after, before in pairs:
        assert after["id"] == before["id"] and after["lines"] == before["lines"]
        shift = parse_wc_time(after["created_gmt"]) - parse_wc_time(before["created_gmt"])
        assert shift == timedelta(days=12)
        assert parse_wc_time(after["modified_gmt"]) <= now


def test_demo_shop_help_names_its_defaults() -> None:
    out = run_packbench("demo-shop", "--help", timeout=60)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    for default in ("(default: 8787)", "(default: 72)", "(default: ck_demo)", "(default: 1570)"):
        assert default in text
    assert "(default: None)" not in text and "(default: False)" not in text


# --------------------------------------------------------------------------- issue #18


def test_a_page_copies_only_its_own_orders(monkeypatch: pytest.MonkeyPatch) -> None:
    """A listing filters and sorts references; only the page asked for is copied (a whole
    copy per page made a full pull O(n²))."""
    import packbench.shop.demo_shop.state as state_module

    state = DemoShopState.fresh(seed=SEED, n_orders=300)
    copied: list[int] = []
    real = state_module.copy.deepcopy

    def counting(value: Any, memo: Any = None) -> Any:
        if isinstance(value, list) and memo is None:
            copied.append(len(value))
        return real(value, memo)

    monkeypatch.setattr(state_module.copy, "deepcopy", counting)
    total, page = state.order_page(
        statuses={"processing"}, orderby="modified", descending=False, offset=20, limit=10
    )
    assert copied == [10] and len(page) == 10
    monkeypatch.setattr(state_module.copy, "deepcopy", real)
    everything = [o for o in state.orders() if o["status"] == "processing"]
    everything.sort(key=lambda o: (o["modified_gmt"], o["id"]))
    assert total == len(everything)
    assert [o["id"] for o in page] == [o["id"] for o in everything[20:30]]
    # A change moves the order to the end of the modified order (the sorted index is renewed).
    first = everything[0]["id"]
    state.update_order(first, meta=[{"key": "gift", "value": "yes"}])
    _, last = state.order_page(
        statuses={"processing"}, orderby="modified", descending=False, offset=total - 1, limit=5
    )
    assert [o["id"] for o in last] == [first]


def test_fields_asks_for_only_some_fields(shop: Shop) -> None:
    """WordPress's ``_fields``: top-level and dotted nested keys; absent keys are left out."""
    response = shop.get(
        f"{WC}/orders",
        params={"per_page": 5, "_fields": "id,status,line_items.sku,no_such_field"},
    )
    assert response.status_code == 200
    assert response.headers["X-WP-TotalPages"]
    for order in response.json():
        assert set(order) == {"id", "status", "line_items"}
        assert all(set(line) == {"sku"} for line in order["line_items"])
    one = response.json()[0]["id"]
    single = shop.get(f"{WC}/orders/{one}", params={"_fields": "id,number"}).json()
    assert single == {"id": one, "number": str(one)}
    # A shop whose plugin breaks _fields: the answer lacks fields it was asked for.
    shop.faults(fields_lost_share=1.0)
    broken = shop.get(f"{WC}/orders", params={"per_page": 2, "_fields": "id,line_items"}).json()
    assert all(set(order) == {"id"} for order in broken)
    full = shop.get(f"{WC}/orders", params={"per_page": 2}).json()
    assert all("line_items" in order for order in full)  # without _fields: whole


def test_products_by_include_and_modified_after(shop: Shop) -> None:
    every = shop.get(f"{WC}/products", params={"per_page": 100, "orderby": "id"}).json()
    ids = [p["id"] for p in every[:3]]
    wanted = ",".join(str(i) for i in ids)
    got = shop.get(f"{WC}/products", params={"include": wanted, "per_page": 100}).json()
    assert sorted(p["id"] for p in got) == sorted(ids)
    refused = shop.get(f"{WC}/products", params={"include": "12,x"})
    _error(refused, 400, "rest_invalid_param")

    newest = max(p["date_modified_gmt"] for p in every)
    params = {"modified_after": newest, "dates_are_gmt": "true", "per_page": 100}
    assert shop.get(f"{WC}/products", params=params).json() == []
    shop.app.state.update_product(ids[1], location="B-02-1")
    changed = shop.get(f"{WC}/products", params=params).json()
    assert [p["id"] for p in changed] == [ids[1]]
    assert changed[0]["date_modified_gmt"] > newest
    assert {m["key"]: m["value"] for m in changed[0]["meta_data"]}[LOCATION_META] == "B-02-1"
    # Simple products have no variations; an unknown product is a 404.
    assert shop.get(f"{WC}/products/{ids[0]}/variations").json() == []
    _error(shop.get(f"{WC}/products/999999/variations"), 404, "woocommerce_rest_product_invalid_id")
