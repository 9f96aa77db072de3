"""WooCommerce REST API v3 payloads: one order or product as JSON → our frozen dataclasses
(pure; pages, queries and bodies are :mod:`packbench.shop.woocommerce_pages`, the client is
:mod:`packbench.shop.woocommerce`).

:func:`map_order`, :func:`map_product`, :func:`map_remote_order`, :func:`orders_page`,
:func:`products_page` turn WooCommerce JSON into our dataclasses, in our units (øre, mm, g,
aware UTC). Shop data is typed in by customers and plugins, so the mapping is strict about what
the bench acts on and forgiving about what people only read:

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
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NoReturn, TypeGuard

from packbench.core.code128 import code128_problem
from packbench.core.codes import is_valid_gtin
from packbench.operations.intake import LineIn, OrderIn
from packbench.shop.base import (
    PayloadError,
    ProductIn,
    RemoteOrder,
)
from packbench.shop.bounded import (
    Unreadable,
)

__all__ = [
    "CANCELLED_STATUSES",
    "MAX_ERROR_BODY_BYTES",
    "MAX_ID",
    "MAX_RESPONSE_BYTES",
    "ORDER_FIELDS",
    "PICKUP_META_KEYS",
    "PRODUCT_FIELDS",
    "REQUEST_DEADLINE_S",
    "VARIATION_FIELDS",
    "map_order",
    "map_product",
    "map_remote_order",
    "map_variation",
]

log = logging.getLogger("packbench.shop")

#: Shipping-line meta keys that hold the customer's pickup point, the Bring plugin's first.
PICKUP_META_KEYS = ("pickup_point_id", "_fraktguiden_pickup_point_id")

#: WooCommerce statuses after which there is nothing to pack.
CANCELLED_STATUSES = frozenset({"cancelled", "refunded", "failed"})

#: Meta keys payment plugins (and our demo shop) set once the money has been captured.
CAPTURE_META_KEYS = ("_payment_captured_at", "_capture_id")

#: What packbench maps, asked for with WordPress's ``_fields`` (an order page is about a third
#: of its whole size). Every one of them is in every WooCommerce v3 answer, so an answer to a
#: ``_fields`` request that lacks one was broken by a plugin: see ``missing_field``.
ORDER_FIELDS = (
    "id",
    "number",
    "status",
    "currency",
    "date_created_gmt",
    "date_modified_gmt",
    "date_paid_gmt",
    "billing",
    "shipping",
    "line_items",
    "shipping_lines",
    "meta_data",
    "payment_method",
    "payment_method_title",
    "transaction_id",
    "shipping_total",
    "total",
    "customer_note",
)
ORDER_NEEDED = ORDER_FIELDS
PRODUCT_FIELDS = (
    "id",
    "sku",
    "global_unique_id",
    "name",
    "dimensions",
    "weight",
    "meta_data",
    "price",
    "date_modified_gmt",
)
#: ``global_unique_id`` came with WooCommerce 9.2: a shop without it is older, not broken.
PRODUCT_NEEDED = tuple(f for f in PRODUCT_FIELDS if f != "global_unique_id")
#: Variations had no ``name`` before WooCommerce 8.x; their attributes name them then.
VARIATION_FIELDS = (*PRODUCT_FIELDS, "attributes")
VARIATION_NEEDED = tuple(f for f in PRODUCT_NEEDED if f != "name")

MAX_QUANTITY = 10_000
MAX_LINES = 1_000  # more line items than this on one order is a broken payload, not a big order
MAX_AMOUNT = Decimal(10) ** 12  # in currency units; keeps øre well inside a 64-bit integer
MAX_ID = 2**63 - 1  # SQLite INTEGER
MAX_LENGTH_MM = 100_000  # 100 m: beyond that it is a typo in the shop, not a product
MAX_WEIGHT_G = 10_000_000  # 10 t
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


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _clean(value: str, limit: int, *, multiline: bool = False, unescape: bool = False) -> str:
    """Normalise text for a terminal and a database; the result may still exceed ``limit``
    (callers decide between cutting and rejecting), but only by a bounded amount."""
    # Bound the work on hostile input first: nothing below is worth doing on megabytes.
    text = value[: limit * 4 + 64]
    if unescape and "&" in text:
        text = html.unescape(text)
    if text.isprintable():
        # Most shop text: no control, format or line-break character and no space but " "
        # (that is what isprintable() says), so the loop below would keep every character.
        if not text.isascii():
            text = unicodedata.normalize("NFC", text)
        return " ".join(text.split())
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
    if not _is_int(value) or not 1 <= value <= maximum:
        _fail(where, "a positive integer", value)
    return value


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
        if abs(value) > MAX_AMOUNT:
            _fail(where, f"a number below {MAX_AMOUNT:,}", value)
        number = Decimal(value)
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
    if not _is_int(quantity) or not 1 <= quantity <= MAX_QUANTITY:
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
        # A variation is its own product at the bench (its SKU, GTIN, shelf and sizes).
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


def map_variation(payload: object, *, location_meta_key: str = "_packbench_location") -> ProductIn:
    """One variation object (``/products/{id}/variations``) → :class:`ProductIn`. A variation
    without a ``name`` (WooCommerce before 8.x) is named by its attributes ("Red / XL")."""
    if isinstance(payload, dict) and not (
        isinstance(payload.get("name"), str) and payload["name"].strip()
    ):
        attributes = payload.get("attributes")
        options = [
            a["option"]
            for a in (attributes if isinstance(attributes, list) else [])
            if isinstance(a, dict) and isinstance(a.get("option"), str)
        ]
        payload = {**payload, "name": " / ".join(options)}
    return map_product(payload, location_meta_key=location_meta_key)
