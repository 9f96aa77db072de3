"""The WooCommerce REST API v3 (``/wp-json/wc/v3``) client, over httpx.

What the payloads mean is :mod:`packbench.shop.woocommerce_payloads` (pure mapping, re-exported
here); this module does the talking. :class:`WooCommerceAdapter` keeps one ``httpx.Client``
with HTTP Basic auth, TLS verification always on, no redirects followed, and every failure
turned into a :mod:`packbench.shop.base` exception whose text never contains the key, the
secret or their Basic form (:func:`packbench.redact.redact`). Each request is bounded
(:mod:`packbench.shop.bounded`): a total deadline, not only per-read timeouts; a cap on the
body after decompressing every ``Content-Encoding`` layer; and a JSON depth limit per item, so
one deeply nested order is refused alone and the rest of its page still arrives.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import ssl
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, NoReturn
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from packbench import __version__
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
    BadEncoding,
    BodyTooLarge,
    BoundedBody,
    deadline,
    install_deadline,
)
from packbench.shop.woocommerce_pages import (
    _reject_constant,
    decode_json,
    id_query,
    missing_field,
    order_query,
    orders_page,
    page_flags,
    parse_retry_after,
    product_query,
    products_page,
    update_body,
)
from packbench.shop.woocommerce_payloads import (
    CANCELLED_STATUSES,
    MAX_ERROR_BODY_BYTES,
    MAX_ID,
    MAX_RESPONSE_BYTES,
    ORDER_FIELDS,
    ORDER_NEEDED,
    PICKUP_META_KEYS,
    PRODUCT_FIELDS,
    PRODUCT_NEEDED,
    REQUEST_DEADLINE_S,
    VARIATION_FIELDS,
    VARIATION_NEEDED,
    _clean,
    _is_int,
    _show,
    map_order,
    map_product,
    map_remote_order,
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

#: Ids a request asks for with ``include=`` (WordPress's largest page).
MAX_INCLUDE = 100


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

    Lists ask for only the fields packbench maps (WordPress's ``_fields``) unless
    ``request_fields`` is false, and fall back to whole objects when a plugin breaks it.
    ``rate_limit`` (requests a second, 0 = none known) spaces the requests' starts, whichever
    thread sends them; ``concurrency`` is how many pages the sync may fetch side by side (at
    most the rate limit).
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
        request_fields: bool = True,
        rate_limit: float = 0.0,
        concurrency: int = 4,
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
        #: Ask for only the fields packbench maps (``_fields``); turned off for good at the
        #: first answer that lacks one of them (see ``_list``).
        self.request_fields = bool(request_fields)
        if rate_limit < 0:
            raise ValueError("the rate limit must be 0 (none) or more requests a second")
        #: Requests start at least this far apart, whichever thread sends them, so pages
        #: fetched side by side never exceed the shop's rate limit.
        # A tenth to spare: requests that left on time may still arrive closer together.
        self._gap = 1.1 / rate_limit if rate_limit else 0.0
        if not _is_int(concurrency) or concurrency < 1:
            raise ValueError("concurrent pages must be a whole number, 1 or more")
        #: How many requests the sync may have in flight at once: never more than the shop's
        #: rate limit allows in a second.
        self.concurrency = min(concurrency, max(1, int(rate_limit))) if rate_limit else concurrency
        self._pace_lock = threading.Lock()
        self._next_start = 0.0
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
        what = f"orders page {page}"
        response, data = self._list("/orders", what, params, ORDER_FIELDS, ORDER_NEEDED)
        return orders_page(
            data,
            response.headers,
            page,
            pickup_meta_keys=self._pickup_meta_keys,
            per_page=per_page,
        )

    def fetch_products(
        self, *, page: int = 1, per_page: int = 100, modified_after: datetime | None = None
    ) -> ProductPage:
        params = product_query(page=page, per_page=per_page, modified_after=modified_after)
        what = f"products page {page}"
        response, data = self._list("/products", what, params, PRODUCT_FIELDS, PRODUCT_NEEDED)
        return products_page(
            data,
            response.headers,
            page,
            location_meta_key=self._location_meta_key,
            per_page=per_page,
        )

    def fetch_products_by_id(self, ids: Iterable[int]) -> ProductPage:
        """``GET /products?include=…``, 100 ids a request, as one page."""
        return self._by_id("/products", "products", ids, PRODUCT_FIELDS, PRODUCT_NEEDED)

    def fetch_variations(self, product_id: int, ids: Iterable[int]) -> ProductPage:
        """``GET /products/{id}/variations?include=…``, 100 ids a request, as one page."""
        parent = self._order_id(product_id)
        return self._by_id(
            f"/products/{parent}/variations",
            f"variations of product {parent}",
            ids,
            VARIATION_FIELDS,
            VARIATION_NEEDED,
            variations=True,
        )

    def _by_id(
        self,
        path: str,
        what: str,
        ids: Iterable[int],
        fields: tuple[str, ...],
        needed: tuple[str, ...],
        *,
        variations: bool = False,
    ) -> ProductPage:
        wanted = list(dict.fromkeys(ids))
        products: list[ProductIn] = []
        rejected: list[RejectedPayload] = []
        newest: datetime | None = None
        for start in range(0, len(wanted), MAX_INCLUDE):
            chunk = wanted[start : start + MAX_INCLUDE]
            response, data = self._list(path, what, id_query(chunk), fields, needed)
            got = products_page(
                data,
                response.headers,
                1,
                location_meta_key=self._location_meta_key,
                variations=variations,
            )
            products.extend(got.products)
            rejected.extend(got.rejected)
            if got.newest_modified and (newest is None or got.newest_modified > newest):
                newest = got.newest_modified
        return ProductPage(tuple(products), tuple(rejected), 1, 1, False, newest)

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
        if not _is_int(value) or not 1 <= value <= MAX_ID:
            raise ValueError(f"shop order ids are positive integers, got {value!r}")
        return value

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

    def _list(
        self,
        path: str,
        what: str,
        params: dict[str, str],
        fields: tuple[str, ...],
        needed: tuple[str, ...],
    ) -> tuple[httpx.Response, Any]:
        """A list request asking for only ``fields``. If the answer lacks one of ``needed``,
        the same request again for whole objects; when those have it, ``_fields`` is what a
        plugin broke, and whole objects are asked for from then on (an order that lacks a
        field either way is just a bad order, rejected by the mapping)."""
        if not self.request_fields:
            return self._call("GET", path, what, params=params)
        asked = {**params, "_fields": ",".join(fields)}
        response, data = self._call("GET", path, what, params=asked)
        lacking = missing_field(data, needed)
        if lacking is None:
            return response, data
        response, data = self._call("GET", path, what, params=params)
        if missing_field(data, needed) is None and self.request_fields:
            self.request_fields = False
            log.warning(
                "%s: the shop's answer lacks %r when asked for some fields only (_fields) and "
                "has it otherwise; asking for whole objects from now on "
                "(set [shop] request_fields = false to skip the first try)",
                what,
                lacking,
            )
        return response, data

    def _pace(self) -> None:
        """Wait for this request's turn under the shop's rate limit."""
        if not self._gap:
            return
        with self._pace_lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + self._gap
        if start > now:
            time.sleep(start - now)

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
        self._pace()
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
