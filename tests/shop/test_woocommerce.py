"""The WooCommerce adapter: payload mapping against the documented payloads, and error mapping.

Mapping is tested on the verbatim WooCommerce documentation payloads in ``fixtures/`` and on
hostile variations of them. Transport failures (refused, dropped, silent connections) use real
sockets on loopback. ``httpx.MockTransport`` appears only in the error-mapping tests, where a
status code or header has to be forced; happy-path HTTP is covered end to end against the demo
shop.
"""

from __future__ import annotations

import base64
import copy
import functools
import logging
import socket
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from packbench.shop.base import (
    AuthError,
    NotFound,
    PayloadError,
    PermanentError,
    RateLimited,
    ShopError,
    TransientError,
)
from packbench.shop.woocommerce import (
    WooCommerceAdapter,
    decode_json,
    map_order,
    map_product,
    map_remote_order,
    order_query,
    orders_page,
    page_flags,
    parse_retry_after,
    products_page,
    update_body,
)

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "ck_0123456789abcdef0123456789abcdef01234567"
SECRET = "cs_fedcba9876543210fedcba9876543210fedcba98"
BASIC = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()


@functools.cache
def _fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load(name: str) -> Any:
    """A fresh copy, decoded the way the adapter decodes (non-integers as Decimal)."""
    return decode_json(_fixture_bytes(name))


def order_727() -> dict[str, Any]:
    return load("woocommerce_v3_orders_list_response.json")[0]


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        rendered = str(text) + repr(text)
        assert SECRET not in rendered
        assert KEY not in rendered
        assert BASIC not in rendered


def rejection(payload: object) -> PayloadError:
    with pytest.raises(PayloadError) as info:
        map_order(payload)
    assert_no_secret(info.value)
    return info.value


# --------------------------------------------------------------------------- documented payloads


def test_list_fixture_maps_both_orders_in_our_units() -> None:
    page = orders_page(load("woocommerce_v3_orders_list_response.json"), {}, 1)
    assert page.rejected == ()
    first, second = page.orders

    assert first.shop_order_id == 727 and first.number == "727"
    assert first.created_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert first.modified_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert first.paid_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    for when in (first.created_at, first.modified_at, first.paid_at):
        assert when is not None and when.utcoffset() == timedelta(0)
    assert (first.total_ore, first.shipping_ore, first.currency) == (2935, 1000, "USD")
    assert (first.ship_name, first.ship_address1, first.ship_postcode) == (
        "John Doe",
        "969 Market",
        "94103",
    )
    assert (first.ship_city, first.ship_country, first.bill_name) == (
        "San Francisco",
        "US",
        "John Doe",
    )
    assert first.customer_email == "john.doe@example.com"
    assert first.customer_phone == "(555) 555-5555"
    assert (first.shipping_method_id, first.shipping_method_title) == ("flat_rate", "Flat Rate")
    assert (first.payment_method, first.payment_method_title) == ("bacs", "Direct Bank Transfer")
    assert first.payment_status == "authorized"
    assert first.cancelled is False and first.customer_note == ""

    empty_sku, bar3 = first.lines
    # No SKU on the first line: the bench matches it by the shop's product id instead.
    assert (empty_sku.sku, empty_sku.shop_product_id, empty_sku.shop_line_id) == ("", 93, 315)
    assert (empty_sku.quantity, empty_sku.unit_price_ore) == (2, 300)  # price is the number 3
    assert (bar3.sku, bar3.quantity, bar3.unit_price_ore) == ("BAR3", 1, 1200)
    assert bar3.shop_product_id == 23  # the variation (product_id 22 is its parent)
    assert bar3.name == "Ship Your Idea – Color: Black, Size: M Test"  # &ndash; unescaped

    assert second.shop_order_id == 723
    assert second.paid_at is None  # date_paid_gmt is null
    assert second.shipping_method_id == "flat_rate:25"  # older form: instance in method_id
    assert second.ship_name == "João Silva" and second.ship_postcode == "12345-000"
    assert [ln.shop_product_id for ln in second.lines] == [87, 34]


def test_single_order_fixture_maps_like_the_list_entry() -> None:
    single = map_order(load("woocommerce_v3_order_retrieve_response.json"))
    assert single == map_order(order_727())


def test_update_response_gives_the_remote_order() -> None:
    remote = map_remote_order(load("woocommerce_v3_order_update_completed_response.json"))
    assert remote.shop_order_id == 727 and remote.status == "completed"
    assert remote.modified_at == datetime(2017, 3, 22, 19, 30, 35, tzinfo=UTC)
    assert remote.meta == {"_download_permissions_granted": "yes", "_order_stock_reduced": "yes"}


