"""WooCommerce REST API v3 pages and requests: list answers → pages of our types (bad items
rejected alone), the query strings of the lists, the bodies of updates, ``Retry-After``, and
JSON decoded without a binary float. Pure: no network (the client is
:mod:`packbench.shop.woocommerce`; what one order or product means is
:mod:`packbench.shop.woocommerce_payloads`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn

import httpx

from packbench.operations.intake import OrderIn
from packbench.redact import cut
from packbench.shop.base import (
    OrderPage,
    PayloadError,
    ProductIn,
    ProductPage,
    ProductRef,
    RejectedPayload,
)
from packbench.shop.bounded import MAX_DEPTH, NotJSON, Unreadable, decode_items
from packbench.shop.woocommerce_payloads import (
    MAX_ID,
    PICKUP_META_KEYS,
    _clean,
    _datetime,
    _is_int,
    _opt_id,
    _show,
    map_order,
    map_product,
    map_variation,
)

__all__ = [
    "decode_json",
    "id_query",
    "missing_field",
    "newest_modified",
    "order_query",
    "order_references",
    "orders_page",
    "page_flags",
    "parse_retry_after",
    "product_query",
    "products_page",
    "update_body",
]

log = logging.getLogger("packbench.shop")

MAX_RETRY_AFTER = 86_400.0  # a shop asking us to wait more than a day is treated as a day
_STATUS_RE = re.compile(r"[a-z0-9_-]{1,50}")
_RETRY_SECONDS_RE = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,6})?")
# Link: <https://…/orders?page=2&status=a,b>; rel="next", <…>; rel="last" — URLs may hold commas,
# so each link's parameters are what follows its <…> up to the next one.
_LINK_RE = re.compile(r"<[^>]*>([^<]*)")
_REL_RE = re.compile(r';\s*rel\s*=\s*"?([^";,]*)"?', re.IGNORECASE)


# --------------------------------------------------------------------------- pages


def missing_field(data: object, needed: tuple[str, ...]) -> str | None:
    """The first of ``needed`` that an object of a list answer lacks, or None. Used on answers
    to ``_fields`` requests: a plugin that builds its answer after WordPress has cut the fields
    can leave some out, and then the whole objects must be asked for instead."""
    for item in data if isinstance(data, list) else [data]:
        if isinstance(item, dict):
            for name in needed:
                if name not in item:
                    return name
    return None


def order_references(data: object, orders: tuple[OrderIn, ...]) -> tuple[ProductRef, ...]:
    """The products (and variations) the lines of the taken ``orders`` name, each once."""
    taken = {o.shop_order_id for o in orders}
    refs: dict[ProductRef, None] = {}
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict) or item.get("id") not in taken:
            continue
        for line in item.get("line_items") or []:
            if not isinstance(line, dict):
                continue
            try:
                product = _opt_id(line.get("product_id"), "product_id")
                variation = _opt_id(line.get("variation_id"), "variation_id")
            except PayloadError:
                continue
            if product is not None:
                refs.setdefault(ProductRef(product, variation))
            elif variation is not None:  # a variation without its parent: unreachable
                continue
    return tuple(refs)


def newest_modified(data: object) -> datetime | None:
    """The newest ``date_modified_gmt`` of a list answer's objects (unreadable ones skipped)."""
    newest = None
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            when = _datetime(item.get("date_modified_gmt"), "date_modified_gmt")
        except PayloadError:
            continue
        if when is not None and (newest is None or when > newest):
            newest = when
    return newest


def page_flags(
    headers: Mapping[str, str], page: int, count: int, per_page: int | None = None
) -> tuple[int, bool, bool]:
    """``(total_pages, has_next, counted)`` from WooCommerce's ``X-WP-TotalPages`` and ``Link``
    headers; ``counted``: the total is the shop's own count, not a guess from this page.

    Either header announcing a next page is believed, but an empty page never has a next one,
    so a shop that keeps advertising pages cannot keep the sync looping. A shop that sends
    neither (a proxy or a plugin can strip them; WordPress documents them, not every server
    keeps them) is read on while its pages come full (``per_page`` of them): the sync's page
    cap and its repeated-page check still end a shop that never stops.
    """
    headers = httpx.Headers(headers)
    raw_total = (headers.get("x-wp-totalpages") or "").strip()
    total = int(raw_total) if raw_total.isascii() and raw_total.isdigit() else None
    links = headers.get("link")
    link_next = any(
        "next" in match.group(1).lower().split()
        for params in _LINK_RE.findall(links or "")
        if (match := _REL_RE.search(params))
    )
    has_next = count > 0 and (link_next or (total is not None and page < total))
    if total is None and links is None and per_page is not None:
        has_next = count >= per_page  # no pagination headers at all: a full page may go on
    counted = total is not None
    if total is None:
        total = page + 1 if has_next else page
    return total, has_next, counted


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
    per_page: int | None = None,
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
    total, has_next, counted = page_flags(headers, page, len(data), per_page)
    taken = tuple(orders)
    return OrderPage(
        taken, tuple(rejected), page, total, has_next, order_references(data, taken), counted
    )


def products_page(
    data: object,
    headers: Mapping[str, str],
    page: int,
    *,
    location_meta_key: str = "_packbench_location",
    variations: bool = False,
    per_page: int | None = None,
) -> ProductPage:
    """A decoded ``GET /products`` (or ``…/variations``) body → :class:`ProductPage`; bad
    products become rejections."""
    if not isinstance(data, list):
        raise PayloadError(f"products page {page}: expected a list of products, got {_show(data)}")
    products: list[ProductIn] = []
    rejected: list[RejectedPayload] = []
    mapper = map_variation if variations else map_product
    for index, item in enumerate(data, start=1):
        try:
            products.append(mapper(item, location_meta_key=location_meta_key))
        except PayloadError as exc:
            rejection = RejectedPayload(_ref(item, "product", index, page), str(exc))
            log.warning("rejected %s", rejection)
            rejected.append(rejection)
    total, has_next, counted = page_flags(headers, page, len(data), per_page)
    return ProductPage(
        tuple(products), tuple(rejected), page, total, has_next, newest_modified(data), counted
    )


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


def product_query(
    *, page: int, per_page: int, modified_after: datetime | None = None
) -> dict[str, str]:
    """The query of ``GET /products``: id order (every WooCommerce version has it), only what
    changed after ``modified_after`` when given (whole seconds, rounded down)."""
    _check_page(page, per_page)
    params = {"orderby": "id", "order": "asc", "per_page": str(per_page), "page": str(page)}
    if modified_after is not None:
        if modified_after.tzinfo is None or modified_after.utcoffset() is None:
            raise ValueError("modified_after must be timezone-aware")
        params["modified_after"] = modified_after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        params["dates_are_gmt"] = "true"
    return params


def id_query(ids: list[int]) -> dict[str, str]:
    """``include=…`` for up to 100 ids (WordPress's page limit: one page holds them all)."""
    if not 1 <= len(ids) <= 100 or not all(
        _is_int(i) and 1 <= i <= MAX_ID for ids in [ids] for i in ids
    ):
        raise ValueError("include= takes 1 to 100 positive ids")
    return {
        "include": ",".join(str(i) for i in ids),
        "orderby": "id",
        "order": "asc",
        "per_page": "100",
        "page": "1",
    }


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
