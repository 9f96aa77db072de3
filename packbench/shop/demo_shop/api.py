"""The HTTP face of the demo shop: WooCommerce REST v3 routes over :class:`DemoShopState`.

Shapes, headers and errors copy a real WooCommerce (see the payload examples in the shared
fixtures): money as "398.00" strings except a line item's ``price`` (a JSON number), local
times without offset next to ``*_gmt`` UTC times, ``X-WP-Total``/``X-WP-TotalPages``/``Link``
on lists, and ``{"code", "message", "data": {"status"}}`` for every refusal — so the bench's
adapter is tested against what it will meet, not against a friendlier imitation.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import logging
import math
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from packbench.data.demo_catalogue import DemoProduct
from packbench.shop.demo_shop.faults import FaultSettings
from packbench.shop.demo_shop.state import (
    CURRENCY,
    LOCATION_META,
    WC_STATUSES,
    DemoShopState,
    NoteRecord,
    OrderRecord,
    ShopApiError,
    money,
    parse_wc_time,
    product_created,
)

__all__ = ["DEMO_PREFIX", "WC_PREFIX", "build_api"]

log = logging.getLogger("packbench.demo_shop")

WC_PREFIX = "/wp-json/wc/v3"
DEMO_PREFIX = "/wp-json/packbench-demo/v1"
try:
    SITE_TZ: tzinfo = ZoneInfo("Europe/Oslo")
except ZoneInfoNotFoundError:  # no time zone database (Windows without tzdata): winter time
    SITE_TZ = timezone(timedelta(hours=1), "CET")
MAX_PER_PAGE = 100
_ORDERBY = ("date", "id", "include", "title", "slug", "modified")
#: What a ``_fields`` answer lacks with the ``fields_lost_share`` fault.
_LOST_FIELDS = frozenset({"line_items", "meta_data"})
WC_VERSION = "9.4.2"

_CATEGORY_IDS = {
    "kjøkken": (15, "Kjøkken", "kjokken"),
    "mat": (16, "Mat og drikke", "mat-og-drikke"),
    "tekstil": (17, "Tekstil", "tekstil"),
    "friluft": (18, "Friluft", "friluft"),
    "interiør": (19, "Interiør", "interior"),
    "kontor": (20, "Kontor", "kontor"),
    "leker": (21, "Leker", "leker"),
    "hobby": (22, "Hobby", "hobby"),
    "hage": (23, "Hage", "hage"),
}
_SLUG = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e", "×": "x", "%": ""})
_AUTH_ERRORS = {
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "create": (
        "woocommerce_rest_cannot_create",
        "Sorry, you are not allowed to create resources.",
    ),
}
_HEADERS = {
    "Content-Type": "application/json; charset=UTF-8",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Access-Control-Expose-Headers": "X-WP-Total, X-WP-TotalPages, Link",
}


# --------------------------------------------------------------------------- rendering


def _local(gmt: str | None) -> str | None:
    """A stored UTC time as the site's local time (Europe/Oslo), without offset."""
    if gmt is None:
        return None
    return parse_wc_time(gmt).astimezone(SITE_TZ).strftime("%Y-%m-%dT%H:%M:%S")


def _price_number(ore: int) -> int | float:
    """A line item's ``price`` is a JSON number in WooCommerce (3, 12, 39.9)."""
    whole, cents = divmod(ore, 100)
    return whole if cents == 0 else float(money(ore))


def _cm(mm: int) -> str:
    whole, tenth = divmod(mm, 10)
    return f"{whole}" if tenth == 0 else f"{whole}.{tenth}"


def _kg(grams: int) -> str:
    whole, rest = divmod(grams, 1000)
    return f"{whole}" if rest == 0 else f"{whole}.{rest:03d}".rstrip("0")


def _links(base: str, path: str, **extra: str) -> dict[str, list[dict[str, str]]]:
    parent = path.rsplit("/", 1)[0]
    links = {"self": [{"href": f"{base}{path}"}], "collection": [{"href": f"{base}{parent}"}]}
    for name, href in extra.items():
        links[name] = [{"href": f"{base}{href}"}]
    return links