def test_remote_order_keeps_only_scalar_meta() -> None:
    payload = load("woocommerce_v3_order_retrieve_response.json")
    payload["meta_data"] += [
        {"key": "_capture_id", "value": 12345},
        {"key": "_structured", "value": {"a": 1}},
        {"value": "no key"},
        "junk",
    ]
    assert map_remote_order(payload).meta == {
        "_download_permissions_granted": "yes",
        "_capture_id": "12345",
    }


@pytest.mark.parametrize(
    ("method_id", "instance_id", "expected"),
    [
        ("flat_rate", "3", "flat_rate:3"),
        ("flat_rate", 3, "flat_rate:3"),
        ("flat_rate", "0", "flat_rate"),
        ("flat_rate", "", "flat_rate"),
        ("flat_rate:25", "25", "flat_rate:25"),
        ("local_pickup", None, "local_pickup"),
    ],
)
def test_shipping_method_id_joins_the_instance(
    method_id: str, instance_id: object, expected: str
) -> None:
    payload = order_727()
    payload["shipping_lines"][0] |= {"method_id": method_id, "instance_id": instance_id}
    assert map_order(payload).shipping_method_id == expected


def test_no_shipping_lines_means_no_method() -> None:
    payload = order_727()
    payload["shipping_lines"] = []
    order = map_order(payload)
    assert (order.shipping_method_id, order.shipping_method_title) == ("", "")


@pytest.mark.parametrize(
    ("price", "ore"),
    [
        ("12.50", 1250),
        (12, 1200),
        (Decimal("3.3333333333"), 333),
        (0.285, 29),  # the float 0.285 is 0.28499…; its decimal text is used, not its binary
        ("0.005", 1),  # half up, not half even
        ("0.004", 0),
        ("1999", 199900),
    ],
)
def test_line_prices_become_exact_ore(price: object, ore: int) -> None:
    payload = order_727()
    payload["line_items"][1]["price"] = price
    assert map_order(payload).lines[1].unit_price_ore == ore


def test_money_is_decoded_without_binary_floats() -> None:
    data = decode_json(b'{"price": 0.1, "big": 1e3}')
    assert data == {"price": Decimal("0.1"), "big": Decimal("1E+3")}


def test_missing_price_falls_back_to_total_over_quantity() -> None:
    payload = order_727()
    del payload["line_items"][0]["price"]
    payload["line_items"][0]["total"] = "6.01"
    assert map_order(payload).lines[0].unit_price_ore == 301  # 300.5 rounds half up


def test_capture_meta_means_captured() -> None:
    payload = order_727()
    payload["meta_data"].append({"key": "_capture_id", "value": "cap_123"})
    assert map_order(payload).payment_status == "captured"
    payload["meta_data"][-1] = {"key": "_payment_captured_at", "value": ""}
    assert map_order(payload).payment_status == "authorized"  # an empty value is not a capture


@pytest.mark.parametrize(
    ("status", "cancelled"),
    [("cancelled", True), ("refunded", True), ("failed", True), ("on-hold", False)],
)
def test_cancelled_statuses(status: str, cancelled: bool) -> None:
    payload = order_727() | {"status": status}
    order = map_order(payload)
    assert order.cancelled is cancelled
    assert order.extra == {"shop_status": status}


def test_offsets_are_converted_to_utc() -> None:
    payload = order_727() | {"date_created_gmt": "2017-03-22T21:28:02+02:00"}
    assert map_order(payload).created_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)


def test_number_falls_back_to_the_id() -> None:
    assert map_order(order_727() | {"number": ""}).number == "727"
    assert map_order(order_727() | {"number": None}).number == "727"
    assert map_order(order_727() | {"number": 1001}).number == "1001"


def test_ship_name_falls_back_to_billing_and_country_is_normalised() -> None:
    payload = order_727()
    payload["shipping"] |= {"first_name": "", "last_name": "", "country": "no"}
    order = map_order(payload)
    assert order.ship_name == "John Doe"
    assert order.ship_country == "NO"
    payload["shipping"]["country"] = ""
    assert map_order(payload).ship_country == "US"  # billing country
    payload["billing"]["country"] = ""
    assert map_order(payload).ship_country == "NO"


