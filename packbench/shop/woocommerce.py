"""The WooCommerce REST API v3 (``/wp-json/wc/v3``) adapter, over httpx.

Two halves:

* **Mapping** (pure functions: :func:`map_order`, :func:`map_product`, :func:`map_remote_order`,
  :func:`orders_page`, :func:`products_page`): WooCommerce JSON → our frozen dataclasses, in our
  units (øre, mm, g, aware UTC). Shop data is typed in by customers and plugins, so the mapping
  is strict about what the bench acts on and forgiving about what people only read:

  - **Rejected** (the order or product is skipped with a reason naming the field): anything
    missing or of the wrong type, and over-long *identifiers* the bench matches, routes or
    prints as codes on (order number, SKU, shipping/payment method id, currency, country,
    postcode, shelf location). Cutting those would make a plausible but wrong value — a SKU that
    matches another product, a postcode of another town.
  - **Truncated** (with an INFO log line): over-long *free text* people read (names, company,
    address lines, city, titles, the customer note). A 100 000-character name is an attack or
    a bug, but the parcel should still go out.
  - **Dropped to ""** (with an INFO log line): an over-long e-mail address or phone number,
    because a shortened one reaches a stranger.
  - **Cleaned, always**: text is NFC-normalised; control characters, bidi overrides (U+202E
    and friends), zero-width and other format characters are removed (ZWJ/ZWNJ are kept for
    emoji and scripts that need them); runs of whitespace become one space; only the customer
    note keeps its line breaks. Line-item and product names are HTML-unescaped, because
    WooCommerce stores them with entities (``&ndash;``).
  - Money is parsed with :class:`~decimal.Decimal` (JSON is decoded with ``parse_float=Decimal``,
    so no binary float ever touches an amount) and rounded half up to whole øre.

* **Transport** (:class:`WooCommerceAdapter`): one ``httpx.Client`` with HTTP Basic auth, TLS
  verification always on, no redirects followed, and every failure turned into a
  :mod:`packbench.shop.base` exception whose text never contains the key, the secret or their
  Basic form (:func:`packbench.redact.redact`). Each request is bounded
  (:mod:`packbench.shop.bounded`): a total deadline, not only per-read timeouts; a cap on the
  body after decompressing every ``Content-Encoding`` layer; and a JSON depth limit per item, so
  one deeply nested order is refused alone and the rest of its page still arrives.
"""

from __future__ import annotations

import html
import ipaddress
import json
import logging
import re
import ssl
import time
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Literal, NoReturn
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from packbench import __version__
from packbench.core.code128 import code128_problem
from packbench.core.codes import is_valid_gtin
from packbench.operations.intake import LineIn, OrderIn
from packbench.redact import cut, register_basic_auth
from packbench.shop.base import (
    AuthError,
    NotFound,
    OrderPage,
    PayloadError,
    PermanentError,
    ProductIn,
    ProductPage,
    RateLimited,
    RejectedPayload,
    RemoteOrder,
    ShopError,
    TransientError,
)
from packbench.shop.bounded import (
    MAX_DEPTH,
    BadEncoding,
    BodyTooLarge,
    BoundedBody,
    NotJSON,
    Unreadable,
    deadline,
    decode_items,
    install_deadline,
)

__all__ = [
    "CANCELLED_STATUSES",
    "WooCommerceAdapter",
    "decode_json",
    "map_order",
    "map_product",
    "map_remote_order",
    "order_query",
    "orders_page",
    "page_flags",
    "parse_retry_after",
    "products_page",
    "update_body",
]

log = logging.getLogger("packbench.shop")

#: Shipping-line meta keys that hold the customer's pickup point, the Bring plugin's first.
PICKUP_META_KEYS = ("pickup_point_id", "_fraktguiden_pickup_point_id")

#: WooCommerce statuses after which there is nothing to pack.
CANCELLED_STATUSES = frozenset({"cancelled", "refunded", "failed"})

#: Meta keys payment plugins (and our demo shop) set once the money has been captured.
CAPTURE_META_KEYS = ("_payment_captured_at", "_capture_id")

MAX_QUANTITY = 10_000
MAX_LINES = 1_000  # more line items than this on one order is a broken payload, not a big order
MAX_AMOUNT = Decimal(10) ** 12  # in currency units; keeps øre well inside a 64-bit integer
MAX_ID = 2**63 - 1  # SQLite INTEGER
MAX_LENGTH_MM = 100_000  # 100 m: beyond that it is a typo in the shop, not a product
MAX_WEIGHT_G = 10_000_000  # 10 t
MAX_RETRY_AFTER = 86_400.0  # a shop asking us to wait more than a day is treated as a day
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
MAX_ERROR_BODY_BYTES = 64 * 1024
#: A whole request (connect, send, headers, body) ends within this, however slowly the shop
#: drips its answer; a page of 100 orders is about 1 MB.
REQUEST_DEADLINE_S = 60.0

# Field limits follow the database columns (packbench/data/models.py).
TEXT = 200
CITY = 100
NOTE = 2000
SKU = 64
NUMBER = 32
POSTCODE = 20
METHOD_ID = 100
EMAIL = 200
PHONE = 50
LOCATION = 16
PICKUP_POINT = 40
REFERENCE = 100
STATUS = 50