def order_json(order: OrderRecord, base: str) -> dict[str, Any]:
    """One order in WooCommerce's shape. ``base`` is the site URL without a trailing slash."""
    lines: list[dict[str, Any]] = [
        {
            "id": ln["id"],
            "name": ln["name"],
            "product_id": ln["product_id"],
            "variation_id": 0,
            "quantity": ln["quantity"],
            "tax_class": "",
            "subtotal": money(ln["price_ore"] * ln["quantity"]),
            "subtotal_tax": "0.00",
            "total": money(ln["price_ore"] * ln["quantity"]),
            "total_tax": "0.00",
            "taxes": [],
            "meta_data": [],
            "sku": ln["sku"],
            "price": _price_number(ln["price_ore"]),
        }
        for ln in order["lines"]
    ]
    ship = order["shipping_line"]
    shipping = {k: v for k, v in order["shipping"].items() if k != "email"}
    oid = order["id"]
    return {
        "id": oid,
        "parent_id": 0,
        "number": str(oid),
        "order_key": order["order_key"],
        "created_via": "checkout",
        "version": WC_VERSION,
        "status": order["status"],
        "currency": CURRENCY,
        "date_created": _local(order["created_gmt"]),
        "date_created_gmt": order["created_gmt"],
        "date_modified": _local(order["modified_gmt"]),
        "date_modified_gmt": order["modified_gmt"],
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": money(order["shipping_ore"]),
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": money(order["total_ore"]),
        "total_tax": "0.00",
        "prices_include_tax": True,
        "customer_id": 0,
        "customer_ip_address": "",
        "customer_user_agent": "",
        "customer_note": order["customer_note"],
        "billing": dict(order["billing"]),
        "shipping": shipping,
        "payment_method": order["payment_method"],
        "payment_method_title": order["payment_method_title"],
        "transaction_id": order["transaction_id"],
        "date_paid": _local(order["paid_gmt"]),
        "date_paid_gmt": order["paid_gmt"],
        "date_completed": _local(order["completed_gmt"]),
        "date_completed_gmt": order["completed_gmt"],
        "cart_hash": "",
        "meta_data": [dict(m) for m in order["meta"]],
        "line_items": lines,
        "tax_lines": [],
        "shipping_lines": [
            {
                "id": ship["id"],
                "method_title": ship["method_title"],
                "method_id": ship["method_id"],
                "instance_id": ship["instance_id"],
                "total": money(ship["total_ore"]),
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
            }
        ],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [],
        "_links": _links(base, f"{WC_PREFIX}/orders/{oid}"),
    }


def note_json(note: NoteRecord, order_id: int, base: str) -> dict[str, Any]:
    path = f"{WC_PREFIX}/orders/{order_id}/notes/{note['id']}"
    return {
        "id": note["id"],
        "author": note["author"],
        "date_created": _local(note["date_gmt"]),
        "date_created_gmt": note["date_gmt"],
        "note": note["note"],
        "customer_note": note["customer_note"],
        "_links": _links(base, path, up=f"{WC_PREFIX}/orders/{order_id}"),
    }


def product_json(
    product: DemoProduct,
    meta_id: int,
    base: str,
    created_gmt: str | None = None,
    modified_gmt: str | None = None,
) -> dict[str, Any]:
    pid = product.shop_product_id
    slug = "-".join(product.name.lower().translate(_SLUG).replace(",", " ").split())
    created_gmt = created_gmt or product_created(pid)
    modified_gmt = modified_gmt or created_gmt
    cat_id, cat_name, cat_slug = _CATEGORY_IDS.get(
        product.category, (15, product.category, product.category)
    )
    return {
        "id": pid,
        "name": product.name,
        "slug": slug,
        "permalink": f"{base}/produkt/{slug}/",
        "date_created": _local(created_gmt),
        "date_created_gmt": created_gmt,
        "date_modified": _local(modified_gmt),
        "date_modified_gmt": modified_gmt,
        "type": "simple",
        "status": "publish",
        "sku": product.sku,
        "global_unique_id": product.gtin,
        "price": money(product.price_ore),
        "regular_price": money(product.price_ore),
        "sale_price": "",
        "on_sale": False,
        "purchasable": True,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": False,
        "stock_quantity": None,
        "stock_status": "instock",
        "weight": _kg(product.weight_g),
        "dimensions": {
            "length": _cm(product.length_mm),
            "width": _cm(product.width_mm),
            "height": _cm(product.height_mm),
        },
        "shipping_class": "",
        "categories": [{"id": cat_id, "name": cat_name, "slug": cat_slug}],
        "meta_data": [{"id": meta_id, "key": LOCATION_META, "value": product.location}],
        "_links": _links(base, f"{WC_PREFIX}/products/{pid}"),
    }


# --------------------------------------------------------------------------- request helpers