# --------------------------------------------------------------------------- rejections


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """Set (or with value=KeyError, delete) a dotted path like ``line_items.1.quantity``."""

    def apply(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = payload
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        key: Any = int(last) if isinstance(target, list) else last
        if value is KeyError:
            del target[key]
        else:
            target[key] = value

    return apply


MALFORMED = [
    ("id", KeyError, "id: expected a positive integer, got null"),
    ("id", "727", "id: expected a positive integer, got '727'"),
    ("id", True, "id: expected a positive integer, got true"),
    ("id", -1, "id: expected a positive integer"),
    ("status", KeyError, "status: missing or empty"),
    ("line_items", KeyError, "line_items: expected a list, got null"),
    ("line_items", {}, "line_items: expected a list, got an object"),
    ("line_items", [], "line_items: the order has no line items"),
    ("line_items.0", "a line", "line_items[0]: expected an object"),
    ("line_items.1.id", KeyError, "line_items[1].id: expected a positive integer"),
    (
        "line_items.1.quantity",
        "two",
        "line_items[1].quantity: expected a positive integer up to 10,000, got 'two'",
    ),
    ("line_items.1.quantity", "2", "line_items[1].quantity: expected a positive integer"),
    ("line_items.1.quantity", 0, "line_items[1].quantity: expected a positive integer"),
    ("line_items.1.quantity", -3, "line_items[1].quantity: expected a positive integer"),
    ("line_items.1.quantity", Decimal("2.0"), "line_items[1].quantity:"),
    ("line_items.1.quantity", 10_001, "line_items[1].quantity:"),
    ("line_items.1.quantity", None, "line_items[1].quantity:"),
    ("line_items.1.quantity", True, "line_items[1].quantity:"),
    ("line_items.0.price", "abc", "line_items[0].price: expected a decimal number"),
    ("line_items.0.price", "1,50", "line_items[0].price: expected a decimal number"),
    ("line_items.0.price", -1, "line_items[0].price: expected an amount of 0 or more"),
    ("line_items.0.price", "NaN", "line_items[0].price:"),
    ("line_items.0.price", Decimal("Infinity"), "line_items[0].price: expected a finite"),
    ("line_items.0.price", [3], "line_items[0].price: expected a number, got a list"),
    ("line_items.0.sku", "X" * 65, "line_items[0].sku: longer than 64 characters"),
    ("line_items.0.sku", 1234, "line_items[0].sku: expected text, got 1234"),
    ("line_items.0.name", {"en": "x"}, "line_items[0].name: expected text, got an object"),
    ("line_items.0.product_id", "93", "line_items[0].product_id: expected a positive integer"),
    ("billing", None, "billing: expected an object, got null"),
    ("shipping", None, "shipping: expected an object, got null"),
    ("shipping", KeyError, "shipping: expected an object, got null"),
    ("shipping.city", 123, "shipping.city: expected text, got a number"),
    (
        "shipping.postcode",
        150,
        "shipping.postcode: expected text, got a number",
    ),  # not "0150", and not repeated
    ("shipping.postcode", "1" * 21, "shipping.postcode: longer than 20 characters"),
    ("shipping.country", "Norway", "shipping.country: longer than 2 characters"),
    ("shipping.country", "N1", "shipping.country: expected a two-letter country code"),
    ("date_created_gmt", KeyError, "date_created_gmt: missing"),
    ("date_created_gmt", "yesterday", "date_created_gmt: expected an ISO 8601 date"),
    ("date_modified_gmt", 1490210888, "date_modified_gmt: expected an ISO 8601 date"),
    ("currency", KeyError, "currency: missing or empty"),
    ("currency", "kr.", "currency: expected a three-letter currency code"),
    ("total", KeyError, "total: expected a number, got null"),
    ("shipping_total", "10,00", "shipping_total: expected a decimal number"),
    ("shipping_lines", "flat_rate", "shipping_lines: expected a list"),
    ("shipping_lines.0", None, "shipping_lines[0]: expected an object"),
    ("shipping_lines.0.method_id", "m" * 101, "shipping_lines[0].method_id: longer than 100"),
    ("payment_method", "p" * 101, "payment_method: longer than 100 characters"),
    ("meta_data", "yes", "meta_data: expected a list"),
    ("number", "N" * 33, "number: longer than 32 characters"),
]


@pytest.mark.parametrize(("path", "value", "reason"), MALFORMED)
def test_malformed_orders_are_rejected_naming_the_field(
    path: str, value: object, reason: str
) -> None:
    payload = order_727()
    _set(path, value)(payload)
    error = rejection(payload)
    assert str(error).startswith(reason), str(error)


def test_too_many_lines_is_rejected_not_mapped() -> None:
    payload = order_727()
    payload["line_items"] = payload["line_items"][:1] * 1001
    assert str(rejection(payload)).startswith("line_items: more than 1000 line items")


def test_not_an_object_is_rejected() -> None:
    assert str(rejection([1, 2])) == "order: expected an object, got a list"


def test_a_page_with_bad_orders_still_returns_the_good_ones(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good_727, good_723 = load("woocommerce_v3_orders_list_response.json")
    bad = copy.deepcopy(good_727) | {"id": 999}
    bad["line_items"][1]["quantity"] = "two"
    caplog.set_level(logging.WARNING, logger="packbench.shop")

    page = orders_page([bad, good_727, "junk", good_723], {"X-WP-TotalPages": "2"}, 2)

    assert [o.shop_order_id for o in page.orders] == [727, 723]
    assert [(r.ref, r.reason) for r in page.rejected] == [
        (
            "order 999",
            "line_items[1].quantity: expected a positive integer up to 10,000, got 'two'",
        ),
        ("item #3 on page 2", "order: expected an object, got 'junk'"),
    ]
    assert str(page.rejected[0]).startswith("order 999: line_items[1].quantity:")
    assert "rejected order 999: line_items[1].quantity" in caplog.text
    assert "rejected item #3 on page 2" in caplog.text
    assert (page.page, page.total_pages, page.has_next) == (2, 2, False)


@pytest.mark.parametrize("body", [{"id": 727}, "orders", None, 42])
def test_a_page_that_is_not_a_list_is_a_payload_error(body: object) -> None:
    with pytest.raises(PayloadError, match="orders page 1: expected a list of orders"):
        orders_page(body, {}, 1)


@pytest.mark.parametrize(
    "content", [b"<html>Fatal error</html>", b"", b"[NaN]", b"\xff\xfe[", b"[" * 100_000]
)
def test_undecodable_bodies_are_payload_errors(content: bytes) -> None:
    with pytest.raises(PayloadError, match="not JSON"):
        decode_json(content)


# --------------------------------------------------------------------------- hostile text


def test_control_characters_and_bidi_overrides_are_removed() -> None:
    payload = order_727()
    payload["shipping"] |= {
        "first_name": "Jo\x1b[31mhn\x00",
        "last_name": "\u202eeoD\u202c",
        "address_1": "969\tMarket\r\nStreet\u200b",
        "city": "Sa\u0301n\u2028Francisco",
    }
    payload["line_items"][0]["name"] = "Woo &amp; Single\x07 &#27;[2J"
    order = map_order(payload)
    assert order.ship_name == "Jo[31mhn eoD"
    assert order.ship_address1 == "969 Market Street"
    assert order.ship_city == "Sán Francisco"  # NFC: one code point for á
    assert "\u0301" not in order.ship_city
    assert order.lines[0].name == "Woo & Single [2J"  # an escaped ESC is still removed


def test_the_customer_note_keeps_its_line_breaks_only() -> None:
    payload = order_727() | {"customer_note": "Ring the bell\r\nTwice\x07\n\n\n\nThanks\u202e\t!"}
    assert map_order(payload).customer_note == "Ring the bell\nTwice\n\nThanks !"


def test_huge_free_text_is_truncated_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="packbench.shop")
    payload = order_727()
    payload["shipping"]["first_name"] = "A" * 100_000
    payload["shipping"]["address_1"] = "Storgata 1 " * 50
    payload["line_items"][0]["name"] = "ø" * 100_000
    payload["customer_note"] = "note " * 100_000
    order = map_order(payload)
    assert order.ship_name == "A" * 200
    assert len(order.ship_address1) <= 200 and order.ship_address1.startswith("Storgata 1")
    assert order.lines[0].name == "ø" * 200
    assert len(order.customer_note) == 2000 - 1  # cut at 2000, trailing space dropped
    assert "order 727: shipping.first_name cut to 200 characters (was 100000)" in caplog.text
    assert "customer_note cut to 2000" in caplog.text
    assert "A" * 300 not in caplog.text  # the text itself is not logged


def test_over_long_contact_details_are_dropped_not_shortened() -> None:
    payload = order_727()
    payload["billing"] |= {"email": "x" * 300 + "@example.com", "phone": "9" * 51}
    order = map_order(payload)
    assert (order.customer_email, order.customer_phone) == ("", "")


# --------------------------------------------------------------------------- properties

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.decimals()
    | st.text(max_size=30)
    | st.sampled_from(["", "0", "2", "-1", "1e999", "NaN", "2017-03-22T19:28:02", "\u202e"])
    # Comparing a signalling NaN with a number raises: the mapper must never try.
    | st.sampled_from([Decimal("sNaN"), Decimal("-NaN"), Decimal("1E+999999"), float("inf")])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _paths(value: object, prefix: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return out
    for key, child in items:
        path = f"{prefix}{key}"
        out.append(path)
        out.extend(_paths(child, path + "."))
    return out


ORDER_PATHS = _paths(order_727())


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_arbitrary_json_never_raises_anything_but_payload_error(value: object) -> None:
    for mapper in (map_order, map_product, map_remote_order):
        with suppress(PayloadError):
            mapper(value)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ORDER_PATHS), json_values), min_size=1, max_size=3))
