"""Shipmondo (REST v3, JSON) over httpx: book a shipment, its labels inline as base64, cancel,
look a booking up.

HTTP Basic auth with the API user and key (``PACKBENCH_SHIPMONDO_USER`` /
``PACKBENCH_SHIPMONDO_KEY``). The sandbox is another base URL (the body's ``test_mode`` is
deprecated). Labels come in the create answer in the configured ``label_format``
(``10x19_pdf`` by default; ``10x19_zpl`` for a thermal printer), else by the shipment's id.

Shipmondo has no idempotency key and its list cannot be filtered by reference: a booking is
looked up by listing the shipments created since shortly before and matching ``reference`` (or
a parcel's ``internal_reference``) here. Reads are retried on 429, 5xx and network errors; a
booking never is (:func:`packbench.carriers.booking.book` decides).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from packbench.carriers.base import (
    Address,
    AuthError,
    BookingUndecided,
    CarrierError,
    CarrierShipment,
    LabelDocument,
    NotFound,
    NotSupported,
    NumberSource,
    PayloadError,
    PickupPoint,
    Problem,
    Product,
    RateLimited,
    Rejected,
    ShipmentRequest,
    TransientError,
)
from packbench.carriers.http import check_api_url, retry_after, retrying, send
from packbench.carriers.shipmondo_payloads import (
    LABEL_FORMATS,
    ShipmondoOptions,
    decode,
    labels_in,
    matching,
    parse_errors,
    parse_list,
    parse_shipment,
    shipment_body,
)
from packbench.redact import redact, register_secret

__all__ = ["DEFAULT_API_URL", "ShipmondoCarrier", "ShipmondoConfig", "ShipmondoProduct"]

DEFAULT_API_URL = "https://app.shipmondo.com/api/public/v3"
MAX_BODY_BYTES = 5_000_000
MAX_LABEL_BYTES = 30_000_000


@dataclass(frozen=True)
class ShipmondoProduct:
    """A shipping method's product at Shipmondo: its ``product_code`` (from ``GET
    /products``), service codes, limits, and a label format of its own when it needs one."""

    id: str
    name: str = ""
    services: tuple[str, ...] = ()
    max_weight_g: int | None = None
    max_length_mm: int | None = None
    max_sum_of_sides_mm: int | None = None
    pickup_point: bool = False
    label_format: str = ""  # "" = the carrier's

    def product(self, default_format: str) -> Product:
        fmt = self.label_format or default_format
        return Product(self.id, self.name, self.max_weight_g, self.max_length_mm,
                       self.max_sum_of_sides_mm, self.pickup_point,
                       "zpl" if fmt.endswith("_zpl") else "pdf")  # fmt: skip


@dataclass(frozen=True)
class ShipmondoConfig:
    name: str = "Shipmondo"
    api_url: str = DEFAULT_API_URL
    shipments_path: str = "/shipments"
    products: Mapping[str, ShipmondoProduct] = field(default_factory=dict)
    sender: Address | None = None
    customer_number: str = ""
    own_agreement: bool = True
    label_format: str = "10x19_pdf"
    goods_description: str = ""
    tracking_link: str = "https://sporing.bring.no/sporing/{tracking}"
    #: A lookup lists the shipments created this many hours back (and up to ``lookup_pages``
    #: pages of ``lookup_page_size``).
    lookup_window_h: float = 72.0
    lookup_pages: int = 10
    lookup_page_size: int = 50
    timeout_s: float = 30.0
    read_attempts: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0

    def __post_init__(self) -> None:
        for fmt in (self.label_format, *(p.label_format for p in self.products.values())):
            if fmt and fmt not in LABEL_FORMATS:
                raise ValueError(f"label_format {fmt!r} is not one of {', '.join(LABEL_FORMATS)}")


class ShipmondoCarrier:
    """:class:`~packbench.carriers.base.Carrier` for Shipmondo."""

    def __init__(
        self,
        config: ShipmondoConfig,
        user: str,
        key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not user or not key:
            raise AuthError(f"{config.name}: no Shipmondo API user and key")
        check_api_url(config.api_url)
        register_secret(user)
        register_secret(key)
        self.config = config
        self.name = config.name
        self._sleep = sleep
        self._clock = clock or (lambda: datetime.now(UTC))
        self._client = httpx.Client(
            base_url=config.api_url.rstrip("/"),
            timeout=httpx.Timeout(config.timeout_s, connect=min(10.0, config.timeout_s)),
            transport=transport,
            follow_redirects=False,
            auth=httpx.BasicAuth(user, key),
            headers={"Accept": "application/json", "User-Agent": "packbench"},
        )

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ plumbing

    def _send(
        self, method: str, url: str, what: str, *, body: Any = None,
        params: Mapping[str, str] | None = None, limit: int = MAX_BODY_BYTES,
    ) -> tuple[httpx.Response, bytes, int]:  # fmt: skip
        """One request → (response, body, status); the status is ``X-HTTP-Status-Code`` when
        Shipmondo was asked to answer everything with 200."""
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"} if content is not None else {}
        response, data = send(self._client, self.name, method, url, what, content=content,
                              params=params, headers=headers, limit=limit)  # fmt: skip
        status = response.status_code
        real = response.headers.get("x-http-status-code", "")
        if status == 200 and real.isdigit():
            status = int(real)
        return response, data, status

    def _fail(
        self, response: httpx.Response, content: bytes, status: int, what: str
    ) -> CarrierError:
        try:
            body = decode(content, what) if content.strip() else None
        except PayloadError:
            body = None
        problems = parse_errors(body)
        text = "; ".join(str(p) for p in problems) or " ".join(
            content[:200].decode("utf-8", "replace").split()
        )
        said = redact(f": {text}" if text else "")[:400]
        if status == 429:
            return RateLimited(f"{what}: {self.name} asks us to slow down (429)",
                               retry_after=retry_after(response), status=status)  # fmt: skip
        if status >= 500:
            return TransientError(f"{what}: {self.name} failed ({status}){said}", status=status)
        if status in (401, 403):
            return AuthError(f"{what}: {self.name} refused the API user or key ({status}){said}",
                             status=status)  # fmt: skip
        if status == 404:
            return NotFound(f"{what}: {self.name} found nothing (404){said}", status=status)
        return Rejected(problems or [Problem(f"{what}: {self.name} refused it ({status}){said}")],
                        status=status)  # fmt: skip

    def _get(
        self, url: str, what: str, params: Mapping[str, str] | None = None,
        limit: int = MAX_BODY_BYTES,
    ) -> Any:  # fmt: skip
        """A read, retried on 429/5xx/network errors with back-off."""

        def attempt() -> Any:
            response, content, status = self._send("GET", url, what, params=params, limit=limit)
            if 200 <= status < 300:
                return decode(content, what)
            raise self._fail(response, content, status, what)

        c = self.config
        return retrying(attempt, attempts=c.read_attempts, backoff_s=c.backoff_s,
                        max_backoff_s=c.max_backoff_s, sleep=self._sleep)  # fmt: skip

    # ------------------------------------------------------------------ the interface

    def _product(self, request: ShipmentRequest) -> ShipmondoProduct:
        pid = (request.product or request.service).strip()
        found = self.config.products.get(pid)
        if found is None:
            if not pid:
                raise NotSupported(f"{self.name}: no product_code for this shipping method")
            found = ShipmondoProduct(pid)  # codes come from GET /products
        return found

    def options(self, request: ShipmentRequest) -> ShipmondoOptions:
        product = self._product(request)
        sender = request.sender or self.config.sender
        if sender is None:
            raise Rejected([Problem("no sender address: set [ship.sender]", field="sender")])
        return ShipmondoOptions(
            product_code=product.id,
            sender=sender,
            service_codes=product.services,
            label_format=product.label_format or self.config.label_format,
            own_agreement=self.config.own_agreement,
            customer_number=self.config.customer_number,
            contents=self.config.goods_description,
        )

    def shipment_body(self, request: ShipmentRequest) -> dict[str, Any]:
        """The body :meth:`create_shipment` sends (checked; Rejected naming the field)."""
        return shipment_body(request, self.options(request))

    def create_shipment(self, request: ShipmentRequest, numbers: NumberSource) -> CarrierShipment:
        body = self.shipment_body(request)
        what = f"booking order {request.order_number}"
        response, content, status = self._send("POST", self.config.shipments_path, what,
                                               body=body)  # fmt: skip
        if not 200 <= status < 300:
            raise self._fail(response, content, status, what)
        return parse_shipment(decode(content, what), request, carrier=self.name,
                              raw=content.decode("utf-8", "replace"),
                              tracking_link=self.config.tracking_link)  # fmt: skip

    def _id_of(self, shipment: CarrierShipment) -> str:
        for label in shipment.labels:
            if label.url.startswith("shipmondo:"):
                return label.url.removeprefix("shipmondo:")
        for p in shipment.parcels:
            if p.label_fields.get("shipmondo_id"):
                return p.label_fields["shipmondo_id"]
        raise NotSupported(f"{self.name}: shipment {shipment.consignment_number or '?'} has no "
                           "Shipmondo id; cancel it in Shipmondo")  # fmt: skip

    def cancel_shipment(self, shipment: CarrierShipment) -> None:
        """``PUT /shipments/{id}/cancel`` (cancelled at the carrier where possible)."""
        sid = self._id_of(shipment)
        what = f"cancelling shipment {shipment.consignment_number or sid}"
        path = f"{self.config.shipments_path}/{quote(sid, safe='')}/cancel"
        response, content, status = self._send("PUT", path, what)
        if not 200 <= status < 300:
            error = self._fail(response, content, status, what)
            if isinstance(error, Rejected):  # 422: it cannot be cancelled any more
                raise NotSupported(error.message, status=status) from None
            raise error

    def tracking_url(self, tracking_number: str) -> str:
        return self.config.tracking_link.replace("{tracking}", quote(tracking_number, safe=""))

    def find_booking(self, request: ShipmentRequest) -> CarrierShipment | None:
        """List the shipments created within ``lookup_window_h`` and match the reference here
        (Shipmondo's list has no reference filter)."""
        what = f"looking up order {request.order_number}'s shipment"
        since = self._clock() - timedelta(hours=self.config.lookup_window_h)
        found: list[Any] = []
        for page in range(1, self.config.lookup_pages + 1):
            params = {
                "created_at_min": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "per_page": str(self.config.lookup_page_size),
                "page": str(page),
            }
            shipments = parse_list(self._get(self.config.shipments_path, what, params))
            found += matching(shipments, request)
            if len(shipments) < self.config.lookup_page_size:
                break
        else:
            if not found:
                raise BookingUndecided(
                    f"order {request.order_number}: more than {self.config.lookup_pages} pages "
                    f"of {self.name} shipments since {since:%d.%m %H:%M}; the lookup stopped "
                    "before finding the booking or its absence"
                )
        live = [s for s in found if not s.get("cancelled_at") and s.get("status") != "cancelled"]
        if len(live) > 1:
            ids = ", ".join(str(s.get("id")) for s in live)
            raise BookingUndecided(f"order {request.order_number}: {self.name} holds "
                                   f"{len(live)} shipments for reference {request.ref!r} "
                                   f"({ids}); a person must cancel the extra ones")  # fmt: skip
        if not live:
            return None
        shipment = dict(live[0])
        shipment.pop("labels", None)  # a listed shipment's labels are fetched by its id
        return parse_shipment(shipment, request, carrier=self.name, recovered=True,
                              tracking_link=self.config.tracking_link)  # fmt: skip

    def fetch_label(self, label: LabelDocument) -> LabelDocument:
        if label.fetched:
            return label
        sid = label.url.removeprefix("shipmondo:")
        if not label.url.startswith("shipmondo:") or not sid.isdigit():
            raise PayloadError(f"{self.name}: label reference {label.url[:40]!r} is not ours")
        path = f"{self.config.shipments_path}/{sid}/labels"
        fmt = self.config.label_format or "10x19_pdf"
        body = self._get(path, "fetching the label", {"label_format": fmt}, limit=MAX_LABEL_BYTES)
        docs = labels_in(body, parcels=label.parcels)
        if len(docs) != 1:
            raise PayloadError(f"{self.name}: {len(docs)} label documents for one shipment")
        return replace(docs[0], url=label.url)

    def pickup_points(
        self, postcode: str, country: str = "NO", *, street: str = "", limit: int = 10
    ) -> tuple[PickupPoint, ...]:
        # GET /pickup_points exists, but the examples do not show its answer's shape: the
        # customer's choice from the checkout is booked; a list is not guessed at.
        raise NotSupported(f"{self.name}: pickup points are not listed from Shipmondo yet")

    def products(self) -> tuple[Product, ...]:
        return tuple(p.product(self.config.label_format) for p in self.config.products.values())