# Format characters that are dropped from text, besides the whole Cc/Cs categories. Every Cf
# character goes except ZWNJ/ZWJ, which some scripts and emoji sequences need.
_KEEP_FORMAT = frozenset({"\u200c", "\u200d"})
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_MONEY_RE = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,12})?")
_STATUS_RE = re.compile(r"[a-z0-9_-]{1,50}")
_RETRY_SECONDS_RE = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,6})?")
# Link: <https://…/orders?page=2&status=a,b>; rel="next", <…>; rel="last" — URLs may hold commas,
# so each link's parameters are what follows its <…> up to the next one.
_LINK_RE = re.compile(r"<[^>]*>([^<]*)")
_REL_RE = re.compile(r';\s*rel\s*=\s*"?([^";,]*)"?', re.IGNORECASE)


# --------------------------------------------------------------------------- small helpers


#: Fields whose values are a customer's (name, address, e-mail, phone, note): error messages say
#: what is wrong with them but never repeat them, because rejections are logged and stored.
_PERSONAL = ("billing", "shipping.", "customer_note")


def _personal(where: str) -> bool:
    return where.startswith(_PERSONAL)


def _show(value: object, where: str = "") -> str:
    """A short, log-safe rendering of a bad value for an error message; a customer's own data
    is described, not repeated."""
    if _personal(where) and isinstance(value, str):
        return f"text of {len(value):,} characters"
    if _personal(where) and isinstance(value, int | float | Decimal):
        return "a number"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value[:40]) + ("…" if len(value) > 40 else "")
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float | Decimal):
        text = str(value)
        return text if len(text) <= 40 else text[:40] + "…"
    return type(value).__name__