def _field_tree(raw: str | None) -> dict[str, Any] | None:
    """WordPress's ``_fields`` (``id,line_items.sku``) as a tree of wanted keys, a key wanted
    whole mapping to None; None when every field is wanted."""
    if not raw:
        return None
    tree: dict[str, Any] = {}
    for path in raw.split(","):
        parts = [p for p in path.strip().split(".") if p]
        if not parts:
            continue
        node = tree
        for part in parts[:-1]:
            child = node.get(part, {})
            if child is None:
                break  # wanted whole already
            node[part] = child
            node = child
        else:
            node[parts[-1]] = None
    return tree or None


def _pick(value: Any, tree: dict[str, Any]) -> Any:
    """``value`` with only the keys ``tree`` names; a key the object does not have is left
    out, as WordPress does."""
    if isinstance(value, list):
        return [_pick(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: value[key] if sub is None else _pick(value[key], sub)
        for key, sub in tree.items()
        if key in value
    }


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers={**_HEADERS, **(headers or {})})


def error_response(error: ShopApiError, headers: dict[str, str] | None = None) -> Response:
    return _json(error.json(), error.status, headers)


def _bad_param(name: str, why: str) -> ShopApiError:
    return ShopApiError(
        400, "rest_invalid_param", f"Invalid parameter(s): {name}", {"params": {name: why}}
    )


def _int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise _bad_param(name, f"{name} is not of type integer.") from None
    if value < low or (high is not None and value > high):
        top = f" and {high} (inclusive)" if high is not None else ""
        raise _bad_param(name, f"{name} must be between {low} (inclusive){top}.")
    return value


def _id_list(request: Request, name: str) -> set[int]:
    """``include=1,2,3`` (or ``include[]=1&include[]=2``) as ids; WordPress refuses non-ids."""
    raw = ",".join(request.query_params.getlist(name) + request.query_params.getlist(f"{name}[]"))
    ids = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isascii() or not part.isdigit():
            raise _bad_param(name, f"{name}[0] is not of type integer.")
        ids.add(int(part))
    return ids


def _truthy(raw: str | None) -> bool:
    return (raw or "").strip().lower() in ("1", "true", "yes")