def test_damaged_real_orders_map_or_are_rejected(changes: list[tuple[str, object]]) -> None:
    payload = order_727()
    for path, value in changes:
        try:
            _set(path, value)(payload)
        except (KeyError, IndexError, TypeError, ValueError):
            continue  # an earlier change removed the parent
    try:
        order = map_order(payload)
    except PayloadError as exc:
        assert str(exc) and ":" in str(exc)
        return
    assert order.created_at.tzinfo is not None
    assert all(1 <= ln.quantity <= 10_000 and ln.unit_price_ore >= 0 for ln in order.lines)
    assert len(order.ship_name) <= 200 and len(order.customer_note) <= 2000
    assert len(order.ship_country) == 2 and order.ship_country.isupper()


META_KEYS = st.sampled_from(["_capture_id", "_payment_captured_at", "_packbench_location", ""])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.fixed_dictionaries({"key": META_KEYS | json_values, "value": json_values})))
@example([{"key": "_capture_id", "value": Decimal("sNaN")}])
def test_arbitrary_meta_values_never_raise_anything_but_payload_error(meta: list[Any]) -> None:
    order = order_727() | {"meta_data": meta}
    for mapper, payload in (
        (map_order, order),
        (map_remote_order, order),
        (map_product, product(meta_data=meta)),
    ):
        with suppress(PayloadError):
            mapper(payload)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))