def _fail(where: str, expected: str, value: object) -> NoReturn:
    raise PayloadError(f"{where}: expected {expected}, got {_show(value, where)}", field=where)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _clean(value: str, limit: int, *, multiline: bool = False, unescape: bool = False) -> str:
    """Normalise text for a terminal and a database; the result may still exceed ``limit``
    (callers decide between cutting and rejecting), but only by a bounded amount."""
    # Bound the work on hostile input first: nothing below is worth doing on megabytes.
    text = value[: limit * 4 + 64]
    if unescape:
        text = html.unescape(text)
    if multiline:
        text = text.replace("\r\n", "\n")
    out: list[str] = []
    for ch in text:
        if ch in _LINE_BREAKS or ch == "\t":
            out.append("\n" if multiline and ch in _LINE_BREAKS else " ")
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or (category == "Cf" and ch not in _KEEP_FORMAT):
            continue
        out.append(ch)
    text = unicodedata.normalize("NFC", "".join(out))
    if multiline:
        lines = [" ".join(line.split()) for line in text.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return " ".join(text.split())


class _Notes:
    """Collects what the mapping changed silently (truncations), to log once per order."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        self.items.append(text)


def _text(
    value: object,
    where: str,
    limit: int,
    notes: _Notes,
    *,
    multiline: bool = False,
    unescape: bool = False,
) -> str:
    """Free text people read: cleaned, and cut at ``limit`` rather than rejected."""
    if value is None:
        return ""
    if not isinstance(value, str):
        _fail(where, "text", value)
    text = _clean(value, limit, multiline=multiline, unescape=unescape)
    if len(text) > limit or len(value) > limit * 4 + 64:
        notes.add(f"{where} cut to {limit} characters (was {len(value)})")
        text = text[:limit].rstrip()
    return text


def _ident(value: object, where: str, limit: int, *, required: bool = False) -> str:
    """An identifier the bench matches or routes on: cleaned, and rejected when too long,
    because a shortened identifier is a different, plausible-looking one."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        _fail(where, "text", value)
    if len(value) > limit * 4 + 64:
        raise PayloadError(f"{where}: longer than {limit} characters", field=where)
    text = _clean(value, limit)
    if len(text) > limit:
        raise PayloadError(
            f"{where}: longer than {limit} characters ({_show(text, where)})", field=where
        )
    if required and not text:
        raise PayloadError(f"{where}: missing or empty", field=where)
    return text


def _contact(value: object, where: str, limit: int, notes: _Notes) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        _fail(where, "text", value)
    text = _clean(value, limit)
    if len(text) > limit:
        notes.add(f"{where} dropped: longer than {limit} characters")
        return ""
    return text


def _readable(value: object) -> None:
    """An item the decoder left undecoded (:class:`~packbench.shop.bounded.Unreadable`)."""
    if isinstance(value, Unreadable):
        raise PayloadError(value.reason)


def _obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _fail(where, "an object", value)
    return value


def _pos_int(value: object, where: str, *, maximum: int = MAX_ID) -> int:
    if not _is_int(value) or not 1 <= value <= maximum:  # type: ignore[operator]
        _fail(where, "a positive integer", value)
    return value  # type: ignore[return-value]


def _opt_id(value: object, where: str) -> int | None:
    """Product and variation ids: 0 or absent mean "none"."""
    if value is None or (_is_int(value) and value == 0):
        return None
    return _pos_int(value, where)


def _decimal(value: object, where: str, *, empty_is_zero: bool = False) -> Decimal:
    """A non-negative amount from a JSON number (int, Decimal, float) or a decimal string."""
    if isinstance(value, str):
        text = value.strip()
        if not text and empty_is_zero:
            return Decimal(0)
        if not _MONEY_RE.fullmatch(text):
            _fail(where, "a decimal number like '29.35'", value)
        number = Decimal(text)
    elif _is_int(value):
        if abs(value) > MAX_AMOUNT:  # type: ignore[arg-type]
            _fail(where, f"a number below {MAX_AMOUNT:,}", value)
        number = Decimal(value)  # type: ignore[arg-type]
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        # Only the shortest decimal text of the float is used; no binary arithmetic follows.
        number = Decimal(repr(value))
    else:
        _fail(where, "a number", value)
    if not number.is_finite():
        _fail(where, "a finite number", value)
    if number < 0:
        _fail(where, "an amount of 0 or more", value)
    if number > MAX_AMOUNT:
        _fail(where, f"a number below {MAX_AMOUNT:,}", value)
    return number


def _round(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _ore(value: object, where: str, *, empty_is_zero: bool = False) -> int:
    """Currency units → integer øre, rounded half up."""
    return _round(_decimal(value, where, empty_is_zero=empty_is_zero) * 100)


def _datetime(value: object, where: str, *, required: bool = False) -> datetime | None:
    """WooCommerce ``*_gmt`` dates carry no offset and are UTC; an explicit offset is honoured."""
    if value is None or value == "":
        if required:
            raise PayloadError(f"{where}: missing", field=where)
        return None
    if not isinstance(value, str) or len(value) > 40:
        _fail(where, "an ISO 8601 date and time", value)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        _fail(where, "an ISO 8601 date and time", value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        _fail(where, "a date between year 1 and 9999", value)


def _meta_pairs(value: object, where: str) -> list[tuple[str, Any]]:
    """``meta_data`` as (key, value) pairs. Entries without a text key are skipped: meta data is
    where plugins keep anything, and none of it is ours to validate."""
    if value is None:
        return []
    if not isinstance(value, list):
        _fail(where, "a list", value)
    return [
        (entry["key"], entry.get("value"))
        for entry in value
        if isinstance(entry, dict) and isinstance(entry.get("key"), str)
    ]


def _present(value: object) -> bool:
    """A meta value that says "yes, set". Type checks, not ``==``: comparing a Decimal sNaN
    with a number raises."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | dict):
        return bool(value)
    return not (_is_int(value) and value == 0)


def _country(value: object, where: str) -> str:
    text = _ident(value, where, 2).upper()
    if text and not (len(text) == 2 and text.isascii() and text.isalpha()):
        _fail(where, "a two-letter country code", value)
    return text


def _name(section: Mapping[str, Any], where: str, notes: _Notes) -> str:
    parts = (
        _text(section.get("first_name"), f"{where}.first_name", TEXT, notes),
        _text(section.get("last_name"), f"{where}.last_name", TEXT, notes),
    )
    name = " ".join(p for p in parts if p)
    if len(name) > TEXT:
        notes.add(f"{where} name cut to {TEXT} characters")
        name = name[:TEXT].rstrip()
    return name


# --------------------------------------------------------------------------- orders


def _map_line(item: object, where: str, notes: _Notes) -> LineIn:
    line = _obj(item, where)
    line_id = _pos_int(line.get("id"), f"{where}.id")
    quantity = line.get("quantity")
    if not _is_int(quantity) or not 1 <= quantity <= MAX_QUANTITY:  # type: ignore[operator]
        _fail(f"{where}.quantity", f"a positive integer up to {MAX_QUANTITY:,}", quantity)
    assert isinstance(quantity, int)
    price = line.get("price")
    if price is not None:
        unit_price_ore = _ore(price, f"{where}.price")
    elif line.get("total") is not None:
        # Older payloads lack "price"; WooCommerce computes it as total / quantity anyway.
        unit_price_ore = _round(_decimal(line.get("total"), f"{where}.total") * 100 / quantity)
    else:
        raise PayloadError(f"{where}.price: missing", field=f"{where}.price")
    product_id = _opt_id(line.get("product_id"), f"{where}.product_id")
    variation_id = _opt_id(line.get("variation_id"), f"{where}.variation_id")
    return LineIn(
        sku=_ident(line.get("sku"), f"{where}.sku", SKU).strip().upper(),
        name=_text(line.get("name"), f"{where}.name", TEXT, notes, unescape=True),
        quantity=quantity,
        unit_price_ore=unit_price_ore,
        shop_line_id=line_id,
        # The variation when there is one: its parent is another product (its own SKU, GTIN
        # and sizes), and a line linked by id follows the product it names (#18).
        shop_product_id=variation_id or product_id,
    )


def _shipping_method(value: object) -> tuple[str, str, _Notes]:
    notes = _Notes()
    if value is None:
        return "", "", notes
    if not isinstance(value, list):
        _fail("shipping_lines", "a list", value)
    if not value:
        return "", "", notes
    first = _obj(value[0], "shipping_lines[0]")
    method_id = _ident(first.get("method_id"), "shipping_lines[0].method_id", METHOD_ID)
    instance_raw = first.get("instance_id")
    if _is_int(instance_raw):
        instance_raw = str(instance_raw)
    instance = _ident(instance_raw, "shipping_lines[0].instance_id", METHOD_ID)
    # WooCommerce ≥ 3.4 splits "flat_rate:3" into method_id and instance_id; older payloads
    # (and the docs' second example, "flat_rate:25") carry both in method_id.
    if method_id and instance and instance != "0" and ":" not in method_id:
        method_id = f"{method_id}:{instance}"
        if len(method_id) > METHOD_ID:
            raise PayloadError(
                f"shipping_lines[0]: method_id:instance_id longer than {METHOD_ID} characters",
                field="shipping_lines[0].method_id",
            )
    title = _text(first.get("method_title"), "shipping_lines[0].method_title", TEXT, notes)
    return method_id, title, notes


def _pickup_point(value: object, keys: tuple[str, ...], notes: _Notes) -> str:
    """The pickup point the customer chose: the first shipping line's meta under one of
    ``keys`` (the Bring plugin's ``pickup_point_id``; older data hold an object with ``id``).
    Lenient: a point that cannot be read is left for the station to choose, never a reason to
    refuse the order."""
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        return ""
    meta = value[0].get("meta_data")
    if not isinstance(meta, list):
        return ""
    pairs = _meta_pairs(meta, "shipping_lines[0].meta_data")
    for wanted in keys:
        for key, raw in pairs:
            if key != wanted:
                continue
            if isinstance(raw, dict):
                raw = raw.get("id")
            if _is_int(raw):
                raw = str(raw)
            text = _clean(raw, PICKUP_POINT) if isinstance(raw, str) else ""
            if text and len(text) <= PICKUP_POINT:
                return text
            notes.add(f"shipping_lines[0].meta_data[{key}]: not a pickup point id, left out")
    return ""


def _reference(value: object, notes: _Notes) -> str:
    """The payment provider's reference (``transaction_id``): text people and settlement files
    quote; one that cannot be read is left out (the order still ships)."""
    if _is_int(value):
        value = str(value)
    if value is None or value == "":
        return ""
    text = _clean(value, REFERENCE) if isinstance(value, str) else ""
    if not text or len(text) > REFERENCE:
        notes.add("transaction_id: not a payment reference, left out")
        return ""
    return text


def map_order(payload: object, *, pickup_meta_keys: tuple[str, ...] = PICKUP_META_KEYS) -> OrderIn:
    """One WooCommerce order object → :class:`OrderIn`, or :class:`PayloadError` naming the
    field. Never raises anything else, whatever JSON it is given."""
    notes = _Notes()
    _readable(payload)
    order = _obj(payload, "order")
    order_id = _pos_int(order.get("id"), "id")
    status = _ident(order.get("status"), "status", STATUS, required=True)

    number_raw = order.get("number")
    if _is_int(number_raw):
        number_raw = str(number_raw)
    number = _ident(number_raw, "number", NUMBER) or str(order_id)
    # The slip's barcode is ORD-<number> in Code 128: a number it cannot carry (full-width
    # digits, Æ) would stop the slip batch at the admin station, so refuse the order here.
    if (problem := code128_problem(number)) is not None:
        raise PayloadError(
            f"number {_show(number)} cannot be the slip's barcode: it {problem}", field="number"
        )

    currency = _ident(order.get("currency"), "currency", 3, required=True).upper()
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        _fail("currency", "a three-letter currency code", order.get("currency"))

    created_at = _datetime(order.get("date_created_gmt"), "date_created_gmt", required=True)
    assert created_at is not None
    modified_at = _datetime(order.get("date_modified_gmt"), "date_modified_gmt")
    paid_at = _datetime(order.get("date_paid_gmt"), "date_paid_gmt")

    billing = _obj(order.get("billing"), "billing")
    shipping = _obj(order.get("shipping"), "shipping")

    items = order.get("line_items")
    if not isinstance(items, list):
        _fail("line_items", "a list", items)
    if not items:
        raise PayloadError("line_items: the order has no line items", field="line_items")
    if len(items) > MAX_LINES:
        raise PayloadError(
            f"line_items: more than {MAX_LINES} line items ({len(items)})", field="line_items"
        )
    lines = tuple(_map_line(item, f"line_items[{i}]", notes) for i, item in enumerate(items))

    method_id, method_title, method_notes = _shipping_method(order.get("shipping_lines"))
    notes.items.extend(method_notes.items)

    meta = _meta_pairs(order.get("meta_data"), "meta_data")
    captured = any(key in CAPTURE_META_KEYS and _present(value) for key, value in meta)

    ship_name = _name(shipping, "shipping", notes) or _name(billing, "billing", notes)
    # A pickup or virtual order has an empty shipping address; the billing country (and
    # failing that, the shop's own) is then the best guess for the country column.
    ship_country = (
        _country(shipping.get("country"), "shipping.country")
        or _country(billing.get("country"), "billing.country")
        or "NO"
    )

    result = OrderIn(
        shop_order_id=order_id,
        number=number,
        created_at=created_at,
        lines=lines,
        ship_name=ship_name,
        ship_company=_text(shipping.get("company"), "shipping.company", TEXT, notes),
        ship_address1=_text(shipping.get("address_1"), "shipping.address_1", TEXT, notes),
        ship_address2=_text(shipping.get("address_2"), "shipping.address_2", TEXT, notes),
        ship_postcode=_ident(shipping.get("postcode"), "shipping.postcode", POSTCODE),
        ship_city=_text(shipping.get("city"), "shipping.city", CITY, notes),
        ship_country=ship_country,
        bill_name=_name(billing, "billing", notes),
        customer_email=_contact(billing.get("email"), "billing.email", EMAIL, notes),
        customer_phone=_contact(billing.get("phone"), "billing.phone", PHONE, notes),
        shipping_method_id=method_id,
        shipping_method_title=method_title,
        payment_method=_ident(order.get("payment_method"), "payment_method", METHOD_ID),
        payment_method_title=_text(
            order.get("payment_method_title"), "payment_method_title", TEXT, notes
        ),
        payment_reference=_reference(order.get("transaction_id"), notes),
        pickup_point_id=_pickup_point(order.get("shipping_lines"), pickup_meta_keys, notes),
        payment_status="captured" if captured else "authorized",
        currency=currency,
        shipping_ore=_ore(order.get("shipping_total"), "shipping_total"),
        total_ore=_ore(order.get("total"), "total"),
        customer_note=_text(
            order.get("customer_note"), "customer_note", NOTE, notes, multiline=True
        ),
        paid_at=paid_at,
        modified_at=modified_at,
        cancelled=status in CANCELLED_STATUSES,
        extra={"shop_status": status},
    )
    for note in notes.items:
        log.info("order %s: %s", order_id, note)
    return result


def map_remote_order(payload: object) -> RemoteOrder:
    """The "already done?" view of an order: id, status, modification time, scalar meta."""
    order = _obj(payload, "order")
    meta: dict[str, str] = {}
    for key, value in _meta_pairs(order.get("meta_data"), "meta_data"):
        if isinstance(value, str):
            meta[key] = value
        elif _is_int(value):
            meta[key] = str(value)
    return RemoteOrder(
        shop_order_id=_pos_int(order.get("id"), "id"),
        status=_ident(order.get("status"), "status", STATUS, required=True),
        modified_at=_datetime(order.get("date_modified_gmt"), "date_modified_gmt"),
        meta=meta,
    )


# --------------------------------------------------------------------------- products


def _measure(value: object, where: str, factor: int, maximum: int) -> int:
    """A shop measure (cm or kg as text, "" when unset) → whole mm or g, rounded half up."""
    if value is None:
        return 0
    result = _round(_decimal(value, where, empty_is_zero=True) * factor)
    if result > maximum:
        _fail(where, f"at most {maximum:,} in our units", value)
    return result


def map_product(payload: object, *, location_meta_key: str = "_packbench_location") -> ProductIn:
    """One WooCommerce product object → :class:`ProductIn`, or :class:`PayloadError`.

    Assumes the shop's units are cm and kg (WooCommerce → Settings → Products).
    """
    notes = _Notes()
    _readable(payload)
    product = _obj(payload, "product")
    product_id = _pos_int(product.get("id"), "id")
    sku = _ident(product.get("sku"), "sku", SKU).strip().upper()
    if not sku:
        raise PayloadError(
            "sku: empty; the bench needs a SKU for every product it stocks", field="sku"
        )

    gtin_raw = product.get("global_unique_id")
    gtin: str | None = None
    if gtin_raw not in (None, ""):
        if not isinstance(gtin_raw, str):
            _fail("global_unique_id", "a GTIN as text", gtin_raw)
        gtin = gtin_raw.strip()
        if not is_valid_gtin(gtin):
            raise PayloadError(
                f"global_unique_id: {_show(gtin_raw)} is not a valid GTIN "
                "(8, 12, 13 or 14 digits with a correct check digit)",
                field="global_unique_id",
            )

    dims_raw = product.get("dimensions")
    dims = {} if dims_raw is None else _obj(dims_raw, "dimensions")
    length, width, height = (
        _measure(dims.get(k), f"dimensions.{k}", 10, MAX_LENGTH_MM)
        for k in ("length", "width", "height")
    )

    location: str | None = None
    for key, value in _meta_pairs(product.get("meta_data"), "meta_data"):
        if key == location_meta_key:
            location = _ident(value, f"meta_data[{key}]", LOCATION).upper() or None

    result = ProductIn(
        shop_product_id=product_id,
        sku=sku,
        gtin=gtin,
        name=_text(product.get("name"), "name", TEXT, notes, unescape=True),
        length_mm=length,
        width_mm=width,
        height_mm=height,
        weight_g=_measure(product.get("weight"), "weight", 1000, MAX_WEIGHT_G),
        location=location,
        price_ore=_ore(product.get("price"), "price", empty_is_zero=True),
    )
    for note in notes.items:
        log.info("product %s: %s", product_id, note)
    return result


# --------------------------------------------------------------------------- pages


def page_flags(headers: Mapping[str, str], page: int, count: int) -> tuple[int, bool]:
    """``(total_pages, has_next)`` from WooCommerce's ``X-WP-TotalPages`` and ``Link`` headers.

    Either header announcing a next page is believed, but an empty page never has a next one,
    so a shop that keeps advertising pages cannot keep the sync looping.
    """
    headers = httpx.Headers(headers)
    raw_total = (headers.get("x-wp-totalpages") or "").strip()
    total = int(raw_total) if raw_total.isascii() and raw_total.isdigit() else None
    link_next = any(
        "next" in match.group(1).lower().split()
        for params in _LINK_RE.findall(headers.get("link") or "")
        if (match := _REL_RE.search(params))
    )
    has_next = count > 0 and (link_next or (total is not None and page < total))
    if total is None:
        total = page + 1 if has_next else page
    return total, has_next


def _ref(item: object, kind: str, index: int, page: int) -> str:
    if isinstance(item, dict) and _is_int(item.get("id")) and item["id"] > 0:
        return f"{kind} {item['id']}"
    if isinstance(item, Unreadable) and item.id:
        return f"{kind} {item.id}"
    return f"item #{index} on page {page}"


def orders_page(
    data: object,
    headers: Mapping[str, str],
    page: int,
    *,
    pickup_meta_keys: tuple[str, ...] = PICKUP_META_KEYS,
) -> OrderPage:
    """A decoded ``GET /orders`` body → :class:`OrderPage`; bad orders become rejections."""
    if not isinstance(data, list):
        raise PayloadError(f"orders page {page}: expected a list of orders, got {_show(data)}")
    orders: list[OrderIn] = []
    rejected: list[RejectedPayload] = []
    for index, item in enumerate(data, start=1):
        try:
            orders.append(map_order(item, pickup_meta_keys=pickup_meta_keys))
        except PayloadError as exc:
            rejection = RejectedPayload(_ref(item, "order", index, page), str(exc))
            log.warning("rejected %s", rejection)
            rejected.append(rejection)
    total, has_next = page_flags(headers, page, len(data))
    return OrderPage(tuple(orders), tuple(rejected), page, total, has_next)


def products_page(
    data: object,
    headers: Mapping[str, str],
    page: int,
    *,
    location_meta_key: str = "_packbench_location",
) -> ProductPage:
    """A decoded ``GET /products`` body → :class:`ProductPage`; bad products become rejections."""
    if not isinstance(data, list):
        raise PayloadError(f"products page {page}: expected a list of products, got {_show(data)}")
    products: list[ProductIn] = []
    rejected: list[RejectedPayload] = []
    for index, item in enumerate(data, start=1):
        try:
            products.append(map_product(item, location_meta_key=location_meta_key))
        except PayloadError as exc:
            rejection = RejectedPayload(_ref(item, "product", index, page), str(exc))
            log.warning("rejected %s", rejection)
            rejected.append(rejection)
    total, has_next = page_flags(headers, page, len(data))
    return ProductPage(tuple(products), tuple(rejected), page, total, has_next)


def _check_page(page: int, per_page: int) -> None:
    if not _is_int(page) or page < 1:
        raise ValueError(f"page must be 1 or more, got {page!r}")
    if not _is_int(per_page) or not 1 <= per_page <= 100:
        raise ValueError(f"per_page must be 1–100 (WooCommerce's limit), got {per_page!r}")


def order_query(
    *, status: str, modified_after: datetime | None, page: int, per_page: int
) -> dict[str, str]:
    """The query of ``GET /orders``: oldest modification first, so a sync that stops halfway
    can resume from the last ``modified_at`` it stored."""
    _check_page(page, per_page)
    if not isinstance(status, str) or not re.fullmatch(r"[a-z0-9_,-]{1,200}", status):
        raise ValueError(f"status must be WooCommerce status names, got {status!r}")
    params = {"status": status}
    if modified_after is not None:
        if modified_after.tzinfo is None or modified_after.utcoffset() is None:
            raise ValueError("modified_after must be timezone-aware")
        # Whole seconds, rounded down: re-reading an order is harmless (intake ignores what it
        # already has), skipping one is not.
        params["modified_after"] = modified_after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    params |= {
        "dates_are_gmt": "true",
        "orderby": "modified",
        "order": "asc",
        "per_page": str(per_page),
        "page": str(page),
    }
    return params


# --------------------------------------------------------------------------- HTTP


def update_body(*, status: str | None, meta: dict[str, str] | None) -> dict[str, Any]:
    """The JSON of ``PUT /orders/{id}``. Meta entries go without an ``id``, so WooCommerce
    updates the key in place (or adds it) instead of adding a duplicate."""
    body: dict[str, Any] = {}
    if status is not None:
        if not isinstance(status, str) or not _STATUS_RE.fullmatch(status):
            raise ValueError(f"not a WooCommerce status: {status!r}")
        body["status"] = status
    if meta:
        for k, v in meta.items():
            if not (isinstance(k, str) and k and len(k) <= 255 and isinstance(v, str)):
                raise ValueError(f"meta keys and values must be text, got {k!r}")
        body["meta_data"] = [{"key": k, "value": v} for k, v in meta.items()]
    if not body:
        raise ValueError("update_order needs a status or meta to change")
    return body


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP date; None if absent
    or unreadable. Clamped to 0 … one day."""
    if not value:
        return None
    text = value.strip()
    if _RETRY_SECONDS_RE.fullmatch(text):
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")


def _beginning(content: bytes, length: int = 40) -> str:
    """The first ``length`` characters of a body for a message: cleaned and redacted *before*
    they are cut, from a window long enough that a secret in them is seen whole."""
    window = content[: length * 4 + 4096].decode("utf-8", "replace")
    return cut(_clean(window, len(window)), length)


def decode_json(content: bytes, what: str = "answer", *, max_depth: int = MAX_DEPTH) -> Any:
    """JSON with every non-integer number as Decimal; NaN/Infinity are refused. In a top-level
    array, an item nested deeper than ``max_depth`` becomes an
    :class:`~packbench.shop.bounded.Unreadable` (rejected alone by the page mapping)."""
    try:
        return decode_items(content, max_depth=max_depth)
    except NotJSON as exc:
        raise PayloadError(
            f"{what}: the shop's answer is {exc} (it starts {_beginning(content)!r})"
        ) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WooCommerceAdapter:
    """:class:`~packbench.shop.base.ShopAdapter` for WooCommerce's REST API v3.

    ``key`` and ``secret`` are a REST API key pair (WooCommerce → Settings → Advanced → REST
    API) with read/write permission. They are kept as :class:`~pydantic.SecretStr`, sent only
    as a Basic auth header, and registered with :mod:`packbench.redact`, so they and their Basic
    form are masked in anything the shop echoes back and in every log line.

    ``timeout`` bounds each socket operation, ``deadline`` the whole request.
    """

    def __init__(
        self,
        base_url: str,
        key: str | SecretStr,
        secret: str | SecretStr,
        *,
        timeout: float = 10.0,
        deadline: float = REQUEST_DEADLINE_S,
        location_meta_key: str = "_packbench_location",
        pickup_meta_keys: tuple[str, ...] | list[str] = PICKUP_META_KEYS,
        transport: httpx.BaseTransport | None = None,
        verify: Literal[True] | str | ssl.SSLContext = True,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self._key = key if isinstance(key, SecretStr) else SecretStr(key)
        self._secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)
        if not self._key.get_secret_value() or not self._secret.get_secret_value():
            raise ValueError(
                "the shop's consumer key and secret are required "
                "(PACKBENCH_SHOP_KEY and PACKBENCH_SHOP_SECRET)"
            )
        register_basic_auth(self._key.get_secret_value(), self._secret.get_secret_value())
        if not deadline > 0:
            raise ValueError("the request deadline must be more than 0 seconds")
        self._deadline = float(deadline)
        self._base_url = self._check_url(base_url)
        context: ssl.SSLContext | Literal[True]
        if isinstance(verify, str):
            context = ssl.create_default_context(cafile=verify)
        elif isinstance(verify, ssl.SSLContext):
            if verify.verify_mode != ssl.CERT_REQUIRED or not verify.check_hostname:
                raise ValueError("the TLS context must verify certificates and host names")
            context = verify
        elif verify is True:
            context = True
        else:
            raise ValueError("TLS verification cannot be turned off; pass a test CA file instead")
        self._location_meta_key = location_meta_key
        self._pickup_meta_keys = tuple(pickup_meta_keys)
        self._max_bytes = max_response_bytes
        api = self._base_url
        if not api.endswith("/wp-json/wc/v3"):
            api += "/wp-json/wc/v3"
        self._client = httpx.Client(
            base_url=api,
            auth=httpx.BasicAuth(self._key.get_secret_value(), self._secret.get_secret_value()),
            headers={
                "User-Agent": f"packbench/{__version__}",
                "Accept": "application/json",
                # Only what BoundedBody decompresses within its limit (no br, no zstd).
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,  # a redirect means a wrong URL; never resend credentials
            transport=transport,
            verify=context,
        )
        if transport is None:
            # httpx's own transports (and any for proxies from the environment) get the total
            # deadline at the socket; a given transport (tests) is checked between reads only.
            mounted = [self._client._transport, *self._client._mounts.values()]
            if not install_deadline(mounted):
                raise RuntimeError("this httpx keeps its connection pool elsewhere: see bounded.py")

    @staticmethod
    def _check_url(base_url: str) -> str:
        """Refuse URLs that would leak the credentials. The URL itself is never echoed: a
        mistyped one may have had them pasted in."""
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the shop URL must look like https://shop.example")
        if parts.username is not None or parts.password is not None:
            raise ValueError("the shop URL must not contain a user name or password")
        if parts.query or parts.fragment:
            raise ValueError("the shop URL must not have a query or fragment")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ValueError(
                "plain http would send the consumer key and secret readable to anyone on the "
                "way; use https (http is allowed only for localhost)"
            )
        return base_url.strip().rstrip("/")

    def __repr__(self) -> str:
        return f"WooCommerceAdapter({self._base_url!r})"

    def __enter__(self) -> WooCommerceAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # ----------------------------------------------------------------- the interface

    def fetch_orders(
        self,
        *,
        status: str = "processing",
        modified_after: datetime | None,
        page: int = 1,
        per_page: int = 100,
    ) -> OrderPage:
        params = order_query(
            status=status, modified_after=modified_after, page=page, per_page=per_page
        )
        response, data = self._call("GET", "/orders", f"orders page {page}", params=params)
        return orders_page(data, response.headers, page, pickup_meta_keys=self._pickup_meta_keys)

    def fetch_products(self, *, page: int = 1, per_page: int = 100) -> ProductPage:
        _check_page(page, per_page)
        params = {"orderby": "id", "order": "asc", "per_page": str(per_page), "page": str(page)}
        response, data = self._call("GET", "/products", f"products page {page}", params=params)
        return products_page(
            data, response.headers, page, location_meta_key=self._location_meta_key
        )

    def get_order(self, shop_order_id: int) -> RemoteOrder:
        order_id = self._order_id(shop_order_id)
        _, data = self._call("GET", f"/orders/{order_id}", f"order {order_id}")
        return self._remote(data, order_id)

    def update_order(
        self,
        shop_order_id: int,
        *,
        status: str | None = None,
        meta: dict[str, str] | None = None,
    ) -> RemoteOrder:
        """``PUT /orders/{id}``. Idempotent: WooCommerce replaces a meta key's value rather than
        adding a second entry, and setting the status it already has changes nothing."""
        order_id = self._order_id(shop_order_id)
        body = update_body(status=status, meta=meta)
        _, data = self._call("PUT", f"/orders/{order_id}", f"order {order_id}", body=body)
        return self._remote(data, order_id)

    def add_note(self, shop_order_id: int, note: str, *, customer_note: bool = False) -> None:
        """``POST /orders/{id}/notes``. Not idempotent: a retry after a lost answer can leave
        the note twice (``customer_note=True`` also e-mails the customer each time)."""
        order_id = self._order_id(shop_order_id)
        if not isinstance(note, str) or not note.strip():
            raise ValueError("a note needs some text")
        body = {"note": note, "customer_note": bool(customer_note)}
        what = f"note on order {order_id}"
        _, data = self._call("POST", f"/orders/{order_id}/notes", what, body=body)
        if not isinstance(data, dict):
            raise PayloadError(f"{what}: expected the created note, got {_show(data)}")

    def list_notes(self, shop_order_id: int) -> tuple[str, ...]:
        """``GET /orders/{id}/notes``: the note texts exactly as the shop returns them (not
        cleaned, so a caller can compare them with a note it sent)."""
        order_id = self._order_id(shop_order_id)
        what = f"notes of order {order_id}"
        _, data = self._call("GET", f"/orders/{order_id}/notes", what)
        if not isinstance(data, list):
            raise PayloadError(f"{what}: expected a list of notes, got {_show(data)}")
        return tuple(
            item["note"]
            for item in data
            if isinstance(item, dict) and isinstance(item.get("note"), str)
        )

    # ----------------------------------------------------------------- plumbing

    @staticmethod
    def _order_id(value: object) -> int:
        if not _is_int(value) or not 1 <= value <= MAX_ID:  # type: ignore[operator]
            raise ValueError(f"shop order ids are positive integers, got {value!r}")
        return value  # type: ignore[return-value]

    @staticmethod
    def _remote(data: object, order_id: int) -> RemoteOrder:
        try:
            remote = map_remote_order(data)
        except PayloadError as exc:
            raise PayloadError(f"order {order_id}: {exc}", field=exc.field) from None
        if remote.shop_order_id != order_id:
            raise PayloadError(
                f"order {order_id}: the shop answered with order {remote.shop_order_id}",
                field="id",
            )
        return remote

    @staticmethod
    def _scrub(text: str, limit: int) -> str:
        """Text the shop or the network stack produced, cleaned for a terminal, credentials
        masked, then cut (in that order: a cut secret would no longer be recognised)."""
        return cut(_clean(text, limit * 4 + 4096), limit)

    def _call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> tuple[httpx.Response, Any]:
        """One request → (response, decoded JSON), or a ShopError/PayloadError.

        Exceptions are raised ``from None``: the httpx cause carries the request, and with it
        the Authorization header, into any traceback a log handler might render.
        """
        try:
            with (
                deadline(self._deadline) as until,
                self._client.stream(method, path, params=params, json=body) as response,
            ):
                content = self._read(response, what, until)
        except httpx.TimeoutException as exc:
            raise TransientError(
                f"{what}: the shop did not answer in time ({type(exc).__name__}; "
                f"{self._deadline:g} s for the whole answer)"
            ) from None
        except httpx.TransportError as exc:
            detail = self._scrub(str(exc), 200)
            raise TransientError(
                f"{what}: could not talk to the shop ({type(exc).__name__}"
                + (f": {detail})" if detail else ")")
            ) from None
        except httpx.HTTPError as exc:  # DecodingError and the like: the answer was garbled
            raise TransientError(
                f"{what}: the shop's answer was garbled ({type(exc).__name__})"
            ) from None
        if not response.is_success:
            self._raise_for_status(response, content, what)
        return response, decode_json(content, what)

    def _read(self, response: httpx.Response, what: str, until: float) -> bytes:
        """The decoded body, bounded in size after every Content-Encoding layer and in time by
        ``until`` (checked here too, for transports without the deadline backend)."""
        success = response.is_success
        limit = self._max_bytes if success else MAX_ERROR_BODY_BYTES
        # A response made in memory (httpx.MockTransport in tests) arrives already read and
        # decoded; one from the network is read here, raw, and decoded within the limit.
        preread = response.is_stream_consumed
        encodings = [] if preread else response.headers.get_list("content-encoding", True)
        try:
            body = BoundedBody(encodings, limit, truncate=not success)  # an error page: its start
            for chunk in [response.content] if preread else response.iter_raw():
                body.feed(chunk)
                if body.full:
                    break
                if time.monotonic() > until:
                    raise httpx.ReadTimeout("the request's total deadline passed")
            return body.result()
        except BodyTooLarge as exc:
            raise PayloadError(f"{what}: the shop's answer is {exc}") from None
        except BadEncoding as exc:
            if not success:
                return b""  # the status alone says enough
            raise PayloadError(f"{what}: the shop's answer could not be decoded ({exc})") from None

    def _raise_for_status(self, response: httpx.Response, content: bytes, what: str) -> NoReturn:
        status = response.status_code
        code, message = None, None
        try:
            data = json.loads(content, parse_float=Decimal, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict):
            if isinstance(data.get("code"), str):
                code = self._scrub(data["code"], 100) or None
            if isinstance(data.get("message"), str):
                text = _clean(data["message"], 300 * 4 + 4096, unescape=True)
                message = cut(text, 300) or None
        detail = f"HTTP {status}" + (f": {message}" if message else "")
        error: ShopError
        if status in (401, 403):
            error = AuthError(
                f"{what}: the shop refused the consumer key and secret ({detail})",
                status=status,
                code=code,
            )
        elif status == 404:
            error = NotFound(f"{what}: not found in the shop ({detail})", status=status, code=code)
        elif status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            wait = f"; try again in {retry_after:.0f} s" if retry_after is not None else ""
            error = RateLimited(
                f"{what}: the shop asks us to slow down ({detail}){wait}",
                status=status,
                code=code,
                retry_after=retry_after,
            )
        elif status == 408 or status >= 500:
            error = TransientError(
                f"{what}: the shop had a temporary problem ({detail})", status=status, code=code
            )
        elif 300 <= status < 400:
            error = PermanentError(
                f"{what}: the shop redirected the request ({detail}); check the shop URL "
                "(use the exact https address the shop answers on)",
                status=status,
                code=code,
            )
        else:
            error = PermanentError(
                f"{what}: the shop refused the request ({detail}" + (f", {code})" if code else ")"),
                status=status,
                code=code,
            )
        raise error