def _date_param(request: Request, name: str) -> datetime | None:
    """A date filter: an explicit offset is honoured; without one it is UTC when
    ``dates_are_gmt`` is true and the site's local time otherwise, as in WooCommerce."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        raise _bad_param(name, "Invalid date.") from None
    if parsed.tzinfo is None:
        tz = UTC if _truthy(request.query_params.get("dates_are_gmt")) else SITE_TZ
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def _page_params(request: Request) -> tuple[int, int]:
    """``(per_page, page)`` as WordPress reads them."""
    return (
        _int_param(request, "per_page", 10, 1, MAX_PER_PAGE),
        _int_param(request, "page", 1, 1, None),
    )


def _page_response(
    request: Request, total: int, body: list[dict[str, Any]], per_page: int, page: int
) -> Response:
    """A page already cut and rendered (``body``) of ``total`` items, with WordPress's paging
    headers."""
    pages = math.ceil(total / per_page)
    response = _json(
        body,
        headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)},
    )
    if page > 1:
        prev_page = min(page - 1, pages) if pages else 1
        url = request.url.include_query_params(page=prev_page)
        response.headers.append("Link", f'<{url}>; rel="prev"')
    if page < pages:
        url = request.url.include_query_params(page=page + 1)
        response.headers.append("Link", f'<{url}>; rel="next"')
    return response


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ShopApiError(400, "rest_invalid_json", "Invalid JSON body passed.") from None
    if not isinstance(data, dict):
        raise ShopApiError(400, "rest_invalid_json", "Invalid JSON body passed.")
    return data


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# --------------------------------------------------------------------------- the app


def build_api(
    state: DemoShopState,
    faults: FaultSettings,
    *,
    key: str,
    secret: str,
    new_order_every: float = 0.0,
) -> Starlette:
    """The Starlette app (routes, auth, errors, the order ticker); faults wrap it outside."""

    def authorise(request: Request, action: str) -> None:
        """HTTP Basic with the consumer key and secret, or WooCommerce's query parameters.
        Compared in constant time, since this is the one secret the demo has."""
        given_key = request.query_params.get("consumer_key")
        given_secret = request.query_params.get("consumer_secret")
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() == "basic" and encoded:
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            given_key, _, given_secret = decoded.partition(":")
        ok = (
            given_key is not None
            and given_secret is not None
            and hmac.compare_digest(given_key.encode(), key.encode())
            and hmac.compare_digest(given_secret.encode(), secret.encode())
        )
        if not ok:
            raise ShopApiError(401, *_AUTH_ERRORS[action])

    async def list_orders(request: Request) -> Response:
        authorise(request, "view")
        raw_status = request.query_params.get("status") or "any"
        wanted = {s.strip() for s in raw_status.split(",") if s.strip()}
        unknown = wanted - set(WC_STATUSES) - {"any", "trash"}
        if unknown:
            raise _bad_param("status", f"status is not one of {', '.join(WC_STATUSES)}, any.")
        after = _date_param(request, "modified_after")
        before = _date_param(request, "modified_before")
        orderby = request.query_params.get("orderby") or "date"
        direction = request.query_params.get("order") or "desc"
        if orderby not in _ORDERBY:
            raise _bad_param("orderby", f"orderby is not one of {', '.join(_ORDERBY)}.")
        if direction not in ("asc", "desc"):
            raise _bad_param("order", "order is not one of asc, desc.")
        per_page, page = _page_params(request)
        total, chunk = state.order_page(
            statuses=None if "any" in wanted else wanted,
            modified_after=after,
            modified_before=before,
            orderby=orderby,
            descending=direction == "desc",
            offset=(page - 1) * per_page,
            limit=per_page,
        )
        base = _base(request)
        body = shaped(request, [order_json(o, base) for o in chunk])
        return _page_response(request, total, body, per_page, page)

    async def one_order(request: Request) -> Response:
        order_id: int = request.path_params["order_id"]
        if request.method == "GET":
            authorise(request, "view")
            return _json(shaped(request, order_json(state.order(order_id), _base(request))))
        authorise(request, "edit")
        body = await _body(request)
        status = body.get("status")
        if status is not None and not isinstance(status, str):
            raise _bad_param("status", "status is not of type string.")
        if isinstance(status, str) and status.startswith("wc-"):
            status = status[3:]
        meta = body.get("meta_data", [])
        if not isinstance(meta, list) or not all(
            isinstance(m, dict) and isinstance(m.get("key"), str) and m["key"] for m in meta
        ):
            raise _bad_param("meta_data", "meta_data items must be objects with a text key.")
        # Synchronous on purpose: the whole read-check-capture-save runs without yielding to
        # the event loop (and under the state's lock), so concurrent PUTs cannot interleave.
        updated = state.update_order(order_id, status=status, meta=meta)
        return _json(order_json(updated, _base(request)))

    async def order_notes(request: Request) -> Response:
        order_id: int = request.path_params["order_id"]
        base = _base(request)
        if request.method == "GET":
            authorise(request, "view")
            kind = request.query_params.get("type") or "any"
            notes = state.notes(order_id)
            if kind == "customer":
                notes = [n for n in notes if n["customer_note"]]
            elif kind == "internal":
                notes = [n for n in notes if not n["customer_note"]]
            notes.sort(key=lambda n: (n["date_gmt"], n["id"]), reverse=True)
            return _json([note_json(n, order_id, base) for n in notes])
        authorise(request, "create")
        body = await _body(request)
        text = body.get("note")
        if not isinstance(text, str) or not text.strip():
            raise ShopApiError(
                400,
                "rest_missing_callback_param",
                "Missing parameter(s): note",
                {"params": ["note"]},
            )
        customer = body.get("customer_note", False)
        if not isinstance(customer, bool):
            raise _bad_param("customer_note", "customer_note is not of type boolean.")
        note = state.add_note(order_id, text, customer_note=customer)
        return _json(note_json(note, order_id, base), 201)

    def shaped(request: Request, body: Any) -> Any:
        """Only the fields ``_fields`` asks for. With the ``fields_lost_share`` fault, such an
        answer lacks ``line_items`` and ``meta_data``, as from a plugin that adds its data after
        WordPress has filtered the fields."""
        tree = _field_tree(request.query_params.get("_fields"))
        if tree is None:
            return body
        if faults.fields_lost_share > 0 and random.random() < faults.fields_lost_share:
            tree = {k: v for k, v in tree.items() if k not in _LOST_FIELDS}
        return _pick(body, tree)

    async def list_products(request: Request) -> Response:
        authorise(request, "view")
        items = state.catalogue()
        skus = {s.strip().upper() for s in (request.query_params.get("sku") or "").split(",")}
        skus.discard("")
        if skus:
            items = [it for it in items if it[0].sku.upper() in skus]
        include = _id_list(request, "include")
        if include:
            items = [it for it in items if it[0].shop_product_id in include]
        exclude = _id_list(request, "exclude")
        if exclude:
            items = [it for it in items if it[0].shop_product_id not in exclude]
        after = _date_param(request, "modified_after")
        if after is not None:
            items = [it for it in items if parse_wc_time(it[3]) > after]
        before = _date_param(request, "modified_before")
        if before is not None:
            items = [it for it in items if parse_wc_time(it[3]) < before]
        orderby = request.query_params.get("orderby") or "date"
        if orderby not in _ORDERBY:
            raise _bad_param("orderby", f"orderby is not one of {', '.join(_ORDERBY)}.")
        if orderby == "title":
            items.sort(key=lambda it: (it[0].name, it[0].shop_product_id))
        elif orderby == "modified":
            items.sort(key=lambda it: (it[3], it[0].shop_product_id))
        else:  # date, id, include, slug: the demo's products were created in id order
            items.sort(key=lambda it: it[0].shop_product_id)
        if (request.query_params.get("order") or "desc") == "desc":
            items.reverse()
        base = _base(request)
        per_page, page = _page_params(request)
        chunk = items[(page - 1) * per_page : page * per_page]
        body = [product_json(p, meta, base, made, changed) for p, meta, made, changed in chunk]
        return _page_response(request, len(items), shaped(request, body), per_page, page)

    async def product_variations(request: Request) -> Response:
        """The demo's products are all simple: none has variations (WooCommerce answers a
        simple product's variations with an empty list)."""
        authorise(request, "view")
        product_id: int = request.path_params["product_id"]
        if not any(p.shop_product_id == product_id for p, _ in state.products()):
            raise ShopApiError(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        per_page, page = _page_params(request)
        return _page_response(request, 0, [], per_page, page)

    async def one_product(request: Request) -> Response:
        authorise(request, "view")
        product_id: int = request.path_params["product_id"]
        for product, meta_id, created, modified in state.catalogue():
            if product.shop_product_id == product_id:
                body = product_json(product, meta_id, _base(request), created, modified)
                return _json(shaped(request, body))
        raise ShopApiError(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")

    async def health(request: Request) -> Response:
        return _json({"status": "ok", "orders": state.order_count()})

    async def ledger(request: Request) -> Response:
        authorise(request, "view")
        entries = state.ledger()
        wanted = request.query_params.get("order_id")
        if wanted:
            entries = [e for e in entries if str(e["order_id"]) == wanted.strip()]
        return _json(entries)

    async def captures(request: Request) -> Response:
        authorise(request, "view")
        items = state.captures()
        wanted = request.query_params.get("order_id")
        if wanted:
            items = [c for c in items if str(c["order_id"]) == wanted.strip()]
        return _json(items)

    async def fault_settings(request: Request) -> Response:
        if request.method == "GET":
            authorise(request, "view")
            return _json(faults.as_dict())
        authorise(request, "edit")
        body = await _body(request)
        try:
            faults.update(body)
        except ValueError as exc:
            raise ShopApiError(400, "rest_invalid_param", str(exc)) from None
        return _json(faults.as_dict())

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ShopApiError)
        return error_response(exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        # WordPress answers an unknown route and a wrong method alike: 404 rest_no_route.
        return error_response(
            ShopApiError(
                404, "rest_no_route", "No route was found matching the URL and request method"
            )
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_tick(state, new_order_every)) if new_order_every > 0 else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    routes = [
        Route(f"{WC_PREFIX}/orders", list_orders, methods=["GET"]),
        Route(
            f"{WC_PREFIX}/orders/{{order_id:int}}",
            one_order,
            methods=["GET", "PUT", "POST", "PATCH"],
        ),
        Route(f"{WC_PREFIX}/orders/{{order_id:int}}/notes", order_notes, methods=["GET", "POST"]),
        Route(f"{WC_PREFIX}/products", list_products, methods=["GET"]),
        Route(f"{WC_PREFIX}/products/{{product_id:int}}", one_product, methods=["GET"]),
        Route(
            f"{WC_PREFIX}/products/{{product_id:int}}/variations",
            product_variations,
            methods=["GET"],
        ),
        Route(f"{DEMO_PREFIX}/health", health, methods=["GET"]),
        Route(f"{DEMO_PREFIX}/ledger", ledger, methods=["GET"]),
        Route(f"{DEMO_PREFIX}/captures", captures, methods=["GET"]),
        Route(f"{DEMO_PREFIX}/faults", fault_settings, methods=["GET", "POST"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={ShopApiError: on_api_error, HTTPException: on_http_error},
        lifespan=lifespan,
    )


async def _tick(state: DemoShopState, every: float) -> None:
    """Add a new order every ``every`` seconds until cancelled; a failure is logged, not fatal."""
    while True:
        await asyncio.sleep(every)
        try:
            order = state.add_new_order()
        except Exception:
            log.exception("demo shop: could not add a new order")
        else:
            log.info("demo shop: new order %s", order["id"])