def test_cleaned_text_is_always_printable_and_bounded(text: str) -> None:
    payload = order_727()
    payload["shipping"]["city"] = text
    payload["customer_note"] = text
    order = map_order(payload)
    assert len(order.ship_city) <= 100
    assert order.ship_city == order.ship_city.strip()
    # No control, surrogate, bidi or other format characters (ZWNJ/ZWJ excepted), no line
    # breaks but the note's "\n". Unassigned and private-use code points are left alone: a
    # newer Unicode may have assigned them (a name in a recent CJK extension, say).
    for ch in order.ship_city + order.customer_note.replace("\n", ""):
        category = unicodedata.category(ch)
        assert category not in ("Cc", "Cs", "Zl", "Zp"), repr(ch)
        assert category != "Cf" or ch in "\u200c\u200d", repr(ch)
        assert not ch.isspace() or ch == " ", repr(ch)


# --------------------------------------------------------------------------- products


def product(**changes: Any) -> dict[str, Any]:
    """A product in the shape of ``GET /wp-json/wc/v3/products`` (constructed: the docs have
    no verbatim example with ``global_unique_id``)."""
    payload: dict[str, Any] = {
        "id": 794,
        "name": "Premium Quality &ndash; T-shirt",
        "slug": "premium-quality",
        "type": "simple",
        "status": "publish",
        "sku": " ts-blk-m ",
        "global_unique_id": "4006381333931",
        "price": "199.00",
        "regular_price": "199.00",
        "weight": "0.2505",
        "dimensions": {"length": "30.25", "width": "20", "height": ""},
        "meta_data": [
            {"id": 1, "key": "_other", "value": {"x": 1}},
            {"id": 2, "key": "_packbench_location", "value": "c-07-2"},
        ],
    }
    payload.update(changes)
    return payload


def test_product_maps_in_our_units() -> None:
    p = map_product(product())
    assert (p.shop_product_id, p.sku, p.gtin) == (794, "TS-BLK-M", "4006381333931")
    assert p.name == "Premium Quality – T-shirt"
    assert (p.length_mm, p.width_mm, p.height_mm) == (303, 200, 0)  # 302.5 rounds half up
    assert p.weight_g == 251  # 250.5 g rounds half up
    assert (p.location, p.price_ore) == ("C-07-2", 19900)


def test_product_blanks_and_other_location_key() -> None:
    p = map_product(
        product(global_unique_id="", price="", weight="", dimensions=None, meta_data=[]),
    )
    assert (p.gtin, p.price_ore, p.weight_g, p.length_mm, p.location) == (None, 0, 0, 0, None)
    custom = product(meta_data=[{"key": "shelf", "value": "A-01-1"}])
    assert map_product(custom, location_meta_key="shelf").location == "A-01-1"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"global_unique_id": "4006381333932"}, "global_unique_id: '4006381333932' is not a valid"),
        ({"global_unique_id": "ABC"}, "global_unique_id: 'ABC' is not a valid GTIN"),
        ({"global_unique_id": 4006381333931}, "global_unique_id: expected a GTIN as text"),
        ({"sku": ""}, "sku: empty"),
        ({"sku": None}, "sku: empty"),
        ({"id": 0}, "id: expected a positive integer"),
        ({"weight": "heavy"}, "weight: expected a decimal number"),
        ({"weight": "-1"}, "weight: expected an amount of 0 or more"),
        ({"dimensions": {"length": "99999"}}, "dimensions.length: expected at most 100,000"),
        ({"dimensions": "30x20"}, "dimensions: expected an object"),
        ({"meta_data": [{"key": "_packbench_location", "value": "X" * 17}]}, "meta_data["),
    ],
)
def test_bad_products_are_rejected(changes: dict[str, Any], reason: str) -> None:
    page = products_page([product(**changes), product(id=795, sku="OK-1")], {}, 1)
    assert [p.sku for p in page.products] == ["OK-1"]
    (rejected,) = page.rejected
    assert rejected.ref in ("product 794", "item #1 on page 1")
    assert rejected.reason.startswith(reason), rejected.reason


# --------------------------------------------------------------------------- queries and pages


def test_order_query_asks_oldest_change_first_in_utc() -> None:
    since = datetime(2026, 3, 1, 14, 0, 5, 999_999, tzinfo=timezone(timedelta(hours=1)))
    assert order_query(status="processing", modified_after=since, page=2, per_page=100) == {
        "status": "processing",
        "modified_after": "2026-03-01T13:00:05",  # whole seconds, rounded down
        "dates_are_gmt": "true",
        "orderby": "modified",
        "order": "asc",
        "per_page": "100",
        "page": "2",
    }
    assert "modified_after" not in order_query(
        status="cancelled", modified_after=None, page=1, per_page=10
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"modified_after": datetime(2026, 3, 1)},  # naive
        {"per_page": 101},
        {"per_page": 0},
        {"page": 0},
        {"status": "processing&per_page=1000"},
    ],
)
def test_order_query_refuses_bad_arguments(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "status": "processing",
        "modified_after": None,
        "page": 1,
        "per_page": 100,
    }
    with pytest.raises(ValueError):
        order_query(**(args | kwargs))


NEXT = '<https://shop.test/wp-json/wc/v3/orders?status=processing,on-hold&page=3>; rel="next"'
PREV = '<https://shop.test/wp-json/wc/v3/orders?status=a,b&page=1>; rel="prev"'


@pytest.mark.parametrize(
    ("headers", "page", "count", "expected"),
    [
        ({"X-WP-TotalPages": "3", "Link": f"{PREV}, {NEXT}"}, 2, 100, (3, True)),
        ({"X-WP-TotalPages": "3", "Link": PREV}, 3, 7, (3, False)),
        ({"X-WP-TotalPages": "3"}, 1, 100, (3, True)),  # no Link header: count pages
        ({"Link": NEXT}, 2, 100, (3, True)),  # no total: at least one more
        ({"link": NEXT.replace('"next"', "next")}, 1, 100, (2, True)),  # unquoted rel
        ({}, 1, 5, (1, False)),
        ({"X-WP-TotalPages": "many", "Link": "garbage"}, 1, 5, (1, False)),
        ({"X-WP-TotalPages": "9", "Link": NEXT}, 4, 0, (9, False)),  # empty page: stop
    ],
)
def test_pagination_flags_from_headers(
    headers: dict[str, str], page: int, count: int, expected: tuple[int, bool]
) -> None:
    assert page_flags(headers, page, count) == expected


def test_update_body_shapes() -> None:
    assert update_body(status="completed", meta=None) == {"status": "completed"}
    assert update_body(status=None, meta={"_packbench_tracking": "70712345"}) == {
        "meta_data": [{"key": "_packbench_tracking", "value": "70712345"}]
    }
    for bad in ({"status": None, "meta": None}, {"status": "Completed!", "meta": None}):
        with pytest.raises(ValueError):
            update_body(**bad)


# --------------------------------------------------------------------------- retry-after


def test_retry_after_seconds_and_http_dates() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 1.5 ") == 1.5
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, now=now) == 90.0
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now=now) == 0
    assert parse_retry_after("99999999") == 86_400.0
    for junk in (None, "", "soon", "-5", "Wed, 99 Foo 2026"):
        assert parse_retry_after(junk) is None


# --------------------------------------------------------------------------- the adapter


def adapter_with(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> Any:
    # httpx.MockTransport: the one allowed stand-in, to force status codes and headers that a
    # real shop only sends when something is wrong. Happy paths run against the demo shop.
    return WooCommerceAdapter(
        "https://shop.test", KEY, SECRET, transport=httpx.MockTransport(handler), **kw
    )


def wc_error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    body = {"code": code, "message": message, "data": {"status": status}}
    return httpx.Response(status, json=body, headers=headers)


def test_401_is_an_auth_error_without_the_credentials(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return wc_error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")

    with adapter_with(handler) as shop, pytest.raises(AuthError) as info:
        shop.fetch_orders(modified_after=None)
    error = info.value
    assert str(error) == (
        "orders page 1: the shop refused the consumer key and secret "
        "(HTTP 401: Sorry, you cannot list resources.)"
    )
    assert (error.status, error.code, error.retryable) == (
        401,
        "woocommerce_rest_cannot_view",
        False,
    )
    request = seen[0]
    assert request.headers["authorization"] == f"Basic {BASIC}"
    assert request.headers["user-agent"].startswith("packbench/")
    assert request.url.path == "/wp-json/wc/v3/orders"
    assert request.url.params["orderby"] == "modified"
    assert_no_secret(error, caplog.text, shop)


def test_echoed_credentials_are_scrubbed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return wc_error(403, "bad", f"Consumer key {KEY} with secret {SECRET} is invalid.")

    with adapter_with(handler) as shop, pytest.raises(AuthError) as info:
        shop.get_order(727)
    assert "Consumer key *** with secret *** is invalid." in str(info.value)
    assert_no_secret(info.value)


@pytest.mark.parametrize("fixture", ["rest_no_route", "term_invalid"])
def test_404_is_not_found_with_the_shop_code(fixture: str) -> None:
    body = (FIXTURES / f"woocommerce_v3_error_{fixture}.json").read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, content=body, headers={"content-type": "application/json"})

    with adapter_with(handler) as shop, pytest.raises(NotFound) as info:
        shop.get_order(727)
    assert info.value.status == 404 and not info.value.retryable
    assert info.value.code in ("rest_no_route", "woocommerce_rest_term_invalid")
    assert str(info.value).startswith("order 727: not found in the shop (HTTP 404: ")


def test_429_with_retry_after_seconds() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, text="Too Many Requests", headers={"Retry-After": "30"})

    with adapter_with(handler) as shop, pytest.raises(RateLimited) as info:
        shop.fetch_products()
    assert (info.value.retryable, info.value.retry_after, info.value.status) == (True, 30.0, 429)
    assert "try again in 30 s" in str(info.value)


def test_429_with_retry_after_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": when})

    with adapter_with(handler) as shop, pytest.raises(RateLimited) as info:
        shop.fetch_orders(modified_after=None)
    assert info.value.retry_after is not None and 110 <= info.value.retry_after <= 120


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_server_errors_are_transient(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text="<html><h1>Bad gateway</h1></html>")

    with adapter_with(handler) as shop, pytest.raises(TransientError) as info:
        shop.update_order(727, status="completed")
    assert info.value.retryable and info.value.status == status
    assert str(info.value) == f"order 727: the shop had a temporary problem (HTTP {status})"


def test_400_is_permanent_with_code_and_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return wc_error(400, "rest_invalid_param", "Invalid parameter(s): status")

    with adapter_with(handler) as shop, pytest.raises(PermanentError) as info:
        shop.update_order(727, status="shipped")
    error = info.value
    assert (error.status, error.code, error.retryable) == (400, "rest_invalid_param", False)
    assert str(error) == (
        "order 727: the shop refused the request "
        "(HTTP 400: Invalid parameter(s): status, rest_invalid_param)"
    )


def test_redirects_are_not_followed() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(301, headers={"Location": "https://evil.test/steal"})

    with adapter_with(handler) as shop, pytest.raises(PermanentError, match="redirected"):
        shop.get_order(727)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"<br /><b>Notice</b>: Undefined index [{...}]", "not JSON"),
        (b'{"id": 727}', "expected a list of orders"),
    ],
)
def test_unusable_success_bodies_are_payload_errors(content: bytes, match: str) -> None:
    # Forced: a 200 whose body is not what WooCommerce documents (a PHP notice, a wrong shape).
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content)

    with adapter_with(handler) as shop, pytest.raises(PayloadError, match=match) as info:
        shop.fetch_orders(modified_after=None)
    assert isinstance(info.value, ShopError) and not info.value.retryable


def test_an_answer_about_another_order_is_refused() -> None:
    body = (FIXTURES / "woocommerce_v3_order_update_completed_response.json").read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    with adapter_with(handler) as shop, pytest.raises(PayloadError, match="with order 727"):
        shop.get_order(728)


def test_oversized_answers_are_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"[" + b"1," * 5000 + b"1]")

    with (
        adapter_with(handler, max_response_bytes=1000) as shop,
        pytest.raises(PayloadError, match="larger than 1,000 bytes"),
    ):
        shop.fetch_products()


# --------------------------------------------------------------------------- real sockets


@contextmanager
def loopback_server(behaviour: str) -> Iterator[str]:
    """A TCP listener on 127.0.0.1 that misbehaves at the socket level, for real transport
    failures: ``drop`` reads the request and closes, ``silent`` never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # poll, so the thread notices ``stop`` quickly
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            with conn:
                conn.recv(65536)
                if behaviour == "silent":
                    stop.wait(5)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def test_dropped_connection_is_transient(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with (
        loopback_server("drop") as url,
        WooCommerceAdapter(url, KEY, SECRET) as shop,
        pytest.raises(TransientError, match="RemoteProtocolError") as info,
    ):
        shop.fetch_orders(modified_after=None)
    assert info.value.retryable and info.value.__cause__ is None
    assert_no_secret(info.value, caplog.text)


def test_silence_is_a_transient_timeout() -> None:
    with (
        loopback_server("silent") as url,
        WooCommerceAdapter(url, KEY, SECRET, timeout=0.3) as shop,
        pytest.raises(TransientError, match="did not answer in time") as info,
    ):
        shop.add_note(727, "Packed by Kari")
    assert "ReadTimeout" in str(info.value)
    assert_no_secret(info.value)


def test_refused_connection_is_transient() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with (
        WooCommerceAdapter(f"http://127.0.0.1:{port}", KEY, SECRET) as shop,
        pytest.raises(TransientError, match="could not talk to the shop") as info,
    ):
        shop.list_notes(727)
    assert "ConnectError" in str(info.value)
    assert_no_secret(info.value)


# --------------------------------------------------------------------------- construction


def test_repr_and_attributes_hide_the_secret() -> None:
    with WooCommerceAdapter("https://shop.test/", KEY, SECRET) as shop:
        assert repr(shop) == "WooCommerceAdapter('https://shop.test')"
        assert_no_secret(shop, vars(shop))


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("http://shop.example", "use https"),
        ("ftp://shop.example", "must look like"),
        ("shop.example", "must look like"),
        (f"https://{KEY}:{SECRET}@shop.example", "user name or password"),
        ("https://shop.example/?consumer_key=x", "query"),
    ],
)
def test_unsafe_urls_are_refused_without_echoing_them(url: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        WooCommerceAdapter(url, KEY, SECRET)
    assert_no_secret(info.value)


def test_loopback_http_and_a_full_api_url_are_accepted() -> None:
    for url in ("http://127.0.0.1:8080", "http://localhost", "https://s.test/wp-json/wc/v3"):
        WooCommerceAdapter(url, KEY, SECRET).close()


def test_tls_verification_cannot_be_turned_off() -> None:
    with pytest.raises(ValueError, match="cannot be turned off"):
        WooCommerceAdapter("https://shop.test", KEY, SECRET, verify=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        WooCommerceAdapter("https://shop.test", "", SECRET)


# --------------------------------------------------------------------------- customer data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("shipping.postcode", "0150 OSLO, Karl Johans gate 22", "shipping.postcode"),
        ("billing.email", 4712345678, "billing.email"),
        ("shipping.city", ["Kari Nordmann", "Oslo"], "shipping.city"),
        ("billing.phone", {"number": "+47 912 34 567"}, "billing.phone"),
    ],
)
def test_rejections_do_not_repeat_customer_data(
    path: str, value: object, field: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Rejections are logged at WARNING and shown on the dashboard: they say what is wrong with
    a customer's field, never what it holds."""
    order = order_727()
    _set(path, value)(order)
    page = orders_page([order], {}, 1)
    assert not page.orders and page.rejected[0].reason.startswith(field)
    shown = str(page.rejected[0]) + caplog.text
    for piece in ("OSLO", "Karl", "4712345678", "Kari", "912"):
        assert piece not in shown


def test_mapping_notes_at_info_name_fields_not_their_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    order = order_727()
    order["shipping"]["address_1"] = "Karl Johans gate " + "22 " * 200
    order["billing"]["email"] = "kari.nordmann" * 30 + "@example.no"
    order["customer_note"] = "Ring Kari on 912 34 567 " * 200
    map_order(order)
    assert "shipping.address_1 cut to 200 characters" in caplog.text
    assert "billing.email dropped" in caplog.text
    for piece in ("Karl", "kari.nordmann", "912 34"):
        assert piece not in caplog.text


# --------------------------------------------------------------------------- references and points


def test_the_payment_reference_and_the_customers_pickup_point_are_read() -> None:
    payload = order_727()
    payload["transaction_id"] = "pi_3MtwBwLkdIwHu7ix28a3tqPa"
    payload["shipping_lines"][0]["meta_data"] = [
        {"id": 1, "key": "_fraktguiden_pickup_point_id", "value": "999999"},
        {"id": 2, "key": "pickup_point_id", "value": "121531"},
    ]
    order = map_order(payload)
    assert order.payment_reference == "pi_3MtwBwLkdIwHu7ix28a3tqPa"
    assert order.pickup_point_id == "121531"  # the first configured key wins
    assert map_order(
        payload, pickup_meta_keys=("_fraktguiden_pickup_point_id",)
    ).pickup_point_id == ("999999")
    # Older plugin data hold an object with its id; a number is read as text.
    payload["shipping_lines"][0]["meta_data"] = [{"key": "pickup_point_id", "value": {"id": 4711}}]
    assert map_order(payload).pickup_point_id == "4711"


@pytest.mark.parametrize(
    "meta",
    [
        None,
        "not a list",
        [{"key": "pickup_point_id", "value": ["a", "list"]}],
        [{"key": "pickup_point_id", "value": "x" * 41}],
        [{"key": "pickup_point_id", "value": "\u202e"}],
    ],
)
def test_a_pickup_point_that_cannot_be_read_never_refuses_the_order(meta: object) -> None:
    payload = order_727()
    payload["transaction_id"] = {"an": "object"}
    payload["shipping_lines"][0]["meta_data"] = meta
    order = map_order(payload)
    assert order.pickup_point_id == "" and order.payment_reference == ""
    assert order.lines  # the order itself is taken
